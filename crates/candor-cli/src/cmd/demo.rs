//! `candor demo`: a whole bureau on one machine in under a minute. It simulates a population into
//! a fresh SQLite file, computes features, fits a scorecard, deploys it, registers one
//! organisation per role, invites two people and enrols one of them, and serves — printing a credential and a first
//! request for every role.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candor_file::ids::{NationalId, Scheme};
use candor_file::model::{OrgId, OrgKind, Organisation, YearMonth};
use candor_store::{Store, SubjectEntry};

use crate::bureau::{keys, now_ms, today};
use crate::run_line;

#[derive(clap::Args)]
pub struct Args {
    /// Where the demo keeps its files: a new or empty directory, or one an earlier demo made
    /// (emptied first); any other is refused.
    #[arg(long, default_value = "candor-demo")]
    dir: PathBuf,
    #[arg(long, default_value_t = 20_000)]
    subjects: u64,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Build everything, print the credentials, but do not serve.
    #[arg(long)]
    no_serve: bool,
}

/// The demo's organisations: id, kind, name.
const ORGS: [(&str, OrgKind, &str); 6] = [
    ("demo-bank", OrgKind::Lender, "Demo Bank"),
    ("demo-shop", OrgKind::Merchant, "Demo Shop"),
    ("demo-court", OrgKind::Court, "Demo District Court"),
    ("demo-ombudsman", OrgKind::Ombudsman, "Credit Ombudsman"),
    ("demo-auditor", OrgKind::Auditor, "Independent Auditor"),
    ("demo-operator", OrgKind::Operator, "Bureau Operations"),
];
const PASSPHRASE: &str = "demo passphrase one";

/// The file that marks a directory as one a demo made, so a later demo may empty it.
const MARK: &str = ".candor-demo";

/// Empties a directory an earlier demo made, or makes a new one; refuses any other directory
/// with something in it, which a demo must never delete.
fn prepare_dir(dir: &std::path::Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).with_context(|| format!("{}: cannot read", dir.display()))?.next().is_none();
        if !empty && !dir.join(MARK).exists() {
            anyhow::bail!(
                "{}: the directory holds files a demo did not make; name a new or empty directory with --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("{}: cannot empty", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    std::fs::write(dir.join(MARK), "made by candor demo; a later demo empties this directory\n")
        .with_context(|| format!("{}: cannot write", dir.display()))?;
    Ok(())
}

/// The demo model's minimum scoring criteria: an account of any kind, alternative data
/// included, reported in the last 6 months, and one open for at least 6.
pub const MINIMUM: &str = "months_since_last_report<=5,months_of_history>=6";

pub fn run(args: Args) -> Result<()> {
    let started = std::time::Instant::now();
    prepare_dir(&args.dir)?;
    let path = |name: &str| args.dir.join(name).display().to_string();
    let (db, pop) = (path("candor.db"), path("pop"));
    let last_month = YearMonth::of(today()).plus(-1).to_string();
    let as_of =
        YearMonth::of(today()).first_day().previous_day().map_or_else(|| today().to_string(), |d| d.to_string());
    let subjects = args.subjects.to_string();

    eprintln!("1/4 simulating {subjects} people ...");
    run_line(&[
        "simulate",
        "--subjects",
        &subjects,
        "--months",
        "24",
        "--seed",
        "1",
        "--end",
        &last_month,
        "--out",
        &pop,
    ])?;
    eprintln!("2/4 ingesting their files ...");
    let mut files: Vec<String> = std::fs::read_dir(args.dir.join("pop/batches"))?
        .map(|e| e.map(|e| e.path().display().to_string()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    let mut ingest = vec!["ingest", "--quiet", "--db", &db];
    ingest.extend(files.iter().map(String::as_str));
    run_line(&ingest)?;
    eprintln!("3/4 computing features and fitting the scorecard ...");
    let features = path("features.parquet");
    let outcomes = path("pop/outcomes.csv");
    run_line(&["features", "--db", &db, "--as-of", &as_of, "--outcomes", &outcomes, "--out", &features])?;
    let (model, report) = (path("model.json"), path("report.html"));
    run_line(&["fit", "--data", &features, "--target", "bad", "--id", "subject", "--actionable",
        "revolving_utilisation,total_balance,inquiries_6m,worst_dpd_12m,on_time_share_24m,open_court_records,open_court_amount",
        "--minimum", MINIMUM, "--severe", "open_court_records,open_court_amount",
        "--out", &model, "--report", &report])?;

    // The model must be one the service can deploy: its characteristics the file's features.
    let document = std::fs::read_to_string(&model).with_context(|| format!("{model}: cannot read"))?;
    candor_bureau::score::Deployed::parse(&document).map_err(|e| anyhow::anyhow!("{model}: {e}"))?;

    eprintln!("4/4 registering organisations and a person ...");
    let keys = keys(&db)?;
    let mut store = Store::open(&db)?;
    let mut credentials = Vec::new();
    for (id, kind, name) in ORGS {
        let org = Organisation { id: OrgId::parse(id).map_err(|e| anyhow::anyhow!("{e}"))?, kind, name: name.into() };
        let api_key = crate::bureau::issue_api_key(&mut store, &keys, &org)?;
        credentials.push((kind, id, api_key));
    }
    // The first simulated person is invited and enrols with a known passphrase, the way the
    // service enrols anyone: with the activation code the bureau issued them. The second is
    // invited only, for whoever tries the demo to enrol.
    let outcomes_text = std::fs::read_to_string(&outcomes)?;
    let person = |n: usize| -> Result<(String, SubjectEntry)> {
        let number =
            outcomes_text.lines().nth(n).and_then(|l| l.split(',').nth(1)).context("no simulated person")?.to_owned();
        let id = NationalId::parse(Scheme::CnRid, &number).map_err(|e| anyhow::anyhow!("{e}"))?;
        let entry = SubjectEntry::of(keys.subject_key(&id), &id);
        Ok((number, entry))
    };
    let (number, entry) = person(1)?;
    let (code, _) = crate::bureau::invite(&mut store, &keys, candor_bureau::DEFAULT_ACTIVATION_DAYS, &entry)?;
    let hash = candor_server::hash_passphrase(PASSPHRASE).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let rules = candor_bureau::Rules::default();
    let now = candor_bureau::Now::at_ms(now_ms());
    candor_bureau::subject::enrol(&mut store, &keys, &rules, now, &entry, &code, &hash)?;
    let ombudsman = OrgId::parse("demo-ombudsman").map_err(|e| anyhow::anyhow!("{e}"))?;
    let (staff_code, _) = crate::bureau::add_staff(&mut store, &keys, 7, &ombudsman, "ombudsman-1", "Li Ming")?;
    let (invited, invited_entry) = person(2)?;
    let (invited_code, _) =
        crate::bureau::invite(&mut store, &keys, candor_bureau::DEFAULT_ACTIVATION_DAYS, &invited_entry)?;
    drop(store);

    let base = format!("http://{}", args.listen);
    let key_of = |kind: OrgKind| credentials.iter().find(|c| c.0 == kind).map(|c| c.2.clone()).unwrap_or_default();
    println!(
        "\nCandor demo ready in {:.0} s: {subjects} people, model and report in {}\n",
        started.elapsed().as_secs_f64(),
        args.dir.display()
    );
    println!("The person's portal (English and Chinese): {base}/");
    println!(
        "  sign in at {base}/sign-in as the person below; the invited person enrols at {base}/enrol with their code"
    );
    println!("The ombudsman's console: {base}/console");
    println!("  a member of staff, ombudsman-1, sets up at {base}/console/setup with the setup code {staff_code}, a passphrase and an authenticator app (a second factor is always required)");
    println!("A person (subject): cn_rid {number}, passphrase \"{PASSPHRASE}\"");
    println!("  curl -s -X POST {base}/v1/sessions -H 'content-type: application/json' -d '{{\"scheme\":\"cn_rid\",\"number\":\"{number}\",\"passphrase\":\"{PASSPHRASE}\"}}'");
    println!(
        "  then: curl -s {base}/v1/me/score -H 'authorization: Bearer <token>'   (also /v1/me/file, /v1/me/reads)"
    );
    // A consent lasts at most two years: the example asks for one.
    let until = candor_bureau::Now::at_ms(now_ms() + 365 * candor_bureau::DAY_MS).today;
    println!("  grant the shop a consent: curl -s -X POST {base}/v1/me/consents -H 'authorization: Bearer <token>' -H 'content-type: application/json' -d '{{\"org\":\"demo-shop\",\"purpose\":\"deposit_waiver\",\"until\":\"{until}\"}}'");
    println!("A person invited to enrol: cn_rid {invited}, activation code {invited_code} (as if on a letter the bureau sent)");
    println!("  curl -s -X POST {base}/v1/subjects -H 'content-type: application/json' -d '{{\"scheme\":\"cn_rid\",\"number\":\"{invited}\",\"activation_code\":\"{invited_code}\",\"passphrase\":\"<at least 10 characters>\"}}'");
    println!("  (the operator invites others: candor subject invite --db {db} --scheme cn_rid --number <number>)");
    println!(
        "  without a code, a person with accounts answers questions from their own file, then enrols with \"answers\":"
    );
    println!("  curl -s -X POST {base}/v1/subjects/questions -H 'content-type: application/json' -d '{{\"scheme\":\"cn_rid\",\"number\":\"<number>\"}}'");
    println!("Merchant (demo-shop): {}", key_of(OrgKind::Merchant));
    println!("  curl -s -X POST {base}/v1/scores -H 'authorization: Bearer {}' -H 'content-type: application/json' -d '{{\"scheme\":\"cn_rid\",\"number\":\"{number}\",\"purpose\":\"deposit_waiver\"}}'", key_of(OrgKind::Merchant));
    println!("Lender and furnisher (demo-bank): {}", key_of(OrgKind::Lender));
    println!("  curl -s -X POST '{base}/v1/batches?format=jsonl' -H 'authorization: Bearer {}' --data-binary @docs/examples/lender-batch.jsonl   (its sender must be demo-bank)", key_of(OrgKind::Lender));
    println!("Court (demo-court): {}", key_of(OrgKind::Court));
    println!(
        "  curl -s {base}/v1/verifications -H 'authorization: Bearer {}'   (disputes of its records to verify)",
        key_of(OrgKind::Court)
    );
    println!("Ombudsman (demo-ombudsman): {}", key_of(OrgKind::Ombudsman));
    println!(
        "  curl -s {base}/v1/disputes -H 'authorization: Bearer {}'   (the queue, with due dates)",
        key_of(OrgKind::Ombudsman)
    );
    println!("Auditor (demo-auditor): {}", key_of(OrgKind::Auditor));
    println!("  curl -s {base}/v1/log/leaves/0/proof -H 'authorization: Bearer {}'", key_of(OrgKind::Auditor));
    println!("Operator (demo-operator): {}", key_of(OrgKind::Operator));
    println!("  curl -s -X POST {base}/v1/operator/suspend -H 'authorization: Bearer {}'", key_of(OrgKind::Operator));
    println!("The API: {base}/openapi.json\n");
    if args.no_serve {
        return Ok(());
    }
    run_line(&["serve", "--db", &db, "--model", &model, "--listen", &args.listen])
}
