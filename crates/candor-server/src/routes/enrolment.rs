//! Enrolment (with the activation code the bureau sent the person), the operator's
//! invitations, sign-in and withdrawal.

use axum::extract::{ConnectInfo, Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::second_factor;
use candor_bureau::subject::Enrolled;
use candor_file::activation::ActivationCode;
use candor_file::ids::SubjectKey;
use candor_store::SubjectEntry;
use serde::Deserialize;

use super::{identify, ok, parse_json, token_hash, with_store, Answer, Body, Caller, Shared};
use crate::listener::Peer;
use crate::{guard, wire, ApiError, State};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    scheme: String,
    number: String,
    passphrase: String,
    /// With a second factor on: the 6 digits the authenticator shows, or a recovery code.
    #[serde(default)]
    code: Option<String>,
}

/// An enrolment: the identifier, the proof that the person is who they say (the activation code
/// the bureau sent them, or answers to the questions from their file), and the passphrase they
/// choose.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Enrolment {
    scheme: String,
    number: String,
    /// As printed on the letter: 20 letters and digits (case, spaces and dashes do not matter).
    #[serde(default)]
    activation_code: Option<String>,
    /// Answers to `POST /v1/subjects/questions`, for a person without a code.
    #[serde(default)]
    answers: Option<Answers>,
    passphrase: String,
}

/// Answers to the enrolment questions, by question id.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Answers {
    /// The ids of the organisations picked (perhaps none).
    organisations: Vec<String>,
    largest_limit: String,
    oldest_account: String,
}

/// Whose questions to ask.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Asking {
    scheme: String,
    number: String,
}

/// The least time a question or an answer takes, so how long the bureau took to read a file does
/// not say whether it has one.
const PROOFING_FLOOR: std::time::Duration = std::time::Duration::from_millis(60);

/// The questions from a person's own file, with decoys (the same for an identifier the bureau
/// does not know).
pub(super) async fn questions(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    Body(body): Body,
) -> Answer {
    let a: Asking = parse_json(&body)?;
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let asked = questions_for(&state, from, &a.scheme, &a.number).await?;
    ok(StatusCode::OK, wire::questions(&asked))
}

/// The enrolment questions for an identifier — the API's and the portal's one way: limited per
/// address (each asking reads a file), no sooner than [`PROOFING_FLOOR`].
pub(crate) async fn questions_for(
    state: &Shared,
    from: Option<std::net::SocketAddr>,
    scheme: &str,
    number: &str,
) -> Result<Vec<candor_bureau::proofing::Question>, ApiError> {
    let started = tokio::time::Instant::now();
    if let Some(addr) = from {
        super::rate(state, guard::address_key(&addr))?;
    }
    let key = state.keys.subject_key(&identify(scheme, number)?);
    let asked =
        with_store(state, move |s, store| Ok(candor_bureau::proofing::questions(store, &s.rules(), s.now(), &key)?))
            .await;
    tokio::time::sleep_until(started + PROOFING_FLOOR).await;
    asked
}

/// The throttle's keys for an attempt: the identifier, and the caller's address when known.
fn attempt_keys(key: &SubjectKey, from: Option<std::net::SocketAddr>) -> Vec<[u8; 32]> {
    let mut keys = vec![key.0];
    keys.extend(from.map(|addr| guard::address_key(&addr)));
    keys
}

/// Counts the attempt against each of its keys (the identifier, the address) before it is
/// tried; refuses while any is locked out.
async fn begin_attempt(state: &Shared, keys: &[[u8; 32]], now_ms: i64) -> Result<(), ApiError> {
    guard::attempt(&state.throttle, keys, now_ms).await
}

/// A successful attempt: the identifier's count starts again, and the address's attempt is
/// undone (many people may share an address).
fn attempt_succeeded(state: &Shared, keys: &[[u8; 32]]) -> Result<(), ApiError> {
    if let Some((id, addresses)) = keys.split_first() {
        state.throttle.succeeded(id)?;
        addresses.iter().try_for_each(|k| state.throttle.undo(k))?;
    }
    Ok(())
}

pub(super) async fn enrol(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    Body(body): Body,
) -> Answer {
    let c: Enrolment = parse_json(&body)?;
    let proof = match (c.activation_code, c.answers) {
        (Some(code), None) => Proof::Code(code),
        (None, Some(a)) => Proof::Answers(candor_bureau::proofing::Answers {
            organisations: a.organisations,
            largest_limit: a.largest_limit,
            oldest_account: a.oldest_account,
        }),
        _ => return Err(ApiError::bad_request(
            "bad_proof",
            "give either `activation_code` (from the bureau's letter) or `answers` (to POST /v1/subjects/questions)",
        )
        .field("activation_code")),
    };
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    ok(StatusCode::CREATED, enrol_person(&state, from, &c.scheme, &c.number, proof, c.passphrase).await?)
}

/// How a person proves who they are at enrolment.
pub(crate) enum Proof {
    /// The activation code as they typed it.
    Code(String),
    Answers(candor_bureau::proofing::Answers),
}

/// Enrols a person — the JSON API's and the portal's one way: the proof parsed, the attempt
/// counted against the identifier and the address, the passphrase hashed before the proof is
/// checked (so a wrong proof takes as long), no answer sooner than [`PROOFING_FLOOR`]; every
/// earlier session of the person ends.
pub(crate) async fn enrol_person(
    state: &Shared,
    from: Option<std::net::SocketAddr>,
    scheme: &str,
    number: &str,
    proof: Proof,
    passphrase: String,
) -> Result<wire::Enrolled, ApiError> {
    let started = tokio::time::Instant::now();
    let id = identify(scheme, number)?;
    enum Checked {
        Code(ActivationCode),
        Answers(candor_bureau::proofing::Answers),
    }
    let proof = match proof {
        Proof::Code(code) => Checked::Code(
            ActivationCode::parse(&code)
                .map_err(|e| ApiError::bad_request("bad_activation_code", e).field("activation_code"))?,
        ),
        Proof::Answers(a) => Checked::Answers(a),
    };
    candor_bureau::subject::check_passphrase(&passphrase)?;
    let entry = SubjectEntry::of(state.keys.subject_key(&id), &id);
    let key = entry.key;
    let (attempt, now_ms) = (attempt_keys(&key, from), state.now_ms());
    begin_attempt(state, &attempt, now_ms).await?;
    // The passphrase is hashed before the proof is checked, so a wrong one takes as long.
    let hash = guard::hashing(&state.hashing, move || crate::hash_passphrase(&passphrase)).await?;
    let enrolled = with_store(state, move |s, store| {
        Ok(match &proof {
            Checked::Code(code) => {
                candor_bureau::subject::enrol(store, &s.keys, &s.rules(), s.now(), &entry, code, &hash)
            }
            Checked::Answers(a) => candor_bureau::proofing::enrol(store, &s.rules(), s.now(), &entry, a, &hash),
        })
    })
    .await;
    tokio::time::sleep_until(started + PROOFING_FLOOR).await;
    let enrolled = enrolled??;
    attempt_succeeded(state, &attempt)?;
    // Whoever held a session of this person's before holds none now.
    state.sessions.lock().map_err(|_| ApiError::internal())?.retain(|_, (k, _)| *k != key);
    let cooling_off_until_ms = match enrolled {
        Enrolled::First => None,
        Enrolled::Again { cooling_off_until_ms } => Some(cooling_off_until_ms),
    };
    Ok(wire::Enrolled { enrolled: true, masked: id.masked(), cooling_off_until_ms })
}

/// Whom the operator invites to enrol.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Invitee {
    scheme: String,
    number: String,
}

/// Issues an activation code for a person, shown this once, to send them out of band.
pub(super) async fn invite(Extract(state): Extract<Shared>, Body(body): Body) -> Answer {
    let who: Invitee = parse_json(&body)?;
    let id = identify(&who.scheme, &who.number)?;
    let entry = SubjectEntry::of(state.keys.subject_key(&id), &id);
    let mut random = [0u8; candor_file::activation::RANDOM_BYTES];
    getrandom::getrandom(&mut random).map_err(|_| ApiError::internal())?;
    let code = ActivationCode::from_random(random);
    let shown = code.to_string();
    let expires_ms = with_store(&state, move |s, store| {
        Ok(candor_bureau::subject::invite(store, &s.keys, &s.rules(), s.now(), &entry, &code)?)
    })
    .await?;
    ok(StatusCode::CREATED, wire::Invitation { masked: id.masked(), activation_code: shown, expires_ms })
}

pub(super) async fn sign_in(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    Body(body): Body,
) -> Answer {
    let c: Credentials = parse_json(&body)?;
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let session = sign_in_person(&state, from, &c.scheme, &c.number, c.passphrase, c.code).await?;
    ok(StatusCode::OK, session)
}

/// Signs a person in — the JSON API's and the portal's one way: counted against the identifier
/// and the address before it is tried, the passphrase checked on a hashing thread (against hashes
/// of the same cost for an identifier the bureau does not know), then the second factor; a new
/// session.
pub(crate) async fn sign_in_person(
    state: &Shared,
    from: Option<std::net::SocketAddr>,
    scheme: &str,
    number: &str,
    passphrase: String,
    code: Option<String>,
) -> Result<wire::Session, ApiError> {
    let bad = || ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "unknown identifier or wrong passphrase");
    let key = state.keys.subject_key(&identify(scheme, number)?);
    let (attempt, now_ms) = (attempt_keys(&key, from), state.now_ms());
    begin_attempt(state, &attempt, now_ms).await?;
    let stored = with_store(state, move |_, store| Ok(store.sign_in_hashes(&key)?)).await?;
    // An unknown identifier is checked against hashes of the same cost: the same answer, as late.
    let checked = guard::hashing(&state.hashing, move || guard::check_sign_in(&stored, &passphrase)).await?;
    match checked {
        guard::Passphrase::Current => {}
        guard::Passphrase::Wrong => return Err(bad()),
        // The holder of the enrolment that was replaced is told, the one place only they reach.
        guard::Passphrase::Replaced(at_ms) => return Err(replaced(state, at_ms)),
    }
    let second =
        with_store(state, move |s, store| Ok(second_factor::sign_in(store, &s.keys, s.now(), &key, code.as_deref())?))
            .await?;
    match second {
        second_factor::SignIn::Passed => {}
        second_factor::SignIn::CodeMissing => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "second_factor_required",
                "this person signs in with a second factor: send `code`, the 6 digits the authenticator shows, or a recovery code",
            )
            .field("code"))
        }
        second_factor::SignIn::CodeWrong => return Err(bad()),
    }
    attempt_succeeded(state, &attempt)?;
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|_| ApiError::internal())?;
    let token = format!("ses_{}", hex::encode(raw));
    let now = state.now_ms();
    let expires = now + state.config.session_minutes * 60_000;
    let mut sessions = state.sessions.lock().map_err(|_| ApiError::internal())?;
    // Expired sessions go as new ones come, so the table stays as small as the live ones.
    sessions.retain(|_, (_, until)| *until > now);
    sessions.insert(token_hash(&token), (key, expires));
    Ok(wire::Session { token, expires_ms: expires })
}

/// The answer to the holder of a replaced enrolment (see [`candor_bureau::subject::replaced_notice`]).
fn replaced(state: &State, at_ms: i64) -> ApiError {
    let notice = candor_bureau::subject::replaced_notice(&state.rules(), at_ms);
    ApiError::new(StatusCode::UNAUTHORIZED, "enrolment_replaced", notice)
}

pub(super) async fn withdraw(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    let key = caller.subject()?;
    with_store(&state, move |s, store| Ok(candor_bureau::subject::withdraw(store, s.now(), &key)?)).await?;
    state.sessions.lock().map_err(|_| ApiError::internal())?.retain(|_, (k, _)| *k != key);
    ok(StatusCode::OK, wire::Withdrawn { withdrawn: true })
}

/// Starts turning on a second factor: the secret for an authenticator app and the recovery
/// codes, shown this once; in force once confirmed with a code.
pub(super) async fn start_second_factor(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
) -> Answer {
    let started = start_second_factor_for(&state, caller.subject()?).await?;
    ok(
        StatusCode::CREATED,
        wire::SecondFactorStarted {
            secret: started.secret_base32,
            otpauth_uri: started.uri,
            recovery_codes: started.recovery_codes,
        },
    )
}

/// Starts turning on a person's second factor with fresh randomness — the API's and the
/// portal's one way.
pub(crate) async fn start_second_factor_for(
    state: &Shared,
    key: SubjectKey,
) -> Result<second_factor::Enrolment, ApiError> {
    let mut fresh = second_factor::Fresh {
        secret: [0; second_factor::SECRET_BYTES],
        recovery: [[0; second_factor::RECOVERY_BYTES]; second_factor::RECOVERY_CODES],
        nonce: [0; candor_file::secret::NONCE_BYTES],
    };
    let fill = |bytes: &mut [u8]| getrandom::getrandom(bytes).map_err(|_| ApiError::internal());
    fill(&mut fresh.secret)?;
    fill(&mut fresh.nonce)?;
    for code in &mut fresh.recovery {
        fill(code)?;
    }
    with_store(state, move |s, store| Ok(second_factor::start(store, &s.keys, s.now(), &key, &fresh)?)).await
}

/// A code from the authenticator (or a recovery code).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Code {
    code: String,
}

/// Puts the second factor in force with a code from its secret.
pub(super) async fn confirm_second_factor(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    switch_second_factor(state, caller, body, true).await
}

/// Turns the second factor off, with a code from it.
pub(super) async fn turn_off_second_factor(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    switch_second_factor(state, caller, body, false).await
}

/// Turns the second factor on (confirming it) or off, with a code.
async fn switch_second_factor(state: Shared, caller: Caller, body: axum::body::Bytes, on: bool) -> Answer {
    let key = caller.subject()?;
    let c: Code = parse_json(&body)?;
    switch_second_factor_for(&state, key, c.code, on).await?;
    ok(StatusCode::OK, wire::SecondFactorState { second_factor: if on { "on" } else { "off" }.into() })
}

/// Turns a person's second factor on (confirming it) or off with a code — the API's and the
/// portal's one way.
pub(crate) async fn switch_second_factor_for(
    state: &Shared,
    key: SubjectKey,
    code: String,
    on: bool,
) -> Result<(), ApiError> {
    with_store(state, move |s, store| {
        let (keys, now) = (&s.keys, s.now());
        let switched = if on {
            second_factor::confirm(store, keys, now, &key, &code)
        } else {
            second_factor::turn_off(store, keys, now, &key, &code)
        };
        Ok(switched?)
    })
    .await
}
