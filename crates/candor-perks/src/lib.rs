//! The perks map. Merchants register service points (a latitude, a longitude, and a perk for
//! each score band); a person names a place and learns which points within a radius would serve
//! them without a deposit at their score.
//!
//! Only businesses have places here. The place a person asks about is an argument to
//! [`PerksIndex::serving`] and nothing keeps it; there is no query of any kind over people by
//! place. The points sit in a grid of cells about a kilometre across, so a query looks at the
//! few cells its radius touches, never at every point.

use std::collections::HashMap;

/// Mean Earth radius used for distances, in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
/// Grid cell size in degrees (about 1.1 km of latitude).
const CELL_DEGREES: f64 = 0.01;
/// The widest radius a person may ask about: a neighbourhood, not a city.
pub const MAX_RADIUS_M: f64 = 5_000.0;
/// The radius asked about when none is given.
pub const DEFAULT_RADIUS_M: f64 = 500.0;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlaceError {
    #[error("latitude must be a number from -90 to 90")]
    Latitude,
    #[error("longitude must be a number from -180 to 180")]
    Longitude,
    #[error("the radius must be from 1 to {MAX_RADIUS_M} metres")]
    Radius,
}

/// A point on the Earth, checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    lat: f64,
    lon: f64,
}

impl Place {
    pub fn new(lat: f64, lon: f64) -> Result<Place, PlaceError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(PlaceError::Latitude);
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(PlaceError::Longitude);
        }
        Ok(Place { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &Place) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// What a point offers people from a score up.
#[derive(Clone, Debug, PartialEq)]
pub struct Perk {
    pub min_score: i32,
    pub deposit_waived: bool,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServicePoint {
    pub id: u64,
    pub merchant: String,
    pub place: Place,
    pub perks: Vec<Perk>,
}

impl ServicePoint {
    /// The best perk a person with `score` gets here: the one with the highest threshold met.
    pub fn perk_for(&self, score: i32) -> Option<&Perk> {
        self.perks.iter().filter(|p| p.min_score <= score).max_by_key(|p| p.min_score)
    }
}

type Cell = (i32, i32);

fn cell_of(lat: f64, lon: f64) -> Cell {
    ((lat / CELL_DEGREES).floor() as i32, (lon / CELL_DEGREES).floor() as i32)
}

/// Cells across the antimeridian: longitude cells wrap at 360°.
const LON_CELLS: i32 = (360.0 / CELL_DEGREES) as i32;

/// Points found with their distances in metres, nearest first, and how many points the query
/// examined (a few cells' worth, not all).
pub type Within<'a> = (Vec<(&'a ServicePoint, f64)>, usize);

pub struct PerksIndex {
    points: Vec<ServicePoint>,
    cells: HashMap<Cell, Vec<usize>>,
}

/// A point that would serve the person, and how far it is.
#[derive(Debug)]
pub struct Nearby<'a> {
    pub point: &'a ServicePoint,
    pub perk: &'a Perk,
    pub distance_m: f64,
}

impl PerksIndex {
    pub fn new(points: Vec<ServicePoint>) -> PerksIndex {
        let mut cells: HashMap<Cell, Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            let (a, b) = cell_of(p.place.lat, p.place.lon);
            cells.entry((a, b.rem_euclid(LON_CELLS))).or_default().push(i);
        }
        PerksIndex { points, cells }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Indices of the points in the cells a radius around `place` can reach.
    fn candidates(&self, place: &Place, radius_m: f64) -> Vec<usize> {
        let dlat = radius_m / METRES_PER_DEGREE;
        let lat_lo = (place.lat - dlat).max(-90.0);
        let lat_hi = (place.lat + dlat).min(90.0);
        // Near a pole every longitude may be within reach.
        let widest = lat_lo.abs().max(lat_hi.abs()).to_radians().cos();
        let dlon = if widest < 1e-6 { 180.0 } else { (dlat / widest).min(180.0) };
        let (a_lo, _) = cell_of(lat_lo, 0.0);
        let (a_hi, _) = cell_of(lat_hi, 0.0);
        let b_lo = ((place.lon - dlon) / CELL_DEGREES).floor() as i32;
        let b_hi = ((place.lon + dlon) / CELL_DEGREES).floor() as i32;
        let span = (b_hi - b_lo + 1).min(LON_CELLS);
        let mut out = Vec::new();
        for a in a_lo..=a_hi {
            for k in 0..span {
                if let Some(list) = self.cells.get(&(a, (b_lo + k).rem_euclid(LON_CELLS))) {
                    out.extend_from_slice(list);
                }
            }
        }
        out
    }

    /// Points within `radius_m` of `place`, nearest first, with how many points were examined.
    pub fn within(&self, place: &Place, radius_m: f64) -> Result<Within<'_>, PlaceError> {
        if !(radius_m.is_finite() && (1.0..=MAX_RADIUS_M).contains(&radius_m)) {
            return Err(PlaceError::Radius);
        }
        let candidates = self.candidates(place, radius_m);
        let examined = candidates.len();
        let mut found: Vec<(&ServicePoint, f64)> = candidates
            .into_iter()
            .map(|i| (&self.points[i], place.distance_m(&self.points[i].place)))
            .filter(|(_, d)| *d <= radius_m)
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
        Ok((found, examined))
    }

    /// Points within `radius_m` of `place` that would waive the deposit for a person with
    /// `score`, nearest first.
    pub fn serving(&self, place: &Place, radius_m: f64, score: i32) -> Result<Vec<Nearby<'_>>, PlaceError> {
        let (found, _) = self.within(place, radius_m)?;
        Ok(found
            .into_iter()
            .filter_map(|(point, distance_m)| {
                point.perk_for(score).filter(|p| p.deposit_waived).map(|perk| Nearby { point, perk, distance_m })
            })
            .collect())
    }
}
