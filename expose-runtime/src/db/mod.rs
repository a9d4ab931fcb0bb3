//! The database: the handle that routers take from the application's state, each backend's
//! driver and dialect, the write's point of no return, and what database errors mean.

mod commit;
mod dialect;
mod driver;
pub(crate) mod error;
mod placeholders;
mod row;
mod sqlite_memory;
mod write_queue;

pub(crate) use commit::{Sent, WriteTx};
pub(crate) use dialect::{Bound, Containment, Dialect, Like, Upsert};
pub(crate) use driver::{Driver, Tx};
pub(crate) use placeholders::rewrite as placeholders;
pub(crate) use row::json as json_of;
pub use row::{ColumnError, ColumnIndex, FromRow, FromValue, Row};
pub(crate) use write_queue::{turn as write_turn, Turn as WriteTurn};

/// A state the routers of `#[expose]` can serve on: a [`Db`] taken from it with `FromRef`
/// (a `Db` itself, or your own state struct with `impl FromRef<MyState> for Db`).
/// Implemented for every such state; a state without it is told what to write.
#[diagnostic::on_unimplemented(
    message = "the routers of `#[expose]` cannot take a `Db` from the state `{Self}`",
    label = "a state without a `Db`",
    note = "give the state a `db: Db` field and write `impl axum::extract::FromRef<{Self}> for expose_runtime::Db {{ fn from_ref(s: &{Self}) -> Self {{ s.db.clone() }} }}`, or serve the router `.with_state(db)`"
)]
pub trait DbState: Clone + Send + Sync + 'static {
    /// The database, taken from the state.
    fn db(&self) -> Db;
}

#[diagnostic::do_not_recommend]
impl<S> DbState for S
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    fn db(&self) -> Db {
        Db::from_ref(self)
    }
}

use crate::value::Value;
use axum::extract::FromRef;
use sqlx::{MySqlPool, PgPool, SqlitePool};

/// A connection pool of one of the supported backends.
///
/// Put it (or a pool of one backend, which converts into it) in your axum state; the routers
/// that `#[expose]` generates take it with `FromRef`, so any state type works:
///
/// ```no_run
/// # async fn run() -> Result<(), sqlx::Error> {
/// use expose_runtime::Db;
/// let db = Db::connect("sqlite::memory:").await?;
/// let pool: sqlx::PgPool = sqlx::PgPool::connect_lazy("postgres://localhost/app")?;
/// let same_kind: Db = pool.into();
/// # let _ = (db, same_kind); Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite, bundled with the crate.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    MySql(MySqlPool),
}

/// Which backend a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Db {
    /// Connects by URL: `sqlite:...`, `postgres://...` or `mysql://...`.
    ///
    /// A SQLite file that does not exist yet is created. SQLite connections use WAL (for a
    /// file), foreign keys, a 5 s busy timeout, a row channel long enough for a page of
    /// 1 000 rows, and the `expose_decimal` collation that compares `Decimal` fields
    /// ([`sqlite_collation`](crate::sqlite_collation)).
    ///
    /// **Memory on SQLite** is bounded per connection ([`PoolConfig::max_connections`],
    /// default 10): each holds SQLite's page cache (`cache_size` at SQLite's default, -2000:
    /// at most about 2 MB, and never more pages than it has read) and sqlx's cache of at most
    /// 100 prepared statements, and runs on a thread of its own. In WAL mode a connection
    /// drops its page cache whenever another one has written, so under mixed load the caches
    /// stay far below that bound (SQLite's whole heap: 1–5 MiB for 10 connections in the soak
    /// of `bench/SOAK.md`). The runtime's own statement texts are bounded too (128 shapes per
    /// resource and backend). The process's RSS still rises over the first minutes of such a
    /// load (28 → 30 MiB from the 10th second to the 3rd minute, slowing): not SQLite's, nor
    /// the server's (what they hold stays level), but glibc's per-thread caches of freed
    /// blocks (at most 7 of each small size per thread) and the arena space they keep from
    /// being reused. With those caches off (`GLIBC_TUNABLES=glibc.malloc.tcache_count=0`) RSS
    /// stays level from the 10th second; `MALLOC_ARENA_MAX=2` keeps it at 20–22 MiB.
    ///
    /// **SQLite's memory statistics are turned off** the first time SQLite is opened this
    /// way in a process, before SQLite starts: with them on, every allocation and free of
    /// SQLite takes one process-wide mutex, and a page of rows allocated on the
    /// connections' threads and freed on tokio's makes them queue on it (at 32 connections
    /// on 2 cores, half the CPU time of a list with SQLite went to that queue).
    /// `sqlite3_memory_used` then reads 0; [`PoolConfig::sqlite_memory_statistics`] keeps
    /// them. Where SQLite was already started by other code, nothing changes.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        Db::connect_with(url, PoolConfig::default()).await
    }

    /// Connects by URL with pool settings.
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Db, sqlx::Error> {
        fn options<DB: sqlx::Database>(c: &PoolConfig) -> sqlx::pool::PoolOptions<DB> {
            sqlx::pool::PoolOptions::<DB>::new()
                .max_connections(c.max_connections)
                .acquire_timeout(c.acquire_timeout)
        }
        use std::str::FromStr;
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
            if let Some(t) = config.statement_timeout {
                opts = opts.options([("statement_timeout", t.as_millis().to_string())]);
            }
            Ok(Db::Postgres(options(&config).connect_with(opts).await?))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let millis = config.statement_timeout.map(|t| t.as_millis());
            let pool = options(&config)
                .after_connect(move |conn, _| mysql_statement_timeout(conn, millis))
                .connect(&url)
                .await?;
            Ok(Db::MySql(pool))
        } else if url.starts_with("sqlite:") {
            if !config.sqlite_memory_statistics {
                sqlite_memory::statistics_off();
            }
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(5))
                .row_buffer_size(SQLITE_ROW_CHANNEL);
            let opts = crate::decimal::sqlite_collation(opts);
            let opts = if url.contains(":memory:") || url.contains("mode=memory") {
                opts
            } else {
                opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            };
            Ok(Db::Sqlite(options(&config).connect_with(opts).await?))
        } else {
            Err(sqlx::Error::Configuration(
                "database URL must start with sqlite:, postgres:// or mysql://".into(),
            ))
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
            Db::MySql(_) => Backend::MySql,
        }
    }

    /// Runs one SQL statement without parameters (schema set-up, seeding).
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            Db::MySql(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
        })
    }

    /// Runs a query that returns one integer (`SELECT COUNT(*) ...`), of any integer type
    /// (PostgreSQL's `SELECT 1` is an `INTEGER`, its `COUNT(*)` a `BIGINT`).
    ///
    /// ```no_run
    /// # async fn run(db: expose_runtime::Db) -> Result<(), sqlx::Error> {
    /// assert_eq!(db.fetch_i64("SELECT 1").await?, 1);
    /// # Ok(()) }
    /// ```
    pub async fn fetch_i64(&self, sql: &str) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) = self.fetch_one(sql, &[]).await?;
        Ok(n)
    }

    /// Runs a query on a connection of the pool and decodes its first row; no row is
    /// [`sqlx::Error::RowNotFound`].
    ///
    /// User queries write placeholders as `?` on every backend (they become `$1, $2, ...` on
    /// PostgreSQL; a `?` inside a string literal, a quoted identifier or a comment is left
    /// alone, and the count of placeholders must match the values). A row comes back as a
    /// [`Row`], a tuple, or any [`FromRow`] type:
    ///
    /// ```no_run
    /// # async fn run(db: expose_runtime::Db) -> Result<(), sqlx::Error> {
    /// use expose_runtime::{Row, Value};
    ///
    /// let row: Row = db.fetch_one("SELECT id, name FROM members WHERE token = ?", &["ann-token".into()]).await?;
    /// let id: i64 = row.get("id")?;
    /// let (open,): (i64,) = db
    ///     .fetch_one("SELECT COUNT(*) FROM loans WHERE member_id = ? AND returned_at IS NULL", &[Value::I64(id)])
    ///     .await?;
    /// # let _ = open; Ok(()) }
    /// ```
    ///
    /// PostgreSQL's `jsonb` operators spelled with `?` (`?`, `?|`, `?&`) would be taken for
    /// placeholders: use the functions `jsonb_exists`, `jsonb_exists_any`,
    /// `jsonb_exists_all`. Dollar-quoted strings (`$$ ... $$`) are not recognised.
    pub async fn fetch_one<T: FromRow>(&self, sql: &str, args: &[Value]) -> Result<T, sqlx::Error> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs a query on a connection of the pool and decodes its first row, if any (see
    /// [`Db::fetch_one`]).
    ///
    /// ```no_run
    /// # async fn run(db: expose_runtime::Db) -> Result<(), sqlx::Error> {
    /// let member: Option<(i64, bool)> = db
    ///     .fetch_optional("SELECT id, staff FROM members WHERE token = ?", &["ann-token".into()])
    ///     .await?;
    /// # let _ = member; Ok(()) }
    /// ```
    pub async fn fetch_optional<T: FromRow>(
        &self,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<T>, sqlx::Error> {
        let row = match self {
            Db::Sqlite(p) => {
                first::<sqlx::Sqlite>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
            Db::Postgres(p) => {
                first::<sqlx::Postgres>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
            Db::MySql(p) => {
                first::<sqlx::MySql>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
        }?;
        Ok(row.map(T::from_row).transpose()?)
    }

    /// Runs a query on a connection of the pool and decodes every row (see
    /// [`Db::fetch_one`]).
    ///
    /// ```no_run
    /// # async fn run(db: expose_runtime::Db) -> Result<(), sqlx::Error> {
    /// let titles: Vec<(i64, String)> = db
    ///     .fetch_all("SELECT id, title FROM books WHERE on_loan = ? ORDER BY id", &[false.into()])
    ///     .await?;
    /// # let _ = titles; Ok(()) }
    /// ```
    pub async fn fetch_all<T: FromRow>(
        &self,
        sql: &str,
        args: &[Value],
    ) -> Result<Vec<T>, sqlx::Error> {
        let rows = match self {
            Db::Sqlite(p) => {
                all::<sqlx::Sqlite>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
            Db::Postgres(p) => {
                all::<sqlx::Postgres>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
            Db::MySql(p) => {
                all::<sqlx::MySql>(&mut *p.acquire().await?, self.backend(), sql, args).await
            }
        }?;
        Ok(rows
            .into_iter()
            .map(T::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Creates the table `expose_idempotency` if it is missing: the answers to writes sent
    /// with an `Idempotency-Key` (see
    /// [`RouterConfig::idempotency_keys`](crate::RouterConfig::idempotency_keys)), one row
    /// per scope (method and resource) and key, with the request's fingerprint and the time
    /// it was stored.
    pub async fn create_idempotency_table(&self) -> Result<(), sqlx::Error> {
        let (text, key, blob) = match self.backend() {
            Backend::Sqlite => ("TEXT", "TEXT", "TEXT"),
            Backend::Postgres => ("TEXT", "TEXT", "TEXT"),
            Backend::MySql => ("TEXT", "VARCHAR(255)", "LONGTEXT"),
        };
        let scope = match self.backend() {
            Backend::MySql => "VARCHAR(200)",
            _ => "TEXT",
        };
        self.execute(&format!(
            "CREATE TABLE IF NOT EXISTS expose_idempotency (\
             scope {scope} NOT NULL, idem_key {key} NOT NULL, fingerprint {text} NOT NULL, \
             status BIGINT NOT NULL, location {text}, etag {text}, body {blob}, \
             created_at BIGINT NOT NULL, PRIMARY KEY (scope, idem_key))"
        ))
        .await
        .map(|_| ())
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
            Db::MySql(p) => p.close().await,
        }
    }
}

/// The first row of a user query on `conn`, placeholders made the backend's.
pub(crate) async fn first<D: Driver>(
    conn: &mut D::Connection,
    backend: Backend,
    sql: &str,
    args: &[Value],
) -> Result<Option<Row>, sqlx::Error> {
    let sql =
        placeholders(sql, backend, args.len()).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    match D::fetch_optional(conn, &sql, args).await? {
        Some(row) => Ok(Some(D::to_row(&row, &mut None)?)),
        None => Ok(None),
    }
}

/// Every row of a user query on `conn`, placeholders made the backend's.
pub(crate) async fn all<D: Driver>(
    conn: &mut D::Connection,
    backend: Backend,
    sql: &str,
    args: &[Value],
) -> Result<Vec<Row>, sqlx::Error> {
    let sql =
        placeholders(sql, backend, args.len()).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut names = None;
    let mut rows = Vec::new();
    D::fetch_each(conn, &sql, args, &mut |row| {
        rows.push(D::to_row(row, &mut names)?);
        Ok(())
    })
    .await?;
    Ok(rows)
}

macro_rules! from_pool {
    ($pool:ty, $variant:ident) => {
        impl From<$pool> for Db {
            fn from(pool: $pool) -> Db {
                Db::$variant(pool)
            }
        }
        impl FromRef<$pool> for Db {
            fn from_ref(pool: &$pool) -> Db {
                Db::$variant(pool.clone())
            }
        }
    };
}

from_pool!(SqlitePool, Sqlite);
from_pool!(PgPool, Postgres);
from_pool!(MySqlPool, MySql);

/// Pool settings for [`Db::connect_with`].
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Most connections open at once (default 10). On SQLite each is also a thread and a
    /// page cache of at most about 2 MB (see [`Db::connect`] on memory).
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503 + `Retry-After`
    /// (default 1 s): a busy pool's next free one, or a new one, which a database that is
    /// down never gives. A pool made elsewhere (`Db::from(pool)`) keeps its own.
    pub acquire_timeout: std::time::Duration,
    /// Longest a statement may run before the database cancels it and the request is
    /// answered 504 (default 20 s; PostgreSQL `statement_timeout`, MariaDB
    /// `max_statement_time`, MySQL `max_execution_time` for reads; SQLite has none and relies
    /// on the router's request timeout).
    pub statement_timeout: Option<std::time::Duration>,
    /// SQLite only: keep SQLite's memory statistics (`sqlite3_memory_used`,
    /// `sqlite3_status`) at the cost of a process-wide mutex on each of its allocations
    /// (default `false`: [`Db::connect`] turns them off, before SQLite starts, for the whole
    /// process). Set it when something reads those figures, or when other code may open
    /// SQLite on another thread while the first pool connects.
    pub sqlite_memory_statistics: bool,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(1),
            statement_timeout: Some(std::time::Duration::from_secs(20)),
            sqlite_memory_statistics: false,
        }
    }
}

/// Sets the session's statement timeout on a new MySQL/MariaDB connection.
fn mysql_statement_timeout(
    conn: &mut sqlx::MySqlConnection,
    millis: Option<u128>,
) -> futures_core::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let Some(ms) = millis else {
            return Ok(());
        };
        // MariaDB and MySQL name the setting differently; set the one the server knows.
        let mariadb = format!("SET SESSION max_statement_time = {}", ms as f64 / 1000.0);
        if sqlx::query(&mariadb).execute(&mut *conn).await.is_err() {
            let mysql = format!("SET SESSION max_execution_time = {ms}");
            sqlx::query(&mysql).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// Rows sqlx's SQLite worker thread may queue for the request's task (sqlx's
/// `row_buffer_size`; its default is 50).
///
/// sqlx runs each SQLite connection on a thread of its own, which sends every row through a
/// bounded channel. Once the channel is full, the worker sleeps until the task takes a row,
/// and is woken to send one more: a page longer than the channel can cost a sleep and a
/// wake-up of the worker for each row past it. Derived from the largest page a list allows
/// by default (`max_limit`, 1 000, so 1 024), the worker steps through a page without
/// waiting; the rows queued are no more than that page, which the response holds anyway.
const SQLITE_ROW_CHANNEL: usize = (expose_core::defaults::MAX_LIMIT as usize).next_power_of_two();
