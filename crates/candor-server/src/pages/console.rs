//! The ombudsman's console (`/console`): staff the operator registered set up a passphrase and a
//! second factor with their one-time setup code, and sign in with both, always. The queue by due
//! date; a case page (every opening a log leaf about the person) with the record, the person's
//! claim and evidence, the furnisher's answer and each step's log entry checked against the
//! checkpoint; a decision with one of the published explanations, previewed in both languages
//! before it is confirmed; and the witness page, which checks that the bureau's latest
//! checkpoint extends the last one cosigned and takes the cosignature made with the witness's
//! own key (which never comes near the bureau).

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Extension, Path, RawQuery, Request, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use candor_bureau::{dispute, log_view, staff, Page};
use candor_file::activation::ActivationCode;
use candor_store::StaffRow;
use serde::Deserialize;

use super::text::{Lang, Text};
use super::views::{self, Chrome, Shown};
use super::{cookie, form_token, language, see_other};
use super::{see_other_with, stranger_page};
use crate::listener::Peer;
use crate::routes::{token_hash, with_store, Shared};
use crate::{guard, wire, ApiError};

/// The console's session cookie, apart from a person's.
pub const STAFF_COOKIE: &str = "__Host-candor-console";

/// A signed-in member of staff, as the session check found them.
#[derive(Clone)]
pub(crate) struct Staff {
    pub member: StaffRow,
    pub csrf: String,
    pub session: [u8; 32],
}

/// Checks the console session before the page reads anything of the request; without one, the
/// member is sent to sign in.
pub(super) async fn require_staff(Extract(state): Extract<Shared>, mut req: Request, next: Next) -> Response {
    let t = Text::new(language(req.headers()));
    let token = cookie(req.headers(), STAFF_COOKIE).filter(|t| t.starts_with("stf_")).map(str::to_owned);
    let found = async {
        let Some(token) = token else {
            return Ok(None);
        };
        let hash = token_hash(&token);
        let now = state.now_ms();
        let id = match state.staff_sessions.lock().map_err(|_| ApiError::internal())?.get(&hash) {
            Some((id, expires)) if *expires > now => id.clone(),
            _ => return Ok(None),
        };
        crate::routes::rate(&state, hash)?;
        let member = with_store(&state, move |_, store| Ok(staff::member(store, &id)?)).await?;
        Ok(member.map(|member| Staff { member, csrf: form_token(&token), session: hash }))
    }
    .await;
    match found {
        Ok(Some(staff)) => {
            req.extensions_mut().insert(staff);
            next.run(req).await
        }
        Ok(None) => Redirect::to("/console/sign-in").into_response(),
        Err(e) => views::error(t, &e),
    }
}

pub(super) async fn sign_in_page(headers: HeaderMap, raw: RawQuery) -> Response {
    let ready = raw.0.as_deref() == Some("ready=1");
    stranger_page(
        &headers,
        StatusCode::OK,
        |c| {
            let notice = ready.then(|| c.t.get("console-ready"));
            askama::Template::render(&views::StaffSignIn { c, error: None, notice })
        },
        "/console/sign-in",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StaffSignInForm {
    csrf: String,
    staff: String,
    passphrase: String,
    code: String,
}

/// After a successful attempt: the member's count starts again and the address's is undone.
fn succeeded(state: &Shared, keys: &[[u8; 32]]) -> Result<(), ApiError> {
    if let Some((id, addresses)) = keys.split_first() {
        state.throttle.succeeded(id)?;
        addresses.iter().try_for_each(|k| state.throttle.undo(k))?;
    }
    Ok(())
}

/// Counts an attempt against the member and the caller's address before it is tried; refused
/// while either is locked out. The keys, for [`succeeded`].
async fn begin_attempt(
    state: &Shared,
    id: &str,
    from: Option<Extension<ConnectInfo<Peer>>>,
) -> Result<Vec<[u8; 32]>, ApiError> {
    let mut keys = vec![staff_key(id)];
    keys.extend(from.map(|Extension(ConnectInfo(Peer(addr)))| guard::address_key(&addr)));
    guard::attempt(&state.throttle, &keys, state.now_ms()).await?;
    Ok(keys)
}

/// The throttle's key for a member of staff.
fn staff_key(id: &str) -> [u8; 32] {
    token_hash(&format!("staff\0{id}"))
}

pub(super) async fn sign_in(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let signed = async {
        let f: StaffSignInForm = super::stranger_form(&headers, &body)?;
        staff::check_id(&f.staff)?;
        let (keys, now_ms) = (begin_attempt(&state, &f.staff, from).await?, state.now_ms());
        let id = f.staff.clone();
        let stored = with_store(&state, move |_, store| Ok(staff::passphrase_hash(store, &id)?)).await?;
        let passphrase = f.passphrase;
        let matches =
            guard::hashing(&state.hashing, move || guard::passphrase_matches(stored.as_deref(), &passphrase)).await?;
        let bad = || {
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "unknown member, or a wrong passphrase or code")
        };
        if !matches {
            return Err(bad());
        }
        let (id, code) = (f.staff.clone(), f.code);
        let member =
            with_store(&state, move |s, store| Ok(staff::sign_in(store, &s.keys, s.now(), &id, &code)?)).await?;
        if member.is_none() {
            return Err(bad());
        }
        succeeded(&state, &keys)?;
        let mut raw = [0u8; 32];
        getrandom::getrandom(&mut raw).map_err(|_| ApiError::internal())?;
        let token = format!("stf_{}", hex::encode(raw));
        let expires = state.now_ms() + state.config.session_minutes * 60_000;
        let mut sessions = state.staff_sessions.lock().map_err(|_| ApiError::internal())?;
        sessions.retain(|_, (_, until)| *until > now_ms);
        sessions.insert(token_hash(&token), (f.staff, expires));
        Ok((token, state.config.session_minutes * 60))
    }
    .await;
    match signed {
        Ok((token, max_age)) => see_other_with(
            "/console",
            &format!("{STAFF_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"),
        ),
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                askama::Template::render(&views::StaffSignIn { c, error, notice: None })
            },
            "/console/sign-in",
        ),
    }
}

pub(super) async fn setup_page(headers: HeaderMap) -> Response {
    stranger_page(
        &headers,
        StatusCode::OK,
        |c| askama::Template::render(&views::StaffSetup { c, error: None, authenticator: None }),
        "/console/setup",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetupForm {
    csrf: String,
    staff: String,
    setup_code: String,
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    passphrase_again: String,
    /// On the second step: the code the new authenticator shows.
    #[serde(default)]
    code: Option<String>,
}

/// The authenticator a member is shown at the first step, with what the second step resends.
pub(crate) struct AuthenticatorShown {
    pub staff: String,
    pub setup_code: String,
    pub secret: String,
    pub uri: String,
}

/// Setting up: first the setup code and a passphrase (the answer shows the authenticator's
/// secret), then a code from the authenticator, which puts both in force.
pub(super) async fn setup(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let done = async {
        let f: SetupForm = super::stranger_form(&headers, &body)?;
        staff::check_id(&f.staff)?;
        let code = ActivationCode::parse(&f.setup_code)
            .map_err(|e| ApiError::bad_request("bad_activation_code", e).field("setup_code"))?;
        let keys = begin_attempt(&state, &f.staff, from).await?;
        let id = f.staff.clone();
        if let Some(totp) = f.code {
            with_store(&state, move |s, store| Ok(staff::confirm_setup(store, &s.keys, s.now(), &id, &code, &totp)?))
                .await?;
            succeeded(&state, &keys)?;
            return Ok(None);
        }
        super::same_passphrase(&f.passphrase, &f.passphrase_again)?;
        candor_bureau::subject::check_passphrase(&f.passphrase)?;
        let passphrase = f.passphrase;
        let hash = guard::hashing(&state.hashing, move || crate::hash_passphrase(&passphrase)).await?;
        let mut secret = [0u8; candor_bureau::second_factor::SECRET_BYTES];
        let mut nonce = [0u8; candor_file::secret::NONCE_BYTES];
        getrandom::getrandom(&mut secret).map_err(|_| ApiError::internal())?;
        getrandom::getrandom(&mut nonce).map_err(|_| ApiError::internal())?;
        let shown = code.to_string();
        let auth = with_store(&state, move |s, store| {
            Ok(staff::set_up(store, &s.keys, s.now(), &id, &code, &hash, (secret, nonce))?)
        })
        .await?;
        succeeded(&state, &keys)?;
        Ok::<_, ApiError>(Some(AuthenticatorShown {
            staff: f.staff,
            setup_code: shown,
            secret: auth.secret_base32,
            uri: auth.uri,
        }))
    }
    .await;
    match done {
        Ok(None) => see_other("/console/sign-in?ready=1"),
        Ok(Some(authenticator)) => stranger_page(
            &headers,
            StatusCode::OK,
            |c| askama::Template::render(&views::StaffSetup { c, error: None, authenticator: Some(authenticator) }),
            "/console/setup",
        ),
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                askama::Template::render(&views::StaffSetup { c, error, authenticator: None })
            },
            "/console/setup",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenOnly {
    csrf: String,
}

pub(super) async fn sign_out(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let done = (|| {
        let _: TokenOnly = super::signed_form(&staff.csrf, &body)?;
        state.staff_sessions.lock().map_err(|_| ApiError::internal())?.remove(&staff.session);
        Ok::<_, ApiError>(())
    })();
    match done {
        Ok(()) => see_other_with(
            "/console/sign-in",
            &format!("{STAFF_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
        ),
        Err(e) => views::error(Text::new(language(&headers)), &e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QueueQuery {
    furnisher: Option<String>,
    kind: Option<String>,
    after: Option<i64>,
}

/// A case in the queue.
pub(crate) struct QueueRow {
    pub id: i64,
    pub what: String,
    pub furnisher: String,
    pub state: String,
    pub due: String,
    pub overdue: bool,
    /// Due within 3 days.
    pub due_soon: bool,
}

pub(super) async fn queue(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let q: QueueQuery = match raw.0.as_deref() {
            None | Some("") => QueueQuery::default(),
            Some(q) => serde_urlencoded::from_str(q).map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?,
        };
        let page = Page::new(q.after, Some(candor_bureau::MAX_PAGE))?;
        let (furnisher, kind) =
            (q.furnisher.clone().filter(|f| !f.is_empty()), q.kind.clone().filter(|k| !k.is_empty()));
        let list = with_store(&state, move |s, store| {
            let filter = dispute::QueueFilter { furnisher: furnisher.as_deref(), record_kind: kind.as_deref() };
            Ok(dispute::queue(store, &s.rules(), s.now(), page, filter)?)
        })
        .await?;
        let rows = list
            .items
            .iter()
            .map(|v| {
                let d = wire::dispute(v);
                QueueRow {
                    id: d.id,
                    what: format!("{} · {}", t.named("record-kind", &d.record_kind), d.record_ref),
                    furnisher: d.furnisher.clone().unwrap_or_default(),
                    state: t.named("state", &d.state),
                    due: views::day(d.due_ms),
                    overdue: v.overdue,
                    due_soon: v.due_soon,
                }
            })
            .collect();
        let c = Chrome::staff(t, "/console", staff.csrf.clone());
        let kinds = ["account", "report", "inquiry", "court_record", "decision"]
            .iter()
            .map(|k| ((*k).to_owned(), t.named("record-kind", k)))
            .collect();
        Ok(views::render(
            StatusCode::OK,
            &views::QueuePage {
                c,
                rows,
                furnisher: q.furnisher.unwrap_or_default(),
                kind: q.kind.unwrap_or_default(),
                kinds,
                next: list.next,
            },
        ))
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

fn case_id(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    id.ok()
        .and_then(|Path(i)| i.parse().ok())
        .ok_or_else(|| ApiError::bad_request("bad_path", "a case is named by its dispute's number").field("dispute"))
}

/// The outcomes a case may end with, and the explanations of each, in words.
fn choices(t: Text, review: bool) -> Vec<views::OutcomeChoice> {
    use candor_file::model::DisputeState as S;
    let outcomes: &[S] = if review { &[S::Upheld, S::Overridden] } else { &[S::Verified, S::Corrected, S::Deleted] };
    outcomes
        .iter()
        .map(|o| {
            let explanations = dispute::EXPLANATIONS
                .iter()
                .filter(|(_, out)| out == o)
                .map(|(id, _)| ((*id).to_owned(), t.named("explain", id)))
                .collect();
            views::OutcomeChoice { outcome: o.as_str().to_owned(), words: t.named("outcome", o.as_str()), explanations }
        })
        .collect()
}

/// The case page, opened (and logged) for this member; with a preview of a decision if one is
/// being made.
async fn case_page(
    state: &Shared,
    staff: &Staff,
    t: Text,
    id: i64,
    preview: Option<views::PreviewShown>,
    error: Option<(StatusCode, Shown)>,
) -> Result<Response, ApiError> {
    let member = staff.member.clone();
    let (case, checks) = with_store(state, move |s, store| {
        let case = dispute::open_case(store, &s.keys, &s.rules(), s.now(), &member, id)?;
        // Each step's entry, checked against one checkpoint signed now.
        let checks = match s.log_signer.as_ref() {
            None => Vec::new(),
            Some(signer) => {
                let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
                let indexes: Vec<i64> = case.entries.iter().map(|e| e.index).collect();
                let checked = log_view::checked_inclusions(store, &mut tree, signer, s.now(), &indexes, &case.owner)?;
                case.entries.iter().zip(checked).map(|(e, c)| (e.index, e.leaf.kind(), c.verified)).collect()
            }
        };
        Ok((case, checks))
    })
    .await?;
    let tl = &case.timeline;
    let d = wire::dispute(&tl.view);
    let steps = tl.steps.iter().map(|(st, ms, why)| super::disputes::step_shown(t, *st, *ms, why.as_deref())).collect();
    let receipt = tl.receipt.as_ref().map(|r| views::receipt(t, r));
    let record = case.record.as_ref().map(|r| views::record_now(t, r));
    let entries = checks
        .into_iter()
        .map(|(index, kind, verified)| views::CheckedEntry { index, kind: kind.to_owned(), verified })
        .collect();
    let review = d.record_kind == candor_file::disputes::REVIEW_KIND;
    let decided = !candor_file::disputes::is_pending(tl.view.state);
    let page = views::CasePage {
        c: Chrome::staff(t, "/console", staff.csrf.clone()),
        evidence_href: format!("/console/disputes/{id}/evidence"),
        id,
        what: format!("{} · {}", t.named("record-kind", &d.record_kind), d.record_ref),
        state: t.named("state", &d.state),
        furnisher: d.furnisher.clone().unwrap_or_default(),
        due: views::day(d.due_ms),
        overdue: d.overdue,
        decided,
        record,
        receipt,
        steps,
        entries,
        outcomes: choices(t, review),
        preview,
        error: error.as_ref().map(|(_, shown)| shown.clone()),
    };
    Ok(views::render(error.map_or(StatusCode::OK, |(status, _)| status), &page))
}

pub(super) async fn case(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async { case_page(&state, &staff, t, case_id(id)?, None, None).await }.await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecideForm {
    csrf: String,
    /// `outcome:explanation`, one of the published pairs.
    ruling: String,
    /// Present on the confirming send, after the preview.
    #[serde(default)]
    confirm: Option<String>,
}

/// The outcome and explanation a ruling names, if it is one of the published pairs.
fn ruling_of(text: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad_request("bad_explanation", "pick an outcome and its explanation").field("ruling");
    let (outcome, explanation) = text.split_once(':').ok_or_else(bad)?;
    dispute::EXPLANATIONS
        .iter()
        .find(|(e, o)| *e == explanation && o.as_str() == outcome)
        .map(|_| (outcome.to_owned(), explanation.to_owned()))
        .ok_or_else(bad)
}

/// A decision: first a preview of what the person and the furnisher will read, in both
/// languages; then, confirmed, the decision itself.
pub(super) async fn decide(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: axum::body::Bytes,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let id = case_id(id)?;
        let f: DecideForm = super::signed_form(&staff.csrf, &body)?;
        let (outcome, explanation) = match ruling_of(&f.ruling) {
            Ok(pair) => pair,
            Err(e) => return case_page(&state, &staff, t, id, None, Some((e.status_code(), Shown::of(t, &e)))).await,
        };
        if f.confirm.as_deref() != Some("yes") {
            let words = |lang: Lang| {
                let tl = Text::new(lang);
                (tl.named("outcome", &outcome), tl.named("explain", &explanation))
            };
            let (en, zh) = (words(Lang::En), words(Lang::ZhCn));
            let preview = views::PreviewShown {
                ruling: f.ruling,
                en_outcome: en.0,
                en_explanation: en.1,
                zh_outcome: zh.0,
                zh_explanation: zh.1,
            };
            return case_page(&state, &staff, t, id, Some(preview), None).await;
        }
        let reviewer = staff.member.org.clone();
        let decided = crate::routes::disputes::decide_dispute(
            &state,
            reviewer,
            id,
            &outcome,
            Some(explanation),
            Some(staff.member.id.clone()),
        )
        .await;
        match decided {
            Ok(_) => Ok(see_other(&format!("/console/disputes/{id}"))),
            Err(e) if e.status < 500 => {
                case_page(&state, &staff, t, id, None, Some((e.status_code(), Shown::of(t, &e)))).await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

pub(super) async fn evidence(
    Extract(state): Extract<Shared>,
    Extension(_staff): Extension<Staff>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let made = async {
        let id = case_id(id)?;
        let (media, bytes) =
            with_store(&state, move |s, store| Ok(dispute::case_evidence(store, &s.keys, id)?)).await?;
        Ok(super::disputes::evidence_download(id, media, bytes))
    }
    .await;
    made.unwrap_or_else(|e| views::error(Text::new(language(&headers)), &e))
}

/// The witness page: the checkpoint the bureau signs now, the last one cosigned, and whether the
/// first extends the second (checked here with the consistency proof).
async fn witness_page(
    state: &Shared,
    staff: &Staff,
    t: Text,
    notice: Option<String>,
    error: Option<Shown>,
) -> Result<Response, ApiError> {
    let (latest, cosigned, consistent) = with_store(state, move |s, store| {
        let signer = s.log_signer.as_ref().ok_or_else(|| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key")
        })?;
        let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
        let latest = log_view::checkpoint(store, &mut tree, signer, s.now())?;
        let cosigned = log_view::latest_cosigned(store).ok();
        let consistent = match cosigned.as_deref().map(candor_log::SignedCheckpoint::parse) {
            Some(Ok(old)) => {
                let new = candor_log::SignedCheckpoint::parse(&latest).map_err(|_| ApiError::internal())?;
                let proof = log_view::consistency(store, &mut tree, old.checkpoint.size, new.checkpoint.size)?;
                Some(
                    candor_log::verify_consistency(
                        old.checkpoint.size,
                        new.checkpoint.size,
                        &proof,
                        &old.checkpoint.root,
                        &new.checkpoint.root,
                    )
                    .is_ok(),
                )
            }
            _ => None,
        };
        Ok((latest, cosigned, consistent))
    })
    .await?;
    let c = Chrome::staff(t, "/console/witness", staff.csrf.clone());
    Ok(views::render(StatusCode::OK, &views::WitnessPage { c, latest, cosigned, consistent, notice, error }))
}

pub(super) async fn witness(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let notice = (raw.0.as_deref() == Some("done=cosigned")).then(|| t.get("console-cosigned"));
    witness_page(&state, &staff, t, notice, None).await.unwrap_or_else(|e| views::error(t, &e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CosignForm {
    csrf: String,
    note: String,
}

/// Takes back a checkpoint the witness cosigned with its own key (`candor log cosign`).
pub(super) async fn cosign(
    Extract(state): Extract<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let f: CosignForm = super::signed_form(&staff.csrf, &body)?;
        let org = staff.member.org.clone();
        let note = f.note.replace("\r\n", "\n");
        let note = if note.ends_with('\n') { note } else { format!("{note}\n") };
        let done = with_store(&state, move |s, store| {
            let signer = s.log_signer.as_ref().ok_or_else(ApiError::internal)?;
            let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
            Ok(log_view::cosign(store, &mut tree, s.now(), &org, &signer.verifier(), &note)?)
        })
        .await;
        match done {
            Ok(_) => Ok(see_other("/console/witness?done=cosigned")),
            Err(e) if e.status < 500 => witness_page(&state, &staff, t, None, Some(Shown::of(t, &e))).await,
            Err(e) => Err(e),
        }
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}

super::signed!(TokenOnly, DecideForm, CosignForm, StaffSignInForm, SetupForm);
