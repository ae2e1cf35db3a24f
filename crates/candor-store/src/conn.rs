//! One small interface over the two databases, so every query is written once.
//!
//! Statements use `$1, $2, ...` placeholders, PostgreSQL's; for SQLite they become `?1, ?2, ...`
//! (no statement has a `$` anywhere else). Every integer is 64-bit (`BIGINT` on PostgreSQL), text is text, bytes are `BLOB` or
//! `BYTEA`.

use crate::StoreError;

#[derive(Clone, Debug)]
pub enum Param<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    Bytes(&'a [u8]),
    OptBytes(Option<&'a [u8]>),
    /// Lists bind as one array, on PostgreSQL only (SQLite refuses them): for a lookup of many
    /// keys, or an insert of many rows (an array a column), in one statement whose plan does not
    /// depend on how many there are. An absent element is NULL.
    IntList(Vec<Option<i64>>),
    TextList(Vec<Option<&'a str>>),
    BytesList(Vec<Option<&'a [u8]>>),
}

impl<'a> Param<'a> {
    /// `values` as one list parameter, with the PostgreSQL type of its elements: `None` unless
    /// there are some and all are integers, all text or all bytes (each present or absent).
    pub(crate) fn list<'p>(values: impl IntoIterator<Item = &'p Param<'a>>) -> Option<(Param<'a>, &'static str)>
    where
        'a: 'p,
    {
        fn all<'p, 'a: 'p, T>(
            values: impl Iterator<Item = &'p Param<'a>>,
            one: impl Fn(&Param<'a>) -> Option<Option<T>>,
        ) -> Option<Vec<Option<T>>> {
            values.map(one).collect()
        }
        let mut values = values.into_iter().peekable();
        Some(match values.peek()? {
            Param::Int(_) | Param::OptInt(_) => (Param::IntList(all(values, Param::int)?), "bigint"),
            Param::Text(_) | Param::OptText(_) => (Param::TextList(all(values, Param::text)?), "text"),
            Param::Bytes(_) | Param::OptBytes(_) => (Param::BytesList(all(values, Param::bytes)?), "bytea"),
            _ => return None,
        })
    }

    /// An integer, present or absent; `None` for another kind of value.
    fn int(&self) -> Option<Option<i64>> {
        match self {
            Param::Int(v) => Some(Some(*v)),
            Param::OptInt(v) => Some(*v),
            _ => None,
        }
    }

    fn text(&self) -> Option<Option<&'a str>> {
        match self {
            Param::Text(v) => Some(Some(*v)),
            Param::OptText(v) => Some(*v),
            _ => None,
        }
    }

    fn bytes(&self) -> Option<Option<&'a [u8]>> {
        match self {
            Param::Bytes(v) => Some(Some(*v)),
            Param::OptBytes(v) => Some(*v),
            _ => None,
        }
    }
}

/// A column's value whatever its type, for hashing whole rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Any {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A row as the caller reads it, by column position.
pub trait Row {
    fn any(&self, i: usize) -> Result<Any, StoreError>;
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
}

/// What the store's queries need of an open transaction.
pub trait Tx {
    /// Makes appends to the transparency log one at a time across connections (SQLite has one
    /// writer already).
    fn lock_log(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError>;

    /// Whether each statement is a round trip to a server (PostgreSQL), so that reads of one
    /// person's several tables are better asked in one statement.
    fn round_trips(&self) -> bool {
        false
    }

    /// Adds `rows` to `table` (values in `columns`' order). For rows new by construction (each
    /// carries its batch's own id, duplicates already dropped), so nothing can conflict:
    /// PostgreSQL streams them in one binary `COPY`, SQLite runs multi-row INSERTs.
    fn append_rows<const N: usize>(
        &mut self,
        table: &str,
        columns: [&str; N],
        rows: &[[Param<'_>; N]],
    ) -> Result<(), StoreError>
    where
        Self: Sized,
    {
        let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        crate::write::insert_rows(self, &head, "", rows)
    }

    /// Runs `sql` and calls `each` on every row, in order, without holding all rows at once.
    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    fn query_one<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError>
    where
        Self: Sized,
    {
        let mut found = None;
        self.query(sql, params, &mut |row| {
            if found.is_none() {
                found = Some(read(row)?);
            }
            Ok(())
        })?;
        Ok(found)
    }
}

// ---- SQLite ----

fn sqlite_value<'a>(
    p: &'a Param<'a>,
) -> Result<rusqlite::types::ToSqlOutput<'a>, Box<dyn std::error::Error + Send + Sync>> {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    Ok(match p {
        Param::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
        Param::OptInt(v) => ToSqlOutput::Owned(v.map_or(Value::Null, Value::Integer)),
        Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Param::OptText(s) => {
            s.map_or(ToSqlOutput::Owned(Value::Null), |s| ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())))
        }
        Param::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Param::OptBytes(b) => b.map_or(ToSqlOutput::Owned(Value::Null), |b| ToSqlOutput::Borrowed(ValueRef::Blob(b))),
        Param::IntList(_) | Param::TextList(_) | Param::BytesList(_) => return Err(NO_LISTS.into()),
    })
}

/// Why a list parameter cannot bind on SQLite.
const NO_LISTS: &str = "SQLite has no array parameters: a list binds only on PostgreSQL";

struct Bind<'a>(&'a Param<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        sqlite_value(self.0).map_err(rusqlite::Error::ToSqlConversionFailure)
    }
}

fn sqlite_params<'a>(params: &'a [Param<'a>]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(params.iter().map(Bind))
}

impl Row for rusqlite::Row<'_> {
    fn any(&self, i: usize) -> Result<Any, StoreError> {
        use rusqlite::types::ValueRef;
        Ok(match self.get_ref(i)? {
            ValueRef::Null => Any::Null,
            ValueRef::Integer(v) => Any::Int(v),
            ValueRef::Real(v) => Any::Text(v.to_string()),
            ValueRef::Text(t) => Any::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Any::Bytes(b.to_vec()),
        })
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(i)?)
    }
}

/// SQLite reads `$1` as a parameter *named* "$1" and finds names by a linear search, which is
/// quadratic in a many-row INSERT; `?1` is the same parameter by number.
fn sqlite_sql(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.contains('$') {
        std::borrow::Cow::Owned(sql.replace('$', "?"))
    } else {
        std::borrow::Cow::Borrowed(sql)
    }
}

/// A transaction's statements on SQLite: a transaction of its own outside a unit of work
/// ([`crate::Store::unit`]), a savepoint nested in one (and for reads).
macro_rules! sqlite_tx {
    ($($ty:ty),*) => {$(
impl Tx for $ty {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let mut stmt = self.prepare_cached(&sqlite_sql(sql))?;
        Ok(stmt.execute(sqlite_params(params))? as u64)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.prepare_cached(&sqlite_sql(sql))?;
        let mut rows = stmt.query(sqlite_params(params))?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }
}
    )*};
}
sqlite_tx!(rusqlite::Savepoint<'_>, rusqlite::Transaction<'_>);

// ---- PostgreSQL ----

type PgParam<'a> = Box<dyn postgres::types::ToSql + Sync + 'a>;

fn pg_params<'a>(params: &'a [Param<'a>]) -> Vec<PgParam<'a>> {
    params
        .iter()
        .map(|p| -> PgParam<'a> {
            match p {
                Param::Int(v) => Box::new(*v),
                Param::OptInt(v) => Box::new(*v),
                Param::Text(s) => Box::new(*s),
                Param::OptText(s) => Box::new(*s),
                Param::Bytes(b) => Box::new(*b),
                Param::OptBytes(b) => Box::new(*b),
                Param::IntList(v) => Box::new(v),
                Param::TextList(v) => Box::new(v),
                Param::BytesList(v) => Box::new(v),
            }
        })
        .collect()
}

fn refs<'a>(boxed: &'a [PgParam<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    boxed.iter().map(|b| b.as_ref() as &(dyn postgres::types::ToSql + Sync)).collect()
}

impl Row for postgres::Row {
    fn any(&self, i: usize) -> Result<Any, StoreError> {
        use postgres::types::Type;
        let column = &self.columns()[i];
        let ty = column.type_();
        Ok(if *ty == Type::INT8 {
            self.try_get::<_, Option<i64>>(i)?.map_or(Any::Null, Any::Int)
        } else if *ty == Type::BYTEA {
            self.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Any::Null, Any::Bytes)
        } else {
            self.try_get::<_, Option<String>>(i)?.map_or(Any::Null, Any::Text)
        })
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// Rows fetched per round trip when streaming from PostgreSQL: bounds memory on big scans.
const PG_FETCH_ROWS: i32 = 5_000;

/// Most statements a connection keeps prepared; past it the cache starts over (ingestion builds
/// multi-row inserts of many sizes).
const PG_MAX_STATEMENTS: usize = 256;

/// A connection's prepared statements, by SQL text: prepared once per connection, not once per
/// transaction (a statement outlives the transaction that prepared it).
pub type PgStatements = std::collections::HashMap<String, postgres::Statement>;

/// Longest statement kept prepared for the connection's life; longer ones (ingestion's
/// multi-row inserts) are kept for their transaction only: held across transactions, they made
/// ingestion a third slower.
const PG_LONG_STATEMENT: usize = 2_048;

/// A PostgreSQL transaction with its connection's prepared statements (and its own, for long
/// ones).
pub struct PgTx<'a> {
    pub tx: postgres::Transaction<'a>,
    statements: &'a mut PgStatements,
    long: PgStatements,
}

impl<'a> PgTx<'a> {
    pub fn new(tx: postgres::Transaction<'a>, statements: &'a mut PgStatements) -> PgTx<'a> {
        PgTx { tx, statements, long: PgStatements::new() }
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        let cache = if sql.len() > PG_LONG_STATEMENT { &mut self.long } else { &mut *self.statements };
        prepared(&mut self.tx, cache, sql)
    }
}

/// `sql` prepared on this connection, from its cache or now.
fn prepared(
    client: &mut impl postgres::GenericClient,
    statements: &mut PgStatements,
    sql: &str,
) -> Result<postgres::Statement, StoreError> {
    if let Some(stmt) = statements.get(sql) {
        return Ok(stmt.clone());
    }
    if statements.len() >= PG_MAX_STATEMENTS {
        statements.clear();
    }
    let stmt = client.prepare(sql)?;
    statements.insert(sql.to_owned(), stmt.clone());
    Ok(stmt)
}

/// Reads on a PostgreSQL connection outside a transaction, each statement on its own: for the
/// small reads a request makes, this saves the BEGIN and COMMIT round trips. Nothing it reads
/// needs a snapshot across statements (the file is append-only). Not for big scans: rows are not
/// fetched in bounded portions.
///
/// Inside a unit of work ([`crate::Store::unit`]) the same statements run in the unit's one
/// transaction, begun and ended by the unit; appends to the log then take the log's lock.
pub struct PgAuto<'a> {
    client: &'a mut postgres::Client,
    statements: &'a mut PgStatements,
    in_unit: bool,
}

impl<'a> PgAuto<'a> {
    pub fn new(client: &'a mut postgres::Client, statements: &'a mut PgStatements, in_unit: bool) -> PgAuto<'a> {
        PgAuto { client, statements, in_unit }
    }
}

/// The transaction-scoped advisory lock that makes log appends one at a time across connections
/// (also taken by schema step 17's `log_append`).
macro_rules! pg_log_lock {
    () => {
        "pg_advisory_xact_lock(7244)"
    };
}
pub(crate) use pg_log_lock;
const PG_LOG_LOCK: &str = concat!("SELECT ", pg_log_lock!());

/// The PostgreSQL type a parameter binds as (every integer is `BIGINT`).
fn pg_type(p: &Param<'_>) -> postgres::types::Type {
    use postgres::types::Type;
    match p {
        Param::Int(_) | Param::OptInt(_) => Type::INT8,
        Param::Text(_) | Param::OptText(_) => Type::TEXT,
        Param::Bytes(_) | Param::OptBytes(_) => Type::BYTEA,
        Param::IntList(_) => Type::INT8_ARRAY,
        Param::TextList(_) => Type::TEXT_ARRAY,
        Param::BytesList(_) => Type::BYTEA_ARRAY,
    }
}

/// Streams `rows` into `table` with one binary `COPY`: no statement to plan, no parameters to
/// bind, rows routed to their partitions by the server.
fn pg_copy<const N: usize>(
    client: &mut impl postgres::GenericClient,
    table: &str,
    columns: [&str; N],
    rows: &[[Param<'_>; N]],
) -> Result<(), StoreError> {
    let Some(first) = rows.first() else { return Ok(()) };
    let types: Vec<postgres::types::Type> = first.iter().map(pg_type).collect();
    let sink = client.copy_in(&format!("COPY {table} ({}) FROM STDIN (FORMAT binary)", columns.join(", ")))?;
    let mut writer = postgres::binary_copy::BinaryCopyInWriter::new(sink, &types);
    for row in rows {
        let boxed = pg_params(row);
        writer.write(&refs(&boxed))?;
    }
    writer.finish()?;
    Ok(())
}

/// Runs a prepared statement that returns no rows; how many it changed.
fn pg_execute(
    client: &mut impl postgres::GenericClient,
    stmt: &postgres::Statement,
    params: &[Param<'_>],
) -> Result<u64, StoreError> {
    let boxed = pg_params(params);
    Ok(client.execute(stmt, &refs(&boxed))?)
}

impl Tx for PgAuto<'_> {
    fn round_trips(&self) -> bool {
        true
    }

    fn lock_log(&mut self) -> Result<(), StoreError> {
        // Outside a unit, PgAuto only reads: nothing to order.
        if self.in_unit {
            self.client.batch_execute(PG_LOG_LOCK)?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let stmt = prepared(self.client, self.statements, sql)?;
        pg_execute(self.client, &stmt, params)
    }

    fn append_rows<const N: usize>(
        &mut self,
        table: &str,
        columns: [&str; N],
        rows: &[[Param<'_>; N]],
    ) -> Result<(), StoreError> {
        pg_copy(self.client, table, columns, rows)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = prepared(self.client, self.statements, sql)?;
        let boxed = pg_params(params);
        for row in &self.client.query(&stmt, &refs(&boxed))? {
            each(row)?;
        }
        Ok(())
    }
}

impl Tx for PgTx<'_> {
    fn round_trips(&self) -> bool {
        true
    }

    fn lock_log(&mut self) -> Result<(), StoreError> {
        self.tx.batch_execute(PG_LOG_LOCK)?;
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        pg_execute(&mut self.tx, &stmt, params)
    }

    fn append_rows<const N: usize>(
        &mut self,
        table: &str,
        columns: [&str; N],
        rows: &[[Param<'_>; N]],
    ) -> Result<(), StoreError> {
        pg_copy(&mut self.tx, table, columns, rows)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = self.statement(sql)?;
        let boxed = pg_params(params);
        let portal = self.tx.bind(&stmt, &refs(&boxed))?;
        loop {
            let rows = self.tx.query_portal(&portal, PG_FETCH_ROWS)?;
            for row in &rows {
                each(row)?;
            }
            if rows.len() < PG_FETCH_ROWS as usize {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_one_kind_and_binds_on_postgresql_only() {
        let keys = [Param::Bytes(b"a"), Param::Bytes(b"b")];
        assert!(
            matches!(Param::list(&keys), Some((Param::BytesList(v), "bytea")) if v == [Some(&b"a"[..]), Some(b"b")])
        );
        let column = [Param::OptInt(None), Param::Int(2)];
        assert!(matches!(Param::list(&column), Some((Param::IntList(v), "bigint")) if v == [None, Some(2)]), "absent");
        assert!(Param::list(&[Param::Int(1), Param::Text("2")]).is_none(), "mixed kinds");
        assert!(Param::list(&[Param::IntList(vec![])]).is_none(), "a list of lists");
        assert!(Param::list(&[]).is_none(), "nothing to list");
        let mut conn = rusqlite::Connection::open_in_memory().expect("sqlite");
        let mut tx = conn.transaction().expect("tx");
        let (list, _) = Param::list(&keys).expect("list");
        let refused = tx.query("SELECT $1", &[list], &mut |_| Ok(())).expect_err("SQLite has no arrays");
        assert!(refused.to_string().contains(NO_LISTS), "{refused}");
    }
}
