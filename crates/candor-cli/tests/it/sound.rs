//! The demo's kind of population, end to end, held to what a risk analyst signs: simulate →
//! ingest → features → fit with the demo's minimum scoring criteria, then
//! - the fit's AUC looks like a real bureau score's, and no characteristic is reversed;
//! - with no new data, scores are equal from the month's end to a later day;
//! - a person without enough history gets no score, never a high one;
//! - the service's path (the read gate and the deployed model, as `/v1/scores` and
//!   `/v1/me/score` call them) gives every person the score and reasons of `candor features` +
//!   `candor score` for the same day, and tells everyone scored with an open court judgment so.

use std::collections::HashMap;
use std::path::Path;

use candor_bureau::{gate, score::Deployed, Now, Rules};
use candor_file::features::{index, CATALOGUE};
use candor_file::ids::SubjectKey;
use candor_file::model::YearMonth;
use candor_scorecard::{Model, NOT_SCORED};

use crate::{candor, ok};

const MINIMUM: &str = "months_since_last_report<=5,months_of_history>=6";

/// `candor score`'s rows by subject: (score, reasons, the told ones after the four included).
fn scores(dir: &Path, features: &str, out: &str) -> HashMap<String, (Option<i64>, Vec<String>)> {
    ok(dir, &["score", "--model", "model.json", "--data", features, "--out", out]);
    let mut r = csv::Reader::from_path(dir.join(out)).unwrap_or_else(|e| panic!("{e}"));
    r.records()
        .flatten()
        .map(|rec| {
            let reasons = (3..rec.len()).map(|i| rec[i].to_owned()).filter(|c| !c.is_empty()).collect();
            (rec[0].to_owned(), (rec[1].parse().ok(), reasons))
        })
        .collect()
}

/// A features file's rows by subject.
fn features(dir: &Path, name: &str) -> HashMap<String, Vec<f64>> {
    let table = candor_table::Table::read(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    let id = table.index_of("subject").unwrap_or_else(|e| panic!("{e}"));
    let columns: Vec<Vec<f64>> = CATALOGUE
        .iter()
        .map(|f| table.numbers(table.index_of(f.name).unwrap_or_else(|e| panic!("{e}"))).unwrap_or_default())
        .collect();
    (0..table.rows())
        .map(|r| (table.text(id, r).unwrap_or_default().into_owned(), columns.iter().map(|c| c[r]).collect()))
        .collect()
}

#[test]
fn demo_population_scores_are_stable_sound_and_the_services() {
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let now = Now::at_ms((time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64);
    let last_month = YearMonth::of(now.today).plus(-1);
    let month_end = last_month.last_day().to_string();
    let end = last_month.to_string();
    ok(d, &["simulate", "--subjects", "3000", "--months", "24", "--seed", "5", "--end", &end, "--out", "pop"]);
    let mut batches: Vec<String> = std::fs::read_dir(d.join("pop/batches"))
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|e| format!("pop/batches/{}", e.map(|e| e.file_name().to_string_lossy().into_owned()).unwrap_or_default()))
        .collect();
    batches.sort();
    let mut ingest = vec!["ingest", "--quiet", "--db", "c.db"];
    ingest.extend(batches.iter().map(String::as_str));
    ok(d, &ingest);
    let development = ["--as-of", &month_end, "--outcomes", "pop/outcomes.csv", "--out", "dev.parquet"];
    ok(d, &[&["features", "--db", "c.db"][..], &development].concat());
    let actionable = "revolving_utilisation,total_balance,inquiries_6m,worst_dpd_12m,on_time_share_24m";
    let fit = candor(
        d,
        &[
            "fit",
            "--data",
            "dev.parquet",
            "--target",
            "bad",
            "--id",
            "subject",
            "--minimum",
            MINIMUM,
            "--actionable",
            actionable,
            "--severe",
            "open_court_records,open_court_amount",
            "--out",
            "model.json",
            "--report",
            "report.html",
        ],
    );
    let said = format!("{}{}", String::from_utf8_lossy(&fit.stdout), String::from_utf8_lossy(&fit.stderr));
    assert!(fit.status.success(), "{said}");
    let auc: f64 =
        said.split("AUC ").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok()).expect("AUC");
    assert!((0.70..=0.87).contains(&auc), "a bureau score's AUC, not a simulator's artefact: {said}");
    let held: f64 = said
        .split("held-out: AUC ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("a held-out AUC by default");
    assert!((0.68..=0.87).contains(&held) && (held - auc).abs() < 0.05, "held out {held}, in-sample {auc}: {said}");
    let document = std::fs::read_to_string(d.join("model.json")).unwrap_or_default();
    let model: Model = serde_json::from_str(&document).unwrap_or_else(|e| panic!("{e}"));
    for c in &model.characteristics {
        let mut bins: Vec<_> = c.bins.iter().filter(|b| b.count > 0).collect();
        bins.sort_by(|a, b| a.woe.total_cmp(&b.woe));
        assert!(bins.windows(2).all(|w| w[0].points <= w[1].points), "`{}` is reversed", c.name);
    }

    // The same store, no new data: the month's end and today.
    let today = now.today.to_string();
    ok(d, &["features", "--db", "c.db", "--as-of", &month_end, "--out", "end.parquet"]);
    ok(d, &["features", "--db", "c.db", "--as-of", &today, "--out", "today.parquet"]);
    let (at_end, at_today) = (scores(d, "end.parquet", "end.csv"), scores(d, "today.parquet", "today.csv"));
    assert_eq!(at_end.len(), at_today.len());
    let equal = at_end.iter().filter(|(k, v)| at_today.get(*k) == Some(v)).count();
    assert!(equal as f64 >= 0.999 * at_end.len() as f64, "{equal} of {} scores equal", at_end.len());

    // Too little history: no score, and the reason says why.
    let values = features(d, "today.parquet");
    let (history, last_report) =
        (index("months_of_history").expect("f"), index("months_since_last_report").expect("f"));
    let mut unscored = 0;
    for (subject, v) in &values {
        // Missing (NaN) fails a criterion, as in the engine.
        let enough = v[history] >= 6.0 && v[last_report] <= 5.0;
        let thin = !enough;
        let (score, reasons) = &at_today[subject];
        if thin {
            unscored += 1;
            assert_eq!((score, reasons.as_slice()), (&None, &[NOT_SCORED.to_owned()][..]), "{subject}: {v:?}");
        } else {
            assert!(score.is_some(), "{subject} has enough history: {v:?}");
        }
    }
    assert!(unscored > 0, "the population has people with too little history");

    // The service's path: the read gate and the deployed model, for every person, today, as
    // the bureau knows the file now (after the ingestion).
    let now = Now::at_ms((time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64);
    assert_eq!(now.today.to_string(), today, "the test ran past midnight");
    let deployed = Deployed::parse(&document).unwrap_or_else(|e| panic!("{e}"));
    let mut store = candor_store::Store::open(&d.join("c.db").display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    let courts = index("open_court_records").expect("f");
    let (mut with_court, mut told) = (0, 0);
    for (subject, (score, reasons)) in &at_today {
        let mut key = [0u8; 32];
        hex::decode_to_slice(subject, &mut key).unwrap_or_else(|e| panic!("{e}"));
        let report = match gate::reported_file(&mut store, &Rules::default(), now, &SubjectKey(key), now.today) {
            Ok(report) => report,
            // Nothing of theirs may be read (every report held back): the service has no file
            // to score, and the batch path none to score either.
            Err(candor_bureau::BureauError::NotFound { .. }) => {
                assert_eq!(score, &None, "{subject}");
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let scoring = deployed.score_file(&report.file, now.today).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scoring.score.map(i64::from), *score, "{subject}: the service and candor score differ");
        let codes: Vec<String> = scoring.reasons.iter().map(|r| r.code.clone()).collect();
        assert_eq!(codes.as_slice(), reasons.as_slice(), "{subject}: reasons differ");
        if scoring.score.is_some() && values[subject][courts] >= 1.0 {
            with_court += 1;
            told += usize::from(scoring.reasons.iter().any(|r| r.characteristic.starts_with("open_court")));
        }
    }
    assert!(with_court > 0, "the population has scored people with an open court judgment");
    assert_eq!(told, with_court, "everyone scored with an open court judgment is told so in a reason");
    eprintln!(
        "AUC {auc}; {equal} of {} scores equal between {month_end} and {today}; {unscored} without enough history; {with_court} with open judgments, all told",
        at_end.len()
    );
}
