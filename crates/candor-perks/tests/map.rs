//! The perks map against a brute-force scan, near the antimeridian and the poles, and the proof
//! that a query looks at a few cells rather than every point.

use candor_perks::*;
use proptest::prelude::*;

fn point(id: u64, lat: f64, lon: f64) -> ServicePoint {
    ServicePoint {
        id,
        merchant: format!("m{}", id % 7),
        place: Place::new(lat, lon).expect("place"),
        perks: vec![
            Perk { min_score: 300, deposit_waived: false, description: "standard".into() },
            Perk { min_score: 650, deposit_waived: true, description: "no deposit".into() },
        ],
    }
}

fn scan(points: &[ServicePoint], place: &Place, radius: f64) -> Vec<u64> {
    let mut found: Vec<(f64, u64)> =
        points.iter().map(|p| (place.distance_m(&p.place), p.id)).filter(|(d, _)| *d <= radius).collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, id)| id).collect()
}

#[test]
fn distances_are_right() {
    let beijing = Place::new(39.9042, 116.4074).expect("place");
    let shanghai = Place::new(31.2304, 121.4737).expect("place");
    let d = beijing.distance_m(&shanghai);
    assert!((d - 1_067_000.0).abs() < 5_000.0, "{d}");
    let a = Place::new(0.0, 179.9999).expect("place");
    let b = Place::new(0.0, -179.9999).expect("place");
    assert!(a.distance_m(&b) < 30.0, "across the antimeridian");
}

#[test]
fn bad_places_and_radii_are_refused() {
    assert_eq!(Place::new(91.0, 0.0), Err(PlaceError::Latitude));
    assert_eq!(Place::new(f64::NAN, 0.0), Err(PlaceError::Latitude));
    assert_eq!(Place::new(0.0, 181.0), Err(PlaceError::Longitude));
    let index = PerksIndex::new(vec![point(1, 0.0, 0.0)]);
    let here = Place::new(0.0, 0.0).expect("place");
    assert!(index.within(&here, MAX_RADIUS_M + 1.0).is_err());
    assert!(index.within(&here, 0.0).is_err());
}

#[test]
fn only_points_that_waive_the_deposit_for_the_score_and_nearest_first() {
    let index = PerksIndex::new(vec![point(1, 31.2304, 121.4737), point(2, 31.2334, 121.4737), point(3, 31.3, 121.5)]);
    let here = Place::new(31.2310, 121.4737).expect("place");
    let good: Vec<u64> =
        index.serving(&here, DEFAULT_RADIUS_M, 700).expect("query").iter().map(|n| n.point.id).collect();
    assert_eq!(good, vec![1, 2]);
    assert!(index.serving(&here, DEFAULT_RADIUS_M, 600).expect("query").is_empty(), "no waiver below 650");
}

#[test]
fn a_query_looks_at_a_few_cells_not_every_point() {
    let mut rng = 42u64;
    let mut next = move || {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    // 100,000 points over a city 50 km across.
    let points: Vec<ServicePoint> =
        (0..100_000).map(|i| point(i, 31.0 + next() * 0.45, 121.2 + next() * 0.5)).collect();
    let index = PerksIndex::new(points.clone());
    let here = Place::new(31.2, 121.45).expect("place");
    let (found, examined) = index.within(&here, 500.0).expect("query");
    assert_eq!(found.iter().map(|(p, _)| p.id).collect::<Vec<_>>(), scan(&points, &here, 500.0));
    assert!(examined < points.len() / 50, "examined {examined} of {} points", points.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The index finds exactly what a scan finds, anywhere on Earth.
    #[test]
    fn the_index_agrees_with_a_scan(
        centre_lat in -89.9f64..89.9,
        centre_lon in -180.0f64..180.0,
        radius in 1.0f64..MAX_RADIUS_M,
        offsets in prop::collection::vec((-0.08f64..0.08, -0.3f64..0.3), 1..200),
    ) {
        let points: Vec<ServicePoint> = offsets
            .iter()
            .enumerate()
            .map(|(i, (dlat, dlon))| {
                let lat = (centre_lat + dlat).clamp(-90.0, 90.0);
                let mut lon = centre_lon + dlon;
                if lon > 180.0 { lon -= 360.0 }
                if lon < -180.0 { lon += 360.0 }
                point(i as u64, lat, lon)
            })
            .collect();
        let index = PerksIndex::new(points.clone());
        let here = Place::new(centre_lat, centre_lon).expect("place");
        let (found, _) = index.within(&here, radius).expect("query");
        prop_assert_eq!(found.iter().map(|(p, _)| p.id).collect::<Vec<_>>(), scan(&points, &here, radius));
    }
}
