//! The schema's rules for a distributed PostgreSQL (Citus): every table has a place
//! ([`candor_store::PLACEMENT`]); every table of one person's facts is keyed and partitioned by
//! subject, with every unique key holding the column it is distributed by; every statement a
//! person's own requests make touches that person's partition and no other; and docs/citus.md
//! gives the migration the code would run.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use candor_store::{Placement, Proofing, StoredClaim, PG_PARTITIONS, PLACEMENT};

use super::*;

fn placed(of: impl Fn(Placement) -> bool) -> BTreeSet<String> {
    PLACEMENT.iter().filter(|(_, p)| of(*p)).map(|(t, _)| (*t).to_owned()).collect()
}

fn pg_client(schema: &str) -> postgres::Client {
    let url = std::env::var("DATABASE_URL").expect("url");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    client.batch_execute(&format!("SET search_path TO \"{schema}\"")).expect("search path");
    client
}

/// The columns of each unique index of a table (the primary key's marked), by name.
fn unique_keys(client: &mut postgres::Client, table: &str) -> Vec<(bool, BTreeSet<String>)> {
    let rows = client
        .query(
            "SELECT i.indisprimary, array_agg(a.attname::text) FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::text::regclass AND i.indisunique GROUP BY i.indexrelid, i.indisprimary",
            &[&table],
        )
        .expect("keys");
    rows.iter().map(|r| (r.get::<_, bool>(0), r.get::<_, Vec<String>>(1).into_iter().collect())).collect()
}

#[test]
fn every_table_has_a_place_and_each_place_keeps_its_rules() {
    let listed = placed(|_| true);
    assert_eq!(listed.len(), PLACEMENT.len(), "a table is listed twice");
    for backend in backends("citus_rules") {
        drop(Store::open(&backend.url).expect("open"));
        match &backend.schema {
            None => {
                let conn = rusqlite::Connection::open(&backend.url).expect("open");
                let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").expect("tables");
                let tables: BTreeSet<String> =
                    stmt.query_map([], |r| r.get(0)).expect("tables").collect::<Result<_, _>>().expect("names");
                assert_eq!(tables, listed, "sqlite: every table, and only those, has a place");
                for table in placed(|p| p == Placement::Subject) {
                    let mut cols =
                        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')")).expect("cols");
                    let names: Vec<String> =
                        cols.query_map([], |r| r.get(0)).expect("cols").collect::<Result<_, _>>().expect("names");
                    assert!(names.iter().any(|c| c == "subject_id"), "sqlite: {table} names its subject");
                }
            }
            Some(schema) => {
                let mut client = pg_client(schema);
                let tables: BTreeSet<String> = client
                    .query(
                        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
                        &[schema],
                    )
                    .expect("tables")
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                assert_eq!(tables, listed, "postgres: every table, and only those, has a place");
                for (table, placement) in PLACEMENT {
                    let column = match placement {
                        Placement::Subject => "subject_id",
                        Placement::Directory(column) => column,
                        Placement::Reference | Placement::Coordinator => continue,
                    };
                    let keys = unique_keys(&mut client, table);
                    for (_, columns) in &keys {
                        assert!(columns.contains(column), "{table}: the unique key {columns:?} lacks {column}");
                    }
                    if *placement == Placement::Subject {
                        assert!(keys.iter().any(|(primary, _)| *primary), "{table} has a primary key");
                        let row = client
                            .query_one(
                                "SELECT p.partstrat::text, a.attname::text, \
                                 (SELECT COUNT(*) FROM pg_inherits h WHERE h.inhparent = p.partrelid) \
                                 FROM pg_partitioned_table p JOIN pg_attribute a \
                                 ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] \
                                 WHERE p.partrelid = $1::text::regclass",
                                &[table],
                            )
                            .unwrap_or_else(|e| panic!("{table} is not partitioned: {e}"));
                        let (strategy, by, parts): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
                        assert_eq!((strategy.as_str(), by.as_str()), ("h", "subject_id"), "{table}: hash by subject");
                        assert_eq!(parts, i64::from(PG_PARTITIONS), "{table}: its partitions");
                    }
                }
                let subjects = unique_keys(&mut client, "subjects");
                assert!(
                    subjects.iter().any(|(primary, cols)| *primary && cols.len() == 1 && cols.contains("subject_key")),
                    "the subjects directory is keyed by the identifier's keyed hash: {subjects:?}"
                );
            }
        }
    }
}

#[test]
fn the_migration_in_the_docs_is_the_one_the_code_states() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/citus.md");
    let doc = std::fs::read_to_string(&path).expect("docs/citus.md");
    let migration = candor_store::citus_migration();
    assert!(doc.contains(&migration), "docs/citus.md must quote candor_store::citus_migration():\n{migration}");
    for (table, _) in PLACEMENT {
        assert_eq!(migration.matches(&format!("('{table}'")).count(), 1, "{table} is placed once");
    }
}

/// Each partition's reads and writes so far, by name: scans, inserts, updates, deletes.
#[test]
fn the_store_names_the_partition_the_server_routes_each_subject_to() {
    for backend in backends("citus_hash") {
        let Some(schema) = backend.schema.clone() else { continue };
        drop(Store::open(&backend.url).expect("open"));
        let mut client = pg_client(&schema);
        // Small ids, ids past 32 bits, negative ones and the extremes.
        let mut ids: Vec<i64> = (1..=20_000).collect();
        ids.extend((0..2_000).map(|k| (k * 7_919 + 1) << 31));
        ids.extend((1..=2_000).map(|k: i64| -k * 1_000_003));
        ids.extend([0, i64::MAX, i64::MIN, i64::from(u32::MAX), -i64::from(u32::MAX)]);
        let parts: Vec<i32> = ids.iter().map(|&id| candor_store::pg_partition(id) as i32).collect();
        let wrong: Vec<i64> = client
            .query(
                "SELECT id FROM unnest($1::bigint[], $2::int[]) AS t(id, part) \
                 WHERE NOT satisfies_hash_partition('reports'::regclass, $3, part, id)",
                &[&ids, &parts, &(PG_PARTITIONS as i32)],
            )
            .expect("hash")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(wrong.is_empty(), "the server puts these subjects elsewhere: {:?}", &wrong[..wrong.len().min(10)]);
    }
}

fn activity(client: &mut postgres::Client, schema: &str) -> HashMap<String, i64> {
    client
        .query(
            "SELECT relname::text, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del \
             FROM pg_stat_user_tables WHERE schemaname = $1",
            &[&schema],
        )
        .expect("stats")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Waits until the counters show `ready` (a closed connection's counts reach the statistics a
/// moment after it closes), then a moment more so all of that connection's counts are in.
fn settled(client: &mut postgres::Client, schema: &str, ready: impl Fn(&HashMap<String, i64>) -> bool) {
    let start = Instant::now();
    while !ready(&activity(client, schema)) {
        assert!(start.elapsed() < Duration::from_secs(30), "the statistics never showed the work");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
}

#[test]
fn a_persons_own_requests_touch_their_partition_only() {
    for backend in backends("citus_route") {
        // Partitions exist on PostgreSQL only; there the statistics count each one's reads.
        let Some(schema) = backend.schema.clone() else { continue };
        let people: u8 = 16;
        let mut b = Batch::new([9; 32], org("bank", OrgKind::Lender), "jsonl");
        b.subjects = (1..=people).map(subject).collect();
        b.accounts =
            (1..=people).map(|n| (SubjectKey([n; 32]), account(&format!("A{n}"), AccountKind::Card))).collect();
        b.reports = (1..=people)
            .flat_map(|n| {
                let a = format!("A{n}");
                [report(0, n, &a, "2020-02", 0, 500), report(0, n, &a, "2020-03", 0, 400)]
            })
            .collect();
        b.records = b.accounts.len() + b.reports.len();
        let reports = b.reports.len() as i64;
        let key = SubjectKey([5; 32]);
        let sid = {
            let mut store = Store::open(&backend.url).expect("open");
            store.apply(&b, 1_000).expect("apply");
            store.subject_id(&key).expect("id").expect("on file")
        };
        let mut client = pg_client(&schema);
        settled(&mut client, &schema, |a| {
            (0..PG_PARTITIONS).map(|i| a.get(&format!("reports_p{i}")).copied().unwrap_or(0)).sum::<i64>() >= reports
        });
        let home: u32 = (0..PG_PARTITIONS)
            .find(|i| {
                client
                    .query_one(
                        "SELECT satisfies_hash_partition('reports'::regclass, $1, $2, $3::bigint)",
                        &[&(PG_PARTITIONS as i32), &(*i as i32), &sid],
                    )
                    .expect("hash")
                    .get::<_, bool>(0)
            })
            .expect("a partition");
        assert_eq!(home, candor_store::pg_partition(sid), "the partition the store names for subject {sid}");
        let before = activity(&mut client, &schema);

        {
            let mut store = Store::open(&backend.url).expect("open");
            let t = 5_000;
            let me = subject(5);
            let bank = OrgId::parse("bank").expect("org");
            store.file(&key, &read_at(i64::MAX, "2026-06-01")).expect("file").expect("a file");
            store.received(&key).expect("received");
            let consent = shop_consent();
            store.put_consent(&key, &consent, t).expect("consent");
            assert_eq!(store.consents(&key, i64::MAX).expect("consents").len(), 1);
            store.put_activation(&me, "code-hash", t, t + 60_000).expect("activation");
            assert!(store.use_activation(&key, "code-hash", t + 1).expect("use"));
            store.enrol(&me, Some("pass-hash"), Proofing::Code, t).expect("enrol");
            assert_eq!(store.enrolment(&key).expect("enrolment").as_deref(), Some("pass-hash"));
            store.sign_in_hashes(&key).expect("hashes");
            store.put_second_factor(&key, b"sealed", "r1,r2", t).expect("2fa");
            store.confirm_second_factor(&key, 7, t).expect("confirm");
            store.use_second_factor_step(&key, 8).expect("step");
            store.set_recovery_hashes(&key, "r2").expect("recovery");
            assert!(store.second_factor(&key).expect("2fa").is_some());
            store.remove_second_factor(&key).expect("off");
            store.set_freeze(&key, true, t).expect("freeze");
            assert!(store.is_frozen(&key).expect("frozen"));
            store.set_freeze(&key, false, t + 1).expect("lift");
            store.put_statement(&key, "A5/2020-02", "I paid on time", t).expect("statement");
            assert_eq!(store.statements(&key).expect("statements").len(), 1);
            let id = store.open_dispute(&key, "report", "A5/2020-02", Some(&bank), t).expect("dispute");
            let claim = StoredClaim {
                reason: "not_mine".into(),
                text_sealed: b"sealed words".to_vec(),
                evidence: None,
                claim_sha256: [3; 32],
            };
            store.put_claim(&key, id, &claim).expect("claim");
            assert_eq!(store.claim(&key, id).expect("claim"), Some(claim));
            assert_eq!(store.disputes(&key).expect("disputes").len(), 1);
            store.withdraw(&key, t + 2).expect("withdraw");
        }

        let after = |client: &mut postgres::Client| -> HashMap<String, i64> {
            activity(client, &schema)
                .into_iter()
                .map(|(table, n)| {
                    let then = before.get(&table).copied().unwrap_or(0);
                    (table, n - then)
                })
                .collect()
        };
        let claims = format!("dispute_claims_p{home}");
        let claims_before = before.get(&claims).copied().unwrap_or(0);
        settled(&mut client, &schema, |a| a.get(&claims).copied().unwrap_or(0) > claims_before);
        let changed = after(&mut client);
        for table in placed(|p| p == Placement::Subject) {
            for i in 0..PG_PARTITIONS {
                let n = changed.get(&format!("{table}_p{i}")).copied().unwrap_or(0);
                assert!(i == home || n == 0, "{table}_p{i} was touched {n} times for a subject of partition {home}");
            }
        }
        for table in [
            "reports",
            "account_versions",
            "consents",
            "enrolments",
            "activation_codes",
            "second_factors",
            "freezes",
            "statements",
            "disputes",
            "dispute_steps",
            "dispute_claims",
        ] {
            let n = changed.get(&format!("{table}_p{home}")).copied().unwrap_or(0);
            assert!(n > 0, "{table}_p{home}: the person's own partition shows the work (the measure works)");
        }
    }
}
