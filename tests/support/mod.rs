//! Shared by the end-to-end tests: one isolated database per test on each backend, and a
//! small HTTP client over `tower::ServiceExt::oneshot`.
//!
//! SQLite always runs (a fresh file per test). PostgreSQL runs when `EXPOSE_TEST_POSTGRES`
//! holds a URL (a fresh schema per test), MySQL/MariaDB when `EXPOSE_TEST_MYSQL` does (a
//! fresh database per test). A URL that is set but unreachable fails the test, and so does
//! a URL that is not set when `CI` is (CI never skips a backend).
#![allow(dead_code)]

pub mod proxy;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use expose_runtime::{Backend, Db};
use std::str::FromStr;
use tower::ServiceExt;

/// An isolated database for one test.
pub struct TestDb {
    pub db: Db,
    pub backend: Backend,
    cleanup: Cleanup,
}

/// What a passing test's database leaves to undo (as the bench's `setup::Cleanup`).
enum Cleanup {
    /// SQLite's file, with its `-wal` and `-shm`.
    File(std::path::PathBuf),
    /// A statement that drops the test's schema or database, on an admin pool.
    Drop(Db, String),
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl TestDb {
    /// A fresh database of the backend, or `None` when its URL is not configured.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("expose_test")));
                let db = Db::connect(&format!("sqlite:{}", path.display()))
                    .await
                    .expect("open a SQLite file");
                Some(TestDb {
                    db,
                    backend,
                    cleanup: Cleanup::File(path),
                })
            }
            Backend::Postgres => {
                let url = std::env::var("EXPOSE_TEST_POSTGRES").ok()?;
                let schema = unique("t");
                let admin = sqlx::PgPool::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("EXPOSE_TEST_POSTGRES={url} is unreachable: {e}"));
                sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
                    .execute(&admin)
                    .await
                    .expect("create a test schema");
                let opts = sqlx::postgres::PgConnectOptions::from_str(&url)
                    .expect("parse EXPOSE_TEST_POSTGRES")
                    .options([("search_path", schema.as_str())]);
                let pool = sqlx::pool::PoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .expect("connect to the test schema");
                Some(TestDb {
                    db: Db::Postgres(pool),
                    backend,
                    cleanup: Cleanup::Drop(
                        Db::Postgres(admin),
                        format!("DROP SCHEMA {schema} CASCADE"),
                    ),
                })
            }
            Backend::MySql => {
                let url = std::env::var("EXPOSE_TEST_MYSQL").ok()?;
                let name = unique("t");
                let admin = sqlx::MySqlPool::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("EXPOSE_TEST_MYSQL={url} is unreachable: {e}"));
                sqlx::raw_sql(&format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                ))
                .execute(&admin)
                .await
                .expect("create a test database");
                let opts = sqlx::mysql::MySqlConnectOptions::from_str(&url)
                    .expect("parse EXPOSE_TEST_MYSQL")
                    .database(&name);
                let pool = sqlx::pool::PoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .expect("connect to the test database");
                Some(TestDb {
                    db: Db::MySql(pool),
                    backend,
                    cleanup: Cleanup::Drop(Db::MySql(admin), format!("DROP DATABASE {name}")),
                })
            }
        }
    }

    /// Drops the schema or database, or removes the SQLite file. A failing test skips this
    /// (its database stays, to be looked at).
    pub async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.as_os_str().to_owned();
                    name.push(suffix);
                    let _ = std::fs::remove_file(name);
                }
            }
            Cleanup::Drop(admin, sql) => {
                let _ = admin.execute(&sql).await;
                admin.close().await;
            }
        }
    }
}

/// Declares one `#[tokio::test]` per backend for each `async fn name(t: &TestDb)`.
///
/// The PostgreSQL and MySQL variants say on stderr when their URL is not set, and pass
/// (fail, when `CI` is set: CI never skips a backend).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $crate::support::run(expose_runtime::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $crate::support::run(expose_runtime::Backend::Postgres, super::$name).await })*
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $crate::support::run(expose_runtime::Backend::MySql, super::$name).await })*
        }
    };
}

/// Runs one test body against a fresh database of `backend`.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(std::sync::Arc<TestDb>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn,expose_runtime=debug")
        .try_init();
    let Some(t) = TestDb::new(backend).await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the URL of {backend:?} is not (EXPOSE_TEST_POSTGRES / EXPOSE_TEST_MYSQL): refusing to skip it"
        );
        eprintln!("not run on {backend:?}: set EXPOSE_TEST_POSTGRES / EXPOSE_TEST_MYSQL to run it");
        return;
    };
    let t = std::sync::Arc::new(t);
    test(t.clone()).await;
    if let Ok(t) = std::sync::Arc::try_unwrap(t) {
        t.cleanup().await;
    }
}

/// A response as the tests read it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and that the body is an RFC 9457 problem; returns it.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(
            p["type"].is_string() && p["title"].is_string() && p["detail"].is_string(),
            "{p}"
        );
        p
    }
}

/// Sends one request to the app.
pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    request(app, req).await
}

/// Sends a request built by the caller.
pub async fn request(app: &axum::Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(app: &axum::Router, uri: &str) -> Reply {
    send(app, "GET", uri, &[], None).await
}

/// A URL that opens the test's own database (the SQLite file, the PostgreSQL schema through
/// `search_path`, the MySQL database), for a second pool with other settings
/// (`Db::connect_with`).
pub async fn url_of(t: &TestDb) -> String {
    match &t.db {
        Db::Sqlite(p) => {
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(p)
                    .await
                    .expect("the SQLite file");
            format!("sqlite:{file}")
        }
        Db::Postgres(p) => {
            let schema: String = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(p)
                .await
                .expect("the test schema");
            let url = std::env::var("EXPOSE_TEST_POSTGRES").expect("EXPOSE_TEST_POSTGRES");
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options[search_path]={schema}")
        }
        Db::MySql(p) => {
            let name: String = sqlx::query_scalar("SELECT DATABASE()")
                .fetch_one(p)
                .await
                .expect("the test database");
            let url = std::env::var("EXPOSE_TEST_MYSQL").expect("EXPOSE_TEST_MYSQL");
            let (base, query) = url.split_once('?').unwrap_or((&url, ""));
            let host_end = base.find("://").map_or(0, |i| i + 3);
            let host = match base[host_end..].find('/') {
                Some(i) => &base[..host_end + i],
                None => base,
            };
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            format!("{host}/{name}{query}")
        }
    }
}

/// Log output captured in memory (a `tracing_subscriber` writer).
#[derive(Clone, Default)]
pub struct Capture(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Runs `request` (in this task, on this thread, so that the subscriber sees it) with the
/// runtime's `expose_runtime::rows` events captured: its output, and how many row-reading
/// statements it ran (one event per statement whose rows the runtime reads).
pub async fn counting_statements<T>(request: impl std::future::Future<Output = T>) -> (T, usize) {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("expose_runtime::rows=trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let out = {
        let _guard = tracing::subscriber::set_default(subscriber);
        request.await
    };
    let n = capture
        .lines()
        .iter()
        .filter(|l| l.contains("rows_of="))
        .count();
    (out, n)
}

/// The caller of a request in the tests' models: the `x-user` header's number, if any.
pub fn caller(ctx: &expose_runtime::HookCtx) -> Option<i64> {
    ctx.headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Whether the tests' models take the request's caller for an admin (`x-admin`).
pub fn admin(ctx: &expose_runtime::HookCtx) -> bool {
    ctx.headers().contains_key("x-admin")
}
