//! A category the model never saw in training: scored in its characteristic's riskiest group,
//! with a reason code saying the value was unknown, the same on every path (`score`, `explain`,
//! PMML), and `score` warns the analyst which values they were.

use crate::pmml::jpmml_matches;
use crate::{candor, fitted_synthetic, ok, synthetic_csv};

#[test]
fn an_unseen_category_scores_as_the_riskiest_group_and_says_the_value_was_unknown() {
    let dir = fitted_synthetic(4_000);
    let d = dir.path();
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap_or_default()).unwrap_or_default();
    let region = model["characteristics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "region")
        .unwrap_or_else(|| panic!("region is in the model: {model}"));
    let code = region["reason_code"].as_str().unwrap_or_default().to_string();
    // The riskiest region seen in training: the known category with the fewest points.
    let riskiest = region["bins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["rule"]["type"] == "categories")
        .min_by_key(|b| b["points"].as_i64().unwrap_or(i64::MAX))
        .and_then(|b| b["rule"]["categories"].as_array().and_then(|c| c.first()).and_then(|c| c.as_str()))
        .unwrap_or_else(|| panic!("a category bin: {region}"))
        .to_string();

    // The training rows again, every fifth region replaced by a value never seen: a misspelling,
    // a case change, or nonsense; the same rows with the riskiest region for comparison.
    let data = synthetic_csv(2_000);
    let unseen = ["atlantis", "North", "spaceship"];
    let (mut odd, mut known) = (String::new(), String::new());
    for (i, line) in data.lines().enumerate() {
        let mut f: Vec<String> = line.split(',').map(String::from).collect();
        if i > 0 && i % 5 == 0 {
            f[3] = unseen[i % 3].to_string();
            odd.push_str(&f.join(","));
            f[3] = riskiest.clone();
            known.push_str(&f.join(","));
        } else {
            odd.push_str(line);
            known.push_str(line);
        }
        odd.push('\n');
        known.push('\n');
    }
    std::fs::write(d.join("odd.csv"), odd).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(d.join("known.csv"), known).unwrap_or_else(|e| panic!("{e}"));
    let out = candor(d, &["score", "--model", "model.json", "--data", "odd.csv", "--out", "odd_scores.csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("`region`: 400 row(s) have a category the model never saw in training")
            && warning.contains("\"atlantis\"")
            && warning.contains("\"North\"")
            && warning.contains(&format!("`{code}:unknown`")),
        "{warning}"
    );
    ok(d, &["score", "--model", "model.json", "--data", "known.csv", "--out", "known_scores.csv"]);
    let read = |name: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(d.join(name)).unwrap_or_default();
        text.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect()
    };
    let (odd, known) = (read("odd_scores.csv"), read("known_scores.csv"));
    assert_eq!(odd.len(), 2_000);
    let mut told = 0;
    for (i, (o, k)) in odd.iter().zip(&known).enumerate() {
        assert_eq!(o[1], k[1], "row {i}: an unseen region scores as the riskiest one");
        let marked: Vec<String> =
            k[3..].iter().map(|r| if *r == code { format!("{code}:unknown") } else { r.clone() }).collect();
        if (i + 1) % 5 == 0 {
            assert_eq!(o[3..], marked[..], "row {i}: the region's reason says the value was unknown");
            told += o[3..].iter().filter(|r| **r == format!("{code}:unknown")).count();
        } else {
            assert_eq!(o[3..], k[3..], "row {i}: a known region keeps its code");
            assert!(!o[3..].iter().any(|r| r.ends_with(":unknown")), "row {i}: {o:?}");
        }
    }
    assert!(told > 100, "the unknown region is among the reasons where it costs points ({told} rows)");

    // explain says the same of one row, in its code, its sentence and the bin it shows.
    let row = r#"{"income": 900, "utilisation": 0.99, "region": " atlantis "}"#;
    let json = ok(d, &["explain", "--model", "model.json", "--row", row, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let reason = v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["characteristic"] == "region")
        .unwrap_or_else(|| panic!("region is a reason: {v}"));
    assert_eq!(reason["code"], format!("{code}:unknown"));
    let sentence = reason["sentence"].as_str().unwrap_or_default();
    assert!(sentence.contains("\"atlantis\", a value the model never saw in training"), "{sentence}");
    let line = v["characteristics"].as_array().into_iter().flatten().find(|l| l["characteristic"] == "region");
    let bin = line.and_then(|l| l["bin"].as_str()).unwrap_or_default();
    assert!(bin.starts_with("a value never seen in training, scored as:"), "{bin}");
    // A known region, padded, and an empty one (missing) are not unknown.
    for row in [format!(r#"{{"region": " {riskiest} "}}"#), r#"{"region": "NA"}"#.to_string()] {
        let json = ok(d, &["explain", "--model", "model.json", "--row", &row, "--json"]);
        assert!(!json.contains(":unknown") && !json.contains("never saw"), "{row}: {json}");
    }

    // PMML's evaluator gives the same scores and codes, unknown values included.
    jpmml_matches(d, "odd.csv");
}
