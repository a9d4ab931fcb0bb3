//! The database handle that routers take from the application's state.

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
    /// A SQLite file that does not exist yet is created.
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
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Db::Postgres(options(&config).connect(url).await?))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            Ok(Db::MySql(options(&config).connect(&url).await?))
        } else if url.starts_with("sqlite:") {
            use std::str::FromStr;
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(5));
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

    /// Runs a query that returns one integer (`SELECT COUNT(*) ...`).
    pub async fn fetch_i64(&self, sql: &str) -> Result<i64, sqlx::Error> {
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::MySql(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
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
    /// Most connections open at once (default 10).
    pub max_connections: u32,
    /// How long a request waits for a free connection before it is answered 503 (default 5 s).
    pub acquire_timeout: std::time::Duration,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(5),
        }
    }
}
