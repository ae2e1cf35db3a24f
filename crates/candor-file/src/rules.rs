//! Consistency rules on what furnishers and courts send, each named, as bureaus run them on
//! Metro 2 data. A rule sees one incoming record with the account it belongs to and says what is
//! wrong; the batch that carries a violation is refused with every violation listed.
//!
//! | rule | what it refuses |
//! |---|---|
//! | `balance_on_paid_account` | a positive balance on an account reported paid |
//! | `delinquent_without_start` | a delinquent report (30+ days, charged off, collection) with no date of first delinquency |
//! | `charge_off_reported_current` | a charged-off or collection status with 0 days past due |
//! | `current_with_delinquency_start` | a current, open report that still carries a date of first delinquency |
//! | `report_before_opened` | a monthly report for a month before the account was opened |
//! | `report_in_future` | a monthly report for a month after the batch's date |
//! | `delinquency_start_after_month` | a date of first delinquency after the reported month |
//! | `court_record_of_a_minor` | a court record listed before the person's 18th birthday |
//! | `court_closed_before_listed` | a performance or revocation dated before the listing |
//! | `history_contradicts_status` | (Metro 2) a payment history whose latest month contradicts the account status |

use time::Date;

use crate::model::{Account, CourtRecord, Report, Status, YearMonth};

/// One broken rule: its stable name, the field it is about and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub field: &'static str,
    pub message: String,
}

fn violation(rule: &'static str, field: &'static str, message: String) -> Violation {
    Violation { rule, field, message }
}

/// Checks one monthly report against its account; `today` is the batch's date.
pub fn check_report(account: &Account, report: &Report, today: Date) -> Vec<Violation> {
    let mut out = Vec::new();
    if report.status == Status::Paid && report.balance_minor > 0 {
        out.push(violation(
            "balance_on_paid_account",
            "balance_minor",
            format!("the account is reported paid but the balance is {}", report.balance_minor),
        ));
    }
    if report.is_negative() && report.delinquent_since.is_none() {
        out.push(violation(
            "delinquent_without_start",
            "delinquent_since",
            "a delinquent report needs the date of first delinquency".into(),
        ));
    }
    if matches!(report.status, Status::ChargedOff | Status::Collection) && report.dpd.days() == 0 {
        out.push(violation(
            "charge_off_reported_current",
            "dpd",
            format!("status {} with 0 days past due", report.status.as_str()),
        ));
    }
    if !report.is_negative() && report.delinquent_since.is_some() {
        out.push(violation(
            "current_with_delinquency_start",
            "delinquent_since",
            "a current report must not carry a date of first delinquency".into(),
        ));
    }
    if report.month < YearMonth::of(account.opened) {
        out.push(violation(
            "report_before_opened",
            "month",
            format!("month {} is before the account was opened on {}", report.month, account.opened),
        ));
    }
    if report.month > YearMonth::of(today) {
        out.push(violation(
            "report_in_future",
            "month",
            format!("month {} is after the batch date {today}", report.month),
        ));
    }
    if let Some(since) = report.delinquent_since {
        if YearMonth::of(since) > report.month {
            out.push(violation(
                "delinquency_start_after_month",
                "delinquent_since",
                format!("first delinquency {since} is after the reported month {}", report.month),
            ));
        }
    }
    out
}

/// Checks a court record; `birth` is the person's birth date when the bureau knows it.
pub fn check_court_record(record: &CourtRecord, birth: Option<Date>) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(birth) = birth {
        if !adult_on(birth, record.listed) {
            out.push(violation(
                "court_record_of_a_minor",
                "listed",
                format!("the person was under 18 on the listing date {}", record.listed),
            ));
        }
    }
    if let Some((closed, _)) = record.closed {
        if closed < record.listed {
            out.push(violation(
                "court_closed_before_listed",
                "closed",
                format!("closed on {closed}, before the listing on {}", record.listed),
            ));
        }
    }
    out
}

/// Whether a person born on `birth` is 18 or older on `day` (a 29 February birthday counts on
/// 1 March in years without one).
pub fn adult_on(birth: Date, day: Date) -> bool {
    let years = day.year() - birth.year();
    let had_birthday = (u8::from(day.month()), day.day()) >= (u8::from(birth.month()), birth.day());
    years > 18 || (years == 18 && had_birthday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_date, AccountKind, Currency, Dpd, OrgId};

    fn account() -> Account {
        Account {
            furnisher: OrgId::parse("bank").expect("id"),
            reference: "A1".into(),
            kind: AccountKind::Loan,
            opened: parse_date("2024-03-15").expect("date"),
            currency: Currency::parse("CNY").expect("currency"),
        }
    }

    fn report(month: &str, dpd: i64, status: Status, balance: i64, since: Option<&str>) -> Report {
        Report {
            month: YearMonth::parse(month).expect("month"),
            balance_minor: balance,
            limit_minor: 100_000,
            paid_minor: 0,
            dpd: Dpd::parse(dpd).expect("dpd"),
            status,
            delinquent_since: since.map(|s| parse_date(s).expect("date")),
        }
    }

    #[track_caller]
    fn check(r: Report, expected: &[&str]) {
        let today = parse_date("2026-10-31").expect("date");
        let got: Vec<&str> = check_report(&account(), &r, today).iter().map(|v| v.rule).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn each_rule_fires_alone() {
        check(report("2026-09", 0, Status::Open, 5_000, None), &[]);
        check(report("2026-09", 0, Status::Paid, 5_000, None), &["balance_on_paid_account"]);
        check(report("2026-09", 60, Status::Open, 5_000, None), &["delinquent_without_start"]);
        check(report("2026-09", 0, Status::ChargedOff, 5_000, Some("2026-01-10")), &["charge_off_reported_current"]);
        check(report("2026-09", 0, Status::Open, 5_000, Some("2026-01-10")), &["current_with_delinquency_start"]);
        check(report("2024-02", 0, Status::Open, 5_000, None), &["report_before_opened"]);
        check(report("2026-11", 0, Status::Open, 5_000, None), &["report_in_future"]);
        check(report("2026-09", 30, Status::Open, 5_000, Some("2026-10-02")), &["delinquency_start_after_month"]);
    }

    #[test]
    fn eighteenth_birthdays() {
        let d = |s| parse_date(s).expect("date");
        assert!(!adult_on(d("2008-06-15"), d("2026-06-14")));
        assert!(adult_on(d("2008-06-15"), d("2026-06-15")));
        assert!(!adult_on(d("2008-02-29"), d("2026-02-28")));
        assert!(adult_on(d("2008-02-29"), d("2026-03-01")));
    }
}
