//! `candor ingest`: submissions into the credit file, each applied whole or refused whole.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candor_file::model::{OrgId, OrgKind, Organisation};
use candor_ingest::{parse, Context as IngestContext, Format};
use candor_store::Store;

use crate::bureau::{keys, nonce, now_ms, parse_day, today};
use crate::io::progress;

#[derive(clap::Args)]
pub struct Args {
    /// The store: a SQLite file path (made if absent) or a postgres:// URL.
    #[arg(long, default_value = "candor.db")]
    db: String,
    /// For Metro 2 files: the sender attests every person with negative information in them was
    /// notified beforehand. Without it such information is quarantined.
    #[arg(long)]
    attest_notice: bool,
    /// For Metro 2 files: the sending furnisher's id (default: from the file).
    #[arg(long)]
    sender: Option<String>,
    /// The submissions' date (reports after its month are refused); default today.
    #[arg(long, value_parser = parse_day)]
    today: Option<time::Date>,
    /// Print only the summary, not a line per file.
    #[arg(long)]
    quiet: bool,
    /// Submission files: .jsonl, .csv, or Metro 2 (anything else). Applied in the order given.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let keys = keys(&args.db)?;
    let mut store = Store::open(&args.db).with_context(|| format!("{}: cannot open the store", args.db))?;
    let sender = match &args.sender {
        Some(id) => Some(Organisation {
            id: OrgId::parse(id).map_err(|e| anyhow::anyhow!("--sender: {e}"))?,
            kind: OrgKind::Lender,
            name: id.clone(),
        }),
        None => None,
    };
    let today = args.today.unwrap_or_else(today);
    let bar = progress(args.files.len() as u64, "files");
    let (mut refused, mut totals) = (0, [0usize; 4]);
    // The next files are read and parsed on a thread of their own while the store applies this
    // one (at most `AHEAD` parsed batches wait), in the order given.
    const AHEAD: usize = 2;
    let (send, parsed) = std::sync::mpsc::sync_channel(AHEAD);
    std::thread::scope(|scope| {
        let (keys, files, sender) = (&keys, &args.files, &sender);
        scope.spawn(move || {
            for path in files {
                let parsed =
                    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display())).and_then(|bytes| {
                        let format = Format::of_path(&path.to_string_lossy());
                        let mut nonce = nonce;
                        let mut ctx = IngestContext {
                            keys,
                            today,
                            nonce: &mut nonce,
                            sender: sender.clone(),
                            notice_attested: args.attest_notice,
                        };
                        parse(&bytes, format, &mut ctx).map_err(anyhow::Error::from)
                    });
                if send.send((path, parsed)).is_err() {
                    return;
                }
            }
        });
        for (path, batch) in parsed {
            let outcome = batch.and_then(|batch| store.apply(&batch, now_ms()).map_err(anyhow::Error::from));
            // One line per file on standard output once its batch is committed: the acknowledgement.
            match outcome {
                Ok(o) if args.quiet => {
                    totals[0] += o.reports;
                    totals[1] += o.accounts;
                    totals[2] += o.quarantined;
                    totals[3] += o.court_records + o.closures;
                }
                Ok(o) if o.duplicate => bar.suspend(|| {
                    println!("{}: already applied as batch {}, nothing changed", path.display(), o.batch_id)
                }),
                Ok(o) => {
                    totals[0] += o.reports;
                    totals[1] += o.accounts;
                    totals[2] += o.quarantined;
                    totals[3] += o.court_records + o.closures;
                    bar.suspend(|| {
                        println!(
                            "{}: batch {} applied: {} reports, {} accounts, {} held back for want of notice",
                            path.display(),
                            o.batch_id,
                            o.reports,
                            o.accounts,
                            o.quarantined
                        )
                    });
                }
                Err(e) => {
                    refused += 1;
                    bar.suspend(|| eprintln!("{}: {e:#}", path.display()));
                }
            }
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    println!(
        "{} files: {} reports, {} accounts, {} court records and closures applied; {} held back; {refused} refused",
        args.files.len(),
        totals[0],
        totals[1],
        totals[3],
        totals[2]
    );
    if refused > 0 {
        bail!("{refused} of {} files were refused; nothing of them was applied", args.files.len());
    }
    Ok(())
}
