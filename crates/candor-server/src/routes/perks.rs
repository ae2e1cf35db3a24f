//! The perks map: merchants register service points; a person asks which would serve them
//! without a deposit near a place they name, which is neither stored nor logged.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::gate;
use candor_file::model::OrgId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{deployed, ok, parse_json, with_store, Answer, Caller, Key, Shared};
use crate::{ApiError, State};

/// Most perks one service point may list.
const MAX_PERKS: usize = 10;
/// Longest perk description, in characters.
const MAX_PERK_CHARS: usize = 200;

/// A service point as a merchant registers it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PointBody {
    lat: f64,
    lon: f64,
    perks: Vec<PerkBody>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PerkBody {
    min_score: i32,
    deposit_waived: bool,
    description: String,
}

impl PointBody {
    /// The place, if the point is sound; scores are checked against the scale `(min, max)`.
    fn check(&self, (min, max): (i32, i32)) -> Result<candor_perks::Place, ApiError> {
        let place = candor_perks::Place::new(self.lat, self.lon).map_err(|e| {
            let field = if matches!(e, candor_perks::PlaceError::Latitude) { "lat" } else { "lon" };
            ApiError::bad_request("bad_place", e.to_string()).field(field)
        })?;
        let bad = |m: String| Err(ApiError::bad_request("bad_perks", m).field("perks"));
        if self.perks.is_empty() || self.perks.len() > MAX_PERKS {
            return bad(format!("a point lists 1 to {MAX_PERKS} perks"));
        }
        for p in &self.perks {
            if !(min..=max).contains(&p.min_score) {
                return bad(format!("min_score is a score from {min} to {max}"));
            }
            if p.description.trim().is_empty()
                || p.description.chars().count() > MAX_PERK_CHARS
                || p.description.chars().any(char::is_control)
            {
                return bad(format!("a description is 1 to {MAX_PERK_CHARS} characters of text"));
            }
        }
        Ok(place)
    }
}

/// The scale perks are checked against: the deployed model's, or the default one.
fn scale(state: &State) -> Result<(i32, i32), ApiError> {
    Ok(state.deployed()?.map_or_else(
        || {
            let s = candor_scorecard::Scaling::default();
            (s.min_score, s.max_score)
        },
        |d| d.range(),
    ))
}

/// The perks map the service answers from: the spatial index, and each point's owner and name.
pub struct PerksMap {
    index: candor_perks::PerksIndex,
    names: Vec<(String, String)>,
}

fn perks_map(s: &State, store: &mut candor_store::Store) -> Result<Arc<PerksMap>, ApiError> {
    if let Some(map) = s.perks.lock().map_err(|_| ApiError::internal())?.clone() {
        return Ok(map);
    }
    let rows = store.service_points()?;
    let mut points = Vec::with_capacity(rows.len());
    let mut names = Vec::with_capacity(rows.len());
    for (org, point, body) in rows {
        let b: PointBody = serde_json::from_str(&body).map_err(|_| ApiError::internal())?;
        // A point stored under an earlier scale still places; its perks keep their thresholds.
        let place = b.check((i32::MIN, i32::MAX)).map_err(|_| ApiError::internal())?;
        let perks = b
            .perks
            .into_iter()
            .map(|p| candor_perks::Perk {
                min_score: p.min_score,
                deposit_waived: p.deposit_waived,
                description: p.description,
            })
            .collect();
        points.push(candor_perks::ServicePoint { id: names.len() as u64, merchant: org.clone(), place, perks });
        names.push((org, point));
    }
    let map = Arc::new(PerksMap { index: candor_perks::PerksIndex::new(points), names });
    *s.perks.lock().map_err(|_| ApiError::internal())? = Some(map.clone());
    Ok(map)
}

fn point_name(point: &str) -> Result<String, ApiError> {
    candor_file::model::parse_reference(point)
        .map_err(|e| ApiError::bad_request("bad_point", e.to_string()).field("point"))
}

/// Records a service point's new body (empty: removed) and drops the built map.
fn store_point(
    s: &State,
    store: &mut candor_store::Store,
    org: &OrgId,
    point: &str,
    body: &str,
) -> Result<(), ApiError> {
    store.put_service_point(org, point, body, s.now_ms())?;
    *s.perks.lock().map_err(|_| ApiError::internal())? = None;
    Ok(())
}

pub(super) async fn put_point(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(point): Key<String>,
    body: Bytes,
) -> Answer {
    let org = caller.org("register service points")?.id.clone();
    let point = point_name(&point)?;
    let b: PointBody = parse_json(&body)?;
    b.check(scale(&state)?)?;
    let text = serde_json::to_string(&b).map_err(|_| ApiError::internal())?;
    with_store(&state, move |s, store| store_point(s, store, &org, &point, &text)).await?;
    ok(StatusCode::CREATED, json!({"registered": true}))
}

pub(super) async fn remove_point(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(point): Key<String>,
) -> Answer {
    let org = caller.org("remove service points")?.id.clone();
    let point = point_name(&point)?;
    with_store(&state, move |s, store| {
        let exists = perks_map(s, store)?.names.iter().any(|(o, p)| o == org.as_str() && *p == point);
        if !exists {
            return Err(ApiError::not_found("service point of yours"));
        }
        store_point(s, store, &org, &point, "")
    })
    .await?;
    ok(StatusCode::OK, json!({"removed": true}))
}

/// The place a person asks about: only ever an argument, never stored or logged.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PerksQuery {
    lat: f64,
    lon: f64,
    #[serde(default)]
    radius_m: Option<f64>,
}

pub(super) async fn mine(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let key = caller.subject()?;
    let q: PerksQuery = parse_json(&body)?;
    let place =
        candor_perks::Place::new(q.lat, q.lon).map_err(|e| ApiError::bad_request("bad_place", e.to_string()))?;
    let radius = q.radius_m.unwrap_or(candor_perks::DEFAULT_RADIUS_M);
    let deployed = deployed(&state)?;
    let (score, map) = with_store(&state, move |s, store| {
        let now = s.now();
        let report = gate::reported_file(store, &s.rules(), now, &key, now.today)?;
        Ok((deployed.score_file(&report.file, now.today)?.score, perks_map(s, store)?))
    })
    .await?;
    let found = map
        .index
        .serving(&place, radius, score)
        .map_err(|e| ApiError::bad_request("bad_radius", e.to_string()).field("radius_m"))?;
    let points: Vec<serde_json::Value> = found
        .iter()
        .map(|n| {
            let (org, point) = &map.names[n.point.id as usize];
            // Rounded to 10 m: enough to walk there, no finer than the question needs.
            json!({"merchant": org, "point": point, "distance_m": (n.distance_m / 10.0).round() * 10.0, "perk": n.perk.description})
        })
        .collect();
    ok(StatusCode::OK, json!({"score": score, "radius_m": radius, "points": points}))
}
