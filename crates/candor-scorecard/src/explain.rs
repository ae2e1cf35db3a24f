//! Reasons (why a score is what it is) and recourse (what would raise it).
//!
//! A scorecard's contribution of each characteristic is exact: its points. A reason is a
//! characteristic whose points fall below the best that characteristic can give, largest
//! shortfall first, so the reasons are the true drivers of the score and not an approximation.

use crate::model::{Scorer, Value, UNKNOWN_SUFFIX};

/// Most reasons given with one score, as adverse-action rules allow.
pub const MAX_REASONS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: String,
    pub characteristic: String,
    /// Label of the bin the row fell in.
    pub bin: String,
    pub points: i32,
    pub points_below_max: i32,
    pub sentence: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub characteristic: String,
    pub from: String,
    pub to: String,
    pub points_gain: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recourse {
    pub current_score: i32,
    pub target_score: i32,
    /// Whether the changes reach the target; when not, they are the most that can be done.
    pub reachable: bool,
    pub changes: Vec<Change>,
    pub new_score: i32,
}

impl Scorer {
    /// Indices of the characteristics giving reasons, in order: largest shortfall first, ties in
    /// model order, at most [`MAX_REASONS`], only shortfalls above zero.
    pub fn reason_indices(&self, bins: &[usize]) -> Vec<usize> {
        let chars = &self.model().characteristics;
        self.reasons_from_points(|c| chars[c].bins[bins[c]].points).into_iter().flatten().collect()
    }

    /// The same ranking from each characteristic's points (`points(c)`), without allocating:
    /// the batch scorer's path, which has points rather than bins.
    pub fn reasons_from_points(&self, points: impl Fn(usize) -> i32) -> [Option<usize>; MAX_REASONS] {
        // The largest shortfalls so far, largest first; a tie keeps the earlier characteristic.
        let mut top = [(0i32, usize::MAX); MAX_REASONS];
        for c in 0..self.model().characteristics.len() {
            let short = self.max_points(c) - points(c);
            if short > top[MAX_REASONS - 1].0 {
                let mut k = MAX_REASONS - 1;
                while k > 0 && short > top[k - 1].0 {
                    top[k] = top[k - 1];
                    k -= 1;
                }
                top[k] = (short, c);
            }
        }
        top.map(|(short, c)| (short > 0).then_some(c))
    }

    pub fn reasons(&self, bins: &[usize]) -> Vec<Reason> {
        self.reason_indices(bins).into_iter().map(|c| self.reason_at(bins, c)).collect()
    }

    /// The reasons, and after them each characteristic of `also` (in its order) that costs
    /// points and is not among them: reasons a person is always told where they count, such as
    /// a public record, or the FCRA's fifth reason, recent inquiries.
    pub fn reasons_with(&self, bins: &[usize], also: &[usize]) -> Vec<Reason> {
        let chars = &self.model().characteristics;
        let listed = self.reason_indices(bins);
        let also: Vec<usize> = also.iter().copied().filter(|&c| c < bins.len() && c < chars.len()).collect();
        let told = self.told_after(&also, |c| listed.contains(&c), |c| chars[c].bins[bins[c]].points);
        listed.iter().copied().chain(told).map(|c| self.reason_at(bins, c)).collect()
    }

    /// Of `also`, in its order, the characteristics told after the largest shortfalls: those
    /// whose points (`points(c)`) fall below the best they can give and that are not already
    /// `listed`. The rule of [`Scorer::reasons_with`], for callers that have points rather than
    /// bins (the batch scorer's).
    pub fn told_after<'a>(
        &'a self,
        also: &'a [usize],
        listed: impl Fn(usize) -> bool + 'a,
        points: impl Fn(usize) -> i32 + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        also.iter().copied().filter(move |&c| points(c) < self.max_points(c) && !listed(c))
    }

    /// The reasons for a row given by its values (as [`Scorer::score_values`] takes them) and
    /// bins: as [`Scorer::reasons`], except that a characteristic whose value is a category
    /// never seen in training says so, with its code followed by [`UNKNOWN_SUFFIX`].
    pub fn reasons_for_values(&self, values: &[Value], bins: &[usize]) -> Vec<Reason> {
        let reason = |c: usize| {
            let mut r = self.reason_at(bins, c);
            let shown = match values.get(c) {
                Some(v @ Value::Text(t)) if self.is_unseen(c, v) => format!("{t:?}"),
                Some(v @ Value::Number(x)) if self.is_unseen(c, v) => format!("\"{x}\""),
                _ => return r,
            };
            r.code.push_str(UNKNOWN_SUFFIX);
            r.sentence = format!(
                "{} is {shown}, a value the model never saw in training, so it scores as the riskiest group, {} points below the best bin of {}.",
                r.characteristic, r.points_below_max, r.characteristic
            );
            r
        };
        self.reason_indices(bins).into_iter().map(reason).collect()
    }

    /// Characteristic `c`'s reason at its bin in `bins`.
    fn reason_at(&self, bins: &[usize], c: usize) -> Reason {
        let ch = &self.model().characteristics[c];
        let bin = &ch.bins[bins[c]];
        let label = bin.rule.label();
        let below = self.max_points(c) - bin.points;
        Reason {
            code: ch.reason_code.clone(),
            characteristic: ch.name.clone(),
            sentence: format!(
                "{} is {}, which scores {} points below the best bin of {}.",
                ch.name, label, below, ch.name
            ),
            bin: label,
            points: bin.points,
            points_below_max: below,
        }
    }

    /// The fewest changes to actionable characteristics that raise the score to `target`, each
    /// as small as it can be while the set still reaches the target.
    pub fn recourse(&self, bins: &[usize], target: i32) -> Recourse {
        let chars = &self.model().characteristics;
        let current = self.score_bins(bins.iter().copied());
        let target_total = target as i64;
        // The best attainable move per actionable characteristic.
        let mut options: Vec<(usize, Vec<(usize, i32)>)> = chars
            .iter()
            .enumerate()
            .filter(|(_, c)| c.actionable)
            .filter_map(|(i, c)| {
                let now = c.bins[bins[i]].points;
                let mut moves: Vec<(usize, i32)> = c
                    .bins
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.rule.is_attainable() && b.count > 0 && b.points > now)
                    .map(|(j, b)| (j, b.points - now))
                    .collect();
                // Smallest gain first; among equals, the bin nearest the current one.
                moves.sort_by_key(|&(j, g)| (g, j.abs_diff(bins[i])));
                (!moves.is_empty()).then_some((i, moves))
            })
            .collect();
        options.sort_by(|a, b| best(&b.1).cmp(&best(&a.1)).then(a.0.cmp(&b.0)));

        let needed = target_total - current.total_points;
        let mut chosen: Vec<(usize, usize)> = Vec::new(); // (index into options, index into moves)
        let mut gained: i64 = 0;
        if needed > 0 {
            for (o, (_, moves)) in options.iter().enumerate() {
                if gained >= needed {
                    break;
                }
                chosen.push((o, moves.len() - 1));
                gained += best(moves) as i64;
            }
        }
        let reachable = current.score >= target || (gained >= needed && target <= self.model().scaling.max_score);
        if reachable && needed > 0 {
            // Shrink each change to the smallest move that still lets the set reach the target.
            for pick in chosen.iter_mut() {
                let moves = &options[pick.0].1;
                let others = gained - moves[pick.1].1 as i64;
                if let Some(smaller) = moves.iter().position(|&(_, g)| others + g as i64 >= needed) {
                    gained = others + moves[smaller].1 as i64;
                    pick.1 = smaller;
                }
            }
        }
        let changes = chosen
            .iter()
            .map(|&(o, m)| {
                let (c, moves) = &options[o];
                let (to, gain) = moves[m];
                Change {
                    characteristic: chars[*c].name.clone(),
                    from: chars[*c].bins[bins[*c]].rule.label(),
                    to: chars[*c].bins[to].rule.label(),
                    points_gain: gain,
                }
            })
            .collect();
        Recourse {
            current_score: current.score,
            target_score: target,
            reachable,
            changes,
            new_score: self.scored(current.total_points + gained).score,
        }
    }
}

fn best(moves: &[(usize, i32)]) -> i32 {
    moves.last().map(|m| m.1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use crate::{Model, Scorer};

    /// A model of six characteristics, each a bin of `0` points and one of `short` more.
    fn model(shortfalls: &[i32]) -> Scorer {
        let characteristics: Vec<serde_json::Value> = shortfalls
            .iter()
            .enumerate()
            .map(|(i, short)| {
                serde_json::json!({
                    "name": format!("c{i}"), "kind": "numeric", "reason_code": format!("C{i}"), "actionable": false,
                    "trend": "auto", "iv": 0.1, "coefficient": -1.0,
                    "bins": [
                        {"rule": {"type": "range", "upper": 1.0}, "count": 10, "bads": 1, "woe": 0.0, "points": 0},
                        {"rule": {"type": "range", "lower": 1.0}, "count": 10, "bads": 1, "woe": 0.0, "points": short},
                        {"rule": {"type": "missing"}, "count": 0, "bads": 0, "woe": 0.0, "points": 0},
                    ],
                })
            })
            .collect();
        let doc = serde_json::json!({
            "format": crate::FORMAT_NAME, "format_version": crate::FORMAT_VERSION, "created_by": "test", "target": "bad",
            "training": {"rows": 20, "bads": 2, "data_digest": "test"},
            "scaling": {"base_points": 600.0, "base_odds": 50.0, "pdo": 20.0, "min_score": 300, "max_score": 900},
            "intercept": 0.0, "characteristics": characteristics,
        });
        let model: Model = serde_json::from_value(doc).expect("a model");
        Scorer::new(model).expect("a scorer")
    }

    #[test]
    fn inquiries_are_a_fifth_reason_only_where_they_cost_points_and_are_not_among_the_four() {
        let scorer = model(&[50, 40, 30, 20, 10, 5]);
        let all_low = [0; 6];
        let codes = |r: Vec<crate::Reason>| r.into_iter().map(|r| r.code).collect::<Vec<_>>();
        assert_eq!(codes(scorer.reasons(&all_low)), ["C0", "C1", "C2", "C3"]);
        assert_eq!(codes(scorer.reasons_with(&all_low, &[5])), ["C0", "C1", "C2", "C3", "C5"], "a fifth");
        assert_eq!(codes(scorer.reasons_with(&all_low, &[2])), ["C0", "C1", "C2", "C3"], "among the four already");
        let inquiries_fine = [0, 0, 0, 0, 0, 1];
        assert_eq!(codes(scorer.reasons_with(&inquiries_fine, &[5])), ["C0", "C1", "C2", "C3"], "costs nothing");
        assert_eq!(codes(scorer.reasons_with(&all_low, &[])), codes(scorer.reasons(&all_low)));
        assert_eq!(codes(scorer.reasons_with(&all_low, &[99])), ["C0", "C1", "C2", "C3"], "no such characteristic");
        assert_eq!(codes(scorer.reasons_with(&all_low, &[4, 5])), ["C0", "C1", "C2", "C3", "C4", "C5"], "in order");
        assert_eq!(codes(scorer.reasons_with(&inquiries_fine, &[5, 4])), ["C0", "C1", "C2", "C3", "C4"]);
    }
}
