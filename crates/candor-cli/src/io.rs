//! File helpers shared by the subcommands: atomic writes, model loading, progress bars.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candor_scorecard::{Model, Scorer};
use indicatif::{ProgressBar, ProgressStyle};

/// Writes a file so that it is either complete or absent: into a temporary file beside it,
/// flushed to disk, then renamed over the target. A target that is not a regular file (a device
/// such as /dev/null, a named pipe) is written in place: a rename would replace it.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let staging = staging_path(path)?;
    let target = staging.as_deref().unwrap_or(path);
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(target).with_context(|| format!("{}: cannot create", target.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{}: cannot write", target.display()))?;
        match &staging {
            Some(tmp) => {
                file.sync_all().with_context(|| format!("{}: cannot sync", tmp.display()))?;
                std::fs::rename(tmp, path).with_context(|| format!("{}: cannot replace", path.display()))
            }
            None => Ok(()),
        }
    })();
    if let (Err(_), Some(tmp)) = (&result, &staging) {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// Refuses an output that names one of the command's inputs (`--out` given the data, the model
/// or the store): writing it would replace what is being read. `output` and each input are
/// (option, path); an input that does not exist (a PostgreSQL URL, say) cannot be replaced.
pub fn refuse_to_replace(output: (&str, &Path), inputs: &[(&str, &Path)]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(out) = std::fs::metadata(output.1) else { return Ok(()) };
    if !out.is_file() {
        return Ok(());
    }
    for (option, path) in inputs {
        if std::fs::metadata(path).is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino()) {
            anyhow::bail!(
                "{} {}: the same file as {option} {}; writing it would replace what is read (choose another {})",
                output.0,
                output.1.display(),
                path.display(),
                output.0
            );
        }
    }
    Ok(())
}

/// The temporary file an output is written to before it is renamed over `path` (named with
/// this process's id), or `None` when `path` exists and is not a regular file — a
/// device such as /dev/null, a named pipe — and so is written in place, never replaced or
/// removed. A directory is refused.
pub fn staging_path(path: &Path) -> Result<Option<PathBuf>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => anyhow::bail!("{}: is a directory, not a file to write", path.display()),
        Ok(meta) if !meta.is_file() => Ok(None),
        _ => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Some(path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))))
        }
    }
}

pub fn load_model(path: &Path) -> Result<Scorer> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the model", path.display()))?;
    let model: Model =
        serde_json::from_str(&text).with_context(|| format!("{}: not a valid model file", path.display()))?;
    Scorer::new(model).with_context(|| format!("{}: not a usable model", path.display()))
}

/// A progress bar on standard error when it is a terminal, a silent one otherwise.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed_precise}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

pub fn spinner(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Phase timings printed to standard error when asked for (`--timings`).
pub struct Timings {
    on: bool,
    start: std::time::Instant,
}

impl Timings {
    pub fn new(on: bool) -> Timings {
        Timings { on, start: std::time::Instant::now() }
    }

    pub fn mark(&self, what: &str) {
        if self.on {
            eprintln!("timing: {:>8.3} s  {what}", self.start.elapsed().as_secs_f64());
        }
    }
}
