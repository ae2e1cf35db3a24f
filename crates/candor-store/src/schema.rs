//! The tables, for each database, and the migrations that create them.
//!
//! Everything a furnisher or court sends is a row that is never updated: a correction is a new
//! row with a later `recorded_ms` (and batch), and a read "as of" a time takes, per natural key,
//! the latest row recorded by then. The only deletions are the purge job's, which leaves a row in
//! `purges` saying what it removed.
//!
//! There is no column for anything the product forbids (location, contacts, health, religion,
//! ...): the schema is the allow-list. Names and birth dates exist only sealed; national
//! identifiers only as their keyed hash and a masked tail.
//!
//! On PostgreSQL every table of one person's facts is partitioned by hash of `subject_id`, so a
//! distributed PostgreSQL (Citus) can shard them by subject with every per-person statement
//! routed to one shard; `subjects` (by the identifier's keyed hash) and `accounts` (by furnisher
//! and reference) are the directories that map keys to ids. [`PLACEMENT`] says where every table
//! goes; docs/citus.md is the migration.

/// Bump with every change to the tables, and add the step to both lists below.
pub const SCHEMA_VERSION: i64 = 17;

/// Hash partitions per fact table on PostgreSQL.
pub const PG_PARTITIONS: u32 = 8;

pub const SQLITE: &[&str] = &[
    r#"
CREATE TABLE organisations (
    org_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
    api_key_hash BLOB, recorded_ms INTEGER NOT NULL);
CREATE TABLE batches (
    batch_id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, furnisher TEXT NOT NULL,
    format TEXT NOT NULL, recorded_ms INTEGER NOT NULL, records INTEGER NOT NULL,
    applied INTEGER NOT NULL, quarantined INTEGER NOT NULL);
CREATE TABLE subjects (
    subject_id INTEGER PRIMARY KEY, subject_key BLOB NOT NULL UNIQUE, scheme TEXT NOT NULL,
    masked TEXT NOT NULL, region TEXT, recorded_ms INTEGER NOT NULL);
CREATE TABLE subject_details (
    subject_id INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, batch_id INTEGER NOT NULL,
    name_sealed BLOB, birth_sealed BLOB,
    PRIMARY KEY (subject_id, recorded_ms, batch_id)) WITHOUT ROWID;
CREATE TABLE accounts (
    account_id INTEGER PRIMARY KEY, subject_id INTEGER NOT NULL, furnisher TEXT NOT NULL,
    reference TEXT NOT NULL, UNIQUE (furnisher, reference));
CREATE TABLE account_versions (
    subject_id INTEGER NOT NULL, account_id INTEGER NOT NULL, recorded_ms INTEGER NOT NULL,
    batch_id INTEGER NOT NULL, furnisher TEXT NOT NULL, reference TEXT NOT NULL, kind TEXT NOT NULL,
    opened INTEGER NOT NULL, currency TEXT NOT NULL,
    PRIMARY KEY (subject_id, account_id, recorded_ms, batch_id)) WITHOUT ROWID;
CREATE TABLE reports (
    subject_id INTEGER NOT NULL, account_id INTEGER NOT NULL, month INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL, batch_id INTEGER NOT NULL, balance_minor INTEGER NOT NULL,
    limit_minor INTEGER NOT NULL, paid_minor INTEGER NOT NULL, dpd INTEGER NOT NULL,
    status TEXT NOT NULL, delinquent_since INTEGER,
    PRIMARY KEY (subject_id, account_id, month, recorded_ms, batch_id)) WITHOUT ROWID;
CREATE TABLE inquiries (
    subject_id INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, batch_id INTEGER NOT NULL,
    org_id TEXT NOT NULL, day INTEGER NOT NULL, purpose TEXT NOT NULL,
    PRIMARY KEY (subject_id, recorded_ms, batch_id, org_id, day, purpose)) WITHOUT ROWID;
CREATE TABLE court_records (
    subject_id INTEGER NOT NULL, court TEXT NOT NULL, case_number TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL, batch_id INTEGER NOT NULL, amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL, grounds TEXT NOT NULL, listed INTEGER NOT NULL, closed INTEGER,
    outcome TEXT,
    PRIMARY KEY (subject_id, court, case_number, recorded_ms, batch_id)) WITHOUT ROWID;
CREATE INDEX court_records_case ON court_records (court, case_number);
CREATE TABLE quarantine (
    batch_id INTEGER NOT NULL, seq INTEGER NOT NULL, record_no INTEGER NOT NULL, subject_id INTEGER NOT NULL,
    rule TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (batch_id, seq));
CREATE TABLE consents (
    subject_id INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, org_id TEXT NOT NULL,
    purpose TEXT NOT NULL, granted INTEGER NOT NULL, until INTEGER NOT NULL, revoked INTEGER,
    PRIMARY KEY (subject_id, org_id, purpose, recorded_ms)) WITHOUT ROWID;
CREATE TABLE disputes (
    dispute_id INTEGER PRIMARY KEY, subject_id INTEGER NOT NULL, opened_ms INTEGER NOT NULL,
    record_kind TEXT NOT NULL, record_ref TEXT NOT NULL);
CREATE INDEX disputes_subject ON disputes (subject_id);
CREATE TABLE dispute_steps (
    dispute_id INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (dispute_id, recorded_ms, seq)) WITHOUT ROWID;
CREATE TABLE purges (
    purge_id INTEGER PRIMARY KEY, recorded_ms INTEGER NOT NULL, today INTEGER NOT NULL,
    negative_years INTEGER NOT NULL, reports_deleted INTEGER NOT NULL,
    court_records_deleted INTEGER NOT NULL);
"#,
    STEP_2_SQLITE,
    STEP_3,
    STEP_4,
    STEP_5,
    STEP_6,
    STEP_7,
    STEP_8,
    STEP_9_SQLITE,
    STEP_10,
    STEP_11,
    STEP_12_SQLITE,
    STEP_13_SQLITE,
    STEP_14,
    STEP_15_SQLITE,
    STEP_16,
    STEP_17_SQLITE,
];

/// Step 2: the transparency log. Every batch and purge appends a leaf whose body commits to the
/// rows it wrote (or removed); `purged_rows` keeps the hashes of rows the purge deleted, so an
/// audit can still account for them; indexes on `batch_id` let the audit read a batch's rows.
/// Step 3: subjects who enrolled (a passphrase hash; a withdrawal is a row without one), and
/// which subject a log leaf is about, so a person can list and prove every entry about them.
const STEP_3: &str = r#"
CREATE TABLE enrolments (
    subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, passphrase_hash TEXT,
    PRIMARY KEY (subject_id, recorded_ms));
ALTER TABLE log_leaves ADD COLUMN subject_id BIGINT;
CREATE INDEX log_leaves_subject ON log_leaves (subject_id);
"#;

/// Step 4: a person's statements attached to records of their file, shown with the record in
/// every report. An empty text withdraws one.
const STEP_4: &str = r#"
CREATE TABLE statements (
    subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, record_ref TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (subject_id, record_ref, recorded_ms));
"#;

/// Step 5: lenders' decision policies (score band → decision), versioned.
const STEP_5: &str = r#"
CREATE TABLE policies (
    org_id TEXT NOT NULL, name TEXT NOT NULL, recorded_ms BIGINT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (org_id, name, recorded_ms));
"#;

/// Step 6: who is asked to verify a disputed record; merchants' service points for the perks
/// map (a place of business, never a person's); the ombudsman's witness key and the checkpoints
/// it countersigned.
const STEP_6: &str = r#"
ALTER TABLE disputes ADD COLUMN furnisher TEXT;
CREATE INDEX disputes_furnisher ON disputes (furnisher);
CREATE TABLE service_points (
    org_id TEXT NOT NULL, point TEXT NOT NULL, recorded_ms BIGINT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (org_id, point, recorded_ms));
CREATE TABLE witness_keys (
    org_id TEXT NOT NULL, recorded_ms BIGINT NOT NULL, name TEXT NOT NULL, public_key TEXT NOT NULL,
    PRIMARY KEY (org_id, recorded_ms));
CREATE TABLE cosignatures (
    size BIGINT NOT NULL, org_id TEXT NOT NULL, recorded_ms BIGINT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (size, org_id));
"#;

/// Step 7: every model document ever deployed, by version (its SHA-256), and each deployment,
/// so every score stays replayable with the model that gave it, and a restart serves the last.
const STEP_7: &str = r#"
CREATE TABLE models (version TEXT PRIMARY KEY, recorded_ms BIGINT NOT NULL, document TEXT NOT NULL);
CREATE TABLE deployments (recorded_ms BIGINT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (recorded_ms, version));
"#;

/// Step 8: a person's freeze of their file (1 placed, 0 lifted): while placed, nobody reads it.
const STEP_8: &str = r#"
CREATE TABLE freezes (subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, placed BIGINT NOT NULL,
    PRIMARY KEY (subject_id, recorded_ms));
"#;

/// Step 9: lists read by key, a page at a time. A dispute's `decided_ms` is set once, by the step
/// that decides it (an index derived from `dispute_steps`, which stay the record), so the
/// queue reads the undecided ones by index; a leaf names the organisation it is addressed to
/// (notifications), so an organisation reads its own by index.
macro_rules! step_9 {
    () => {
        r#"
ALTER TABLE disputes ADD COLUMN decided_ms BIGINT;
UPDATE disputes SET decided_ms = (SELECT MAX(s.recorded_ms) FROM dispute_steps s WHERE s.dispute_id = disputes.dispute_id
    AND s.state IN ('verified', 'corrected', 'deleted', 'suppressed', 'upheld', 'overridden'));
CREATE INDEX disputes_undecided ON disputes (decided_ms, dispute_id);
CREATE INDEX disputes_furnisher_undecided ON disputes (furnisher, decided_ms, dispute_id);
ALTER TABLE log_leaves ADD COLUMN org_id TEXT;
CREATE INDEX log_leaves_org ON log_leaves (org_id, kind, leaf_index);
CREATE INDEX log_leaves_subject_index ON log_leaves (subject_id, leaf_index);
CREATE INDEX log_leaves_kind ON log_leaves (kind, leaf_index);
"#
    };
}
const STEP_9: &str = step_9!();
const STEP_9_SQLITE: &str =
    concat!(step_9!(), "UPDATE log_leaves SET org_id = json_extract(body, '$.org') WHERE kind = 'notification';");

/// Step 10: activation codes, by the person they were issued to (a keyed hash of the code, never
/// the code; used once, before it expires); and the operator's switch for scoring, so a
/// suspension outlives a restart.
const STEP_10: &str = r#"
CREATE TABLE activation_codes (
    subject_id BIGINT NOT NULL, code_hash TEXT NOT NULL, issued_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL, used_ms BIGINT, PRIMARY KEY (subject_id, code_hash));
CREATE TABLE scoring_switch (recorded_ms BIGINT PRIMARY KEY, suspended BIGINT NOT NULL);
"#;

/// Step 11: a person's second factor: the TOTP secret sealed (hex), the keyed hashes of the
/// recovery codes left, when it was confirmed (none: being turned on), and the last step used.
const STEP_11: &str = r#"
CREATE TABLE second_factors (
    subject_id BIGINT PRIMARY KEY, recorded_ms BIGINT NOT NULL, secret_sealed TEXT NOT NULL,
    recovery_hashes TEXT NOT NULL, confirmed_ms BIGINT, last_step BIGINT);
"#;

/// Step 12: how each enrolment proved the person (an activation code, or questions from their own
/// file), and the wrong answers to the questions per identifier's keyed hash, known or not, so
/// guessing is capped across restarts.
const STEP_12_SQLITE: &str = r#"
ALTER TABLE enrolments ADD COLUMN proofing TEXT;
CREATE TABLE proofing_failures (subject_key BLOB NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX proofing_failures_key ON proofing_failures (subject_key, at_ms);
"#;

const STEP_12_POSTGRES: &str = r#"
ALTER TABLE enrolments ADD COLUMN proofing TEXT;
CREATE TABLE proofing_failures (subject_key BYTEA NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX proofing_failures_key ON proofing_failures (subject_key, at_ms);
"#;

/// Step 13: what a person sends with a dispute: a reason, their words sealed, and perhaps one
/// evidence document sealed, with its type and digest, and the digest of the whole claim the
/// log records. Keyed by subject and dispute, like every fact of one person's.
const STEP_13_SQLITE: &str = r#"
CREATE TABLE dispute_claims (
    subject_id INTEGER NOT NULL, dispute_id INTEGER NOT NULL, reason TEXT NOT NULL,
    text_sealed BLOB NOT NULL, evidence_type TEXT, evidence_sha256 BLOB, evidence_sealed BLOB,
    claim_sha256 BLOB NOT NULL, PRIMARY KEY (subject_id, dispute_id)) WITHOUT ROWID;
"#;

const STEP_13_POSTGRES: &str = r#"
CREATE TABLE dispute_claims (
    subject_id BIGINT NOT NULL, dispute_id BIGINT NOT NULL, reason TEXT NOT NULL,
    text_sealed BYTEA NOT NULL, evidence_type TEXT, evidence_sha256 BYTEA, evidence_sealed BYTEA,
    claim_sha256 BYTEA NOT NULL, PRIMARY KEY (subject_id, dispute_id));
"#;

/// Step 14: the overseers' staff — people who sign in to the console with a passphrase and a
/// mandatory second factor, set up with a one-time code the operator issued (kept as a keyed
/// hash); and the explanation an ombudsman's decision gives, on its step.
const STEP_14: &str = r#"
CREATE TABLE staff (
    staff_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, setup_hash TEXT,
    setup_expires_ms BIGINT, passphrase_hash TEXT, totp_sealed TEXT, last_step BIGINT,
    active_ms BIGINT, recorded_ms BIGINT NOT NULL);
ALTER TABLE dispute_steps ADD COLUMN explanation TEXT;
"#;

/// Step 15: ready for a distributed PostgreSQL (Citus). Every table of one person's facts is
/// keyed by subject and, on PostgreSQL, hash-partitioned by it, so each per-person statement
/// reads one partition (one shard): the person's own records (enrolments, statements, freezes,
/// activation codes, second factors, claims) and their disputes, whose steps now carry the
/// subject. The two directories are keyed by what they are looked up by: `subjects` by the
/// identifier's keyed hash, `accounts` by (furnisher, reference). See [`PLACEMENT`].
const STEP_15_SQLITE: &str = r#"
ALTER TABLE dispute_steps ADD COLUMN subject_id INTEGER;
UPDATE dispute_steps SET subject_id = (SELECT d.subject_id FROM disputes d WHERE d.dispute_id = dispute_steps.dispute_id);
"#;

/// Step 16: fewer index pages written with every leaf, since every read appends one. A read's
/// leaf names no addressee, so the organisation index keeps only the leaves that do
/// (notifications); the subject's lone index repeats the first column of (subject, index); and
/// no statement looks leaves up by kind alone.
const STEP_16: &str = r#"
DROP INDEX log_leaves_subject;
DROP INDEX log_leaves_kind;
DROP INDEX log_leaves_org;
CREATE INDEX log_leaves_addressed ON log_leaves (org_id, kind, leaf_index) WHERE org_id IS NOT NULL;
"#;

/// Step 17: on PostgreSQL, the log writer's append in one statement (see `Store::log_all`): the
/// log's lock, the next index and the insert run in the server, so a group of leaves is one round
/// trip, committed on its own, where it was five (begin, lock, index, insert, commit). Each
/// statement of a volatile function takes a new snapshot, so the index is read after the lock is
/// held. SQLite appends in-process and needs nothing.
const STEP_17_SQLITE: &str = "-- the log's append function is PostgreSQL's alone";

fn step_17_postgres() -> String {
    format!(
        "CREATE FUNCTION log_append(recorded BIGINT[], kinds TEXT[], bodies TEXT[], hashes BYTEA[],
             subjects BIGINT[], orgs TEXT[]) RETURNS BIGINT
         LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
         DECLARE first BIGINT;
         BEGIN
             PERFORM {lock};
             SELECT COALESCE(MAX(leaf_index), -1) + 1 INTO first FROM log_leaves;
             INSERT INTO log_leaves (leaf_index, recorded_ms, kind, body, leaf_hash, subject_id, org_id)
                 SELECT first + t.n - 1, t.r, t.k, t.b, t.h, t.s, t.o
                 FROM unnest(recorded, kinds, bodies, hashes, subjects, orgs) WITH ORDINALITY AS t(r, k, b, h, s, o, n);
             RETURN first;
         END $$;",
        lock = crate::conn::pg_log_lock!()
    )
}

/// The tables step 15 rebuilds as partitioned by subject on PostgreSQL: name, columns with the
/// primary key, the columns copied from the old table (`o`, with the subject from `d` for
/// dispute steps), and the indexes.
const PG_STEP_15: &[(&str, &str, &str, &str)] = &[
    (
        "enrolments",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, passphrase_hash TEXT, proofing TEXT,
         PRIMARY KEY (subject_id, recorded_ms)",
        "SELECT o.* FROM enrolments_v14 o",
        "",
    ),
    (
        "statements",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, record_ref TEXT NOT NULL, text TEXT NOT NULL,
         PRIMARY KEY (subject_id, record_ref, recorded_ms)",
        "SELECT o.* FROM statements_v14 o",
        "",
    ),
    (
        "freezes",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, placed BIGINT NOT NULL,
         PRIMARY KEY (subject_id, recorded_ms)",
        "SELECT o.* FROM freezes_v14 o",
        "",
    ),
    (
        "activation_codes",
        "subject_id BIGINT NOT NULL, code_hash TEXT NOT NULL, issued_ms BIGINT NOT NULL,
         expires_ms BIGINT NOT NULL, used_ms BIGINT, PRIMARY KEY (subject_id, code_hash)",
        "SELECT o.* FROM activation_codes_v14 o",
        "",
    ),
    (
        "second_factors",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, secret_sealed TEXT NOT NULL,
         recovery_hashes TEXT NOT NULL, confirmed_ms BIGINT, last_step BIGINT, PRIMARY KEY (subject_id)",
        "SELECT o.* FROM second_factors_v14 o",
        "",
    ),
    (
        "dispute_claims",
        "subject_id BIGINT NOT NULL, dispute_id BIGINT NOT NULL, reason TEXT NOT NULL,
         text_sealed BYTEA NOT NULL, evidence_type TEXT, evidence_sha256 BYTEA, evidence_sealed BYTEA,
         claim_sha256 BYTEA NOT NULL, PRIMARY KEY (subject_id, dispute_id)",
        "SELECT o.* FROM dispute_claims_v14 o",
        "",
    ),
    (
        "disputes",
        "dispute_id BIGINT NOT NULL DEFAULT nextval('disputes_dispute_id_seq'), subject_id BIGINT NOT NULL,
         opened_ms BIGINT NOT NULL, record_kind TEXT NOT NULL, record_ref TEXT NOT NULL, furnisher TEXT,
         decided_ms BIGINT, PRIMARY KEY (subject_id, dispute_id)",
        "SELECT o.dispute_id, o.subject_id, o.opened_ms, o.record_kind, o.record_ref, o.furnisher, o.decided_ms
         FROM disputes_v14 o",
        "CREATE INDEX disputes_number ON disputes (dispute_id);
         CREATE INDEX disputes_undecided ON disputes (decided_ms, dispute_id);
         CREATE INDEX disputes_furnisher_undecided ON disputes (furnisher, decided_ms, dispute_id);
         ALTER SEQUENCE disputes_dispute_id_seq OWNED BY disputes.dispute_id;",
    ),
    (
        "dispute_steps",
        "subject_id BIGINT NOT NULL, dispute_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, seq BIGINT NOT NULL,
         state TEXT NOT NULL, explanation TEXT, PRIMARY KEY (subject_id, dispute_id, recorded_ms, seq)",
        "SELECT d.subject_id, o.dispute_id, o.recorded_ms, o.seq, o.state, o.explanation
         FROM dispute_steps_v14 o JOIN disputes d ON d.dispute_id = o.dispute_id",
        "",
    ),
];

fn step_15_postgres() -> String {
    let mut sql = String::from(
        "ALTER SEQUENCE disputes_dispute_id_seq OWNED BY NONE;
         ALTER TABLE subjects DROP CONSTRAINT subjects_pkey, DROP CONSTRAINT subjects_subject_key_key,
             ADD PRIMARY KEY (subject_key);
         CREATE INDEX subjects_id ON subjects (subject_id);
         ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, DROP CONSTRAINT accounts_furnisher_reference_key,
             ADD PRIMARY KEY (furnisher, reference);
         DROP INDEX disputes_subject, disputes_furnisher, disputes_undecided, disputes_furnisher_undecided;\n",
    );
    for (table, columns, copy, indexes) in PG_STEP_15 {
        sql.push_str(&format!(
            "ALTER TABLE {table} RENAME TO {table}_v14;
             ALTER TABLE {table}_v14 RENAME CONSTRAINT {table}_pkey TO {table}_v14_pkey;
             CREATE TABLE {table} ({columns}) PARTITION BY HASH (subject_id);\n"
        ));
        for i in 0..PG_PARTITIONS {
            sql.push_str(&format!(
                "CREATE TABLE {table}_p{i} PARTITION OF {table} FOR VALUES WITH (MODULUS {PG_PARTITIONS}, REMAINDER {i});\n"
            ));
        }
        sql.push_str(&format!("INSERT INTO {table} {copy};\n{indexes}\n"));
    }
    for (table, ..) in PG_STEP_15 {
        sql.push_str(&format!("DROP TABLE {table}_v14;\n"));
    }
    sql
}

/// Where a table goes when the store outgrows one PostgreSQL server and moves to Citus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// One person's facts: distributed by `subject_id`, all co-located, so everything about one
    /// person is on one shard and every per-person statement is routed to it.
    Subject,
    /// A directory looked up by a key other than the subject: distributed by that column (not
    /// co-located); read first, then the subject's shard by `subject_id`.
    Directory(&'static str),
    /// Small tables every node needs (organisations, models, policies): copied to every node.
    Reference,
    /// The transparency log and its companions: one ordered sequence, kept on the coordinator.
    Coordinator,
}

/// Every table of the schema and where it goes on Citus (a test checks the list is complete and
/// that the schema keeps each rule).
pub const PLACEMENT: &[(&str, Placement)] = &[
    ("subjects", Placement::Directory("subject_key")),
    ("accounts", Placement::Directory("reference")),
    ("subject_details", Placement::Subject),
    ("account_versions", Placement::Subject),
    ("reports", Placement::Subject),
    ("inquiries", Placement::Subject),
    ("court_records", Placement::Subject),
    ("quarantine", Placement::Subject),
    ("consents", Placement::Subject),
    ("enrolments", Placement::Subject),
    ("statements", Placement::Subject),
    ("freezes", Placement::Subject),
    ("activation_codes", Placement::Subject),
    ("second_factors", Placement::Subject),
    ("dispute_claims", Placement::Subject),
    ("disputes", Placement::Subject),
    ("dispute_steps", Placement::Subject),
    ("proofing_failures", Placement::Directory("subject_key")),
    ("organisations", Placement::Reference),
    ("policies", Placement::Reference),
    ("service_points", Placement::Reference),
    ("witness_keys", Placement::Reference),
    ("models", Placement::Reference),
    ("deployments", Placement::Reference),
    ("staff", Placement::Reference),
    ("scoring_switch", Placement::Reference),
    ("log_leaves", Placement::Coordinator),
    ("checkpoints", Placement::Coordinator),
    ("cosignatures", Placement::Coordinator),
    ("batches", Placement::Coordinator),
    ("purges", Placement::Coordinator),
    ("purged_rows", Placement::Coordinator),
    ("meta", Placement::Coordinator),
];

/// The Citus statements that distribute a migrated store (docs/citus.md quotes them; a test
/// keeps the two the same).
pub fn citus_migration() -> String {
    let mut sql = String::new();
    let mut first_subject: Option<&str> = None;
    for (table, placement) in PLACEMENT {
        let line = match placement {
            Placement::Subject => match first_subject {
                None => {
                    first_subject = Some(table);
                    format!("SELECT create_distributed_table('{table}', 'subject_id', colocate_with => 'none');")
                }
                Some(with) => {
                    format!("SELECT create_distributed_table('{table}', 'subject_id', colocate_with => '{with}');")
                }
            },
            Placement::Directory(column) => {
                format!("SELECT create_distributed_table('{table}', '{column}', colocate_with => 'none');")
            }
            Placement::Reference => format!("SELECT create_reference_table('{table}');"),
            Placement::Coordinator => format!("SELECT citus_add_local_table_to_metadata('{table}');"),
        };
        sql.push_str(&line);
        sql.push('\n');
    }
    sql
}

const STEP_2_SQLITE: &str = r#"
CREATE TABLE log_leaves (
    leaf_index INTEGER PRIMARY KEY, recorded_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    body TEXT NOT NULL, leaf_hash BLOB NOT NULL);
CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, timestamp_ms INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE purged_rows (
    batch_id INTEGER NOT NULL, table_name TEXT NOT NULL, row_hash BLOB NOT NULL, purge_id INTEGER NOT NULL);
CREATE INDEX purged_rows_batch ON purged_rows (batch_id);
CREATE INDEX reports_batch ON reports (batch_id);
CREATE INDEX account_versions_batch ON account_versions (batch_id);
CREATE INDEX inquiries_batch ON inquiries (batch_id);
CREATE INDEX court_records_batch ON court_records (batch_id);
CREATE INDEX subject_details_batch ON subject_details (batch_id);
"#;

/// The fact tables PostgreSQL partitions by subject, with their columns and primary keys.
const PG_FACTS: &[(&str, &str)] = &[
    (
        "subject_details",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, batch_id BIGINT NOT NULL,
         name_sealed BYTEA, birth_sealed BYTEA, PRIMARY KEY (subject_id, recorded_ms, batch_id)",
    ),
    (
        "account_versions",
        "subject_id BIGINT NOT NULL, account_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL,
         batch_id BIGINT NOT NULL, furnisher TEXT NOT NULL, reference TEXT NOT NULL, kind TEXT NOT NULL,
         opened BIGINT NOT NULL, currency TEXT NOT NULL,
         PRIMARY KEY (subject_id, account_id, recorded_ms, batch_id)",
    ),
    (
        "reports",
        "subject_id BIGINT NOT NULL, account_id BIGINT NOT NULL, month BIGINT NOT NULL,
         recorded_ms BIGINT NOT NULL, batch_id BIGINT NOT NULL, balance_minor BIGINT NOT NULL,
         limit_minor BIGINT NOT NULL, paid_minor BIGINT NOT NULL, dpd BIGINT NOT NULL,
         status TEXT NOT NULL, delinquent_since BIGINT,
         PRIMARY KEY (subject_id, account_id, month, recorded_ms, batch_id)",
    ),
    (
        "inquiries",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, batch_id BIGINT NOT NULL,
         org_id TEXT NOT NULL, day BIGINT NOT NULL, purpose TEXT NOT NULL,
         PRIMARY KEY (subject_id, recorded_ms, batch_id, org_id, day, purpose)",
    ),
    (
        "court_records",
        "subject_id BIGINT NOT NULL, court TEXT NOT NULL, case_number TEXT NOT NULL,
         recorded_ms BIGINT NOT NULL, batch_id BIGINT NOT NULL, amount_minor BIGINT NOT NULL,
         currency TEXT NOT NULL, grounds TEXT NOT NULL, listed BIGINT NOT NULL, closed BIGINT,
         outcome TEXT, PRIMARY KEY (subject_id, court, case_number, recorded_ms, batch_id)",
    ),
    (
        "quarantine",
        "batch_id BIGINT NOT NULL, seq BIGINT NOT NULL, record_no BIGINT NOT NULL, subject_id BIGINT NOT NULL,
         rule TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (subject_id, batch_id, seq)",
    ),
    (
        "consents",
        "subject_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, org_id TEXT NOT NULL,
         purpose TEXT NOT NULL, granted BIGINT NOT NULL, until BIGINT NOT NULL, revoked BIGINT,
         PRIMARY KEY (subject_id, org_id, purpose, recorded_ms)",
    ),
];

/// PostgreSQL's migration steps, built from the table list so every fact table gets its
/// partitions.
pub fn postgres() -> Vec<String> {
    let mut sql = String::from(
        "CREATE TABLE organisations (
            org_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
            api_key_hash BYTEA, recorded_ms BIGINT NOT NULL);
        CREATE TABLE batches (
            batch_id BIGSERIAL PRIMARY KEY, digest BYTEA NOT NULL UNIQUE, furnisher TEXT NOT NULL,
            format TEXT NOT NULL, recorded_ms BIGINT NOT NULL, records BIGINT NOT NULL,
            applied BIGINT NOT NULL, quarantined BIGINT NOT NULL);
        CREATE TABLE subjects (
            subject_id BIGSERIAL PRIMARY KEY, subject_key BYTEA NOT NULL UNIQUE, scheme TEXT NOT NULL,
            masked TEXT NOT NULL, region TEXT, recorded_ms BIGINT NOT NULL);
        CREATE TABLE accounts (
            account_id BIGSERIAL PRIMARY KEY, subject_id BIGINT NOT NULL, furnisher TEXT NOT NULL,
            reference TEXT NOT NULL, UNIQUE (furnisher, reference));
        CREATE TABLE disputes (
            dispute_id BIGSERIAL PRIMARY KEY, subject_id BIGINT NOT NULL, opened_ms BIGINT NOT NULL,
            record_kind TEXT NOT NULL, record_ref TEXT NOT NULL);
        CREATE INDEX disputes_subject ON disputes (subject_id);
        CREATE TABLE dispute_steps (
            dispute_id BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, seq BIGINT NOT NULL, state TEXT NOT NULL,
            PRIMARY KEY (dispute_id, recorded_ms, seq));
        CREATE TABLE purges (
            purge_id BIGSERIAL PRIMARY KEY, recorded_ms BIGINT NOT NULL, today BIGINT NOT NULL,
            negative_years BIGINT NOT NULL, reports_deleted BIGINT NOT NULL,
            court_records_deleted BIGINT NOT NULL);
        ",
    );
    for (table, columns) in PG_FACTS {
        sql.push_str(&format!("CREATE TABLE {table} ({columns}) PARTITION BY HASH (subject_id);\n"));
        for i in 0..PG_PARTITIONS {
            sql.push_str(&format!(
                "CREATE TABLE {table}_p{i} PARTITION OF {table} FOR VALUES WITH (MODULUS {PG_PARTITIONS}, REMAINDER {i});\n"
            ));
        }
    }
    sql.push_str("CREATE INDEX court_records_case ON court_records (court, case_number);\n");
    let step2 = "CREATE TABLE log_leaves (
            leaf_index BIGINT PRIMARY KEY, recorded_ms BIGINT NOT NULL, kind TEXT NOT NULL,
            body TEXT NOT NULL, leaf_hash BYTEA NOT NULL);
        CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, timestamp_ms BIGINT NOT NULL, text TEXT NOT NULL);
        CREATE TABLE purged_rows (
            batch_id BIGINT NOT NULL, table_name TEXT NOT NULL, row_hash BYTEA NOT NULL, purge_id BIGINT NOT NULL);
        CREATE INDEX purged_rows_batch ON purged_rows (batch_id);
        CREATE INDEX reports_batch ON reports (batch_id);
        CREATE INDEX account_versions_batch ON account_versions (batch_id);
        CREATE INDEX inquiries_batch ON inquiries (batch_id);
        CREATE INDEX court_records_batch ON court_records (batch_id);
        CREATE INDEX subject_details_batch ON subject_details (batch_id);";
    vec![
        sql,
        step2.to_owned(),
        STEP_3.to_owned(),
        STEP_4.to_owned(),
        STEP_5.to_owned(),
        STEP_6.to_owned(),
        STEP_7.to_owned(),
        STEP_8.to_owned(),
        format!("{STEP_9}UPDATE log_leaves SET org_id = body::json->>'org' WHERE kind = 'notification';"),
        STEP_10.to_owned(),
        STEP_11.to_owned(),
        STEP_12_POSTGRES.to_owned(),
        STEP_13_POSTGRES.to_owned(),
        STEP_14.to_owned(),
        step_15_postgres(),
        STEP_16.to_owned(),
        step_17_postgres(),
    ]
}

// Every step is in the SQLite list, and the version says how many there are.
const _: () = assert!(SQLITE.len() as i64 == SCHEMA_VERSION);

#[cfg(test)]
mod tests {
    use candor_file::ids::SubjectKey;

    #[test]
    fn both_backends_have_every_step() {
        assert_eq!(super::postgres().len() as i64, super::SCHEMA_VERSION);
    }

    /// A person's records written by schema 14, in SQL either database reads (`{key}` is the
    /// subject key's literal).
    const V14_ROWS: &str = "
        INSERT INTO subjects (subject_key, scheme, masked, region, recorded_ms) VALUES ({other}, 'generic', '****0006', NULL, 1);
        INSERT INTO subjects (subject_key, scheme, masked, region, recorded_ms) VALUES ({key}, 'generic', '****0007', NULL, 1);
        INSERT INTO accounts (subject_id, furnisher, reference) VALUES (2, 'bank', 'A7');
        INSERT INTO enrolments (subject_id, recorded_ms, passphrase_hash, proofing) VALUES (2, 10, 'hash-7', 'code');
        INSERT INTO freezes (subject_id, recorded_ms, placed) VALUES (2, 11, 1);
        INSERT INTO statements (subject_id, recorded_ms, record_ref, text) VALUES (2, 12, 'A7/2020-02', 'paid');
        INSERT INTO second_factors (subject_id, recorded_ms, secret_sealed, recovery_hashes) VALUES (2, 13, 'abcd', 'r1');
        INSERT INTO disputes (subject_id, opened_ms, record_kind, record_ref, furnisher) VALUES (1, 13, 'report', 'X', NULL);
        INSERT INTO disputes (subject_id, opened_ms, record_kind, record_ref, furnisher) VALUES (2, 14, 'report', 'A7/2020-02', 'bank');
        INSERT INTO dispute_steps (dispute_id, recorded_ms, seq, state) VALUES (2, 14, 0, 'open');
        INSERT INTO dispute_steps (dispute_id, recorded_ms, seq, state) VALUES (2, 14, 1, 'furnisher_asked');
        INSERT INTO dispute_steps (dispute_id, recorded_ms, seq, state) VALUES (1, 13, 0, 'open');";

    /// A store at schema 14 holding [`V14_ROWS`] opens at 15 with every record still read the
    /// same, on SQLite and (with `DATABASE_URL`) on PostgreSQL, and takes new disputes after.
    #[test]
    fn a_version_14_store_upgrades_with_its_records() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v14.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)").expect("meta");
            for step in &super::SQLITE[..14] {
                conn.execute_batch(step).expect("step");
            }
            let rows = V14_ROWS.replace("{key}", &format!("X'{}'", "07".repeat(32)));
            conn.execute_batch(&rows.replace("{other}", &format!("X'{}'", "06".repeat(32)))).expect("rows");
            conn.execute_batch("INSERT INTO meta VALUES ('schema_version', 14)").expect("version");
        }
        upgraded(&path.display().to_string());
        let Ok(url) = std::env::var("DATABASE_URL") else { return };
        let schema = format!("candor_upgrade_{}", std::process::id());
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut sql = format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema};
             CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);"
        );
        for step in &super::postgres()[..14] {
            sql.push_str(step);
            sql.push_str(";\n");
        }
        let rows = V14_ROWS.replace("{key}", &format!("decode('{}', 'hex')", "07".repeat(32)));
        sql.push_str(&rows.replace("{other}", &format!("decode('{}', 'hex')", "06".repeat(32))));
        sql.push_str("; INSERT INTO meta VALUES ('schema_version', 14);");
        client.batch_execute(&sql).expect("a version 14 store");
        let sep = if url.contains('?') { '&' } else { '?' };
        upgraded(&format!("{url}{sep}schema={schema}"));
        client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("drop");
    }

    /// After step 16 a leaf is written to two indexes, or three when addressed: the leaves
    /// about a person and those addressed to an organisation are still found through an index
    /// (on SQLite, by its query plan).
    #[test]
    fn leaves_are_found_through_the_indexes_step_16_keeps() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("plan.db");
        drop(crate::Store::open(&path.display().to_string()).expect("store"));
        let conn = rusqlite::Connection::open(&path).expect("open");
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("plan");
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let rows = stmt.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3)).expect("rows");
            rows.map(|r| r.expect("row")).collect::<Vec<_>>().join("; ")
        };
        let about = plan(crate::log::LEAVES_ABOUT_PAGE);
        assert!(about.contains("USING INDEX log_leaves_subject_index") && !about.contains("TEMP B-TREE"), "{about}");
        let addressed = plan(crate::log::LEAVES_ADDRESSED);
        assert!(
            addressed.contains("USING INDEX log_leaves_addressed") && !addressed.contains("TEMP B-TREE"),
            "{addressed}"
        );
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'log_leaves' ORDER BY name")
            .expect("indexes");
        let indexes: Vec<String> = stmt.query_map([], |r| r.get(0)).expect("rows").map(|r| r.expect("row")).collect();
        assert_eq!(indexes, ["log_leaves_addressed", "log_leaves_subject_index"]);
    }

    fn upgraded(url: &str) {
        let mut store = crate::Store::open(url).expect("upgrade");
        let key = SubjectKey([7; 32]);
        assert_eq!(store.enrolment(&key).expect("enrolment").as_deref(), Some("hash-7"), "{url}");
        assert!(store.is_frozen(&key).expect("freeze"), "{url}");
        assert_eq!(store.statements(&key).expect("statements"), vec![("A7/2020-02".into(), "paid".into())]);
        assert_eq!(store.second_factor(&key).expect("2fa").map(|f| f.secret_sealed), Some(vec![0xab, 0xcd]));
        let disputes = store.disputes(&key).expect("disputes");
        assert_eq!(disputes.len(), 1, "{url}: only their own dispute");
        assert_eq!(disputes[0].state.as_str(), "furnisher_asked", "{url}");
        assert_eq!(store.dispute_steps(2).expect("steps").len(), 2, "{url}");
        assert_eq!(store.dispute(2).expect("dispute").map(|(_, k)| k), Some(key), "{url}");
        let next = store.open_dispute(&key, "report", "A7/2020-03", None, 20).expect("a new dispute");
        assert_eq!(next, 3, "{url}: numbers go on from the old ones");
        assert_eq!(store.disputes(&key).expect("disputes").len(), 2, "{url}");
    }
}
