//! Minimum scoring criteria on every path: a model fitted with `--minimum` leaves the rows that
//! fail them out of the fit, and `candor score`, the SQL export (SQLite) and the PMML export
//! (JPMML, when `.ci/run` provides it) all give those rows no score and the one reason
//! `not_enough_history`, and every other row the same score.

use std::path::Path;

use crate::{ok, synthetic_csv};

/// One row of the SQL export: id, score, pd, not_scored.
type SqlRow = (String, Option<i64>, Option<f64>, Option<String>);

const CRITERIA: &str = "income>=2500,utilisation<=0.9";

/// Which rows of the synthetic table meet the criteria, read from the CSV itself.
fn meeting(csv_text: &str) -> Vec<bool> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    r.records()
        .flatten()
        .map(|rec| {
            let income: f64 = rec[1].parse().unwrap_or(f64::NAN);
            let utilisation: f64 = rec[2].parse().unwrap_or(f64::NAN);
            income >= 2500.0 && utilisation <= 0.9
        })
        .collect()
}

/// (score, reason1) per row of `candor score`'s output.
fn engine(dir: &Path) -> Vec<(Option<i64>, String)> {
    ok(dir, &["score", "--model", "model.json", "--data", "data.csv", "--out", "scores.csv"]);
    let mut r = csv::Reader::from_path(dir.join("scores.csv")).unwrap_or_else(|e| panic!("{e}"));
    let headers = r.headers().cloned().unwrap_or_default();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name}"));
    let (s, p, r1) = (at("score"), at("pd"), at("reason1"));
    r.records()
        .flatten()
        .map(|rec| {
            assert_eq!(rec[s].is_empty(), rec[p].is_empty(), "score and pd are given together");
            (rec[s].parse().ok(), rec[r1].to_owned())
        })
        .collect()
}

#[test]
fn rows_failing_the_minimum_criteria_are_not_fitted_on_and_not_scored_on_any_path() {
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let csv_text = synthetic_csv(3_000);
    std::fs::write(d.join("data.csv"), &csv_text).unwrap_or_else(|e| panic!("{e}"));
    let fitted = crate::candor(
        d,
        &["fit", "--data", "data.csv", "--target", "bad", "--id", "id", "--minimum", CRITERIA, "--out", "model.json"],
    );
    assert!(fitted.status.success(), "{}", String::from_utf8_lossy(&fitted.stderr));
    let keep = meeting(&csv_text);
    let failing = keep.iter().filter(|&&k| !k).count();
    assert!(failing > 300 && failing < 2_000, "the criteria should leave some rows out: {failing}");
    let stderr = String::from_utf8_lossy(&fitted.stderr);
    assert!(stderr.contains(&format!("{failing} of 3000 rows fail the minimum scoring criteria")), "{stderr}");
    let model: candor_scorecard::Model =
        serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.training.rows as usize, 3_000 - failing, "fitted on the rows meeting the criteria only");
    assert_eq!(model.minimum.len(), 2);

    let scores = engine(d);
    assert_eq!(scores.len(), keep.len());
    for (i, ((score, reason), &k)) in scores.iter().zip(&keep).enumerate() {
        if k {
            assert!(score.is_some() && reason != candor_scorecard::NOT_SCORED, "row {i} meets the criteria");
        } else {
            assert_eq!((score, reason.as_str()), (&None, candor_scorecard::NOT_SCORED), "row {i}");
        }
    }

    // The SQL export on SQLite: the same rows unscored, the others the same scores.
    let db = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    db.execute("CREATE TABLE applicants (id TEXT, income REAL, utilisation REAL, region TEXT)", [])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    for rec in r.records().flatten() {
        let number = |t: &str| t.parse::<f64>().ok();
        let region = (!rec[3].is_empty()).then(|| rec[3].to_owned());
        db.execute(
            "INSERT INTO applicants VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![&rec[0], number(&rec[1]), number(&rec[2]), region],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let sql = ok(d, &["export", "--model", "model.json", "--format", "sql", "--table", "applicants"]);
    let mut stmt = db.prepare(sql.trim_end().trim_end_matches(';')).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let got: Vec<SqlRow> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap_or_else(|e| panic!("{e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), scores.len());
    for (i, ((id, score, pd, not_scored), (engine_score, _))) in got.iter().zip(&scores).enumerate() {
        assert_eq!(id, &format!("A{i:05}"));
        assert_eq!(score, engine_score, "SQL score of row {i}");
        assert_eq!(pd.is_some(), score.is_some(), "row {i}");
        let expected = engine_score.is_none().then(|| candor_scorecard::NOT_SCORED.to_owned());
        assert_eq!(not_scored, &expected, "row {i}");
    }

    // The PMML export in JPMML, reasons and all.
    crate::pmml::jpmml_matches(d, "data.csv");
}
