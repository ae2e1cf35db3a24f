//! The route table: every route, who may call it, what it does, which handler serves it, and
//! the wire types of its query, request body and answers. The router, the OpenAPI document and
//! the route × role test all come from it.

use axum::routing::on;

use super::{batches, disputes, enrolment, log, me, operator, perks, reads, statistics};
use super::{route, PageQuery, RouteSpec, SchemaOf};
use crate::wire;

/// The schema of `T`, for the table.
fn schema<T: schemars::JsonSchema>(g: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    g.subschema_for::<T>()
}

/// A list's page, as its query.
const PAGE: SchemaOf = schema::<PageQuery>;

use super::Role::*;

/// Every route, who may call it, what it does and what serves it: the one list the router, the
/// OpenAPI document and the authorisation test come from.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/healthz", &[Anyone], "Liveness.", |m| on(m, operator::healthz)).answers(&[200], schema::<wire::Health>),
    route("GET", "/metrics", &[Anyone], "Prometheus metrics (counts only).", |m| on(m, operator::metrics)).answers_text(&[200], "text/plain"),
    route("GET", "/openapi.json", &[Anyone], "This API, as OpenAPI 3.", |m| on(m, operator::openapi)).answers(&[200], schema::<serde_json::Value>),
    route(
        "POST",
        "/v1/batches",
        &[Furnisher, Court],
        "Submit a batch (JSON Lines, CSV or Metro 2); applied whole or refused whole.",
        |m| on(m, batches::submit),
    ).query(schema::<batches::BatchQuery>).text(&["application/x-ndjson", "text/csv", "application/octet-stream"]).answers(&[200, 201], schema::<wire::BatchApplied>),
    route(
        "GET",
        "/v1/batches/{id}",
        &[Furnisher, Court],
        "One of your batches: what was applied and what was held back, and why.",
        |m| on(m, batches::result),
    ).answers(&[200], schema::<wire::Batch>),
    route(
        "POST",
        "/v1/subjects",
        &[Anyone],
        "Enrol: opt in with a national identifier, a proof (the activation code the bureau sent you, or answers to the questions from your file) and a passphrase. Enrolling again takes a code, ends every session and makes lifting a freeze and new consents wait out a cooling-off period, as does an enrolment proven by answers.",
        |m| on(m, enrolment::enrol),
    ).json(schema::<enrolment::Enrolment>).answers(&[201], schema::<wire::Enrolled>),
    route(
        "POST",
        "/v1/subjects/questions",
        &[Anyone],
        "Questions from your own file, with decoys, to enrol without an activation code (the same shape for anyone; three wrong answers in 30 days close them for the identifier).",
        |m| on(m, enrolment::questions),
    ).json(schema::<enrolment::Asking>).answers(&[200], schema::<wire::Questions>),
    route(
        "POST",
        "/v1/sessions",
        &[Anyone],
        "Sign in as an enrolled subject; returns an expiring session token.",
        |m| on(m, enrolment::sign_in),
    ).json(schema::<enrolment::Credentials>).answers(&[200], schema::<wire::Session>),
    route(
        "DELETE",
        "/v1/me/enrolment",
        &[Subject],
        "Withdraw: your passphrase is forgotten and every session of yours ends (the file furnishers send stays, as the law has it).",
        |m| on(m, enrolment::withdraw),
    ).answers(&[200], schema::<wire::Withdrawn>),
    route(
        "PUT",
        "/v1/me/freeze",
        &[Subject],
        "Freeze your file: every score and decision request is refused, consent or not, until you lift it.",
        |m| on(m, me::freeze),
    ).answers(&[200], schema::<wire::Frozen>),
    route("DELETE", "/v1/me/freeze", &[Subject], "Lift the freeze on your file, at once.", |m| on(m, me::lift_freeze)).answers(&[200], schema::<wire::Frozen>),
    route("GET", "/v1/me/file", &[Subject], "Your file, as of a date (`?as_of=YYYY-MM-DD`).", |m| on(m, me::file)).query(schema::<me::AsOf>).answers(&[200], schema::<wire::File>),
    route("GET", "/v1/me/score", &[Subject], "Your score with its reasons and what would raise it.", |m| {
        on(m, me::score)
    }).answers(&[200], schema::<wire::OwnScore>),
    route(
        "GET",
        "/v1/me/reads",
        &[Subject],
        "Every read of your file, refused read and consent change, from the log.",
        |m| on(m, me::reads),
    ).query(PAGE).answers(&[200], schema::<wire::Entries>),
    route("GET", "/v1/me/consents", &[Subject], "Your consents.", |m| on(m, me::consents)).query(PAGE).answers(&[200], schema::<wire::Consents>),
    route("POST", "/v1/me/consents", &[Subject], "Grant an organisation a purpose until a date.", |m| {
        on(m, me::grant)
    }).json(schema::<me::Grant>).answers(&[201], schema::<wire::ConsentShown>),
    route("DELETE", "/v1/me/consents/{org}/{purpose}", &[Subject], "Revoke a consent.", |m| on(m, me::revoke)).answers(&[200], schema::<wire::Revoked>),
    route("GET", "/v1/me/disputes", &[Subject], "Your disputes and where each stands.", |m| {
        on(m, disputes::mine)
    }).query(PAGE).answers(&[200], schema::<wire::Disputes>),
    route(
        "POST",
        "/v1/me/disputes",
        &[Subject],
        "Dispute a record of your file; it is marked disputed at once (blocked at once, with `identity_theft_report`).",
        |m| on(m, disputes::open),
    ).json(schema::<disputes::DisputeRequest>).answers(&[201], schema::<wire::Dispute>),
    route(
        "POST",
        "/v1/me/statements",
        &[Subject],
        "Attach your statement to a record; it is shown with the record in every report.",
        |m| on(m, me::attach_statement),
    ).json(schema::<me::Statement>).answers(&[201], schema::<wire::Attached>),
    route(
        "POST",
        "/v1/me/reviews",
        &[Subject],
        "Ask for human review of a decision made on your score (by its log leaf).",
        |m| on(m, disputes::request_review),
    ).json(schema::<disputes::ReviewRequest>).answers(&[201], schema::<wire::Dispute>),
    route(
        "POST",
        "/v1/me/second-factor",
        &[Subject],
        "Start turning on a second factor for signing in (TOTP): the secret for an authenticator app and ten recovery codes, shown this once; in force once confirmed.",
        |m| on(m, enrolment::start_second_factor),
    ).answers(&[201], schema::<wire::SecondFactorStarted>),
    route(
        "POST",
        "/v1/me/second-factor/confirm",
        &[Subject],
        "Put the second factor in force with a code the authenticator shows.",
        |m| on(m, enrolment::confirm_second_factor),
    ).json(schema::<enrolment::Code>).answers(&[200], schema::<wire::SecondFactorState>),
    route(
        "POST",
        "/v1/me/second-factor/off",
        &[Subject],
        "Turn the second factor off, with a code from it or a recovery code.",
        |m| on(m, enrolment::turn_off_second_factor),
    ).json(schema::<enrolment::Code>).answers(&[200], schema::<wire::SecondFactorState>),
    route(
        "GET",
        "/v1/verifications",
        &[Furnisher, Court],
        "Disputes of records you furnished, waiting for you to verify or correct them, with their deadlines.",
        |m| on(m, disputes::verifications),
    ).query(PAGE).answers(&[200], schema::<wire::Disputes>),
    route(
        "POST",
        "/v1/verifications/{id}",
        &[Furnisher, Court],
        "Answer a dispute of your record: verified as accurate, or corrected (send the corrected record in a batch first).",
        |m| on(m, disputes::verify),
    ).json(schema::<disputes::Outcome>).answers(&[200], schema::<wire::Step>),
    route(
        "GET",
        "/v1/disputes",
        &[Ombudsman],
        "The queue: every dispute and review not yet decided, by due date, the overdue marked.",
        |m| on(m, disputes::queue),
    ).query(PAGE).answers(&[200], schema::<wire::Disputes>),
    route(
        "POST",
        "/v1/disputes/{id}/decision",
        &[Ombudsman],
        "Decide a dispute (verified, corrected, deleted) or a review (upheld, overridden).",
        |m| on(m, disputes::decide),
    ).json(schema::<disputes::RulingRequest>).answers(&[200], schema::<wire::Step>),
    route(
        "GET",
        "/v1/notifications",
        &[Lender],
        "Corrections to files you received reports from in the last 6 months, re-scored.",
        |m| on(m, reads::notifications),
    ).query(PAGE).answers(&[200], schema::<wire::Notifications>),
    route(
        "POST",
        "/v1/scores",
        &[Lender],
        "A score with reasons, for a purpose the person consented to.",
        |m| on(m, reads::score),
    ).json(schema::<reads::ReadRequest>).answers(&[200], schema::<wire::ScoreGiven>),
    route(
        "PUT",
        "/v1/policies/{name}",
        &[Lender],
        "Define (a new version of) a decision policy: score bands and their decisions, covering the deployed model's scale.",
        |m| on(m, reads::put_policy),
    ).json(schema::<reads::PolicyBody>).answers(&[201], schema::<wire::PolicyVersion>),
    route(
        "POST",
        "/v1/decisions",
        &[Lender],
        "A decision under one of your policies, with consent; a decline carries its adverse-action reasons.",
        |m| on(m, reads::decide),
    ).json(schema::<reads::ReadRequest>).answers(&[200], schema::<wire::ScoreGiven>),
    route(
        "GET",
        "/v1/log/leaves/{index}/proof",
        &[Subject, Auditor, Ombudsman],
        "An inclusion proof for a log entry in the log of `?size=` leaves (default: now), to check against a checkpoint you hold (a subject: only entries about them).",
        |m| on(m, log::proof),
    ).query(schema::<log::ProofAt>).answers(&[200], schema::<wire::Inclusion>),
    route(
        "GET",
        "/v1/log/checkpoint",
        &[Anyone],
        "The log's size and root now, signed by the bureau (a C2SP signed note holding a tlog-checkpoint).",
        |m| on(m, log::checkpoint),
    ).answers_text(&[200], "text/plain"),
    route(
        "GET",
        "/v1/log/public-key",
        &[Anyone],
        "The key that verifies the log's checkpoints, as a C2SP signed-note verifier key (`name+key id+base64 key`).",
        |m| on(m, log::public_key),
    ).answers_text(&[200], "text/plain"),
    route(
        "GET",
        "/v1/log/consistency",
        &[Anyone],
        "A proof that the log at `?from=` leaves is a prefix of the log at `?to=`.",
        |m| on(m, log::consistency),
    ).query(schema::<log::Sizes>).answers(&[200], schema::<wire::Consistency>),
    route(
        "PUT",
        "/v1/perks/points/{point}",
        &[Lender],
        "Register (or move, or change the perks of) one of your service points: a place and a perk per score band.",
        |m| on(m, perks::put_point),
    ).json(schema::<perks::PointBody>).answers(&[201], schema::<wire::Registered>),
    route("DELETE", "/v1/perks/points/{point}", &[Lender], "Remove one of your service points.", |m| {
        on(m, perks::remove_point)
    }).answers(&[200], schema::<wire::Removed>),
    route(
        "POST",
        "/v1/me/perks",
        &[Subject],
        "Service points within a radius (default 500 m) of a place you name that would serve you without a deposit; the place is neither stored nor logged.",
        |m| on(m, perks::mine),
    ).json(schema::<perks::PerksQuery>).answers(&[200], schema::<wire::Perks>),
    route(
        "GET",
        "/v1/statistics/regions",
        &[Lender, Auditor, Operator],
        "People and the share 30+ days late in the last 12 months, by region, only for regions of at least k people (`?k=`, never below 20).",
        |m| on(m, statistics::regions),
    ).query(schema::<statistics::StatsQuery>).answers(&[200], schema::<wire::Regions>),
    route(
        "PUT",
        "/v1/log/witness-key",
        &[Ombudsman],
        "Register your witness key (a name and an Ed25519 public key, hex or a verifier key) for cosigning checkpoints.",
        |m| on(m, log::put_witness_key),
    ).json(schema::<log::WitnessKey>).answers(&[201], schema::<wire::Registered>),
    route(
        "POST",
        "/v1/log/cosignatures",
        &[Ombudsman],
        "Hand back a bureau checkpoint you cosigned as a witness (the signed note with your C2SP cosignature/v1 line added).",
        |m| on(m, log::cosign),
    ).text(&["text/plain"]).answers(&[201], schema::<wire::Cosigned>),
    route(
        "GET",
        "/v1/log/cosigned",
        &[Anyone],
        "The largest checkpoint a witness countersigned: the note with the bureau's and the witness's signatures.",
        |m| on(m, log::cosigned),
    ).answers_text(&[200], "text/plain"),
    route(
        "POST",
        "/v1/operator/invites",
        &[Operator],
        "Issue a person an activation code (shown this once; kept as a keyed hash; it expires) to send them out of band.",
        |m| on(m, enrolment::invite),
    ).json(schema::<enrolment::Invitee>).answers(&[201], schema::<wire::Invitation>),
    route("POST", "/v1/operator/suspend", &[Operator], "Stop all scoring at once.", |m| on(m, operator::suspend)).answers(&[200], schema::<wire::ScoringState>),
    route("POST", "/v1/operator/resume", &[Operator], "Resume scoring.", |m| on(m, operator::resume)).answers(&[200], schema::<wire::ScoringState>),
    route(
        "PUT",
        "/v1/operator/model",
        &[Operator],
        "Deploy a model document from `candor fit` as a new version (earlier versions stay, for replay); refused unless its characteristics are the file's features and every policy covers its scale.",
        |m| on(m, operator::deploy),
    ).text(&["application/json"]).answers(&[201], schema::<wire::Deployed>),
    route(
        "POST",
        "/v1/operator/purge",
        &[Operator],
        "Run the retention purge now: delete what retention hides, keeping its hashes and a log leaf.",
        |m| on(m, operator::purge),
    ).answers(&[200], schema::<wire::Purged>),
    route(
        "GET",
        "/v1/log/leaves/{index}/replay",
        &[Ombudsman, Auditor],
        "Score a logged read or decision again from its logged inputs, model version and policy version; says whether it matches.",
        |m| on(m, log::replay),
    ).answers(&[200], schema::<wire::Replay>),
];
