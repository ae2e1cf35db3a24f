//! The features catalogue: every characteristic Candor computes from a subject's file, declared
//! once with its meaning, unit and whether a person can act on it (recourse only suggests those).
//!
//! [`compute`] is the one implementation: the batch job over every subject and the single-subject
//! read both call it on a [`SubjectFile`] already cut to what was known at the time and what
//! retention still allows. A value that does not apply (no reports, no limits) is NaN, which the
//! scorecard treats as missing.

use time::Date;

use crate::model::{Status, SubjectFile, YearMonth};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    pub name: &'static str,
    pub definition: &'static str,
    pub unit: &'static str,
    pub actionable: bool,
    /// Every value [`compute`] can give it (NaN aside): a model's cuts must fall inside.
    pub range: Range,
}

/// The values a feature takes: `min..=max`, either end possibly infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        self.min <= x && x <= self.max
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |x: f64| {
            if x.is_infinite() {
                if x > 0.0 {
                    "+inf".to_owned()
                } else {
                    "-inf".to_owned()
                }
            } else {
                x.to_string()
            }
        };
        write!(f, "{} to {}", end(self.min), end(self.max))
    }
}

/// No bound above: counts, amounts, months.
const COUNT: Range = Range { min: 0.0, max: f64::INFINITY };
/// A share of reports.
const SHARE: Range = Range { min: 0.0, max: 1.0 };
/// Days past due, as reported in buckets (the highest bucket is 180+).
const DAYS_LATE: Range = Range { min: 0.0, max: 180.0 };
/// An amount that may be negative (a credit balance).
const AMOUNT: Range = Range { min: f64::NEG_INFINITY, max: f64::INFINITY };

const fn feature(
    name: &'static str,
    definition: &'static str,
    unit: &'static str,
    actionable: bool,
    range: Range,
) -> Feature {
    Feature { name, definition, unit, actionable, range }
}

pub const CATALOGUE: [Feature; 13] = [
    feature(
        "months_of_history",
        "Months from the earliest account's opening to the as-of month.",
        "months",
        false,
        COUNT,
    ),
    feature("open_accounts", "Accounts whose latest report is open.", "accounts", false, COUNT),
    feature(
        "worst_dpd_12m",
        "Worst days-past-due bucket reported in the 12 months up to the as-of month.",
        "days",
        true,
        DAYS_LATE,
    ),
    feature(
        "worst_dpd_24m",
        "Worst days-past-due bucket reported in the 24 months up to the as-of month.",
        "days",
        false,
        DAYS_LATE,
    ),
    feature(
        "months_since_delinquency",
        "Months since the latest report that was 30+ days past due, charged off or in collection; missing if none.",
        "months",
        false,
        COUNT,
    ),
    feature(
        "on_time_share_24m",
        "Share of monthly reports in the last 24 months that were current.",
        "share",
        true,
        SHARE,
    ),
    feature(
        "revolving_utilisation",
        "Latest balances over latest limits of open cards and lines; missing without a limit.",
        "ratio",
        true,
        COUNT,
    ),
    feature("total_balance", "Sum of the latest balances of open accounts.", "major units", true, AMOUNT),
    feature("inquiries_6m", "Inquiries for credit in the 6 months up to the as-of month.", "inquiries", true, COUNT),
    feature("open_court_records", "Court enforcement records neither performed nor revoked.", "records", true, COUNT),
    feature("open_court_amount", "Amount of the open court enforcement records.", "major units", true, AMOUNT),
    feature(
        "alternative_on_time_months_24m",
        "Current monthly reports in the last 24 months on utility, telecom, rent and rental accounts.",
        "months",
        false,
        COUNT,
    ),
    feature(
        "months_since_last_report",
        "Months since the latest monthly report on any account, loans, cards and alternative data alike; missing if none.",
        "months",
        false,
        COUNT,
    ),
];

/// Index of a feature in [`CATALOGUE`] and in what [`compute`] returns.
pub fn index(name: &str) -> Option<usize> {
    CATALOGUE.iter().position(|f| f.name == name)
}

/// Minor units per major unit for the features in major units.
const MINOR_PER_MAJOR: f64 = 100.0;

/// Every catalogue feature of one file as of a date, in catalogue order.
///
/// The features describe the file as it stood at the end of the last complete month on
/// `as_of` ([`YearMonth::last_complete`]): reports of that month and earlier, accounts opened,
/// inquiries made and court records listed or closed by its last day. With no new data, every
/// day from one month's end to the day before the next month's end gives the same features.
pub fn compute(file: &SubjectFile, as_of: Date) -> [f64; CATALOGUE.len()] {
    let now = YearMonth::last_complete(as_of);
    let cut = now.last_day();
    let in_window = |month: YearMonth, months: i32| month <= now && month > now.plus(-months);
    let mut earliest: Option<Date> = None;
    let mut last_report: Option<YearMonth> = None;
    let (mut open, mut worst12, mut worst24) = (0u32, 0u16, 0u16);
    let mut last_negative: Option<YearMonth> = None;
    let (mut on_time, mut reports24, mut alternative) = (0u32, 0u32, 0u32);
    let (mut revolving_balance, mut revolving_limit, mut balance) = (0i64, 0i64, 0i64);
    for history in &file.accounts {
        let account = &history.account;
        if account.opened <= cut {
            earliest = Some(earliest.map_or(account.opened, |e: Date| e.min(account.opened)));
        }
        let mut latest = None;
        for report in history.reports.iter().filter(|r| r.month <= now) {
            latest = Some(report);
            last_report = Some(last_report.map_or(report.month, |m: YearMonth| m.max(report.month)));
            if report.is_negative() {
                last_negative = Some(last_negative.map_or(report.month, |m: YearMonth| m.max(report.month)));
            }
            if in_window(report.month, 24) {
                worst24 = worst24.max(report.dpd.days());
                reports24 += 1;
                if !report.is_negative() {
                    on_time += 1;
                    alternative += u32::from(account.kind.is_alternative());
                }
            }
            if in_window(report.month, 12) {
                worst12 = worst12.max(report.dpd.days());
            }
        }
        if let Some(latest) = latest.filter(|r| r.status == Status::Open) {
            open += 1;
            balance += latest.balance_minor;
            if account.kind.is_revolving() {
                revolving_balance += latest.balance_minor;
                revolving_limit += latest.limit_minor;
            }
        }
    }
    let months_between = |from: YearMonth| f64::from(now.0 - from.0);
    let open_courts = file.court_records.iter().filter(|c| c.listed <= cut && c.closed.is_none_or(|(d, _)| d > cut));
    let (courts, court_minor) = open_courts.fold((0u32, 0i64), |(n, sum), c| (n + 1, sum + c.amount_minor));
    [
        earliest.map_or(f64::NAN, |e| months_between(YearMonth::of(e))),
        f64::from(open),
        f64::from(worst12),
        f64::from(worst24),
        last_negative.map_or(f64::NAN, months_between),
        if reports24 == 0 { f64::NAN } else { f64::from(on_time) / f64::from(reports24) },
        if revolving_limit > 0 { revolving_balance as f64 / revolving_limit as f64 } else { f64::NAN },
        balance as f64 / MINOR_PER_MAJOR,
        file.inquiries.iter().filter(|i| in_window(YearMonth::of(i.date), 6)).count() as f64,
        f64::from(courts),
        court_minor as f64 / MINOR_PER_MAJOR,
        f64::from(alternative),
        last_report.map_or(f64::NAN, months_between),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn file() -> SubjectFile {
        let d = |s| parse_date(s).expect("date");
        let report = |m: &str, dpd: i64, balance: i64, limit: i64| Report {
            month: YearMonth::parse(m).expect("month"),
            balance_minor: balance,
            limit_minor: limit,
            paid_minor: 0,
            dpd: Dpd::parse(dpd).expect("dpd"),
            status: Status::Open,
            delinquent_since: (dpd > 0).then(|| d("2026-01-05")),
        };
        let account = |reference: &str, kind, opened| Account {
            furnisher: OrgId::parse("bank").expect("id"),
            reference: reference.into(),
            kind,
            opened: d(opened),
            currency: Currency::parse("CNY").expect("cny"),
        };
        SubjectFile {
            accounts: vec![
                AccountHistory {
                    account: account("card", AccountKind::Card, "2024-01-20"),
                    reports: vec![report("2025-12", 0, 30_000, 100_000), report("2026-01", 30, 50_000, 100_000)],
                },
                AccountHistory {
                    account: account("rent", AccountKind::Rent, "2025-06-01"),
                    reports: vec![report("2025-12", 0, 0, 0), report("2026-01", 0, 0, 0), report("2026-02", 0, 0, 0)],
                },
            ],
            inquiries: vec![Inquiry {
                org: OrgId::parse("shop").expect("id"),
                date: d("2026-01-10"),
                purpose: Purpose::CreditApplication,
            }],
            court_records: vec![CourtRecord {
                court: OrgId::parse("court").expect("id"),
                case_number: "(2025)1".into(),
                amount_minor: 123_456,
                currency: Currency::parse("CNY").expect("cny"),
                grounds: "loan".into(),
                listed: d("2025-09-01"),
                closed: None,
            }],
        }
    }

    #[test]
    fn every_feature_on_a_small_file() {
        // As of 2026-02-15 the last complete month is 2026-01: February's rent report waits.
        let got = compute(&file(), parse_date("2026-02-15").expect("date"));
        let expected = [24.0, 2.0, 30.0, 30.0, 0.0, 3.0 / 4.0, 0.5, 500.0, 1.0, 1.0, 1234.56, 2.0, 0.0];
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!((g - e).abs() < 1e-12, "{}: got {g}, expected {e}", CATALOGUE[i].name);
        }
    }

    #[test]
    fn an_empty_file_is_missing_where_nothing_applies() {
        let got = compute(&SubjectFile::default(), parse_date("2026-02-15").expect("date"));
        for name in ["months_of_history", "months_since_delinquency", "on_time_share_24m", "revolving_utilisation"] {
            assert!(got[index(name).expect(name)].is_nan(), "{name}");
        }
        assert_eq!(got[index("open_accounts").expect("open")], 0.0);
    }

    #[test]
    fn the_calendar_alone_does_not_move_features_between_month_ends() {
        let on = |day: &str| compute(&file(), parse_date(day).expect("date")).map(f64::to_bits);
        let month_end = on("2026-01-31");
        for later in ["2026-02-01", "2026-02-15", "2026-02-27"] {
            assert_eq!(on(later), month_end, "{later}");
        }
        // The next month's end takes in February: the rent report, a month more of history.
        let next = compute(&file(), parse_date("2026-02-28").expect("date"));
        assert_eq!(next[index("months_of_history").expect("history")], 25.0);
        assert_eq!(next[index("alternative_on_time_months_24m").expect("alt")], 3.0);
        assert_eq!(next[index("months_since_delinquency").expect("delinquency")], 1.0);
        // The month's last day is complete: a court record closed on it no longer counts then.
        let mut closed = file();
        closed.court_records[0].closed = Some((parse_date("2026-01-31").expect("date"), Closure::Performed));
        let open = index("open_court_records").expect("courts");
        assert_eq!(compute(&closed, parse_date("2026-01-31").expect("date"))[open], 0.0);
        assert_eq!(compute(&closed, parse_date("2026-01-30").expect("date"))[open], 1.0);
        assert_eq!(YearMonth::last_complete(parse_date("2024-02-29").expect("date")), YearMonth::new(2024, 2));
        assert_eq!(YearMonth::last_complete(parse_date("2024-01-01").expect("date")), YearMonth::new(2023, 12));
    }

    #[test]
    fn names_are_unique_snake_case() {
        for (i, f) in CATALOGUE.iter().enumerate() {
            assert!(f.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{}", f.name);
            assert_eq!(index(f.name), Some(i));
        }
    }
}
