//! Aggregate statistics for analysts: counts and rates by region, and only for cells of at least
//! `k` people, so no figure describes a handful of identifiable people. There is no per-person
//! output of any kind here.

use std::collections::BTreeMap;

/// The smallest cell shown when no other is configured.
pub const DEFAULT_K: u64 = 20;

/// One region's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionCell {
    pub region: String,
    pub people: u64,
    /// Share of them with the flag set (e.g. a delinquency in the last 12 months).
    pub rate: f64,
}

/// What the analyst sees: the cells shown, and how many people sit in cells too small to show.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionTable {
    pub k: u64,
    pub cells: Vec<RegionCell>,
    pub suppressed_people: u64,
    pub suppressed_cells: u64,
}

/// People and flags counted by region, before any cell is hidden: what the figures are made
/// from, kept so that cells of any `k` can be shown without counting again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionCounts {
    /// Region → (people, of them flagged).
    counts: BTreeMap<String, (u64, u64)>,
    /// People without a region: never shown, counted as suppressed.
    unplaced: u64,
}

impl RegionCounts {
    /// Counts `(region, flag)` pairs.
    pub fn count<'a>(people: impl IntoIterator<Item = (Option<&'a str>, bool)>) -> RegionCounts {
        let mut out = RegionCounts::default();
        for (region, flag) in people {
            match region {
                Some(r) => {
                    let c = match out.counts.get_mut(r) {
                        Some(c) => c,
                        None => out.counts.entry(r.to_owned()).or_default(),
                    };
                    c.0 += 1;
                    c.1 += u64::from(flag);
                }
                None => out.unplaced += 1,
            }
        }
        out
    }

    /// The cells of at least `k` people (k is at least 2, so no cell is ever one person); the
    /// rest are counted as suppressed.
    pub fn shown(&self, k: u64) -> RegionTable {
        let k = k.max(2);
        let mut table = RegionTable { k, cells: Vec::new(), suppressed_people: self.unplaced, suppressed_cells: 0 };
        for (region, &(n, flagged)) in &self.counts {
            if n >= k {
                table.cells.push(RegionCell { region: region.clone(), people: n, rate: flagged as f64 / n as f64 });
            } else {
                table.suppressed_people += n;
                table.suppressed_cells += 1;
            }
        }
        table
    }
}

/// Counts people and flags by region from `(region, flag)` pairs and shows the cells of at
/// least `k` people (see [`RegionCounts`]).
pub fn by_region<'a>(people: impl IntoIterator<Item = (Option<&'a str>, bool)>, k: u64) -> RegionTable {
    RegionCounts::count(people).shown(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_never_show() {
        let mut rows: Vec<(Option<&str>, bool)> = Vec::new();
        rows.extend((0..25).map(|i| (Some("110105"), i % 5 == 0)));
        rows.extend((0..19).map(|_| (Some("310115"), true)));
        rows.push((None, true));
        let t = by_region(rows, DEFAULT_K);
        assert_eq!(t.cells, vec![RegionCell { region: "110105".into(), people: 25, rate: 0.2 }]);
        assert_eq!((t.suppressed_cells, t.suppressed_people), (1, 20));
        assert!(by_region(vec![(Some("x"), true)], 0).cells.is_empty(), "k is never below 2");
    }
}
