//! End-to-end: hostile input thrown at every endpoint of the `people` example, on every
//! backend. SQL injection in every parameter position and body field, unicode and NUL
//! bytes, over-long input, numbers beyond their column, NaN and infinities, deep nesting,
//! duplicate keys, wrong content types, huge pages, negative ids, path traversal, hidden
//! fields named everywhere.
//!
//! Refused requests must be answered with a 4xx problem that leaks nothing, and leave the
//! table exactly as it was (compared with a full dump, hidden columns included). Requests that
//! are merely odd must never get a 5xx. Hostile text that is valid data is stored verbatim.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use axum::body::Body;
use axum::http::Request;
use expose_runtime::{Backend, Db};
use std::sync::Arc;
use support::{send, Reply, TestDb};

const ROWS: u64 = 20;

/// SQL (and friends) meant to break out of a literal, an identifier or a statement.
const PAYLOADS: &[&str] = &[
    "' OR 1=1 --",
    "' OR '1'='1",
    "'; DROP TABLE people; --",
    "\"; DROP TABLE people; --",
    "`; DROP TABLE people; --",
    "1; DELETE FROM people",
    "1) OR (1=1",
    "1 OR 1=1",
    "' UNION SELECT password FROM people --",
    "') UNION SELECT id, password, 1, 1, 1, 1, 1 FROM people --",
    "1' AND SLEEP(5) --",
    "'; SELECT pg_sleep(5); --",
    "\\'; DROP TABLE people; --",
    "\\",
    "\\\\",
    "%",
    "_",
    "*",
    "$1",
    "?",
    ":name",
    "/**/",
    "--",
    "0x50",
    "CHAR(80)",
    "Person 1\nOR 1=1",
    "\u{202e}1 nosreP",
    "Pérsøn ☃ 🙂 𝕏 Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗̻",
];

/// One request.
#[derive(Clone, Debug)]
struct Case {
    method: &'static str,
    uri: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    /// The exact status, where the case calls for one.
    status: Option<u16>,
}

impl Case {
    fn new(method: &'static str, uri: impl Into<String>) -> Case {
        Case {
            method,
            uri: uri.into(),
            headers: Vec::new(),
            body: None,
            status: None,
        }
    }

    /// Requires this exact status.
    fn answered(mut self, status: u16) -> Case {
        self.status = Some(status);
        self
    }

    /// With a body sent as JSON.
    fn json(mut self, body: impl Into<Vec<u8>>) -> Case {
        self.body = Some(body.into());
        self.header("content-type", "application/json")
    }

    fn header(mut self, name: &str, value: &str) -> Case {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn describe(&self) -> String {
        let body = self.body.as_deref().map_or(String::new(), |b| {
            let s = String::from_utf8_lossy(b);
            s.chars().take(120).collect()
        });
        format!(
            "{} {} {:?} {body}",
            self.method,
            short(&self.uri),
            self.headers
        )
    }
}

fn short(s: &str) -> String {
    if s.len() > 160 {
        let head: String = s.chars().take(160).collect();
        format!("{head}... ({} bytes)", s.len())
    } else {
        s.to_owned()
    }
}

async fn run(app: &axum::Router, case: &Case) -> Reply {
    let mut req = Request::builder()
        .method(case.method)
        .uri(case.uri.as_str());
    for (k, v) in &case.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let body = case.body.clone().map_or_else(Body::empty, Body::from);
    support::request(app, req.body(body).expect("request")).await
}

/// What no response may contain: driver messages, SQL errors, panics, hidden values.
const LEAKS: &[&str] = &[
    "sqlx",
    "sqlstate",
    "error returned from database",
    "syntax error at or near",
    "you have an error in your sql syntax",
    "unrecognized token",
    "no such column",
    "panicked",
    "backtrace",
    ".rs:",
    "secret-",
    "\"password\":",
];

fn assert_no_leak(case: &Case, r: &Reply) {
    let body = String::from_utf8_lossy(&r.body).to_lowercase();
    for word in LEAKS {
        assert!(
            !body.contains(word),
            "{}: `{word}` leaked: {}",
            case.describe(),
            short(&body)
        );
    }
}

/// Sends `case` and requires a 4xx problem; returns the status.
async fn refused(app: &axum::Router, case: &Case) -> u16 {
    let r = run(app, case).await;
    let status = r.status.as_u16();
    assert!(
        (400..500).contains(&status),
        "{}: expected a refusal, got {status} {}",
        case.describe(),
        short(&String::from_utf8_lossy(&r.body))
    );
    if case.method != "HEAD" {
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{}",
            case.describe()
        );
        let p = r.json();
        assert_eq!(p["status"], status, "{}", case.describe());
        assert!(p["title"].is_string() && p["detail"].is_string());
    }
    assert_no_leak(case, &r);
    status
}

/// Sends `case` and requires anything but a server error; 4xx answers must be problems.
async fn harmless(app: &axum::Router, case: &Case) -> Reply {
    let r = run(app, case).await;
    let status = r.status.as_u16();
    assert!(
        status < 500,
        "{}: {status} {}",
        case.describe(),
        short(&String::from_utf8_lossy(&r.body))
    );
    if status >= 400 && case.method != "HEAD" {
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{}",
            case.describe()
        );
    }
    assert_no_leak(case, &r);
    r
}

/// Every row and column of `people`, hidden ones included, as text.
async fn dump(db: &Db) -> Vec<String> {
    type Row = (
        i64,
        String,
        String,
        String,
        i32,
        bool,
        Option<String>,
        String,
    );
    let sql = |created: &str| {
        format!(
            "SELECT id, name, email, password, age, is_admin, bio, {created} \
             FROM people ORDER BY id"
        )
    };
    let rows: Vec<Row> = match db {
        Db::Sqlite(p) => sqlx::query_as(&sql("created_at")).fetch_all(p).await,
        Db::Postgres(p) => {
            sqlx::query_as(&sql("CAST(created_at AS TEXT)"))
                .fetch_all(p)
                .await
        }
        // Text in a binary collation reads as bytes.
        Db::MySql(p) => {
            type Bytes = (
                i64,
                Vec<u8>,
                Vec<u8>,
                Vec<u8>,
                i32,
                bool,
                Option<Vec<u8>>,
                Vec<u8>,
            );
            let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 text");
            sqlx::query_as(&sql("CAST(created_at AS CHAR)"))
                .fetch_all(p)
                .await
                .map(|rows: Vec<Bytes>| {
                    rows.into_iter()
                        .map(|r| {
                            (
                                r.0,
                                text(r.1),
                                text(r.2),
                                text(r.3),
                                r.4,
                                r.5,
                                r.6.map(text),
                                text(r.7),
                            )
                        })
                        .collect()
                })
        }
    }
    .expect("dump people");
    rows.into_iter().map(|r| format!("{r:?}")).collect()
}

async fn people(t: &TestDb) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, ROWS).await.expect("seed");
    app::app(t.db.clone())
}

fn q(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A value quoted for the query grammar (`\"` and `\\` escapes).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A JSON string literal.
fn js(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

const VALID: &str = r#"{"name":"N","email":"n@x.io","password":"pw","age":30}"#;

/// `VALID` with `member` set to the raw JSON text `value`.
fn with(member: &str, value: &str) -> String {
    let rest = VALID.trim_start_matches('{');
    format!("{{{}:{value},{rest}", js(member))
}

/// The status a bad body gets: 400 when it is not JSON (or an object nested past the parser's
/// depth limit), 413 past the size limit, 422 when it is JSON of the wrong shape.
fn body_status(name: &str) -> u16 {
    match name {
        "not JSON"
        | "empty"
        | "truncated"
        | "NaN"
        | "Infinity"
        | "-Infinity"
        | "nan"
        | "huge float"
        | "deep object"
        | "deep in a field"
        | "two objects"
        | "trailing garbage"
        | "byte order mark"
        | "invalid UTF-8 bytes"
        | "lone surrogate" => 400,
        "over the body limit" => 413,
        _ => 422,
    }
}

/// Bodies no create or update may accept.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let deep_obj = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        ("not JSON", b"name=x".to_vec()),
        ("empty", Vec::new()),
        ("truncated", br#"{"name":"#.to_vec()),
        ("NaN", with("age", "NaN").into_bytes()),
        ("Infinity", with("age", "Infinity").into_bytes()),
        ("-Infinity", with("age", "-Infinity").into_bytes()),
        ("nan", with("age", "nan").into_bytes()),
        ("huge float", with("age", "1e400").into_bytes()),
        ("deep array", deep(100_000).into_bytes()),
        ("deep object", deep_obj(100_000).into_bytes()),
        ("deep in a field", with("bio", &deep(200)).into_bytes()),
        ("nested in a field", with("bio", &deep(50)).into_bytes()),
        (
            "duplicate keys",
            r#"{"name":"a","name":"b","email":"d@x.io","password":"p","age":1}"#
                .as_bytes()
                .to_vec(),
        ),
        (
            "duplicate hidden key",
            r#"{"password":"a","password":"b","name":"a","email":"d@x.io","age":1}"#
                .as_bytes()
                .to_vec(),
        ),
        ("array", b"[1,2]".to_vec()),
        ("string", b"\"x\"".to_vec()),
        ("null", b"null".to_vec()),
        ("number", b"123".to_vec()),
        ("two objects", format!("{VALID}{VALID}").into_bytes()),
        ("trailing garbage", format!("{VALID} x").into_bytes()),
        (
            "byte order mark",
            [b"\xEF\xBB\xBF".as_slice(), VALID.as_bytes()].concat(),
        ),
        (
            "invalid UTF-8 bytes",
            [
                br#"{"name":""#.as_slice(),
                b"\xC0\xAE\xFF",
                br#"","email":"u@x.io","password":"p","age":1}"#,
            ]
            .concat(),
        ),
        ("lone surrogate", with("name", r#""\ud800""#).into_bytes()),
        ("NUL in a value", with("name", r#""a\u0000b""#).into_bytes()),
        ("NUL alone", with("bio", r#""\u0000""#).into_bytes()),
        ("NUL in a key", with("na\0me", "1").into_bytes()),
        ("i32 overflow", with("age", "3000000000").into_bytes()),
        ("i32 underflow", with("age", "-2147483649").into_bytes()),
        ("i64 sized", with("age", "9223372036854775808").into_bytes()),
        ("fraction", with("age", "30.5").into_bytes()),
        ("age as text", with("age", "\"30\"").into_bytes()),
        ("age as bool", with("age", "true").into_bytes()),
        ("age as object", with("age", "{}").into_bytes()),
        ("name as number", with("name", "123").into_bytes()),
        ("name as array", with("name", "[\"a\"]").into_bytes()),
        ("name null", with("name", "null").into_bytes()),
        ("id", with("id", "1").into_bytes()),
        ("negative id", with("id", "-1").into_bytes()),
        ("is_admin", with("is_admin", "true").into_bytes()),
        (
            "created_at",
            with("created_at", "\"2020-01-01T00:00:00Z\"").into_bytes(),
        ),
        ("unknown", with("nope", "1").into_bytes()),
        ("empty key", with("", "1").into_bytes()),
        ("long key", with(&"k".repeat(100_000), "1").into_bytes()),
        (
            "over the body limit",
            with("bio", &js(&"x".repeat(1 << 20))).into_bytes(),
        ),
    ];
    for p in PAYLOADS {
        v.push(("payload as a key", with(p, "1").into_bytes()));
    }
    v
}

/// Refusals everywhere; the table is unchanged afterwards.
async fn refusals_change_nothing(t: Arc<TestDb>) {
    let app = people(&t).await;
    let before = dump(&t.db).await;
    let mut cases: Vec<Case> = Vec::new();

    // Ids in the path: not an id, out of range, traversal, NUL, injection.
    let long_id = "1".repeat(10_000);
    let bad_ids = [
        "abc",
        "..",
        "%2E%2E",
        "..%2F..%2Fetc",
        "..%2F..%2Fetc%2Fpasswd",
        "..%5C..%5Cwindows",
        "%C0%AE%C0%AE",
        "%00",
        "1%00",
        "1;DROP%20TABLE%20people",
        "1%20OR%201=1",
        "1'",
        "1%27%20OR%20%271%27=%271",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "1.0",
        "1e3",
        "0x10",
        "%20",
        "%F0%9F%99%82",
        "%FF",
        long_id.as_str(),
    ];
    // Ids that parse, and do not exist.
    let missing_ids = ["0", "-1", "-9223372036854775808", "9223372036854775807"];
    for id in bad_ids.iter().chain(&missing_ids) {
        let uri = format!("/people/{id}");
        cases.push(Case::new("GET", &uri));
        cases.push(Case::new("HEAD", &uri));
        cases.push(Case::new("PATCH", &uri).json(r#"{"age":31}"#));
        cases.push(Case::new("DELETE", &uri));
    }

    // Hidden fields, in every position a client can name a field.
    let hidden: &[&[(&str, &str)]] = &[
        &[("select", "password")],
        &[("select", "id,password")],
        &[("select", "pw:password")],
        &[("password", "eq.secret-1")],
        &[("password", "like.secret*")],
        &[("password", "not.is.null")],
        &[("order", "password")],
        &[("order", "id,password.desc")],
        &[("or", "(password.eq.secret-1)")],
        &[("and", "(id.gt.0,password.like.secret*)")],
        &[("or", "(id.eq.1,and(password.eq.x,id.eq.1))")],
        &[("not.or", "(password.is.null)")],
        &[("not.and", "(password.is.null,id.eq.1)")],
    ];
    for pairs in hidden {
        cases.push(Case::new("GET", format!("/people?{}", q(pairs))));
        cases.push(Case::new("HEAD", format!("/people?{}", q(pairs))));
    }
    for uri in [
        "/people/1?select=password",
        "/people/1?select=id,password",
        "/people/1?select=x:password",
    ] {
        cases.push(Case::new("GET", uri));
    }
    cases.push(Case::new("POST", "/people?select=password").json(VALID));
    cases.push(Case::new("PATCH", "/people/1?select=password").json(r#"{"age":31}"#));

    // Parameters an operation does not take, or takes once.
    for (method, uri) in [
        ("GET", "/people/1?name=eq.x"),
        ("DELETE", "/people/1?id=eq.1"),
        ("DELETE", "/people/1?or=(id.gt.0)"),
        ("DELETE", "/people/1?select=id"),
        ("PATCH", "/people/1?id=gt.0"),
        ("POST", "/people?id=eq.1"),
    ] {
        let c = Case::new(method, uri);
        cases.push(if matches!(method, "PATCH" | "POST") {
            c.json(r#"{"age":31}"#)
        } else {
            c
        });
    }

    // Injection payloads where a name, an operator or a number is expected.
    for p in PAYLOADS {
        let op = format!("{p}.1");
        let not_op = format!("not.{p}.1");
        let order = format!("age.{p}");
        let order2 = format!("age,{p}");
        let sel = format!("id,{p}");
        let or1 = format!("({p}.eq.1)");
        let or2 = format!("(id.{p}.1)");
        let age = format!("eq.{p}");
        let id_in = format!("in.({p})");
        let created = format!("lt.{p}");
        let mut pairs: Vec<Vec<(&str, &str)>> = vec![
            vec![(p, "eq.1")],
            vec![("name", &op)],
            vec![("name", &not_op)],
            vec![("order", p)],
            vec![("order", &order)],
            vec![("order", &order2)],
            vec![("or", &or1)],
            vec![("or", &or2)],
            vec![("and", p)],
            vec![("limit", p)],
            vec![("offset", p)],
            vec![("age", &age)],
            vec![("id", &id_in)],
            vec![("created_at", &created)],
        ];
        // `select=*` is every readable field: not a refusal.
        if *p != "*" {
            pairs.push(vec![("select", p)]);
            pairs.push(vec![("select", &sel)]);
            cases.push(Case::new(
                "GET",
                format!("/people/1?{}", q(&[("select", p)])),
            ));
            cases.push(Case::new("POST", format!("/people?{}", q(&[("select", p)]))).json(VALID));
        }
        for pairs in pairs {
            cases.push(Case::new("GET", format!("/people?{}", q(&pairs))));
        }
        let id: String = form_urlencoded::byte_serialize(p.as_bytes()).collect();
        let uri = format!("/people/{id}");
        cases.push(Case::new("GET", &uri));
        cases.push(Case::new("PATCH", &uri).json(r#"{"age":31}"#));
        cases.push(Case::new("DELETE", &uri));
        cases.push(Case::new("PATCH", "/people/1").json(with(p, "1")));
    }

    // NUL bytes and numbers beyond their type in the query.
    for raw in [
        "name=eq.%00",
        "name=eq.a%00b",
        "bio=like.%00*",
        "name=in.(a,%00)",
        "or=(name.eq.%00)",
        "name%00=eq.x",
        "age=eq.2147483648",
        "age=lt.-2147483649",
        "id=eq.9223372036854775808",
        "id=gt.-9223372036854775809",
        "age=eq.1e400",
        "age=eq.NaN",
        "age=eq.Infinity",
        "age=eq.-inf",
        "age=eq.1.5",
        "is_admin=eq.maybe",
        "created_at=lt.notadate",
        "created_at=lt.%2B275760-09-13T00:00:00Z",
        "limit=-1",
        "limit=1e3",
        "limit=NaN",
        "limit=99999999999999999999",
        "offset=-5",
        "offset=1.5",
        "select=id,id",
        "order=",
        "select=",
    ] {
        cases.push(Case::new("GET", format!("/people?{raw}")));
    }
    // Complexity: too deep, too many conditions, too long a list, too long a query.
    let mut deep = String::from("id.gt.0");
    for _ in 0..40 {
        deep = format!("and({deep})");
    }
    cases.push(Case::new(
        "GET",
        format!("/people?{}", q(&[("or", &format!("({deep})"))])),
    ));
    let many: Vec<String> = (0..60).map(|i| format!("id.neq.{i}")).collect();
    cases.push(Case::new(
        "GET",
        format!(
            "/people?{}",
            q(&[("and", &format!("({})", many.join(",")))])
        ),
    ));
    let items: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    cases.push(Case::new(
        "GET",
        format!(
            "/people?{}",
            q(&[("id", &format!("in.({})", items.join(",")))])
        ),
    ));
    let long = "x".repeat(9 * 1024);
    cases.push(Case::new("GET", format!("/people?name=eq.{long}")));
    cases.push(Case::new("GET", format!("/people/1?select={long}")));
    cases.push(Case::new("POST", format!("/people?select={long}")).json(VALID));
    cases.push(Case::new("PATCH", format!("/people/1?select={long}")).json(r#"{"age":31}"#));
    cases.push(Case::new("DELETE", format!("/people/1?x={long}")));

    // Headers a client got wrong.
    for (h, v) in [
        ("accept", "text/html"),
        ("accept", "application/xml"),
        ("range", "bytes=0-10"),
        ("range", "10-5"),
        ("range", "-5"),
        ("range", "a-b"),
        ("prefer", "handling=strict, nope"),
    ] {
        cases.push(Case::new("GET", "/people").header(h, v));
    }
    cases.push(Case::new("GET", "/people/1").header("accept", "text/csv"));

    // Bodies, on create and update, each with its exact status.
    for (name, body) in bad_bodies() {
        for (method, uri) in [("POST", "/people"), ("PATCH", "/people/1")] {
            let case = Case::new(method, uri).json(body.clone());
            cases.push(case.answered(body_status(name)));
        }
    }
    // Missing members on create; a writable hidden field alone is still a valid update, so
    // it is not here.
    cases.push(Case::new("POST", "/people").json("{}"));
    cases.push(Case::new("POST", "/people").json(r#"{"name":"x"}"#));
    // Wrong content types.
    for ct in [
        None,
        Some("text/plain"),
        Some("text/json"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
        Some("application/jsonp"),
        Some("json"),
        Some(""),
    ] {
        for (method, uri) in [("POST", "/people"), ("PATCH", "/people/1")] {
            let mut c = Case::new(method, uri);
            c.body = Some(VALID.as_bytes().to_vec());
            if let Some(ct) = ct {
                c = c.header("content-type", ct);
            }
            cases.push(c.answered(415));
        }
    }
    // Methods that are not exposed.
    for (method, uri) in [
        ("PUT", "/people/1"),
        ("PUT", "/people"),
        ("DELETE", "/people"),
        ("PATCH", "/people"),
        ("POST", "/people/1"),
        ("TRACE", "/people/1"),
    ] {
        cases.push(Case::new(method, uri).json(VALID));
    }

    let mut statuses = std::collections::BTreeMap::new();
    for case in &cases {
        let s = refused(&app, case).await;
        if let Some(want) = case.status {
            assert_eq!(s, want, "{}", case.describe());
        }
        *statuses.entry(s).or_insert(0) += 1;
    }
    eprintln!(
        "{:?}: {} refusals by status {statuses:?}",
        t.backend,
        cases.len()
    );
    for s in [400, 404, 405, 406, 413, 414, 415, 422] {
        assert!(statuses.contains_key(&s), "no case answered {s}");
    }
    assert_eq!(
        dump(&t.db).await,
        before,
        "a refused request changed the table"
    );
}

/// Odd but harmless reads: whatever the answer, never a 5xx, nothing written.
async fn odd_reads_are_harmless(t: Arc<TestDb>) {
    let app = people(&t).await;
    let before = dump(&t.db).await;
    let mut cases = Vec::new();
    for p in PAYLOADS {
        let quoted = quote(p);
        for pairs in [
            vec![("name", format!("eq.{p}"))],
            vec![("name", format!("neq.{p}"))],
            vec![("bio", format!("like.{p}"))],
            vec![("email", format!("ilike.*{p}*"))],
            vec![("name", format!("in.({quoted})"))],
            vec![("or", format!("(name.eq.{quoted},id.eq.2)"))],
            vec![("select", format!("{p}:id"))],
        ] {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            cases.push(Case::new("GET", format!("/people?{}", q(&pairs))));
            cases.push(
                Case::new("GET", format!("/people?{}", q(&pairs))).header("prefer", "count=exact"),
            );
        }
        for (h, v) in [
            ("range", *p),
            ("prefer", *p),
            ("accept", *p),
            ("if-none-match", *p),
        ] {
            if axum::http::HeaderValue::from_str(v).is_ok() {
                cases.push(Case::new("GET", "/people").header(h, v));
                cases.push(Case::new("GET", "/people/1").header(h, v));
            }
        }
    }
    for raw in [
        "limit=1000000",
        "limit=0",
        "offset=9223372036854775807",
        "offset=18446744073709551615",
        "limit=1000&offset=999999999",
        "name=eq.%FF%FE",
        "name=eq.%C0%AE",
        "%27=1",
        "select=*",
        "select=%E2%98%83:id",
    ] {
        cases.push(Case::new("GET", format!("/people?{raw}")));
        cases.push(Case::new("HEAD", format!("/people?{raw}")));
        cases.push(Case::new("GET", format!("/people?{raw}")).header("prefer", "count=exact"));
    }
    for range in ["0-18446744073709551615", "18446744073709551615-", "0-0"] {
        cases.push(Case::new("GET", "/people").header("range", range));
    }
    for case in &cases {
        let r = harmless(&app, case).await;
        if r.status.is_success() && !r.body.is_empty() {
            let rows = r.json();
            if let Some(rows) = rows.as_array() {
                assert!(rows.len() <= 1000, "{}", case.describe());
            }
        }
    }
    assert_eq!(dump(&t.db).await, before, "a read changed the table");
}

/// Hostile text that is valid data is stored and returned exactly, and touches no other row.
async fn hostile_data_is_stored_verbatim(t: Arc<TestDb>) {
    let app = people(&t).await;
    let before = dump(&t.db).await;
    let mut created = Vec::new();
    for (n, p) in PAYLOADS.iter().enumerate() {
        let body = format!(
            r#"{{"name":{},"email":{},"password":{},"age":{},"bio":{}}}"#,
            js(p),
            // The e-mail is an address: the model's `email` rule refuses anything else.
            js(&format!("p{n}@x.io")),
            js(p),
            n,
            js(p)
        );
        let r = send(&app, "POST", "/people", &[], Some(&body)).await;
        assert_eq!(r.status, 201, "{p}: {}", String::from_utf8_lossy(&r.body));
        let row = r.json();
        assert_eq!(row["name"], *p);
        assert_eq!(row["bio"], *p);
        assert!(row.get("password").is_none());
        let uri = r.header("location").unwrap().to_owned();
        // Found by its own text.
        let quoted = quote(p);
        let r = send(
            &app,
            "GET",
            &format!("/people?{}", q(&[("name", &format!("in.({quoted})"))])),
            &[],
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{p}");
        assert_eq!(r.json()[0]["id"], row["id"]);
        // Updated with it, and read back.
        let reversed: String = p.chars().rev().collect();
        let r = send(
            &app,
            "PATCH",
            &uri,
            &[],
            Some(&format!(r#"{{"bio":{}}}"#, js(&reversed))),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["bio"], reversed);
        created.push(uri);
    }
    let all = dump(&t.db).await;
    assert_eq!(&all[..before.len()], &before[..], "other rows changed");
    assert_eq!(all.len(), before.len() + PAYLOADS.len());
    // Passwords were stored as sent (the dump shows hidden columns).
    for p in PAYLOADS {
        let text = format!("{:?}", p.to_string());
        assert!(all.iter().any(|row| row.contains(&text)), "{p}");
    }
    for uri in created {
        assert_eq!(send(&app, "DELETE", &uri, &[], None).await.status, 204);
    }
    assert_eq!(dump(&t.db).await, before);
    // MySQL's TEXT holds 65535 bytes; more is refused (422), never cut.
    let long = "é".repeat(40_000);
    let body = format!(
        r#"{{"name":{},"email":"l@x.io","password":"p","age":1}}"#,
        js(&long)
    );
    let r = send(&app, "POST", "/people", &[], Some(&body)).await;
    match t.backend {
        Backend::MySql => {
            r.problem(422);
            assert_eq!(dump(&t.db).await, before);
        }
        _ => {
            assert_eq!(r.status, 201);
            assert_eq!(r.json()["name"], long);
        }
    }
}

/// A body of many distinct members, just under the size limit, is refused quickly.
async fn many_members_are_cheap(t: Arc<TestDb>) {
    let app = people(&t).await;
    let before = dump(&t.db).await;
    let mut body = String::from("{");
    let mut n = 0;
    while body.len() < (1 << 20) - 64 {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&format!("\"k{n}\":0"));
        n += 1;
    }
    body.push('}');
    for (method, uri) in [("POST", "/people"), ("PATCH", "/people/1")] {
        let started = std::time::Instant::now();
        let case = Case::new(method, uri).json(body.clone());
        assert_eq!(refused(&app, &case).await, 422);
        eprintln!("{method} with {n} members: {:?}", started.elapsed());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{n} members took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(dump(&t.db).await, before);
}

backend_tests!(
    refusals_change_nothing,
    many_members_are_cheap,
    odd_reads_are_harmless,
    hostile_data_is_stored_verbatim,
);
