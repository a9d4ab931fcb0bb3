//! Per-request cost of the query-string parser and the policy checks, for a typical and the
//! worst-case allowed list query (`expose_bench::queries`).
//!
//! - `grammar/*`: percent-decoding plus `expose_core::grammar::parse_query`, the
//!   public parser, with the runtime's default bounds.
//! - `plan-only/*`: a whole request through the generated router, stopped right after the
//!   policy checks: `Prefer: handling=strict, x-bench` is refused (400) after `plan_list`
//!   has run and before any SQL, so these time routing + decoding + parsing + typing against
//!   the policy + the problem answer. `plan-only/bare` (no query string) is the floor; the
//!   difference is what the query costs. The 400 is asserted, so a change of that order in
//!   the runtime fails the bench instead of silently timing something else.
//! - `router/*`: whole requests through the router on an in-memory SQLite table of 100 rows
//!   (retrieve by id; the typical list with `count=exact`), no network.
//!
//! `cargo bench -p expose-bench --bench query_parse`

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use expose_bench::app;
use expose_bench::queries::{pairs, worst_allowed, TYPICAL};
use expose_core::grammar::{parse_query, Limits};
use expose_runtime::Db;
use std::hint::black_box;
use std::time::Duration;
use tower::ServiceExt;

fn grammar(c: &mut Criterion) {
    let limits = Limits::default();
    let worst = worst_allowed();
    let mut g = c.benchmark_group("grammar");
    for (name, q) in [("typical", TYPICAL), ("worst", worst.as_str())] {
        g.bench_with_input(BenchmarkId::from_parameter(name), q, |b, q| {
            b.iter(|| {
                let p = pairs(black_box(q));
                let parsed = parse_query(p.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits)
                    .expect("an allowed query");
                black_box(parsed)
            })
        });
    }
    g.finish();
}

fn request(uri: &str, prefer: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if let Some(p) = prefer {
        b = b.header("prefer", p);
    }
    b.body(Body::empty()).expect("a request")
}

async fn answer(app: &axum::Router, uri: &str, prefer: Option<&str>) -> (StatusCode, String) {
    let resp = app
        .clone()
        .oneshot(request(uri, prefer))
        .await
        .expect("infallible");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn status(app: &axum::Router, uri: &str, prefer: Option<&str>) -> StatusCode {
    let resp = app
        .clone()
        .oneshot(request(uri, prefer))
        .await
        .expect("infallible");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("a body");
    black_box(body);
    status
}

fn router(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let app = rt.block_on(async {
        let db = Db::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        app::create_table(&db).await.expect("the table");
        app::seed(&db, 100).await.expect("seed rows");
        app::app(db)
    });
    let worst = format!("/people?{}", worst_allowed());
    let typical = format!("/people?{TYPICAL}");
    const STRICT: Option<&str> = Some("handling=strict, x-bench");

    let cases = [
        ("bare", "/people".to_owned()),
        ("typical", typical.clone()),
        ("worst", worst.clone()),
    ];
    rt.block_on(async {
        for (name, uri) in &cases {
            let (s, body) = answer(&app, uri, STRICT).await;
            assert!(
                s == StatusCode::BAD_REQUEST && body.contains("x-bench"),
                "plan-only/{name} must stop at the Prefer check: {s} {body}"
            );
            let (s, body) = answer(&app, uri, Some("count=exact")).await;
            assert!(
                s.is_success(),
                "{name} must be an allowed query: {s} {body}"
            );
        }
        assert_eq!(status(&app, "/people/42", None).await, StatusCode::OK);
    });

    let mut g = c.benchmark_group("plan-only");
    for (name, uri) in &cases {
        g.bench_with_input(BenchmarkId::from_parameter(name), uri, |b, uri| {
            b.to_async(&rt).iter(|| status(&app, uri, STRICT))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("router");
    g.bench_function("retrieve", |b| {
        b.to_async(&rt).iter(|| status(&app, "/people/42", None))
    });
    g.bench_function("list-typical-count", |b| {
        b.to_async(&rt)
            .iter(|| status(&app, &typical, Some("count=exact")))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = grammar, router
}
criterion_main!(benches);
