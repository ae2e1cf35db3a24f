//! What the bureau holds about a person and what it gives readers: the file, scores and their
//! reasons, consents, disputes, and log entries.

use candor_bureau::consent::Given;
use candor_bureau::dispute::DisputeView;
use candor_bureau::gate::ReportedFile;
use candor_bureau::score::Scoring;
use candor_bureau::subject::LeafAbout;
use candor_bureau::Leaf;
use candor_file::model::{Consent, OrgId};
use schemars::JsonSchema;
use serde::Serialize;

/// Whether a dispute or statement reference names this account (alone or with a month).
fn names_account(reference: &str, account: &str) -> bool {
    reference.split_whitespace().next() == Some(account)
}

/// A person's file as reports show it: every account with its monthly reports, every inquiry
/// and court record.
#[derive(Serialize, JsonSchema)]
pub struct File {
    pub accounts: Vec<Account>,
    pub inquiries: Vec<Inquiry>,
    pub court_records: Vec<CourtRecord>,
}

#[derive(Serialize, JsonSchema)]
pub struct Account {
    /// A dispute of this account (or one of its months) is not yet decided.
    pub disputed: bool,
    /// The person's statement on this account, shown with it.
    pub statement: Option<String>,
    pub furnisher: String,
    pub account: String,
    pub kind: String,
    /// `YYYY-MM-DD`.
    pub opened: String,
    pub currency: String,
    pub reports: Vec<MonthlyReport>,
}

#[derive(Serialize, JsonSchema)]
pub struct MonthlyReport {
    /// `YYYY-MM`.
    pub month: String,
    pub balance_minor: i64,
    pub limit_minor: i64,
    pub paid_minor: i64,
    /// Days past due.
    pub dpd: u16,
    pub status: String,
    pub delinquent_since: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Inquiry {
    pub org: String,
    pub date: String,
    pub purpose: String,
}

#[derive(Serialize, JsonSchema)]
pub struct CourtRecord {
    pub court: String,
    pub case: String,
    pub amount_minor: i64,
    pub currency: String,
    pub grounds: String,
    pub listed: String,
}

pub fn file(report: &ReportedFile) -> File {
    let file = &report.file;
    let accounts = file
        .accounts
        .iter()
        .map(|h| {
            let reference = h.account.reference.as_str();
            let statement = report.statements.iter().find(|(r, _)| names_account(r, reference));
            Account {
                disputed: report.disputed.iter().any(|r| names_account(r, reference)),
                statement: statement.map(|(_, t)| t.clone()),
                furnisher: h.account.furnisher.as_str().to_owned(),
                account: reference.to_owned(),
                kind: h.account.kind.as_str().to_owned(),
                opened: h.account.opened.to_string(),
                currency: h.account.currency.as_str().to_owned(),
                reports: h
                    .reports
                    .iter()
                    .map(|r| MonthlyReport {
                        month: r.month.to_string(),
                        balance_minor: r.balance_minor,
                        limit_minor: r.limit_minor,
                        paid_minor: r.paid_minor,
                        dpd: r.dpd.days(),
                        status: r.status.as_str().to_owned(),
                        delinquent_since: r.delinquent_since.map(|d| d.to_string()),
                    })
                    .collect(),
            }
        })
        .collect();
    File {
        accounts,
        inquiries: file
            .inquiries
            .iter()
            .map(|i| Inquiry {
                org: i.org.as_str().to_owned(),
                date: i.date.to_string(),
                purpose: i.purpose.as_str().to_owned(),
            })
            .collect(),
        court_records: file
            .court_records
            .iter()
            .map(|c| CourtRecord {
                court: c.court.as_str().to_owned(),
                case: c.case_number.clone(),
                amount_minor: c.amount_minor,
                currency: c.currency.as_str().to_owned(),
                grounds: c.grounds.clone(),
                listed: c.listed.to_string(),
            })
            .collect(),
    }
}

/// A reason a score is not higher: its code, the sentence a person reads and the detail an
/// analyst checks.
#[derive(Serialize, JsonSchema)]
pub struct Reason {
    pub code: String,
    /// The characteristic the reason is about (a feature of the catalogue), or
    /// `not_enough_history`.
    pub characteristic: String,
    /// In plain words, from the catalogue's messages ("Balances are high compared with your
    /// limits."); the portal says the same in the person's language.
    pub sentence: String,
    /// The bin the file fell in and the points it cost.
    pub detail: String,
}

fn reasons(list: &[candor_scorecard::Reason]) -> Vec<Reason> {
    let words = crate::pages::text::Text::new(crate::pages::text::Lang::En);
    list.iter()
        .map(|r| Reason {
            code: r.code.clone(),
            characteristic: r.characteristic.clone(),
            sentence: words.lookup(&format!("reason-{}", r.characteristic), &[]).unwrap_or_else(|| r.sentence.clone()),
            detail: r.sentence.clone(),
        })
        .collect()
}

/// A score, its probability of default, the model that gave it and its reasons. A file with
/// too little history to score (the model's minimum scoring criteria) has a null score and pd
/// and the one reason `not_enough_history`.
#[derive(Serialize, JsonSchema)]
pub struct Score {
    pub score: Option<i32>,
    pub pd: Option<f64>,
    pub model_version: String,
    /// Largest shortfall first.
    pub reasons: Vec<Reason>,
}

pub fn scoring(s: &Scoring) -> Score {
    Score { score: s.score, pd: s.pd, model_version: s.model_version.clone(), reasons: reasons(&s.reasons) }
}

/// The person's own score, with what would raise it.
#[derive(Serialize, JsonSchema)]
pub struct OwnScore {
    #[serde(flatten)]
    pub score: Score,
    /// Absent when there is no score to raise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recourse: Option<Recourse>,
}

/// The smallest changes of what the person can act on that reach the target score.
#[derive(Serialize, JsonSchema)]
pub struct Recourse {
    pub target_score: i32,
    /// Whether the changes reach the target; when not, they are the most that can be done.
    pub reachable: bool,
    pub new_score: i32,
    pub changes: Vec<Change>,
}

#[derive(Serialize, JsonSchema)]
pub struct Change {
    pub characteristic: String,
    pub from: String,
    pub to: String,
    pub points_gain: i32,
}

pub fn own_score(s: &Scoring, r: &Option<candor_scorecard::Recourse>) -> OwnScore {
    OwnScore {
        score: scoring(s),
        recourse: r.as_ref().map(|r| Recourse {
            target_score: r.target_score,
            reachable: r.reachable,
            new_score: r.new_score,
            changes: r
                .changes
                .iter()
                .map(|c| Change {
                    characteristic: c.characteristic.clone(),
                    from: c.from.clone(),
                    to: c.to.clone(),
                    points_gain: c.points_gain,
                })
                .collect(),
        }),
    }
}

/// A score (or, under a policy, a decision) given to a lender or merchant with consent.
#[derive(Serialize, JsonSchema)]
pub struct ScoreGiven {
    #[serde(flatten)]
    pub score: Score,
    /// References of records of the file with a dispute not yet decided.
    pub disputed_records: Vec<String>,
    pub statements: Vec<StatementShown>,
    /// Under a policy: `approve`, `waive_deposit`, `limit` or `decline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Under a policy, for `limit`: the limit, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_minor: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<candor_log::leaf::PolicyRef>,
    /// For a decline: the reasons the person must be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adverse_action_reasons: Option<Vec<Reason>>,
    /// The log leaf that records this read.
    pub leaf: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct StatementShown {
    pub record_ref: String,
    pub text: String,
}

pub fn given(g: &Given) -> ScoreGiven {
    let decision = g.decision.as_ref();
    ScoreGiven {
        score: scoring(&g.scoring),
        disputed_records: g.report.disputed.clone(),
        statements: g
            .report
            .statements
            .iter()
            .map(|(r, t)| StatementShown { record_ref: r.clone(), text: t.clone() })
            .collect(),
        decision: decision.map(|(_, _, band)| band.decision.as_str().to_owned()),
        limit_minor: decision.map(|(_, _, band)| band.decision.limit_minor()),
        policy: decision
            .map(|(name, version, _)| candor_log::leaf::PolicyRef { name: name.clone(), version: version.clone() }),
        adverse_action_reasons: g.adverse_action_reasons().map(reasons),
        leaf: g.leaf,
    }
}

#[derive(Serialize, JsonSchema)]
pub struct ConsentShown {
    pub org: String,
    pub purpose: String,
    pub granted: String,
    pub until: String,
    pub revoked: Option<String>,
}

pub fn consent(c: &Consent) -> ConsentShown {
    ConsentShown {
        org: c.org.as_str().to_owned(),
        purpose: c.purpose.as_str().to_owned(),
        granted: c.granted.to_string(),
        until: c.until.to_string(),
        revoked: c.revoked.map(|d| d.to_string()),
    }
}

/// A dispute or review, where it stands and when it must be decided by.
#[derive(Serialize, JsonSchema)]
pub struct Dispute {
    pub id: i64,
    pub record_kind: String,
    pub record_ref: String,
    pub state: String,
    /// The furnisher asked to verify the record (none for a review).
    pub furnisher: Option<String>,
    pub opened_ms: i64,
    pub due_ms: i64,
    pub overdue: bool,
}

pub fn dispute(v: &DisputeView) -> Dispute {
    let d = &v.dispute;
    Dispute {
        id: d.id,
        record_kind: d.record_kind.clone(),
        record_ref: d.record_ref.clone(),
        state: v.state.as_str().to_owned(),
        furnisher: d.furnisher.as_ref().map(|f| OrgId::as_str(f).to_owned()),
        opened_ms: d.opened_ms,
        due_ms: v.due_ms,
        overdue: v.overdue,
    }
}

/// A log entry as the log holds it (its `kind` and fields), with its index.
#[derive(Serialize, JsonSchema)]
pub struct Entry {
    pub leaf: i64,
    /// A decision the ombudsman overrode on the person's request for review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden: Option<bool>,
    #[serde(flatten)]
    pub body: Leaf,
}

/// A leaf about the person, as the log holds it, with its index (and, for a decision the
/// ombudsman overrode, that it was).
pub fn leaf_about(l: &LeafAbout) -> Entry {
    Entry { leaf: l.index, overridden: l.overridden.then_some(true), body: l.leaf.clone() }
}

/// A notification to an organisation, as the log holds it, with its leaf index.
pub fn notification(index: i64, n: &candor_log::leaf::Notification) -> Entry {
    Entry { leaf: index, overridden: None, body: Leaf::Notification(n.clone()) }
}

/// Everything the bureau holds about a person, with sources: the copy they download.
#[derive(Serialize, JsonSchema)]
pub struct Everything {
    /// `YYYY-MM-DD`: the day the copy was made.
    pub as_of: String,
    pub file: File,
    pub frozen: bool,
    pub consents: Vec<ConsentShown>,
    pub disputes: Vec<Dispute>,
    /// Every log entry about the person, oldest first.
    pub log_entries: Vec<Entry>,
    /// Whether `log_entries` holds every entry (a copy holds at most 50,000).
    pub complete: bool,
}

pub fn everything(e: &candor_bureau::subject::Everything, as_of: time::Date) -> Everything {
    Everything {
        as_of: as_of.to_string(),
        file: file(&e.report),
        frozen: e.frozen,
        consents: e.consents.iter().map(consent).collect(),
        disputes: e.disputes.iter().map(dispute).collect(),
        log_entries: e.leaves.iter().map(leaf_about).collect(),
        complete: e.complete,
    }
}
