//! L2-penalised logistic regression by Newton's method, for a handful of dense features.

use crate::parallel::par_map;

/// Rows per block of the Newton sums. Blocks are summed in a fixed order, so the result does not
/// depend on the number of threads; the size keeps a block's feature slices in the L2 cache.
const BLOCK_ROWS: usize = 4096;
/// Newton converges in well under this many steps on weight-of-evidence features.
const MAX_ITERATIONS: usize = 50;
/// Newton stops when no coefficient moves more than this; its convergence is quadratic, so
/// the error left is far smaller still.
const TOLERANCE: f64 = 1e-7;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogisticFit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    /// Standard errors of the coefficients, from the inverse of the penalised Hessian.
    pub std_errors: Vec<f64>,
    /// The penalised Hessian at the solution (intercept first, row-major).
    hessian: Vec<f64>,
}

impl LogisticFit {
    /// Two-sided Wald p-value of coefficient `i`, with the statistic multiplied by `z_scale`
    /// (the square root of full rows over fitted rows, when the fit ran on a sample).
    pub fn p_value(&self, i: usize, z_scale: f64) -> f64 {
        let z = (self.coefficients[i] / self.std_errors[i]).abs() * z_scale;
        if !z.is_finite() {
            return if self.coefficients[i] == 0.0 { 1.0 } else { 0.0 };
        }
        erfc(z / std::f64::consts::SQRT_2)
    }
}

/// Fits P(y) = 1 / (1 + exp(-(b0 + x·b))) maximising the log-likelihood minus `l2`/2·|b|²
/// (the intercept is not penalised) by Newton's method. `x` is column-major: one slice per
/// feature.
pub(crate) fn fit_logistic(x: &[&[f64]], y: &[bool], l2: f64) -> LogisticFit {
    let p = x.len() + 1; // intercept first
    let n = y.len();
    let positives = y.iter().filter(|&&v| v).count() as f64;
    let rate = (positives / n.max(1) as f64).clamp(1e-9, 1.0 - 1e-9);
    let mut beta = vec![0.0; p];
    beta[0] = (rate / (1.0 - rate)).ln();
    let mut at = newton_sums(x, y, l2, &beta);
    for _ in 0..MAX_ITERATIONS {
        let Some(step) = solve_spd(&at.hessian, &at.grad, p) else { break };
        let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let slope = dot(&at.grad, &step);
        let (next, _, sums) = backtrack(&beta, &step, damped(max_step), at.ll, slope, |b| {
            let s = newton_sums(x, y, l2, b);
            (s.ll, s)
        });
        (beta, at) = (next, sums);
        if max_step < TOLERANCE {
            break;
        }
    }
    let std_errors = standard_errors(&at.hessian, p);
    LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian: at.hessian }
}

/// The longest step Newton takes: a longer one (which only happens when the data are nearly
/// separable) is scaled down to it.
fn damped(max_step: f64) -> f64 {
    if max_step > 5.0 {
        5.0 / max_step
    } else {
        1.0
    }
}

/// Backtracking along `direction` from `beta`: the first of `t0`, `t0`/2, `t0`/4, ... at which
/// the penalised log-likelihood `eval` gives rises by at least a ten-thousandth of what the
/// step's `slope` (the gradient along `direction`, at `ll0`) promises (Armijo's condition), up
/// to what rounding leaves unmeasured. Newton's full step nearly always passes at once; where it
/// overshoots (a feature of a few rows with a large weight of evidence can send the iteration
/// back and forth between two points forever) it is shortened, so every step climbs. Returns
/// the new point, the step taken and what `eval` gave there.
pub(crate) fn backtrack<T>(
    beta: &[f64],
    direction: &[f64],
    t0: f64,
    ll0: f64,
    slope: f64,
    eval: impl Fn(&[f64]) -> (f64, T),
) -> (Vec<f64>, f64, T) {
    // What rounding leaves uncertain in a sum of many rows' log-likelihoods: a change smaller
    // than this is not measured, and a step that promises no more is taken as it is.
    let noise = 1e-9 * ll0.abs().max(1.0);
    let mut t = t0;
    loop {
        let next: Vec<f64> = beta.iter().zip(direction).map(|(b, d)| b + t * d).collect();
        let (ll, payload) = eval(&next);
        if ll >= ll0 + 1e-4 * t * slope - noise || t < 1e-10 {
            return (next, t, payload);
        }
        t *= 0.5;
    }
}

/// Fits as [`fit_logistic`] with every coefficient held at or below zero (the intercept is
/// free): a projected Newton method with an active set. A step that would push a coefficient
/// above zero stops at zero and holds it there; at convergence, one held whose gradient points
/// below zero is let go again, until the Karush-Kuhn-Tucker conditions hold. Weights of evidence
/// point towards goods, so a coefficient above zero on the log-odds of bad would reverse a
/// characteristic. Returns the fit and which coefficients the bound holds at zero.
pub(crate) fn fit_logistic_nonpositive(x: &[&[f64]], y: &[bool], l2: f64) -> (LogisticFit, Vec<bool>) {
    let p = x.len() + 1;
    // Usually no bound binds (weights of evidence point the right way): then the unconstrained
    // optimum is the answer. Otherwise the search starts from it, clipped to the bounds, with
    // the clipped coefficients held, and lets go of those the gradient pulls below zero.
    let free = fit_logistic(x, y, l2);
    if free.coefficients.iter().all(|&c| c <= 0.0) {
        return (free, vec![false; p - 1]);
    }
    let mut beta: Vec<f64> =
        std::iter::once(free.intercept).chain(free.coefficients.iter().map(|&c| c.min(0.0))).collect();
    let mut held: Vec<bool> = std::iter::once(false).chain(free.coefficients.iter().map(|&c| c > 0.0)).collect();
    let mut at = newton_sums(x, y, l2, &beta);
    for _round in 0..2 * p + 2 {
        for _ in 0..MAX_ITERATIONS * 2 {
            let free: Vec<usize> = (0..p).filter(|&i| !held[i]).collect();
            let sub: Vec<f64> = free
                .iter()
                .flat_map(|&a| free.iter().map(move |&b| (a, b)))
                .map(|(a, b)| at.hessian[a * p + b])
                .collect();
            let g_free: Vec<f64> = free.iter().map(|&i| at.grad[i]).collect();
            let Some(step) = solve_spd(&sub, &g_free, free.len()) else { break };
            let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            let mut scale = damped(max_step);
            let mut blocked = None;
            for (k, &i) in free.iter().enumerate() {
                if i > 0 && step[k] > 0.0 {
                    let room = (-beta[i]).max(0.0) / step[k];
                    if room < scale {
                        scale = room;
                        blocked = Some(i);
                    }
                }
            }
            let mut direction = vec![0.0; p];
            free.iter().zip(&step).for_each(|(&i, &s)| direction[i] = s);
            let slope = dot(&g_free, &step);
            let (next, t, sums) = backtrack(&beta, &direction, scale, at.ll, slope, |b| {
                let s = newton_sums(x, y, l2, b);
                (s.ll, s)
            });
            (beta, at) = (next, sums);
            // A step shortened by the search stops short of the bound.
            if let Some(i) = blocked.filter(|_| t == scale) {
                beta[i] = 0.0;
                held[i] = true;
                at = newton_sums(x, y, l2, &beta);
                continue;
            }
            if max_step * t < TOLERANCE {
                break;
            }
        }
        let release: Vec<usize> = (1..p).filter(|&j| held[j] && at.grad[j] < -1e-9).collect();
        if release.is_empty() {
            break;
        }
        release.into_iter().for_each(|j| held[j] = false);
    }
    let std_errors = standard_errors(&at.hessian, p);
    let fit = LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian: at.hessian };
    (fit, held[1..].to_vec())
}

impl LogisticFit {
    /// A constrained fit without the features it holds at zero (`held`): the same optimum, since
    /// the bound binds nowhere else, so one Newton pass gives the Hessian and standard errors of
    /// the features left (`x`).
    pub fn without_held(&self, held: &[bool], x: &[&[f64]], y: &[bool], l2: f64) -> LogisticFit {
        let kept = self.coefficients.iter().zip(held).filter(|(_, &h)| !h).map(|(&c, _)| c);
        let beta: Vec<f64> = std::iter::once(self.intercept).chain(kept).collect();
        let hessian = newton_sums(x, y, l2, &beta).hessian;
        let std_errors = standard_errors(&hessian, beta.len());
        LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian }
    }

    /// Refits without feature `j`, starting from this fit: the old Hessian less row and column
    /// `j` steers gradient-only steps (a feature's removal barely moves the others' curvature),
    /// and one Newton pass at the end gives the exact Hessian for standard errors. `x` holds
    /// the remaining features.
    pub fn refit_without(&self, j: usize, x: &[&[f64]], y: &[bool], l2: f64) -> LogisticFit {
        let p = self.coefficients.len() + 1;
        let drop = j + 1;
        let mut beta: Vec<f64> = std::iter::once(self.intercept).chain(self.coefficients.iter().copied()).collect();
        beta.remove(drop);
        let hessian: Vec<f64> =
            (0..p * p).filter(|&k| k / p != drop && k % p != drop).map(|k| self.hessian[k]).collect();
        let beta = quasi_newton(x, y, l2, beta, &hessian);
        let hessian = newton_sums(x, y, l2, &beta).hessian;
        let std_errors = standard_errors(&hessian, p - 1);
        LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian }
    }
}

/// Moves a fit made on a sample of the rows to the exact optimum on all of them, computing
/// only gradients on the full data: the sample's Hessian, scaled by `rows_ratio` (all rows
/// over sampled rows), stands in for the full one. A gradient costs one pass of `p` products
/// per row, a Hessian `p²/2`.
pub(crate) fn polish<X: Features + ?Sized>(
    x: &X,
    y: &[bool],
    l2: f64,
    sample: &LogisticFit,
    rows_ratio: f64,
) -> LogisticFit {
    let p = x.count() + 1;
    let mut hessian = sample.hessian.clone();
    for (i, h) in hessian.iter_mut().enumerate() {
        let penalty = if i % (p + 1) == 0 && i > 0 { l2 } else { 0.0 };
        *h = (*h - penalty) * rows_ratio + penalty;
    }
    let beta: Vec<f64> = std::iter::once(sample.intercept).chain(sample.coefficients.iter().copied()).collect();
    let beta = quasi_newton(x, y, l2, beta, &hessian);
    let std_errors = standard_errors(&hessian, p);
    LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian }
}

/// Iterates `beta += H⁻¹ · gradient` with a fixed `hessian` near the true one. The fixed point
/// is Newton's (a zero gradient); convergence is linear, and fast when `hessian` is close.
fn quasi_newton<X: Features + ?Sized>(x: &X, y: &[bool], l2: f64, mut beta: Vec<f64>, hessian: &[f64]) -> Vec<f64> {
    let p = beta.len();
    let (mut ll, mut grad) = gradient(x, y, l2, &beta);
    for _ in 0..MAX_ITERATIONS {
        let Some(step) = solve_spd(hessian, &grad, p) else { break };
        let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let slope = dot(&grad, &step);
        let (next, _, (next_ll, next_grad)) = backtrack(&beta, &step, damped(max_step), ll, slope, |b| {
            let g = gradient(x, y, l2, b);
            (g.0, g)
        });
        (beta, ll, grad) = (next, next_ll, next_grad);
        if max_step < TOLERANCE {
            break;
        }
    }
    beta
}

/// The penalised log-likelihood and its gradient at `beta`.
fn gradient<X: Features + ?Sized>(x: &X, y: &[bool], l2: f64, beta: &[f64]) -> (f64, Vec<f64>) {
    let p = beta.len();
    let sums = par_map(&blocks(y.len()), |&(s, e)| block_gradient(x, y, beta, s, e));
    let mut grad = vec![0.0; p];
    let mut ll = 0.0;
    for (block_ll, b) in &sums {
        ll += block_ll;
        grad.iter_mut().zip(b).for_each(|(g, v)| *g += v);
    }
    for i in 1..p {
        grad[i] -= l2 * beta[i];
    }
    (ll - penalty(l2, beta), grad)
}

/// The L2 penalty at `beta` (the intercept, first, is not penalised).
fn penalty(l2: f64, beta: &[f64]) -> f64 {
    0.5 * l2 * beta[1..].iter().map(|b| b * b).sum::<f64>()
}

/// One row at log-odds `t`: ln P(y) and P(bad), from one exponential, without overflow.
pub(crate) fn row(t: f64, y: bool) -> (f64, f64) {
    let e = (-t).exp();
    // ln(1 + e^-t), which is -t itself where e^-t overflows.
    let softplus = if e.is_finite() { e.ln_1p() } else { -t };
    (-softplus - if y { 0.0 } else { t }, 1.0 / (1.0 + e))
}

/// ln P(y) for one row at log-odds `eta`.
pub(crate) fn log_likelihood(eta: f64, y: bool) -> f64 {
    row(eta, y).0
}

/// Row ranges of the Newton sums.
fn blocks(n: usize) -> Vec<(usize, usize)> {
    (0..n).step_by(BLOCK_ROWS).map(|s| (s, (s + BLOCK_ROWS).min(n))).collect()
}

/// The penalised log-likelihood, gradient and (full, symmetric) Hessian at one point.
struct Sums {
    ll: f64,
    grad: Vec<f64>,
    hessian: Vec<f64>,
}

fn newton_sums(x: &[&[f64]], y: &[bool], l2: f64, beta: &[f64]) -> Sums {
    let p = beta.len();
    let n = y.len();
    let blocks = blocks(n);
    let sums = par_map(&blocks, |&(s, e)| block_sums(x, y, beta, s, e));
    let mut grad = vec![0.0; p];
    let mut hessian = vec![0.0; p * p];
    let mut ll = 0.0;
    for b in &sums {
        ll += b.ll;
        grad.iter_mut().zip(&b.grad).for_each(|(g, v)| *g += v);
        hessian.iter_mut().zip(&b.hess).for_each(|(h, v)| *h += v);
    }
    for i in 1..p {
        grad[i] -= l2 * beta[i];
        hessian[i * p + i] += l2;
    }
    mirror(&mut hessian, p);
    Sums { ll: ll - penalty(l2, beta), grad, hessian }
}

fn standard_errors(hessian: &[f64], p: usize) -> Vec<f64> {
    (1..p)
        .map(|i| {
            let mut e = vec![0.0; p];
            e[i] = 1.0;
            solve_spd(hessian, &e, p).map(|col| col[i].max(0.0).sqrt()).unwrap_or(f64::INFINITY)
        })
        .collect()
}

fn block_gradient<X: Features + ?Sized>(x: &X, y: &[bool], beta: &[f64], s: usize, e: usize) -> (f64, Vec<f64>) {
    let eta = linear(x, beta, s, e);
    let mut ll = 0.0;
    let r: Vec<f64> = eta
        .iter()
        .zip(&y[s..e])
        .map(|(&t, &yi)| {
            let (row_ll, mu) = row(t, yi);
            ll += row_ll;
            yi as u8 as f64 - mu
        })
        .collect();
    let mut grad = Vec::with_capacity(beta.len());
    grad.push(r.iter().sum());
    grad.extend((0..x.count()).map(|j| x.dot_with(j, s, &r)));
    (ll, grad)
}

/// The log-odds `beta` gives rows `s..e`: the intercept, then each feature's term in turn.
fn linear<X: Features + ?Sized>(x: &X, beta: &[f64], s: usize, e: usize) -> Vec<f64> {
    let mut eta = vec![beta[0]; e - s];
    for j in 0..x.count() {
        x.add_to(j, beta[j + 1], s, &mut eta);
    }
    eta
}

/// Features as a gradient reads them, a block of rows at a time.
pub(crate) trait Features: Sync {
    /// How many features there are.
    fn count(&self) -> usize;
    /// Adds `b` times feature `j` of rows `s..` to `eta`, one row per element.
    fn add_to(&self, j: usize, b: f64, s: usize, eta: &mut [f64]);
    /// The dot product of `r` with feature `j` of rows `s..`, one row per element of `r`.
    fn dot_with(&self, j: usize, s: usize, r: &[f64]) -> f64;
}

impl Features for [&[f64]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn add_to(&self, j: usize, b: f64, s: usize, eta: &mut [f64]) {
        eta.iter_mut().zip(&self[j][s..]).for_each(|(t, v)| *t += b * v);
    }
    fn dot_with(&self, j: usize, s: usize, r: &[f64]) -> f64 {
        dot(r, &self[j][s..s + r.len()])
    }
}

/// Most bins a [`Feature::Coded`] may have; a binning has at most 64 bins, 32 special values
/// and the missing one.
pub(crate) const CODED_BINS: usize = 128;

/// One feature given row by row, or as each row's bin (`codes`, each below [`CODED_BINS`]) and
/// each bin's value (`values`, padded), as weights of evidence are: a gradient then reads two
/// bytes a row rather than eight. Both give the same sums to the last bit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Feature<'a> {
    Rows(&'a [f64]),
    Coded { codes: &'a [u16], values: &'a [f64; CODED_BINS] },
}

impl Features for [Feature<'_>] {
    fn count(&self) -> usize {
        self.len()
    }
    fn add_to(&self, j: usize, b: f64, s: usize, eta: &mut [f64]) {
        match self[j] {
            Feature::Rows(v) => [v].add_to(0, b, s, eta),
            Feature::Coded { codes, values } => {
                // The same products as row by row, one per bin; the mask only spares the bound check.
                let scaled = values.map(|v| b * v);
                eta.iter_mut().zip(&codes[s..]).for_each(|(t, &c)| *t += scaled[c as usize % CODED_BINS]);
            }
        }
    }
    fn dot_with(&self, j: usize, s: usize, r: &[f64]) -> f64 {
        match self[j] {
            Feature::Rows(v) => [v].dot_with(0, s, r),
            Feature::Coded { codes, values } => {
                let codes = &codes[s..s + r.len()];
                dot_by(r, |i| values[codes[i] as usize % CODED_BINS])
            }
        }
    }
}

struct BlockSums {
    ll: f64,
    grad: Vec<f64>,
    /// Upper triangle filled, row-major p×p.
    hess: Vec<f64>,
}

fn block_sums(x: &[&[f64]], y: &[bool], beta: &[f64], s: usize, e: usize) -> BlockSums {
    let p = beta.len();
    let len = e - s;
    let eta = linear(x, beta, s, e);
    let mut w = vec![0.0; len];
    let mut r = vec![0.0; len];
    let mut ll = 0.0;
    for i in 0..len {
        let t = eta[i];
        let (row_ll, mu) = row(t, y[s + i]);
        w[i] = mu * (1.0 - mu);
        r[i] = y[s + i] as u8 as f64 - mu;
        ll += row_ll;
    }
    let col = |j: usize| -> &[f64] { &x[j - 1][s..e] };
    let mut grad = vec![0.0; p];
    let mut hess = vec![0.0; p * p];
    grad[0] = r.iter().sum();
    hess[0] = w.iter().sum();
    let mut wx = vec![0.0; len];
    for a in 1..p {
        let xa = col(a);
        grad[a] = dot(&r, xa);
        wx.iter_mut().zip(&w).zip(xa).for_each(|((o, wi), xi)| *o = wi * xi);
        hess[a] = wx.iter().sum(); // (0, a)
        for b in a..p {
            hess[a * p + b] = dot(&wx, col(b));
        }
    }
    BlockSums { ll, grad, hess }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let b = &b[..a.len()];
    dot_by(a, |i| b[i])
}

/// The dot product of `a` with the values `b` gives at each index, summed in the one order
/// [`dot`] sums in.
#[inline(always)]
fn dot_by(a: &[f64], b: impl Fn(usize) -> f64) -> f64 {
    // Four accumulators let the compiler vectorise without reassociating a single sum.
    let mut acc = [0.0; 4];
    let chunks = a.len() / 4;
    for i in 0..chunks {
        for k in 0..4 {
            acc[k] += a[4 * i + k] * b(4 * i + k);
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..a.len() {
        s += a[i] * b(i);
    }
    s
}

fn mirror(h: &mut [f64], p: usize) {
    for a in 0..p {
        for b in 0..a {
            h[a * p + b] = h[b * p + a];
        }
    }
}

/// Solves H·x = g for a symmetric positive definite H by Cholesky; `None` if H is not.
fn solve_spd(h: &[f64], g: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = h[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        let mut s = g[i];
        for k in 0..i {
            s -= l[i * p + k] * z[k];
        }
        z[i] = s / l[i * p + i];
    }
    let mut out = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = z[i];
        for k in i + 1..p {
            s -= l[k * p + i] * out[k];
        }
        out[i] = s / l[i * p + i];
    }
    Some(out)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7),
/// enough for p-values.
pub(crate) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let ans = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two uniform features on [-1, 1] and outcomes drawn with log-odds `b0 + b1·x1 + b2·x2`,
    /// from a linear congruential generator seeded with `seed`.
    fn design(seed: u64, n: usize, [b0, b1, b2]: [f64; 3]) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
        let mut next = crate::uniform(seed);
        let x1: Vec<f64> = (0..n).map(|_| next() * 2.0 - 1.0).collect();
        let x2: Vec<f64> = (0..n).map(|_| next() * 2.0 - 1.0).collect();
        let y = (0..n).map(|i| next() < 1.0 / (1.0 + (-(b0 + b1 * x1[i] + b2 * x2[i])).exp())).collect();
        (x1, x2, y)
    }

    #[test]
    fn recovers_known_coefficients() {
        let (x1, x2, y) = design(12345, 40_000, [-1.0, 2.0, -0.5]);
        let fit = fit_logistic(&[&x1, &x2], &y, 0.0);
        assert!((fit.intercept + 1.0).abs() < 0.06, "{fit:?}");
        assert!((fit.coefficients[0] - 2.0).abs() < 0.1, "{fit:?}");
        assert!((fit.coefficients[1] + 0.5).abs() < 0.08, "{fit:?}");
        assert!(fit.p_value(0, 1.0) < 1e-6);

        // Dropping a feature by warm refit lands where a cold fit without it lands.
        let warm = fit.refit_without(1, &[&x1], &y, 0.0);
        let cold = fit_logistic(&[&x1], &y, 0.0);
        assert!((warm.intercept - cold.intercept).abs() < 1e-6, "{warm:?} {cold:?}");
        assert!((warm.coefficients[0] - cold.coefficients[0]).abs() < 1e-6);
        assert!((warm.std_errors[0] - cold.std_errors[0]).abs() < 1e-6);
    }

    /// The bound holds a coefficient at zero that would otherwise come out positive, and leaves
    /// the others at their unconstrained optimum without it; with nothing to hold it is the
    /// ordinary fit.
    #[test]
    fn the_nonpositive_fit_holds_a_reversed_coefficient_at_zero() {
        let (x1, x2, y) = design(99, 40_000, [-1.0, -1.5, 0.7]);
        let free = fit_logistic(&[&x1, &x2], &y, 1.0);
        assert!(free.coefficients[1] > 0.5, "{free:?}");
        let (held, at_zero) = fit_logistic_nonpositive(&[&x1, &x2], &y, 1.0);
        assert_eq!(at_zero, [false, true]);
        assert_eq!(held.coefficients[1], 0.0);
        let without = fit_logistic(&[&x1], &y, 1.0);
        assert!((held.coefficients[0] - without.coefficients[0]).abs() < 1e-6, "{held:?} {without:?}");
        assert!((held.intercept - without.intercept).abs() < 1e-6);

        let (x1, x2, y2) = design(98, 40_000, [-1.0, -1.5, -0.7]);
        let free = fit_logistic(&[&x1, &x2], &y2, 1.0);
        let (held, at_zero) = fit_logistic_nonpositive(&[&x1, &x2], &y2, 1.0);
        assert_eq!(at_zero, [false, false]);
        for (a, b) in held.coefficients.iter().zip(&free.coefficients) {
            assert!((a - b).abs() < 1e-6, "{held:?} {free:?}");
        }
    }

    /// The penalised gradient at a fit, computed here from the definition.
    fn gradient_at(x: &[&[f64]], y: &[bool], l2: f64, fit: &LogisticFit) -> Vec<f64> {
        let mut g = vec![0.0; x.len() + 1];
        for (r, &yr) in y.iter().enumerate() {
            let eta = fit.intercept + x.iter().zip(&fit.coefficients).map(|(c, b)| c[r] * b).sum::<f64>();
            let resid = yr as u8 as f64 - 1.0 / (1.0 + (-eta).exp());
            g[0] += resid;
            x.iter().enumerate().for_each(|(j, c)| g[j + 1] += resid * c[r]);
        }
        fit.coefficients.iter().enumerate().for_each(|(j, b)| g[j + 1] -= l2 * b);
        g
    }

    /// A rare characteristic with a large weight of evidence (mortgage insurance denied on 2%
    /// of the rows, nine in ten of them bad) sends Newton's full steps back and forth between
    /// two points forever, one of them with the coefficient's sign reversed; the line search
    /// makes every step climb, and the fit lands where the gradient vanishes.
    #[test]
    fn a_rare_large_weight_of_evidence_does_not_make_newton_oscillate() {
        let mut next = crate::uniform(7);
        let n = 2_000;
        let (mut rare, mut other, mut y) = (vec![], vec![], vec![]);
        for i in 0..n {
            let denied = i % 50 == 0;
            let u = next();
            rare.push(if denied { -3.3 } else { 0.16 });
            other.push(0.9 - 1.5 * u);
            y.push(next() < if denied { 0.88 } else { 0.02 + 0.16 * u });
        }
        let x: [&[f64]; 2] = [&rare, &other];
        let fit = fit_logistic(&x, &y, 1.0);
        let g = gradient_at(&x, &y, 1.0, &fit);
        assert!(g.iter().all(|v| v.abs() < 1e-4), "not at the optimum: {fit:?}, gradient {g:?}");
        assert!(fit.coefficients[0] < -0.5, "the denial counts against: {fit:?}");
        let (bounded, held) = fit_logistic_nonpositive(&x, &y, 1.0);
        assert_eq!(held, [false, false]);
        assert!((bounded.coefficients[0] - fit.coefficients[0]).abs() < 1e-9);
        let polished = polish(&x[..], &y, 1.0, &fit_logistic(&[&rare[..400], &other[..400]], &y[..400], 1.0), 5.0);
        let g = gradient_at(&x, &y, 1.0, &polished);
        assert!(g.iter().all(|v| v.abs() < 1e-4), "polish not at the optimum: {polished:?}, gradient {g:?}");
    }

    /// A feature given as each row's bin and the bins' values polishes to the same fit, to the
    /// last bit, as the same values written out row by row.
    #[test]
    fn a_coded_feature_polishes_to_the_fit_its_rows_give() {
        let (x1, x2, y) = design(31, 10_003, [-1.2, 1.5, -0.8]);
        let mut values = [0.0; CODED_BINS];
        for (k, v) in values.iter_mut().take(7).enumerate() {
            *v = (k as f64 - 3.0) * 0.37;
        }
        let codes: Vec<u16> = x1.iter().map(|v| ((v + 1.0) * 3.5).floor().min(6.0) as u16).collect();
        let rows: Vec<f64> = codes.iter().map(|&c| values[c as usize]).collect();
        let sample = fit_logistic(&[&rows[..2_000], &x2[..2_000]], &y[..2_000], 1.0);
        let dense = polish(&[&rows[..], &x2[..]][..], &y, 1.0, &sample, 5.0);
        let coded =
            polish(&[Feature::Coded { codes: &codes, values: &values }, Feature::Rows(&x2)][..], &y, 1.0, &sample, 5.0);
        assert_eq!(coded, dense);
        assert!((dense.coefficients[0] - 1.5 / 0.37 * 2.0 / 7.0).abs() < 0.3, "{dense:?}");
    }

    #[test]
    fn a_rows_likelihood_holds_at_extreme_log_odds() {
        for t in [-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0] {
            let (bad, p) = row(t, true);
            let (good, _) = row(t, false);
            assert!(bad.is_finite() && good.is_finite() && bad <= 0.0 && good <= 0.0, "{t}: {bad} {good}");
            assert!((bad.exp() + good.exp() - 1.0).abs() < 1e-12, "{t}");
            assert!((p - bad.exp()).abs() < 1e-12, "{t}");
        }
        assert!((row(-800.0, true).0 + 800.0).abs() < 1e-9);
        assert!((row(800.0, false).0 + 800.0).abs() < 1e-9);
        assert!((row(0.0, true).0 + std::f64::consts::LN_2).abs() < 1e-15);
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }
}
