//! The SQL export scores every row exactly as the engine does, on SQLite and on PostgreSQL
//! (when `DATABASE_URL` names one).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use candor_scorecard::{Kind, Model};

use crate::{fitted_synthetic, german, ok};

/// Engine scores from `candor score`, by row number: (score, pd).
fn engine_scores(dir: &Path, data: &str) -> Vec<(i64, f64)> {
    ok(dir, &["score", "--model", "model.json", "--data", data, "--out", "scores.csv"]);
    let text = std::fs::read_to_string(dir.join("scores.csv")).unwrap_or_default();
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name}"));
    let (s, p) = (at("score"), at("pd"));
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[s].parse().unwrap_or(-1), f[p].parse().unwrap_or(-1.0))
        })
        .collect()
}

fn model(dir: &Path) -> Model {
    serde_json::from_str(&std::fs::read_to_string(dir.join("model.json")).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The data rows with a row number, as (column name → optional text).
fn rows(csv_text: &str) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = r.headers().map(|h| h.iter().map(String::from).collect()).unwrap_or_default();
    let rows = r
        .records()
        .flatten()
        .map(|rec| rec.iter().map(|f| (!candor_table::is_missing(f)).then(|| f.trim().to_string())).collect())
        .collect();
    (headers, rows)
}

fn compare(engine: &[(i64, f64)], sql: &HashMap<i64, (i64, f64)>, what: &str) {
    assert_eq!(sql.len(), engine.len(), "{what}: row count");
    for (i, (score, pd)) in engine.iter().enumerate() {
        let (s, p) = sql.get(&(i as i64)).unwrap_or_else(|| panic!("{what}: row {i} missing"));
        assert_eq!(s, score, "{what}: score of row {i}");
        assert!((p - pd).abs() <= 1e-9 * pd.abs().max(1e-12) + 1e-15, "{what}: pd of row {i}: {p} vs {pd}");
    }
}

/// Exports with the row number as id so results can be matched; returns the SELECT.
fn export(dir: &Path, table: &str) -> String {
    let mut m = model(dir);
    m.id_column = Some("rownum".into());
    std::fs::write(dir.join("model_rownum.json"), serde_json::to_string(&m).unwrap_or_default()).unwrap_or_default();
    ok(dir, &["export", "--model", "model_rownum.json", "--format", "sql", "--table", table])
}

fn sqlite_scores(dir: &Path, csv_text: &str) -> HashMap<i64, (i64, f64)> {
    let m = model(dir);
    let (headers, data) = rows(csv_text);
    let db = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    let cols: Vec<String> = m
        .characteristics
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, if c.kind == Kind::Numeric { "REAL" } else { "TEXT" }))
        .collect();
    db.execute(&format!("CREATE TABLE applicants (rownum INTEGER, {})", cols.join(", ")), [])
        .unwrap_or_else(|e| panic!("{e}"));
    let idx: Vec<usize> =
        m.characteristics.iter().map(|c| headers.iter().position(|h| *h == c.name).unwrap_or(0)).collect();
    let marks = vec!["?"; idx.len() + 1].join(", ");
    let mut insert = db.prepare(&format!("INSERT INTO applicants VALUES ({marks})")).unwrap_or_else(|e| panic!("{e}"));
    for (r, row) in data.iter().enumerate() {
        let mut values: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Integer(r as i64)];
        for (c, &i) in m.characteristics.iter().zip(&idx) {
            values.push(match (&row[i], c.kind) {
                (None, _) => rusqlite::types::Value::Null,
                (Some(t), Kind::Numeric) => rusqlite::types::Value::Real(t.parse().unwrap_or(f64::NAN)),
                (Some(t), Kind::Categorical) => rusqlite::types::Value::Text(t.clone()),
            });
        }
        insert.execute(rusqlite::params_from_iter(values)).unwrap_or_else(|e| panic!("{e}"));
    }
    let sql = export(dir, "applicants");
    let mut stmt = db.prepare(sql.trim_end().trim_end_matches(';')).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let out = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, i64>(1)?, r.get::<_, f64>(2)?))))
        .unwrap_or_else(|e| panic!("{e}"))
        .collect::<Result<HashMap<_, _>, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn sql_export_scores_like_the_engine_on_sqlite() {
    let dir = fitted_synthetic(3_000);
    let csv_text = std::fs::read_to_string(dir.path().join("data.csv")).unwrap_or_default();
    compare(&engine_scores(dir.path(), "data.csv"), &sqlite_scores(dir.path(), &csv_text), "sqlite synthetic");

    let dir = tempfile::TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let data = german();
    ok(
        dir.path(),
        &["fit", "--data", data.to_str().unwrap_or_default(), "--target", "creditability", "--out", "model.json"],
    );
    let csv_text = std::fs::read_to_string(&data).unwrap_or_default();
    compare(
        &engine_scores(dir.path(), data.to_str().unwrap_or_default()),
        &sqlite_scores(dir.path(), &csv_text),
        "sqlite german",
    );
}

/// A schema of our own on the PostgreSQL server, dropped when the test ends however it ends.
pub struct Schema {
    pub url: String,
    pub name: String,
}

impl Schema {
    /// A schema of its own on the server `url` names, `prefix` then this process and the time
    /// in its name, so no run meets another's; dropped with the value.
    pub fn fresh(url: &str, prefix: &str) -> Schema {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.as_nanos()).unwrap_or(0);
        Schema { url: url.to_owned(), name: format!("{prefix}_{}_{nanos}", std::process::id()) }
    }

    /// The store URL that keeps Candor's tables in this schema.
    pub fn store_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = psql(&self.url, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name), None);
    }
}

pub fn psql(url: &str, sql: &str, stdin: Option<&str>) -> String {
    let mut child = Command::new("psql")
        .args([url, "-X", "-q", "-A", "-t", "-F", ",", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    if let Some(mut input) = child.stdin.take() {
        use std::io::Write;
        let _ = input.write_all(stdin.unwrap_or("").as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sql_export_scores_like_the_engine_on_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: the PostgreSQL half of this test is skipped");
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let dir = fitted_synthetic(3_000);
    let d = dir.path();
    let m = model(d);
    let schema = Schema::fresh(&url, "candor_sql");
    let cols: Vec<String> = m
        .characteristics
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, if c.kind == Kind::Numeric { "DOUBLE PRECISION" } else { "TEXT" }))
        .collect();
    let table = format!("{}.applicants", schema.name);
    psql(
        &url,
        &format!("CREATE SCHEMA {}; CREATE TABLE {table} (rownum BIGINT, {})", schema.name, cols.join(", ")),
        None,
    );
    let csv_text = std::fs::read_to_string(d.join("data.csv")).unwrap_or_default();
    let (headers, data) = rows(&csv_text);
    let idx: Vec<usize> =
        m.characteristics.iter().map(|c| headers.iter().position(|h| *h == c.name).unwrap_or(0)).collect();
    let mut copy = String::new();
    for (r, row) in data.iter().enumerate() {
        copy.push_str(&r.to_string());
        for &i in &idx {
            copy.push(',');
            if let Some(t) = &row[i] {
                copy.push('"');
                copy.push_str(&t.replace('"', "\"\""));
                copy.push('"');
            }
        }
        copy.push('\n');
    }
    let names: Vec<String> = m.characteristics.iter().map(|c| format!("\"{}\"", c.name)).collect();
    psql(&url, &format!("COPY {table} (rownum, {}) FROM STDIN WITH (FORMAT csv)", names.join(", ")), Some(&copy));
    let sql = export(d, &table).replace(&format!("\"{table}\""), &table);
    let sql = sql.replace(&format!("\"{}\".\"applicants\"", schema.name), &table);
    let out = psql(&url, sql.trim_end().trim_end_matches(';'), None);
    let got: HashMap<i64, (i64, f64)> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap_or(-1), (f[1].parse().unwrap_or(-1), f[2].parse().unwrap_or(-1.0)))
        })
        .collect();
    compare(&engine_scores(d, "data.csv"), &got, "postgres synthetic");
}
