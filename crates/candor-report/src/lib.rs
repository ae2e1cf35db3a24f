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
    let histogram = hist
        .iter()
        .enumerate()
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
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f3f3f3}td.l,th.l{text-align:left}h2{border-bottom:2px solid #444;margin-top:2em}\
.charts{display:flex;gap:2em;flex-wrap:wrap}.dropped{color:#888}svg text{font-size:11px}";

pub fn render(title: &str, data: &str, model: &Model, fit: Option<&FitReport>, e: &Evaluation) -> String {
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
            for c in &model.characteristics {
                h.push_str(&characteristic(c, None));
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
        CharacteristicOutcome::Reversed => {
            "dropped: beside the others its points would fall as its weight of evidence rises (the sign-constrained fit holds it at zero)".into()
        }
    }
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

// --- charts: small SVGs, drawn in a 300×220 plot area with a margin for axes.

const W: f64 = 320.0;
const H: f64 = 240.0;
const M: f64 = 36.0;

fn frame(title: &str, x_label: &str, y_label: &str, body: &str) -> String {
    format!(
        "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <text x=\"{cx}\" y=\"14\" text-anchor=\"middle\" font-weight=\"bold\">{t}</text>\
         <rect x=\"{M}\" y=\"20\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>{body}\
         <text x=\"{cx}\" y=\"{xl}\" text-anchor=\"middle\">{x}</text>\
         <text x=\"10\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 10 {cy})\">{y}</text></svg>",
        t = esc(title),
        cx = W / 2.0,
        pw = W - M - 8.0,
        ph = H - M - 20.0,
        xl = H - 6.0,
        cy = (H - M) / 2.0 + 10.0,
        x = esc(x_label),
        y = esc(y_label),
    )
}

/// Maps (x, y) in [0,1]² to plot coordinates.
fn at(x: f64, y: f64) -> (f64, f64) {
    (M + x * (W - M - 8.0), 20.0 + (1.0 - y) * (H - M - 20.0))
}

fn polyline(points: &[(f64, f64)], colour: &str) -> String {
    let pts: Vec<String> = points
        .iter()
        .map(|&(x, y)| {
            let (px, py) = at(x, y);
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
    let pts: Vec<(f64, f64)> = thin(roc).iter().map(|p| (p.fpr, p.tpr)).collect();
    let body = format!("{}{}", polyline(&[(0.0, 0.0), (1.0, 1.0)], "#bbb"), polyline(&pts, "#1f77b4"));
    frame("ROC", "share of goods rejected", "share of bads rejected", &body)
}

fn ks_chart(roc: &[RocPoint]) -> String {
    let n = roc.len().max(2) as f64 - 1.0;
    let pts = thin(&roc.iter().enumerate().map(|(i, p)| (i as f64 / n, p.tpr, p.fpr)).collect::<Vec<_>>());
    let bads: Vec<(f64, f64)> = pts.iter().map(|&(x, b, _)| (x, b)).collect();
    let goods: Vec<(f64, f64)> = pts.iter().map(|&(x, _, g)| (x, g)).collect();
    let body = format!("{}{}", polyline(&bads, "#d62728"), polyline(&goods, "#2ca02c"));
    frame("KS: cumulative bads (red) and goods (green)", "score rank, low to high", "cumulative share", &body)
}

fn histogram_chart(hist: &[(f64, f64, f64)]) -> String {
    let top = hist.iter().map(|h| h.1.max(h.2)).fold(1e-9, f64::max);
    let n = hist.len().max(1) as f64;
    let mut body = String::new();
    for (k, &(lower, g, b)) in hist.iter().enumerate() {
        for (share, colour, shift) in [(g, "#2ca02c", 0.0), (b, "#d62728", 0.5)] {
            let (x0, y0) = at((k as f64 + shift) / n, share / top);
            let (x1, y1) = at((k as f64 + shift + 0.5) / n, 0.0);
            let _ = write!(
                body,
                "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{lower}: {share:.3}</title></rect>",
                x1 - x0,
                y1 - y0
            );
        }
    }
    if let (Some(first), Some(last)) = (hist.first(), hist.last()) {
        let (x0, _) = at(0.0, 0.0);
        let (x1, _) = at(1.0, 0.0);
        let _ = write!(
            body,
            "<text x=\"{x0}\" y=\"{y}\">{}</text><text x=\"{x1}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
            first.0,
            last.0 + HISTOGRAM_BAND_POINTS,
            y = H - M + 12.0
        );
    }
    frame("Scores of goods (green) and bads (red)", "score", "share", &body)
}

fn calibration_chart(bands: &[CalibrationBand]) -> String {
    let top = bands.iter().map(|b| b.predicted_pd.max(b.observed_bad_rate)).fold(1e-9, f64::max);
    let pts: Vec<(f64, f64)> = bands.iter().map(|b| (b.predicted_pd / top, b.observed_bad_rate / top)).collect();
    let mut body = polyline(&[(0.0, 0.0), (1.0, 1.0)], "#bbb");
    for &(x, y) in &pts {
        let (px, py) = at(x, y);
        let _ = write!(body, "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"#1f77b4\"/>");
    }
    frame(&format!("Calibration (axes to {top:.3})"), "predicted PD", "observed bad rate", &body)
}

fn bar_chart(items: &[(String, f64)], title: &str) -> String {
    let top = items.iter().map(|i| i.1).fold(1e-9, f64::max);
    let n = items.len().max(1) as f64;
    let mut body = String::new();
    for (k, (label, v)) in items.iter().enumerate() {
        let (x0, y0) = at((k as f64 + 0.1) / n, v / top);
        let (x1, y1) = at((k as f64 + 0.9) / n, 0.0);
        let _ = write!(
            body,
            "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ff7f0e\"><title>{}: {v:.4}</title></rect>",
            x1 - x0,
            y1 - y0,
            esc(label)
        );
    }
    frame(&format!("{title} (top {top:.3})"), "bin", "bad rate", &body)
}
