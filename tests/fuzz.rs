//! Fuzzing, as long-running property tests: arbitrary query strings (the PostgREST grammar's
//! parser and the planner), headers, path ids and request bodies (the body decoder) thrown at
//! the `people` example, on every backend. No input may get a 5xx or a panic; refusals are
//! problems; nothing hidden leaks.
//!
//! `EXPOSE_FUZZ_CASES` sets the number of generated cases per target and backend (default
//! 256, so `cargo test` stays quick; CI sets more). The generator is random per run; a
//! failure prints the shrunk input, which belongs in `QUERY_REGRESSIONS` /
//! `BODY_REGRESSIONS` below, where every run replays it first.
//!
//! It runs on every backend, not only SQLite: inputs the parser and planner accept become SQL,
//! and what a backend makes of odd values (dates, huge numbers, unicode) is part of what is
//! tested.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::Arc;
use support::{Reply, TestDb};

const ROWS: u64 = 30;

/// Query strings that once failed (or that the fuzzer should always try), replayed first.
const QUERY_REGRESSIONS: &[&str] = &[
    "",
    "or=(((((((((((((((((((((((((((((((((id.eq.1)))))))))))))))))))))))))))))))))",
    "and=(not.or(not.and(id.eq.1)))",
    "select=a:id,b:id,c:id&order=id.desc.nullsfirst",
    "created_at=gt.%2B262142-12-31T23:59:59Z",
    "created_at=lt.-262143-01-01T00:00:00Z",
    "created_at=eq.9999-12-31T23:59:59.999999999%2B23:59",
    "name=like.%5C",
    "name=ilike.***%25%25__",
    "id=in.()",
    "id=in.(,)",
    "bio=is.unknown",
    "limit=0&offset=0",
    "offset=18446744073709551616",
];

/// Bodies that once failed (or that the fuzzer should always try), replayed first.
const BODY_REGRESSIONS: &[&[u8]] = &[
    b"",
    b"{}",
    b"{\"name\":\"a\",\"name\":\"b\",\"email\":\"c\"}",
    b"{\"age\":-0.0,\"name\":\"x\",\"email\":\"y\",\"password\":\"z\"}",
    b"{\"age\":1e-400,\"name\":\"x\",\"email\":\"y2\",\"password\":\"z\"}",
    b"{\"bio\":\"\\ud83d\\ude00\",\"name\":\"x\",\"email\":\"y3\",\"password\":\"z\",\"age\":1}",
    b"{\"age\":-2147483648,\"name\":\"\",\"email\":\"\",\"password\":\"\"}",
];

fn cases() -> u32 {
    std::env::var("EXPOSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    })
}

const FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "password",
    "age",
    "is_admin",
    "bio",
    "created_at",
    "nope",
    "*",
];
const KEYS: &[&str] = &[
    "select",
    "order",
    "limit",
    "offset",
    "or",
    "and",
    "not.or",
    "not.and",
    "id",
    "name",
    "email",
    "password",
    "age",
    "is_admin",
    "bio",
    "created_at",
];
const OPS: &[&str] = &[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "in",
    "is",
    "not",
    "asc",
    "desc",
    "nullsfirst",
    "nullslast",
    "null",
    "not_null",
    "true",
    "false",
    "unknown",
    "or",
    "and",
];
const PUNCT: &[&str] = &[
    ".", ".", ",", ",", "(", ")", "\"", "\\", "*", ":", "%", "_", " ", "'", ";", "--", "%00",
    "%FF", "%2", "%25", "+", "=", "&", "\0", "\u{202e}", "🙂", "é",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "-1",
    "30",
    "2147483647",
    "2147483648",
    "-9223372036854775808",
    "9223372036854775808",
    "1.5",
    "1e3",
    "NaN",
    "inf",
    "2024-01-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "1970-01-01T00:00:00+14:00",
    "Person 1",
    "person1@example.com",
    "null",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FIELDS).prop_map(String::from),
        4 => prop::sample::select(OPS).prop_map(String::from),
        5 => prop::sample::select(PUNCT).prop_map(String::from),
        3 => prop::sample::select(LITERALS).prop_map(String::from),
        1 => "\\PC{0,10}",
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| f.to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..14).prop_map(|t| t.concat())
}

/// Percent-encodes what may not appear in a query; with `raw`, keeps the characters of the
/// grammar (and `%`) as they are.
fn encode(s: &str, raw: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (raw && matches!(b, b'(' | b')' | b',' | b':' | b'*' | b'!' | b'%' | b'\''));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string: a few `key=value` pairs, each percent-encoded strictly or loosely.
fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        5 => prop::sample::select(KEYS).prop_map(String::from),
        1 => text(),
    ];
    let pair = (key, text(), any::<bool>())
        .prop_map(|(k, v, raw)| format!("{}={}", encode(&k, raw), encode(&v, raw)));
    prop_oneof![
        6 => structured_query(),
        3 => prop::collection::vec(pair, 0..6).prop_map(|p| p.join("&")),
        1 => "\\PC{0,40}".prop_map(|s| encode(&s, true)),
    ]
}

/// An integer as text: boundaries, small values and anything in 64 bits.
fn int_text() -> BoxedStrategy<String> {
    prop_oneof![
        (0i64..40).prop_map(|n| n.to_string()),
        any::<i32>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(&LITERALS[..12]).prop_map(String::from),
    ]
    .boxed()
}

/// A date-time as text, valid or nearly so: odd years, months, days, fractions, offsets.
fn date_text() -> BoxedStrategy<String> {
    (
        prop_oneof![1900i32..2100, -300_000i32..300_000],
        0u32..14,
        0u32..33,
        0u32..25,
        0u32..61,
        prop::sample::select(&["", ".5", ".123456789", ".1234567891234"][..]),
        prop::sample::select(&["Z", "+00:00", "-14:00", "+23:59", "+24:00", ""][..]),
    )
        .prop_map(|(y, mo, d, h, mi, frac, off)| {
            let y = if (0..10_000).contains(&y) {
                format!("{y:04}")
            } else {
                format!("{y:+}")
            };
            format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{mi:02}{frac}{off}")
        })
        .boxed()
}

/// Free text: anything printable, or grammar tokens.
fn str_text() -> BoxedStrategy<String> {
    prop_oneof!["\\PC{0,12}", text(), Just(String::new())].boxed()
}

/// A value for a field, mostly of the field's type.
fn value_for(field: &str) -> BoxedStrategy<String> {
    let typed = match field {
        "id" | "age" => int_text(),
        "created_at" => date_text(),
        "is_admin" => prop::sample::select(&["true", "false", "1", "maybe"][..])
            .prop_map(String::from)
            .boxed(),
        _ => str_text(),
    };
    prop_oneof![8 => typed, 1 => str_text()].boxed()
}

/// Quoted as the grammar reads it, or raw.
fn maybe_quoted(v: String, quote: bool) -> String {
    if quote {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v
    }
}

/// `op.value` (with an optional `not.`) for a field.
fn operation(field: &'static str) -> BoxedStrategy<String> {
    let ops = &[
        "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in", "is",
    ][..];
    let is_values = &["null", "not_null", "true", "false", "unknown", "x"][..];
    (
        any::<bool>(),
        prop::sample::select(ops),
        prop::collection::vec((value_for(field), any::<bool>()), 0..4),
        prop::sample::select(is_values),
    )
        .prop_map(|(not, op, values, is)| {
            let not = if not { "not." } else { "" };
            let value = match op {
                "in" => {
                    let items: Vec<String> = values
                        .into_iter()
                        .map(|(v, q)| maybe_quoted(v, q))
                        .collect();
                    format!("({})", items.join(","))
                }
                "is" => is.to_owned(),
                _ => values
                    .into_iter()
                    .next()
                    .map_or(String::new(), |(v, q)| maybe_quoted(v, q)),
            };
            format!("{not}{op}.{value}")
        })
        .boxed()
}

const QUERY_FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "age",
    "is_admin",
    "bio",
    "created_at",
    "password",
];

/// A filter `field=op.value`.
fn filter() -> BoxedStrategy<(String, String)> {
    prop::sample::select(QUERY_FIELDS)
        .prop_flat_map(|f| operation(f).prop_map(move |op| (f.to_owned(), op)))
        .boxed()
}

/// A logic tree `or=(...)` of filters and nested trees.
fn logic() -> BoxedStrategy<(String, String)> {
    let item = filter().prop_map(|(f, op)| format!("{f}.{op}"));
    let tree = item.prop_recursive(3, 12, 4, |inner| {
        (
            prop::sample::select(&["and", "or", "not.and", "not.or"][..]),
            prop::collection::vec(inner, 1..4),
        )
            .prop_map(|(k, items)| format!("{k}({})", items.join(",")))
    });
    (
        prop::sample::select(&["and", "or", "not.and", "not.or"][..]),
        prop::collection::vec(tree, 1..4),
    )
        .prop_map(|(k, items)| (k.to_owned(), format!("({})", items.join(","))))
        .boxed()
}

/// `order=...` and `select=...`.
fn shape() -> BoxedStrategy<(String, String)> {
    let term = (
        prop::sample::select(QUERY_FIELDS),
        prop::sample::select(&["", ".asc", ".desc"][..]),
        prop::sample::select(&["", ".nullsfirst", ".nullslast"][..]),
    )
        .prop_map(|(f, d, n)| format!("{f}{d}{n}"));
    let column = (
        prop::option::of("[a-zA-Z_é🙂]{1,6}"),
        prop::sample::select(QUERY_FIELDS),
    )
        .prop_map(|(alias, f)| alias.map_or(f.to_owned(), |a| format!("{a}:{f}")));
    prop_oneof![
        prop::collection::vec(term, 1..4).prop_map(|t| ("order".to_owned(), t.join(","))),
        prop::collection::vec(column, 1..5).prop_map(|c| ("select".to_owned(), c.join(","))),
        (prop::sample::select(&["limit", "offset"][..]), int_text())
            .prop_map(|(k, v)| (k.to_owned(), v)),
    ]
    .boxed()
}

/// A query string the grammar mostly accepts, encoded as a browser would.
fn structured_query() -> BoxedStrategy<String> {
    let part = prop_oneof![4 => filter(), 2 => logic(), 2 => shape()];
    prop::collection::vec(part, 0..5)
        .prop_map(|pairs| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                s.append_pair(&k, &v);
            }
            s.finish()
        })
        .boxed()
}

/// Headers that shape a list: `Range`, `Prefer`, `Accept`.
fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let range = prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}-{b}")),
        any::<u64>().prop_map(|a| format!("{a}-")),
        text(),
    ];
    let prefer = prop_oneof![
        Just("count=exact".to_owned()),
        Just("count=exact, handling=strict".to_owned()),
        Just("count=planned".to_owned()),
        Just("count=estimated".to_owned()),
        Just("return=minimal".to_owned()),
        text(),
    ];
    let accept = prop_oneof![
        Just("application/vnd.pgrst.object+json".to_owned()),
        Just("application/json".to_owned()),
        Just("text/csv".to_owned()),
        text(),
    ];
    (
        prop::option::of(range),
        prop::option::of(prefer),
        prop::option::of(accept),
    )
        .prop_map(|(r, p, a)| {
            let mut h = Vec::new();
            if let Some(r) = r {
                h.push(("range", r));
            }
            if let Some(p) = p {
                h.push(("prefer", p));
            }
            if let Some(a) = a {
                h.push(("accept", a));
            }
            h
        })
}

/// A JSON value of any shape.
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<i32>().prop_map(J::from),
        any::<f64>().prop_map(J::from),
        text().prop_map(J::String),
        "\\PC{0,24}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::vec((text(), inner), 0..5)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// A member of a people body: usually a field with a plausible or odd value.
fn member() -> impl Strategy<Value = (String, serde_json::Value)> {
    use serde_json::Value as J;
    let string = prop_oneof![text(), "\\PC{0,40}"].prop_map(J::String);
    let number = prop_oneof![
        any::<i32>().prop_map(J::from),
        any::<i64>().prop_map(J::from),
        (0i64..120).prop_map(J::from),
        any::<f64>().prop_map(J::from),
    ];
    prop_oneof![
        3 => (prop::sample::select(&["name", "email", "password", "bio"][..]), string)
            .prop_map(|(k, v)| (k.to_owned(), v)),
        2 => number.prop_map(|v| ("age".to_owned(), v)),
        1 => (prop::sample::select(FIELDS).prop_map(String::from), json()),
        1 => (text(), json()),
    ]
}

/// A request body: a JSON object of members, sometimes damaged, or arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let object = prop::collection::vec(member(), 0..8)
        .prop_map(|members| {
            // Written by hand so that a member may appear twice.
            let mut s = String::from("{");
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&serde_json::Value::from(k.as_str()).to_string());
                s.push(':');
                s.push_str(&v.to_string());
            }
            s.push('}');
            s.into_bytes()
        })
        .boxed();
    // Mostly valid people with odd text and numbers: these reach the database.
    let person = (
        prop::option::weighted(0.9, "\\PC{0,30}"),
        prop::option::weighted(0.9, "\\PC{1,30}"),
        prop::option::weighted(0.9, "\\PC{0,12}"),
        prop::option::weighted(
            0.9,
            prop_oneof![0i64..120, any::<i32>().prop_map(i64::from), any::<i64>()],
        ),
        prop::option::of(prop::option::of("\\PC{0,60}")),
    )
        .prop_map(|(name, email, password, age, bio)| {
            let mut o = serde_json::Map::new();
            if let Some(v) = name {
                o.insert("name".into(), v.into());
            }
            if let Some(v) = email {
                o.insert("email".into(), v.into());
            }
            if let Some(v) = password {
                o.insert("password".into(), v.into());
            }
            if let Some(v) = age {
                o.insert("age".into(), v.into());
            }
            if let Some(v) = bio {
                o.insert("bio".into(), v.into());
            }
            serde_json::Value::Object(o).to_string().into_bytes()
        });
    prop_oneof![
        6 => person,
        6 => object.clone(),
        2 => (object, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut b, at, byte)| {
            let at = at.index(b.len() + 1);
            b.insert(at, byte);
            b
        }),
        1 => (json(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let b = v.to_string().into_bytes();
            let cut = cut.index(b.len() + 1);
            b[..cut].to_vec()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Sends one request from inside the runner (a blocking context of the test's runtime).
fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<Vec<u8>>,
) -> Option<Reply> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    // What cannot even be built as a request (a header value with a newline) never reaches
    // a server.
    let req = req.body(body.map_or_else(Body::empty, Body::from)).ok()?;
    let app = app.clone();
    Some(
        tokio::runtime::Handle::current()
            .block_on(async move { support::request(&app, req).await }),
    )
}

/// Whether a JSON value holds a `password` member anywhere.
fn has_password(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => o.contains_key("password") || o.values().any(has_password),
        serde_json::Value::Array(a) => a.iter().any(has_password),
        _ => false,
    }
}

thread_local! {
    /// How many answers of each method and status this test's runner saw (printed, to show
    /// what the generator reaches; the runner runs on the test's own thread).
    static STATUSES: std::cell::RefCell<std::collections::BTreeMap<(&'static str, u16), u32>> =
        Default::default();
}

fn statuses() -> String {
    STATUSES.with(|s| format!("{:?}", s.take()))
}

/// The properties every answer has.
fn check(what: &str, r: &Reply) -> Result<(), TestCaseError> {
    let status = r.status.as_u16();
    let method = what.split(' ').next().unwrap_or("");
    let method = ["GET", "POST", "PATCH", "DELETE"]
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("?");
    STATUSES.with(|s| *s.borrow_mut().entry((method, status)).or_insert(0) += 1);
    let text = String::from_utf8_lossy(&r.body);
    prop_assert!(status < 500, "{what}: {status} {text}");
    if status >= 400 {
        prop_assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{}",
            what
        );
        let p: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{what}: problem is not JSON: {e}")))?;
        prop_assert_eq!(p["status"].as_u64(), Some(u64::from(status)), "{}", what);
    } else if !r.body.is_empty()
        && r.header("content-type")
            .is_some_and(|t| t.starts_with("text/csv"))
    {
        // A list as CSV: the columns are its first line.
        prop_assert!(
            !text.contains("secret-"),
            "{what}: a password leaked: {text}"
        );
        let columns = text.lines().next().unwrap_or("");
        prop_assert!(
            !columns.split(',').any(|c| c == "password"),
            "{what}: a hidden field leaked: {text}"
        );
    } else if !r.body.is_empty() {
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{what}: body is not JSON: {e}")))?;
        // The seeded passwords are `secret-<n>`, and no generated input contains that.
        prop_assert!(
            !text.contains("secret-"),
            "{what}: a password leaked: {text}"
        );
        prop_assert!(!has_password(&v), "{what}: a hidden field leaked: {text}");
    }
    Ok(())
}

async fn people(t: &TestDb) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, ROWS).await.expect("seed");
    app::app(t.db.clone())
}

fn list(app: &axum::Router, query: &str, headers: &[(&str, String)]) -> Result<(), TestCaseError> {
    for (method, path) in [("GET", "/people"), ("GET", "/people/1")] {
        let uri = format!("{path}?{query}");
        let Some(r) = send(app, method, &uri, headers, None) else {
            return Ok(());
        };
        check(&format!("{method} {uri} {headers:?}"), &r)?;
    }
    Ok(())
}

async fn query_strings(t: Arc<TestDb>) {
    let app = people(&t).await;
    tokio::task::block_in_place(|| {
        for q in QUERY_REGRESSIONS {
            list(&app, q, &[]).unwrap_or_else(|e| panic!("regression {q}: {e}"));
            list(&app, q, &[("prefer", "count=exact".to_owned())])
                .unwrap_or_else(|e| panic!("regression {q}: {e}"));
        }
        let started = std::time::Instant::now();
        runner()
            .run(&(query(), headers()), |(q, h)| list(&app, &q, &h))
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "{:?}: {} query cases in {:?}; answers {}",
            t.backend,
            cases(),
            started.elapsed(),
            statuses()
        );
    });
    assert_eq!(app::count(&t.db).await.unwrap(), ROWS as i64, "reads wrote");
}

fn write(app: &axum::Router, id: &str, body: &[u8]) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(body).into_owned();
    if let Some(r) = send(app, "POST", "/people", &[], Some(body.to_vec())) {
        check(&format!("POST {shown}"), &r)?;
        // A single object's create answers with its `Location`; an array is a bulk insert.
        let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if r.status == 201 && object {
            prop_assert!(r.header("location").is_some());
        }
    }
    // An empty id is another path (`/people/`), which this resource does not route.
    let id = if id.is_empty() { "0" } else { id };
    let uri = format!("/people/{}", encode(id, false));
    if let Some(r) = send(app, "PATCH", &uri, &[], Some(body.to_vec())) {
        check(&format!("PATCH {uri} {shown}"), &r)?;
    }
    Ok(())
}

async fn bodies(t: Arc<TestDb>) {
    let app = people(&t).await;
    tokio::task::block_in_place(|| {
        for b in BODY_REGRESSIONS {
            write(&app, "1", b).unwrap_or_else(|e| panic!("regression: {e}"));
        }
        let id = prop_oneof![
            4 => (1..=ROWS).prop_map(|n| n.to_string()),
            1 => any::<i64>().prop_map(|n| n.to_string()),
            1 => text(),
        ];
        let started = std::time::Instant::now();
        runner()
            .run(&(id, body()), |(id, b)| write(&app, &id, &b))
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "{:?}: {} body cases in {:?}; answers {}",
            t.backend,
            cases(),
            started.elapsed(),
            statuses()
        );
        // Removing any id, parsed or not, is never a server error either.
        runner()
            .run(&text(), |id| {
                let id = if id.is_empty() { "0".to_owned() } else { id };
                let uri = format!("/people/{}", encode(&id, true));
                if let Some(r) = send(&app, "DELETE", &uri, &[], None) {
                    check(&format!("DELETE {uri}"), &r)?;
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    });
}

backend_tests!(query_strings, bodies);
