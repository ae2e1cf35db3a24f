//! The credit-file commands end to end: simulate → ingest → features → fit, Metro 2 conversion,
//! refused submissions, and ingestion killed at random points.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{candor, ok};

fn batches(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("pop/batches"))
        .expect("batches")
        .map(|e| format!("pop/batches/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    files.sort();
    files
}

fn simulate(subjects: &str, batch_reports: &str) -> TempDir {
    let dir = TempDir::new().expect("dir");
    ok(
        dir.path(),
        &[
            "simulate",
            "--subjects",
            subjects,
            "--months",
            "12",
            "--seed",
            "3",
            "--batch-reports",
            batch_reports,
            "--out",
            "pop",
        ],
    );
    dir
}

fn ingest(dir: &Path, db: &str, files: &[String]) -> String {
    let mut args = vec!["ingest", "--db", db, "--today", "2026-11-01"];
    args.extend(files.iter().map(String::as_str));
    ok(dir, &args)
}

#[test]
fn simulate_ingest_features_fit() {
    let dir = simulate("1500", "5000");
    let files = batches(dir.path());
    // A second run into the same directory would mix two populations' files: refused, and the
    // first run's files left as they were.
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(dir.path().join(f)).expect("batch")).collect();
    let again = crate::candor(dir.path(), &["simulate", "--subjects", "40", "--months", "12", "--out", "pop"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a second simulation into pop should be refused");
    assert!(stderr.contains("error: pop: holds an earlier simulation"), "{stderr}");
    assert_eq!(batches(dir.path()), files, "the batch files changed");
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(dir.path().join(f)).expect("batch")).collect();
    assert!(after == before, "a batch file changed");
    let out = ingest(dir.path(), "c.db", &files);
    assert!(out.contains(&format!("{} files:", files.len())), "{out}");
    assert!(out.contains(" 0 refused"), "{out}");
    let again = ingest(dir.path(), "c.db", &files);
    assert_eq!(again.matches("already applied").count(), files.len(), "{again}");

    let args =
        ["features", "--db", "c.db", "--as-of", "2026-09-30", "--outcomes", "pop/outcomes.csv", "--out", "f.parquet"];
    let out = ok(dir.path(), &args);
    assert!(out.contains("13 features as of 2026-09-30"), "{out}");
    // Every value lies in its feature's declared range: what deployment checks a model's cuts by.
    let table = candor_table::Table::read(&dir.path().join("f.parquet")).expect("read features");
    for feature in candor_file::features::CATALOGUE {
        let column = table.index_of(feature.name).expect("column");
        let values = table.numbers(column).expect("numbers");
        let outside = values.iter().filter(|v| v.is_finite() && !feature.range.contains(**v)).count();
        assert_eq!(outside, 0, "{}: {outside} values outside {}", feature.name, feature.range);
    }
    let first = std::fs::read(dir.path().join("f.parquet")).expect("features");
    ok(dir.path(), &args);
    assert_eq!(std::fs::read(dir.path().join("f.parquet")).expect("features"), first, "features are deterministic");
    // Written in place to what is not a file (a pipe here; /dev/null alike), never replaced.
    let piped = crate::through_a_pipe(dir.path(), &args[..args.len() - 2]);
    assert!(piped == first, "the features through a pipe differ from the file's");
    // In parts (as Spark's tasks run them), every subject once, with the same features.
    let mut parts: Vec<(String, Vec<u64>)> = Vec::new();
    for k in 0..2 {
        let part = format!("{k}/2");
        let name = format!("f{k}.parquet");
        ok(dir.path(), &[&args[..7], &["--partition", part.as_str(), "--out", name.as_str()][..]].concat());
        parts.extend(feature_rows(&dir.path().join(name)));
    }
    parts.sort();
    let mut whole = feature_rows(&dir.path().join("f.parquet"));
    whole.sort();
    assert_eq!(parts, whole, "the parts together are the whole");
    for bad in ["2/2", "1/0", "x/2", "3"] {
        let out = candor(dir.path(), &[&args[..7], &["--partition", bad, "--out", "bad.parquet"][..]].concat());
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("0 <= K < N"), "{bad}");
    }

    let fit = candor(
        dir.path(),
        &[
            "fit",
            "--data",
            "f.parquet",
            "--target",
            "bad",
            "--id",
            "subject",
            "--out",
            "model.json",
            "--report",
            "r.html",
        ],
    );
    assert!(fit.status.success());
    let out = format!("{}{}", String::from_utf8_lossy(&fit.stdout), String::from_utf8_lossy(&fit.stderr));
    let auc: f64 =
        out.split("AUC ").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok()).expect("AUC");
    assert!(auc > 0.75, "the features should carry the simulated signal: {out}");
}

/// Each row of a features file: the subject, and every feature's bits (NaN compares equal).
fn feature_rows(path: &Path) -> Vec<(String, Vec<u64>)> {
    let table = candor_table::Table::read(path).expect("read features");
    let subject = table.index_of("subject").expect("subject");
    let columns: Vec<Vec<f64>> = candor_file::features::CATALOGUE
        .iter()
        .map(|f| table.numbers(table.index_of(f.name).expect("column")).expect("numbers"))
        .collect();
    (0..table.rows())
        .map(|r| {
            (table.text(subject, r).unwrap_or_default().to_string(), columns.iter().map(|c| c[r].to_bits()).collect())
        })
        .collect()
}

#[test]
fn a_refused_submission_changes_nothing_and_says_why() {
    let dir = TempDir::new().expect("dir");
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/lender-batch.jsonl");
    let mut text = std::fs::read_to_string(&good).expect("example");
    text.push_str(r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "religion": "x"}"#);
    text.push('\n');
    std::fs::write(dir.path().join("bad.jsonl"), text).expect("write");
    let out = candor(dir.path(), &["ingest", "--db", "c.db", "bad.jsonl"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record 10, field `religion`: unknown field"), "{stderr}");
    let features = ok(dir.path(), &["features", "--db", "c.db", "--as-of", "2026-09-30", "--out", "f.parquet"]);
    assert!(features.starts_with("0 subjects"), "nothing was applied: {features}");
}

#[test]
fn metro2_converts_to_json_and_back_byte_for_byte() {
    let dir = TempDir::new().expect("dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../candor-metro2/tests/fixtures/unpacked_fixed_file.dat");
    let fixture = fixture.to_string_lossy().into_owned();
    let json = ok(dir.path(), &["metro2", "convert", "--to", "json", &fixture]);
    assert!(json.contains("\"consumerAccountNumber\": \"553723456\""), "{json}");
    std::fs::write(dir.path().join("f.json"), &json).expect("write");
    ok(dir.path(), &["metro2", "convert", "--to", "metro2", "f.json", "--out", "back.dat"]);
    let same = std::fs::read(dir.path().join("back.dat")).expect("back") == std::fs::read(&fixture).expect("fixture");
    assert!(same, "Metro 2 → JSON → Metro 2 must give back the same bytes");
    let out = candor(dir.path(), &["metro2", "convert", "--to", "json", "f.json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Metro 2 file"));
}

/// Reports per batch digest in a store, read with the SQLite command line's library.
fn reports_per_batch(db: &Path) -> HashMap<Vec<u8>, i64> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn
        .prepare("SELECT b.digest, (SELECT COUNT(*) FROM reports r WHERE r.batch_id = b.batch_id) FROM batches b")
        .expect("prepare");
    let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))).expect("query");
    rows.map(|r| r.expect("row")).collect()
}

fn digest_of(dir: &Path, file: &str) -> Vec<u8> {
    let out = Command::new("sha256sum").arg(dir.join(file)).output().expect("sha256sum");
    let hex = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or("").to_owned();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

/// Kills `candor ingest` at random points, again and again: every acknowledged batch is there
/// after restart, and every batch there is whole (as many reports as an uninterrupted run gives it).
#[test]
fn ingestion_killed_at_random_points_loses_nothing_acknowledged_and_halves_nothing() {
    let dir = simulate("2500", "1500");
    let files = batches(dir.path());
    ingest(dir.path(), "reference.db", &files);
    let whole = reports_per_batch(&dir.path().join("reference.db"));
    let by_file: HashMap<String, Vec<u8>> = files.iter().map(|f| (f.clone(), digest_of(dir.path(), f))).collect();

    let mut seed = 12345u64;
    let mut acknowledged: Vec<Vec<u8>> = Vec::new();
    let mut kills = 0;
    for _ in 0..12 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let wait = Duration::from_millis(20 + (seed >> 33) % 700);
        let mut child = Command::new(env!("CARGO_BIN_EXE_candor"))
            .args(["ingest", "--db", "killed.db", "--today", "2026-11-01"])
            .args(&files)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
        let started = Instant::now();
        while started.elapsed() < wait && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("kill -9");
            kills += 1;
        }
        child.wait().expect("reap");
        for line in reader.join().expect("reader") {
            if let Some((file, _)) = line.split_once(": batch ") {
                acknowledged.push(by_file[file].clone());
            }
        }
        let now = reports_per_batch(&dir.path().join("killed.db"));
        for digest in &acknowledged {
            assert!(now.contains_key(digest), "an acknowledged batch is missing after a kill");
        }
        for (digest, count) in &now {
            assert_eq!(Some(count), whole.get(digest), "a batch is only partly there");
        }
    }
    assert!(kills >= 3, "the test should have killed ingestion mid-way several times ({kills})");
    ingest(dir.path(), "killed.db", &files);
    assert_eq!(
        reports_per_batch(&dir.path().join("killed.db")),
        whole,
        "after the last restart everything is there once"
    );
}

#[test]
fn an_api_key_is_shown_once_and_stored_hashed() {
    let dir = TempDir::new().expect("dir");
    let key =
        ok(dir.path(), &["org", "add", "--db", "c.db", "--id", "bank-one", "--kind", "lender", "--name", "Bank One"]);
    let key = key.trim();
    assert!(key.starts_with("cnd_") && key.len() == 68, "{key}");
    let conn = rusqlite::Connection::open(dir.path().join("c.db")).expect("open");
    let stored: Vec<u8> = conn
        .query_row("SELECT api_key_hash FROM organisations WHERE org_id = 'bank-one'", [], |r| r.get(0))
        .expect("row");
    assert_eq!(stored.len(), 32);
    assert!(!stored.windows(8).any(|w| key.as_bytes().windows(8).any(|k| k == w)), "the key itself must not be stored");
    let again =
        ok(dir.path(), &["org", "add", "--db", "c.db", "--id", "bank-one", "--kind", "lender", "--name", "Bank One"]);
    assert_ne!(again.trim(), key, "a new key each time");
    let logged: Vec<String> = conn
        .prepare("SELECT body FROM log_leaves WHERE kind = 'organisation_registered' ORDER BY leaf_index")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("bodies");
    assert_eq!(logged.len(), 2, "each registration and key issue is a leaf: {logged:?}");
    assert!(logged.iter().all(|b| b.contains(r#""org_kind":"lender""#) && !b.contains("cnd_")), "{logged:?}");
    ok(dir.path(), &["org", "revoke", "--db", "c.db", "--id", "bank-one"]);
    let gone: Option<Vec<u8>> = conn
        .query_row("SELECT api_key_hash FROM organisations WHERE org_id = 'bank-one'", [], |r| r.get(0))
        .expect("row");
    assert_eq!(gone, None, "the key no longer opens anything");
    let revoked: i64 =
        conn.query_row("SELECT COUNT(*) FROM log_leaves WHERE kind = 'key_revoked'", [], |r| r.get(0)).expect("count");
    assert_eq!(revoked, 1, "the revocation is a leaf");
    let again = candor(dir.path(), &["org", "revoke", "--db", "c.db", "--id", "bank-one"]);
    assert!(!again.status.success(), "nothing left to revoke");
    let bad =
        candor(dir.path(), &["org", "add", "--db", "c.db", "--id", "Bank One", "--kind", "lender", "--name", "x"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--id: expected an organisation id"));
}

#[test]
fn an_activation_code_is_shown_once_and_stored_hashed() {
    let dir = TempDir::new().expect("dir");
    let args = ["subject", "invite", "--db", "c.db", "--scheme", "cn_rid", "--number", "110105199003071239"];
    let code = ok(dir.path(), &args);
    let code = code.trim();
    assert_eq!((code.len(), code.matches('-').count()), (24, 4), "{code}");
    let again = ok(dir.path(), &args);
    assert_ne!(again.trim(), code, "a new code each time");
    let conn = rusqlite::Connection::open(dir.path().join("c.db")).expect("open");
    let hashes: Vec<String> = conn
        .prepare("SELECT code_hash FROM activation_codes")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("hashes");
    assert_eq!(hashes.len(), 2);
    let plain = code.replace('-', "");
    let bodies: String = conn
        .prepare("SELECT body FROM log_leaves")
        .expect("query")
        .query_map([], |r| r.get::<_, String>(0))
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("bodies")
        .concat();
    assert!(!hashes.iter().any(|h| h.contains(&plain)) && !bodies.contains(&plain), "the code itself is not stored");
    assert_eq!(bodies.matches("activation_issued").count(), 2, "{bodies}");
    let bad = candor(
        dir.path(),
        &["subject", "invite", "--db", "c.db", "--scheme", "cn_rid", "--number", "110105199003071238"],
    );
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("--number") && !said.contains("110105199003071238"), "{said}");
}

#[test]
fn checkpoints_and_the_audit_catch_tampering() {
    let dir = TempDir::new().expect("dir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let lender = examples.join("lender-batch.jsonl").to_string_lossy().into_owned();
    let court = examples.join("court-batch.jsonl").to_string_lossy().into_owned();
    ok(dir.path(), &["ingest", "--db", "c.db", "--today", "2026-11-01", &lender, &court]);
    let checkpoint = ok(dir.path(), &["log", "checkpoint", "--db", "c.db"]);
    assert!(checkpoint.starts_with("candor.local/log\n2\n"), "{checkpoint}");
    assert!(checkpoint.contains("\n\n— candor.local/log "), "{checkpoint}");
    let key = ok(dir.path(), &["log", "public-key", "--db", "c.db"]);
    let out = ok(dir.path(), &["audit", "verify", "--db", "c.db", "--public-key", key.trim()]);
    assert!(out.contains("2 leaves, 2 batches, 1 checkpoints") && out.contains("the store matches its log"), "{out}");

    let conn = rusqlite::Connection::open(dir.path().join("c.db")).expect("open");
    conn.execute("UPDATE reports SET dpd = 0, delinquent_since = NULL WHERE dpd = 30", []).expect("tamper");
    let out = candor(dir.path(), &["audit", "verify", "--db", "c.db"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("PROBLEM: batch 1: its rows were altered"), "{stdout}");

    // Rewriting the log to hide it does not survive the signed checkpoint.
    conn.execute("UPDATE reports SET dpd = 30, delinquent_since = 20701 WHERE dpd = 0 AND month = 24320", [])
        .expect("undo");
    conn.execute("DELETE FROM log_leaves WHERE leaf_index = 1", []).expect("drop a leaf");
    let out = candor(dir.path(), &["audit", "verify", "--db", "c.db"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the log no longer has that root"), "{stdout}");
}

/// A store that lost writes after the bureau signed them (its write-ahead log deleted, an older
/// copy restored) is refused by the server at start, not served with leaf indexes reused; the
/// server keeps the checkpoint file up to date itself.
#[test]
fn the_server_refuses_a_store_rolled_back_behind_its_checkpoint() {
    let dir = TempDir::new().expect("dir");
    let d = dir.path();
    ok(d, &["ingest", "--db", "r.db", "--today", "2026-11-01", &example_batch("lender-batch.jsonl")]);
    std::fs::copy(d.join("r.db"), d.join("older.db")).expect("an older copy");
    ok(d, &["ingest", "--db", "r.db", "--today", "2026-11-01", &example_batch("court-batch.jsonl")]);

    // The server signs the grown log into the kept file within a second of starting.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .current_dir(d)
        .args(["serve", "--db", "r.db", "--listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let kept = d.join("r.checkpoint");
    let started = Instant::now();
    while !std::fs::read_to_string(&kept).is_ok_and(|t| t.starts_with("candor.local/log\n2\n"))
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill().expect("stop");
    server.wait().expect("reap");
    let text = std::fs::read_to_string(&kept).expect("the server kept a checkpoint");
    assert!(text.starts_with("candor.local/log\n2\n"), "{text}");

    // The older copy comes back in its place: the server will not serve it.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(d.join(format!("r.db{suffix}")));
    }
    std::fs::copy(d.join("older.db"), d.join("r.db")).expect("restore");
    let refused = candor(d, &["serve", "--db", "r.db", "--listen", &addr]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("rolled back behind the checkpoint the bureau signed at size 2"), "{stderr}");
    assert!(stderr.contains("r.checkpoint"), "says which file: {stderr}");
    let audit = candor(d, &["audit", "verify", "--db", "r.db"]);
    assert!(!audit.status.success(), "the audit fails too");
}

/// The ombudsman's own tool: a witness key kept apart from the bureau, and countersignatures
/// given only to checkpoints the bureau signed that extend the last one countersigned.
#[test]
fn the_witness_cosigns_only_a_consistent_history() {
    let dir = TempDir::new().expect("dir");
    let d = dir.path();
    ok(d, &["ingest", "--db", "w.db", "--today", "2026-11-01", &example_batch("lender-batch.jsonl")]);
    std::fs::write(d.join("one.txt"), ok(d, &["log", "checkpoint", "--db", "w.db"])).expect("write");
    ok(d, &["ingest", "--db", "w.db", "--today", "2026-11-01", &example_batch("court-batch.jsonl")]);
    std::fs::write(d.join("two.txt"), ok(d, &["log", "checkpoint", "--db", "w.db"])).expect("write");
    let bureau = ok(d, &["log", "public-key", "--db", "w.db"]).trim().to_owned();
    let public = ok(d, &["log", "witness-key", "--key-file", "witness.key"]).trim().to_owned();
    assert_eq!(ok(d, &["log", "witness-key", "--key-file", "witness.key"]).trim(), public, "made once, then kept");
    let cosign = |note: &str, proof: Option<&str>| {
        let mut args = vec!["log", "cosign", "--key-file", "witness.key", "--name", "ombudsman.example/witness"];
        args.extend(["--log-public-key", &bureau, "--checkpoint", note, "--state", "witness.state"]);
        if let Some(p) = proof {
            args.extend(["--proof", p]);
        }
        candor(d, &args)
    };
    let first = cosign("one.txt", None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let note = candor_log::SignedCheckpoint::parse(&String::from_utf8_lossy(&first.stdout)).expect("note");
    let witness = candor_log::Verifier::from_hex("ombudsman.example/witness", &public).expect("key");
    note.check(&witness).expect("countersigned");

    // The second needs the proof that it extends the first; a wrong proof is refused.
    let mut store = candor_store::Store::open(&d.join("w.db").display().to_string()).expect("store");
    let proof = store.log_tree().expect("tree").consistency_proof(1, 2).expect("proof");
    let hexed: Vec<String> = proof.iter().map(hex::encode).collect();
    std::fs::write(d.join("proof.json"), format!("{{\"proof\": {hexed:?}}}")).expect("write");
    std::fs::write(d.join("bad.json"), format!("{{\"proof\": [\"{}\"]}}", "00".repeat(32))).expect("write");
    let refused = cosign("two.txt", Some("bad.json"));
    assert!(!refused.status.success(), "a proof that does not hold");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let second = cosign("two.txt", Some("proof.json"));
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));

    // A note the bureau did not sign is refused.
    let forged = std::fs::read_to_string(d.join("two.txt")).expect("read").replacen("\n2\n", "\n3\n", 1);
    std::fs::write(d.join("forged.txt"), forged).expect("write");
    assert!(!cosign("forged.txt", Some("proof.json")).status.success(), "not the bureau's");
}

#[test]
fn the_demo_builds_a_bureau_and_prints_a_credential_per_role() {
    let dir = TempDir::new().expect("dir");
    let out = ok(dir.path(), &["demo", "--no-serve", "--subjects", "1500", "--dir", "d"]);
    for role in [
        "A person (subject): cn_rid",
        "Merchant (demo-shop): cnd_",
        "Lender and furnisher (demo-bank): cnd_",
        "Court (demo-court): cnd_",
        "Ombudsman (demo-ombudsman): cnd_",
        "Auditor (demo-auditor): cnd_",
        "Operator (demo-operator): cnd_",
    ] {
        assert!(out.contains(role), "{role} missing from:\n{out}");
    }
    for file in ["candor.db", "model.json", "report.html", "features.parquet"] {
        assert!(dir.path().join("d").join(file).exists(), "{file}");
    }
    let audit = ok(dir.path(), &["audit", "verify", "--db", "d/candor.db"]);
    assert!(audit.contains("the store matches its log"), "{audit}");
    assert!(out.contains("A person invited to enrol: cn_rid") && out.contains("activation code"), "{out}");
    // A directory the demo did not make is never emptied.
    std::fs::create_dir(dir.path().join("mine")).expect("dir");
    std::fs::write(dir.path().join("mine/thesis.txt"), "four years of work").expect("file");
    let refused = candor(dir.path(), &["demo", "--no-serve", "--subjects", "1500", "--dir", "mine"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a demo did not make"));
    assert!(dir.path().join("mine/thesis.txt").exists(), "nothing deleted");
}

/// The operator's commands do not make what they should find: a mistyped store is refused,
/// not created empty and reported as matching its log; a store whose keys file is missing gets
/// no new keys; and key files are readable by their owner only.
#[test]
fn operator_commands_refuse_what_is_not_there_and_keep_keys_private() {
    let dir = TempDir::new().expect("dir");
    let mistyped = candor(dir.path(), &["audit", "verify", "--db", "cnador.db"]);
    assert!(!mistyped.status.success());
    assert!(String::from_utf8_lossy(&mistyped.stderr).contains("no such store"));
    assert!(!dir.path().join("cnador.db").exists() && !dir.path().join("cnador.keys").exists(), "nothing made");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let lender = examples.join("lender-batch.jsonl").to_string_lossy().into_owned();
    ok(dir.path(), &["ingest", "--db", "c.db", "--today", "2026-11-01", &lender]);
    ok(dir.path(), &["log", "checkpoint", "--db", "c.db"]);
    std::fs::copy(dir.path().join("c.db"), dir.path().join("copy.db")).expect("copy");
    let no_keys = candor(dir.path(), &["audit", "verify", "--db", "copy.db"]);
    assert!(!no_keys.status.success());
    assert!(
        String::from_utf8_lossy(&no_keys.stderr).contains("its keys file"),
        "{}",
        String::from_utf8_lossy(&no_keys.stderr)
    );
    assert!(!dir.path().join("copy.keys").exists(), "no keys made for a store that has data");
    // A store restored from before a checkpoint the bureau signed does not pass for its log.
    std::fs::copy(dir.path().join("c.db"), dir.path().join("backup.db")).expect("backup");
    let court = examples.join("court-batch.jsonl").to_string_lossy().into_owned();
    ok(dir.path(), &["ingest", "--db", "c.db", "--today", "2026-11-01", &court]);
    ok(dir.path(), &["log", "checkpoint", "--db", "c.db"]);
    let audit = ok(dir.path(), &["audit", "verify", "--db", "c.db"]);
    assert!(audit.contains("the store matches its log"), "{audit}");
    std::fs::copy(dir.path().join("backup.db"), dir.path().join("c.db")).expect("restore");
    let rolled = candor(dir.path(), &["audit", "verify", "--db", "c.db"]);
    let said = String::from_utf8_lossy(&rolled.stdout);
    assert!(!rolled.status.success() && said.contains("rolled back behind the checkpoint"), "{said}");
    ok(dir.path(), &["log", "witness-key", "--key-file", "witness.key"]);
    #[cfg(unix)]
    for file in ["c.keys", "witness.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file)).expect("file").permissions().mode();
        assert_eq!(mode & 0o077, 0, "{file} is readable by others: {mode:o}");
    }
}

/// One HTTP/1.1 request over a fresh connection; the status, or `None` if the server vanished.
fn http(addr: &str, method: &str, path: &str, key: &str, body: &[u8]) -> Option<u16> {
    http_answer(addr, method, path, key, body).map(|(status, _)| status)
}

/// One HTTP/1.1 request over a fresh connection; the status and body, or `None` if the server
/// vanished.
fn http_answer(addr: &str, method: &str, path: &str, key: &str, body: &[u8]) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\ncontent-type: application/x-ndjson\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// The bureau's keys from the environment, as a PostgreSQL store needs them.
const TEST_KEYS: [(&str, &str); 3] = [
    ("CANDOR_IDENTITY_KEY", "1111111111111111111111111111111111111111111111111111111111111111"),
    ("CANDOR_SEALING_KEY", "2222222222222222222222222222222222222222222222222222222222222222"),
    ("CANDOR_LOG_KEY", "3333333333333333333333333333333333333333333333333333333333333333"),
];

fn candor_with_keys(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_candor"));
    command.args(args).current_dir(dir).envs(TEST_KEYS);
    command
}

/// Kills the server (kill -9) while four clients submit batches and people enrol, freeze and
/// lift their freeze, grant and revoke consents, and dispute records, again and again: every
/// batch answered 201 and every person's change answered 2xx is there after restart, and the
/// store still matches its log after every kill — no change without its leaf, no leaf without
/// its change. On SQLite, and on PostgreSQL (a pool of connections writing at once) when
/// `DATABASE_URL` names one.
#[test]
fn the_server_killed_during_concurrent_writes_keeps_every_answered_write() {
    let dir = TempDir::new().expect("dir");
    let db = dir.path().join("s.db");
    let stored = || {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let mut stmt = conn.prepare("SELECT digest FROM batches").expect("prepare");
        let digests = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).expect("query").map(|r| r.expect("row"));
        digests.collect()
    };
    let changes = || {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.query_row(PERSON_CHANGES, [], |r| r.get::<_, i64>(0)).expect("count")
    };
    let leaves = || {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let mut stmt = conn.prepare(READ_LEAVES).expect("prepare");
        let indices = stmt.query_map([], |r| r.get::<_, i64>(0)).expect("query").map(|r| r.expect("row"));
        indices.collect()
    };
    killed_during_concurrent_writes(dir.path(), &db.display().to_string(), &stored, &changes, &leaves);
}

#[test]
fn the_server_killed_during_concurrent_writes_keeps_every_answered_write_on_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: the PostgreSQL half of this test is skipped");
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let schema = crate::sql::Schema::fresh(&url, "candor_kill");
    let db = schema.store_url();
    let dir = TempDir::new().expect("dir");
    let stored = || {
        let out = crate::sql::psql(&url, &format!("SELECT encode(digest, 'hex') FROM {}.batches", schema.name), None);
        out.lines().filter(|l| !l.is_empty()).map(|l| hex::decode(l).expect("hex")).collect()
    };
    let changes = || {
        let sql = format!("SET search_path TO {}; {PERSON_CHANGES}", schema.name);
        crate::sql::psql(&url, &sql, None).trim().parse::<i64>().expect("count")
    };
    let leaves = || {
        let out = crate::sql::psql(&url, &format!("SET search_path TO {}; {READ_LEAVES}", schema.name), None);
        out.lines().filter_map(|l| l.trim().parse::<i64>().ok()).collect()
    };
    killed_during_concurrent_writes(dir.path(), &db, &stored, &changes, &leaves);
}

/// The leaves of lenders' reads, answered or refused: those the log's group commit appends.
const READ_LEAVES: &str = "SELECT leaf_index FROM log_leaves WHERE kind IN ('read', 'refused_read')";

/// A lender of the killed test reading files under consent (most people gave none, so most
/// reads are refused, and logged as such), until the server goes: the leaf index each answer
/// named.
fn lender_reads(addr: &str, key: &str, first: u64, answered: &std::sync::Mutex<Vec<i64>>) {
    for i in first.. {
        let body = format!(r#"{{"scheme":"generic","number":"KILL{i:08}","purpose":"tenancy"}}"#);
        let leaf = match http_answer(addr, "POST", "/v1/scores", key, body.as_bytes()) {
            Some((200, answer)) => {
                answer.split("\"leaf\":").nth(1).map(|t| t.chars().take_while(char::is_ascii_digit).collect())
            }
            Some((403, answer)) => {
                answer.split("(leaf ").nth(1).map(|t| t.chars().take_while(char::is_ascii_digit).collect())
            }
            Some((429, _)) => continue,
            Some((status, answer)) => panic!("a read answered {status}: {answer}"),
            None => return,
        };
        let leaf: String = leaf.unwrap_or_default();
        let leaf = leaf.parse().unwrap_or_else(|_| panic!("an answered read names its leaf"));
        answered.lock().expect("lock").push(leaf);
    }
}

/// A model over two features of the catalogue, fitted on a small seeded table, for the killed
/// server to score with.
fn catalogue_model(dir: &Path) -> String {
    let mut csv = String::from("months_of_history,worst_dpd_12m,bad\n");
    for i in 0..2_000u64 {
        let months = (i * 37) % 120;
        let dpd = [0, 0, 0, 30, 60, 90][(i * 7 % 6) as usize];
        let bad = (i * 13 % 10) < 1 + u64::from(dpd >= 60) * 4 + u64::from(months < 12) * 2;
        csv.push_str(&format!("{months},{dpd},{}\n", u8::from(bad)));
    }
    std::fs::write(dir.join("catalogue.csv"), csv).expect("write");
    ok(dir, &["fit", "--data", "catalogue.csv", "--target", "bad", "--out", "catalogue_model.json"]);
    dir.join("catalogue_model.json").display().to_string()
}

/// Rows of the changes people make, in every table the killed test's people write.
const PERSON_CHANGES: &str = "SELECT (SELECT COUNT(*) FROM activation_codes) \
     + (SELECT COUNT(*) FROM enrolments) + (SELECT COUNT(*) FROM freezes) \
     + (SELECT COUNT(*) FROM consents) + (SELECT COUNT(*) FROM disputes)";

/// A person of the killed test: is invited by the operator, enrols with the code, signs in,
/// then freezes and lifts, grants and revokes, and disputes a record of theirs, until the server
/// goes; how many changes were answered.
fn person_writes(addr: &str, operator: &str, i: u64) -> i64 {
    let number = format!("KILL{i:08}");
    let who = format!(r#"{{"scheme":"generic","number":"{number}"}}"#);
    let mut answered = 0;
    let Some((201, invitation)) = http_answer(addr, "POST", "/v1/operator/invites", operator, who.as_bytes()) else {
        return answered;
    };
    answered += 1;
    let code = invitation.split("\"activation_code\":\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or("");
    let enrolment = format!(
        r#"{{"scheme":"generic","number":"{number}","activation_code":"{code}","passphrase":"killed passphrase"}}"#
    );
    let credentials = format!(r#"{{"scheme":"generic","number":"{number}","passphrase":"killed passphrase"}}"#);
    match http(addr, "POST", "/v1/subjects", "", enrolment.as_bytes()) {
        Some(201) => answered += 1,
        _ => return answered,
    }
    let Some((200, session)) = http_answer(addr, "POST", "/v1/sessions", "", credentials.as_bytes()) else {
        return answered;
    };
    let token = session.split("\"token\":\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or("").to_owned();
    let until = candor_bureau::Now::at_ms(now_ms() + 365 * 86_400_000).today;
    let grant = format!(r#"{{"org":"bank-one","purpose":"tenancy","until":"{until}"}}"#);
    let dispute = format!(r#"{{"record_kind":"account","record_ref":"K{i}"}}"#);
    let steps: [(&str, &str, &[u8]); 5] = [
        ("PUT", "/v1/me/freeze", b""),
        ("DELETE", "/v1/me/freeze", b""),
        ("POST", "/v1/me/consents", grant.as_bytes()),
        ("DELETE", "/v1/me/consents/bank-one/tenancy", b""),
        ("POST", "/v1/me/disputes", dispute.as_bytes()),
    ];
    for (method, path, body) in steps {
        match http(addr, method, path, &token, body) {
            Some(200 | 201) => answered += 1,
            Some(_) => {}
            None => return answered,
        }
    }
    answered
}

fn killed_during_concurrent_writes(
    dir: &Path,
    db: &str,
    stored_digests: &dyn Fn() -> std::collections::HashSet<Vec<u8>>,
    person_changes: &dyn Fn() -> i64,
    read_leaves: &dyn Fn() -> std::collections::HashSet<i64>,
) {
    use sha2::{Digest, Sha256};
    let model = catalogue_model(dir);
    let reads_answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let added = candor_with_keys(
        dir,
        &["org", "add", "--db", db, "--id", "bank-one", "--kind", "lender", "--name", "Bank One"],
    )
    .output()
    .expect("org add");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let key = String::from_utf8_lossy(&added.stdout).trim().to_owned();
    let added = candor_with_keys(
        dir,
        &["org", "add", "--db", db, "--id", "operator", "--kind", "operator", "--name", "Operator"],
    )
    .output()
    .expect("org add");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let operator = String::from_utf8_lossy(&added.stdout).trim().to_owned();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let changes_answered = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let mut next = 0u64;
    for round in 0..5u64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let addr = format!("127.0.0.1:{port}");
        // The model is deployed in the first round and restored from the store after.
        let mut serve = vec!["serve", "--db", db, "--listen", &addr];
        if round == 0 {
            serve.extend(["--model", &model]);
        }
        let mut server =
            candor_with_keys(dir, &serve).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve");
        let started = Instant::now();
        while http(&addr, "GET", "/healthz", "", b"").is_none() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let reads_before = reads_answered.lock().expect("lock").len();
        let batches_before = acknowledged.lock().expect("lock").len();
        let changes_before = changes_answered.load(std::sync::atomic::Ordering::SeqCst);
        let clients: Vec<_> = (0..4u64)
            .map(|c| {
                let (addr, key, acknowledged) = (addr.clone(), key.clone(), acknowledged.clone());
                let first = next + c * 1_000;
                std::thread::spawn(move || {
                    for i in first..first + 1_000 {
                        let body = format!(
                            "{{\"type\":\"batch\",\"sender\":\"bank-one\",\"sender_kind\":\"lender\",\"sender_name\":\"Bank One\"}}\n\
                             {{\"type\":\"account\",\"scheme\":\"generic\",\"number\":\"KILL{i:08}\",\"account\":\"K{i}\",\"kind\":\"loan\",\"opened\":\"2025-01-01\",\"currency\":\"CNY\"}}\n\
                             {{\"type\":\"report\",\"scheme\":\"generic\",\"number\":\"KILL{i:08}\",\"account\":\"K{i}\",\"month\":\"2025-06\",\"balance_minor\":{i},\"dpd\":0,\"status\":\"open\"}}\n"
                        );
                        match http(&addr, "POST", "/v1/batches?format=jsonl", &key, body.as_bytes()) {
                            Some(201) => acknowledged.lock().expect("lock").push(Sha256::digest(body.as_bytes()).to_vec()),
                            Some(_) => {}
                            None => return,
                        }
                    }
                })
            })
            .collect();
        // People whose files the batches above made (those of the rounds before are on file).
        let people: Vec<_> = (0..2u64)
            .map(|c| {
                let (addr, answered, operator) = (addr.clone(), changes_answered.clone(), operator.clone());
                let first = next.saturating_sub(10_000) + c * 1_000;
                std::thread::spawn(move || {
                    for i in first..first + 200 {
                        let done = person_writes(&addr, &operator, i);
                        answered.fetch_add(done, std::sync::atomic::Ordering::SeqCst);
                        if done == 0 {
                            return;
                        }
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..2u64)
            .map(|c| {
                let (addr, key, answered) = (addr.clone(), key.clone(), reads_answered.clone());
                let first = next.saturating_sub(10_000) + c * 1_000;
                std::thread::spawn(move || lender_reads(&addr, &key, first, &answered))
            })
            .collect();
        // The kill comes at a different moment each round, but only once every kind of write
        // has got some through this round, so a slow machine still tests every kind.
        std::thread::sleep(Duration::from_millis(150 + round * 60));
        let progress = || {
            let reads = reads_answered.lock().expect("lock").len() - reads_before;
            let batches = acknowledged.lock().expect("lock").len() - batches_before;
            let changes = changes_answered.load(std::sync::atomic::Ordering::SeqCst) - changes_before;
            reads >= 5 && batches >= 5 && changes >= 3
        };
        while !progress() && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(10));
        }
        server.kill().expect("kill -9");
        server.wait().expect("reap");
        for c in clients.into_iter().chain(people).chain(readers) {
            c.join().expect("client");
        }
        let logged = read_leaves();
        for leaf in reads_answered.lock().expect("lock").iter() {
            assert!(logged.contains(leaf), "{db}, round {round}: a read answered with leaf {leaf} is not in the log");
        }
        next += 10_000;
        let stored = stored_digests();
        for digest in acknowledged.lock().expect("lock").iter() {
            assert!(stored.contains(digest), "{db}, round {round}: a batch answered 201 is missing after kill -9");
        }
        let answered = changes_answered.load(std::sync::atomic::Ordering::SeqCst);
        let on_file = person_changes();
        // Every answered change is a row; a change the kill cut short after its commit is one more.
        assert!(on_file >= answered, "{db}, round {round}: {answered} changes answered, {on_file} on file");
        let audit = candor_with_keys(dir, &["audit", "verify", "--db", db]).output().expect("audit");
        let text = String::from_utf8_lossy(&audit.stdout);
        assert!(
            text.contains("the store matches its log"),
            "{db}, round {round}: {text}{}",
            String::from_utf8_lossy(&audit.stderr)
        );
    }
    assert!(acknowledged.lock().expect("lock").len() > 20, "the clients got few writes through");
    assert!(changes_answered.load(std::sync::atomic::Ordering::SeqCst) > 10, "the people got few changes through");
    assert!(reads_answered.lock().expect("lock").len() > 20, "the lenders got few reads through");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The path of one of the example batches in `docs/examples`.
fn example_batch(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples").join(name).to_string_lossy().into_owned()
}

/// A server that cannot start (its address is taken) says so and exits with an error, and one
/// stopped by Ctrl-C (SIGINT) exits cleanly: on PostgreSQL the store's connections used to be
/// closed on the runtime's thread, where the client's blocking close panicked, and the process
/// aborted with a backtrace instead of the message. On SQLite, and on PostgreSQL when
/// `DATABASE_URL` names one.
#[test]
fn a_server_that_cannot_start_or_is_stopped_exits_with_its_message() {
    let dir = TempDir::new().expect("dir");
    let mut stores = vec![("SQLite", "stop.db".to_owned(), None)];
    if let Ok(url) = std::env::var("DATABASE_URL").map(|u| u.trim().to_owned()) {
        if url.starts_with("postgres") {
            let schema = crate::sql::Schema::fresh(&url, "candor_stop");
            stores.push(("PostgreSQL", schema.store_url(), Some(schema)));
        }
    }
    for (label, db, _schema) in &stores {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let addr = taken.local_addr().expect("addr").to_string();
        let refused = candor_with_keys(dir.path(), &["serve", "--db", db, "--listen", &addr]).output().expect("serve");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{label}: {stderr}");
        assert!(stderr.contains(&format!("cannot listen on {addr}")), "{label}: {stderr}");
        assert!(!stderr.contains("panicked"), "{label}: {stderr}");
        drop(taken);

        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let addr = format!("127.0.0.1:{port}");
        let server = candor_with_keys(dir.path(), &["serve", "--db", db, "--listen", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let started = Instant::now();
        while http(&addr, "GET", "/healthz", "", b"") != Some(200) && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(http(&addr, "GET", "/healthz", "", b""), Some(200), "{label}: the server came up");
        let interrupted = Command::new("kill").args(["-INT", &server.id().to_string()]).status().expect("kill");
        assert!(interrupted.success());
        let stopped = server.wait_with_output().expect("reap");
        let stderr = String::from_utf8_lossy(&stopped.stderr);
        assert!(stopped.status.success(), "{label}: {:?} {stderr}", stopped.status);
        assert!(!stderr.contains("panicked"), "{label}: {stderr}");
    }
}
