//! What the file may still show: negative information ages off a set time after its delinquency
//! ended, and a court record leaves as soon as its performance or revocation is recorded.
//!
//! A delinquency episode is a run of negative monthly reports on one account. It ends at the
//! first later report that is not negative. An episode the furnisher never closed (a charge-off
//! that stops being reported) ends at its last report, so nothing stays for ever for want of news.
//! Every negative report of an episode ages off together, `negative_years` after the episode's
//! end month.

use time::Date;

use crate::model::{AccountHistory, SubjectFile, YearMonth};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub negative_years: u8,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { negative_years: 5 }
    }
}

impl Retention {
    /// For each report of an account (in month order), the day it ages off, or `None` for a
    /// report that is not negative.
    pub fn age_off_days(&self, history: &AccountHistory) -> Vec<Option<Date>> {
        let reports = &history.reports;
        let mut out = vec![None; reports.len()];
        let mut i = 0;
        while i < reports.len() {
            if !reports[i].is_negative() {
                i += 1;
                continue;
            }
            let start = i;
            while i < reports.len() && reports[i].is_negative() {
                i += 1;
            }
            let end: YearMonth = reports.get(i).map_or(reports[i - 1].month, |r| r.month);
            let day = end.plus(12 * i32::from(self.negative_years)).first_day();
            out[start..i].fill(Some(day));
        }
        out
    }

    /// Removes what has aged off by `today` and every closed court record.
    pub fn apply(&self, file: &mut SubjectFile, today: Date) {
        for history in &mut file.accounts {
            let days = self.age_off_days(history);
            let mut keep = days.iter().map(|d| d.is_none_or(|d| d > today));
            history.reports.retain(|_| keep.next().unwrap_or(true));
        }
        file.court_records.retain(|c| c.closed.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_date, Account, AccountKind, Currency, Dpd, OrgId, Report, Status};

    fn history(dpds: &[i64]) -> AccountHistory {
        let reports = dpds
            .iter()
            .enumerate()
            .map(|(i, &dpd)| Report {
                month: YearMonth::new(2020, 1).plus(i as i32),
                balance_minor: 1000,
                limit_minor: 0,
                paid_minor: 0,
                dpd: Dpd::parse(dpd).expect("dpd"),
                status: Status::Open,
                delinquent_since: None,
            })
            .collect();
        let account = Account {
            furnisher: OrgId::parse("bank").expect("id"),
            reference: "A".into(),
            kind: AccountKind::Loan,
            opened: parse_date("2019-12-01").expect("date"),
            currency: Currency::parse("CNY").expect("cny"),
        };
        AccountHistory { account, reports }
    }

    /// The time-travel check: the day before expiry the delinquency shows, on expiry it is gone.
    #[test]
    fn delinquency_ages_off_five_years_after_it_ended() {
        let h = history(&[0, 30, 60, 0, 0]); // delinquent Feb-Mar 2020, current again in April 2020
        let policy = Retention::default();
        let days = policy.age_off_days(&h);
        let expiry = parse_date("2025-04-01").expect("date");
        assert_eq!(days, vec![None, Some(expiry), Some(expiry), None, None]);
        let mut file = SubjectFile { accounts: vec![h.clone()], ..SubjectFile::default() };
        policy.apply(&mut file, parse_date("2025-03-31").expect("date"));
        assert_eq!(file.accounts[0].reports.len(), 5);
        policy.apply(&mut file, expiry);
        assert_eq!(file.accounts[0].reports.len(), 3);
        assert!(file.accounts[0].reports.iter().all(|r| !r.is_negative()));
    }

    #[test]
    fn an_unfinished_delinquency_ends_at_its_last_report() {
        let days = Retention { negative_years: 1 }.age_off_days(&history(&[0, 90, 120]));
        assert_eq!(days[2], Some(parse_date("2021-03-01").expect("date")));
    }
}
