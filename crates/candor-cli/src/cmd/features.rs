//! `candor features`: every subject's features as of a date, to Parquet, streaming. The files go
//! through the bureau's read gate, as every report does: what a dispute deleted, suppressed or
//! blocked trains no model.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use candor_bureau::{Now, Rules};
use candor_file::features::{compute, CATALOGUE};
use candor_file::ids::{NationalId, Scheme, SubjectKey};
use candor_file::retention::Retention;
use candor_store::Store;
use candor_table::ParquetWriter;

use crate::bureau::{keys, now_ms, parse_day};
use crate::io::progress;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "candor.db")]
    db: String,
    /// The date the features describe: months up to it count, and retention applies on it.
    #[arg(long, value_parser = parse_day)]
    as_of: time::Date,
    /// What the bureau knew: milliseconds since 1970 (default: now, everything on file).
    #[arg(long)]
    known_ms: Option<i64>,
    /// Years negative information stays on file after its delinquency ended.
    #[arg(long, default_value_t = 5)]
    negative_years: u8,
    /// Days a dispute has before an unanswered record is suppressed, as the service is run with.
    #[arg(long, default_value_t = candor_file::disputes::DEFAULT_DEADLINE_DAYS)]
    dispute_days: i64,
    /// A CSV of outcomes (`scheme,number,bad`), joined in as a `bad` column for `candor fit`;
    /// subjects without an outcome (outside the development sample) are left out.
    #[arg(long)]
    outcomes: Option<PathBuf>,
    /// Only part K of N equal shares of the subjects (`K/N`, from 0/N): parts run in parallel,
    /// on a Spark cluster's executors for instance, together give every subject exactly once.
    #[arg(long, value_parser = candor_bureau::gate::Part::parse, default_value = "0/1")]
    partition: candor_bureau::gate::Part,
    #[arg(long)]
    out: PathBuf,
}

fn read_outcomes(path: &PathBuf, keys: &candor_file::secret::Keys) -> Result<HashMap<SubjectKey, i64>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut out = HashMap::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{}: line {line}", path.display()))?;
        let field = |n: usize| row.get(n).unwrap_or("");
        let scheme = Scheme::parse(field(0))
            .map_err(|e| anyhow::anyhow!("{}: line {line}, column scheme: {e}", path.display()))?;
        let id = NationalId::parse(scheme, field(1))
            .map_err(|e| anyhow::anyhow!("{}: line {line}, column number: {e}", path.display()))?;
        let bad: i64 = match field(2) {
            "0" => 0,
            "1" => 1,
            other => anyhow::bail!("{}: line {line}, column bad: expected 0 or 1, found {other:?}", path.display()),
        };
        out.insert(keys.subject_key(&id), bad);
    }
    Ok(out)
}

pub fn run(args: Args) -> Result<()> {
    let mut inputs = vec![("--db", std::path::Path::new(&args.db))];
    inputs.extend(args.outcomes.as_deref().map(|o| ("--outcomes", o)));
    crate::io::refuse_to_replace(("--out", &args.out), &inputs)?;
    let keys = keys(&args.db)?;
    let outcomes = args.outcomes.as_ref().map(|p| read_outcomes(p, &keys)).transpose()?;
    let mut store = Store::open(&args.db).with_context(|| format!("{}: cannot open the store", args.db))?;
    let names: Vec<&str> = CATALOGUE.iter().map(|f| f.name).collect();
    let staging = crate::io::staging_path(&args.out)?;
    let target = staging.as_deref().unwrap_or(&args.out);
    let mut writer = ParquetWriter::create(target, "subject", &names, outcomes.as_ref().map(|_| "bad"))?;
    let rules = Rules {
        dispute_days: args.dispute_days,
        retention: Retention { negative_years: args.negative_years },
        ..Rules::default()
    };
    let now = Now::at_ms(now_ms());
    let bar = progress(store.max_subject_id()?.max(0) as u64, "subjects");
    let mut failure = None;
    let mut unlabelled = 0u64;
    let count = candor_bureau::gate::for_each_reported_file(
        &mut store,
        &rules,
        now,
        candor_bureau::gate::Walk {
            known_ms: args.known_ms.unwrap_or(now.ms),
            as_of: args.as_of,
            part: args.partition,
        },
        &mut |key, file| {
            let label = outcomes.as_ref().and_then(|o| o.get(key).copied());
            // With outcomes, the file is the development sample: the people with an outcome.
            if outcomes.is_some() && label.is_none() {
                unlabelled += 1;
                return Ok(());
            }
            let values = compute(file, args.as_of);
            writer.push(key.to_hex(), &values, label).map_err(|e| {
                failure = Some(e.to_string());
                candor_store::StoreError::Corrupt("the features file could not be written".into()).into()
            })
        },
        &mut |done| bar.set_position(done.max(0) as u64),
    );
    bar.finish_and_clear();
    let rows = failure
        .map_or(Ok(()), |message| Err(anyhow::anyhow!(message)))
        .and_then(|()| count.with_context(|| format!("{}: cannot read the store", args.db)))
        .and_then(|_| Ok(writer.finish()?));
    if let Some(tmp) = &staging {
        match rows {
            Ok(_) => {
                std::fs::rename(tmp, &args.out).with_context(|| format!("{}: cannot replace", args.out.display()))?
            }
            Err(_) => {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
    let rows = rows?;
    if unlabelled > 0 {
        eprintln!("note: {unlabelled} subjects on file have no outcome in the outcomes file and are left out");
    }
    println!("{rows} subjects, {} features as of {} to {}", names.len(), args.as_of, args.out.display());
    Ok(())
}
