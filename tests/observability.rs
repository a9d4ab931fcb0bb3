//! Observability, on every backend: one log line per request with its resource, operation,
//! status and latency; an internal error is logged under the id its 500 problem carries, and
//! only the log holds the cause.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use expose_runtime::{expose, Db};
use std::sync::Arc;
use support::{send, Capture, TestDb};

/// A model whose table is never created: every request to it fails inside the server.
#[expose(as = "ghosts", list, retrieve, create)]
pub struct Ghost {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
}

/// The `key=value` fields of a log line, quotes removed.
fn fields(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

async fn one_line_per_request(t: Arc<TestDb>) {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, 5).await.expect("seed");
    let db: Db = t.db.clone();
    let app = app::app(db.clone()).merge(Ghost::router().with_state(db));
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("expose_runtime=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The requests run in this task, on this thread: the subscriber sees all of them.
    let _guard = tracing::subscriber::set_default(subscriber);
    let person = r#"{"name":"Ada","email":"ada@x.io","password":"pw","age":36}"#;
    let requests: &[(&str, &str, Option<&str>, &str, u16)] = &[
        ("GET", "/people?limit=2", None, "list", 200),
        ("GET", "/people/1", None, "retrieve", 200),
        ("GET", "/people/999", None, "retrieve", 404),
        ("GET", "/people?nope=eq.1", None, "list", 400),
        ("POST", "/people", Some(person), "create", 201),
        ("PATCH", "/people/1", Some(r#"{"age":40}"#), "update", 200),
        ("PATCH", "/people/1", Some(r#"{"age":"x"}"#), "update", 422),
        ("DELETE", "/people/2", None, "remove", 204),
        ("GET", "/ghosts", None, "list", 500),
        ("GET", "/ghosts/1", None, "retrieve", 500),
        ("POST", "/ghosts", Some(r#"{"name":"Boo"}"#), "create", 500),
    ];
    let mut error_ids = Vec::new();
    for (method, uri, body, _, status) in requests {
        let r = send(&app, method, uri, &[], *body).await;
        assert_eq!(r.status, *status, "{method} {uri}");
        if *status == 500 {
            let p = r.problem(500);
            let instance = p["instance"].as_str().expect("instance").to_owned();
            let id = instance
                .strip_prefix("urn:uuid:")
                .expect("an error id")
                .to_owned();
            assert!(p["detail"].as_str().unwrap().contains(&id), "{p}");
            // The cause is for the log only.
            let text = String::from_utf8_lossy(&r.body).to_lowercase();
            for word in ["ghosts\"", "table", "exist", "sqlx", "database:"] {
                assert!(!text.contains(word), "`{word}` in {text}");
            }
            error_ids.push(id);
        }
    }
    let lines = capture.lines();
    // One line per request, in order, with resource, operation, status and latency.
    let traced: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("expose request"))
        .map(|l| fields(l))
        .collect();
    assert_eq!(traced.len(), requests.len(), "{lines:#?}");
    for (f, (method, uri, _, operation, status)) in traced.iter().zip(requests) {
        let resource = uri[1..].split(['/', '?']).next().unwrap();
        assert_eq!(f["resource"], resource, "{method} {uri}: {f:?}");
        assert_eq!(f["operation"], *operation, "{method} {uri}: {f:?}");
        assert_eq!(f["status"], status.to_string(), "{method} {uri}: {f:?}");
        let latency: u64 = f["latency_us"].parse().expect("latency in microseconds");
        assert!(latency < 30_000_000, "{f:?}");
    }
    // Each 500's id is logged, at ERROR, with the cause.
    assert_eq!(error_ids.len(), 3);
    for id in &error_ids {
        let logged: Vec<&String> = lines.iter().filter(|l| l.contains(id.as_str())).collect();
        assert_eq!(logged.len(), 1, "{id}: {lines:#?}");
        let line = logged[0];
        assert!(line.contains("ERROR"), "{line}");
        assert_eq!(fields(line)["error_id"], *id, "{line}");
        assert!(line.contains("ghosts"), "the cause is logged: {line}");
    }
    // Ids are unique per error.
    let mut unique = error_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), error_ids.len());
}

backend_tests!(one_line_per_request);
