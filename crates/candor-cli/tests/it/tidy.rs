//! Repository hygiene enforced by `cargo test`: every Rust file says what it is in a `//!`
//! line, and no debugging leftovers or ignored tests land.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_has_a_header_and_no_leftovers() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&crates, &mut files);
    assert!(files.len() > 10, "found only {} files under {}", files.len(), crates.display());
    // Spelled in pieces so this file does not trip its own check.
    let banned =
        [["dbg", "!("].concat(), ["todo", "!("].concat(), ["#[", "ignore]"].concat(), ["unimplemented", "!("].concat()];
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        if !text.starts_with("//!") {
            problems.push(format!("{}: does not start with a //! line saying what it is", f.display()));
        }
        for b in &banned {
            if text.contains(b.as_str()) {
                problems.push(format!("{}: contains {b}", f.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
