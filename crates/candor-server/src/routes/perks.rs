//! The perks map: merchants register service points; a person asks which would serve them
//! without a deposit near a place they name, which is neither stored nor logged.

use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::perks::{self, Point};
use serde::Deserialize;

use super::{deployed, ok, parse_json, with_store, Answer, Body, Caller, Key, Shared};
use crate::{wire, ApiError, State};

pub use candor_bureau::perks::PerksMap;

/// A service point as a merchant sends it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PointBody {
    lat: f64,
    lon: f64,
    perks: Vec<PerkBody>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PerkBody {
    min_score: i32,
    deposit_waived: bool,
    description: String,
}

fn place(lat: f64, lon: f64) -> Result<candor_perks::Place, ApiError> {
    candor_perks::Place::new(lat, lon).map_err(|e| {
        let field = if matches!(e, candor_perks::PlaceError::Latitude) { "lat" } else { "lon" };
        ApiError::bad_request("bad_place", e.to_string()).field(field)
    })
}

fn point_name(point: &str) -> Result<String, ApiError> {
    candor_file::model::parse_reference(point)
        .map_err(|e| ApiError::bad_request("bad_point", e.to_string()).field("point"))
}

/// The map, built from the store on first use and after every change to it.
fn map(s: &State, store: &mut candor_store::Store) -> Result<std::sync::Arc<PerksMap>, ApiError> {
    let mut cached = s.perks.lock().map_err(|_| ApiError::internal())?;
    if let Some(map) = cached.as_ref() {
        return Ok(map.clone());
    }
    let built = std::sync::Arc::new(PerksMap::build(store)?);
    *cached = Some(built.clone());
    Ok(built)
}

fn forget_map(s: &State) -> Result<(), ApiError> {
    *s.perks.lock().map_err(|_| ApiError::internal())? = None;
    Ok(())
}

pub(super) async fn put_point(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(name): Key<String>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("register service points")?.id.clone();
    let name = point_name(&name)?;
    let b: PointBody = parse_json(&body)?;
    let point = Point {
        place: place(b.lat, b.lon)?,
        perks: b
            .perks
            .into_iter()
            .map(|p| candor_perks::Perk {
                min_score: p.min_score,
                deposit_waived: p.deposit_waived,
                description: p.description,
            })
            .collect(),
    };
    let deployed = state.deployed()?;
    with_store(&state, move |s, store| {
        perks::put_point(store, s.now(), &org, &name, &point, deployed.as_deref())?;
        forget_map(s)
    })
    .await?;
    ok(StatusCode::CREATED, wire::Registered { registered: true })
}

pub(super) async fn remove_point(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(name): Key<String>,
) -> Answer {
    let org = caller.org("remove service points")?.id.clone();
    let name = point_name(&name)?;
    with_store(&state, move |s, store| {
        perks::remove_point(store, s.now(), &org, &name)?;
        forget_map(s)
    })
    .await?;
    ok(StatusCode::OK, wire::Removed { removed: true })
}

/// The place a person asks about: only ever an argument, never stored or logged.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PerksQuery {
    lat: f64,
    lon: f64,
    #[serde(default)]
    radius_m: Option<f64>,
}

pub(super) async fn mine(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let key = caller.subject()?;
    let q: PerksQuery = parse_json(&body)?;
    let here = candor_perks::Place::new(q.lat, q.lon).map_err(|e| ApiError::bad_request("bad_place", e.to_string()))?;
    let radius = q.radius_m.unwrap_or(candor_perks::DEFAULT_RADIUS_M);
    let deployed = deployed(&state)?;
    let (score, found) = with_store(&state, move |s, store| {
        let score = perks::score_of(store, &s.rules(), s.now(), &key, &deployed)?;
        Ok((score, map(s, store)?.serving(&here, radius, score)?))
    })
    .await?;
    ok(StatusCode::OK, wire::perks(score, radius, &found))
}
