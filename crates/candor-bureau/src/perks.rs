//! The perks map's rules: a merchant's service point (a place and a perk per score band,
//! checked against the deployed model's scale), the map built from the store, and what serves a
//! person near a place they name — which is an argument here and nowhere kept.

use candor_file::ids::SubjectKey;
use candor_file::model::OrgId;
use candor_perks::{Perk, PerksIndex, Place, ServicePoint};
use candor_store::Store;
use serde::{Deserialize, Serialize};

use crate::gate::reported_file;
use crate::{BureauError, Deployed, Now, Result, Rules};

/// Most perks one service point may list.
pub const MAX_PERKS: usize = 10;
/// Longest perk description, in characters.
pub const MAX_PERK_CHARS: usize = 200;

/// A service point as a merchant registers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub place: Place,
    pub perks: Vec<Perk>,
}

/// A service point as the store keeps it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPoint {
    lat: f64,
    lon: f64,
    perks: Vec<StoredPerk>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPerk {
    min_score: i32,
    deposit_waived: bool,
    description: String,
}

impl Point {
    /// Whether the perks are sound: 1 to [`MAX_PERKS`], thresholds on the scale `(min, max)`,
    /// descriptions of plain text.
    pub fn check(&self, (min, max): (i32, i32)) -> Result<()> {
        let bad = |m: String| Err(BureauError::invalid("bad_perks", "perks", m));
        if self.perks.is_empty() || self.perks.len() > MAX_PERKS {
            return bad(format!("a point lists 1 to {MAX_PERKS} perks"));
        }
        for p in &self.perks {
            if !(min..=max).contains(&p.min_score) {
                return bad(format!("min_score is a score from {min} to {max}"));
            }
            if p.description.trim().is_empty()
                || p.description.chars().count() > MAX_PERK_CHARS
                || candor_file::text::check(&p.description, false).is_err()
            {
                return bad(format!("a description is 1 to {MAX_PERK_CHARS} characters of text"));
            }
        }
        Ok(())
    }

    fn to_stored(&self) -> String {
        let stored = StoredPoint {
            lat: self.place.lat(),
            lon: self.place.lon(),
            perks: self
                .perks
                .iter()
                .map(|p| StoredPerk {
                    min_score: p.min_score,
                    deposit_waived: p.deposit_waived,
                    description: p.description.clone(),
                })
                .collect(),
        };
        // Finite numbers (a Place is checked) and strings: serialising cannot fail.
        serde_json::to_string(&stored).unwrap_or_else(|e| unreachable!("a service point always serialises: {e}"))
    }

    fn parse_stored(text: &str) -> Result<Point> {
        let s: StoredPoint = serde_json::from_str(text).map_err(BureauError::corrupt)?;
        let place = Place::new(s.lat, s.lon).map_err(BureauError::corrupt)?;
        let perks = s
            .perks
            .into_iter()
            .map(|p| Perk { min_score: p.min_score, deposit_waived: p.deposit_waived, description: p.description })
            .collect();
        Ok(Point { place, perks })
    }
}

/// The scale a perk's threshold is checked against: the deployed model's, or the default.
pub fn scale(deployed: Option<&Deployed>) -> (i32, i32) {
    deployed.map_or_else(
        || {
            let s = candor_scorecard::Scaling::default();
            (s.min_score, s.max_score)
        },
        Deployed::range,
    )
}

/// Registers (or moves, or changes the perks of) one of `org`'s service points.
pub fn put_point(
    store: &mut Store,
    now: Now,
    org: &OrgId,
    name: &str,
    point: &Point,
    deployed: Option<&Deployed>,
) -> Result<()> {
    point.check(scale(deployed))?;
    Ok(store.put_service_point(org, name, &point.to_stored(), now.ms)?)
}

/// Removes one of `org`'s service points; another's, or none, is not found.
pub fn remove_point(store: &mut Store, now: Now, org: &OrgId, name: &str) -> Result<()> {
    let exists = store.service_points()?.iter().any(|(o, p, _)| o == org.as_str() && p == name);
    if !exists {
        return Err(BureauError::not_found("service point of yours"));
    }
    Ok(store.put_service_point(org, name, "", now.ms)?)
}

/// The perks map: the spatial index, and each point's merchant and name.
pub struct PerksMap {
    index: PerksIndex,
    names: Vec<(String, String)>,
}

/// Distances are given to this many metres: enough to walk there, no finer than the question
/// needs.
pub const DISTANCE_STEP_M: f64 = 10.0;

/// A service point that would serve a person: whose, which, how far (to [`DISTANCE_STEP_M`]),
/// and the perk.
#[derive(Clone, Debug, PartialEq)]
pub struct Serving {
    pub merchant: String,
    pub point: String,
    pub distance_m: f64,
    pub perk: String,
}

impl PerksMap {
    /// The map of every current service point.
    pub fn build(store: &mut Store) -> Result<PerksMap> {
        let rows = store.service_points()?;
        let mut points = Vec::with_capacity(rows.len());
        let mut names = Vec::with_capacity(rows.len());
        for (org, name, body) in rows {
            let p = Point::parse_stored(&body)?;
            points.push(ServicePoint { id: names.len() as u64, merchant: org.clone(), place: p.place, perks: p.perks });
            names.push((org, name));
        }
        Ok(PerksMap { index: PerksIndex::new(points), names })
    }

    /// The points within `radius_m` of `place` that would serve someone of `score`: none for a
    /// person the model does not score, since every perk asks for a score.
    pub fn serving(&self, place: &Place, radius_m: f64, score: Option<i32>) -> Result<Vec<Serving>> {
        let Some(score) = score else { return Ok(Vec::new()) };
        let found = self
            .index
            .serving(place, radius_m, score)
            .map_err(|e| BureauError::invalid("bad_radius", "radius_m", e.to_string()))?;
        Ok(found
            .iter()
            .map(|n| {
                let (merchant, point) = &self.names[n.point.id as usize];
                Serving {
                    merchant: merchant.clone(),
                    point: point.clone(),
                    distance_m: (n.distance_m / DISTANCE_STEP_M).round() * DISTANCE_STEP_M,
                    perk: n.perk.description.clone(),
                }
            })
            .collect())
    }
}

/// The person's score now, through the read gate, for the map to answer with: none for a file
/// the model does not score.
pub fn score_of(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    deployed: &Deployed,
) -> Result<Option<i32>> {
    let report = reported_file(store, rules, now, key, now.today)?;
    Ok(deployed.score_file(&report.file, now.today)?.score)
}
