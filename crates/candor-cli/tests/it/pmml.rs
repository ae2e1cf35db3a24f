//! The PMML export scores every row exactly as the engine does in JPMML-Evaluator, the
//! evaluator banks' Java stacks embed. Runs when `CANDOR_JPMML_PYTHON` names a Python with the
//! `jpmml_evaluator` package and JPype (`.ci/run` makes one); says so and passes otherwise.

use std::path::Path;
use std::process::Command;

use crate::{fitted_synthetic, german, ok};

pub fn jpmml_matches(dir: &Path, data: &str) {
    let Ok(python) = std::env::var("CANDOR_JPMML_PYTHON") else {
        eprintln!("CANDOR_JPMML_PYTHON not set: the JPMML comparison is skipped");
        return;
    };
    let pmml = ok(dir, &["export", "--model", "model.json", "--format", "pmml"]);
    std::fs::write(dir.join("model.pmml"), &pmml).unwrap_or_else(|e| panic!("{e}"));
    ok(dir, &["score", "--model", "model.json", "--data", data, "--out", "engine.csv"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/jpmml_score.py");
    let out = Command::new(python)
        .arg(script)
        .args(["model.pmml", data, "jpmml.csv"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the JPMML script: {e}"));
    assert!(out.status.success(), "JPMML failed: {}", String::from_utf8_lossy(&out.stderr));
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        let headers: Vec<String> = r.headers().map(|h| h.iter().map(String::from).collect()).unwrap_or_default();
        let want = ["score", "reason1", "reason2", "reason3", "reason4"];
        let at: Vec<usize> = want.iter().map(|w| headers.iter().position(|h| h == w).unwrap_or(0)).collect();
        r.records().flatten().map(|rec| at.iter().map(|&i| rec[i].to_string()).collect()).collect()
    };
    let (engine, jpmml) = (read("engine.csv"), read("jpmml.csv"));
    assert_eq!(engine.len(), jpmml.len());
    for (i, (e, j)) in engine.iter().zip(&jpmml).enumerate() {
        assert_eq!(e, j, "row {i}: engine {e:?}, JPMML {j:?}");
    }
}

#[test]
fn pmml_export_scores_and_explains_like_the_engine_in_jpmml() {
    let dir = fitted_synthetic(2_000);
    jpmml_matches(dir.path(), "data.csv");
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let data = german();
    let data = data.to_str().unwrap_or_default();
    ok(dir.path(), &["fit", "--data", data, "--target", "creditability", "--out", "model.json"]);
    jpmml_matches(dir.path(), data);
}
