//! Regional statistics for analysts, from the files as reports show them (through the read
//! gate's walk), shown only for cells of at least k people.

use candor_file::features::{compute, index};
use candor_file::stats::{RegionCounts, RegionTable, DEFAULT_K};

use crate::gate::{for_each_reported_file, Part, Stores, Walk};
use crate::{BureauError, Now, Result, Rules};

/// What the figures measure.
pub const MEASURE: &str = "share of people 30 or more days late in the last 12 months";

/// The cells a caller asking for `k` sees: never finer than [`DEFAULT_K`].
pub fn shown(counts: &RegionCounts, k: Option<u64>) -> RegionTable {
    counts.shown(k.unwrap_or(DEFAULT_K).max(DEFAULT_K))
}

/// People with a furnished record (a monthly report or a court record), and how many of them
/// were 30+ days late in the last 12 months, by region, before any cell is hidden: a whole walk
/// of the file, which the service runs on a schedule rather than per request.
pub fn regional_counts<S: Stores>(stores: &mut S, rules: &Rules, now: Now) -> Result<RegionCounts> {
    let regions = stores.with(|store| Ok(store.regions()?))?;
    let late = index("worst_dpd_12m").ok_or_else(|| BureauError::corrupt("the catalogue has no worst_dpd_12m"))?;
    let mut people: Vec<(Option<&str>, bool)> = Vec::with_capacity(regions.len());
    for_each_reported_file(
        stores,
        rules,
        now,
        Walk { known_ms: now.ms, as_of: now.today, part: Part::WHOLE },
        &mut |key, file| {
            // Only files with a furnished record count: enrolments alone cannot pad a cell.
            let furnished = file.accounts.iter().any(|a| !a.reports.is_empty()) || !file.court_records.is_empty();
            if furnished {
                people.push((regions.get(key).and_then(|r| r.as_deref()), compute(file, now.today)[late] >= 30.0));
            }
            Ok(())
        },
        &mut |_| {},
    )?;
    Ok(RegionCounts::count(people))
}
