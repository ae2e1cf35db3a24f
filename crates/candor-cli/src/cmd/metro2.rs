//! `candor metro2 convert`: a Metro 2 file to the peer's JSON form and back.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    /// The JSON form of the open-source moov-io/metro2 tools.
    Json,
    /// Metro 2, in the form the JSON names (character or packed).
    Metro2,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Convert between Metro 2 and its JSON form.
    Convert {
        #[arg(long, value_enum)]
        to: To,
        file: PathBuf,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> Result<()> {
    let Command::Convert { to, file, out } = command;
    if let Some(out) = &out {
        crate::io::refuse_to_replace(("--out", out), &[("the file", &file)])?;
    }
    let bytes = std::fs::read(&file).with_context(|| format!("{}: cannot read", file.display()))?;
    let output = match to {
        To::Json => {
            let parsed = candor_metro2::read(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let mut text = serde_json::to_string_pretty(&candor_metro2::json::to_json(&parsed))?;
            text.push('\n');
            text.into_bytes()
        }
        To::Metro2 => {
            let json: serde_json::Value =
                serde_json::from_slice(&bytes).with_context(|| format!("{}: not JSON", file.display()))?;
            let parsed =
                candor_metro2::json::from_json(&json).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            candor_metro2::write(&parsed).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
    };
    match out {
        Some(path) => crate::io::write_atomically(&path, |w| Ok(w.write_all(&output)?)),
        None => Ok(std::io::stdout().lock().write_all(&output)?),
    }
}
