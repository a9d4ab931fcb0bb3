//! The benchmark's own database on each backend: a temporary SQLite file, the schema
//! `expose_bench` on PostgreSQL, the database `expose_bench` on MySQL/MariaDB. The `people`
//! table is made and seeded with the example's own `create_table` and `seed`.

use crate::app;
use expose_runtime::{Backend, Db};
use std::ops::Range;

/// The name of the schema (PostgreSQL) or database (MySQL) the benchmark owns.
pub const BENCH_SCHEMA: &str = "expose_bench";

/// A boxed error, as the benchmark reports them.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The benchmark's database on one backend.
pub struct BenchDb {
    /// Which backend.
    pub backend: Backend,
    /// The URL the servers connect with.
    pub url: String,
    /// The driver's own pool, for set-up.
    pub db: Db,
    /// What to drop at the end: the admin pool and a statement, or a SQLite file.
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Drop(Db, String),
}

/// Adds `key=value` to a URL's query string.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// Replaces the database of a `mysql://user@host:port/db?query` URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl BenchDb {
    /// Makes a fresh, empty database for the benchmark; `base_url` is the server's URL
    /// (ignored for SQLite, which uses a file in the temp directory).
    pub async fn create(backend: Backend, base_url: &str) -> Result<BenchDb, Error> {
        BenchDb::create_named(backend, base_url, BENCH_SCHEMA).await
    }

    /// [`BenchDb::create`] with another name for the schema (PostgreSQL), the database
    /// (MySQL) or the file (SQLite), so that a soak and a benchmark can run side by side.
    pub async fn create_named(
        backend: Backend,
        base_url: &str,
        name: &str,
    ) -> Result<BenchDb, Error> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}_{}.db", std::process::id()));
                remove_sqlite(&path);
                (format!("sqlite:{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let admin = Db::connect(base_url)
                    .await
                    .map_err(|e| format!("PostgreSQL at {base_url} is unreachable: {e}"))?;
                admin
                    .execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await?;
                admin.execute(&format!("CREATE SCHEMA {name}")).await?;
                (
                    with_param(base_url, "options[search_path]", name),
                    Cleanup::Drop(admin, format!("DROP SCHEMA {name} CASCADE")),
                )
            }
            Backend::MySql => {
                let admin = Db::connect(base_url)
                    .await
                    .map_err(|e| format!("MySQL at {base_url} is unreachable: {e}"))?;
                admin
                    .execute(&format!("DROP DATABASE IF EXISTS {name}"))
                    .await?;
                admin
                    .execute(&format!(
                        "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                    ))
                    .await?;
                (
                    with_database(base_url, name),
                    Cleanup::Drop(admin, format!("DROP DATABASE {name}")),
                )
            }
        };
        let db = Db::connect(&url).await?;
        Ok(BenchDb {
            backend,
            url,
            db,
            cleanup,
        })
    }

    /// Drops and re-creates `people` with `rows` seeded rows (ids `1..=rows`), and the
    /// relations workloads' tables ([`crate::relations::reset`]), then refreshes
    /// the planner's statistics so that no auto-analyze starts in the middle of a run.
    pub async fn reset_table(&self, rows: u64) -> Result<(), Error> {
        self.db.execute("DROP TABLE IF EXISTS people").await?;
        app::create_table(&self.db).await?;
        app::seed(&self.db, rows).await?;
        crate::relations::reset(&self.db, rows).await?;
        let analyze: &[&str] = match self.backend {
            Backend::Sqlite => &["ANALYZE"],
            Backend::Postgres => &[
                "VACUUM ANALYZE people",
                "VACUUM ANALYZE bench_authors",
                "VACUUM ANALYZE bench_articles",
            ],
            Backend::MySql => &["ANALYZE TABLE people, bench_authors, bench_articles"],
        };
        for sql in analyze {
            self.db.execute(sql).await?;
        }
        Ok(())
    }

    /// Inserts `n` rows after the highest id, for a remove workload to delete; returns
    /// their ids.
    pub async fn insert_pool(&self, n: u64) -> Result<Range<i64>, Error> {
        let first = self
            .db
            .fetch_i64("SELECT COALESCE(MAX(id), 0) FROM people")
            .await?
            + 1;
        let n = i64::try_from(n)?;
        let mut start = first;
        while start < first + n {
            let end = (start + 1000).min(first + n);
            let mut sql = String::from(
                "INSERT INTO people (id, name, email, password, age, is_admin, bio) VALUES ",
            );
            for id in start..end {
                if id > start {
                    sql.push(',');
                }
                // Generated here, never taken from input: literals are safe.
                sql.push_str(&format!(
                    "({id}, 'Doomed {id}', 'doomed{id}@example.com', 'pw', 16, FALSE, NULL)"
                ));
            }
            self.db.execute(&sql).await?;
            start = end;
        }
        if self.backend == Backend::Postgres {
            self.db
                .execute(
                    "SELECT setval(pg_get_serial_sequence('people', 'id'), \
                     (SELECT MAX(id) FROM people))",
                )
                .await?;
        }
        Ok(first..first + n)
    }

    /// The database file, on SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.cleanup {
            Cleanup::File(path) => Some(path),
            Cleanup::Drop(..) => None,
        }
    }

    /// The server's version, for the report.
    pub async fn version(&self) -> String {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Backend::Postgres | Backend::MySql => "SELECT version()",
        };
        let v = match &self.db {
            Db::Sqlite(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
            Db::MySql(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
        };
        v.unwrap_or_else(|e| format!("unknown ({e})"))
    }

    /// Closes the pools and drops what the benchmark made.
    pub async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => remove_sqlite(&path),
            Cleanup::Drop(admin, sql) => {
                if let Err(e) = admin.execute(&sql).await {
                    eprintln!("could not clean up ({sql}): {e}");
                }
                admin.close().await;
            }
        }
    }
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_the_bench_database() {
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "b"),
            "mysql://root@127.0.0.1:3306/b"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "b"),
            "mysql://root@127.0.0.1:3306/b"
        );
        assert_eq!(
            with_database("mysql://u:p@h/test?ssl-mode=disabled", "b"),
            "mysql://u:p@h/b?ssl-mode=disabled"
        );
        assert_eq!(
            with_param("postgres://postgres@127.0.0.1:5432/test", "k", "v"),
            "postgres://postgres@127.0.0.1:5432/test?k=v"
        );
        assert_eq!(
            with_param("postgres://h/t?a=b", "k", "v"),
            "postgres://h/t?a=b&k=v"
        );
    }
}
