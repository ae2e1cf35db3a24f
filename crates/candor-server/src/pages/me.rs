//! A person's own pages: the overview, the file, the score with its reasons and what would raise
//! it, who looked, consents, and the freeze. Each calls the bureau function the JSON API calls.

use axum::extract::{Extension, RawQuery, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use candor_bureau::{consent, gate, subject, Page};
use candor_file::model::{parse_date, Purpose};
use serde::Deserialize;

use super::text::Text;
use super::views::{self, Chrome, Shown};
use super::{language, see_other, Person};
use crate::routes::me as me_api;
use crate::routes::{with_store, Shared};
use crate::{wire, ApiError};

/// What the page was sent back after (`?done=`), said in the status region.
#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
    as_of: Option<String>,
    after: Option<i64>,
}

/// The query of a page of one's own, read after the session check; a malformed one is a 400.
fn query(raw: &RawQuery) -> Result<Done, ApiError> {
    match raw.0.as_deref() {
        None | Some("") => Ok(Done::default()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| ApiError::bad_request("bad_query", format!("the page's query is not one it takes: {e}"))),
    }
}

/// The status line a `done` names, if it names one the pages know.
fn notice(t: Text, done: Option<&str>) -> Option<String> {
    const KNOWN: &[&str] = &["frozen", "unfrozen", "granted", "revoked", "statement"];
    done.filter(|d| KNOWN.contains(d)).map(|d| t.get(&format!("done-{d}")))
}

/// Runs a page's work, rendering its error page when it fails.
fn page(headers: &HeaderMap, made: Result<Response, ApiError>) -> Response {
    made.unwrap_or_else(|e| views::error(Text::new(language(headers)), &e))
}

pub(super) async fn overview(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q = query(&raw)?;
        let key = person.key;
        let deployed = state.deployed()?;
        let scoring_with = deployed.clone();
        let (frozen, scored) = with_store(&state, move |s, store| {
            let frozen = subject::is_frozen(store, &key)?;
            let scored = match scoring_with {
                Some(d) => Some(subject::own_score(store, &s.rules(), s.now(), &key, &d)?),
                None => None,
            };
            Ok((frozen, scored))
        })
        .await?;
        // Said with the same model that scored, even if another was deployed meanwhile.
        let score = scored
            .zip(deployed)
            .map(|((scoring, recourse), d)| views::ScoreShown::of(t, &wire::own_score(&scoring, &recourse), &d.scorer));
        let c = Chrome::signed_in(t, "/me", &person);
        Ok(views::render(StatusCode::OK, &views::Overview { notice: notice(t, q.done.as_deref()), c, frozen, score }))
    }
    .await;
    page(&headers, made)
}

pub(super) async fn file(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q = query(&raw)?;
        let day = q
            .as_of
            .filter(|d| !d.is_empty())
            .map(|d| parse_date(&d).map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("as_of")))
            .transpose()?;
        let key = person.key;
        let (report, received) = with_store(&state, move |s, store| {
            let now = s.now();
            let report = match day {
                Some(day) => gate::file_as_known_on(store, &s.rules(), now, &key, day)?,
                None => gate::reported_file(store, &s.rules(), now, &key, now.today)?,
            };
            Ok((report, subject::received(store, &key)?))
        })
        .await?;
        let as_of = day.unwrap_or(state.today()).to_string();
        let file = views::FileShown::of(t, &wire::file(&report), &received);
        let c = Chrome::signed_in(t, "/me/file", &person);
        let statement_saved = q.done.as_deref() == Some("statement");
        Ok(views::render(StatusCode::OK, &views::FilePage { c, statement_saved, as_of, file }))
    }
    .await;
    page(&headers, made)
}

pub(super) async fn score(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        // The what-if simulator's choices: `w{characteristic}={bin}`, read after the session check.
        let mut moves = Vec::new();
        for (name, value) in raw
            .0
            .as_deref()
            .map(serde_urlencoded::from_str::<Vec<(String, String)>>)
            .transpose()
            .map_err(|e| ApiError::bad_request("bad_query", format!("the page's query is not one it takes: {e}")))?
            .unwrap_or_default()
        {
            let parsed = name.strip_prefix('w').and_then(|c| c.parse::<usize>().ok()).zip(value.parse::<usize>().ok());
            moves.push(parsed.ok_or_else(|| {
                ApiError::bad_request("bad_what_if", "only what you can act on, to a value it can take")
                    .field("what_if")
            })?);
        }
        let key = person.key;
        let Some(deployed) = state.deployed()? else {
            let c = Chrome::signed_in(t, "/me/score", &person);
            return Ok(views::render(
                StatusCode::OK,
                &views::ScorePage { c, score: None, levers: Vec::new(), what_if: None },
            ));
        };
        let d = deployed.clone();
        let (scoring, recourse) =
            with_store(&state, move |s, store| Ok(subject::own_score(store, &s.rules(), s.now(), &key, &d)?)).await?;
        let what_if = if moves.is_empty() { None } else { Some(subject::what_if(&deployed, &scoring.bins, &moves)?) };
        let levers = subject::levers(&deployed, &scoring.bins)
            .into_iter()
            .map(|l| {
                let picked = moves.iter().find(|(c, _)| *c == l.index).map_or(l.current, |(_, b)| *b);
                views::LeverShown {
                    field: format!("w{}", l.index),
                    name: t.named("feature", &l.name),
                    choices: l
                        .choices
                        .iter()
                        .map(|(bin, rule)| (bin.to_string(), views::bin_words(t, &l.name, rule), *bin == picked))
                        .collect(),
                }
            })
            .collect();
        let score = Some(views::ScoreShown::of(t, &wire::own_score(&scoring, &recourse), &deployed.scorer));
        let c = Chrome::signed_in(t, "/me/score", &person);
        Ok(views::render(StatusCode::OK, &views::ScorePage { c, score, levers, what_if }))
    }
    .await;
    page(&headers, made)
}

/// Entries a page of who looked holds.
const READS_PAGE: u32 = 100;

pub(super) async fn reads(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q = query(&raw)?;
        let page = Page::new(q.after, Some(READS_PAGE))?;
        let key = person.key;
        let leaves = with_store(&state, move |_, store| Ok(subject::leaves_about(store, &key, page)?)).await?;
        let entries = views::entries(t, &leaves.items);
        let c = Chrome::signed_in(t, "/me/reads", &person);
        Ok(views::render(StatusCode::OK, &views::ReadsPage { c, entries, next: leaves.next }))
    }
    .await;
    page(&headers, made)
}

/// The consents page, with the grant form (and the error of a grant that failed).
async fn consents_page(
    state: &Shared,
    person: &Person,
    t: Text,
    status: StatusCode,
    notice: Option<String>,
    error: Option<Shown>,
) -> Result<Response, ApiError> {
    let key = person.key;
    let (list, readers) = with_store(state, move |_, store| {
        let list = consent::consents(store, &key, Page::new(None, Some(candor_bureau::MAX_PAGE))?)?;
        Ok((list.items, consent::readers(store)?))
    })
    .await?;
    let today = state.today();
    let consents = list.iter().map(|c| views::ConsentRow::of(t, &wire::consent(c), today)).collect();
    let readers = readers.iter().map(|o| (o.id.as_str().to_owned(), o.name.clone())).collect();
    let purposes = Purpose::ALL.iter().map(|p| (p.as_str().to_owned(), t.named("purpose", p.as_str()))).collect();
    let default_until = today.saturating_add(time::Duration::days(90)).to_string();
    let c = Chrome::signed_in(t, "/me/consents", person);
    Ok(views::render(
        status,
        &views::ConsentsPage { c, notice, error, consents, readers, purposes, default_until, today: today.to_string() },
    ))
}

pub(super) async fn consents(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q = query(&raw)?;
        consents_page(&state, &person, t, StatusCode::OK, notice(t, q.done.as_deref()), None).await
    }
    .await;
    page(&headers, made)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GrantForm {
    csrf: String,
    org: String,
    purpose: String,
    until: String,
}

pub(super) async fn grant(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let t = Text::new(language(&headers));
    let granted = async {
        let f: GrantForm = super::signed_form(&person.csrf, &body)?;
        let org = me_api::org_id(&f.org)?;
        let purpose = me_api::purpose(&f.purpose)?;
        let until =
            parse_date(&f.until).map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("until"))?;
        let key = person.key;
        with_store(&state, move |s, store| Ok(consent::grant(store, &s.rules(), s.now(), &key, org, purpose, until)?))
            .await
    }
    .await;
    match granted {
        Ok(_) => see_other("/me/consents?done=granted"),
        Err(e) if e.code == "form_expired" || e.status >= 500 => views::error(t, &e),
        Err(e) => {
            let status = e.status_code();
            let shown = Some(Shown::of(t, &e));
            page(&headers, consents_page(&state, &person, t, status, None, shown).await)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeForm {
    csrf: String,
    org: String,
    purpose: String,
}

pub(super) async fn revoke(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let revoked = async {
        let f: RevokeForm = super::signed_form(&person.csrf, &body)?;
        let org = me_api::org_id(&f.org)?;
        let purpose = me_api::purpose(&f.purpose)?;
        let key = person.key;
        with_store(&state, move |s, store| Ok(consent::revoke(store, s.now(), &key, &org, purpose)?)).await?;
        Ok(see_other("/me/consents?done=revoked"))
    }
    .await;
    page(&headers, revoked)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FreezeForm {
    csrf: String,
    /// `on` to place the freeze, `off` to lift it.
    freeze: String,
}

pub(super) async fn freeze(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let switched = async {
        let f: FreezeForm = super::signed_form(&person.csrf, &body)?;
        let placed = match f.freeze.as_str() {
            "on" => true,
            "off" => false,
            _ => return Err(ApiError::bad_request("bad_form", "`freeze` is `on` or `off`").field("freeze")),
        };
        let key = person.key;
        with_store(&state, move |s, store| Ok(subject::set_freeze(store, &s.rules(), s.now(), &key, placed)?)).await?;
        Ok(see_other(if placed { "/me?done=frozen" } else { "/me?done=unfrozen" }))
    }
    .await;
    page(&headers, switched)
}

/// The statutory copy: everything the bureau holds about the person, with sources, as JSON to
/// keep (the file page prints as the readable copy).
pub(super) async fn download(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
) -> Response {
    let made = async {
        let key = person.key;
        let all =
            with_store(&state, move |s, store| Ok(subject::everything(store, &s.rules(), s.now(), &key)?)).await?;
        let today = state.today();
        let json = serde_json::to_vec_pretty(&wire::everything(&all, today)).map_err(|_| ApiError::internal())?;
        let disposition = format!("attachment; filename=\"candor-my-file-{today}.json\"");
        Ok((
            [
                (axum::http::header::CONTENT_TYPE, "application/json".to_owned()),
                (axum::http::header::CONTENT_DISPOSITION, disposition),
            ],
            json,
        )
            .into_response())
    }
    .await;
    page(&headers, made)
}

/// What changed in the person's file, newest first.
pub(super) async fn alerts(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let key = person.key;
        let list = with_store(&state, move |s, store| Ok(subject::alerts(store, &s.rules(), s.now(), &key)?)).await?;
        let alerts = list.iter().map(|(ms, change)| views::alert(t, *ms, change)).collect();
        let c = Chrome::signed_in(t, "/me/alerts", &person);
        Ok(views::render(StatusCode::OK, &views::AlertsPage { c, alerts }))
    }
    .await;
    page(&headers, made)
}

/// The statutory copy as a page to print: everything the bureau holds about the person.
pub(super) async fn copy(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let key = person.key;
        let (all, received) = with_store(&state, move |s, store| {
            Ok((subject::everything(store, &s.rules(), s.now(), &key)?, subject::received(store, &key)?))
        })
        .await?;
        let today = state.today();
        let page = views::CopyPage {
            c: Chrome::signed_in(t, "/me/copy", &person),
            as_of: today.to_string(),
            file: views::FileShown::of(t, &wire::file(&all.report), &received),
            consents: all.consents.iter().map(|c| views::ConsentRow::of(t, &wire::consent(c), today)).collect(),
            disputes: all.disputes.iter().map(|d| super::disputes::row(t, &wire::dispute(d))).collect(),
            entries: views::entries(t, &all.leaves),
        };
        Ok(views::render(StatusCode::OK, &page))
    }
    .await;
    page(&headers, made)
}

super::signed!(GrantForm, RevokeForm, FreezeForm);
