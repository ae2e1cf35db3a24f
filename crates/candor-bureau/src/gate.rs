//! The read gate: the one way anything reads a person's file — reports, scores, decisions,
//! notification re-scores, regional statistics and the training data of `candor features`.
//!
//! A file read through the gate is the file as known at the moment asked for, after retention
//! on the reading day, without the records a dispute deleted, suppressed or blocked; the
//! records with a dispute still pending are named, so every report marks them.

use std::collections::HashMap;

use candor_file::disputes;
use candor_file::ids::SubjectKey;
use candor_file::model::{Dispute, SubjectFile};
use candor_store::{FileRead, Store};

use crate::{unit, BureauError, Now, Result, Rules};

/// A person's file as every report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedFile {
    pub file: SubjectFile,
    /// References of the records with a dispute not yet decided: marked disputed.
    pub disputed: Vec<String>,
    /// The person's statements: (record reference, text).
    pub statements: Vec<(String, String)>,
}

/// What the bureau knew at `known_ms`, as reports show it on `today`.
fn read_at(rules: &Rules, known_ms: i64, today: time::Date) -> FileRead {
    FileRead { known_ms, today, retention: rules.retention }
}

/// The subject's file as reports show it now (on `today`, which may be a past date for the
/// person's own view), or `NotFound` if the bureau has no file on them.
pub fn reported_file(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    today: time::Date,
) -> Result<ReportedFile> {
    reported_file_known(store, rules, now, key, now.ms, today)
}

/// The subject's file as the bureau knew it at the end of `day` (or now, for today or later),
/// with retention on that day: what a report on that day showed, as far as the records go (a
/// dispute's marks and removals are as they stand now).
pub fn file_as_known_on(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    day: time::Date,
) -> Result<ReportedFile> {
    let end_of_day = day.next_day().map_or(now.ms, |next| (next.midnight().assume_utc().unix_timestamp() * 1000) - 1);
    match reported_file_known(store, rules, now, key, end_of_day.min(now.ms), day) {
        // A person the bureau knew nothing of yet had an empty file then.
        Err(BureauError::NotFound { .. }) if store.subject_id(key)?.is_some() => {
            Ok(ReportedFile { file: Default::default(), disputed: Vec::new(), statements: Vec::new() })
        }
        other => other,
    }
}

fn reported_file_known(
    store: &mut Store,
    rules: &Rules,
    now: Now,
    key: &SubjectKey,
    known_ms: i64,
    today: time::Date,
) -> Result<ReportedFile> {
    unit(store, |store| {
        let reported = store
            .reported(key, &read_at(rules, known_ms, today))?
            .ok_or(BureauError::not_found("file for this subject"))?;
        Ok(as_reported(rules, now, reported))
    })
}

/// What a lender's read checks and shows, read at once (on PostgreSQL in one statement): the
/// person's consents and freeze now, and their file as reports show it now.
pub struct Standing {
    /// The latest state of each (organisation, purpose) consent.
    pub consents: Vec<candor_file::model::Consent>,
    pub frozen: bool,
    pub report: ReportedFile,
}

/// The person's [`Standing`] now, or `None` if the bureau has no file on them.
pub fn standing(store: &mut Store, rules: &Rules, now: Now, key: &SubjectKey) -> Result<Option<Standing>> {
    let found = store.standing(key, &read_at(rules, now.ms, now.today))?;
    Ok(found.map(|s| Standing { consents: s.consents, frozen: s.frozen, report: as_reported(rules, now, s.reported) }))
}

/// What reports show of a file the store read: without the records a dispute took off, with
/// those still disputed named.
fn as_reported(rules: &Rules, now: Now, reported: candor_store::Reported) -> ReportedFile {
    let candor_store::Reported { mut file, disputes: all, statements } = reported;
    disputes::withhold(&mut file, &all, now.ms, rules.dispute_days);
    let disputed = all
        .into_iter()
        .filter(|d| disputes::is_pending(disputes::effective_state(d, now.ms, rules.dispute_days)))
        .map(|d| d.record_ref)
        .collect();
    ReportedFile { file, disputed, statements }
}

/// Which subjects a walk of the file covers, as of when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// What the bureau knew: milliseconds since 1970.
    pub known_ms: i64,
    /// Retention applies on this day, and features describe the file as of it.
    pub as_of: time::Date,
    /// The share of the subjects: part `index` of `of` (see [`Part`]).
    pub part: Part,
}

/// Subjects per chunk dealt to the parts of a walk in parts: small enough that parts are near
/// equal on a small file too, a constant so that every part deals the same chunks.
const PART_CHUNK: i64 = 250;

/// Part `index` (from 0) of `of` equal shares of the subjects, for walks run in parallel (one per
/// Spark task): the file's chunks of subjects are dealt out in turn, so every subject is in
/// exactly one part and the parts are near equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub index: u32,
    pub of: u32,
}

impl Part {
    pub const WHOLE: Part = Part { index: 0, of: 1 };

    /// Parses `K/N` (0 <= K < N).
    pub fn parse(text: &str) -> std::result::Result<Part, String> {
        let bad = || format!("expected K/N with 0 <= K < N, such as 0/4, got `{text}`");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, of) = (k.trim().parse::<u32>().map_err(|_| bad())?, n.trim().parse::<u32>().map_err(|_| bad())?);
        if index >= of {
            return Err(bad());
        }
        Ok(Part { index, of })
    }

    fn takes(self, chunk: u64) -> bool {
        chunk % u64::from(self.of.max(1)) == u64::from(self.index)
    }
}

/// Calls `each` with every subject's file (of the walk's part) as reports show it — as known at
/// `walk.known_ms`, with retention on `walk.as_of`, without what disputes deleted, suppressed or
/// blocked as they stand `now` (a record found wrong later was wrong then too: it must not train
/// a model either) — a chunk of subjects at a time, letting the store go between chunks so a long
/// walk does not hold up requests. `progress` hears the highest subject id done. Returns how
/// many files it read.
pub fn for_each_reported_file<S: Stores>(
    stores: &mut S,
    rules: &Rules,
    now: Now,
    walk: Walk,
    each: &mut dyn FnMut(&SubjectKey, &SubjectFile) -> Result<()>,
    progress: &mut dyn FnMut(i64),
) -> Result<u64> {
    let mut disputed: HashMap<SubjectKey, Vec<Dispute>> = HashMap::new();
    let (all, max) = stores.with(|store| Ok((store.all_disputes()?, store.max_subject_id()?)))?;
    for (d, key) in all {
        disputed.entry(key).or_default().push(d);
    }
    let read = read_at(rules, walk.known_ms, walk.as_of);
    let size = if walk.part.of > 1 { PART_CHUNK } else { candor_store::SUBJECTS_PER_CHUNK };
    let mut count = 0;
    for (chunk, lo) in (1..=max).step_by(size as usize).enumerate() {
        let hi = lo.saturating_add(size - 1);
        if !walk.part.takes(chunk as u64) {
            continue;
        }
        let chunk = stores.with(|store| Ok(store.files_in_range(lo, hi, &read)?))?;
        for (key, mut file) in chunk {
            if let Some(list) = disputed.get(&key) {
                disputes::withhold(&mut file, list, now.ms, rules.dispute_days);
            }
            each(&key, &file)?;
            count += 1;
        }
        progress(hi.min(max));
    }
    Ok(count)
}

/// Where a long walk gets the store for each chunk: a store of its own (the command line), or a
/// shared pool it takes a connection from per chunk and gives back (the service), so other
/// requests run between chunks.
pub trait Stores {
    fn with<T>(&mut self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T>;
}

impl Stores for Store {
    fn with<T>(&mut self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        work(self)
    }
}
