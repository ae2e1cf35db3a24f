//! The `candor` command end to end: fit → score → explain → validate → export, every error
//! case the CLI promises, the SQL export run on SQLite and PostgreSQL, and the credit-file
//! commands (`bureau.rs`).

mod bureau;
mod minimum;
mod pmml;
mod sound;
mod sql;
mod tidy;
mod unseen;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub fn candor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run candor: {e}"))
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = candor(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "candor {args:?} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn german() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/germancredit.csv")
}

/// A seeded synthetic applicant table with an id, missing values, a special value and a
/// categorical column.
pub fn synthetic_csv(rows: usize) -> String {
    let mut state = 99u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut s = String::from("id,income,utilisation,region,bad\n");
    for i in 0..rows {
        let risk = next();
        let income =
            if next() < 0.1 { "NA".to_string() } else { format!("{:.2}", (1.0 - risk) * 5000.0 + next() * 3000.0) };
        let util = if next() < 0.05 { "-1".to_string() } else { format!("{:.4}", risk * 0.8 + next() * 0.4) };
        let regions = ["north", "south", "east", "west", "centre"];
        let region = if next() < 0.03 { "" } else { regions[((risk * 2.0 + next() * 3.0) as usize).min(4)] };
        let bad = (next() < 0.05 + 0.4 * risk * risk) as u8;
        s.push_str(&format!("A{i:05},{income},{util},{region},{bad}\n"));
    }
    s
}

/// Fits the synthetic table in a fresh directory; returns the directory.
pub fn fitted_synthetic(rows: usize) -> TempDir {
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("data.csv"), synthetic_csv(rows)).unwrap_or_else(|e| panic!("{e}"));
    ok(dir.path(), &[FIT_SYNTHETIC, &["--out", "model.json"][..]].concat());
    dir
}

/// How `fitted_synthetic` fits, less the output.
const FIT_SYNTHETIC: &[&str] = &[
    "fit",
    "--data",
    "data.csv",
    "--target",
    "bad",
    "--id",
    "id",
    "--special",
    "utilisation=-1",
    "--actionable",
    "income,utilisation",
];

#[test]
fn fit_score_explain_and_validate_agree() {
    let dir = fitted_synthetic(4_000);
    let d = dir.path();
    ok(d, &["score", "--model", "model.json", "--data", "data.csv", "--out", "scores.csv"]);
    let scores = std::fs::read_to_string(d.join("scores.csv")).unwrap_or_default();
    let mut lines = scores.lines();
    assert_eq!(lines.next(), Some("id,score,pd,reason1,reason2,reason3,reason4"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(rows.len(), 4_000);
    assert_eq!(rows[17][0], "A00017");

    // The single-row path gives the same score and reasons as the batch path.
    let data = synthetic_csv(4_000);
    for (i, line) in data.lines().skip(1).enumerate().step_by(397) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |s: &str| if s == "NA" || s.is_empty() { "null".to_string() } else { s.to_string() };
        let region = if f[3].is_empty() { "null".to_string() } else { format!("\"{}\"", f[3]) };
        let row = format!("{{\"income\": {}, \"utilisation\": {}, \"region\": {region}}}", num(f[1]), num(f[2]));
        let json = ok(d, &["explain", "--model", "model.json", "--row", &row, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(v["score"].to_string(), rows[i][1], "row {i}: {row}");
        let codes: Vec<String> = v["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["code"].as_str().unwrap_or("").to_string())
            .collect();
        let batch: Vec<String> = rows[i][3..].iter().filter(|c| !c.is_empty()).cloned().collect();
        assert_eq!(codes, batch, "row {i}");
    }

    let text = ok(
        d,
        &[
            "explain",
            "--model",
            "model.json",
            "--row",
            r#"{"income": 900, "utilisation": 0.99, "region": "centre", "bad": 1}"#,
            "--target-score",
            "600",
            "--ignore-unknown",
        ],
    );
    assert!(text.contains("reasons:\n  1. ["), "{text}");
    assert!(text.contains("not used by the model: bad"), "{text}");
    assert!(text.contains("to reach 600:"), "{text}");

    // Adverse impact by a column the model scores on is refused: it would not be the model's
    // treatment of the group but the group itself.
    let validate = |model: &str| {
        candor(
            d,
            &[
                "validate", "--model", model, "--data", "data.csv", "--target", "bad", "--group", "region", "--report",
                "v.html",
            ],
        )
    };
    let refused = validate("model.json");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`region` is a characteristic of the model"));
    ok(d, &["fit", "--data", "data.csv", "--target", "bad", "--id", "id", "--exclude", "region", "--out", "m2.json"]);
    let out = validate("m2.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stderr);
    let auc: f64 = summary.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    assert!(auc > 0.7, "{summary}");
    let html = std::fs::read_to_string(d.join("v.html")).unwrap_or_default();
    for part in [
        "<svg",
        "ROC",
        "KS 0.",
        "Calibration by score band",
        "Adverse impact by region",
        "income",
        "share here",
        "bad rate here",
        "bad rate by bin, this sample",
    ] {
        assert!(html.contains(part), "report lacks {part}");
    }
    assert!(!html.contains("<script"), "the report must not run scripts");

    // The training report: in-sample figures said to be so, the held-out check, the
    // coefficients with what an analyst checks, and warnings.
    let fitted = candor(d, &["fit", "--data", "data.csv", "--target", "bad", "--out", "m3.json", "--report", "t.html"]);
    assert!(fitted.status.success());
    let said = String::from_utf8_lossy(&fitted.stderr);
    assert!(said.contains("held-out: AUC 0.") && said.contains("in-sample: AUC 0."), "{said}");
    let html = std::fs::read_to_string(d.join("t.html")).unwrap_or_default();
    for part in ["These figures are in-sample", "Held-out check", "held-out AUC", "std. error", "p-value", "VIF"] {
        assert!(html.contains(part), "training report lacks {part}");
    }
    let model: candor_scorecard::Model =
        serde_json::from_str(&std::fs::read_to_string(d.join("m3.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    let table = html.split("<h2>Coefficients</h2>").nth(1).and_then(|t| t.split("</table>").next()).unwrap_or("");
    assert_eq!(table.matches("<tr>").count(), model.characteristics.len() + 1, "a row per coefficient: {table}");
    let skipped = candor(d, &["fit", "--data", "data.csv", "--target", "bad", "--out", "m4.json", "--holdout", "0"]);
    assert!(!String::from_utf8_lossy(&skipped.stderr).contains("held-out"), "--holdout 0 skips the check");
}

/// Runs `candor args…` with `--out` set to a named pipe in `dir` and returns what came through
/// it; the pipe must still be a pipe afterwards (a rename over it would replace it, as it would
/// /dev/null).
pub fn through_a_pipe(dir: &Path, args: &[&str]) -> Vec<u8> {
    use std::os::unix::fs::FileTypeExt;
    let pipe = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&pipe).status().unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(made.success(), "mkfifo failed");
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read(pipe).unwrap_or_else(|e| panic!("reading the pipe: {e}")))
    };
    let mut args = args.to_vec();
    args.extend(["--out", "pipe"]);
    ok(dir, &args);
    let kind = std::fs::metadata(&pipe).unwrap_or_else(|e| panic!("{e}")).file_type();
    assert!(kind.is_fifo(), "candor {args:?} replaced the named pipe with {kind:?}");
    let bytes = reader.join().unwrap_or_else(|_| panic!("the pipe's reader failed"));
    std::fs::remove_file(&pipe).unwrap_or_else(|e| panic!("{e}"));
    bytes
}

#[test]
fn an_output_that_is_not_a_file_is_written_in_place() {
    let dir = fitted_synthetic(2_000);
    let d = dir.path();
    let score = ["score", "--model", "model.json", "--data", "data.csv"];
    ok(d, &[&score[..], &["--out", "scores.csv"]].concat());
    let file = std::fs::read(d.join("scores.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert!(through_a_pipe(d, &score) == file, "the scores through a pipe differ from the file's");
    let model = std::fs::read(d.join("model.json")).unwrap_or_else(|e| panic!("{e}"));
    assert!(through_a_pipe(d, FIT_SYNTHETIC) == model, "the model through a pipe differs from the file's");
    // A directory is no place for an output: named, and nothing written beside it.
    std::fs::create_dir(d.join("out")).unwrap_or_else(|e| panic!("{e}"));
    let refused = candor(d, &[&score[..], &["--out", "out"]].concat());
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("error: out: is a directory, not a file to write"), "{stderr}");
    let left: Vec<_> =
        std::fs::read_dir(d).unwrap_or_else(|e| panic!("{e}")).flatten().map(|e| e.file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{left:?}");
}

#[test]
fn parquet_streams_to_the_same_scores_as_csv() {
    // More rows than one streamed table holds, so several arrive and are scored in turn.
    let rows = 70_000;
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let csv = synthetic_csv(rows);
    std::fs::write(d.join("data.csv"), &csv).unwrap_or_else(|e| panic!("{e}"));
    ok(
        d,
        &["fit", "--data", "data.csv", "--target", "bad", "--id", "id", "--exclude", "region", "--out", "model.json"],
    );
    let mut w = candor_table::ParquetWriter::create(&d.join("data.parquet"), "id", &["income", "utilisation"], None)
        .unwrap_or_else(|e| panic!("{e}"));
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
        w.push(f[0].to_string(), &[num(f[1]), num(f[2])], None).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}"));
    ok(d, &["score", "--model", "model.json", "--data", "data.csv", "--out", "from_csv.csv"]);
    ok(d, &["score", "--model", "model.json", "--data", "data.parquet", "--out", "from_parquet.csv"]);
    let from_csv = std::fs::read_to_string(d.join("from_csv.csv")).unwrap_or_default();
    let from_parquet = std::fs::read_to_string(d.join("from_parquet.csv")).unwrap_or_default();
    assert_eq!(from_csv.lines().count(), rows + 1);
    assert!(from_csv == from_parquet, "Parquet and CSV scores differ");
}

#[test]
fn a_column_that_only_identifies_rows_is_kept_out_of_the_fit() {
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    // The German credit data with a loan number in front, as an export from a loan system has.
    let german = std::fs::read_to_string(german()).unwrap_or_default();
    let numbered: String = german
        .lines()
        .enumerate()
        .map(|(i, line)| if i == 0 { format!("loan_id,{line}\n") } else { format!("{},{line}\n", 1000 + i) })
        .collect();
    std::fs::write(d.join("numbered.csv"), numbered).unwrap_or_else(|e| panic!("{e}"));
    let characteristics = |model: &str| -> serde_json::Value {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(model)).unwrap_or_default()).unwrap_or_default();
        m["characteristics"].clone()
    };
    let out = candor(
        d,
        &["fit", "--data", "numbered.csv", "--target", "creditability", "--out", "m.json", "--report", "r.html"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("note: column `loan_id` kept out: its name says it identifies rows"), "{stderr}");
    // The report lists it among the columns, with why it was kept out.
    let report = std::fs::read_to_string(d.join("r.html")).unwrap_or_default();
    let listed: String = report.find("loan_id").map(|at| report[at..].chars().take(400).collect()).unwrap_or_default();
    assert!(listed.contains("kept out: its name says it identifies rows"), "{listed}");
    let named = candor(
        d,
        &["fit", "--data", "numbered.csv", "--target", "creditability", "--id", "loan_id", "--out", "n.json"],
    );
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    assert!(!String::from_utf8_lossy(&named.stderr).contains("kept out: its name says"));
    // Kept out, it is as if it were named as the id: the same characteristics, the same points.
    let kept_out = characteristics("m.json");
    assert!(kept_out.as_array().is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["name"] != "loan_id")));
    assert_eq!(kept_out, characteristics("n.json"));
}

#[test]
fn the_readme_example_fits_the_german_credit_data() {
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let data = german();
    let data = data.to_str().unwrap_or_default();
    let out = candor(d, &["fit", "--data", data, "--target", "creditability", "--out", "m.json", "--report", "r.html"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Sex, age and nationality are kept out of the scorecard, and the fit says so.
    for (column, what) in [
        ("personal_status_and_sex", "marital status and sex"),
        ("age_in_years", "age"),
        ("foreign_worker", "nationality"),
    ] {
        assert!(stderr.contains(&format!("note: column `{column}` kept out: it looks like {what}")), "{stderr}");
    }
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap_or_default()).unwrap_or_default();
    let names: Vec<&str> =
        model["characteristics"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    assert!(!names.contains(&"age_in_years") && !names.contains(&"personal_status_and_sex"), "{names:?}");
    // No characteristic of the README model is reversed.
    let reversed: Vec<&str> = model["characteristics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["coefficient"].as_f64().unwrap_or(0.0) > 0.0)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(reversed.is_empty(), "{reversed:?}");
    let allowed = candor(
        d,
        &["fit", "--data", data, "--target", "creditability", "--out", "a.json", "--allow-protected", "age_in_years"],
    );
    assert!(!String::from_utf8_lossy(&allowed.stderr).contains("`age_in_years` kept out"));
    let auc: f64 = stderr
        .split("in-sample: AUC ")
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    assert!(auc > 0.78, "training AUC {auc}");
    assert!(d.join("r.html").exists());
}

/// One bad invocation: the files it sees, the arguments, what stderr must say, and the output
/// file that must not appear.
struct Case {
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    stderr: &'static str,
}

const GOOD: &str = "x,c,y\n1,a,0\n2,b,1\n3,a,0\n4,b,1\n5,a,0\n6,b,1\n7,a,0\n8,b,1\n9,a,0\n10,b,0\n";
/// `x` is constant, `m` is all missing, `c` carries the signal.
const CONSTANT: &str = "x,m,c,y\n1,,a,0\n1,NA,b,1\n1,,a,0\n1,,b,1\n1,,a,0\n1,,b,1\n1,,a,0\n1,,b,1\n1,,a,0\n1,,b,0\n";

#[test]
fn every_input_error_is_named_and_leaves_no_output() {
    let cases = [
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "nope", "--out", "o.json"],
            stderr: "error: d.csv: no column `nope` (the header has: x, c, y)",
        },
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--exclude", "zz", "--out", "o.json"],
            stderr: "error: d.csv: no column `zz`",
        },
        Case {
            files: &[("d.csv", "x,y\n1,0\n2,1\n3,2\n4,7\n")],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: d.csv: column `y`: the target must have exactly two values, found `0`, `1`, `2` and more",
        },
        Case {
            files: &[("d.csv", "")],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: d.csv: the file is empty (no header row)",
        },
        Case {
            files: &[("d.csv", "x,y\n")],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: d.csv: the file has a header but no data rows",
        },
        Case {
            files: &[("d.csv", "x,y\n1,0\n2,1,5\n")],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: d.csv: line 3: expected 2 fields as in the header, found 3",
        },
        Case {
            files: &[("d.csv", CONSTANT)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "warning: column `x` skipped: it is constant",
        },
        Case {
            files: &[("d.csv", CONSTANT)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "warning: column `m` skipped: every value is missing",
        },
        Case {
            files: &[("d.csv", "x,y\n1,0\n1,1\n")],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: d.csv: cannot fit a scorecard: no characteristic carries enough information",
        },
        Case {
            files: &[("missing.csv", GOOD)],
            args: &["fit", "--data", "absent.csv", "--target", "y", "--out", "o.json"],
            stderr: "error: absent.csv: cannot read:",
        },
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--special", "c=1", "--out", "o.json"],
            stderr: "error: --special: column `c` is not numeric",
        },
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--special", "x", "--out", "o.json"],
            stderr: "error: --special \"x\": expected COL=VALUE",
        },
        Case {
            files: &[("m.json", "{not json")],
            args: &["score", "--model", "m.json", "--data", "d.csv", "--out", "o.json"],
            stderr: "error: m.json: not a valid model file: key must be a string at line 1 column 2",
        },
        Case {
            files: &[("m.json", "{\"format\": \"x\"}")],
            args: &["score", "--model", "m.json", "--data", "d.csv", "--out", "o.json"],
            stderr: "error: m.json: not a valid model file: missing field `format_version`",
        },
        // An output that names an input would replace what is being read.
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "d.csv"],
            stderr: "error: --out d.csv: the same file as --data d.csv; writing it would replace what is read (choose another --out)",
        },
        Case {
            files: &[("d.csv", GOOD)],
            args: &["fit", "--data", "d.csv", "--target", "y", "--out", "o.json", "--report", "./d.csv"],
            stderr: "error: --report ./d.csv: the same file as --data d.csv;",
        },
        Case {
            files: &[("m.json", "{}"), ("d.csv", GOOD)],
            args: &["score", "--model", "m.json", "--data", "d.csv", "--out", "m.json"],
            stderr: "error: --out m.json: the same file as --model m.json;",
        },
        Case {
            files: &[("m.json", "{}"), ("d.csv", GOOD)],
            args: &["validate", "--model", "m.json", "--data", "d.csv", "--target", "y", "--report", "d.csv"],
            stderr: "error: --report d.csv: the same file as --data d.csv;",
        },
        Case {
            files: &[("c.db", "not a store")],
            args: &["features", "--db", "c.db", "--as-of", "2026-09-30", "--out", "c.db"],
            stderr: "error: --out c.db: the same file as --db c.db;",
        },
    ];
    for case in &cases {
        let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
        for (name, body) in case.files {
            std::fs::write(dir.path().join(name), body).unwrap_or_else(|e| panic!("{e}"));
        }
        let out = candor(dir.path(), case.args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(case.stderr), "{:?}\nwanted: {}\ngot: {stderr}", case.args, case.stderr);
        for (name, body) in case.files {
            let now = std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
            assert!(now == *body, "{:?} changed its input {name}", case.args);
        }
        if case.stderr.starts_with("error") {
            assert!(!out.status.success(), "{:?} should fail", case.args);
            assert!(!dir.path().join("o.json").exists(), "{:?} left an output file", case.args);
            let leftovers: Vec<_> = std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .collect();
            assert!(leftovers.is_empty(), "{:?} left temporary files", case.args);
        }
    }
}

#[test]
fn scoring_errors_name_the_line_and_column() {
    let dir = fitted_synthetic(2_000);
    let d = dir.path();
    let cases = [
        (
            "id,income,utilisation,region\nA,1,0.5,north\nB,abc,0.5,north\n",
            "error: bad.csv: line 3, column `income`: expected a number, found \"abc\"",
        ),
        ("id,income,region\nA,1,north\n", "error: bad.csv: no column `utilisation`"),
        (
            "id,income,utilisation,region\nA,1,0.5\n",
            "error: bad.csv: line 2: expected 4 fields as in the header, found 3",
        ),
    ];
    for (csv, want) in cases {
        std::fs::write(d.join("bad.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
        let out = candor(d, &["score", "--model", "model.json", "--data", "bad.csv", "--out", "o.csv"]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "wanted {want}\ngot {stderr}");
        assert!(!d.join("o.csv").exists());
    }
    let out = candor(d, &["explain", "--model", "model.json", "--row", "[1, 2]"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--row: expected a JSON object"));
    let out = candor(d, &["explain", "--model", "model.json", "--row", r#"{"income": "lots"}"#]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--row: `income` is numeric, but got \"lots\""));
    // A misspelled key is refused, not scored as missing; asked to, explain lists it instead.
    let misspelled = r#"{"Income": 900, "utilisation": 0.5}"#;
    let out = candor(d, &["explain", "--model", "model.json", "--row", misspelled]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`Income` (did you mean `income`?)"), "{stderr}");
    let listed = ok(d, &["explain", "--model", "model.json", "--row", misspelled, "--json", "--ignore-unknown"]);
    assert!(listed.contains("\"unused_fields\"") && listed.contains("\"Income\""), "{listed}");
}
