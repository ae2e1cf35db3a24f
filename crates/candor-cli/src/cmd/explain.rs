//! `candor explain`: one row's points per characteristic, its reasons and its recourse.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candor_scorecard::{Kind, Value};
use serde::Serialize;

use crate::io::load_model;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    /// The row as a JSON object: {"column": value, ...}; absent or null is missing.
    #[arg(long)]
    row: String,
    /// Also find the fewest actionable changes that reach this score.
    #[arg(long)]
    target_score: Option<i32>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// List keys that are not characteristics of the model instead of refusing the row (a
    /// misspelled key would otherwise score as missing without a word).
    #[arg(long)]
    ignore_unknown: bool,
}

#[derive(Serialize)]
struct Explanation {
    score: i32,
    total_points: i64,
    pd: f64,
    characteristics: Vec<Line>,
    reasons: Vec<ReasonOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unused_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recourse: Option<RecourseOut>,
}

#[derive(Serialize)]
struct Line {
    characteristic: String,
    value: serde_json::Value,
    bin: String,
    points: i32,
    max_points: i32,
}

#[derive(Serialize)]
struct ReasonOut {
    code: String,
    characteristic: String,
    points_below_max: i32,
    sentence: String,
}

#[derive(Serialize)]
struct RecourseOut {
    target_score: i32,
    reachable: bool,
    new_score: i32,
    changes: Vec<ChangeOut>,
}

#[derive(Serialize)]
struct ChangeOut {
    characteristic: String,
    from: String,
    to: String,
    points_gain: i32,
}

pub fn run(args: Args) -> Result<()> {
    let scorer = load_model(&args.model)?;
    let row: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&args.row).context("--row: expected a JSON object such as {\"age\": 31}")?;
    let chars = &scorer.model().characteristics;
    let mut unused_fields: Vec<String> = row.keys().filter(|k| !chars.iter().any(|c| &c.name == *k)).cloned().collect();
    unused_fields.sort();
    if !args.ignore_unknown && !unused_fields.is_empty() {
        let fold = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
        let named: Vec<String> = unused_fields
            .iter()
            .map(|k| match chars.iter().find(|c| fold(&c.name) == fold(k)) {
                Some(c) => format!("`{k}` (did you mean `{}`?)", c.name),
                None => format!("`{k}`"),
            })
            .collect();
        bail!(
            "--row: {} not a characteristic of this model (it has {}); --ignore-unknown lists such keys instead",
            named.join(", "),
            chars.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
        );
    }
    let mut values = Vec::with_capacity(chars.len());
    for c in chars {
        let v = match row.get(&c.name) {
            None | Some(serde_json::Value::Null) => Value::Missing,
            Some(serde_json::Value::Number(n)) => match n.as_f64() {
                Some(x) => Value::Number(x),
                None => bail!("--row: `{}`: {n} is not a usable number", c.name),
            },
            Some(serde_json::Value::String(s)) => match c.kind {
                Kind::Numeric => match candor_table::parse_number(s) {
                    Some(x) => Value::Number(x),
                    None if candor_table::is_missing(s) => Value::Missing,
                    None => bail!("--row: `{}` is numeric, but got {s:?}", c.name),
                },
                // Compared trimmed, and empty, NA, NaN or null is missing, as tables read.
                Kind::Categorical if candor_table::is_missing(s) => Value::Missing,
                Kind::Categorical => Value::Text(s.trim().to_owned()),
            },
            Some(serde_json::Value::Bool(b)) => Value::Text(b.to_string()),
            Some(other) => bail!("--row: `{}`: expected a number, a string or null, got {other}", c.name),
        };
        values.push(v);
    }
    let (scored, bins) = scorer.score_values(&values)?;
    let lines = chars
        .iter()
        .enumerate()
        .map(|(i, c)| Line {
            characteristic: c.name.clone(),
            value: row.get(&c.name).cloned().unwrap_or(serde_json::Value::Null),
            bin: match scorer.is_unseen(i, &values[i]) {
                true => format!("a value never seen in training, scored as: {}", c.bins[bins[i]].rule.label()),
                false => c.bins[bins[i]].rule.label(),
            },
            points: c.bins[bins[i]].points,
            max_points: scorer.max_points(i),
        })
        .collect();
    let reasons = scorer
        .reasons_for_values(&values, &bins)
        .into_iter()
        .map(|r| ReasonOut {
            code: r.code,
            characteristic: r.characteristic,
            points_below_max: r.points_below_max,
            sentence: r.sentence,
        })
        .collect();
    let recourse = args.target_score.map(|t| {
        let r = scorer.recourse(&bins, t);
        RecourseOut {
            target_score: r.target_score,
            reachable: r.reachable,
            new_score: r.new_score,
            changes: r
                .changes
                .into_iter()
                .map(|c| ChangeOut {
                    characteristic: c.characteristic,
                    from: c.from,
                    to: c.to,
                    points_gain: c.points_gain,
                })
                .collect(),
        }
    });
    let e = Explanation {
        score: scored.score,
        total_points: scored.total_points,
        pd: scored.pd,
        characteristics: lines,
        reasons,
        unused_fields,
        recourse,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", text(&e, chars.iter().any(|c| c.actionable)));
    }
    Ok(())
}

fn text(e: &Explanation, any_actionable: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "score {} (points {}, probability of bad {:.4})", e.score, e.total_points, e.pd);
    let width = e.characteristics.iter().map(|l| l.characteristic.len()).max().unwrap_or(0);
    let _ = writeln!(s, "\n{:width$}  {:>6}  {:>4}  bin", "characteristic", "points", "max");
    for l in &e.characteristics {
        let _ = writeln!(s, "{:width$}  {:>6}  {:>4}  {}", l.characteristic, l.points, l.max_points, l.bin);
    }
    if !e.unused_fields.is_empty() {
        let _ = writeln!(s, "\nnot used by the model: {}", e.unused_fields.join(", "));
    }
    let _ = writeln!(s, "\nreasons:");
    if e.reasons.is_empty() {
        let _ = writeln!(s, "  none: every characteristic is at its best");
    }
    for (i, r) in e.reasons.iter().enumerate() {
        let _ = writeln!(s, "  {}. [{}] {}", i + 1, r.code, r.sentence);
    }
    if let Some(r) = &e.recourse {
        let _ = writeln!(s, "\nto reach {}:", r.target_score);
        if !any_actionable {
            let _ = writeln!(s, "  the model declares no actionable characteristic (fit with --actionable)");
        } else if r.changes.is_empty() && r.reachable {
            let _ = writeln!(s, "  already reached");
        } else {
            for c in &r.changes {
                let _ = writeln!(
                    s,
                    "  - {}: now {}; {} would give +{} points",
                    c.characteristic, c.from, c.to, c.points_gain
                );
            }
            let verdict = if r.reachable { "reach" } else { "fall short at" };
            let _ = writeln!(s, "  these changes {verdict} a score of {}", r.new_score);
        }
    }
    s
}
