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
    let mut hessian = vec![0.0; p * p];
    for _ in 0..MAX_ITERATIONS {
        let (grad, h) = newton_sums(x, y, l2, &beta);
        hessian = h;
        let Some(step) = solve_spd(&hessian, &grad, p) else { break };
        let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        // Damp very long steps, which only happen when the data are (nearly) separable.
        let scale = if max_step > 5.0 { 5.0 / max_step } else { 1.0 };
        beta.iter_mut().zip(&step).for_each(|(b, s)| *b += scale * s);
        if max_step < TOLERANCE {
            break;
        }
    }
    // Standard errors from the last Hessian, taken one step (of at most the tolerance, or the
    // last damped step when the iteration limit was hit) before the solution.
    let std_errors = standard_errors(&hessian, p);
    LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian }
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
    let mut hessian = vec![0.0; p * p];
    for _round in 0..2 * p + 2 {
        let mut grad = vec![0.0; p];
        for _ in 0..MAX_ITERATIONS * 2 {
            let (g, h) = newton_sums(x, y, l2, &beta);
            (grad, hessian) = (g, h);
            let free: Vec<usize> = (0..p).filter(|&i| !held[i]).collect();
            let sub: Vec<f64> =
                free.iter().flat_map(|&a| free.iter().map(move |&b| (a, b))).map(|(a, b)| hessian[a * p + b]).collect();
            let g_free: Vec<f64> = free.iter().map(|&i| grad[i]).collect();
            let Some(step) = solve_spd(&sub, &g_free, free.len()) else { break };
            let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            let mut scale = if max_step > 5.0 { 5.0 / max_step } else { 1.0 };
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
            for (k, &i) in free.iter().enumerate() {
                beta[i] += scale * step[k];
            }
            if let Some(i) = blocked {
                beta[i] = 0.0;
                held[i] = true;
                continue;
            }
            if max_step * scale < TOLERANCE {
                break;
            }
        }
        let (g, h) = newton_sums(x, y, l2, &beta);
        (grad, hessian) = (g, h);
        let release: Vec<usize> = (1..p).filter(|&j| held[j] && grad[j] < -1e-9).collect();
        if release.is_empty() {
            break;
        }
        release.into_iter().for_each(|j| held[j] = false);
    }
    let std_errors = standard_errors(&hessian, p);
    let fit = LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian };
    (fit, held[1..].to_vec())
}

impl LogisticFit {
    /// A constrained fit without the features it holds at zero (`held`): the same optimum, since
    /// the bound binds nowhere else, so one Newton pass gives the Hessian and standard errors of
    /// the features left (`x`).
    pub fn without_held(&self, held: &[bool], x: &[&[f64]], y: &[bool], l2: f64) -> LogisticFit {
        let kept = self.coefficients.iter().zip(held).filter(|(_, &h)| !h).map(|(&c, _)| c);
        let beta: Vec<f64> = std::iter::once(self.intercept).chain(kept).collect();
        let (_, hessian) = newton_sums(x, y, l2, &beta);
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
        let (_, hessian) = newton_sums(x, y, l2, &beta);
        let std_errors = standard_errors(&hessian, p - 1);
        LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), std_errors, hessian }
    }
}

/// Moves a fit made on a sample of the rows to the exact optimum on all of them, computing
/// only gradients on the full data: the sample's Hessian, scaled by `rows_ratio` (all rows
/// over sampled rows), stands in for the full one. A gradient costs one pass of `p` products
/// per row, a Hessian `p²/2`.
pub(crate) fn polish(x: &[&[f64]], y: &[bool], l2: f64, sample: &LogisticFit, rows_ratio: f64) -> LogisticFit {
    let p = x.len() + 1;
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
fn quasi_newton(x: &[&[f64]], y: &[bool], l2: f64, mut beta: Vec<f64>, hessian: &[f64]) -> Vec<f64> {
    let p = beta.len();
    let n = y.len();
    let blocks = blocks(n);
    for _ in 0..MAX_ITERATIONS {
        let sums = par_map(&blocks, |&(s, e)| block_gradient(x, y, &beta, s, e));
        let mut grad = vec![0.0; p];
        for b in &sums {
            grad.iter_mut().zip(b).for_each(|(g, v)| *g += v);
        }
        for i in 1..p {
            grad[i] -= l2 * beta[i];
        }
        let Some(step) = solve_spd(hessian, &grad, p) else { break };
        let max_step = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let scale = if max_step > 5.0 { 5.0 / max_step } else { 1.0 };
        beta.iter_mut().zip(&step).for_each(|(b, s)| *b += scale * s);
        if max_step < TOLERANCE {
            break;
        }
    }
    beta
}

/// Row ranges of the Newton sums.
fn blocks(n: usize) -> Vec<(usize, usize)> {
    (0..n).step_by(BLOCK_ROWS).map(|s| (s, (s + BLOCK_ROWS).min(n))).collect()
}

/// The penalised gradient and (full, symmetric) Hessian at `beta`.
fn newton_sums(x: &[&[f64]], y: &[bool], l2: f64, beta: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let p = beta.len();
    let n = y.len();
    let blocks = blocks(n);
    let sums = par_map(&blocks, |&(s, e)| block_sums(x, y, beta, s, e));
    let mut grad = vec![0.0; p];
    let mut hessian = vec![0.0; p * p];
    for b in &sums {
        grad.iter_mut().zip(&b.grad).for_each(|(g, v)| *g += v);
        hessian.iter_mut().zip(&b.hess).for_each(|(h, v)| *h += v);
    }
    for i in 1..p {
        grad[i] -= l2 * beta[i];
        hessian[i * p + i] += l2;
    }
    mirror(&mut hessian, p);
    (grad, hessian)
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

fn block_gradient(x: &[&[f64]], y: &[bool], beta: &[f64], s: usize, e: usize) -> Vec<f64> {
    let mut eta = vec![beta[0]; e - s];
    for (j, col) in x.iter().enumerate() {
        let b = beta[j + 1];
        eta.iter_mut().zip(&col[s..e]).for_each(|(t, v)| *t += b * v);
    }
    let r: Vec<f64> =
        eta.iter().zip(&y[s..e]).map(|(&t, &yi)| if yi { 1.0 } else { 0.0 } - 1.0 / (1.0 + (-t).exp())).collect();
    let mut grad = Vec::with_capacity(beta.len());
    grad.push(r.iter().sum());
    grad.extend(x.iter().map(|col| dot(&r, &col[s..e])));
    grad
}

struct BlockSums {
    grad: Vec<f64>,
    /// Upper triangle filled, row-major p×p.
    hess: Vec<f64>,
}

fn block_sums(x: &[&[f64]], y: &[bool], beta: &[f64], s: usize, e: usize) -> BlockSums {
    let p = beta.len();
    let len = e - s;
    let mut eta = vec![beta[0]; len];
    for (j, col) in x.iter().enumerate() {
        let b = beta[j + 1];
        eta.iter_mut().zip(&col[s..e]).for_each(|(t, v)| *t += b * v);
    }
    let mut w = vec![0.0; len];
    let mut r = vec![0.0; len];
    for i in 0..len {
        let t = eta[i];
        let mu = 1.0 / (1.0 + (-t).exp());
        let yi = if y[s + i] { 1.0 } else { 0.0 };
        w[i] = mu * (1.0 - mu);
        r[i] = yi - mu;
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
    BlockSums { grad, hess }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators let the compiler vectorise without reassociating a single sum.
    let mut acc = [0.0; 4];
    let chunks = a.len() / 4;
    for i in 0..chunks {
        for k in 0..4 {
            acc[k] += a[4 * i + k] * b[4 * i + k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..a.len() {
        s += a[i] * b[i];
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
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
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

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }
}
