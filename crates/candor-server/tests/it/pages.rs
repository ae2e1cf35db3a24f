//! The person's portal over HTTP, as a browser uses it: forms, cookies, redirects, the two
//! languages, and what strangers, other people's sessions and malformed requests get.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

use super::*;

/// A browser: the cookies it holds, the language it asks for, and what it last saw.
struct Browser<'f> {
    f: &'f Fixture,
    cookies: Vec<(String, String)>,
    accept_language: &'static str,
}

/// What a page answered.
struct Seen {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The form token the page's forms carry.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form with a token") + 19;
        self.body[at..].split('"').next().expect("token").to_owned()
    }
}

impl<'f> Browser<'f> {
    fn new(f: &'f Fixture) -> Browser<'f> {
        Browser { f, cookies: Vec::new(), accept_language: "en-GB,en;q=0.9" }
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<String>, extra: &[(&str, &str)]) -> Seen {
        let mut req = Request::builder().method(method).uri(path).header("accept-language", self.accept_language);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            req = req.header("cookie", jar.join("; "));
        }
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        let req = match form {
            Some(body) => req.header("content-type", "application/x-www-form-urlencoded").body(Body::from(body)),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.f.app.clone().oneshot(req).await.expect("response");
        let (status, headers) = (resp.status(), resp.headers().clone());
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().expect("ascii");
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.expect("body");
        Seen { status, headers, body: String::from_utf8(bytes.to_vec()).expect("utf-8") }
    }

    async fn get(&mut self, path: &str) -> Seen {
        self.send("GET", path, None, &[]).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Seen {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.send("POST", path, Some(body), &[("sec-fetch-site", "same-origin")]).await
    }

    /// Signs in through the sign-in page.
    async fn sign_in(&mut self, number: &str, passphrase: &str) -> Seen {
        let page = self.get("/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        self.post("/sign-in", &[("csrf", &csrf), ("scheme", "cn_rid"), ("number", number), ("passphrase", passphrase)])
            .await
    }
}

/// Every page carries the headers that keep it from being framed, cached, sniffed or scripted.
fn assert_page_headers(seen: &Seen) {
    let csp = seen.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(seen.headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
    assert_eq!(seen.headers.get("cache-control").map(|v| v.as_bytes()), Some(&b"no-store"[..]));
    assert!(!seen.body.contains("<script") && !seen.body.contains("style="), "no inline script or style");
}

#[tokio::test]
async fn a_person_signs_in_and_sees_file_score_and_readers_in_both_languages() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    session(&f).await;
    let mut b = Browser::new(&f);
    let signed = b.sign_in(ID.1, PASSPHRASE).await;
    assert_eq!((signed.status, signed.location()), (StatusCode::SEE_OTHER, "/me"), "{}", signed.body);
    let cookie = signed.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("session cookie");
    for flag in ["__Host-candor-session=ses_", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    for path in
        ["/me", "/me/file", "/me/score", "/me/reads", "/me/consents", "/me/alerts", "/me/disputes", "/me/security", "/"]
    {
        let seen = b.get(path).await;
        assert_eq!(seen.status, StatusCode::OK, "{path}: {}", seen.body);
        assert_page_headers(&seen);
        assert!(seen.body.contains("<html lang=\"en\">"), "{path}");
        assert!(!seen.body.contains(ID.1) && !seen.body.contains(&ID.1[..14]), "no identifier on {path}");
    }
    let file = b.get("/me/file").await;
    assert!(file.body.contains("bank-one"), "the furnisher of each account: {}", file.body);
    assert!(file.body.contains("<td>2026-10-31</td>"), "when the bureau received each report: {}", file.body);
    let alerts = b.get("/me/alerts").await;
    assert!(alerts.body.contains("bank-one reported CARD-001 as late or unpaid for 2026-09"), "{}", alerts.body);
    let score = b.get("/me/score").await;
    assert!(score.body.contains("score-number"), "{}", score.body);
    assert!(score.body.contains("Balances are high compared with your limits."), "reasons in words: {}", score.body);
    assert!(score.body.contains("of the people the scorecard was built on"), "where the score stands: {}", score.body);
    let reads = b.get("/me/reads").await;
    assert!(reads.body.contains("You enrolled"), "{}", reads.body);
    // Each entry of who looked opens its proof, checked against the checkpoint signed now.
    let first = reads.body.split("href=\"/me/reads/").nth(1).and_then(|r| r.split('"').next()).expect("a link");
    let proof = b.get(&format!("/me/reads/{first}")).await;
    assert_eq!(proof.status, StatusCode::OK, "{}", proof.body);
    assert!(proof.body.contains("its proof checks against the checkpoint"), "{}", proof.body);
    assert!(proof.body.contains("candor.local/log"), "the signed checkpoint is shown");
    assert_eq!(b.get("/me/reads/0").await.status, StatusCode::NOT_FOUND, "an entry about nobody in particular");
    assert_eq!(b.get("/me/reads/x").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(b.get("/me/reads/99999999999999999999").await.status, StatusCode::BAD_REQUEST);
    let printable = b.get("/me/copy").await;
    assert!(printable.body.contains("CARD-001") && printable.body.contains("You enrolled"), "{}", printable.body);
    // The statutory copy: everything held, as JSON to keep.
    let copy = b.get("/me/file.json").await;
    assert_eq!(copy.status, StatusCode::OK);
    let disposition = copy.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let all: Value = serde_json::from_str(&copy.body).expect("JSON");
    assert_eq!(all["file"]["accounts"][0]["furnisher"], "bank-one", "{all}");
    assert!(all["log_entries"].as_array().is_some_and(|e| e.len() >= 2) && all["complete"] == true, "{all}");
    assert!(!copy.body.contains(ID.1), "no identifier in the copy");
    let past = b.get("/me/file?as_of=2020-01-01").await;
    assert!(past.status == StatusCode::OK && past.body.contains("value=\"2020-01-01\""), "as of a past date");
    assert!(past.body.contains("No account is reported on your file."), "as the bureau knew it then: {}", past.body);

    // The browser asks for Chinese: every page answers in it; the switch sets English again.
    b.accept_language = "zh-CN,zh;q=0.9,en;q=0.5";
    let zh = b.get("/me").await;
    assert!(zh.body.contains("<html lang=\"zh-CN\">") && zh.body.contains("您的信用档案"), "{}", zh.body);
    let switched = b.get("/lang/en?back=/me/file").await;
    assert_eq!((switched.status, switched.location()), (StatusCode::SEE_OTHER, "/me/file"));
    assert!(b.get("/me/file").await.body.contains("<html lang=\"en\">"), "the choice outweighs the browser's");
    let away = b.get("/lang/zh-CN?back=https://evil.example/").await;
    assert_eq!(away.location(), "/", "the switch sends back only to the portal's own pages");
    assert_eq!(b.get("/lang/fr").await.status, StatusCode::NOT_FOUND);
    // (The switch just set Chinese.)
    let warned = |body: &str| body.contains("通过普通 HTTP 打开");
    let lan = b.send("GET", "/sign-in", None, &[("host", "192.168.1.5:8080")]).await;
    assert!(warned(&lan.body), "told why signing in would not stick: {}", lan.body);
    for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
        let here = b.send("GET", "/sign-in", None, &[("host", host)]).await;
        assert!(!warned(&here.body), "{host}");
    }
    let proxied = b.send("GET", "/sign-in", None, &[("host", "credit.example"), ("x-forwarded-proto", "https")]).await;
    assert!(!warned(&proxied.body), "behind a TLS proxy");
    let lost = b.send("GET", "/me/nowhere", None, &[("accept", "text/html,application/xhtml+xml")]).await;
    assert_eq!(lost.status, StatusCode::NOT_FOUND);
    assert!(
        lost.body.contains("<html") && lost.body.contains("这里什么也没有。"),
        "a browser gets a page: {}",
        lost.body
    );
    let api = b.get("/me/nowhere").await;
    assert!(
        api.body.starts_with('{') && api.body.contains("not_found"),
        "anything else gets the JSON error: {}",
        api.body
    );

    // Signing out ends the session: the cookie no longer opens anything.
    let me = b.get("/me").await;
    let kept = b.cookies.clone();
    let out = b.post("/sign-out", &[("csrf", &me.csrf())]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/"));
    let after = b.get("/me").await;
    assert_eq!((after.status, after.location()), (StatusCode::SEE_OTHER, "/sign-in"));
    b.cookies = kept;
    assert_eq!(b.get("/me").await.location(), "/sign-in", "the old session cookie, sent again");
}

#[tokio::test]
async fn consents_and_the_freeze_are_plain_forms_that_lenders_feel_at_once() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    session(&f).await;
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    let ask = json_body(json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"}));
    let shop = api_key("shop");
    let score = |ask| call(&f.app, "POST", "/v1/scores", Some(&shop), ask);

    let page = b.get("/me/consents").await;
    assert!(page.body.contains("value=\"shop\"") && !page.body.contains("value=\"power-co\""), "only readers offered");
    let csrf = page.csrf();
    let granted = b
        .post(
            "/me/consents",
            &[("csrf", &csrf), ("org", "shop"), ("purpose", "deposit_waiver"), ("until", "2027-06-30")],
        )
        .await;
    assert_eq!((granted.status, granted.location()), (StatusCode::SEE_OTHER, "/me/consents?done=granted"));
    assert!(b.get("/me/consents?done=granted").await.body.contains("The consent is given."));
    assert_eq!(score(ask.clone()).await.0, StatusCode::OK, "the consent is live");

    // A grant the bureau refuses is shown on the form, and nothing is granted.
    let refused = b
        .post("/me/consents", &[("csrf", &csrf), ("org", "power-co"), ("purpose", "tenancy"), ("until", "2027-06-30")])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("role=\"alert\"") && refused.body.contains("aria-invalid=\"true\""),
        "{}",
        refused.body
    );
    let too_long = b
        .post("/me/consents", &[("csrf", &csrf), ("org", "shop"), ("purpose", "tenancy"), ("until", "9999-12-31")])
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);

    let frozen = b.post("/me/freeze", &[("csrf", &csrf), ("freeze", "on")]).await;
    assert_eq!(frozen.location(), "/me?done=frozen");
    assert!(b.get("/me").await.body.contains("Lift the freeze"));
    assert_eq!(score(ask.clone()).await.0, StatusCode::FORBIDDEN, "frozen: refused");
    b.post("/me/freeze", &[("csrf", &csrf), ("freeze", "off")]).await;
    assert_eq!(score(ask.clone()).await.0, StatusCode::OK, "lifted");

    let revoked =
        b.post("/me/consents/revoke", &[("csrf", &csrf), ("org", "shop"), ("purpose", "deposit_waiver")]).await;
    assert_eq!(revoked.location(), "/me/consents?done=revoked");
    assert_eq!(score(ask).await.0, StatusCode::FORBIDDEN, "revoked: refused");
    let reads = b.get("/me/reads").await;
    for seen in ["You gave shop consent", "shop asked for your score", "was refused", "You froze your file"] {
        assert!(reads.body.contains(seen), "{seen}: {}", reads.body);
    }
}

#[tokio::test]
async fn a_person_enrols_with_the_code_from_the_letter() {
    let f = fixture();
    example_batch(&f).await;
    let code = invite(&f, ID.0, ID.1).await;
    let mut b = Browser::new(&f);
    let page = b.get("/enrol").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let form = |code: &'static str, again: &'static str| {
        vec![
            ("scheme", "cn_rid"),
            ("number", ID.1),
            ("activation_code", code),
            ("passphrase", PASSPHRASE),
            ("passphrase_again", again),
        ]
    };
    let mut differ = form("ABCDE-FGHJK-LMNPQ-RSTVW", "another passphrase");
    differ.push(("csrf", &csrf));
    let seen = b.post("/enrol", &differ).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST);
    assert!(seen.body.contains("The two passphrases are not the same."), "{}", seen.body);
    assert!(!seen.body.contains(ID.1), "the number is not shown back");
    let mut wrong = form("ABCDE-FGHJK-LMNPQ-RSTVW", PASSPHRASE);
    wrong.push(("csrf", &csrf));
    let seen = b.post("/enrol", &wrong).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED, "{}", seen.body);
    let mut right = vec![
        ("csrf", csrf.as_str()),
        ("scheme", "cn_rid"),
        ("number", ID.1),
        ("activation_code", code.as_str()),
        ("passphrase", PASSPHRASE),
        ("passphrase_again", PASSPHRASE),
    ];
    let seen = b.post("/enrol", &right).await;
    assert_eq!((seen.status, seen.location()), (StatusCode::SEE_OTHER, "/sign-in?enrolled=1"), "{}", seen.body);
    assert!(b.get("/sign-in?enrolled=1").await.body.contains("You are enrolled."));
    right[0].1 = "";
    assert_eq!(b.post("/enrol", &right).await.status, StatusCode::FORBIDDEN, "no token, no enrolment");
    assert_eq!(b.sign_in(ID.1, PASSPHRASE).await.location(), "/me");
}

/// A stranger, someone holding another person's session, a form from another site and malformed
/// requests: none reaches a person's page or changes anything.
#[tokio::test]
async fn strangers_other_sessions_cross_site_and_malformed_forms_change_nothing() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    session(&f).await;
    enrol(&f, "cn_rid", &resident_number(7), "another long passphrase").await;
    let mut stranger = Browser::new(&f);
    for path in [
        "/me",
        "/me/file?as_of=not-a-date",
        "/me/score",
        "/me/reads?after=x",
        "/me/consents",
        "/me/reads/1",
        "/me/file.json",
        "/me/copy",
        "/me/alerts",
        "/me/security",
        "/me/disputes",
        "/me/disputes/1",
        "/me/disputes/1/evidence",
    ] {
        let seen = stranger.get(path).await;
        assert_eq!((seen.status, seen.location()), (StatusCode::SEE_OTHER, "/sign-in"), "{path}");
    }
    for path in [
        "/me/freeze",
        "/me/consents",
        "/me/consents/revoke",
        "/sign-out",
        "/me/security",
        "/me/statements",
        "/me/reviews",
        "/me/disputes",
    ] {
        let seen = stranger.post(path, &[("csrf", "x"), ("freeze", "on")]).await;
        assert_eq!(seen.location(), "/sign-in", "{path}");
    }
    stranger.cookies.push(("__Host-candor-session".into(), "ses_forged".into()));
    assert_eq!(stranger.get("/me").await.location(), "/sign-in", "a forged session");
    let no_form_cookie = stranger
        .post("/sign-in", &[("csrf", "x"), ("scheme", "cn_rid"), ("number", ID.1), ("passphrase", PASSPHRASE)])
        .await;
    assert_eq!(no_form_cookie.status, StatusCode::FORBIDDEN, "sign-in needs the form's own token");

    let mut owner = Browser::new(&f);
    owner.sign_in(ID.1, PASSPHRASE).await;
    let mut other = Browser::new(&f);
    other.sign_in(&resident_number(7), "another long passphrase").await;
    let others_token = other.get("/me").await.csrf();
    let frozen = || async {
        let (_, body) = call(
            &f.app,
            "POST",
            "/v1/scores",
            Some(&api_key("shop")),
            json_body(json!({"scheme": ID.0, "number": ID.1, "purpose": "tenancy"})),
        )
        .await;
        body["code"] == "file_frozen"
    };
    let seen = owner.post("/me/freeze", &[("csrf", &others_token), ("freeze", "on")]).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "another session's token");
    let seen = owner.post("/me/freeze", &[("freeze", "on")]).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "no token at all: {}", seen.body);
    let own = owner.get("/me").await.csrf();
    let body = serde_urlencoded::to_string([("csrf", own.as_str()), ("freeze", "on")]).expect("form");
    let seen = owner.send("POST", "/me/freeze", Some(body.clone()), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "from another site");
    let seen = owner.send("POST", "/me/freeze", Some(body), &[("sec-fetch-site", "same-site")]).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "from a sibling site");
    assert!(!frozen().await, "none of these froze the file");

    for (fields, what) in [
        (vec![("csrf", own.as_str()), ("freeze", "sideways")], "a bad value"),
        (vec![("csrf", own.as_str()), ("freeze", "on"), ("extra", "1")], "an unknown field"),
    ] {
        let seen = owner.post("/me/freeze", &fields).await;
        assert_eq!(seen.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(seen.body.contains("role=\"alert\""), "{what}: said on a page");
    }
    let seen = owner.send("POST", "/me/freeze", Some("%ZZ=%%".into()), &[]).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "a body that is no form");
    let seen = owner.send("POST", "/me/freeze", Some("x".repeat(64 << 10)), &[]).await;
    assert_eq!(seen.status, StatusCode::PAYLOAD_TOO_LARGE, "a body over the pages' limit");
    assert_eq!(owner.get("/me/file?as_of=2026-13-45").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(owner.get("/me/reads?after=x").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(owner.get("/me/file?unknown=1").await.status, StatusCode::OK, "an unknown parameter is ignored");
    assert!(!frozen().await, "and nothing froze the file");
    // The other person's entries are not this one's to see.
    let others_reads = other.get("/me/reads").await;
    let theirs = others_reads.body.split("href=\"/me/reads/").nth(1).and_then(|r| r.split('"').next()).expect("a link");
    assert_eq!(owner.get(&format!("/me/reads/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let revoked = owner.post("/me/consents/revoke", &[("csrf", &own), ("org", "shop"), ("purpose", "tenancy")]).await;
    assert_eq!(revoked.status, StatusCode::NOT_FOUND, "no such consent: {}", revoked.body);
}

/// The templates hold markup and message names only: every word a page shows comes from the
/// message files, so no page is half in one language.
#[test]
fn templates_hold_no_words_and_every_message_they_name_exists() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut named = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("templates") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("template");
        let mut rest = text.as_str();
        let mut words = String::new();
        // Drop {{ }}, {% %}, {# #} and <...>; what is left is what the page says on its own.
        while let Some(at) = rest.find(['{', '<']) {
            words.push_str(&rest[..at]);
            let close = match &rest[at..at + 2.min(rest.len() - at)] {
                "{{" => "}}",
                "{%" => "%}",
                "{#" => "#}",
                s if s.starts_with('<') => ">",
                _ => {
                    words.push('{');
                    rest = &rest[at + 1..];
                    continue;
                }
            };
            let inner = &rest[at..];
            let end = inner.find(close).expect("closed") + close.len();
            for call in inner[..end].split("t.get(\"").skip(1) {
                named.insert(call.split('"').next().expect("id").to_owned());
            }
            rest = &inner[end..];
        }
        words.push_str(rest);
        let letters: String = words.chars().filter(|c| c.is_alphabetic()).collect();
        assert!(letters.is_empty(), "{}: words outside messages: {letters:?}", path.display());
    }
    assert!(named.len() > 40, "{named:?}");
    for lang in candor_server::pages::text::Lang::ALL {
        let t = candor_server::pages::text::Text::new(lang);
        for id in &named {
            assert!(t.lookup(id, &[]).is_some(), "{id} missing in {}", lang.tag());
        }
        // Words for values of the file the pages name by their set.
        let kinds = candor_file::model::AccountKind::ALL.iter().map(|k| format!("kind-{}", k.as_str()));
        let statuses = candor_file::model::Status::ALL.iter().map(|s| format!("status-{}", s.as_str()));
        let purposes = candor_file::model::Purpose::ALL.iter().map(|p| format!("purpose-{}", p.as_str()));
        let features = candor_file::features::CATALOGUE
            .iter()
            .flat_map(|f| [format!("feature-{}", f.name), format!("reason-{}", f.name)]);
        for id in kinds.chain(statuses).chain(purposes).chain(features) {
            assert!(t.lookup(&id, &[]).is_some(), "{id} missing in {}", lang.tag());
        }
    }
}

/// A multipart form body, as a browser sends a form with a file: its content type and bytes.
fn multipart(fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----candor-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if *name == "evidence" {
            body.extend_from_slice(
                b"Content-Disposition: form-data; name=\"evidence\"; filename=\"proof.pdf\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            );
        } else {
            body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Browser<'_> {
    /// Sends the answers form with these fields (a name may repeat).
    async fn post_pairs(&mut self, pairs: Vec<(&'static str, String)>) -> Seen {
        let body = serde_urlencoded::to_string(&pairs).expect("form");
        self.send("POST", "/enrol/answers", Some(body), &[("sec-fetch-site", "same-origin")]).await
    }

    /// Sends the dispute form with these fields.
    async fn post_fields(&mut self, fields: Vec<(String, Vec<u8>)>) -> Seen {
        let refs: Vec<(&str, &[u8])> = fields.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        self.post_multipart("/me/disputes", &refs).await
    }

    async fn post_multipart(&mut self, path: &str, fields: &[(&str, &[u8])]) -> Seen {
        let (content_type, body) = multipart(fields);
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", content_type)
            .header("sec-fetch-site", "same-origin");
        let jar: Vec<String> = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        req = req.header("cookie", jar.join("; "));
        let resp = self.f.app.clone().oneshot(req.body(Body::from(body)).expect("request")).await.expect("response");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22).await.expect("body");
        Seen { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

#[tokio::test]
async fn a_person_disputes_a_record_with_evidence_and_follows_it_to_the_outcome() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    let subject = session(&f).await;
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    let page = b.get("/me/disputes?record=report%7CCARD-001%202026-09").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("value=\"report|CARD-001 2026-09\" selected"), "the record picked on the file page");
    let csrf = page.csrf();
    let pdf = b"%PDF-1.4\n% a bank statement showing the September payment\n".to_vec();
    let words = "I paid on 3 September; the statement is attached.";
    let count = |f: &Fixture| {
        let key = f.state.keys.subject_key(&candor_file::ids::NationalId::parse_text(ID.0, ID.1).expect("id"));
        f.state.store.lock().expect("store").disputes(&key).expect("disputes").len()
    };

    // Refused whole, and nothing opened: no token, a document that is not one, no reason, a
    // field the form does not have, a document over the limit.
    let exe = b"MZ\x90\x00\x03".to_vec();
    let mut big = b"%PDF-".to_vec();
    big.resize(candor_file::claim::MAX_EVIDENCE_BYTES + 100, b' ');
    let base: Vec<(&str, &[u8])> = vec![("record", b"report|CARD-001 2026-09"), ("text", words.as_bytes())];
    let with = |extra: &[(&'static str, &'static [u8])], csrf: &str| {
        let mut v = base.clone();
        v.extend_from_slice(extra);
        let mut owned: Vec<(String, Vec<u8>)> = v.into_iter().map(|(n, b)| (n.to_owned(), b.to_vec())).collect();
        owned.push(("csrf".into(), csrf.as_bytes().to_vec()));
        owned
    };
    let seen = b.post_fields(with(&[("reason", b"paid")], "not-the-token")).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    let mut exe_fields = with(&[("reason", b"paid")], &csrf);
    exe_fields.push(("evidence".into(), exe));
    let seen = b.post_fields(exe_fields).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "{}", seen.body);
    assert!(seen.body.contains("Evidence must be one PDF, PNG or JPEG"), "{}", seen.body);
    let seen = b.post_fields(with(&[], &csrf)).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "no reason");
    let seen = b.post_fields(with(&[("reason", b"paid"), ("colour", b"red")], &csrf)).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "an unknown field");
    let seen = b.post_fields(with(&[("reason", b"spaceship")], &csrf)).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "a reason not on the list");
    let mut big_fields = with(&[("reason", b"paid")], &csrf);
    big_fields.push(("evidence".into(), big.clone()));
    let seen = b.post_fields(big_fields).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "just over the evidence limit");
    big.resize(3 << 20, b' ');
    let mut huge_fields = with(&[("reason", b"paid")], &csrf);
    huge_fields.push(("evidence".into(), big));
    let seen = b.post_fields(huge_fields).await;
    assert_eq!(seen.status, StatusCode::PAYLOAD_TOO_LARGE, "over the form's limit: {}", seen.body);
    assert_eq!(count(&f), 0, "none of these opened a dispute");

    let mut good = with(&[("reason", b"paid")], &csrf);
    good.push(("evidence".into(), pdf.clone()));
    let seen = b.post_fields(good).await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER, "{}", seen.body);
    let at = seen.location().to_owned();
    assert!(at.starts_with("/me/disputes/") && at.ends_with("?done=opened"), "{at}");
    let id: i64 = at["/me/disputes/".len()..at.len() - "?done=opened".len()].parse().expect("id");
    let page = b.get(&at).await;
    assert_eq!(page.status, StatusCode::OK);
    let evidence_sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&pdf).into();
    let digest = candor_file::claim::digest(candor_file::model::ClaimReason::Paid, words, Some(&evidence_sha));
    for shown in ["Your dispute is recorded.", words, "I paid it", &hex::encode(digest), &hex::encode(evidence_sha)] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    let download = b.get(&format!("/me/disputes/{id}/evidence")).await;
    assert_eq!(download.headers.get("content-type").map(|v| v.as_bytes()), Some(&b"application/pdf"[..]));
    assert_eq!(download.body.as_bytes(), &pdf[..], "the evidence comes back as sent");
    assert!(b.get("/me/file").await.body.contains("Disputed: under review"));
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let opened = reads["entries"].as_array().expect("entries").iter().find(|e| e["kind"] == "dispute_opened").cloned();
    let opened = opened.expect("a dispute_opened entry");
    assert_eq!(opened["claim_sha256"], hex::encode(digest), "the log holds the receipt's digest");
    assert_eq!(opened["claim_reason"], "paid");
    assert!(!reads.to_string().contains("3 September"), "never the person's words in the log");

    // Someone else cannot see it, nor its evidence.
    enrol(&f, "cn_rid", &resident_number(7), "another long passphrase").await;
    let mut other = Browser::new(&f);
    other.sign_in(&resident_number(7), "another long passphrase").await;
    assert_eq!(other.get(&format!("/me/disputes/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("/me/disputes/{id}/evidence")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/me/disputes/x").await.status, StatusCode::BAD_REQUEST);

    // The furnisher verifies, the ombudsman decides: the person sees each step and the outcome.
    let answer = json_body(json!({"outcome": "verified"}));
    let (status, body) =
        call(&f.app, "POST", &format!("/v1/verifications/{id}"), Some(&api_key("bank-one")), answer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decide = json_body(json!({"outcome": "deleted"}));
    let (status, body) =
        call(&f.app, "POST", &format!("/v1/disputes/{id}/decision"), Some(&api_key("ombudsman")), decide).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alerts = b.get("/me/alerts").await;
    assert!(alerts.body.contains(&format!("Dispute {id}: The ombudsman deleted the record")), "{}", alerts.body);
    assert!(!alerts.body.contains("reported CARD-001 as late"), "a deleted record is no longer news: {}", alerts.body);
    let page = b.get(&format!("/me/disputes/{id}")).await;
    for step in [
        "The organisation answered that the record is right",
        "The ombudsman deleted the record",
        "Decided: the record was deleted",
    ] {
        assert!(page.body.contains(step), "{step}: {}", page.body);
    }
}

/// Registers a member of the ombudsman's staff, as `candor staff add` does: their setup code.
pub(super) fn register_staff(f: &Fixture, id: &str) -> String {
    let code = candor_file::activation::ActivationCode::from_random([7; candor_file::activation::RANDOM_BYTES]);
    let org = OrgId::parse("ombudsman").expect("org");
    let member = candor_bureau::staff::NewMember { org: &org, id, name: "Li Ming" };
    let now = candor_bureau::Now::at_ms(f.clock.load(Ordering::SeqCst));
    let mut store = f.state.store.lock().expect("store");
    candor_bureau::staff::register(&mut store, &f.state.keys, &candor_bureau::Rules::default(), now, &member, &code)
        .expect("registered");
    code.to_string()
}

/// The code an authenticator holding `secret` shows at the fixture's time.
pub(super) fn totp(f: &Fixture, secret: &str) -> String {
    candor_bureau::second_factor::code_for(secret, f.clock.load(Ordering::SeqCst)).expect("base32")
}

#[tokio::test]
async fn the_ombudsman_sets_up_signs_in_with_a_second_factor_and_decides_a_case_in_the_console() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    let subject = session(&f).await;
    let claim = json!({"record_kind": "account", "record_ref": "CARD-001", "reason": "not_mine", "text": "I never had this card."});
    let (status, body) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(claim)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let setup_code = register_staff(&f, "li.ming");

    // Strangers, people and forged sessions do not reach the console.
    let mut stranger = Browser::new(&f);
    for path in ["/console", &format!("/console/disputes/{id}"), "/console/witness"] {
        assert_eq!(stranger.get(path).await.location(), "/console/sign-in", "{path}");
    }
    let mut person = Browser::new(&f);
    person.sign_in(ID.1, PASSPHRASE).await;
    assert_eq!(person.get("/console").await.location(), "/console/sign-in", "a person's session is not staff's");
    stranger.cookies.push(("__Host-candor-console".into(), "stf_forged".into()));
    assert_eq!(stranger.get("/console").await.location(), "/console/sign-in", "a forged console session");

    // Set up: the setup code and a passphrase, then a code from the new authenticator.
    let mut staff = Browser::new(&f);
    let page = staff.get("/console/setup").await;
    let csrf = page.csrf();
    let wrong = staff
        .post(
            "/console/setup",
            &[
                ("csrf", &csrf),
                ("staff", "li.ming"),
                ("setup_code", "ABCDE-FGHJK-LMNPQ-RSTVW"),
                ("passphrase", "a long staff passphrase"),
                ("passphrase_again", "a long staff passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "a wrong setup code: {}", wrong.body);
    let shown = staff
        .post(
            "/console/setup",
            &[
                ("csrf", &csrf),
                ("staff", "li.ming"),
                ("setup_code", &setup_code),
                ("passphrase", "a long staff passphrase"),
                ("passphrase_again", "a long staff passphrase"),
            ],
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let secret = shown
        .body
        .split("otpauth://totp/")
        .nth(1)
        .and_then(|r| r.split("secret=").nth(1))
        .and_then(|r| r.split('&').next())
        .expect("the secret")
        .to_owned();
    let not_yet = staff
        .post(
            "/console/sign-in",
            &[
                ("csrf", &csrf),
                ("staff", "li.ming"),
                ("passphrase", "a long staff passphrase"),
                ("code", &totp(&f, &secret)),
            ],
        )
        .await;
    assert_eq!(not_yet.status, StatusCode::UNAUTHORIZED, "not signed in before the setup is confirmed");
    let confirmed = staff
        .post(
            "/console/setup",
            &[("csrf", &csrf), ("staff", "li.ming"), ("setup_code", &setup_code), ("code", &totp(&f, &secret))],
        )
        .await;
    assert_eq!(
        (confirmed.status, confirmed.location()),
        (StatusCode::SEE_OTHER, "/console/sign-in?ready=1"),
        "{}",
        confirmed.body
    );
    let again = staff
        .post(
            "/console/setup",
            &[("csrf", &csrf), ("staff", "li.ming"), ("setup_code", &setup_code), ("code", &totp(&f, &secret))],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "a setup code is used once");

    // Signing in takes the passphrase and a fresh code, always.
    f.clock.fetch_add(30_000, Ordering::SeqCst);
    let no_code = staff
        .post("/console/sign-in", &[("csrf", &csrf), ("staff", "li.ming"), ("passphrase", "a long staff passphrase")])
        .await;
    assert_eq!(no_code.status, StatusCode::BAD_REQUEST, "the second factor is not optional");
    let bad_code = staff
        .post(
            "/console/sign-in",
            &[("csrf", &csrf), ("staff", "li.ming"), ("passphrase", "a long staff passphrase"), ("code", "000000")],
        )
        .await;
    assert_eq!(bad_code.status, StatusCode::UNAUTHORIZED);
    let signed = staff
        .post(
            "/console/sign-in",
            &[
                ("csrf", &csrf),
                ("staff", "li.ming"),
                ("passphrase", "a long staff passphrase"),
                ("code", &totp(&f, &secret)),
            ],
        )
        .await;
    assert_eq!((signed.status, signed.location()), (StatusCode::SEE_OTHER, "/console"), "{}", signed.body);
    let cookie = signed.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(
        cookie.starts_with("__Host-candor-console=stf_")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
    assert_eq!(staff.get("/me").await.location(), "/sign-in", "staff's session is not a person's");

    // The queue, the case (its opening a leaf the person sees), a preview in both languages, then the decision.
    let queue = staff.get("/console").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    assert!(queue.body.contains(&format!("/console/disputes/{id}")), "{}", queue.body);
    assert!(
        !staff.get("/console?furnisher=power-co").await.body.contains(&format!("/console/disputes/{id}")),
        "filtered out"
    );
    let case = staff.get(&format!("/console/disputes/{id}")).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    for shown in ["I never had this card.", "This is not mine", "CARD-001", "checked against the latest checkpoint"] {
        assert!(case.body.contains(shown), "{shown}: {}", case.body);
    }
    let reads = person.get("/me/reads").await;
    assert!(reads.body.contains("li.ming of ombudsman opened your case"), "{}", reads.body);
    let token = case.csrf();
    let bad = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", &token), ("ruling", "deleted:upheld_policy_applied")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "an explanation of another outcome is refused on the page");
    assert!(bad.body.contains("Pick an outcome and its explanation."), "{}", bad.body);
    let forged = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", "x"), ("ruling", "deleted:deleted_not_verifiable"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no token, no decision");
    let preview = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", &token), ("ruling", "deleted:deleted_not_verifiable")],
        )
        .await;
    assert!(
        preview.body.contains("The organisation could not show the record is right")
            && preview.body.contains("报送机构无法证明该记录正确"),
        "{}",
        preview.body
    );
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&subject), None).await;
    assert_eq!(mine["disputes"][0]["state"], "furnisher_asked", "a preview decides nothing");
    let decided = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", &token), ("ruling", "deleted:deleted_not_verifiable"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        (decided.status, decided.location()),
        (StatusCode::SEE_OTHER, format!("/console/disputes/{id}").as_str()),
        "{}",
        decided.body
    );
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&subject), None).await;
    assert_eq!(mine["disputes"][0]["state"], "deleted");
    let outcome = person.get(&format!("/me/disputes/{id}")).await;
    assert!(
        outcome.body.contains("The organisation could not show the record is right, so it was deleted."),
        "{}",
        outcome.body
    );
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let decided_leaf = reads["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["kind"] == "dispute_decided")
        .cloned()
        .expect("leaf");
    assert_eq!(
        (decided_leaf["explanation"].as_str(), decided_leaf["staff"].as_str()),
        (Some("deleted_not_verifiable"), Some("li.ming"))
    );

    // Malformed requests get clear answers and change nothing.
    assert_eq!(staff.get("/console/disputes/x").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(staff.get("/console/disputes/999999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        staff.get(&format!("/console/disputes/{id}/evidence")).await.status,
        StatusCode::NOT_FOUND,
        "none was sent"
    );
    assert_eq!(staff.get("/console?after=x").await.status, StatusCode::BAD_REQUEST);
    let token = staff.get("/console").await.csrf();
    let extra = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", &token), ("ruling", "verified:verified_furnisher_records"), ("colour", "red")],
        )
        .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST, "a field the form does not have");
    let again = staff
        .post(
            &format!("/console/disputes/{id}/decide"),
            &[("csrf", &token), ("ruling", "verified:verified_furnisher_records"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a decided case is not decided twice");
    assert!(again.body.contains("role=\"alert\""), "{}", again.body);
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&subject), None).await;
    assert_eq!(mine["disputes"][0]["state"], "deleted", "still as decided");
    let mut fresh = Browser::new(&f);
    let page = fresh.get("/console/setup").await;
    let bad_code = fresh
        .post(
            "/console/setup",
            &[
                ("csrf", &page.csrf()),
                ("staff", "li.ming"),
                ("setup_code", "x"),
                ("passphrase", "a long staff passphrase"),
                ("passphrase_again", "a long staff passphrase"),
            ],
        )
        .await;
    assert_eq!(bad_code.status, StatusCode::BAD_REQUEST, "not a setup code as printed");
    let bad_id = fresh
        .post("/console/sign-in", &[("csrf", &page.csrf()), ("staff", "Li Ming!"), ("passphrase", "x"), ("code", "1")])
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "not a staff id");

    // The witness page checks the log and refuses a note that is not a cosigned checkpoint.
    let witness = staff.get("/console/witness").await;
    assert_eq!(witness.status, StatusCode::OK, "{}", witness.body);
    assert!(witness.body.contains("candor.local/log"));
    let note = staff.post("/console/witness", &[("csrf", &witness.csrf()), ("note", "not a note")]).await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.body);
    assert!(note.body.contains("role=\"alert\""), "{}", note.body);
    let out = staff.post("/console/sign-out", &[("csrf", &witness.csrf())]).await;
    assert_eq!(out.location(), "/console/sign-in");
}

#[tokio::test]
async fn a_person_turns_a_second_factor_on_and_off_and_adds_a_statement_from_the_portal() {
    let f = fixture();
    example_batch(&f).await;
    session(&f).await;
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    let page = b.get("/me/security").await;
    assert!(page.body.contains("No second factor is on."), "{}", page.body);
    let csrf = page.csrf();
    let started = b.post("/me/security", &[("csrf", &csrf), ("action", "start")]).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let secret = started.body.split("secret=").nth(1).and_then(|r| r.split('&').next()).expect("secret").to_owned();
    let recovery: Vec<String> =
        started.body.split("<li><code>").skip(1).filter_map(|r| r.split('<').next().map(str::to_owned)).collect();
    assert_eq!(recovery.len(), 10, "ten recovery codes, shown once");
    let wrong = b.post("/me/security", &[("csrf", &csrf), ("action", "confirm"), ("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("The code is not the one your authenticator shows now."), "{}", wrong.body);
    let on = b.post("/me/security", &[("csrf", &csrf), ("action", "confirm"), ("code", &totp(&f, &secret))]).await;
    assert_eq!(on.location(), "/me/security?done=factor-on");
    assert!(b.get("/me/reads").await.body.contains("You turned on a second factor"));

    // Signing in now takes a code.
    f.clock.fetch_add(30_000, Ordering::SeqCst);
    let mut again = Browser::new(&f);
    let without = again.sign_in(ID.1, PASSPHRASE).await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert!(without.body.contains("enter the code your authenticator shows"), "{}", without.body);
    let page = again.get("/sign-in").await;
    let with = again
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("scheme", "cn_rid"),
                ("number", ID.1),
                ("passphrase", PASSPHRASE),
                ("code", &totp(&f, &secret)),
            ],
        )
        .await;
    assert_eq!(with.location(), "/me", "{}", with.body);
    let token = again.get("/me").await.csrf();
    let off = again.post("/me/security", &[("csrf", &token), ("action", "off"), ("code", &recovery[0])]).await;
    assert_eq!(off.location(), "/me/security?done=factor-off", "a recovery code turns it off: {}", off.body);
    let bad = again.post("/me/security", &[("csrf", &csrf), ("action", "sideways")]).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN, "the first session's token is not this one's");

    // A statement on an account, shown with it on the page and in the API's file.
    let token = again.get("/me/file").await.csrf();
    let saved = again
        .post(
            "/me/statements",
            &[("csrf", &token), ("record_ref", "CARD-001"), ("text", "I was in hospital in September.")],
        )
        .await;
    assert_eq!(saved.location(), "/me/file?done=statement");
    let file = again.get("/me/file?done=statement").await;
    assert!(
        file.body.contains("I was in hospital in September.") && file.body.contains("Your statement is saved"),
        "{}",
        file.body
    );
    let long = "x".repeat(1_001);
    let refused = again.post("/me/statements", &[("csrf", &token), ("record_ref", "CARD-001"), ("text", &long)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let forged = again.post("/me/statements", &[("csrf", "x"), ("record_ref", "CARD-001"), ("text", "not mine")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!again.get("/me/file").await.body.contains("not mine"));
}

#[tokio::test]
async fn a_person_without_a_code_enrols_by_questions_from_their_own_file_in_the_portal() {
    let f = fixture();
    example_batch(&f).await;
    let mut b = Browser::new(&f);
    b.accept_language = "zh-CN";
    let page = b.get("/enrol").await;
    let csrf = page.csrf();
    let asked = b.post("/enrol/questions", &[("csrf", &csrf), ("scheme", "cn_rid"), ("number", ID.1)]).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(
        asked.body.contains("以下哪些机构") && asked.body.contains("1 至 3 年前"),
        "the questions in Chinese: {}",
        asked.body
    );
    assert!(
        asked.body.contains("value=\"bank-one\"") && !asked.body.contains(ID.1),
        "never the identifier in the page"
    );
    let pending = asked
        .body
        .split("name=\"pending\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("pending")
        .to_owned();
    let answer = |orgs: &[&'static str], limit: &'static str| {
        let mut v: Vec<(&str, String)> = vec![("csrf", csrf.clone()), ("pending", pending.clone())];
        v.extend(orgs.iter().map(|o| ("organisations", (*o).to_owned())));
        v.extend([("largest_limit", limit.to_owned()), ("oldest_account", "1_to_3".to_owned())]);
        v.extend([
            ("passphrase", "answered it myself".to_owned()),
            ("passphrase_again", "answered it myself".to_owned()),
        ]);
        v
    };
    let wrong = b.post_pairs(answer(&["bank-one", "power-co"], "up_to_20000")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "a decoy picked: {}", wrong.body);
    let mut tampered = answer(&["bank-one"], "up_to_20000");
    tampered[1].1 = "00".repeat(60);
    assert_eq!(b.post_pairs(tampered).await.status, StatusCode::FORBIDDEN, "the sealed identifier cannot be forged");
    let right = b.post_pairs(answer(&["bank-one"], "up_to_20000")).await;
    assert_eq!((right.status, right.location()), (StatusCode::SEE_OTHER, "/sign-in?enrolled=1"), "{}", right.body);
    assert_eq!(b.sign_in(ID.1, "answered it myself").await.location(), "/me");
}

#[tokio::test]
async fn the_what_if_simulator_scores_what_the_person_could_change_and_nothing_else() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    session(&f).await;
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    let page = b.get("/me/score").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The test model's one actionable characteristic is revolving utilisation (index 1).
    assert!(page.body.contains("name=\"w1\"") && !page.body.contains("name=\"w0\""), "{}", page.body);
    assert!(page.body.contains("%"), "utilisation in percentages: {}", page.body);
    let score = |body: &str| -> i32 {
        body.split("With these, your score would be <strong>")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .and_then(|n| n.parse().ok())
            .expect("a what-if score")
    };
    let first = b.get("/me/score?w1=0").await;
    let last_bin = page.body.matches("<option value=\"").count() - 1;
    let other = b.get(&format!("/me/score?w1={last_bin}")).await;
    assert_ne!(score(&first.body), score(&other.body), "moving utilisation moves the score");
    assert_eq!(b.get("/me/score?w0=0").await.status, StatusCode::BAD_REQUEST, "not actionable");
    assert_eq!(b.get("/me/score?w1=99").await.status, StatusCode::BAD_REQUEST, "not a bin");
    assert_eq!(b.get("/me/score?x=1").await.status, StatusCode::BAD_REQUEST);
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&sign_in(&f).await), None).await;
    assert!(!reads.to_string().contains("\"read\""), "trying what-ifs is nobody's read");
}

/// A file the deployed model does not score: the overview and the score page say so in the
/// page's language, with no what-if to try, and a what-if asked for anyway is a clear error.
#[tokio::test]
async fn a_file_with_too_little_history_is_told_so_and_has_nothing_to_try() {
    let f = fixture();
    example_batch(&f).await;
    let model = Some(("application/json", crate::model_out_of_reach().into_bytes()));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), model).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    session(&f).await;
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    for path in ["/me", "/me/score"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("not enough recent history on your file"), "{path}: {}", page.body);
        assert!(!page.body.contains("score-number"), "{path}: no number");
    }
    let page = b.get("/me/score").await;
    assert!(!page.body.contains("name=\"w1\""), "nothing to try: {}", page.body);
    assert_eq!(b.get("/me/score?w1=0").await.status, StatusCode::BAD_REQUEST, "no score to move");
    b.accept_language = "zh-CN,zh;q=0.9";
    let chinese = b.get("/me/score").await;
    assert!(chinese.body.contains("近期的历史不足以评分"), "{}", chinese.body);
}

#[tokio::test]
async fn a_person_asks_a_human_to_review_a_decision_from_who_looked() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    let subject = session(&f).await;
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-06-30"});
    call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    let strict =
        json!({"bands": [{"min_score": 300, "decision": "decline"}, {"min_score": 899, "decision": "waive_deposit"}]});
    call(&f.app, "PUT", "/v1/policies/strict", Some(&api_key("shop")), json_body(strict)).await;
    let decide = json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver", "policy": "strict"});
    let (status, decision) = call(&f.app, "POST", "/v1/decisions", Some(&api_key("shop")), json_body(decide)).await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    let leaf = decision["leaf"].as_i64().expect("leaf").to_string();
    let mut b = Browser::new(&f);
    b.sign_in(ID.1, PASSPHRASE).await;
    let reads = b.get("/me/reads").await;
    assert!(
        reads.body.contains(&format!("name=\"leaf\" value=\"{leaf}\"")),
        "a review button on the decision: {}",
        reads.body
    );
    let csrf = reads.csrf();
    let not_a_decision = b.post("/me/reviews", &[("csrf", &csrf), ("leaf", "0")]).await;
    assert_eq!(not_a_decision.status, StatusCode::NOT_FOUND, "a leaf not about the person");
    let bad = b.post("/me/reviews", &[("csrf", &csrf), ("leaf", "x")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let asked = b.post("/me/reviews", &[("csrf", &csrf), ("leaf", &leaf)]).await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let page = b.get(asked.location()).await;
    assert!(page.body.contains("Decision") && page.body.contains("You opened the dispute"), "{}", page.body);
    let (_, queue) = call(&f.app, "GET", "/v1/disputes", Some(&api_key("ombudsman")), None).await;
    assert_eq!(queue["disputes"][0]["record_kind"], "decision", "in the ombudsman's queue: {queue}");
}

/// The one stylesheet: every block closed (a stray brace silently drops the rules after it).
#[test]
fn the_stylesheet_s_blocks_are_balanced() {
    let css = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/portal.css")).expect("css");
    let mut depth = 0i32;
    for (i, c) in css.chars().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a closing brace without an opening one at character {i}");
    }
    assert_eq!(depth, 0, "a block left open");
}
