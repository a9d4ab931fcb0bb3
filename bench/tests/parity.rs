//! Both sides of the benchmark answer each workload's request alike: the same status, the
//! same headers a client reads (`Content-Type`, `Content-Range`, `Location`,
//! `Preference-Applied`) and the same body, `created_at` aside (the clock). Each request runs
//! against a freshly seeded table, once per side, so that new rows get the same ids.
//!
//! SQLite always runs; PostgreSQL when `EXPOSE_TEST_POSTGRES` holds a URL, MySQL/MariaDB
//! when `EXPOSE_TEST_MYSQL` does (as the workspace's end-to-end tests; `.ci/run` sets both;
//! with `CI` set, a missing URL fails).

use axum::body::Body;
use expose_bench::load::{one_request, Workload};
use expose_bench::setup::BenchDb;
use expose_runtime::{Backend, Db};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Rows seeded for each request.
const SEED_ROWS: u64 = 300;

/// What is compared of an answer.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

/// `"created_at":"<anything>"` becomes `"created_at":"T"`.
fn without_clock(body: &str) -> String {
    const KEY: &str = "\"created_at\":\"";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        rest = &rest[at + KEY.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push('T');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Request `n` of `workload` to one side, on a freshly seeded table.
async fn answer(bdb: &BenchDb, generated: bool, workload: Workload, n: u64) -> Answer {
    bdb.reset_table(SEED_ROWS).await.expect("seed the table");
    if workload == Workload::Remove {
        bdb.insert_pool(n + 1).await.expect("rows to remove");
    }
    let db = Db::connect(&bdb.url).await.expect("connect");
    let router = match generated {
        true => expose_bench::server::generated(db.clone()),
        false => expose_bench::handwritten::router(db.clone()),
    };
    let (req, expected) = one_request(workload, SEED_ROWS, "parity", n, 7);
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let resp = router.oneshot(req.map(Body::new)).await.expect("an answer");
    let status = resp.status();
    let mut headers = Vec::new();
    for name in [
        "content-type",
        "content-range",
        "location",
        "preference-applied",
    ] {
        if let Some(v) = resp.headers().get(name) {
            headers.push((name, v.to_str().unwrap_or("?").to_owned()));
        }
    }
    let body = resp.into_body().collect().await.expect("a body").to_bytes();
    let body = without_clock(&String::from_utf8_lossy(&body));
    db.close().await;
    let side = if generated {
        "generated"
    } else {
        "hand-written"
    };
    assert!(
        expected.contains(&status),
        "{side}, {} request {n}: {method} {uri} answered {status} {body}",
        workload.name()
    );
    Answer {
        status: status.as_u16(),
        headers,
        body,
    }
}

async fn both_sides_answer_alike(backend: Backend, url: &str) {
    let name = format!("expose_parity_{}", std::process::id());
    let bdb = BenchDb::create_named(backend, url, &name)
        .await
        .expect("the benchmark's database");
    for workload in Workload::ALL {
        // The upsert's even requests merge into a seeded row, the odd ones insert.
        let requests: &[u64] = match workload {
            Workload::Upsert => &[0, 1],
            _ => &[0],
        };
        for &n in requests {
            let generated = answer(&bdb, true, workload, n).await;
            let handwritten = answer(&bdb, false, workload, n).await;
            assert_eq!(
                generated,
                handwritten,
                "{backend:?}: {} request {n}: generated (left) and hand-written (right) differ",
                workload.name()
            );
        }
    }
    over_the_bound_is_refused_alike(&bdb).await;
    bdb.cleanup().await;
}

/// A `PATCH` whose filters choose more rows than `max_affected` (100) is refused by both
/// sides with a 400, and neither writes anything: the hand-written reference keeps the
/// generated API's bound, so that the `update-filtered` cell compares the same contract.
async fn over_the_bound_is_refused_alike(bdb: &BenchDb) {
    for generated in [true, false] {
        bdb.reset_table(SEED_ROWS).await.expect("seed the table");
        let db = Db::connect(&bdb.url).await.expect("connect");
        let router = match generated {
            true => expose_bench::server::generated(db.clone()),
            false => expose_bench::handwritten::router(db.clone()),
        };
        let patch = axum::http::Request::patch("/people?id=gte.1&id=lt.200")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"age": 149}"#))
            .expect("a request");
        let resp = router.clone().oneshot(patch).await.expect("an answer");
        assert_eq!(resp.status(), 400, "generated: {generated}");
        let list = axum::http::Request::get("/people?age=eq.149&select=id")
            .body(Body::empty())
            .expect("a request");
        let resp = expose_bench::server::generated(db.clone())
            .oneshot(list)
            .await
            .expect("an answer");
        let body = resp.into_body().collect().await.expect("a body").to_bytes();
        assert_eq!(&body[..], b"[]", "generated: {generated}: nothing written");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    both_sides_answer_alike(Backend::Sqlite, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    match std::env::var("EXPOSE_TEST_POSTGRES") {
        Ok(url) => both_sides_answer_alike(Backend::Postgres, &url).await,
        Err(_) => not_run("PostgreSQL", "EXPOSE_TEST_POSTGRES"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    match std::env::var("EXPOSE_TEST_MYSQL") {
        Ok(url) => both_sides_answer_alike(Backend::MySql, &url).await,
        Err(_) => not_run("MySQL/MariaDB", "EXPOSE_TEST_MYSQL"),
    }
}

/// A backend whose URL is not set is skipped with a line on stderr, and fails under `CI`.
fn not_run(backend: &str, var: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {var} is not: refusing to skip {backend}"
    );
    eprintln!("not run on {backend}: set {var} to run it");
}
