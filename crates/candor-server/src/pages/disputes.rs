//! Disputes from the portal: pick a record of the file, say what is wrong (a reason from the list
//! and one's own words), attach a document as evidence, and follow the dispute's steps to its
//! outcome, with a receipt of what was sent; ask for human review of a decision. The same bureau
//! functions as the JSON API's, through the same claim check (`routes::disputes::claim`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Multipart, Path, RawQuery, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use candor_bureau::{dispute, gate, Page};
use candor_file::disputes::Record;
use candor_file::model::{parse_reference, ClaimReason};
use serde::Deserialize;

use super::text::{Arg, Text};
use super::views::{self, Chrome, Shown};
use super::{language, see_other, Person};
use crate::routes::disputes::{claim, open_dispute};
use crate::routes::{with_store, Shared};
use crate::{wire, ApiError};

/// Largest body the dispute form takes: the evidence and the words around it.
pub const DISPUTE_BODY_BYTES: usize = candor_file::claim::MAX_EVIDENCE_BYTES + (64 << 10);

/// A record the person can pick: its value in the form (`kind|reference`) and its words.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The records of the file, as choices, the one named by `picked` selected.
fn choices(t: Text, file: &wire::File, picked: Option<&str>) -> Vec<Choice> {
    let mut out = Vec::new();
    let mut push = |value: String, label: String| {
        let selected = picked == Some(value.as_str());
        out.push(Choice { value, label, selected });
    };
    for a in &file.accounts {
        let kind = t.named("kind", &a.kind);
        push(
            format!("account|{}", a.account),
            t.with(
                "record-account",
                &[("kind", Arg::Text(&kind)), ("furnisher", Arg::Text(&a.furnisher)), ("ref", Arg::Text(&a.account))],
            ),
        );
        for r in a.reports.iter().rev() {
            let month = t.with("record-report", &[("ref", Arg::Text(&a.account)), ("month", Arg::Text(&r.month))]);
            push(format!("report|{} {}", a.account, r.month), month);
        }
    }
    for c in &file.court_records {
        push(
            format!("court_record|{}", c.case),
            t.with("record-court", &[("court", Arg::Text(&c.court)), ("case", Arg::Text(&c.case))]),
        );
    }
    for i in &file.inquiries {
        push(
            format!("inquiry|{} {}", i.org, i.date),
            t.with("record-inquiry", &[("org", Arg::Text(&i.org)), ("date", Arg::Text(&i.date))]),
        );
    }
    out
}

/// A dispute as the list shows it.
pub(crate) struct DisputeRow {
    pub id: i64,
    pub what: String,
    pub state: String,
    pub opened: String,
    pub due: String,
    pub overdue: bool,
}

pub(crate) fn row(t: Text, d: &wire::Dispute) -> DisputeRow {
    DisputeRow {
        id: d.id,
        what: format!("{} · {}", t.named("record-kind", &d.record_kind), d.record_ref),
        state: t.named("state", &d.state),
        opened: views::day(d.opened_ms),
        due: views::day(d.due_ms),
        overdue: d.overdue,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    record: Option<String>,
}

/// The disputes page with the form (and the error of a dispute that was refused).
async fn list_page(
    state: &Shared,
    person: &Person,
    t: Text,
    status: StatusCode,
    picked: Option<String>,
    error: Option<Shown>,
) -> Result<Response, ApiError> {
    let key = person.key;
    let (report, list) = with_store(state, move |s, store| {
        let (rules, now) = (s.rules(), s.now());
        let report = gate::reported_file(store, &rules, now, &key, now.today)?;
        let list = dispute::of_subject(store, &rules, now, &key, Page::new(None, Some(candor_bureau::MAX_PAGE))?)?;
        Ok((report, list))
    })
    .await?;
    let file = wire::file(&report);
    let records = choices(t, &file, picked.as_deref());
    let disputes = list.items.iter().rev().map(|d| row(t, &wire::dispute(d))).collect();
    let reasons = ClaimReason::ALL.iter().map(|r| (r.as_str().to_owned(), t.named("claim", r.as_str()))).collect();
    let c = Chrome::signed_in(t, "/me/disputes", person);
    Ok(views::render(status, &views::DisputesPage { c, error, records, reasons, disputes }))
}

pub(super) async fn list(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q: ListQuery = match raw.0.as_deref() {
            None | Some("") => ListQuery::default(),
            Some(q) => serde_urlencoded::from_str(q).map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?,
        };
        list_page(&state, &person, t, StatusCode::OK, q.record, None).await
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

/// The fields of the dispute form, as read from its parts.
#[derive(Default)]
struct DisputeForm {
    csrf: String,
    record: String,
    reason: String,
    text: String,
    theft_report: String,
    evidence: Option<Vec<u8>>,
}

/// Reads the dispute form's parts; an unknown part, a repeated one or one too large is refused.
async fn read_form(mut parts: Multipart) -> Result<DisputeForm, ApiError> {
    let bad = |why: String| ApiError::bad_request("bad_form", why);
    let mut f = DisputeForm::default();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(part) = parts.next_field().await.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the evidence is larger than the bureau accepts")
                .field("evidence")
        }
        _ => bad(format!("the form could not be read: {e}")),
    })? {
        let name = part.name().unwrap_or_default().to_owned();
        if !seen.insert(name.clone()) {
            return Err(bad(format!("the field `{name}` came twice")));
        }
        let bytes = part.bytes().await.map_err(|e| bad(format!("the field `{name}` could not be read: {e}")))?;
        let text = || String::from_utf8(bytes.to_vec()).map_err(|_| bad(format!("the field `{name}` is not text")));
        match name.as_str() {
            "csrf" => f.csrf = text()?,
            "record" => f.record = text()?,
            "reason" => f.reason = text()?,
            "text" => f.text = text()?,
            "theft_report" => f.theft_report = text()?,
            // A file input left empty sends a part with no bytes.
            "evidence" => f.evidence = (!bytes.is_empty()).then(|| bytes.to_vec()),
            other => return Err(bad(format!("the form has no field `{other}`"))),
        }
    }
    Ok(f)
}

pub(super) async fn open(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    parts: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let t = Text::new(language(&headers));
    let mut picked = None;
    let opened = async {
        let parts = parts.map_err(|e| ApiError::bad_request("bad_form", format!("the form could not be read: {e}")))?;
        let f = read_form(parts).await?;
        super::check_token(&person.csrf, &f.csrf)?;
        picked = Some(f.record.clone());
        let (kind, reference) = f
            .record
            .split_once('|')
            .ok_or_else(|| ApiError::bad_request("bad_record_ref", "pick a record of your file").field("record"))?;
        let reference = parse_reference(reference)
            .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record"))?;
        let record =
            Record::parse(kind, &reference).map_err(|e| ApiError::bad_request("bad_record_ref", e).field("record"))?;
        let theft = Some(f.theft_report.trim())
            .filter(|r| !r.is_empty())
            .map(parse_reference)
            .transpose()
            .map_err(|e| ApiError::bad_request("bad_identity_theft_report", e.to_string()).field("theft_report"))?;
        if f.reason.is_empty() {
            return Err(ApiError::bad_request("bad_claim", "say what is wrong: a reason from the list").field("reason"));
        }
        let sealed = claim(&state, &person.key, Some(&f.reason), Some(&f.text), f.evidence)?;
        open_dispute(&state, person.key, record, theft, sealed).await
    }
    .await;
    match opened {
        Ok(view) => see_other(&format!("/me/disputes/{}?done=opened", view.dispute.id)),
        Err(e) if e.code == "form_expired" || e.status >= 500 => views::error(t, &e),
        Err(e) => {
            let status = e.status_code();
            let shown = Some(Shown::of(t, &e));
            list_page(&state, &person, t, status, picked, shown).await.unwrap_or_else(|e| views::error(t, &e))
        }
    }
}

/// A dispute's number from its path.
fn dispute_id(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    id.ok()
        .and_then(|Path(i)| i.parse().ok())
        .ok_or_else(|| ApiError::bad_request("bad_path", "a dispute is named by its number").field("dispute"))
}

/// A step of a dispute, as the timeline shows it: a decision with its explanation.
pub(crate) struct StepShown {
    pub when: String,
    pub what: String,
    pub why: Option<String>,
}

pub(crate) fn step_shown(t: Text, state: candor_file::model::DisputeState, ms: i64, why: Option<&str>) -> StepShown {
    StepShown { when: views::when(ms), what: t.named("step", state.as_str()), why: why.map(|w| t.named("explain", w)) }
}

pub(super) async fn one(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let id = dispute_id(id)?;
        let just_opened = raw.0.as_deref() == Some("done=opened");
        let key = person.key;
        let tl =
            with_store(&state, move |s, store| Ok(dispute::timeline(store, &s.keys, &s.rules(), s.now(), &key, id)?))
                .await?;
        let d = wire::dispute(&tl.view);
        let steps = tl.steps.iter().map(|(st, ms, why)| step_shown(t, *st, *ms, why.as_deref())).collect();
        let receipt = tl.receipt.as_ref().map(|r| views::receipt(t, r));
        let page = views::DisputePage {
            c: Chrome::signed_in(t, "/me/disputes", &person),
            evidence_href: format!("/me/disputes/{id}/evidence"),
            notice: just_opened.then(|| t.get("done-opened")),
            row: row(t, &d),
            decided: !candor_file::disputes::is_pending(tl.view.state),
            steps,
            receipt,
        };
        Ok(views::render(StatusCode::OK, &page))
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

/// The evidence the person sent, as they sent it: a download, never shown inline.
pub(super) async fn evidence(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let made = async {
        let id = dispute_id(id)?;
        let key = person.key;
        let (media, bytes) =
            with_store(&state, move |s, store| Ok(dispute::evidence(store, &s.keys, &key, id)?)).await?;
        Ok(evidence_download(id, media, bytes))
    }
    .await;
    made.unwrap_or_else(|e| views::error(Text::new(language(&headers)), &e))
}

/// Evidence as a download, never shown inline (`nosniff` is on every page's answer).
pub(crate) fn evidence_download(id: i64, media: candor_file::claim::MediaType, bytes: Vec<u8>) -> Response {
    let extension = match media {
        candor_file::claim::MediaType::Pdf => "pdf",
        candor_file::claim::MediaType::Png => "png",
        candor_file::claim::MediaType::Jpeg => "jpg",
    };
    let disposition = format!("attachment; filename=\"dispute-{id}-evidence.{extension}\"");
    (
        [
            (axum::http::header::CONTENT_TYPE, media.as_str().to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewForm {
    csrf: String,
    leaf: i64,
}

/// Asks for human review of a decision made on the person's score.
pub(super) async fn review(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let made = async {
        let f: ReviewForm = super::signed_form(&person.csrf, &body)?;
        let key = person.key;
        let view =
            with_store(&state, move |s, store| Ok(dispute::request_review(store, &s.rules(), s.now(), &key, f.leaf)?))
                .await?;
        Ok(see_other(&format!("/me/disputes/{}?done=opened", view.dispute.id)))
    }
    .await;
    made.unwrap_or_else(|e| views::error(Text::new(language(&headers)), &e))
}

super::signed!(ReviewForm);
