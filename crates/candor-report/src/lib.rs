//! The validation report. `evaluate` computes every figure (pure); `render` lays them out as a
//! self-contained HTML page: inline CSS and SVG, no script, no network.
//!
//! This crate is the only one that knows HTML.

use std::fmt::Write;

use candor_scorecard::metrics::{self, CalibrationBand, GroupImpact, RocPoint};
use candor_scorecard::{Characteristic, CharacteristicOutcome, FitReport, Model};

/// Width of the score distribution's histogram bars, in points.
const HISTOGRAM_BAND_POINTS: f64 = 20.0;
/// The ROC curve is drawn through at most this many points.
const MAX_CURVE_POINTS: usize = 400;

/// Group labels for adverse impact, read from the data at validation time only.
#[derive(Debug, Clone)]
pub struct GroupColumn {
    pub name: String,
    pub labels: Vec<String>,
    pub cutoff: i32,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub rows: usize,
    pub bads: usize,
    pub auc: f64,
    pub gini: f64,
    pub ks: f64,
    /// Against the training distribution kept in the model.
    pub psi: f64,
    pub roc: Vec<RocPoint>,
    /// (band lower edge, share of goods, share of bads)
    pub histogram: Vec<(f64, f64, f64)>,
    pub calibration: Vec<CalibrationBand>,
    /// Per training band: (training share, share now).
    pub stability: Vec<(f64, f64)>,
    pub groups: Option<(String, i32, Vec<GroupImpact>)>,
    /// Per model characteristic, per bin: (rows, bads) of the data evaluated, where the caller
    /// counted them ([`sample_bins`]); empty otherwise.
    pub sample_bins: Vec<Vec<(u64, u64)>>,
}

/// Rows and bads of `columns` (one per model characteristic, in model order) in each bin: the
/// evaluated sample's own bins, beside the training counts the model keeps.
pub fn sample_bins(
    scorer: &candor_scorecard::Scorer,
    columns: &[&candor_scorecard::Values],
    bad: &[bool],
) -> Result<Vec<Vec<(u64, u64)>>, candor_scorecard::ModelError> {
    use candor_scorecard::{Value, Values};
    let mut out = Vec::with_capacity(columns.len());
    for (c, values) in columns.iter().enumerate() {
        let mut counts = vec![(0u64, 0u64); scorer.model().characteristics[c].bins.len()];
        for (r, &b) in bad.iter().enumerate() {
            let value = match values {
                Values::Numeric(v) if v[r].is_finite() => Value::Number(v[r]),
                Values::Numeric(_) => Value::Missing,
                Values::Categorical { codes, levels } => {
                    levels.get(codes[r] as usize).map_or(Value::Missing, |l| Value::Text(l.clone()))
                }
            };
            let k = scorer.bin_of(c, &value)?;
            counts[k].0 += 1;
            counts[k].1 += u64::from(b);
        }
        out.push(counts);
    }
    Ok(out)
}

pub fn evaluate(model: &Model, scores: &[f64], pd: &[f64], bad: &[bool], group: Option<&GroupColumn>) -> Evaluation {
    let auc = metrics::auc(scores, bad).unwrap_or(0.5);
    let roc = metrics::roc(scores, bad).unwrap_or_default();
    let ks = metrics::ks(scores, bad).unwrap_or(0.0);
    let edges = &model.training.score_edges;
    let now = metrics::band_shares(scores, edges);
    let reference =
        if model.training.score_shares.len() == now.len() { model.training.score_shares.clone() } else { now.clone() };
    let psi = metrics::psi_of_shares(&reference, &now);
    let s = &model.scaling;
    let lo = (s.min_score as f64 / HISTOGRAM_BAND_POINTS).floor() * HISTOGRAM_BAND_POINTS;
    let bands = ((s.max_score as f64 - lo) / HISTOGRAM_BAND_POINTS).floor() as usize + 1;
    let bads = bad.iter().filter(|&&b| b).count();
    let goods = bad.len() - bads;
    let mut hist = vec![(0.0, 0.0); bands];
    for (&sc, &b) in scores.iter().zip(bad) {
        let k = (((sc - lo) / HISTOGRAM_BAND_POINTS).floor().max(0.0) as usize).min(bands - 1);
        if b {
            hist[k].1 += 1.0
        } else {
            hist[k].0 += 1.0
        }
    }
    // Drawn over the bands scores occur in, not the whole scale.
    let first = hist.iter().position(|&(g, b)| g + b > 0.0).unwrap_or(0);
    let last = hist.iter().rposition(|&(g, b)| g + b > 0.0).unwrap_or(bands - 1);
    let histogram = hist
        .iter()
        .enumerate()
        .take(last + 1)
        .skip(first)
        .map(|(k, &(g, b))| (lo + k as f64 * HISTOGRAM_BAND_POINTS, g / goods.max(1) as f64, b / bads.max(1) as f64))
        .collect();
    let groups = group.map(|g| (g.name.clone(), g.cutoff, metrics::adverse_impact(scores, &g.labels, g.cutoff as f64)));
    Evaluation {
        rows: scores.len(),
        bads,
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        psi,
        roc,
        histogram,
        calibration: metrics::calibration(scores, pd, bad, edges),
        stability: reference.into_iter().zip(now).collect(),
        groups,
        sample_bins: Vec::new(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f3f3f3}td.l,th.l{text-align:left}h2{border-bottom:2px solid #444;margin-top:2em}\
.charts{display:flex;gap:2em;flex-wrap:wrap}.dropped{color:#888}svg text{font-size:11px}";

pub fn render(
    title: &str,
    data: &str,
    model: &Model,
    fit: Option<&FitReport>,
    held: Option<&candor_scorecard::HeldOut>,
    e: &Evaluation,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\
         <h1>{t}</h1><p>Model by {by}, trained on {tr} rows ({tb} bad), data digest <code>{dg}</code>.<br>Evaluated on {data}.</p>",
        t = esc(title),
        by = esc(&model.created_by),
        tr = model.training.rows,
        tb = model.training.bads,
        dg = esc(&model.training.data_digest),
        data = esc(data),
    );
    let _ = write!(
        h,
        "<h2>Discrimination and stability</h2><table><tr><th class=l>rows</th><td>{}</td></tr>\
         <tr><th class=l>bad rate</th><td>{:.4}</td></tr><tr><th class=l>AUC</th><td>{:.4}</td></tr>\
         <tr><th class=l>Gini</th><td>{:.4}</td></tr><tr><th class=l>KS</th><td>{:.4}</td></tr>\
         <tr><th class=l>PSI against training</th><td>{:.4}</td></tr></table>",
        e.rows,
        e.bads as f64 / e.rows.max(1) as f64,
        e.auc,
        e.gini,
        e.ks,
        e.psi
    );
    if fit.is_some() {
        h.push_str("<p class=note>These figures are in-sample: the rows the model was fitted on.</p>");
    }
    if let Some(o) = held {
        let _ = write!(
            h,
            "<h3>Held-out check</h3><p>{:.0}% of the rows (seed {}) held out, a model fitted on {} of the \
             others with the same options, and the {} held-out rows ({} bad) scored with it: what to \
             expect on people the fit has not seen.</p><table><tr><th class=l>held-out AUC</th><td>{:.4}</td></tr>\
             <tr><th class=l>held-out Gini</th><td>{:.4}</td></tr><tr><th class=l>held-out KS</th><td>{:.4}</td></tr></table>",
            o.share * 100.0,
            o.seed,
            o.train_rows,
            o.test_rows,
            o.test_bads,
            o.auc,
            o.gini,
            o.ks
        );
        if o.characteristics == 0 {
            let _ = write!(h, "<p class=note>Warning: {}.</p>", candor_scorecard::HELD_OUT_KEPT_NOTHING);
        }
    }
    h.push_str("<div class=charts>");
    h.push_str(&roc_chart(&e.roc));
    h.push_str(&ks_chart(&e.roc));
    h.push_str(&histogram_chart(&e.histogram));
    h.push_str("</div>");

    h.push_str("<h2>Calibration by score band</h2><div class=charts><table><tr><th>band</th><th>rows</th><th>predicted PD</th><th>observed bad rate</th><th>training share</th><th>share now</th></tr>");
    for (c, (then, now)) in e.calibration.iter().zip(&e.stability) {
        let band = match (c.lower, c.upper) {
            (None, Some(u)) => format!("&lt; {u}"),
            (Some(l), None) => format!("&ge; {l}"),
            (Some(l), Some(u)) => format!("{l} – {u}"),
            (None, None) => "all".into(),
        };
        let _ = write!(
            h,
            "<tr><td class=l>{band}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            c.count, c.predicted_pd, c.observed_bad_rate, then, now
        );
    }
    h.push_str("</table>");
    h.push_str(&calibration_chart(&e.calibration));
    h.push_str("</div>");

    if let Some((name, cutoff, groups)) = &e.groups {
        let _ = write!(
            h,
            "<h2>Adverse impact by {}</h2><p>Approval at a score of {cutoff} or more. The group column is read for this \
             report only; the model never sees it. A ratio below 0.80 fails the four-fifths rule.</p>\
             <table><tr><th class=l>group</th><th>rows</th><th>approved</th><th>approval rate</th><th>adverse impact ratio</th></tr>",
            esc(name)
        );
        for g in groups {
            let flag = if g.adverse_impact_ratio < 0.8 { " ⚠" } else { "" };
            let _ = write!(
                h,
                "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}{flag}</td></tr>",
                esc(&g.group),
                g.count,
                g.approved,
                g.approval_rate,
                g.adverse_impact_ratio
            );
        }
        h.push_str("</table>");
    }

    let mut warnings = candor_scorecard::warnings(model);
    warnings.extend(fit.iter().flat_map(|f| f.notes.iter().cloned()));
    if !warnings.is_empty() {
        h.push_str("<h2>Warnings</h2><ul class=warn>");
        for w in &warnings {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul>");
    }
    if let Some(f) = fit {
        h.push_str(&coefficient_table(model, &f.coefficients));
    }
    h.push_str("<h2>Characteristics</h2>");
    let _ = write!(
        h,
        "<p>Scaling: {} points at odds {}:1, {} points to double the odds, scores clamped to {}–{}.</p>",
        model.scaling.base_points,
        model.scaling.base_odds,
        model.scaling.pdo,
        model.scaling.min_score,
        model.scaling.max_score
    );
    match fit {
        Some(f) => {
            for (c, outcome) in &f.columns {
                h.push_str(&characteristic(c, Some(outcome)));
            }
        }
        None => {
            for (k, c) in model.characteristics.iter().enumerate() {
                h.push_str(&characteristic_with_sample(c, e.sample_bins.get(k)));
            }
        }
    }
    h.push_str("</body></html>\n");
    h
}

fn outcome_text(o: &CharacteristicOutcome) -> String {
    match o {
        CharacteristicOutcome::Selected => "in the scorecard".into(),
        CharacteristicOutcome::Constant => "dropped: constant or all missing".into(),
        CharacteristicOutcome::NoSplit => "dropped: no split meets the minimum bin share".into(),
        CharacteristicOutcome::LowIv => "dropped: information value below the threshold".into(),
        CharacteristicOutcome::Correlated { with, correlation } => {
            format!("dropped: correlated with {} ({correlation:.2})", esc(with))
        }
        CharacteristicOutcome::Insignificant { p_value } => format!("dropped by stepwise selection (p = {p_value:.3})"),
        CharacteristicOutcome::WrongSign { coefficient } => {
            format!("dropped: coefficient of the wrong sign ({coefficient:.3})")
        }
        CharacteristicOutcome::Protected => {
            "kept out: a protected attribute (fit with --allow-protected to use it)".into()
        }
        CharacteristicOutcome::Identifier => format!("kept out: {}", candor_scorecard::KEPT_OUT_AS_IDENTIFIER),
        CharacteristicOutcome::Reversed => {
            "dropped: beside the others its points would fall as its weight of evidence rises (the sign-constrained fit holds it at zero)".into()
        }
    }
}

/// The regression's coefficients with their standard errors, Wald statistics, p-values and
/// variance inflation factors, flagged where an analyst should look again.
fn coefficient_table(model: &Model, coefficients: &[candor_scorecard::CoefficientStats]) -> String {
    let mut h = format!(
        "<h2>Coefficients</h2><p>Logistic regression of bad on each characteristic's weight of evidence \
         (intercept {:.4}). A negative coefficient makes points rise with the weight of evidence, as they \
         must; a p-value above 0.05 or a VIF above 5 is marked ⚠.</p><table><tr><th class=l>characteristic</th>\
         <th>coefficient</th><th>std. error</th><th>z</th><th>p-value</th><th>VIF</th></tr>",
        model.intercept
    );
    for c in coefficients {
        let z = c.estimate / c.std_error;
        let flag = |bad: bool| if bad { " ⚠" } else { "" };
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{:.4}{}</td><td>{:.4}</td><td>{:.2}</td><td>{:.4}{}</td><td>{:.2}{}</td></tr>",
            esc(&c.name),
            c.estimate,
            flag(c.estimate > 0.0),
            c.std_error,
            z,
            c.p_value,
            flag(c.p_value > 0.05),
            c.vif,
            flag(c.vif > 5.0)
        );
    }
    h.push_str("</table>");
    h
}

/// A model characteristic in a validation report: the training bins the model keeps beside
/// the evaluated sample's own rows and bad rates per bin.
fn characteristic_with_sample(c: &Characteristic, sample: Option<&Vec<(u64, u64)>>) -> String {
    let Some(sample) = sample.filter(|s| s.len() == c.bins.len()) else {
        return characteristic(c, None);
    };
    let total: u64 = c.bins.iter().map(|b| b.count).sum();
    let here: u64 = sample.iter().map(|s| s.0).sum();
    let mut h = format!(
        "<div><h3>{} <small>IV {:.4} in training</small></h3><div class=charts><table><tr><th class=l>bin</th>\
         <th>points</th><th>training share</th><th>training bad rate</th><th>share here</th><th>bad rate here</th></tr>",
        esc(&c.name),
        c.iv
    );
    let rate = |rows: u64, bads: u64| if rows > 0 { format!("{:.4}", bads as f64 / rows as f64) } else { "–".into() };
    for (b, &(rows, bads)) in c.bins.iter().zip(sample) {
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
            esc(&b.rule.label()),
            b.points,
            b.count as f64 / total.max(1) as f64,
            rate(b.count, b.bads),
            rows as f64 / here.max(1) as f64,
            rate(rows, bads)
        );
    }
    h.push_str("</table>");
    let rates: Vec<(String, f64)> = c
        .bins
        .iter()
        .zip(sample)
        .filter(|(_, s)| s.0 > 0)
        .map(|(b, s)| (b.rule.label(), s.1 as f64 / s.0 as f64))
        .collect();
    h.push_str(&bar_chart(&rates, "bad rate by bin, this sample"));
    h.push_str("</div></div>");
    h
}

fn characteristic(c: &Characteristic, outcome: Option<&CharacteristicOutcome>) -> String {
    let selected = outcome.is_none_or(|o| *o == CharacteristicOutcome::Selected);
    let mut h = String::new();
    let total: u64 = c.bins.iter().map(|b| b.count).sum();
    let _ = write!(
        h,
        "<div class=\"{}\"><h3>{} <small>IV {:.4}, trend {:?}{}</small></h3><div class=charts><table><tr><th class=l>bin</th><th>rows</th><th>share</th><th>bad rate</th><th>WoE</th>{}</tr>",
        if selected { "" } else { "dropped" },
        esc(&c.name),
        c.iv,
        c.trend,
        outcome.map(|o| format!(", {}", outcome_text(o))).unwrap_or_default(),
        if selected { "<th>points</th>" } else { "" }
    );
    for b in &c.bins {
        let rate = if b.count > 0 { b.bads as f64 / b.count as f64 } else { 0.0 };
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{:.3}</td><td>{:.4}</td><td>{:.4}</td>{}</tr>",
            esc(&b.rule.label()),
            b.count,
            b.count as f64 / total.max(1) as f64,
            rate,
            b.woe,
            if selected { format!("<td>{}</td>", b.points) } else { String::new() }
        );
    }
    h.push_str("</table>");
    let rates: Vec<(String, f64)> =
        c.bins.iter().filter(|b| b.count > 0).map(|b| (b.rule.label(), b.bads as f64 / b.count as f64)).collect();
    h.push_str(&bar_chart(&rates, "bad rate by bin"));
    h.push_str("</div></div>");
    h
}

// --- charts: small SVGs with labelled axes: a plot area with a margin on the left for the
// y axis's values and below for the x axis's (bin labels, slanted, take a deeper margin).

const W: f64 = 340.0;
const H: f64 = 250.0;
/// Left margin (the y axis's values and title) and top (the chart's title).
const LEFT: f64 = 62.0;
const TOP: f64 = 22.0;
/// Bottom margin of charts whose x ticks are numbers.
const BOTTOM: f64 = 42.0;

/// A chart's frame: title, plot area, axis titles and ticks (positions in [0, 1], labels).
struct Frame<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x_ticks: Vec<(f64, String)>,
    y_ticks: Vec<(f64, String)>,
    /// Slant the x tick labels (long bin labels), with a deeper bottom margin.
    slanted: bool,
}

impl Frame<'_> {
    fn bottom(&self) -> f64 {
        if self.slanted {
            96.0
        } else {
            BOTTOM
        }
    }

    fn height(&self) -> f64 {
        H + self.bottom() - BOTTOM
    }

    /// Maps (x, y) in [0,1]² to plot coordinates.
    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (LEFT + x * (W - LEFT - 10.0), TOP + (1.0 - y) * (H - BOTTOM - TOP))
    }

    fn draw(&self, body: &str) -> String {
        let (x0, y0) = self.at(0.0, 0.0);
        let (x1, y1) = self.at(1.0, 1.0);
        let mut ticks = String::new();
        for (x, label) in &self.x_ticks {
            let (px, _) = self.at(*x, 0.0);
            let _ = write!(
                ticks,
                "<line x1=\"{px:.1}\" y1=\"{y0:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#666\"/>",
                y0 + 4.0
            );
            if self.slanted {
                let ty = y0 + 10.0;
                let _ = write!(
                    ticks,
                    "<text x=\"{px:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" transform=\"rotate(-40 {px:.1} {ty:.1})\" font-size=\"9\">{}</text>",
                    esc(label)
                );
            } else {
                let _ = write!(
                    ticks,
                    "<text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    y0 + 15.0,
                    esc(label)
                );
            }
        }
        for (y, label) in &self.y_ticks {
            let (_, py) = self.at(0.0, *y);
            let _ = write!(
                ticks,
                "<line x1=\"{:.1}\" y1=\"{py:.1}\" x2=\"{x0:.1}\" y2=\"{py:.1}\" stroke=\"#666\"/><line x1=\"{x0:.1}\" y1=\"{py:.1}\" x2=\"{x1:.1}\" y2=\"{py:.1}\" stroke=\"#eee\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 - 4.0,
                x0 - 6.0,
                py + 4.0,
                esc(label)
            );
        }
        let h = self.height();
        format!(
            "<svg width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <text x=\"{cx}\" y=\"14\" text-anchor=\"middle\" font-weight=\"bold\">{t}</text>{ticks}\
             <rect x=\"{x0:.1}\" y=\"{y1:.1}\" width=\"{pw:.1}\" height=\"{ph:.1}\" fill=\"none\" stroke=\"#999\"/>{body}\
             <text x=\"{cx}\" y=\"{xl}\" text-anchor=\"middle\">{x}</text>\
             <text x=\"12\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {cy})\">{y}</text></svg>",
            t = esc(self.title),
            cx = (LEFT + W - 10.0) / 2.0,
            pw = x1 - x0,
            ph = y0 - y1,
            xl = h - 6.0,
            cy = (y0 + y1) / 2.0,
            x = esc(self.x_label),
            y = esc(self.y_label),
        )
    }
}

/// Ticks at 0, ¼, ½, ¾ and 1 of a scale whose top is `top`.
fn quarters(top: f64) -> Vec<(f64, String)> {
    (0..=4).map(|k| (k as f64 / 4.0, short(top * k as f64 / 4.0))).collect()
}

/// A value as a tick says it: three significant digits at most.
fn short(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}").trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        let places = (-x.abs().log10().floor()) as usize + 2;
        format!("{x:.places$}").trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn polyline(f: &Frame<'_>, points: &[(f64, f64)], colour: &str) -> String {
    let pts: Vec<String> = points
        .iter()
        .map(|&(x, y)| {
            let (px, py) = f.at(x, y);
            format!("{px:.1},{py:.1}")
        })
        .collect();
    format!("<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>", pts.join(" "))
}

fn thin<T: Copy>(v: &[T]) -> Vec<T> {
    let step = v.len().div_ceil(MAX_CURVE_POINTS).max(1);
    let mut out: Vec<T> = v.iter().copied().step_by(step).collect();
    if let Some(&last) = v.last() {
        out.push(last);
    }
    out
}

fn roc_chart(roc: &[RocPoint]) -> String {
    let f = Frame {
        title: "ROC",
        x_label: "share of goods rejected",
        y_label: "share of bads rejected",
        x_ticks: quarters(1.0),
        y_ticks: quarters(1.0),
        slanted: false,
    };
    let pts: Vec<(f64, f64)> = thin(roc).iter().map(|p| (p.fpr, p.tpr)).collect();
    f.draw(&format!("{}{}", polyline(&f, &[(0.0, 0.0), (1.0, 1.0)], "#bbb"), polyline(&f, &pts, "#1f77b4")))
}

/// Cumulative shares of bads and goods by score, the KS maximum marked with its score.
fn ks_chart(roc: &[RocPoint]) -> String {
    let n = roc.len().max(2) as f64 - 1.0;
    // The ends reject nobody and everybody: their thresholds are no score.
    let score_at = |x: f64| {
        roc.get((x * n).round() as usize)
            .filter(|p| p.threshold.is_finite())
            .map_or(String::new(), |p| short(p.threshold))
    };
    let f = Frame {
        title: "KS: cumulative bads (red), goods (green)",
        x_label: "rejecting scores below",
        y_label: "cumulative share",
        x_ticks: [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|&x| (x, score_at(x))).collect(),
        y_ticks: quarters(1.0),
        slanted: false,
    };
    let pts = thin(&roc.iter().enumerate().map(|(i, p)| (i as f64 / n, p.tpr, p.fpr)).collect::<Vec<_>>());
    let bads: Vec<(f64, f64)> = pts.iter().map(|&(x, b, _)| (x, b)).collect();
    let goods: Vec<(f64, f64)> = pts.iter().map(|&(x, _, g)| (x, g)).collect();
    let mut body = format!("{}{}", polyline(&f, &bads, "#d62728"), polyline(&f, &goods, "#2ca02c"));
    let best = roc.iter().enumerate().max_by(|a, b| (a.1.tpr - a.1.fpr).abs().total_cmp(&(b.1.tpr - b.1.fpr).abs()));
    if let Some((i, p)) = best {
        let x = i as f64 / n;
        let (px, top) = f.at(x, p.tpr.max(p.fpr));
        let (_, low) = f.at(x, p.tpr.min(p.fpr));
        let anchor = if x > 0.6 { "end" } else { "start" };
        let _ = write!(
            body,
            "<line x1=\"{px:.1}\" y1=\"{top:.1}\" x2=\"{px:.1}\" y2=\"{low:.1}\" stroke=\"#222\" stroke-dasharray=\"3 2\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">KS {:.3} at {}</text>",
            top - 4.0,
            (p.tpr - p.fpr).abs(),
            short(p.threshold)
        );
    }
    f.draw(&body)
}

fn histogram_chart(hist: &[(f64, f64, f64)]) -> String {
    let top = hist.iter().map(|h| h.1.max(h.2)).fold(1e-9, f64::max);
    let n = hist.len().max(1) as f64;
    let edges: Vec<(f64, String)> = match (hist.first(), hist.last()) {
        (Some(first), Some(last)) => {
            let span = last.0 + HISTOGRAM_BAND_POINTS - first.0;
            let step = ((span / 4.0 / HISTOGRAM_BAND_POINTS).ceil().max(1.0)) * HISTOGRAM_BAND_POINTS;
            let mut v = Vec::new();
            let mut x = first.0;
            while x <= last.0 + HISTOGRAM_BAND_POINTS + 1e-9 {
                v.push(((x - first.0) / span, short(x)));
                x += step;
            }
            v
        }
        _ => Vec::new(),
    };
    let f = Frame {
        title: "Scores of goods (green) and bads (red)",
        x_label: "score",
        y_label: "share of goods / of bads",
        x_ticks: edges,
        y_ticks: quarters(top),
        slanted: false,
    };
    let mut body = String::new();
    for (k, &(lower, g, b)) in hist.iter().enumerate() {
        for (share, colour, shift) in [(g, "#2ca02c", 0.0), (b, "#d62728", 0.5)] {
            let (x0, y0) = f.at((k as f64 + shift) / n, share / top);
            let (x1, y1) = f.at((k as f64 + shift + 0.5) / n, 0.0);
            let _ = write!(
                body,
                "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{lower}–{}: {share:.3}</title></rect>",
                x1 - x0,
                y1 - y0,
                lower + HISTOGRAM_BAND_POINTS
            );
        }
    }
    f.draw(&body)
}

fn calibration_chart(bands: &[CalibrationBand]) -> String {
    let top = bands.iter().map(|b| b.predicted_pd.max(b.observed_bad_rate)).fold(1e-9, f64::max);
    let f = Frame {
        title: "Calibration by score band",
        x_label: "predicted PD",
        y_label: "observed bad rate",
        x_ticks: quarters(top),
        y_ticks: quarters(top),
        slanted: false,
    };
    let mut body = polyline(&f, &[(0.0, 0.0), (1.0, 1.0)], "#bbb");
    for b in bands {
        let (px, py) = f.at(b.predicted_pd / top, b.observed_bad_rate / top);
        let _ = write!(
            body,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"#1f77b4\"><title>predicted {:.4}, observed {:.4}</title></circle>",
            b.predicted_pd, b.observed_bad_rate
        );
    }
    f.draw(&body)
}

/// Bad rate per bin, each bar labelled with its bin (shortened) and its value.
fn bar_chart(items: &[(String, f64)], title: &str) -> String {
    // Headroom above the tallest bar for its value.
    let top = items.iter().map(|i| i.1).fold(1e-9, f64::max) * 1.15;
    let n = items.len().max(1) as f64;
    let label = |l: &str| {
        let chars: Vec<char> = l.chars().collect();
        if chars.len() > 22 {
            format!("{}…", chars[..21].iter().collect::<String>())
        } else {
            l.to_owned()
        }
    };
    let f = Frame {
        title,
        x_label: "bin",
        y_label: "bad rate",
        x_ticks: items.iter().enumerate().map(|(k, (l, _))| ((k as f64 + 0.5) / n, label(l))).collect(),
        y_ticks: quarters(top),
        slanted: true,
    };
    let mut body = String::new();
    for (k, (name, v)) in items.iter().enumerate() {
        let (x0, y0) = f.at((k as f64 + 0.1) / n, v / top);
        let (x1, y1) = f.at((k as f64 + 0.9) / n, 0.0);
        let _ = write!(
            body,
            "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ff7f0e\"><title>{}: {v:.4}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text>",
            x1 - x0,
            y1 - y0,
            esc(name),
            (x0 + x1) / 2.0,
            y0 - 3.0,
            short(*v)
        );
    }
    f.draw(&body)
}
