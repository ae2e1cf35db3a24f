//! The transparency log in the store: every applied batch and every purge appends a leaf in the
//! same transaction, and the leaf's body commits to the rows it wrote or removed. The audit
//! recomputes all of it from the tables and reports any row altered, added or removed since.
//!
//! A batch's rows digest is SHA-256 over, table by table, the sorted hashes of every row carrying
//! its `batch_id` — including rows a purge later deleted, whose hashes the purge kept in
//! `purged_rows` — so a purge does not change it and nothing else can without the audit seeing.

use std::collections::{BTreeMap, BTreeSet};

use candor_log::leaf::{self, Leaf};
use candor_log::{leaf_hash, Hash, Tree, LEAF_VERSION};
use sha2::{Digest, Sha256};

use crate::conn::{Any, Param, Row, Tx};
use crate::{fetch, transact, Store, StoreError};

/// The tables a batch writes, the columns hashed (all of them), in primary-key order.
pub(crate) const FACT_TABLES: [(&str, &str); 5] = [
    (
        "reports",
        "subject_id, account_id, month, recorded_ms, batch_id, balance_minor, limit_minor, paid_minor, dpd, status, delinquent_since",
    ),
    ("account_versions", "subject_id, account_id, recorded_ms, batch_id, furnisher, reference, kind, opened, currency"),
    ("inquiries", "subject_id, recorded_ms, batch_id, org_id, day, purpose"),
    (
        "court_records",
        "subject_id, court, case_number, recorded_ms, batch_id, amount_minor, currency, grounds, listed, closed, outcome",
    ),
    ("subject_details", "subject_id, recorded_ms, batch_id, name_sealed, birth_sealed"),
];

/// Feeds one column value, tagged with its type, to a row hash.
fn feed(h: &mut Sha256, value: Option<AnyRef<'_>>) {
    match value {
        None => h.update(b"N"),
        Some(AnyRef::Int(v)) => {
            h.update(b"I");
            h.update(v.to_be_bytes());
        }
        Some(AnyRef::Text(t)) => {
            h.update(b"T");
            h.update((t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
        Some(AnyRef::Bytes(b)) => {
            h.update(b"B");
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    }
}

enum AnyRef<'a> {
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

fn start(table: &str) -> Sha256 {
    let mut h = Sha256::new();
    h.update(table.as_bytes());
    h.update([0]);
    h
}

/// The hash of one stored row: table name, then each column tagged with its type.
pub(crate) fn row_hash(table: &str, row: &dyn Row, columns: usize) -> Result<Hash, StoreError> {
    let mut h = start(table);
    for i in 0..columns {
        let value = row.any(i)?;
        feed(
            &mut h,
            match &value {
                Any::Null => None,
                Any::Int(v) => Some(AnyRef::Int(*v)),
                Any::Text(t) => Some(AnyRef::Text(t)),
                Any::Bytes(b) => Some(AnyRef::Bytes(b)),
            },
        );
    }
    Ok(h.finalize().into())
}

/// The same hash from the values about to be inserted, in the table's column order.
pub(crate) fn params_hash(table: &str, params: &[Param<'_>]) -> Hash {
    let mut h = start(table);
    for p in params {
        feed(
            &mut h,
            match p {
                Param::Int(v) | Param::OptInt(Some(v)) => Some(AnyRef::Int(*v)),
                Param::Text(t) | Param::OptText(Some(t)) => Some(AnyRef::Text(t)),
                Param::Bytes(b) | Param::OptBytes(Some(b)) => Some(AnyRef::Bytes(b)),
                Param::OptInt(None) | Param::OptText(None) | Param::OptBytes(None) => None,
                Param::IntList(_) | Param::TextList(_) | Param::BytesList(_) => {
                    unreachable!("a list is a lookup's parameter, never a row's value")
                }
            },
        );
    }
    h.finalize().into()
}

/// Combines each table's row hashes (in any order) into a batch's rows digest.
pub(crate) fn combine(mut per_table: impl FnMut(&str) -> Vec<Hash>) -> Hash {
    let mut digest = Sha256::new();
    for (table, _) in FACT_TABLES {
        let mut hashes = per_table(table);
        hashes.sort_unstable();
        digest.update(table.as_bytes());
        digest.update((hashes.len() as u64).to_be_bytes());
        for h in &hashes {
            digest.update(h);
        }
    }
    digest.finalize().into()
}

fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}

/// The digest of every row a batch wrote, as the tables (and the purge's record) hold them now.
pub(crate) fn rows_digest<T: Tx>(tx: &mut T, batch_id: i64) -> Result<Hash, StoreError> {
    let mut per_table: std::collections::HashMap<&str, Vec<Hash>> = std::collections::HashMap::new();
    for (table, columns) in FACT_TABLES {
        let n = column_count(columns);
        let mut hashes: Vec<Hash> = Vec::new();
        tx.query(&format!("SELECT {columns} FROM {table} WHERE batch_id = $1"), &[Param::Int(batch_id)], &mut |r| {
            hashes.push(row_hash(table, r, n)?);
            Ok(())
        })?;
        tx.query(
            "SELECT row_hash FROM purged_rows WHERE batch_id = $1 AND table_name = $2",
            &[Param::Int(batch_id), Param::Text(table)],
            &mut |r| {
                let bytes = r.opt_bytes(0)?.unwrap_or_default();
                hashes.push(
                    bytes
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("a purged row hash of the wrong length".into()))?,
                );
                Ok(())
            },
        )?;
        per_table.insert(table, hashes);
    }
    Ok(combine(|table| per_table.remove(table).unwrap_or_default()))
}

/// Appends a leaf about no one in particular; returns its index.
pub(crate) fn append<T: Tx>(tx: &mut T, leaf: &Leaf) -> Result<i64, StoreError> {
    append_about(tx, leaf, None)
}

/// Appends a leaf about a subject (or none); returns its index.
pub(crate) fn append_about<T: Tx>(tx: &mut T, leaf: &Leaf, subject_id: Option<i64>) -> Result<i64, StoreError> {
    tx.lock_log()?;
    let index = next_index(tx)?;
    insert_leaf(tx, index, leaf, subject_id)?;
    Ok(index)
}

/// The index the next leaf takes; the caller holds the log's lock.
fn next_index<T: Tx>(tx: &mut T) -> Result<i64, StoreError> {
    Ok(tx.query_one("SELECT COALESCE(MAX(leaf_index), -1) + 1 FROM log_leaves", &[], |r| r.int(0))?.unwrap_or(0))
}

/// The subject key a leaf names, if it names one.
fn subject_key(leaf: &Leaf) -> Result<Option<[u8; 32]>, StoreError> {
    let Some(text) = leaf.subject() else { return Ok(None) };
    let mut key = [0u8; 32];
    hex::decode_to_slice(text, &mut key)
        .map_err(|_| StoreError::Corrupt("a leaf names a subject by something not a key".into()))?;
    Ok(Some(key))
}

/// The file's id for the subject a leaf is about, who must be in the file, except that a refused
/// read may name someone the bureau has no file on: it is logged as any refusal, about nobody.
fn subject_of<T: Tx>(tx: &mut T, leaf: &Leaf, key: Option<&[u8; 32]>) -> Result<Option<i64>, StoreError> {
    let Some(key) = key else { return Ok(None) };
    let found = crate::records::known_subject(tx, &candor_file::ids::SubjectKey(*key))?;
    on_file(leaf, found)
}

/// [`subject_of`] once the subject was looked up: `found`, or why the leaf cannot name them.
fn on_file(leaf: &Leaf, found: Option<i64>) -> Result<Option<i64>, StoreError> {
    match (found, leaf) {
        (Some(sid), _) => Ok(Some(sid)),
        (None, Leaf::RefusedRead(_)) => Ok(None),
        (None, _) => Err(StoreError::UnknownSubject),
    }
}

/// Writes leaf `index`; the caller holds the log's lock and knows the index is the next.
fn insert_leaf<T: Tx>(tx: &mut T, index: i64, leaf: &Leaf, subject_id: Option<i64>) -> Result<(), StoreError> {
    insert_leaves(tx, &[(index, leaf, subject_id)])
}

/// Each leaf's text and hash, as stored.
fn texts(leaves: &[(i64, &Leaf, Option<i64>)]) -> Vec<(String, Hash)> {
    leaves
        .iter()
        .map(|(_, leaf, _)| {
            let text = leaf.to_text();
            let hash = leaf_hash(text.as_bytes());
            (text, hash)
        })
        .collect()
}

/// The stored row of each (index, leaf, subject), in `log_leaves`' column order.
fn leaf_rows<'a>(leaves: &[(i64, &'a Leaf, Option<i64>)], texts: &'a [(String, Hash)]) -> Vec<[Param<'a>; 7]> {
    leaves
        .iter()
        .zip(texts)
        .map(|((index, leaf, subject_id), (text, hash))| {
            [
                Param::Int(*index),
                Param::Int(leaf.recorded_ms()),
                Param::Text(leaf.kind()),
                Param::Text(text),
                Param::Bytes(hash),
                Param::OptInt(*subject_id),
                Param::OptText(leaf.addressee()),
            ]
        })
        .collect()
}

/// Writes each (index, leaf, subject) in as few statements as a multi-row insert allows; the
/// caller holds the log's lock and knows the indexes are the next ones.
fn insert_leaves<T: Tx>(tx: &mut T, leaves: &[(i64, &Leaf, Option<i64>)]) -> Result<(), StoreError> {
    let texts = texts(leaves);
    crate::write::insert_rows(
        tx,
        "INSERT INTO log_leaves (leaf_index, recorded_ms, kind, body, leaf_hash, subject_id, org_id) VALUES ",
        "",
        &leaf_rows(leaves, &texts),
    )
}

/// Appends a group of leaves on PostgreSQL outside any unit: one statement, committed on its own
/// (schema step 17's `log_append` takes the log's lock, the next index and inserts), so it
/// answers once the leaves are durable. Each leaf goes at the first index returned plus its place.
fn append_group<T: Tx>(tx: &mut T, leaves: &[(i64, &Leaf, Option<i64>)]) -> Result<i64, StoreError> {
    let texts = texts(leaves);
    let rows = leaf_rows(leaves, &texts);
    let columns: Vec<Param<'_>> = (1..7)
        .map(|c| Param::list(rows.iter().map(|row| &row[c])).map(|(list, _)| list))
        .collect::<Option<_>>()
        .ok_or_else(|| StoreError::Corrupt("a leaf column mixes kinds of value".into()))?;
    tx.query_one(
        "SELECT log_append($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::text[])",
        &columns,
        |r| r.int(0),
    )?
    .ok_or_else(|| StoreError::Corrupt("the log's append returned nothing".into()))
}

/// The leaf of an applied batch.
pub(crate) fn ingestion_body(
    batch_id: i64,
    sender: &str,
    format: &str,
    digest: &[u8; 32],
    rows: &Hash,
    now_ms: i64,
) -> Leaf {
    Leaf::Ingestion(leaf::Ingestion {
        leaf_version: LEAF_VERSION,
        batch_id,
        sender: sender.to_owned(),
        format: format.to_owned(),
        submission: hex::encode(digest),
        rows: hex::encode(rows),
        recorded_ms: now_ms,
    })
}

/// Digest of the row hashes one purge removed.
pub(crate) fn purged_digest<T: Tx>(tx: &mut T, purge_id: i64) -> Result<Hash, StoreError> {
    let mut hashes: Vec<Vec<u8>> = Vec::new();
    tx.query("SELECT row_hash FROM purged_rows WHERE purge_id = $1", &[Param::Int(purge_id)], &mut |r| {
        hashes.push(r.opt_bytes(0)?.unwrap_or_default());
        Ok(())
    })?;
    hashes.sort_unstable();
    let mut digest = Sha256::new();
    for h in &hashes {
        digest.update(h);
    }
    Ok(digest.finalize().into())
}

/// A page of the leaves about a subject (schema step 16 keeps the index it needs).
pub(crate) const LEAVES_ABOUT_PAGE: &str =
    "SELECT leaf_index, body FROM log_leaves WHERE subject_id = $1 AND leaf_index > $2 ORDER BY leaf_index LIMIT $3";
/// A page of the leaves of one kind addressed to an organisation.
pub(crate) const LEAVES_ADDRESSED: &str = "SELECT leaf_index, body FROM log_leaves WHERE org_id = $1 AND kind = $2 \
     AND leaf_index > $3 ORDER BY leaf_index LIMIT $4";

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    pub leaves: u64,
    pub batches: u64,
    pub root: Hash,
    /// Every discrepancy, in words; empty when the store matches its log.
    pub problems: Vec<String>,
}

impl Store {
    /// Appends an event (a read, a refused read, a consent change, a dispute step, a model
    /// deployment) to the log, about the subject it names, if it names one (who must be in the
    /// file); returns the leaf index.
    pub fn log(&mut self, leaf: &Leaf) -> Result<i64, StoreError> {
        let key = subject_key(leaf)?;
        transact!(self, |tx| {
            let sid = subject_of(&mut tx, leaf, key.as_ref())?;
            append_about(&mut tx, leaf, sid)?
        })
    }

    /// Appends several leaves in one transaction (see [`crate::GroupLog`]): each leaf's index,
    /// or why that leaf alone was refused (a subject not in the file), in order. The error
    /// outside is the transaction's: then nothing was appended.
    pub fn log_all(&mut self, leaves: &[&Leaf]) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
        // Many leaves of a group are about one person (a lender asking again): each subject is
        // looked up once, before the log's lock is taken, and every leaf goes in by one insert.
        // A subject, once filed, is never removed and its id never changes, so an id found
        // outside a unit was committed: kept for the next groups (see `Store::subject_id`).
        let keys: Vec<Result<Option<[u8; 32]>, StoreError>> = leaves.iter().map(|&leaf| subject_key(leaf)).collect();
        let mut found: std::collections::HashMap<[u8; 32], Option<i64>> = std::collections::HashMap::new();
        let mut missing = Vec::new();
        for key in keys.iter().filter_map(|k| k.as_ref().ok().copied().flatten()) {
            if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(key) {
                match self.ids.get(&candor_file::ids::SubjectKey(key)) {
                    Some(&id) => {
                        slot.insert(Some(id));
                    }
                    None => {
                        // Looked up below, once however many leaves name the person.
                        slot.insert(None);
                        missing.push(key);
                    }
                }
            }
        }
        if !missing.is_empty() {
            fetch!(self, |tx| {
                for &key in &missing {
                    found.insert(key, crate::records::known_subject(&mut tx, &candor_file::ids::SubjectKey(key))?);
                }
            })?;
        }
        // Each leaf's place in the group, or that leaf's own trouble.
        let mut taken = Vec::with_capacity(leaves.len());
        let mut out = Vec::with_capacity(leaves.len());
        for (&leaf, key) in leaves.iter().zip(keys) {
            let sid = key.and_then(|key| on_file(leaf, key.and_then(|key| found.get(&key).copied().flatten())));
            out.push(sid.map(|sid| {
                taken.push((taken.len() as i64, leaf, sid));
                taken.len() as i64 - 1
            }));
        }
        if !taken.is_empty() {
            let first = match (&mut self.backend, self.in_unit) {
                (crate::Backend::Postgres(client, statements), false) => {
                    let mut auto = crate::conn::PgAuto::new(client, statements, false);
                    append_group(&mut auto, &taken)?
                }
                _ => transact!(self, |tx| {
                    tx.lock_log()?;
                    let first = next_index(&mut tx)?;
                    let placed: Vec<_> = taken.iter().map(|&(at, leaf, sid)| (first + at, leaf, sid)).collect();
                    insert_leaves(&mut tx, &placed)?;
                    first
                })?,
            };
            for place in out.iter_mut().flatten() {
                *place += first;
            }
        }
        if !self.in_unit {
            for (key, id) in found {
                if let Some(id) = id {
                    self.keep_id(candor_file::ids::SubjectKey(key), id);
                }
            }
        }
        Ok(out)
    }

    /// A page of the leaves about a subject: index and body, oldest first, after leaf `after`.
    pub fn leaves_about_page(
        &mut self,
        subject: &candor_file::ids::SubjectKey,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let Some(sid) = self.subject_id(subject)? else { return Ok(Vec::new()) };
        fetch!(self, |tx| {
            let mut out = Vec::new();
            tx.query(
                LEAVES_ABOUT_PAGE,
                &[Param::Int(sid), Param::Int(after), Param::Int(i64::from(limit))],
                &mut |r| {
                    out.push((r.int(0)?, r.text(1)?));
                    Ok(())
                },
            )?;
            out
        })
    }

    /// A page of the leaves of one kind addressed to an organisation, oldest first, after leaf
    /// `after`.
    pub fn leaves_addressed_to(
        &mut self,
        org: &candor_file::model::OrgId,
        kind: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        fetch!(self, |tx| {
            let mut out = Vec::new();
            tx.query(
                LEAVES_ADDRESSED,
                &[Param::Text(org.as_str()), Param::Text(kind), Param::Int(after), Param::Int(i64::from(limit))],
                &mut |r| {
                    out.push((r.int(0)?, r.text(1)?));
                    Ok(())
                },
            )?;
            out
        })
    }

    /// Every leaf about a subject: index and body, oldest first.
    pub fn leaves_about(&mut self, subject: &candor_file::ids::SubjectKey) -> Result<Vec<(i64, String)>, StoreError> {
        let Some(sid) = self.subject_id(subject)? else { return Ok(Vec::new()) };
        fetch!(self, |tx| {
            let mut out = Vec::new();
            tx.query(
                "SELECT leaf_index, body FROM log_leaves WHERE subject_id = $1 ORDER BY leaf_index",
                &[Param::Int(sid)],
                &mut |r| {
                    out.push((r.int(0)?, r.text(1)?));
                    Ok(())
                },
            )?;
            out
        })
    }

    /// The leaf hashes in order, as a tree.
    pub fn log_tree(&mut self) -> Result<Tree, StoreError> {
        let mut tree = Tree::new();
        self.extend_log_tree(&mut tree)?;
        Ok(tree)
    }

    /// Appends to `tree` the leaves logged since its size: a tree kept between calls reads only
    /// what is new. Leaves commit in index order, so what it reads is the log's next stretch.
    pub fn extend_log_tree(&mut self, tree: &mut Tree) -> Result<(), StoreError> {
        let from = tree.size() as i64;
        transact!(self, |tx| {
            tx.query(
                "SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index >= $1 ORDER BY leaf_index",
                &[Param::Int(from)],
                &mut |r| {
                    if r.int(0)? != tree.size() as i64 {
                        return Err(StoreError::Corrupt(format!("the log has no leaf {}", tree.size())));
                    }
                    let bytes = r.opt_bytes(1)?.unwrap_or_default();
                    tree.push(
                        bytes.try_into().map_err(|_| StoreError::Corrupt("a leaf hash of the wrong length".into()))?,
                    );
                    Ok(())
                },
            )?
        })?;
        Ok(())
    }

    /// The body of a leaf about this subject (none: no such leaf, or not about them).
    pub fn leaf_about(
        &mut self,
        index: i64,
        subject: &candor_file::ids::SubjectKey,
    ) -> Result<Option<String>, StoreError> {
        let Some(sid) = self.subject_id(subject)? else { return Ok(None) };
        fetch!(self, |tx| {
            tx.query_one(
                "SELECT body FROM log_leaves WHERE leaf_index = $1 AND subject_id = $2",
                &[Param::Int(index), Param::Int(sid)],
                |r| r.text(0),
            )?
        })
    }

    /// A leaf's body.
    pub fn log_leaf(&mut self, index: i64) -> Result<Option<String>, StoreError> {
        fetch!(self, |tx| tx.query_one(
            "SELECT body FROM log_leaves WHERE leaf_index = $1",
            &[Param::Int(index)],
            |r| r.text(0)
        )?)
    }

    /// Keeps a signed checkpoint (its note text) for the auditors.
    pub fn put_checkpoint(&mut self, size: u64, timestamp_ms: i64, text: &str) -> Result<(), StoreError> {
        transact!(self, |tx| tx.execute(
            "INSERT INTO checkpoints (size, timestamp_ms, text) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
            &[Param::Int(size as i64), Param::Int(timestamp_ms), Param::Text(text)],
        )?)?;
        Ok(())
    }

    /// Every stored checkpoint's note text, oldest first.
    pub fn checkpoints(&mut self) -> Result<Vec<String>, StoreError> {
        transact!(self, |tx| {
            let mut out = Vec::new();
            tx.query("SELECT text FROM checkpoints ORDER BY size", &[], &mut |r| {
                out.push(r.text(0)?);
                Ok(())
            })?;
            out
        })
    }

    /// Recomputes the log from the tables: each leaf's hash from its body, each batch's rows
    /// digest from its rows, each purge's from the hashes it kept, and that every batch has its
    /// leaf and no leaf is missing.
    pub fn audit(&mut self) -> Result<Audit, StoreError> {
        transact!(self, |tx| {
            let mut audit = Audit::default();
            let mut leaves: Vec<(i64, String, Vec<u8>, Option<i64>)> = Vec::new();
            tx.query(
                "SELECT leaf_index, body, leaf_hash, subject_id FROM log_leaves ORDER BY leaf_index",
                &[],
                &mut |r| {
                    leaves.push((r.int(0)?, r.text(1)?, r.opt_bytes(2)?.unwrap_or_default(), r.opt_int(3)?));
                    Ok(())
                },
            )?;
            let mut audited: Vec<crate::audit::AuditedLeaf> = Vec::new();
            let mut tree = Tree::new();
            let mut logged_batches: BTreeMap<i64, String> = BTreeMap::new();
            for (expected, (index, body, stored, subject)) in leaves.iter().enumerate() {
                if *index != expected as i64 {
                    audit.problems.push(format!("leaf {expected} is missing (the next is {index})"));
                }
                let hash = leaf_hash(body.as_bytes());
                if stored.as_slice() != hash {
                    audit.problems.push(format!("leaf {index}: its stored hash does not match its body"));
                }
                tree.push(hash);
                let parsed = match Leaf::parse(body) {
                    Ok(leaf) => leaf,
                    Err(e) => {
                        audit.problems.push(format!("leaf {index}: {e}"));
                        continue;
                    }
                };
                match parsed {
                    Leaf::Ingestion(ref batch) => {
                        logged_batches.insert(batch.batch_id, batch.rows.clone());
                    }
                    Leaf::Purge(ref purged) => {
                        let purge = purged.purge_id;
                        if hex::encode(purged_digest(&mut tx, purge)?) != purged.purged {
                            audit
                                .problems
                                .push(format!("purge {purge}: the record of the rows it removed was altered"));
                        }
                    }
                    _ => audited.push((*index, *subject, parsed)),
                }
            }
            audit.problems.extend(crate::audit::records_against_leaves(&mut tx, &audited)?);
            let mut batches: BTreeSet<i64> = BTreeSet::new();
            tx.query("SELECT batch_id FROM batches", &[], &mut |r| {
                batches.insert(r.int(0)?);
                Ok(())
            })?;
            for batch in &batches {
                match logged_batches.get(batch) {
                    None => audit.problems.push(format!("batch {batch} has no leaf in the log")),
                    Some(rows) => {
                        if hex::encode(rows_digest(&mut tx, *batch)?) != *rows {
                            audit.problems.push(format!(
                                "batch {batch}: its rows were altered, added or removed since it was applied"
                            ));
                        }
                    }
                }
            }
            for batch in logged_batches.keys().filter(|b| !batches.contains(b)) {
                audit.problems.push(format!("batch {batch} is in the log but not in the store"));
            }
            audit.leaves = leaves.len() as u64;
            audit.batches = batches.len() as u64;
            audit.root = tree.root();
            audit
        })
    }
}
