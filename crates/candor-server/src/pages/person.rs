//! The pages anyone may open — the welcome, signing in, enrolling — and signing out. Signing in
//! and enrolling call the same functions as the JSON API, so the throttles, the proofing and the
//! timing rules are the API's.

use axum::extract::{ConnectInfo, Extension, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::text::Text;
use super::views::{self, Chrome, Shown};
use super::SESSION_COOKIE;
use super::{check_stranger_form, language, parse_form, see_other_with, stranger_page, Person};
use crate::listener::Peer;
use crate::routes::enrolment::{enrol_person, sign_in_person, Proof};
use crate::routes::Shared;
use crate::ApiError;

/// The welcome page: what the bureau is and what the person can do here.
pub(super) async fn home(Extract(state): Extract<Shared>, headers: HeaderMap) -> Response {
    let t = Text::new(language(&headers));
    let signed_in = super::person(&state, &headers).ok().flatten();
    let c = match &signed_in {
        Some(p) => Chrome::signed_in(t, "/", p),
        None => Chrome::stranger(t, "/"),
    };
    views::render(StatusCode::OK, &views::Home { c })
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    enrolled: Option<String>,
}

pub(super) async fn sign_in_page(headers: HeaderMap, query: axum::extract::RawQuery) -> Response {
    let enrolled =
        query.0.and_then(|q| serde_urlencoded::from_str::<SignInQuery>(&q).ok()).and_then(|q| q.enrolled).is_some();
    stranger_page(
        &headers,
        StatusCode::OK,
        |c| {
            let notice = enrolled.then(|| c.t.get("enrolled-now-sign-in"));
            let needs_https = super::cookie_refused_here(&headers);
            askama::Template::render(&views::SignIn { c, error: None, notice, needs_https, scheme: "cn_rid".into() })
        },
        "/sign-in",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignInForm {
    csrf: String,
    scheme: String,
    number: String,
    passphrase: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn sign_in(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let mut scheme = "cn_rid".to_owned();
    let signed = async {
        let f: SignInForm = super::stranger_form(&headers, &body)?;
        scheme = f.scheme.clone();
        let code = Some(f.code.trim().to_owned()).filter(|c| !c.is_empty());
        sign_in_person(&state, from, &f.scheme, f.number.trim(), f.passphrase, code).await
    }
    .await;
    match signed {
        Ok(session) => {
            let max_age = (session.expires_ms - state.now_ms()).max(0) / 1000;
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}",
                session.token
            );
            see_other_with("/me", &cookie)
        }
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                let needs_https = super::cookie_refused_here(&headers);
                askama::Template::render(&views::SignIn { c, error, notice: None, needs_https, scheme })
            },
            "/sign-in",
        ),
    }
}

pub(super) async fn enrol_page(headers: HeaderMap) -> Response {
    stranger_page(
        &headers,
        StatusCode::OK,
        |c| askama::Template::render(&views::Enrol { c, error: None, scheme: "cn_rid".into() }),
        "/enrol",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrolForm {
    csrf: String,
    scheme: String,
    number: String,
    activation_code: String,
    passphrase: String,
    passphrase_again: String,
}

pub(super) async fn enrol(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let mut scheme = "cn_rid".to_owned();
    let enrolled = async {
        let f: EnrolForm = super::stranger_form(&headers, &body)?;
        scheme = f.scheme.clone();
        super::same_passphrase(&f.passphrase, &f.passphrase_again)?;
        let proof = Proof::Code(f.activation_code);
        enrol_person(&state, from, &f.scheme, f.number.trim(), proof, f.passphrase).await
    }
    .await;
    match enrolled {
        Ok(_) => super::see_other("/sign-in?enrolled=1"),
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                askama::Template::render(&views::Enrol { c, error, scheme })
            },
            "/enrol",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenOnly {
    csrf: String,
}

/// Ends the session and forgets the cookie.
pub(super) async fn sign_out(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let done = (|| {
        let _: TokenOnly = super::signed_form(&person.csrf, &body)?;
        state.sessions.lock().map_err(|_| ApiError::internal())?.remove(&person.session);
        Ok::<_, ApiError>(())
    })();
    match done {
        Ok(()) => {
            see_other_with("/", &format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"))
        }
        Err(e) => views::error(Text::new(language(&headers)), &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AskForm {
    csrf: String,
    scheme: String,
    number: String,
}

/// A question as the page asks it, in the page's language.
pub(crate) struct QuestionShown {
    pub id: &'static str,
    pub prompt: String,
    pub multiple: bool,
    /// (id, words).
    pub choices: Vec<(String, String)>,
}

fn shown_questions(t: Text, asked: &[candor_bureau::proofing::Question]) -> Vec<QuestionShown> {
    asked
        .iter()
        .map(|q| QuestionShown {
            id: q.id,
            prompt: t.lookup(&format!("question-{}", q.id), &[]).unwrap_or_else(|| q.prompt.to_owned()),
            multiple: q.multiple,
            // Organisations are named by their names; bands in the page's words.
            choices: q
                .choices
                .iter()
                .map(|c| (c.id.clone(), if q.multiple { c.label.clone() } else { t.named("band", &c.id) }))
                .collect(),
        })
        .collect()
}

/// What the identifier between the two steps of enrolling by questions is sealed under: it
/// travels in the form sealed, never in clear in the page or a URL.
fn pending_key(state: &Shared) -> candor_file::ids::SubjectKey {
    state.keys.staff_key("\0enrolment questions")
}

/// Enrolling without a code, step one: the identifier; the answer is the questions from the
/// person's own file (the same shape for anyone), with the rest of the enrolment form.
pub(super) async fn ask(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let asked = async {
        let f: AskForm = super::stranger_form(&headers, &body)?;
        let questions = crate::routes::enrolment::questions_for(&state, from, &f.scheme, f.number.trim()).await?;
        let mut nonce = [0u8; candor_file::secret::NONCE_BYTES];
        getrandom::getrandom(&mut nonce).map_err(|_| ApiError::internal())?;
        let who = format!("{}\n{}", f.scheme, f.number.trim());
        let pending = hex::encode(state.keys.seal(&pending_key(&state), &who, nonce));
        Ok::<_, ApiError>((pending, questions))
    }
    .await;
    match asked {
        Ok((pending, questions)) => stranger_page(
            &headers,
            StatusCode::OK,
            |c| {
                let questions = shown_questions(c.t, &questions);
                askama::Template::render(&views::Questions { c, error: None, pending, questions })
            },
            "/enrol",
        ),
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                askama::Template::render(&views::Enrol { c, error, scheme: "cn_rid".into() })
            },
            "/enrol",
        ),
    }
}

/// Enrolling without a code, step two: the answers and a passphrase.
pub(super) async fn answer(
    Extract(state): Extract<Shared>,
    from: Option<Extension<ConnectInfo<Peer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from = from.map(|Extension(ConnectInfo(Peer(addr)))| addr);
    let enrolled = async {
        // Several organisations may be picked: the form repeats `organisations`.
        let pairs: Vec<(String, String)> = parse_form(&body)?;
        let one = |name: &str| -> Result<String, ApiError> {
            let mut found = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone());
            match (found.next(), found.next()) {
                (Some(v), None) => Ok(v),
                _ => Err(ApiError::bad_request("bad_form", format!("the form needs one `{name}`")).field(name)),
            }
        };
        let known =
            ["csrf", "pending", "organisations", "largest_limit", "oldest_account", "passphrase", "passphrase_again"];
        if let Some((n, _)) = pairs.iter().find(|(n, _)| !known.contains(&n.as_str())) {
            return Err(ApiError::bad_request("bad_form", format!("the form has no field `{n}`")));
        }
        check_stranger_form(&headers, &one("csrf")?)?;
        let (passphrase, again) = (one("passphrase")?, one("passphrase_again")?);
        super::same_passphrase(&passphrase, &again)?;
        let answers = candor_bureau::proofing::Answers {
            organisations: pairs.iter().filter(|(n, _)| n == "organisations").map(|(_, v)| v.clone()).collect(),
            largest_limit: one("largest_limit")?,
            oldest_account: one("oldest_account")?,
        };
        let expired =
            || ApiError::new(StatusCode::FORBIDDEN, "form_expired", "the questions are out of date; ask them again");
        let sealed = hex::decode(one("pending")?).map_err(|_| expired())?;
        let who = state.keys.open(&pending_key(&state), &sealed).map_err(|_| expired())?;
        let (scheme, number) = who.split_once('\n').ok_or_else(expired)?;
        enrol_person(&state, from, scheme, number, Proof::Answers(answers), passphrase).await
    }
    .await;
    match enrolled {
        Ok(_) => super::see_other("/sign-in?enrolled=1"),
        Err(e) => stranger_page(
            &headers,
            e.status_code(),
            |c| {
                let error = Some(Shown::of(c.t, &e));
                askama::Template::render(&views::Enrol { c, error, scheme: "cn_rid".into() })
            },
            "/enrol",
        ),
    }
}

super::signed!(TokenOnly, SignInForm, EnrolForm, AskForm);
