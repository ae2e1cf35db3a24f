//! What each page shows, and its template (`templates/`). The words come from [`Text`]: the
//! templates hold markup and names of messages only (a test holds them to that).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use candor_bureau::subject::LeafAbout;
use candor_bureau::Leaf;

use super::text::{Arg, Lang, Text};
use super::Person;
use crate::{wire, ApiError};

/// What surrounds every page: the words, who is signed in, the form token, where the language
/// switch sends the person back to.
pub(crate) struct Chrome {
    pub t: Text,
    pub signed_in: bool,
    /// A page of the ombudsman's console (its own navigation).
    pub console: bool,
    pub csrf: String,
    pub path: &'static str,
}

/// A language the switch offers.
pub(crate) struct LangLink {
    pub tag: &'static str,
    pub name: String,
    pub current: bool,
}

impl Chrome {
    pub fn stranger(t: Text, path: &'static str) -> Chrome {
        Chrome { t, signed_in: false, console: path.starts_with("/console"), csrf: String::new(), path }
    }

    /// A console page for a signed-in member of staff.
    pub fn staff(t: Text, path: &'static str, csrf: String) -> Chrome {
        Chrome { t, signed_in: true, console: true, csrf, path }
    }

    pub fn signed_in(t: Text, path: &'static str, person: &Person) -> Chrome {
        Chrome { t, signed_in: true, console: false, csrf: person.csrf.clone(), path }
    }

    pub fn languages(&self) -> Vec<LangLink> {
        Lang::ALL
            .iter()
            .map(|l| LangLink {
                tag: l.tag(),
                name: self.t.get(&format!("lang-{}", l.tag())),
                current: *l == self.t.lang,
            })
            .collect()
    }

    /// The identifier schemes a person picks from, with their names.
    pub fn schemes(&self) -> Vec<(&'static str, String)> {
        ["cn_rid", "us_ssn", "generic"].into_iter().map(|s| (s, self.t.get(&format!("scheme-{s}")))).collect()
    }

    /// Whether `path` is this page, for `aria-current`.
    pub fn here(&self, path: &str) -> bool {
        self.path == path
    }
}

/// An error as a form shows it: the message in the page's language, and the field at fault.
#[derive(Clone)]
pub(crate) struct Shown {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl Shown {
    /// The message of an error's code in the page's language (`error-{code}`), else the
    /// bureau's own words, which say what, where and why.
    pub fn of(t: Text, e: &ApiError) -> Shown {
        let message = t.lookup(&format!("error-{}", e.code), &[]).unwrap_or_else(|| e.message.clone());
        Shown { code: e.code, message, field: e.field.clone() }
    }

    /// Whether the identifier or the passphrase was wrong (the answer does not say which).
    pub fn code_is_credentials(&self) -> bool {
        self.code == "bad_credentials"
    }

    /// Whether the error is about `field`, for `aria-invalid`.
    pub fn on(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// A page, rendered; a template that fails to render is the server's fault.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    html(status, page.render())
}

pub(crate) fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>500</title>")).into_response()
        }
    }
}

/// A page that says what went wrong, with the error's status.
pub(crate) fn error(t: Text, e: &ApiError) -> Response {
    let status = e.status_code();
    problem(t, status, &Shown::of(t, e).message)
}

pub(crate) fn problem(t: Text, status: StatusCode, message: &str) -> Response {
    let c = Chrome::stranger(t, "/");
    render(status, &Problem { c, message: message.to_owned() })
}

#[derive(Template)]
#[template(path = "problem.html")]
pub(crate) struct Problem {
    pub c: Chrome,
    pub message: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct Home {
    pub c: Chrome,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(crate) struct SignIn {
    pub c: Chrome,
    pub error: Option<Shown>,
    pub notice: Option<String>,
    /// Reached over plain HTTP from another machine: the browser will refuse the session.
    pub needs_https: bool,
    pub scheme: String,
}

#[derive(Template)]
#[template(path = "enrol.html")]
pub(crate) struct Enrol {
    pub c: Chrome,
    pub error: Option<Shown>,
    pub scheme: String,
}

#[derive(Template)]
#[template(path = "questions.html")]
pub(crate) struct Questions {
    pub c: Chrome,
    pub error: Option<Shown>,
    /// The identifier the person typed, sealed, for the next step (never in clear in the page).
    pub pending: String,
    pub questions: Vec<super::person::QuestionShown>,
}

/// A score as the person is shown it: the number, the reasons as sentences and what would raise
/// it.
pub(crate) struct ScoreShown {
    /// None for a file with too little history to score: the reasons say so.
    pub score: Option<i32>,
    /// Where it stands among the people the model was built on.
    pub band: Option<String>,
    pub reasons: Vec<String>,
    pub target: i32,
    pub reachable: bool,
    pub changes: Vec<String>,
}

impl ScoreShown {
    pub fn of(t: Text, s: &wire::OwnScore, scorer: &candor_scorecard::Scorer) -> ScoreShown {
        let model = scorer.model();
        let reasons = s.score.reasons.iter().map(|r| reason_sentence(t, &r.characteristic, &r.sentence)).collect();
        let no_changes = Vec::new();
        let changes = s
            .recourse
            .as_ref()
            .map_or(&no_changes, |r| &r.changes)
            .iter()
            .map(|c| {
                let what = t.named("feature", &c.characteristic);
                // The bins by their labels, said in the feature's unit and the page's language.
                let words = |label: &str| {
                    model
                        .characteristics
                        .iter()
                        .find(|ch| ch.name == c.characteristic)
                        .and_then(|ch| ch.bins.iter().find(|b| b.rule.label() == label))
                        .map_or_else(|| label.to_owned(), |b| bin_words(t, &c.characteristic, &b.rule))
                };
                t.with(
                    "recourse-change",
                    &[
                        ("what", Arg::Text(&what)),
                        ("from", Arg::Text(&words(&c.from))),
                        ("to", Arg::Text(&words(&c.to))),
                        ("points", Arg::Number(i64::from(c.points_gain))),
                    ],
                )
            })
            .collect();
        let band = s.score.score.and_then(|score| scorer.band(score)).map(|(band, bands, below)| {
            let below = (below * 100.0).round() as i64;
            t.with(
                "score-band",
                &[
                    ("band", Arg::Number(band as i64)),
                    ("bands", Arg::Number(bands as i64)),
                    ("below", Arg::Number(below)),
                ],
            )
        });
        ScoreShown {
            score: s.score.score,
            band,
            reasons,
            target: s.recourse.as_ref().map_or(0, |r| r.target_score),
            reachable: s.recourse.as_ref().is_some_and(|r| r.reachable),
            changes,
        }
    }
}

/// A reason in the person's language: the sentence the messages have for its characteristic,
/// else the model's own sentence.
fn reason_sentence(t: Text, characteristic: &str, sentence: &str) -> String {
    t.lookup(&format!("reason-{characteristic}"), &[]).unwrap_or_else(|| sentence.to_owned())
}

#[derive(Template)]
#[template(path = "overview.html")]
pub(crate) struct Overview {
    pub c: Chrome,
    pub notice: Option<String>,
    pub frozen: bool,
    pub score: Option<ScoreShown>,
}

/// A bin's values in the page's language and the feature's unit: shares and ratios as
/// percentages, counts as whole numbers with their unit.
pub(crate) fn bin_words(t: Text, feature: &str, rule: &candor_scorecard::BinRule) -> String {
    use candor_scorecard::BinRule;
    let unit = candor_file::features::CATALOGUE.iter().find(|f| f.name == feature).map_or("", |f| f.unit);
    let number = |x: f64| -> String {
        match unit {
            "share" | "ratio" => format!("{}%", (x * 100.0).round()),
            _ => {
                let rounded = (x * 10.0).round() / 10.0;
                let n = if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.1}") };
                match t.lookup(&format!("unit-{}", unit.replace(' ', "_")), &[]) {
                    Some(u) if !u.is_empty() => format!("{n} {u}"),
                    _ => n,
                }
            }
        }
    };
    match rule {
        BinRule::Range { lower: None, upper: None } => t.get("range-any"),
        BinRule::Range { lower: None, upper: Some(u) } => t.with("range-below", &[("upper", Arg::Text(&number(*u)))]),
        BinRule::Range { lower: Some(l), upper: None } => t.with("range-from", &[("lower", Arg::Text(&number(*l)))]),
        BinRule::Range { lower: Some(l), upper: Some(u) } => {
            t.with("range-between", &[("lower", Arg::Text(&number(*l))), ("upper", Arg::Text(&number(*u)))])
        }
        BinRule::Missing => t.get("range-missing"),
        other => other.label(),
    }
}

/// An actionable characteristic in the what-if simulator: its field, its words, and its choices
/// as (bin, words, chosen).
pub(crate) struct LeverShown {
    pub field: String,
    pub name: String,
    pub choices: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "score.html")]
pub(crate) struct ScorePage {
    pub c: Chrome,
    pub score: Option<ScoreShown>,
    pub levers: Vec<LeverShown>,
    /// The score with the simulator's choices.
    pub what_if: Option<i32>,
}

/// An amount in minor units as people write it: `12,345.67 CNY`.
pub(crate) fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let (major, cents) = (abs / 100, abs % 100);
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    format!("{sign}{grouped}.{cents:02} {currency}")
}

pub(crate) struct AccountShown {
    pub furnisher: String,
    pub account: String,
    pub kind: String,
    pub opened: String,
    pub disputed: bool,
    pub statement: Option<String>,
    pub reports: Vec<ReportShown>,
}

pub(crate) struct ReportShown {
    pub month: String,
    /// When the bureau first received it.
    pub received: String,
    pub balance: String,
    pub limit: String,
    pub paid: String,
    pub late: String,
    pub status: String,
    /// Late, charged off or in collection: marked beside the row.
    pub negative: bool,
}

pub(crate) struct InquiryShown {
    pub org: String,
    pub date: String,
    pub purpose: String,
}

pub(crate) struct CourtShown {
    pub court: String,
    pub case: String,
    pub amount: String,
    pub grounds: String,
    pub listed: String,
}

pub(crate) struct FileShown {
    pub accounts: Vec<AccountShown>,
    pub inquiries: Vec<InquiryShown>,
    pub court_records: Vec<CourtShown>,
}

impl FileShown {
    pub fn of(t: Text, f: &wire::File, received: &candor_store::Received) -> FileShown {
        let accounts = f
            .accounts
            .iter()
            .map(|a| AccountShown {
                furnisher: a.furnisher.clone(),
                account: a.account.clone(),
                kind: t.named("kind", &a.kind),
                opened: a.opened.clone(),
                disputed: a.disputed,
                statement: a.statement.clone(),
                reports: a
                    .reports
                    .iter()
                    .rev()
                    .map(|r| ReportShown {
                        received: candor_file::model::YearMonth::parse(&r.month)
                            .ok()
                            .and_then(|m| received.reports.get(&(a.account.clone(), i64::from(m.0))))
                            .map_or_else(String::new, |ms| day(*ms)),
                        month: r.month.clone(),
                        balance: money(r.balance_minor, &a.currency),
                        limit: money(r.limit_minor, &a.currency),
                        paid: money(r.paid_minor, &a.currency),
                        late: if r.dpd == 0 {
                            t.get("on-time")
                        } else {
                            t.with("days-late", &[("days", Arg::Number(i64::from(r.dpd)))])
                        },
                        status: t.named("status", &r.status),
                        negative: r.dpd > 0 || r.status == "charged_off" || r.status == "collection",
                    })
                    .collect(),
            })
            .collect();
        FileShown {
            accounts,
            inquiries: f
                .inquiries
                .iter()
                .map(|i| InquiryShown {
                    org: i.org.clone(),
                    date: i.date.clone(),
                    purpose: t.named("purpose", &i.purpose),
                })
                .collect(),
            court_records: f
                .court_records
                .iter()
                .map(|c| CourtShown {
                    court: c.court.clone(),
                    case: c.case.clone(),
                    amount: money(c.amount_minor, &c.currency),
                    grounds: c.grounds.clone(),
                    listed: c.listed.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "file.html")]
pub(crate) struct FilePage {
    pub c: Chrome,
    pub statement_saved: bool,
    pub as_of: String,
    pub file: FileShown,
}

/// An entry of the log about the person, in words.
pub(crate) struct EntryShown {
    pub leaf: i64,
    pub when: String,
    pub what: String,
    /// A refused read: marked.
    pub refused: bool,
    /// A decision the person may ask a human to review.
    pub reviewable: bool,
}

/// A moment's UTC date.
pub(crate) fn day(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_or_else(|_| String::new(), |t| t.date().to_string())
}

/// The time of a leaf as a UTC date and minute.
pub(crate) fn when(ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute())
}

/// The entries about the person, newest first, in words.
pub(crate) fn entries(t: Text, leaves: &[LeafAbout]) -> Vec<EntryShown> {
    leaves.iter().rev().map(|l| entry(t, l)).collect()
}

fn entry(t: Text, l: &LeafAbout) -> EntryShown {
    let org_purpose = |id: &str, org: &str, purpose: &str| {
        let purpose = t.named("purpose", purpose);
        t.with(id, &[("org", Arg::Text(org)), ("purpose", Arg::Text(&purpose))])
    };
    let (ms, what, refused) = match &l.leaf {
        Leaf::Read(r) => (r.recorded_ms, org_purpose("entry-read", &r.org, &r.purpose), false),
        Leaf::Decision(r) => {
            let id = if l.overridden { "entry-decision-overridden" } else { "entry-decision" };
            (r.recorded_ms, org_purpose(id, &r.org, &r.purpose), false)
        }
        Leaf::RefusedRead(r) => (r.recorded_ms, org_purpose("entry-refused-read", &r.org, &r.purpose), true),
        Leaf::ConsentGranted(c) => (c.recorded_ms, org_purpose("entry-consent-granted", &c.org, &c.purpose), false),
        Leaf::ConsentRevoked(c) => (c.recorded_ms, org_purpose("entry-consent-revoked", &c.org, &c.purpose), false),
        Leaf::Enrolment(e) => (e.recorded_ms, t.get("entry-enrolment"), false),
        Leaf::Reenrolment(e) => (e.recorded_ms, t.get("entry-reenrolment"), false),
        Leaf::Withdrawal(e) => (e.recorded_ms, t.get("entry-withdrawal"), false),
        Leaf::FreezePlaced(e) => (e.recorded_ms, t.get("entry-freeze-placed"), false),
        Leaf::FreezeLifted(e) => (e.recorded_ms, t.get("entry-freeze-lifted"), false),
        Leaf::SecondFactorOn(e) => (e.recorded_ms, t.get("entry-second-factor-on"), false),
        Leaf::SecondFactorOff(e) => (e.recorded_ms, t.get("entry-second-factor-off"), false),
        Leaf::ActivationIssued(e) => (e.recorded_ms, t.get("entry-activation-issued"), false),
        Leaf::Statement(e) => (e.recorded_ms, t.get("entry-statement"), false),
        Leaf::DisputeOpened(e) => (e.recorded_ms, t.get("entry-dispute-opened"), false),
        Leaf::DisputeAnswered(e) => (e.recorded_ms, t.get("entry-dispute-answered"), false),
        Leaf::DisputeSuppressed(e) => (e.recorded_ms, t.get("entry-dispute-suppressed"), false),
        Leaf::DisputeDecided(e) => (e.recorded_ms, t.get("entry-dispute-decided"), false),
        Leaf::ReviewRequested(e) => (e.recorded_ms, t.get("entry-review-requested"), false),
        Leaf::Notification(e) => (e.recorded_ms, t.get("entry-notification"), false),
        Leaf::CaseOpened(e) => (
            e.recorded_ms,
            t.with("entry-case-opened", &[("staff", Arg::Text(&e.staff)), ("org", Arg::Text(&e.org))]),
            false,
        ),
        // Entries about no one person; none is ever about this one.
        Leaf::Ingestion(_)
        | Leaf::Purge(_)
        | Leaf::ModelDeployed(_)
        | Leaf::OrganisationRegistered(_)
        | Leaf::ScoringSwitched(_)
        | Leaf::StaffRegistered(_)
        | Leaf::KeyRevoked(_) => (0, t.get("entry-other"), false),
    };
    let reviewable = matches!(l.leaf, Leaf::Decision(_)) && !l.overridden;
    EntryShown { leaf: l.index, when: when(ms), what, refused, reviewable }
}

#[derive(Template)]
#[template(path = "reads.html")]
pub(crate) struct ReadsPage {
    pub c: Chrome,
    pub entries: Vec<EntryShown>,
    pub next: Option<i64>,
}

#[derive(Template)]
#[template(path = "proof.html")]
pub(crate) struct ProofPage {
    pub c: Chrome,
    pub index: i64,
    /// The API route that gives the same proof, at the same size.
    pub api_path: String,
    pub body: String,
    pub leaf_hash: String,
    pub path: Vec<String>,
    pub checkpoint: String,
    pub verified: bool,
}

#[derive(Template)]
#[template(path = "disputes.html")]
pub(crate) struct DisputesPage {
    pub c: Chrome,
    pub error: Option<Shown>,
    pub records: Vec<super::disputes::Choice>,
    /// (code, words).
    pub reasons: Vec<(String, String)>,
    pub disputes: Vec<super::disputes::DisputeRow>,
}

/// What the person sent with a dispute, as the receipt shows it.
pub(crate) struct ReceiptShown {
    pub reason: String,
    pub text: String,
    pub evidence: Option<String>,
    /// The SHA-256 of the whole claim, as the log holds it.
    pub digest: String,
}

/// What the person sent, as a receipt shows it.
pub(crate) fn receipt(t: Text, r: &candor_bureau::dispute::Receipt) -> ReceiptShown {
    ReceiptShown {
        reason: t.named("claim", &r.reason),
        text: r.text.clone(),
        evidence: r.evidence.map(|(media, size, sha)| {
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            let sha = hex::encode(sha);
            let args = [("type", Arg::Text(media.as_str())), ("size", Arg::Number(size)), ("sha", Arg::Text(&sha))];
            t.with("receipt-evidence", &args)
        }),
        digest: hex::encode(r.claim_sha256),
    }
}

#[derive(Template)]
#[template(path = "dispute.html")]
pub(crate) struct DisputePage {
    pub c: Chrome,
    /// Where the evidence downloads from.
    pub evidence_href: String,
    pub notice: Option<String>,
    pub row: super::disputes::DisputeRow,
    pub decided: bool,
    pub steps: Vec<super::disputes::StepShown>,
    pub receipt: Option<ReceiptShown>,
}

#[derive(Template)]
#[template(path = "console_sign_in.html")]
pub(crate) struct StaffSignIn {
    pub c: Chrome,
    pub error: Option<Shown>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "console_setup.html")]
pub(crate) struct StaffSetup {
    pub c: Chrome,
    pub error: Option<Shown>,
    pub authenticator: Option<super::console::AuthenticatorShown>,
}

#[derive(Template)]
#[template(path = "console_queue.html")]
pub(crate) struct QueuePage {
    pub c: Chrome,
    pub rows: Vec<super::console::QueueRow>,
    pub furnisher: String,
    pub kind: String,
    /// (code, words).
    pub kinds: Vec<(String, String)>,
    pub next: Option<i64>,
}

/// A decision about to be made, as the person and the furnisher will read it.
pub(crate) struct PreviewShown {
    pub ruling: String,
    pub en_outcome: String,
    pub en_explanation: String,
    pub zh_outcome: String,
    pub zh_explanation: String,
}

/// A step's log entry, checked against the checkpoint signed now.
pub(crate) struct CheckedEntry {
    pub index: i64,
    pub kind: String,
    pub verified: bool,
}

/// A disputed record as the file shows it now: a heading and lines.
pub(crate) struct RecordShown {
    pub heading: String,
    pub lines: Vec<String>,
}

pub(crate) fn record_now(t: Text, r: &candor_bureau::dispute::RecordNow) -> RecordShown {
    use candor_bureau::dispute::RecordNow;
    match r {
        RecordNow::Account(h) => {
            let a = &h.account;
            let lines = h
                .reports
                .iter()
                .rev()
                .map(|r| {
                    let late = if r.dpd.days() == 0 {
                        t.get("on-time")
                    } else {
                        t.with("days-late", &[("days", Arg::Number(i64::from(r.dpd.days())))])
                    };
                    format!(
                        "{} · {} / {} · {} · {}",
                        r.month,
                        money(r.balance_minor, a.currency.as_str()),
                        money(r.limit_minor, a.currency.as_str()),
                        late,
                        t.named("status", r.status.as_str())
                    )
                })
                .collect();
            let heading = format!("{} · {} · {}", t.named("kind", a.kind.as_str()), a.furnisher.as_str(), a.reference);
            RecordShown { heading, lines }
        }
        RecordNow::CourtRecord(c) => RecordShown {
            heading: format!("{} · {}", c.court.as_str(), c.case_number),
            lines: vec![format!("{} · {} · {}", money(c.amount_minor, c.currency.as_str()), c.grounds, c.listed)],
        },
        RecordNow::Inquiry(i) => RecordShown {
            heading: format!("{} · {}", i.org.as_str(), i.date),
            lines: vec![t.named("purpose", i.purpose.as_str())],
        },
    }
}

/// An outcome a case may end with, and its published explanations as (id, words).
pub(crate) struct OutcomeChoice {
    pub outcome: String,
    pub words: String,
    pub explanations: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console_case.html")]
pub(crate) struct CasePage {
    pub c: Chrome,
    /// Where the evidence downloads from.
    pub evidence_href: String,
    pub id: i64,
    pub what: String,
    pub state: String,
    pub furnisher: String,
    pub due: String,
    pub overdue: bool,
    pub decided: bool,
    pub record: Option<RecordShown>,
    pub receipt: Option<ReceiptShown>,
    pub steps: Vec<super::disputes::StepShown>,
    pub entries: Vec<CheckedEntry>,
    pub outcomes: Vec<OutcomeChoice>,
    pub preview: Option<PreviewShown>,
    pub error: Option<Shown>,
}

#[derive(Template)]
#[template(path = "console_witness.html")]
pub(crate) struct WitnessPage {
    pub c: Chrome,
    pub latest: String,
    pub cosigned: Option<String>,
    /// Whether the latest extends the last cosigned (none: nothing cosigned yet).
    pub consistent: Option<bool>,
    pub notice: Option<String>,
    pub error: Option<Shown>,
}

/// A second factor just started: what the person adds to their authenticator, and the recovery
/// codes, shown this once.
pub(crate) struct StartedShown {
    pub secret: String,
    pub uri: String,
    pub recovery: Vec<String>,
}

#[derive(Template)]
#[template(path = "security.html")]
pub(crate) struct SecurityPage {
    pub c: Chrome,
    pub on: bool,
    pub started: Option<StartedShown>,
    pub notice: Option<String>,
    pub error: Option<Shown>,
}

/// An alert: when, what, and whether it is bad news.
pub(crate) struct AlertShown {
    pub when: String,
    pub what: String,
    pub negative: bool,
    /// The dispute it is a step of, to link to.
    pub dispute: Option<i64>,
}

pub(crate) fn alert(t: Text, ms: i64, change: &candor_bureau::subject::Change) -> AlertShown {
    use candor_bureau::subject::Change;
    let (what, negative, dispute) = match change {
        Change::NegativeReport { furnisher, account, month } => (
            t.with(
                "alert-negative",
                &[("furnisher", Arg::Text(furnisher)), ("account", Arg::Text(account)), ("month", Arg::Text(month))],
            ),
            true,
            None,
        ),
        Change::Inquiry { org, day } => {
            (t.with("alert-inquiry", &[("org", Arg::Text(org)), ("day", Arg::Text(day))]), false, None)
        }
        Change::CourtRecord { court, case } => {
            (t.with("alert-court", &[("court", Arg::Text(court)), ("case", Arg::Text(case))]), true, None)
        }
        Change::DisputeStep { dispute, state } => {
            let step = t.named("step", state);
            (
                t.with("alert-dispute", &[("dispute", Arg::Number(*dispute)), ("step", Arg::Text(&step))]),
                false,
                Some(*dispute),
            )
        }
    };
    AlertShown { when: when(ms), what, negative, dispute }
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub(crate) struct AlertsPage {
    pub c: Chrome,
    pub alerts: Vec<AlertShown>,
}

/// Everything held about the person, on one page to print: the statutory copy.
#[derive(Template)]
#[template(path = "copy.html")]
pub(crate) struct CopyPage {
    pub c: Chrome,
    pub as_of: String,
    pub file: FileShown,
    pub consents: Vec<ConsentRow>,
    pub disputes: Vec<super::disputes::DisputeRow>,
    pub entries: Vec<EntryShown>,
}

/// A consent as the list shows it.
pub(crate) struct ConsentRow {
    pub org: String,
    pub purpose: String,
    pub purpose_name: String,
    pub granted: String,
    pub until: String,
    /// Live: not revoked and not past its end; such a consent can be revoked.
    pub live: bool,
    pub state: String,
}

impl ConsentRow {
    pub fn of(t: Text, c: &wire::ConsentShown, today: time::Date) -> ConsentRow {
        let ended = candor_file::model::parse_date(&c.until).is_ok_and(|until| until < today);
        let (live, state) = match (&c.revoked, ended) {
            (Some(day), _) => (false, t.with("consent-revoked-on", &[("day", Arg::Text(day))])),
            (None, true) => (false, t.get("consent-ended")),
            (None, false) => (true, t.get("consent-live")),
        };
        ConsentRow {
            org: c.org.clone(),
            purpose: c.purpose.clone(),
            purpose_name: t.named("purpose", &c.purpose),
            granted: c.granted.clone(),
            until: c.until.clone(),
            live,
            state,
        }
    }
}

#[derive(Template)]
#[template(path = "consents.html")]
pub(crate) struct ConsentsPage {
    pub c: Chrome,
    pub notice: Option<String>,
    pub error: Option<Shown>,
    pub consents: Vec<ConsentRow>,
    /// Registered lenders and merchants: (id, name).
    pub readers: Vec<(String, String)>,
    /// (code, name).
    pub purposes: Vec<(String, String)>,
    pub default_until: String,
    pub today: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(money(0, "CNY"), "0.00 CNY");
        assert_eq!(money(5, "CNY"), "0.05 CNY");
        assert_eq!(money(123_456_789, "CNY"), "1,234,567.89 CNY");
        assert_eq!(money(-100_000, "USD"), "-1,000.00 USD");
        assert_eq!(money(i64::MIN, "X"), "-92,233,720,368,547,758.08 X");
    }
}
