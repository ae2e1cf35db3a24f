//! The credit file's store: one interface, two databases. SQLite is the embedded default (WAL,
//! `synchronous=FULL`, so a committed batch survives a crash); PostgreSQL is chosen by a
//! `postgres://` URL.
//!
//! A [`Batch`] — everything one submission carries, already parsed and checked by the ingestion
//! code — is applied in one transaction: all of it or none of it, and a batch with the same digest
//! as one already applied changes nothing. Reads rebuild a subject's [`SubjectFile`] as the bureau
//! knew it at a time and then apply retention as of the reading day. The purge job deletes what
//! retention hides and records that it did.

mod audit;
mod conn;
mod group;
mod log;
mod pg_hash;
mod read;
mod records;
mod schema;
mod write;

use candor_file::model::{OrgId, Organisation};

use conn::{Param, Tx};
pub use group::{Done, GroupLog, MAX_GROUP};
pub use log::Audit;
pub use pg_hash::pg_partition;
pub use read::{FileRead, PurgeOutcome, Reported, Standing, SUBJECTS_PER_CHUNK};
pub use records::{
    EnrolmentRow, Proofing, Received, SecondFactor, SignInHashes, StaffRow, StoredClaim, StoredEvidence,
};
pub use schema::{citus_migration, Placement, PG_PARTITIONS, PLACEMENT};
pub use write::BatchOutcome;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
    #[error("no such subject in the file")]
    UnknownSubject,
    /// The log writer's queue is full: too many appends wait already.
    #[error("the log writer is busy; try again")]
    Busy,
    #[error("no such dispute")]
    UnknownDispute,
    #[error("the database's schema version {found} is newer than this program's ({supported})")]
    TooNew { found: i64, supported: i64 },
    /// The batch names its sender with another kind or name than the bureau registered.
    #[error("the batch was refused, nothing was applied: {message}")]
    SenderMismatch { field: &'static str, message: String },
    #[error("the batch was rejected, nothing was applied:\n{}", .0.iter().map(|p| format!("  record {}: {}", p.record, p.message)).collect::<Vec<_>>().join("\n"))]
    Rejected(Vec<Problem>),
}

/// One reason a batch was rejected, by input record number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub record: usize,
    pub message: String,
}

/// An applied batch as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    pub furnisher: String,
    pub format: String,
    pub records: i64,
    pub applied: i64,
    pub quarantined: i64,
    pub recorded_ms: i64,
}

pub use candor_file::batch::{Batch, ClosureEntry, Quarantined, ReportEntry, SubjectEntry};

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client, conn::PgStatements),
}

pub struct Store {
    backend: Backend,
    /// Inside [`Store::unit`]: every statement runs in the unit's one transaction.
    in_unit: bool,
    /// Inside a unit or snapshot, the subject last looked up by key and their id: a request's
    /// several reads of one person's records look the person up once. Forgotten when the
    /// transaction ends, so it never outlives what it read.
    memo: Option<(candor_file::ids::SubjectKey, i64)>,
    /// Inside [`Store::snapshot`]: what is read there is committed.
    read_only: bool,
    /// Subjects' ids seen committed. A subject's id never changes and no subject is removed, so
    /// an id once committed stays right; ids seen inside a unit that writes are not kept (the
    /// unit may roll back). Bounded: emptied when full.
    ids: std::collections::HashMap<candor_file::ids::SubjectKey, i64>,
}

/// Most subject ids one connection keeps ([`Store::subject_id`]): 32 bytes of key and 8 of id
/// each, a few MB.
const KEPT_IDS: usize = 65_536;

/// Runs `$body` with `$tx` bound to a transaction on whichever database, committing on success.
/// Inside a unit of work, the transaction is the unit's, and nothing commits until the unit
/// does. (On SQLite a savepoint is both: a transaction of its own outside a unit, nested in one.)
macro_rules! transact {
    ($store:expr, |$tx:ident| $body:expr) => {
        match (&mut $store.backend, $store.in_unit) {
            // IMMEDIATE: the write lock from the start. A deferred transaction that read first
            // could not take it after another connection (the log's writer) committed.
            ($crate::Backend::Sqlite(conn), false) => {
                let mut $tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = $body;
                $tx.commit()?;
                Ok::<_, $crate::StoreError>(out)
            }
            ($crate::Backend::Sqlite(conn), true) => {
                let mut $tx = conn.savepoint()?;
                let out = $body;
                $tx.commit()?;
                Ok::<_, $crate::StoreError>(out)
            }
            ($crate::Backend::Postgres(client, statements), true) => {
                let mut $tx = $crate::conn::PgAuto::new(client, statements, true);
                Ok::<_, $crate::StoreError>($body)
            }
            ($crate::Backend::Postgres(client, statements), false) => {
                let mut $tx = $crate::conn::PgTx::new(client.transaction()?, statements);
                let out = $body;
                $tx.tx.commit()?;
                Ok::<_, $crate::StoreError>(out)
            }
        }
    };
}
pub(crate) use transact;

/// Like [`transact!`], for reads of a few rows: on PostgreSQL each statement runs on its own,
/// without BEGIN and COMMIT (see [`conn::PgAuto`]), or in the unit of work it is part of.
macro_rules! fetch {
    ($store:expr, |$tx:ident| $body:expr) => {
        match (&mut $store.backend, $store.in_unit) {
            ($crate::Backend::Postgres(client, statements), in_unit) => {
                let mut $tx = $crate::conn::PgAuto::new(client, statements, in_unit);
                Ok::<_, $crate::StoreError>($body)
            }
            // A read transaction of its own (deferred: readers do not wait for the writer), or
            // nested in the unit it is part of.
            ($crate::Backend::Sqlite(conn), _) => {
                let mut $tx = conn.savepoint()?;
                let out = $body;
                $tx.commit()?;
                Ok::<_, $crate::StoreError>(out)
            }
        }
    };
}
pub(crate) use fetch;

/// Milliseconds between SQLite's attempts on a locked database before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;

impl Store {
    /// Opens (and migrates) the store a URL names: `postgres://...` (optionally with
    /// `?schema=NAME` to use and create a schema), `sqlite:PATH`, or a plain file path.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let mut store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, schema) = split_schema(url);
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            if let Some(schema) = schema {
                client.batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\""
                ))?;
            }
            Store::new(Backend::Postgres(client, conn::PgStatements::new()))
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            let conn = rusqlite::Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.set_prepared_statement_cache_capacity(256);
            Store::new(Backend::Sqlite(conn))
        };
        store.migrate()?;
        Ok(store)
    }

    /// Runs one unit of work — a workflow's reads, writes and log leaves — in one transaction:
    /// everything it wrote commits together when it returns `Ok`, and nothing of it when it
    /// returns `Err`. Every store call inside runs in that transaction; a unit inside a unit is
    /// part of the outer one.
    pub fn unit<T, E: From<StoreError>>(&mut self, work: impl FnOnce(&mut Store) -> Result<T, E>) -> Result<T, E> {
        // IMMEDIATE on SQLite: the write lock from the start, so a unit that reads and then
        // writes is never refused the upgrade by another writer.
        self.within("BEGIN IMMEDIATE", "BEGIN", work)
    }

    /// Runs `work`, which only reads, in one read transaction: a consistent view of the file,
    /// without the write lock a unit takes on SQLite (readers and the writer proceed together),
    /// and on PostgreSQL read-only, so a write inside fails. Inside a unit, part of the unit.
    ///
    /// On PostgreSQL its statements run on generic plans, each planned once per connection: a
    /// person's reads are few, by key, one partition each, and PostgreSQL would otherwise plan
    /// every run afresh for the partitioned tables (a generic plan's cost counts every partition,
    /// though one is kept at run time) — twice the time of four of them, measured with pgbench.
    /// Not for batches: ingestion on generic plans took four times as long.
    pub fn snapshot<T, E: From<StoreError>>(&mut self, work: impl FnOnce(&mut Store) -> Result<T, E>) -> Result<T, E> {
        // REPEATABLE READ: on PostgreSQL every statement of the read sees one snapshot (under
        // the default READ COMMITTED each would take its own); read-only, it never conflicts.
        let postgres =
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan";
        if self.in_unit {
            return work(self);
        }
        self.read_only = true;
        let out = self.within("BEGIN DEFERRED", postgres, work);
        self.read_only = false;
        out
    }

    /// Runs `work`, which reads one statement's worth (a person's standing, their id known or
    /// looked up first), as [`Store::snapshot`] on SQLite; on PostgreSQL without a transaction
    /// of its own, as the statement is its own snapshot: a consented score is then one round
    /// trip to the server where a snapshot takes four (begin, the id, the statement, commit).
    /// The statement names the person's partition, so its plan is cheap without forcing a
    /// generic one. Inside a unit, part of the unit.
    pub fn read_alone<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        match self.backend {
            Backend::Postgres(..) if !self.in_unit => work(self),
            _ => self.snapshot(work),
        }
    }

    fn new(backend: Backend) -> Store {
        Store { backend, in_unit: false, memo: None, read_only: false, ids: Default::default() }
    }

    /// Runs `work` in a transaction begun by `sqlite` or `postgres`, committed when it returns
    /// `Ok`, rolled back when it returns `Err`.
    fn within<T, E: From<StoreError>>(
        &mut self,
        sqlite: &str,
        postgres: &str,
        work: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.in_unit {
            return work(self);
        }
        match &mut self.backend {
            Backend::Sqlite(conn) => conn.execute_batch(sqlite).map_err(StoreError::from)?,
            Backend::Postgres(client, _) => client.batch_execute(postgres).map_err(StoreError::from)?,
        }
        self.in_unit = true;
        let out = work(self);
        self.in_unit = false;
        self.memo = None;
        match out {
            Ok(value) => {
                self.end("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // The error the work met is the one to report; a failed rollback leaves the
                // connection to be reset by the database when it is next used or closed.
                let _ = self.end("ROLLBACK");
                Err(e)
            }
        }
    }

    fn end(&mut self, how: &str) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(conn) => conn.execute_batch(how)?,
            Backend::Postgres(client, _) => client.batch_execute(how)?,
        }
        Ok(())
    }

    /// Makes this connection refuse every write from now on (SQLite's `query_only`, and on
    /// PostgreSQL read-only transactions by default): for a connection kept for reads.
    pub fn refuse_writes(&mut self) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(conn) => conn.pragma_update(None, "query_only", true)?,
            Backend::Postgres(client, _) => client.batch_execute("SET default_transaction_read_only = on")?,
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(..))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(conn) => {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute_batch("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")?;
                let found: i64 = tx
                    .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
                    .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(0) } else { Err(e) })?;
                check_version(found)?;
                for (i, step) in schema::SQLITE.iter().enumerate().skip(found as usize) {
                    tx.execute_batch(step)?;
                    rusqlite::Connection::execute(
                        &tx,
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [i as i64 + 1],
                    )?;
                }
                tx.commit()?;
            }
            Backend::Postgres(client, _) => {
                let mut tx = client.transaction()?;
                // One migrator at a time, whoever else is starting.
                tx.batch_execute(
                    "SELECT pg_advisory_xact_lock(7243); \
                     CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                )?;
                let found: i64 = tx
                    .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                    .map(|r| r.get(0))
                    .unwrap_or(0);
                check_version(found)?;
                for (i, step) in schema::postgres().iter().enumerate().skip(found as usize) {
                    tx.batch_execute(step)?;
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', $1) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        &[&(i as i64 + 1)],
                    )?;
                }
                tx.commit()?;
            }
        }
        Ok(())
    }

    /// Applies a batch atomically. `now_ms` is when the bureau learns its contents.
    pub fn apply(&mut self, batch: &Batch, now_ms: i64) -> Result<BatchOutcome, StoreError> {
        transact!(self, |tx| write::apply(&mut tx, batch, now_ms)?)
    }

    /// Registers or renames an organisation, with the hash of its API key when one is issued.
    pub fn put_organisation(
        &mut self,
        org: &Organisation,
        api_key_hash: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transact!(self, |tx| write::put_organisation(&mut tx, org, api_key_hash, now_ms)?)
    }

    /// Revokes an organisation's API key: whether it had one.
    pub fn revoke_api_key(&mut self, id: &OrgId) -> Result<bool, StoreError> {
        transact!(self, |tx| {
            tx.execute(
                "UPDATE organisations SET api_key_hash = NULL WHERE org_id = $1 AND api_key_hash IS NOT NULL",
                &[Param::Text(id.as_str())],
            )? == 1
        })
    }

    pub fn organisation(&mut self, id: &OrgId) -> Result<Option<Organisation>, StoreError> {
        transact!(self, |tx| read::organisation(&mut tx, id)?)
    }

    /// Every registered organisation, by id.
    pub fn organisations(&mut self) -> Result<Vec<Organisation>, StoreError> {
        fetch!(self, |tx| {
            let mut out = Vec::new();
            tx.query("SELECT org_id, kind, name FROM organisations ORDER BY org_id", &[], &mut |r| {
                out.push(read::read_org(r)?);
                Ok(())
            })?;
            out
        })
    }

    /// Every registered organisation that furnishes accounts (lenders, utilities, landlords,
    /// rental services), by id.
    pub fn furnishers(&mut self) -> Result<Vec<Organisation>, StoreError> {
        Ok(self.organisations()?.into_iter().filter(|o| o.kind.furnishes()).collect())
    }

    /// The organisation an API key hash belongs to.
    pub fn organisation_by_key(&mut self, api_key_hash: &[u8]) -> Result<Option<Organisation>, StoreError> {
        fetch!(self, |tx| read::organisation_by_key(&mut tx, api_key_hash)?)
    }

    /// What the store recorded of a batch.
    pub fn batch(&mut self, batch_id: i64) -> Result<Option<BatchRecord>, StoreError> {
        transact!(self, |tx| tx.query_one(
            "SELECT furnisher, format, records, applied, quarantined, recorded_ms FROM batches WHERE batch_id = $1",
            &[Param::Int(batch_id)],
            |r| Ok(BatchRecord {
                furnisher: r.text(0)?,
                format: r.text(1)?,
                records: r.int(2)?,
                applied: r.int(3)?,
                quarantined: r.int(4)?,
                recorded_ms: r.int(5)?,
            }),
        )?)
    }

    /// Quarantined records of a batch, by record number.
    pub fn quarantine(&mut self, batch_id: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
        transact!(self, |tx| read::quarantine(&mut tx, batch_id)?)
    }
}

fn check_version(found: i64) -> Result<(), StoreError> {
    if found > schema::SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, supported: schema::SCHEMA_VERSION });
    }
    Ok(())
}

/// Splits our own `schema=NAME` parameter off a PostgreSQL URL. Names are limited to
/// `[a-z0-9_]` so they can be quoted safely.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(name)
                if !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                schema = Some(name.to_owned());
                false
            }
            _ => true,
        })
        .collect();
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    (url, schema)
}

/// Days since 1970-01-01, how dates are stored.
pub fn day_number(date: time::Date) -> i64 {
    i64::from(date.to_julian_day())
        - i64::from(
            time::Date::from_calendar_date(1970, time::Month::January, 1).map_or(2_440_588, |d| d.to_julian_day()),
        )
}

pub(crate) fn from_day_number(day: i64) -> Result<time::Date, StoreError> {
    i32::try_from(day + 2_440_588)
        .ok()
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("day number {day}")))
}

pub(crate) fn param_date(date: time::Date) -> Param<'static> {
    Param::Int(day_number(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parameter_is_ours_and_only_safe_names() {
        assert_eq!(split_schema("postgres://h/db?schema=t_1"), ("postgres://h/db".into(), Some("t_1".into())));
        assert_eq!(
            split_schema("postgres://h/db?sslmode=disable&schema=x"),
            ("postgres://h/db?sslmode=disable".into(), Some("x".into()))
        );
        assert_eq!(split_schema("postgres://h/db?schema=x;drop").1, None);
    }

    #[test]
    fn day_numbers() {
        let d = time::Date::from_calendar_date(1970, time::Month::January, 2).expect("date");
        assert_eq!(day_number(d), 1);
        assert_eq!(from_day_number(1).expect("day"), d);
    }
}
