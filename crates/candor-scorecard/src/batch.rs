//! Columnar batch scoring: the points of one characteristic for a run of rows at a time.
//!
//! A numeric characteristic's points are a step function of the value, so they are computed
//! as the first range's points plus, for each cut the value reaches, the step at that cut: a
//! loop of compares and adds over a column that the compiler turns into vector code. Missing
//! and special values then overwrite their rows. The result is identical to
//! [`Scorer::bin_of`] followed by the bin's points; a test holds the two together.

use crate::data::Values;
use crate::explain::MAX_REASONS;
use crate::model::{BinRule, ModelError, Scorer};

/// Cuts a numeric characteristic may have for the unrolled loop (the default `max_bins` of 8
/// makes 7); more take a loop per cut.
const FIXED_STEPS: usize = 8;

/// Rows per strip: a strip's accumulators (and, for reasons, its four ranks) stay in L1, and
/// each column is read in runs long enough for the processor's prefetching (with 64-row strips,
/// 34 columns made 34 short interleaved streams, and scoring ran at half the speed).
const STRIP: usize = 512;

/// A reason key packs a characteristic's shortfall below its best points (high part) with
/// `KEY_INDEX - c` (low part), so that a larger key is a larger shortfall or, at an equal one,
/// an earlier characteristic: the ranking of [`Scorer::reasons_from_points`] as one number.
/// Shortfalls are below 2³² (points are i32), so keys stay below 2⁴⁸, exact in an f64.
const KEY_INDEX: f64 = 65_535.0;
const KEY_SCALE: f64 = 65_536.0;
/// Most characteristics a batch takes: their indices must fit the low part of a reason key.
const MAX_BATCH_CHARACTERISTICS: usize = 65_536;

/// Calls a `Batch` method (`#[inline(always)]`, so its loops are compiled where it is inlined)
/// through a copy compiled for AVX-512 (eight f64 lanes, compares into mask registers) when the
/// processor has it, as detected at run time; otherwise as built (AVX2 by default).
macro_rules! wide {
    ($batch:ident . $method:ident ($($arg:ident $(: $ty:ty)?),*)) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            #[target_feature(enable = "avx512f")]
            fn avx512(batch: &Batch<'_>, $($arg: wide!(@ty $arg $($ty)?)),*) {
                batch.$method($($arg),*)
            }
            // SAFETY: the processor has just been seen to have AVX-512F, all `avx512` needs.
            #[allow(unsafe_code)]
            return unsafe { avx512($batch, $($arg),*) };
        }
        $batch.$method($($arg),*)
    }};
    (@ty $arg:ident $ty:ty) => { $ty };
    (@ty c) => { usize };
    (@ty start) => { usize };
    (@ty out) => { &mut [i32] };
}

/// One model characteristic bound to its input column.
#[derive(Debug)]
enum Prepared<'a> {
    Numeric {
        values: &'a [f64],
        /// Points of the lowest range, then (cut, step) for each higher range.
        base: i32,
        steps: Vec<(f64, i32)>,
        /// The first [`FIXED_STEPS`] steps as the vector loops take them: cuts, padded with
        /// cuts no finite value reaches, and their steps in points.
        cuts: [f64; FIXED_STEPS],
        deltas: [f64; FIXED_STEPS],
        missing: i32,
        specials: Vec<(f64, i32)>,
    },
    Coded {
        codes: &'a [u32],
        /// Points per input level, then the missing bin's points, which every code past the
        /// levels (`MISSING_CODE` among them) takes: one load per row, without a branch.
        by_code: Vec<f64>,
        /// Per input level, whether the model never saw it in training.
        unseen: Vec<bool>,
    },
}

/// A model bound to input columns (one per characteristic, in model order), ready to score
/// runs of rows.
#[derive(Debug)]
pub struct Batch<'a> {
    prepared: Vec<Prepared<'a>>,
    /// Each characteristic's best points, from which reasons count shortfalls.
    best: Vec<f64>,
    rows: usize,
}

impl Scorer {
    /// Binds `columns` (one per characteristic, in model order, all the same length).
    pub fn batch<'a>(&self, columns: &[&'a Values]) -> Result<Batch<'a>, ModelError> {
        let chars = &self.model().characteristics;
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        if chars.len() > MAX_BATCH_CHARACTERISTICS {
            return Err(ModelError::Characteristic {
                name: chars[MAX_BATCH_CHARACTERISTICS].name.clone(),
                why: format!("a batch scores at most {MAX_BATCH_CHARACTERISTICS} characteristics"),
            });
        }
        let mut prepared = Vec::with_capacity(chars.len());
        for (c, (ch, values)) in chars.iter().zip(columns).enumerate() {
            let bad = |why: String| ModelError::Characteristic { name: ch.name.clone(), why };
            if values.len() != rows {
                return Err(bad(format!("column has {} rows, others {rows}", values.len())));
            }
            let missing = ch.bins[self.bin_of(c, &crate::Value::Missing)?].points;
            prepared.push(match values {
                Values::Numeric(v) if ch.kind == crate::Kind::Numeric => {
                    let mut ranges: Vec<(f64, i32)> = ch
                        .bins
                        .iter()
                        .filter_map(|b| match b.rule {
                            BinRule::Range { lower, .. } => Some((lower.unwrap_or(f64::NEG_INFINITY), b.points)),
                            _ => None,
                        })
                        .collect();
                    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let base = ranges.first().map(|r| r.1).unwrap_or(0);
                    let steps: Vec<(f64, i32)> = ranges.windows(2).map(|w| (w[1].0, w[1].1 - w[0].1)).collect();
                    let mut cuts = [f64::INFINITY; FIXED_STEPS];
                    let mut deltas = [0.0; FIXED_STEPS];
                    for (k, &(cut, step)) in steps.iter().take(FIXED_STEPS).enumerate() {
                        cuts[k] = cut;
                        deltas[k] = f64::from(step);
                    }
                    let specials = ch
                        .bins
                        .iter()
                        .filter_map(|b| match b.rule {
                            BinRule::Special { value } => Some((value, b.points)),
                            _ => None,
                        })
                        .collect();
                    Prepared::Numeric { values: v, base, steps, cuts, deltas, missing, specials }
                }
                Values::Categorical { codes, levels } => {
                    let mut by_code = Vec::with_capacity(levels.len() + 1);
                    let mut unseen = Vec::with_capacity(levels.len());
                    for l in levels {
                        let level = crate::Value::Text(l.clone());
                        by_code.push(f64::from(ch.bins[self.bin_of(c, &level)?].points));
                        unseen.push(self.is_unseen(c, &level));
                    }
                    by_code.push(f64::from(missing));
                    Prepared::Coded { codes, by_code, unseen }
                }
                Values::Numeric(_) => return Err(bad("is categorical, but its column holds numbers".into())),
            });
        }
        let best = (0..chars.len()).map(|c| f64::from(self.max_points(c))).collect();
        Ok(Batch { prepared, best, rows })
    }
}

impl Batch<'_> {
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn characteristics(&self) -> usize {
        self.prepared.len()
    }

    /// Whether row `row`'s value of characteristic `c` is a category the model never saw in
    /// training (see [`Scorer::is_unseen`]).
    pub fn is_unseen(&self, c: usize, row: usize) -> bool {
        match &self.prepared[c] {
            Prepared::Coded { codes, unseen, .. } => {
                codes.get(row).and_then(|&k| unseen.get(k as usize)).copied().unwrap_or(false)
            }
            Prepared::Numeric { .. } => false,
        }
    }

    /// How many rows hold each level of characteristic `c`'s column that the model never saw
    /// in training, as (level index, rows), for the levels that occur; none for a numeric one.
    pub fn unseen_counts(&self, c: usize) -> Vec<(usize, usize)> {
        let Prepared::Coded { codes, unseen, .. } = &self.prepared[c] else { return Vec::new() };
        if !unseen.contains(&true) {
            return Vec::new();
        }
        let mut rows = vec![0usize; unseen.len()];
        for &k in codes.iter() {
            if let Some(n) = rows.get_mut(k as usize) {
                *n += 1;
            }
        }
        rows.into_iter().enumerate().filter(|&(l, n)| n > 0 && unseen[l]).collect()
    }

    /// Writes the points of characteristic `c` for rows `start..start + out.len()` into `out`.
    pub fn points(&self, c: usize, start: usize, out: &mut [i32]) {
        wide!(self.points_here(c, start, out))
    }

    #[inline(always)]
    fn points_here(&self, c: usize, start: usize, out: &mut [i32]) {
        let mut strip = [0.0f64; STRIP];
        for (k, out) in out.chunks_mut(STRIP).enumerate() {
            let strip = &mut strip[..out.len()];
            self.strip_points(c, start + k * STRIP, strip);
            for (o, &a) in out.iter_mut().zip(strip.iter()) {
                *o = exact_i32(a);
            }
        }
    }

    /// Sets `totals` to the total points of rows `start..start + totals.len()`.
    pub fn totals(&self, start: usize, totals: &mut [f64]) {
        wide!(self.totals_here(start, totals: &mut [f64]))
    }

    /// Sets the total points and the reasons (as [`Scorer::reasons_from_points`] ranks them) of
    /// rows `start..start + totals.len()`; `reasons` is as long as `totals`.
    ///
    /// Each strip of rows takes the characteristics one at a time: their points are added to
    /// the totals, and their reason keys pass through four ranks, each keeping the larger key
    /// and handing the smaller on, so a row's ranks end as its four largest, in order. Every
    /// step is a compare and a select on a whole vector of rows, with no branch per row.
    pub fn totals_and_reasons(&self, start: usize, totals: &mut [i64], reasons: &mut [[Option<usize>; MAX_REASONS]]) {
        wide!(self.totals_and_reasons_here(start, totals: &mut [i64], reasons: &mut [[Option<usize>; MAX_REASONS]]))
    }

    #[inline(always)]
    fn totals_and_reasons_here(&self, start: usize, totals: &mut [i64], reasons: &mut [[Option<usize>; MAX_REASONS]]) {
        let mut points = [0.0f64; STRIP];
        let mut sum = [0.0f64; STRIP];
        let mut ranks = [[0.0f64; STRIP]; MAX_REASONS];
        for (k, (totals, reasons)) in totals.chunks_mut(STRIP).zip(reasons.chunks_mut(STRIP)).enumerate() {
            let n = totals.len().min(reasons.len());
            let at = start + k * STRIP;
            sum[..n].fill(0.0);
            // A key of 0 is a shortfall of 0: no reason, and below every real one.
            ranks.iter_mut().for_each(|r| r[..n].fill(0.0));
            for c in 0..self.prepared.len() {
                self.strip_points(c, at, &mut points[..n]);
                let best = self.best[c];
                let low = KEY_INDEX - c as f64;
                for r in 0..n {
                    let p = points[r];
                    sum[r] += p;
                    let mut key = (best - p) * KEY_SCALE + low;
                    for rank in ranks.iter_mut() {
                        let held = rank[r];
                        let larger = held > key;
                        rank[r] = if larger { held } else { key };
                        key = if larger { key } else { held };
                    }
                }
            }
            for r in 0..n {
                totals[r] = sum[r] as i64;
                for (k, rank) in ranks.iter().enumerate() {
                    let shortfall = (rank[r] / KEY_SCALE).floor();
                    reasons[r][k] =
                        (shortfall >= 1.0).then(|| (KEY_INDEX - (rank[r] - shortfall * KEY_SCALE)) as usize);
                }
            }
        }
    }

    #[inline(always)]
    fn totals_here(&self, start: usize, totals: &mut [f64]) {
        let mut strip = [0.0f64; STRIP];
        for (k, totals) in totals.chunks_mut(STRIP).enumerate() {
            totals.fill(0.0);
            let at = start + k * STRIP;
            for c in 0..self.prepared.len() {
                if !self.add_points(c, at, totals) {
                    let strip = &mut strip[..totals.len()];
                    self.strip_points(c, at, strip);
                    for (t, &p) in totals.iter_mut().zip(strip.iter()) {
                        *t += p;
                    }
                }
            }
        }
    }

    /// Adds the points of characteristic `c` for rows `start..start + totals.len()` to
    /// `totals` in one pass, for the shapes nearly every characteristic has (a numeric one with
    /// at most [`FIXED_STEPS`] cuts and no special values, or a coded one); says whether it did.
    #[inline(always)]
    fn add_points(&self, c: usize, start: usize, totals: &mut [f64]) -> bool {
        let end = start + totals.len();
        match &self.prepared[c] {
            Prepared::Numeric { values, base, steps, cuts, deltas, missing, specials }
                if steps.len() <= FIXED_STEPS && specials.is_empty() =>
            {
                let (base, missing) = (*base as f64, *missing as f64);
                let vals = &values[start..end];
                prefetch(ahead(values, end));
                if steps.len() <= FIXED_STEPS / 2 {
                    fused::<{ FIXED_STEPS / 2 }>(vals, totals, base, missing, cuts, deltas);
                } else {
                    fused::<FIXED_STEPS>(vals, totals, base, missing, cuts, deltas);
                }
                true
            }
            Prepared::Coded { codes, by_code, .. } => {
                prefetch(ahead(codes, end));
                let last = by_code.len() - 1;
                for (t, &code) in totals.iter_mut().zip(&codes[start..end]) {
                    *t += by_code[(code as usize).min(last)];
                }
                true
            }
            Prepared::Numeric { .. } => false,
        }
    }

    /// The points of characteristic `c` for rows `start..start + out.len()`, as floats (small
    /// integers, exact): kept in f64 lanes beside the f64 values, each step is a compare, a
    /// mask and an add in vector registers.
    #[inline(always)]
    fn strip_points(&self, c: usize, start: usize, out: &mut [f64]) {
        let end = start + out.len();
        match &self.prepared[c] {
            Prepared::Numeric { values, base, steps, cuts, deltas, missing, specials }
                if steps.len() <= FIXED_STEPS =>
            {
                // The common case, at most FIXED_STEPS cuts: padded with cuts no finite value
                // reaches, the whole step function is evaluated per row in registers.
                let vals = &values[start..end];
                prefetch(ahead(values, end));
                let (base, missing) = (*base as f64, *missing as f64);
                let (cuts, deltas) = (*cuts, *deltas);
                for (a, &v) in out.iter_mut().zip(vals) {
                    let mut s = base;
                    for k in 0..FIXED_STEPS {
                        s += if v >= cuts[k] { deltas[k] } else { 0.0 };
                    }
                    // Missing, NaN and infinite values all fail this test.
                    *a = if v.abs() < f64::INFINITY { s } else { missing };
                }
                for &(s, p) in specials {
                    let p = p as f64;
                    for (a, &v) in out.iter_mut().zip(vals) {
                        *a = if v == s { p } else { *a };
                    }
                }
            }
            Prepared::Numeric { values, base, steps, missing, specials, .. } => {
                let vals = &values[start..end];
                out.fill(*base as f64);
                for &(cut, step) in steps {
                    let step = step as f64;
                    for (a, &v) in out.iter_mut().zip(vals) {
                        *a += if v >= cut { step } else { 0.0 };
                    }
                }
                let missing = *missing as f64;
                for (a, &v) in out.iter_mut().zip(vals) {
                    // Missing, NaN and infinite values all fail this test.
                    *a = if v.abs() < f64::INFINITY { *a } else { missing };
                }
                for &(s, p) in specials {
                    let p = p as f64;
                    for (a, &v) in out.iter_mut().zip(vals) {
                        *a = if v == s { p } else { *a };
                    }
                }
            }
            Prepared::Coded { codes, by_code, .. } => {
                prefetch(ahead(codes, end));
                let last = by_code.len() - 1;
                for (o, &code) in out.iter_mut().zip(&codes[start..end]) {
                    *o = by_code[(code as usize).min(last)];
                }
            }
        }
    }
}

/// One numeric characteristic's points added to `totals`, row by row in vector registers: the
/// step function over the first `N` cuts, then missing, as [`Batch::strip_points`] computes them.
#[inline(always)]
fn fused<const N: usize>(
    vals: &[f64],
    totals: &mut [f64],
    base: f64,
    missing: f64,
    cuts: &[f64; FIXED_STEPS],
    deltas: &[f64; FIXED_STEPS],
) {
    // By value, so the compiler holds them in registers rather than loading them per lane.
    let (cuts, deltas) = (*cuts, *deltas);
    for (t, &v) in totals.iter_mut().zip(vals) {
        let step = |k: usize| if v >= cuts[k] { deltas[k] } else { 0.0 };
        // Summed as a tree, not a chain, so the adds of one row do not wait on each other. The
        // terms are small integers, so every order gives the same, exact sum.
        let low = (step(0) + step(1)) + (step(2) + step(3));
        let s = if N > 4 { base + (low + ((step(4) + step(5)) + (step(6) + step(7)))) } else { base + low };
        // Missing, NaN and infinite values all fail this test.
        *t += if v.abs() < f64::INFINITY { s } else { missing };
    }
}

/// Asks the processor to start loading `next` into cache: the values a column's next strip
/// will read, while this one is scored.
#[inline(always)]
fn prefetch<T>(next: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in next.chunks(64 / std::mem::size_of::<T>().max(1)) {
        // SAFETY: every x86-64 processor has SSE; a prefetch reads nothing and cannot fault.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(line.as_ptr().cast())
        };
    }
}

/// The strip of `column` after the one ending at `end`.
#[inline(always)]
fn ahead<T>(column: &[T], end: usize) -> &[T] {
    column.get(end..(end + STRIP).min(column.len())).unwrap_or(&[])
}

/// An f64 holding a small integer (|x| < 2³¹), as i32, without the saturating cast's scalar
/// code: adding 1.5·2⁵² puts the integer in the low bits of the mantissa.
fn exact_i32(x: f64) -> i32 {
    (x + 6_755_399_441_055_744.0).to_bits() as i32
}
