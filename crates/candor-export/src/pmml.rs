//! The model as a PMML 4.4 `Scorecard`, with reason codes ("points below" the maximum of each
//! characteristic, as the engine ranks them) and the score clamped by the target's min and max.

use std::fmt::Write;

use candor_scorecard::{BinRule, Characteristic, Kind, Model, MAX_REASONS, NOT_SCORED, UNKNOWN_SUFFIX};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// A PMML array of strings: space-separated, each quoted, inner quotes escaped.
fn string_array(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{}\"", esc(&s.replace('\\', "\\\\").replace('"', "\\\""))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The outputs of a model without minimum scoring criteria: the score and the reasons.
fn plain_outputs(s: &mut String) {
    let _ = writeln!(
        s,
        "      <OutputField name=\"score\" feature=\"predictedValue\" dataType=\"double\" optype=\"continuous\"/>"
    );
    for r in 1..=MAX_REASONS {
        let _ = writeln!(
            s,
            "      <OutputField name=\"reason{r}\" rank=\"{r}\" feature=\"reasonCode\" dataType=\"string\" optype=\"categorical\"/>"
        );
    }
}

fn attributes(c: &Characteristic, out: &mut String) {
    let field = esc(&c.name);
    let mut fallback = 0;
    let push = |out: &mut String, points: i32, predicate: String| {
        let _ = writeln!(out, "        <Attribute partialScore=\"{points}\">{predicate}</Attribute>");
    };
    // A category not seen in training falls to the last attribute, whose own reason code says
    // the value was unknown, as the engine's does.
    let mut fallback_code = String::new();
    // Missing first, as in the engine.
    for b in &c.bins {
        if b.rule == BinRule::Missing {
            push(out, b.points, format!("<SimplePredicate field=\"{field}\" operator=\"isMissing\"/>"));
        }
    }
    match c.kind {
        Kind::Numeric => {
            for b in &c.bins {
                if let BinRule::Special { value } = b.rule {
                    push(
                        out,
                        b.points,
                        format!("<SimplePredicate field=\"{field}\" operator=\"equal\" value=\"{value}\"/>"),
                    );
                }
            }
            let mut ranges: Vec<(Option<f64>, i32)> = c
                .bins
                .iter()
                .filter_map(|b| match b.rule {
                    BinRule::Range { lower, .. } => Some((lower, b.points)),
                    _ => None,
                })
                .collect();
            ranges.sort_by(|a, b| a.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY)));
            for w in ranges.windows(2) {
                if let Some(upper) = w[1].0 {
                    push(
                        out,
                        w[0].1,
                        format!("<SimplePredicate field=\"{field}\" operator=\"lessThan\" value=\"{upper}\"/>"),
                    );
                }
            }
            fallback = ranges.last().map(|r| r.1).unwrap_or(0);
        }
        Kind::Categorical => {
            for b in &c.bins {
                if let BinRule::Categories { categories, other } = &b.rule {
                    if *other {
                        fallback = b.points;
                        fallback_code =
                            format!(" reasonCode=\"{}\"", esc(&format!("{}{UNKNOWN_SUFFIX}", c.reason_code)));
                    }
                    if !categories.is_empty() {
                        push(
                            out,
                            b.points,
                            format!(
                                "<SimpleSetPredicate field=\"{field}\" booleanOperator=\"isIn\"><Array type=\"string\" n=\"{}\">{}</Array></SimpleSetPredicate>",
                                categories.len(),
                                string_array(categories)
                            ),
                        );
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "        <Attribute partialScore=\"{fallback}\"{fallback_code}><True/></Attribute>");
}

/// The columns of the minimum scoring criteria that are not characteristics: more inputs.
fn criteria_only(model: &Model) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in &model.minimum {
        if !model.characteristics.iter().any(|ch| ch.name == c.column) && !out.contains(&c.column.as_str()) {
            out.push(&c.column);
        }
    }
    out
}

/// The output fields of a model with minimum scoring criteria: the scorecard's own outputs
/// under `candor_` names, whether the row meets every criterion (each column present and within
/// its bounds), and `score` and `reason1`..`reason4` from them — no score and the one reason
/// `not_enough_history` for a row that fails.
fn minimum_outputs(model: &Model, s: &mut String) {
    let _ = writeln!(
        s,
        "      <OutputField name=\"candor_score\" feature=\"predictedValue\" dataType=\"double\" optype=\"continuous\"/>"
    );
    for r in 1..=MAX_REASONS {
        let _ = writeln!(
            s,
            "      <OutputField name=\"candor_reason{r}\" rank=\"{r}\" feature=\"reasonCode\" dataType=\"string\" optype=\"categorical\"/>"
        );
    }
    let _ = writeln!(
        s,
        "      <OutputField name=\"candor_scorable\" feature=\"transformedValue\" dataType=\"boolean\" optype=\"categorical\">"
    );
    let tests: Vec<String> = model
        .minimum
        .iter()
        .map(|c| {
            let field = format!("<FieldRef field=\"{}\"/>", esc(&c.column));
            let bound = |op: &str, x: f64| {
                format!("<Apply function=\"{op}\">{field}<Constant dataType=\"double\">{x}</Constant></Apply>")
            };
            let mut within: Vec<String> = Vec::new();
            within.extend(c.at_least.map(|x| bound("greaterOrEqual", x)));
            within.extend(c.at_most.map(|x| bound("lessOrEqual", x)));
            let within = if within.len() == 1 {
                within.remove(0)
            } else {
                format!("<Apply function=\"and\">{}</Apply>", within.join(""))
            };
            // A missing value fails without being compared: the test never reads as missing.
            format!(
                "<Apply function=\"if\"><Apply function=\"isMissing\">{field}</Apply><Constant dataType=\"boolean\">false</Constant>{within}</Apply>"
            )
        })
        .collect();
    let all =
        if tests.len() == 1 { tests[0].clone() } else { format!("<Apply function=\"and\">{}</Apply>", tests.join("")) };
    let _ = writeln!(s, "        {all}");
    let _ = writeln!(s, "      </OutputField>");
    let scorable = "<FieldRef field=\"candor_scorable\"/>";
    let _ = writeln!(
        s,
        "      <OutputField name=\"score\" feature=\"transformedValue\" dataType=\"double\" optype=\"continuous\"><Apply function=\"if\">{scorable}<FieldRef field=\"candor_score\"/></Apply></OutputField>"
    );
    for r in 1..=MAX_REASONS {
        let otherwise =
            if r == 1 { format!("<Constant dataType=\"string\">{NOT_SCORED}</Constant>") } else { String::new() };
        let _ = writeln!(
            s,
            "      <OutputField name=\"reason{r}\" feature=\"transformedValue\" dataType=\"string\" optype=\"categorical\"><Apply function=\"if\">{scorable}<FieldRef field=\"candor_reason{r}\"/>{otherwise}</Apply></OutputField>"
        );
    }
}

/// The whole PMML document. Inputs named like the characteristics (and the columns of the
/// minimum scoring criteria); outputs `score` and `reason1`..`reason4`.
pub fn to_pmml(model: &Model) -> String {
    let extra = criteria_only(model);
    let mut s = String::new();
    let _ = writeln!(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(s, "<PMML xmlns=\"http://www.dmg.org/PMML-4_4\" version=\"4.4\">");
    let _ = writeln!(
        s,
        "  <Header description=\"Candor scorecard trained on {}\"><Application name=\"{}\"/></Header>",
        esc(&model.training.data_digest),
        esc(&model.created_by)
    );
    let _ = writeln!(s, "  <DataDictionary numberOfFields=\"{}\">", model.characteristics.len() + extra.len() + 1);
    for c in &model.characteristics {
        let (optype, data_type) = match c.kind {
            Kind::Numeric => ("continuous", "double"),
            Kind::Categorical => ("categorical", "string"),
        };
        let _ = writeln!(s, "    <DataField name=\"{}\" optype=\"{optype}\" dataType=\"{data_type}\"/>", esc(&c.name));
    }
    for name in &extra {
        let _ = writeln!(s, "    <DataField name=\"{}\" optype=\"continuous\" dataType=\"double\"/>", esc(name));
    }
    let _ = writeln!(s, "    <DataField name=\"score\" optype=\"continuous\" dataType=\"double\"/>");
    let _ = writeln!(s, "  </DataDictionary>");
    let _ = writeln!(
        s,
        "  <Scorecard modelName=\"candor\" functionName=\"regression\" useReasonCodes=\"true\" reasonCodeAlgorithm=\"pointsBelow\" initialScore=\"0\" baselineMethod=\"other\">"
    );
    let _ = writeln!(s, "    <MiningSchema>");
    for c in &model.characteristics {
        // Values outside the dictionary (there is none for these fields) are never invalid;
        // a value that does not parse as a number is treated as missing, as in the engine's
        // reading of non-finite numbers.
        let _ = writeln!(
            s,
            "      <MiningField name=\"{}\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
            esc(&c.name)
        );
    }
    for name in &extra {
        let _ = writeln!(
            s,
            "      <MiningField name=\"{}\" usageType=\"active\" invalidValueTreatment=\"asMissing\"/>",
            esc(name)
        );
    }
    let _ = writeln!(s, "      <MiningField name=\"score\" usageType=\"target\"/>");
    let _ = writeln!(s, "    </MiningSchema>");
    let _ = writeln!(s, "    <Output>");
    if model.minimum.is_empty() {
        plain_outputs(&mut s);
    } else {
        minimum_outputs(model, &mut s);
    }
    let _ = writeln!(s, "    </Output>");
    let sc = &model.scaling;
    let _ = writeln!(
        s,
        "    <Targets><Target field=\"score\" min=\"{}\" max=\"{}\"/></Targets>",
        sc.min_score, sc.max_score
    );
    let _ = writeln!(s, "    <Characteristics>");
    for c in &model.characteristics {
        // The baseline is half a point under the characteristic's best points: "points below"
        // then ranks exactly as the engine's shortfall does (points are integers), and a
        // characteristic at its best falls below zero, which gives no reason, as in the engine.
        let baseline = c.bins.iter().map(|b| b.points).max().unwrap_or(0) as f64 - 0.5;
        let _ = writeln!(
            s,
            "      <Characteristic name=\"{}\" reasonCode=\"{}\" baselineScore=\"{baseline}\">",
            esc(&format!("{}_points", c.name)),
            esc(&c.reason_code)
        );
        attributes(c, &mut s);
        let _ = writeln!(s, "      </Characteristic>");
    }
    let _ = writeln!(s, "    </Characteristics>");
    let _ = writeln!(s, "  </Scorecard>");
    let _ = writeln!(s, "</PMML>");
    s
}
