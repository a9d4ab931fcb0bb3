//! End-to-end: `Vec<T>` array fields and JSON containment, on every backend. Arrays are
//! PostgreSQL arrays (`TEXT[]`, `BIGINT[]`, ...) and JSON arrays on SQLite and MariaDB;
//! `cs`, `cd` and `ov` work on all three. JSON fields take `cs` and `cd` on PostgreSQL and
//! MariaDB; SQLite refuses them with a 400 naming the field. The tables come from the
//! model's DDL, which `verify` accepts; `verify` refuses a column of another type.

mod support;

use expose_runtime::{expose, Backend, MismatchKind, VerifyError};
use std::sync::Arc;
use support::{get, send, TestDb};

#[expose(
    as = "types_posts",
    list(order = "id"),
    retrieve,
    create,
    update(filter = "id,tags")
)]
pub struct Post {
    #[expose(id, generated)]
    pub id: i64,
    pub tags: Vec<String>,
    pub scores: Vec<i64>,
    pub small: Vec<i32>,
    pub ratios: Option<Vec<f64>>,
    pub flags: Vec<bool>,
    pub meta: Option<serde_json::Value>,
}

/// The same table, as a model that sees `tags` as text: `verify` refuses it.
#[expose(as = "types_posts", retrieve)]
pub struct PostAsText {
    #[expose(id, generated)]
    pub id: i64,
    pub tags: String,
}

/// A table whose `tags` column is an integer: `verify` refuses the array model.
#[expose(as = "types_wrong", retrieve)]
pub struct Wrong {
    #[expose(id, generated)]
    pub id: i64,
    pub tags: Vec<String>,
}

/// A typed JSON field: documents must read as a `Prefs`.
#[expose(as = "types_prefs", list, retrieve, create, update)]
pub struct Member {
    #[expose(id, generated)]
    pub id: i64,
    pub prefs: expose_runtime::Json<Prefs>,
    pub extra: Option<expose_runtime::Json<Vec<String>>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
pub struct Prefs {
    pub theme: String,
    pub size: u8,
}

async fn app(t: &TestDb) -> axum::Router {
    expose_runtime::create_tables(&t.db, &[Post::MODEL])
        .await
        .unwrap();
    expose_runtime::verify(&t.db, &[Post::MODEL])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app = Post::router().with_state(t.db.clone());
    for body in [
        r#"{"tags":["a","b"],"scores":[1,2,3],"small":[1],"ratios":[0.5],"flags":[true],"meta":{"a":1,"b":{"c":2}}}"#,
        r#"{"tags":["b","c,d"],"scores":[3],"small":[],"ratios":null,"flags":[false],"meta":[1,2]}"#,
        r#"{"tags":[],"scores":[],"small":[7],"ratios":[1.5,2],"flags":[true,false],"meta":null}"#,
        r#"{"tags":["A","x y","{q}"],"scores":[10],"small":[1,2],"ratios":[],"flags":[],"meta":{"a":2}}"#,
    ] {
        let r = send(&app, "POST", "/types_posts", &[], Some(body)).await;
        assert_eq!(
            r.status,
            201,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    app
}

/// A query string as a client sends it: `{`, `}`, `"`, spaces and the like percent-encoded.
fn enc(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'='
            | b'&'
            | b'('
            | b')'
            | b','
            | b':' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The ids a list answers, in order.
async fn ids(app: &axum::Router, query: &str) -> Vec<i64> {
    let r = get(app, &format!("/types_posts?{}", enc(query))).await;
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn arrays_round_trip(t: Arc<TestDb>) {
    let app = app(&t).await;
    let r = get(&app, "/types_posts/2").await;
    assert_eq!(
        r.json(),
        serde_json::json!({
            "id": 2, "tags": ["b", "c,d"], "scores": [3], "small": [], "ratios": null,
            "flags": [false], "meta": [1, 2]
        })
    );
    let r = get(&app, "/types_posts/4").await.json();
    assert_eq!(r["tags"], serde_json::json!(["A", "x y", "{q}"]));
    assert_eq!(r["ratios"], serde_json::json!([]));
    let r = send(
        &app,
        "PATCH",
        "/types_posts/3",
        &[],
        Some(r#"{"tags":["new","\"quoted\""],"ratios":[-1.25]}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let back = get(&app, "/types_posts/3").await.json();
    assert_eq!(back["tags"], serde_json::json!(["new", "\"quoted\""]));
    assert_eq!(back["ratios"], serde_json::json!([-1.25]));
    // User SQL reads an array column as a `Vec` on every backend.
    let (tags, scores): (Vec<String>, Vec<i64>) =
        t.db.fetch_one(
            "SELECT tags, scores FROM types_posts WHERE id = ?",
            &[1i64.into()],
        )
        .await
        .unwrap();
    assert_eq!(
        (tags, scores),
        (vec!["a".to_owned(), "b".to_owned()], vec![1, 2, 3])
    );
    // The helpers user code calls, on every backend (`SELECT 1` is an INT4 on PostgreSQL).
    assert_eq!(t.db.fetch_i64("SELECT 1").await.unwrap(), 1);
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM types_posts")
            .await
            .unwrap(),
        4
    );
}

async fn arrays_take_cs_cd_and_ov(t: Arc<TestDb>) {
    let app = app(&t).await;
    assert_eq!(ids(&app, "tags=cs.{a}").await, [1]);
    assert_eq!(ids(&app, "tags=cs.{b}").await, [1, 2]);
    assert_eq!(ids(&app, "tags=cs.{b,a}").await, [1]);
    assert_eq!(ids(&app, "tags=cs.{}").await, [1, 2, 3, 4]);
    assert_eq!(ids(&app, "tags=cs.{\"c,d\"}").await, [2]);
    assert_eq!(ids(&app, "tags=cs.{ \"x y\" }").await, [4]);
    assert_eq!(ids(&app, "tags=cs.{\"{q}\"}").await, [4]);
    // Case matters, as in PostgreSQL.
    assert_eq!(ids(&app, "tags=cs.{A}").await, [4]);
    assert_eq!(ids(&app, "tags=cd.{a,b,\"c,d\"}").await, [1, 2, 3]);
    assert_eq!(ids(&app, "tags=cd.{a,b}").await, [1, 3]);
    assert_eq!(ids(&app, "tags=ov.{a,\"c,d\"}").await, [1, 2]);
    assert!(ids(&app, "tags=ov.{}").await.is_empty());
    assert_eq!(ids(&app, "tags=not.cs.{b}").await, [3, 4]);
    assert_eq!(ids(&app, "scores=cs.{3}").await, [1, 2]);
    assert_eq!(ids(&app, "scores=ov.{10,2}").await, [1, 4]);
    assert_eq!(ids(&app, "scores=cd.{1,2,3}").await, [1, 2, 3]);
    assert_eq!(ids(&app, "small=cs.{1}").await, [1, 4]);
    assert_eq!(ids(&app, "small=cd.{7}").await, [2, 3]);
    assert_eq!(ids(&app, "ratios=cs.{0.5}").await, [1]);
    assert_eq!(ids(&app, "ratios=cd.{1.5,2,3}").await, [3, 4]);
    assert_eq!(ids(&app, "ratios=is.null").await, [2]);
    // A NULL array is neither (SQL's unknown): `not.` does not choose it either.
    assert_eq!(ids(&app, "ratios=not.cs.{0.5}").await, [3, 4]);
    assert_eq!(ids(&app, "flags=cs.{true}").await, [1, 3]);
    assert_eq!(ids(&app, "flags=ov.{false}").await, [2, 3]);
    // In logic trees, the literal unquoted (as PostgREST takes it) or quoted.
    assert_eq!(ids(&app, "or=(tags.cs.{a},scores.cs.{10})").await, [1, 4]);
    assert_eq!(
        ids(&app, "and=(tags.ov.{b,\"c,d\"},scores.not.cs.\"{1}\")").await,
        [2]
    );
    // A write chosen by an array filter.
    let r = send(
        &app,
        "PATCH",
        &format!("/types_posts?{}", enc("tags=cs.{b}")),
        &[("Prefer", "return=representation")],
        Some(r#"{"flags":[true,true]}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(ids(&app, "flags=cd.{true}").await, [1, 2, 4]);
}

async fn json_containment(t: Arc<TestDb>) {
    let app = app(&t).await;
    if t.backend == Backend::Sqlite {
        // No JSON containment in SQLite: a 400 naming the field, no SQL.
        for q in ["meta=cs.{\"a\":1}", "or=(meta.cd.[1],id.eq.1)"] {
            let r = get(&app, &format!("/types_posts?{}", enc(q))).await;
            let p = r.problem(400);
            let detail = p["detail"].as_str().unwrap();
            assert!(
                detail.contains("`meta`") && detail.contains("SQLite"),
                "{q}: {p}"
            );
        }
        assert_eq!(ids(&app, "meta=is.null").await, [3]);
        return;
    }
    assert_eq!(ids(&app, "meta=cs.{\"a\":1}").await, [1]);
    assert_eq!(ids(&app, "meta=cs.{\"b\":{\"c\":2}}").await, [1]);
    assert_eq!(ids(&app, "meta=cs.{}").await, [1, 4]);
    assert_eq!(ids(&app, "meta=cd.{\"a\":2,\"z\":0}").await, [4]);
    assert_eq!(ids(&app, "meta=cs.[1]").await, [2]);
    assert_eq!(ids(&app, "meta=not.cs.{\"a\":1}").await, [2, 4]);
    assert_eq!(
        ids(&app, "or=(meta.cs.{\"a\":2},meta.cs.[2])").await,
        [2, 4]
    );
}

async fn misuse_is_refused(t: Arc<TestDb>) {
    let app = app(&t).await;
    for (q, param, fragment) in [
        ("tags=eq.a", "tags", "does not apply to array fields"),
        ("tags=cs.a", "tags", "array literal"),
        ("tags=cs.{NULL}", "tags", "must not be null"),
        ("scores=cs.{1,x}", "scores", "item 1"),
        ("flags=ov.{yes}", "flags", "item 0"),
        ("meta=eq.1", "meta", "`cs`, `cd` and `is`"),
        ("meta=ov.[1]", "meta", "`cs`, `cd` and `is`"),
        ("meta=cs.{a", "meta", "JSON"),
        ("id=cs.{1}", "id", "array and JSON fields only"),
        ("id=ov.{1}", "id", "array fields only"),
        ("order=tags", "order", "not a field you can sort on"),
    ] {
        let p = get(&app, &format!("/types_posts?{}", enc(q)))
            .await
            .problem(400);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(fragment), "{q}: {p}");
        assert!(p.to_string().contains(param), "{q}: {p}");
        assert!(!detail.contains("SELECT"), "{q}: {p}");
    }
    for (body, fragment) in [
        (
            r#"{"tags":"a","scores":[],"small":[],"flags":[]}"#,
            "an array of strings",
        ),
        (
            r#"{"tags":[1],"scores":[],"small":[],"flags":[]}"#,
            "item 0: expected a string",
        ),
        (
            r#"{"tags":["a",null],"scores":[],"small":[],"flags":[]}"#,
            "item 1: must not be null",
        ),
        (
            r#"{"tags":[],"scores":[],"small":[3000000000],"flags":[]}"#,
            "item 0",
        ),
        (
            r#"{"tags":[],"scores":[1.5],"small":[],"flags":[]}"#,
            "item 0",
        ),
    ] {
        let r = send(&app, "POST", "/types_posts", &[], Some(body)).await;
        let p = r.problem(422);
        assert!(p.to_string().contains(fragment), "{body}: {p}");
    }
}

async fn verify_checks_array_columns(t: Arc<TestDb>) {
    let _app = app(&t).await;
    // The array table seen as text: refused on PostgreSQL (TEXT[] is not TEXT); elsewhere
    // the JSON text is text, and the model that says `String` reads it.
    let as_text = expose_runtime::verify(&t.db, &[PostAsText::MODEL]).await;
    match t.backend {
        Backend::Postgres => {
            let e = as_text.unwrap_err();
            assert!(matches!(&e, VerifyError::Mismatches(m) if m[0].kind == MismatchKind::Type));
            let m = e.to_string();
            assert!(m.contains("PostAsText.tags") && m.contains("_text"), "{m}");
        }
        Backend::Sqlite => as_text.unwrap(),
        // MariaDB's JSON is LONGTEXT.
        Backend::MySql => as_text.unwrap(),
    }
    t.db.execute("CREATE TABLE types_wrong (id INTEGER PRIMARY KEY, tags INTEGER NOT NULL)")
        .await
        .unwrap();
    let e = expose_runtime::verify(&t.db, &[Wrong::MODEL])
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("Wrong.tags")
            && m.contains("Rust Vec<String>")
            && m.to_lowercase().contains("int"),
        "{m}"
    );
}

async fn typed_json(t: Arc<TestDb>) {
    expose_runtime::create_tables(&t.db, &[Member::MODEL])
        .await
        .unwrap();
    expose_runtime::verify(&t.db, &[Member::MODEL])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app = Member::router().with_state(t.db.clone());
    for body in [
        r#"{"prefs":{"theme":"dark","size":12},"extra":["a"]}"#,
        r#"{"prefs":{"theme":"light","size":9,"more":true},"extra":null}"#,
    ] {
        let r = send(&app, "POST", "/types_prefs", &[], Some(body)).await;
        assert_eq!(
            r.status,
            201,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let back = get(&app, "/types_prefs/1").await.json();
    assert_eq!(
        back["prefs"],
        serde_json::json!({"theme": "dark", "size": 12})
    );
    assert_eq!(back["extra"], serde_json::json!(["a"]));
    // A document that is not a `Prefs` (or not a `Vec<String>`): 422 naming the field.
    for (body, field) in [
        (r#"{"prefs":{"theme":"dark"}}"#, "prefs"),
        (r#"{"prefs":{"theme":"dark","size":300}}"#, "prefs"),
        (r#"{"prefs":[1]}"#, "prefs"),
        (r#"{"prefs":{"theme":"x","size":1},"extra":[1]}"#, "extra"),
    ] {
        let p = send(&app, "POST", "/types_prefs", &[], Some(body))
            .await
            .problem(422);
        assert_eq!(p["errors"][0]["name"], field, "{body}: {p}");
        let detail = p["errors"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("does not have the field's type"),
            "{body}: {p}"
        );
    }
    let r = send(
        &app,
        "PATCH",
        "/types_prefs/1",
        &[],
        Some(r#"{"prefs":{"size":1}}"#),
    )
    .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    if t.backend != Backend::Sqlite {
        let r = get(
            &app,
            &format!("/types_prefs?{}", enc("prefs=cs.{\"theme\":\"light\"}")),
        )
        .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let ids: Vec<i64> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [2]);
    }
}

backend_tests!(
    typed_json,
    arrays_round_trip,
    arrays_take_cs_cd_and_ov,
    json_containment,
    misuse_is_refused,
    verify_checks_array_columns,
);

#[test]
fn the_openapi_schema_says_array() {
    let doc = expose_runtime::OpenApi::new("t", "1")
        .resource::<Post>()
        .document();
    let props = &doc["components"]["schemas"]["Post"]["properties"];
    assert_eq!(props["tags"]["type"], "array");
    assert_eq!(props["tags"]["items"]["type"], "string");
    assert_eq!(props["scores"]["items"]["format"], "int64");
    assert_eq!(
        props["ratios"]["type"],
        serde_json::json!(["array", "null"])
    );
    let params = doc["paths"]["/types_posts"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let pattern = |name: &str| {
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        p["schema"]["pattern"].as_str().unwrap().to_owned()
    };
    // The operators each takes (the patterns themselves are checked against the parser in
    // the runtime's OpenAPI tests).
    assert!(
        pattern("tags").contains("(?:cs|cd|ov)"),
        "{}",
        pattern("tags")
    );
    assert!(!pattern("tags").contains("eq"), "{}", pattern("tags"));
    assert!(pattern("meta").contains("(?:cs|cd)"), "{}", pattern("meta"));
}
