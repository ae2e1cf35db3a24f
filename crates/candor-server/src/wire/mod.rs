//! The JSON the API answers with: one type per response body, made from the bureau's types and
//! deriving its schema, so the OpenAPI document shows exactly what a route sends. This is the
//! only place a wire shape is written; a change to one is a change here.

mod file;
mod log;

pub use file::*;
pub use log::*;
use schemars::JsonSchema;
use serde::Serialize;

/// A page of a list: its items under the list's name, and the key to ask the next page after
/// (`?after=`; none on the last page).
macro_rules! pages {
    ($($name:ident { $field:ident: $item:ty }),* $(,)?) => {$(
        #[derive(Serialize, JsonSchema)]
        pub struct $name {
            pub $field: Vec<$item>,
            pub next: Option<i64>,
        }

        impl $name {
            pub fn of<T>(page: &candor_bureau::Paged<T>, item: impl Fn(&T) -> $item) -> $name {
                $name { $field: page.items.iter().map(item).collect(), next: page.next }
            }
        }
    )*};
}

pages! {
    Entries { entries: Entry },
    Notifications { notifications: Entry },
    Consents { consents: ConsentShown },
    Disputes { disputes: Dispute },
}

/// What a batch did.
#[derive(Serialize, JsonSchema)]
pub struct BatchApplied {
    pub batch_id: i64,
    /// The same bytes were applied before (as `batch_id`); nothing changed.
    pub duplicate: bool,
    pub reports: usize,
    pub accounts: usize,
    pub quarantined: usize,
    /// The log leaf recording the batch.
    pub leaf: i64,
}

/// One of the caller's batches: what was applied and what was held back, and why.
#[derive(Serialize, JsonSchema)]
pub struct Batch {
    pub batch_id: i64,
    pub sender: String,
    pub format: String,
    pub records: i64,
    pub applied: i64,
    pub quarantined: i64,
    pub held_back: Vec<HeldBack>,
    pub recorded_ms: i64,
}

/// A record of a batch held back from the file, by the rule it broke.
#[derive(Serialize, JsonSchema)]
pub struct HeldBack {
    /// Its number in the batch, from 1.
    pub record: i64,
    pub rule: String,
    pub message: String,
}

/// The enrolment questions: answer each by its choices' ids.
#[derive(Serialize, JsonSchema)]
pub struct Questions {
    pub questions: Vec<Question>,
}

#[derive(Serialize, JsonSchema)]
pub struct Question {
    pub id: &'static str,
    pub prompt: &'static str,
    /// Whether several choices may be picked (perhaps none).
    pub multiple: bool,
    pub choices: Vec<Choice>,
}

#[derive(Serialize, JsonSchema)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

pub fn questions(asked: &[candor_bureau::proofing::Question]) -> Questions {
    Questions {
        questions: asked
            .iter()
            .map(|q| Question {
                id: q.id,
                prompt: q.prompt,
                multiple: q.multiple,
                choices: q.choices.iter().map(|c| Choice { id: c.id.clone(), label: c.label.clone() }).collect(),
            })
            .collect(),
    }
}

#[derive(Serialize, JsonSchema)]
pub struct Enrolled {
    pub enrolled: bool,
    /// The identifier, masked.
    pub masked: String,
    /// For an enrolment over an earlier one, or proven by answers: until when lifting a freeze
    /// and new consents wait.
    pub cooling_off_until_ms: Option<i64>,
}

/// A second factor being turned on: the secret for an authenticator app (base32, and as an
/// `otpauth://` URI to show as a QR code), and the recovery codes, shown this once.
#[derive(Serialize, JsonSchema)]
pub struct SecondFactorStarted {
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

/// Whether the person's second factor is on.
#[derive(Serialize, JsonSchema)]
pub struct SecondFactorState {
    pub second_factor: String,
}

/// An activation code for a person, shown this once: send it to them out of band.
#[derive(Serialize, JsonSchema)]
pub struct Invitation {
    pub masked: String,
    /// 20 letters and digits in groups of four.
    pub activation_code: String,
    pub expires_ms: i64,
}

/// A session: the token to send as `Authorization: Bearer`, and when it ends.
#[derive(Serialize, JsonSchema)]
pub struct Session {
    pub token: String,
    pub expires_ms: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct Withdrawn {
    pub withdrawn: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct Frozen {
    pub frozen: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct Revoked {
    pub revoked: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct Attached {
    pub attached: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct Registered {
    pub registered: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct Removed {
    pub removed: bool,
}

/// A dispute after a step: its id and where it stands.
#[derive(Serialize, JsonSchema)]
pub struct Step {
    pub id: i64,
    pub state: String,
}

/// A policy's version: the SHA-256 of its stored text.
#[derive(Serialize, JsonSchema)]
pub struct PolicyVersion {
    pub version: String,
}

/// Service points that would serve the person near the place they named.
#[derive(Serialize, JsonSchema)]
pub struct Perks {
    /// Null for a person the model does not score (no perk that asks for a score serves them).
    pub score: Option<i32>,
    pub radius_m: f64,
    pub points: Vec<PerkNearby>,
}

#[derive(Serialize, JsonSchema)]
pub struct PerkNearby {
    pub merchant: String,
    pub point: String,
    /// Rounded, so the answer does not pin the person's place.
    pub distance_m: f64,
    pub perk: String,
}

pub fn perks(score: Option<i32>, radius_m: f64, found: &[candor_bureau::perks::Serving]) -> Perks {
    let points = found
        .iter()
        .map(|n| PerkNearby {
            merchant: n.merchant.clone(),
            point: n.point.clone(),
            distance_m: n.distance_m,
            perk: n.perk.clone(),
        })
        .collect();
    Perks { score, radius_m, points }
}

/// Regional statistics: only cells of at least k people.
#[derive(Serialize, JsonSchema)]
pub struct Regions {
    pub k: u64,
    /// What `rate` measures.
    pub measure: String,
    pub regions: Vec<Region>,
    pub suppressed_cells: u64,
    pub suppressed_people: u64,
    /// When the figures were counted (ms since 1970): they are recounted on a schedule.
    pub counted_ms: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct Region {
    pub region: String,
    pub people: u64,
    pub rate: f64,
}

pub fn regions(table: &candor_file::stats::RegionTable, counted_ms: i64) -> Regions {
    Regions {
        k: table.k,
        measure: candor_bureau::stats::MEASURE.to_owned(),
        regions: table
            .cells
            .iter()
            .map(|c| Region { region: c.region.clone(), people: c.people, rate: c.rate })
            .collect(),
        suppressed_cells: table.suppressed_cells,
        suppressed_people: table.suppressed_people,
        counted_ms,
    }
}

#[derive(Serialize, JsonSchema)]
pub struct Health {
    pub status: String,
}

/// Whether scoring runs (`running`) or the operator stopped it (`suspended`).
#[derive(Serialize, JsonSchema)]
pub struct ScoringState {
    pub scoring: String,
}

#[derive(Serialize, JsonSchema)]
pub struct Deployed {
    pub model_version: String,
}

/// What the retention purge deleted.
#[derive(Serialize, JsonSchema)]
pub struct Purged {
    pub purge_id: i64,
    pub reports_deleted: u64,
    pub court_records_deleted: u64,
}
