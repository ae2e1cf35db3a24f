//! What disputes do to a file, as pure rules: which record a dispute names, who must verify it,
//! when an unverified record is suppressed, and which records a read leaves out.
//!
//! A dispute names one record: an account (`REF`), one month's report (`REF YYYY-MM`), a court
//! record (its case number) or an inquiry (`ORG YYYY-MM-DD`). The furnisher of that record (the
//! court, for a court record; the reader, for an inquiry) is asked to verify it. A record whose
//! furnisher has not answered by the deadline is suppressed; a deleted one leaves the file for
//! good; one the person reports as identity theft is blocked at once, until the ombudsman
//! decides. All are left out of every read, report and score from that moment.

use crate::model::{parse_date, Dispute, DisputeState, OrgId, SubjectFile, YearMonth};

/// The kinds of record a person may dispute.
pub const RECORD_KINDS: [&str; 4] = ["account", "report", "inquiry", "court_record"];

/// The record kind of a review: a person asks for human review of a logged decision.
pub const REVIEW_KIND: &str = "decision";

/// How a review names the decision it is about: by the decision's log leaf.
pub fn review_ref(decision_leaf: i64) -> String {
    format!("leaf {decision_leaf}")
}

/// The log leaf of the decision a dispute reviews, if it is a review.
pub fn reviewed_leaf(d: &Dispute) -> Option<i64> {
    if d.record_kind != REVIEW_KIND {
        return None;
    }
    d.record_ref.strip_prefix("leaf ").and_then(|i| i.parse().ok())
}

/// Days the furnisher has to verify a disputed record, unless configured.
pub const DEFAULT_DEADLINE_DAYS: i64 = 30;

const DAY_MS: i64 = 86_400_000;

/// When a dispute opened at `opened_ms` falls due.
pub fn due_ms(opened_ms: i64, deadline_days: i64) -> i64 {
    opened_ms.saturating_add(deadline_days.saturating_mul(DAY_MS))
}

/// Where a dispute stands at `now_ms`: one still waiting for the furnisher after its due date is
/// suppressed, whether or not the suppression has been recorded yet. A review of a decision has
/// no furnisher to wait for: it stays open until the ombudsman decides it.
pub fn effective_state(d: &Dispute, now_ms: i64, deadline_days: i64) -> DisputeState {
    match d.state {
        DisputeState::FurnisherAsked if now_ms > due_ms(d.opened_ms, deadline_days) => DisputeState::Suppressed,
        state => state,
    }
}

/// Not yet decided: the record is marked disputed in every report.
pub fn is_pending(state: DisputeState) -> bool {
    matches!(
        state,
        DisputeState::Open
            | DisputeState::FurnisherAsked
            | DisputeState::Blocked
            | DisputeState::FurnisherVerified
            | DisputeState::FurnisherCorrected
    )
}

/// One record of a file, as a dispute names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Account(String),
    Report(String, YearMonth),
    CourtRecord(String),
    Inquiry(OrgId, time::Date),
}

impl Record {
    /// Reads a dispute's record kind and reference; the error says what the reference should be.
    pub fn parse(kind: &str, reference: &str) -> Result<Record, &'static str> {
        let mut words = reference.split_whitespace();
        let (first, second, rest) = (words.next(), words.next(), words.next());
        match (kind, first, second, rest) {
            ("account", Some(r), None, None) => Ok(Record::Account(r.to_owned())),
            ("report", Some(r), Some(m), None) => YearMonth::parse(m)
                .map(|m| Record::Report(r.to_owned(), m))
                .map_err(|_| "a report is named by its account and month: `REF YYYY-MM`"),
            ("court_record", Some(r), None, None) => Ok(Record::CourtRecord(r.to_owned())),
            ("inquiry", Some(o), Some(d), None) => match (OrgId::parse(o), parse_date(d)) {
                (Ok(o), Ok(d)) => Ok(Record::Inquiry(o, d)),
                _ => Err("an inquiry is named by the organisation and day: `ORG YYYY-MM-DD`"),
            },
            ("account", ..) => Err("an account is named by its reference alone"),
            ("report", ..) => Err("a report is named by its account and month: `REF YYYY-MM`"),
            ("court_record", ..) => Err("a court record is named by its case number alone"),
            ("inquiry", ..) => Err("an inquiry is named by the organisation and day: `ORG YYYY-MM-DD`"),
            _ => Err("the record kind is account, report, court_record or inquiry"),
        }
    }

    /// Its kind, as a dispute names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Account(_) => "account",
            Record::Report(..) => "report",
            Record::CourtRecord(_) => "court_record",
            Record::Inquiry(..) => "inquiry",
        }
    }

    /// Its reference, as a dispute names it (what [`Record::parse`] reads back).
    pub fn reference(&self) -> String {
        match self {
            Record::Account(r) | Record::CourtRecord(r) => r.clone(),
            Record::Report(r, m) => format!("{r} {m}"),
            Record::Inquiry(o, d) => format!("{} {d}", o.as_str()),
        }
    }

    /// The account a record belongs to, if it is an account or one of its reports.
    pub fn account(&self) -> Option<&str> {
        match self {
            Record::Account(r) | Record::Report(r, _) => Some(r),
            _ => None,
        }
    }

    /// Whether the file holds this record, and if so who furnished it: the one asked to verify.
    pub fn furnisher_in(&self, file: &SubjectFile) -> Option<OrgId> {
        match self {
            Record::Account(r) => {
                file.accounts.iter().find(|h| &h.account.reference == r).map(|h| h.account.furnisher.clone())
            }
            Record::Report(r, m) => file
                .accounts
                .iter()
                .find(|h| &h.account.reference == r && h.reports.iter().any(|rep| rep.month == *m))
                .map(|h| h.account.furnisher.clone()),
            Record::CourtRecord(c) => {
                file.court_records.iter().find(|c2| &c2.case_number == c).map(|c2| c2.court.clone())
            }
            Record::Inquiry(o, d) => file.inquiries.iter().find(|i| &i.org == o && i.date == *d).map(|i| i.org.clone()),
        }
    }

    /// This record's content in the file, as text to compare two reads by (None: not there).
    pub fn content_in(&self, file: &SubjectFile) -> Option<String> {
        match self {
            Record::Account(r) => file.accounts.iter().find(|h| &h.account.reference == r).map(|h| format!("{h:?}")),
            Record::Report(r, m) => file
                .accounts
                .iter()
                .filter(|h| &h.account.reference == r)
                .flat_map(|h| h.reports.iter())
                .find(|rep| rep.month == *m)
                .map(|rep| format!("{rep:?}")),
            Record::CourtRecord(c) => {
                file.court_records.iter().find(|c2| &c2.case_number == c).map(|c2| format!("{c2:?}"))
            }
            Record::Inquiry(o, d) => {
                file.inquiries.iter().find(|i| &i.org == o && i.date == *d).map(|i| format!("{i:?}"))
            }
        }
    }

    /// Removes this record from the file.
    fn remove_from(&self, file: &mut SubjectFile) {
        match self {
            Record::Account(r) => file.accounts.retain(|h| &h.account.reference != r),
            Record::Report(r, m) => {
                for h in file.accounts.iter_mut().filter(|h| &h.account.reference == r) {
                    h.reports.retain(|rep| rep.month != *m);
                }
                file.accounts.retain(|h| !h.reports.is_empty());
            }
            Record::CourtRecord(c) => file.court_records.retain(|c2| &c2.case_number != c),
            Record::Inquiry(o, d) => file.inquiries.retain(|i| !(&i.org == o && i.date == *d)),
        }
    }
}

/// Leaves out of `file` every record whose dispute, at `now_ms`, deleted, suppressed or blocked it.
pub fn withhold(file: &mut SubjectFile, disputes: &[Dispute], now_ms: i64, deadline_days: i64) {
    for d in disputes {
        let state = effective_state(d, now_ms, deadline_days);
        if matches!(state, DisputeState::Deleted | DisputeState::Suppressed | DisputeState::Blocked) {
            if let Ok(record) = Record::parse(&d.record_kind, &d.record_ref) {
                record.remove_from(file);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Account, AccountHistory, AccountKind, Currency, Dpd, Report, Status};

    fn file() -> SubjectFile {
        let report = |m: &str, dpd: i64| Report {
            month: YearMonth::parse(m).expect("month"),
            balance_minor: 1,
            limit_minor: 2,
            paid_minor: 0,
            dpd: Dpd::parse(dpd).expect("dpd"),
            status: Status::Open,
            delinquent_since: None,
        };
        SubjectFile {
            accounts: vec![AccountHistory {
                account: Account {
                    furnisher: OrgId::parse("bank").expect("org"),
                    reference: "CARD-1".into(),
                    kind: AccountKind::Card,
                    opened: parse_date("2024-01-01").expect("day"),
                    currency: Currency::parse("CNY").expect("ccy"),
                },
                reports: vec![report("2026-08", 0), report("2026-09", 30)],
            }],
            ..SubjectFile::default()
        }
    }

    fn dispute(kind: &str, reference: &str, state: DisputeState) -> Dispute {
        Dispute { id: 1, record_kind: kind.into(), record_ref: reference.into(), opened_ms: 0, state, furnisher: None }
    }

    #[test]
    fn records_are_named_and_found() {
        let f = file();
        let report = Record::parse("report", "CARD-1 2026-09").expect("report");
        assert_eq!(report.furnisher_in(&f).map(|o| o.as_str().to_owned()), Some("bank".into()));
        assert!(Record::parse("report", "CARD-1 2026-07").expect("report").furnisher_in(&f).is_none());
        assert!(Record::parse("report", "CARD-1").is_err());
        assert!(Record::parse("account", "CARD-1 2026-09").is_err());
        assert!(Record::parse("inquiry", "bank 2026-13-01").is_err());
        assert!(Record::parse("religion", "x").is_err());
        assert_eq!(Record::parse("account", "CARD-1").expect("account").account(), Some("CARD-1"));
        for (kind, reference) in [
            ("account", "CARD-1"),
            ("report", "CARD-1 2026-09"),
            ("court_record", "C-7"),
            ("inquiry", "bank 2026-09-12"),
        ] {
            let record = Record::parse(kind, reference).expect("record");
            assert_eq!((record.kind(), record.reference().as_str()), (kind, reference), "names itself as it was named");
        }
    }

    #[test]
    fn an_unanswered_dispute_suppresses_its_record_after_the_deadline_only() {
        let open = dispute("report", "CARD-1 2026-09", DisputeState::FurnisherAsked);
        let due = due_ms(0, 30);
        assert_eq!(effective_state(&open, due, 30), DisputeState::FurnisherAsked, "due, not yet late");
        assert_eq!(effective_state(&open, due + 1, 30), DisputeState::Suppressed);
        let answered = dispute("report", "CARD-1 2026-09", DisputeState::FurnisherVerified);
        assert_eq!(effective_state(&answered, due + 1, 30), DisputeState::FurnisherVerified, "verified in time stays");

        let mut f = file();
        withhold(&mut f, std::slice::from_ref(&open), due, 30);
        assert_eq!(f, file(), "nothing left out before the deadline");
        withhold(&mut f, &[open], due + 1, 30);
        assert_eq!(f.accounts[0].reports.len(), 1);
        assert_eq!(f.accounts[0].reports[0].month.to_string(), "2026-08");

        let mut f = file();
        withhold(&mut f, &[dispute("account", "CARD-1", DisputeState::Deleted)], 0, 30);
        assert!(f.accounts.is_empty(), "a deleted account leaves the file");
        let mut f = file();
        let blocked = dispute("report", "CARD-1 2026-08", DisputeState::Blocked);
        assert_eq!(effective_state(&blocked, due + 1, 30), DisputeState::Blocked, "no deadline undoes a block");
        withhold(&mut f, &[blocked], 0, 30);
        assert_eq!(f.accounts[0].reports.len(), 1, "blocked at once");
        let mut f = file();
        withhold(&mut f, &[dispute("account", "CARD-1", DisputeState::Verified)], i64::MAX, 30);
        assert_eq!(f, file(), "a verified record stays");
        let review = dispute(REVIEW_KIND, &review_ref(12), DisputeState::Open);
        assert_eq!(reviewed_leaf(&review), Some(12));
        assert_eq!(
            reviewed_leaf(&dispute("account", "leaf 12", DisputeState::Open)),
            None,
            "only a review names a leaf"
        );
        assert_eq!(effective_state(&review, due + 1, 30), DisputeState::Open, "a review waits for the ombudsman");
    }
}
