//! The OpenAPI document: snapshots of the `people` example and of a model that uses every
//! field type and most options, and the routes that serve the document and the index.
//!
//! A snapshot that differs fails with the JSON pointers that differ; `UPDATE_SNAPSHOTS=1`
//! rewrites the files under `tests/snapshots/`. `.ci/openapi.sh` validates them against the
//! OpenAPI 3.1 schema.

#[path = "../examples/people/app.rs"]
#[allow(dead_code)] // the table and seed helpers serve the other tests
mod app;
mod support;

use expose_runtime::{expose, Db, OpenApi};
use serde_json::Value;
use std::path::PathBuf;

/// A measurement taken by a sensor.
///
/// Readings are kept as sent; they are never changed.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[expose(
    as = "readings",
    table = "reading",
    list(
        filter = "-payload",
        sort = "taken_on,value",
        fixed_order = "taken_on.desc",
        limit = 20,
        max_limit = 50,
        max_in = 3
    ),
    retrieve(fields = "-payload"),
    create
)]
pub struct Reading {
    /// Chosen by the client.
    #[expose(id)]
    pub id: uuid::Uuid,
    /// The sensor's number.
    pub sensor_no: i16,
    pub value: f64,
    /// Between 0 and 1, when known.
    pub ratio: Option<f32>,
    pub taken_on: chrono::NaiveDate,
    #[expose(default)]
    pub ok: bool,
    pub payload: Option<serde_json::Value>,
    #[serde(rename = "comment")]
    pub note: String,
    #[expose(generated)]
    pub received_at: chrono::DateTime<chrono::Utc>,
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"))
}

/// Where two JSON values differ, as `pointer: expected … got …` lines.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    let short = |v: Option<&Value>| match v {
        None => "(absent)".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 120 {
                format!("{}…", s.chars().take(120).collect::<String>())
            } else {
                s
            }
        }
    };
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => differences(&p, x, y, out),
                    (x, y) => out.push(format!("{p}: expected {} got {}", short(x), short(y))),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}/{i}");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => differences(&p, x, y, out),
                    (x, y) => out.push(format!("{p}: expected {} got {}", short(x), short(y))),
                }
            }
        }
        (a, b) if a != b => out.push(format!(
            "{}: expected {} got {}",
            if path.is_empty() { "/" } else { path },
            short(Some(a)),
            short(Some(b))
        )),
        _ => {}
    }
}

/// Compares `doc` with the checked-in snapshot, or rewrites it under `UPDATE_SNAPSHOTS=1`.
fn check_snapshot(name: &str, doc: &Value) {
    let path = snapshot_path(name);
    let text = serde_json::to_string_pretty(doc).expect("serialize") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v != "0" && !v.is_empty()) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create snapshot dir");
        std::fs::write(&path, text).expect("write snapshot");
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no snapshot at {} ({e}); run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    let want: Value = serde_json::from_str(&stored).expect("snapshot is JSON");
    let mut diff = Vec::new();
    differences("", &want, doc, &mut diff);
    assert!(
        diff.is_empty(),
        "the OpenAPI document of {name} differs from {} in {} place(s):\n  {}\n\
         If the change is intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff.",
        path.display(),
        diff.len(),
        diff.join("\n  ")
    );
}

fn people_api() -> OpenApi {
    OpenApi::new("people", env!("CARGO_PKG_VERSION")).resource::<app::Person>()
}

#[test]
fn people_snapshot() {
    check_snapshot("openapi-people", &people_api().document());
}

#[test]
fn readings_snapshot() {
    let doc = OpenApi::new("readings", "1.0.0")
        .description("Every field type and most options of #[expose].")
        .resource::<Reading>()
        .document();
    check_snapshot("openapi-readings", &doc);
}

#[test]
fn combined_document_holds_every_resource() {
    let doc = people_api().resource::<Reading>().document();
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(
        {
            let mut p = paths.clone();
            p.sort();
            p
        },
        ["/people", "/people/{id}", "/readings", "/readings/{id}"]
    );
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Person",
        "PersonCreate",
        "PersonUpdate",
        "PersonReplace",
        "Reading",
        "ReadingCreate",
        "Problem",
        "Offender",
    ] {
        assert!(schemas.contains_key(name), "missing schema {name}");
    }
    // Not exposed: update and remove of readings.
    assert!(doc["paths"]["/readings/{id}"].get("patch").is_none());
    assert!(doc["paths"]["/readings/{id}"].get("delete").is_none());
    assert!(!schemas.contains_key("ReadingUpdate"));
}

#[test]
fn policies_shape_the_document() {
    let doc = people_api().resource::<Reading>().document();
    let s = &doc["components"]["schemas"];
    // Read: exactly the readable fields (password is not), the key included.
    let person: Vec<&String> = s["Person"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let mut person = person.clone();
    person.sort();
    assert_eq!(
        person,
        [
            "age",
            "bio",
            "created_at",
            "email",
            "id",
            "is_admin",
            "name"
        ]
    );
    // Create: the writable fields; required = neither nullable nor defaulted.
    assert_eq!(
        s["PersonCreate"]["required"],
        serde_json::json!(["name", "email", "password", "age"])
    );
    assert_eq!(s["PersonCreate"]["additionalProperties"], false);
    assert!(s["PersonUpdate"].get("required").is_none());
    assert_eq!(
        s["Person"]["properties"]["bio"]["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(s["Person"]["properties"]["id"]["format"], "int64");
    assert_eq!(s["Person"]["properties"]["age"]["format"], "int32");
    assert_eq!(
        s["Person"]["properties"]["created_at"]["format"],
        "date-time"
    );
    // Renames and doc comments.
    let r = &s["Reading"]["properties"];
    assert_eq!(r["sensorNo"]["description"], "The sensor's number.");
    assert_eq!(r["sensorNo"]["minimum"], -32768);
    assert!(r.get("comment").is_some() && r.get("note").is_none());
    assert!(r.get("payload").is_none(), "retrieve does not read payload");
    assert_eq!(r["id"]["format"], "uuid");
    assert_eq!(r["takenOn"]["format"], "date");
    assert_eq!(r["ratio"]["type"], serde_json::json!(["number", "null"]));
    assert_eq!(
        s["ReadingCreate"]["properties"]["payload"]["type"],
        serde_json::json!(["array", "boolean", "null", "number", "object", "string"])
    );
    assert!(doc["tags"][1]["description"]
        .as_str()
        .unwrap()
        .starts_with("A measurement taken by a sensor.\n\nReadings are kept"));
    // List parameters: filterable fields, sortable fields, limits.
    let params = |path: &str| -> Vec<Value> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone()
    };
    let names = |path: &str| -> Vec<String> {
        params(path)
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("/people"),
        [
            "id",
            "name",
            "email",
            "age",
            "is_admin",
            "bio",
            "created_at",
            "select",
            "order",
            "limit",
            "offset",
            "or",
            "and",
            "not.or",
            "not.and",
            "Prefer",
            "Range",
            "Accept"
        ]
    );
    let limit = params("/people")
        .into_iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    // The default in words (a generated client would send a `default`), the policy's
    // largest page as the maximum.
    assert!(limit["schema"].get("default").is_none(), "{limit}");
    assert_eq!(limit["schema"]["maximum"], 1000);
    // Fixed order: no `order` parameter; payload is not filterable.
    let readings = names("/readings");
    assert!(!readings.contains(&"order".to_owned()));
    assert!(!readings.contains(&"payload".to_owned()));
    assert!(readings.contains(&"comment".to_owned()));
    // Every status each operation answers.
    let statuses = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(statuses("/people", "get")),
        ["200", "206", "400", "406", "414", "416", "503"]
    );
    assert_eq!(
        sorted(statuses("/people", "post")),
        ["200", "201", "400", "406", "409", "413", "414", "415", "422", "503"]
    );
    assert_eq!(
        sorted(statuses("/readings", "post")),
        ["201", "400", "406", "409", "413", "414", "415", "422", "503"]
    );
    assert_eq!(
        sorted(statuses("/people", "patch")),
        ["200", "204", "400", "406", "409", "412", "413", "414", "415", "422", "503"]
    );
    assert_eq!(
        sorted(statuses("/people", "delete")),
        ["200", "204", "400", "406", "409", "412", "414", "503"]
    );
    assert_eq!(
        sorted(statuses("/people/{id}", "put")),
        ["200", "201", "204", "400", "409", "412", "413", "414", "415", "422", "503"]
    );
    assert_eq!(
        sorted(statuses("/people/{id}", "get")),
        ["200", "304", "400", "404", "406", "414", "503"]
    );
    assert_eq!(
        sorted(statuses("/people/{id}", "patch")),
        ["200", "204", "400", "404", "409", "412", "413", "414", "415", "422", "503"]
    );
    assert_eq!(
        sorted(statuses("/people/{id}", "delete")),
        ["204", "400", "404", "409", "412", "414", "503"]
    );
}

/// Issue 28's writes: bulk create and upsert, PATCH/DELETE chosen by filters, PUT.
#[test]
fn writes_shape_the_document() {
    let doc = people_api().resource::<Reading>().document();
    let s = &doc["components"]["schemas"];
    let names = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} on {method} {path}"))
    };
    // POST: one object or an array of at most max_rows; upserts only where allowed.
    assert_eq!(
        names("/people", "post"),
        [
            "select",
            "columns",
            "on_conflict",
            "Prefer",
            "Accept",
            "Idempotency-Key"
        ]
    );
    assert_eq!(
        names("/readings", "post"),
        ["select", "columns", "Prefer", "Accept", "Idempotency-Key"]
    );
    let body = &doc["paths"]["/people"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["oneOf"];
    assert_eq!(body[0]["$ref"], "#/components/schemas/PersonCreate");
    assert_eq!(body[1]["maxItems"], 1000);
    // `on_conflict`: the unique email; the generated key is no target (no row carries it).
    let on_conflict = param("/people", "post", "on_conflict");
    let pattern = on_conflict["schema"]["pattern"].as_str().unwrap();
    assert!(pattern.contains("email") && !pattern.contains("id"));
    let created = &doc["paths"]["/people"]["post"]["responses"]["201"]["headers"];
    assert_eq!(created["Location"]["required"], false);
    assert_eq!(
        created["Content-Range"]["schema"]["pattern"],
        "^\\*/[0-9]+$"
    );
    // PATCH and DELETE on the collection: the write's filters, no order, limit or offset.
    for method in ["patch", "delete"] {
        assert_eq!(
            names("/people", method),
            [
                "id",
                "name",
                "email",
                "age",
                "select",
                "or",
                "and",
                "not.or",
                "not.and",
                "Prefer",
                "Accept",
                "If-Match",
                "Idempotency-Key"
            ]
        );
        assert_eq!(
            param("/people", method, "age")["schema"],
            param("/people", "get", "age")["schema"]
        );
    }
    let tree = &s["PersonUpdateTree"]["pattern"];
    assert!(tree.as_str().unwrap().contains("email") && !tree.as_str().unwrap().contains("bio"));
    assert_eq!(
        param("/people", "patch", "or")["schema"]["$ref"],
        "#/components/schemas/PersonUpdateTree"
    );
    assert_eq!(
        doc["paths"]["/people"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/PersonUpdate"
    );
    assert!(doc["paths"]["/people"]["delete"]
        .get("requestBody")
        .is_none());
    assert!(doc["paths"]["/readings"].get("patch").is_none());
    // PUT: every writable field required; the key may be sent.
    assert_eq!(
        s["PersonReplace"]["required"],
        serde_json::json!(["name", "email", "password", "age", "bio"])
    );
    assert!(s["PersonReplace"]["properties"].get("id").is_some());
    assert_eq!(s["PersonReplace"]["additionalProperties"], false);
    assert_eq!(
        names("/people/{id}", "put"),
        ["select", "Prefer", "If-Match", "Idempotency-Key"]
    );
    assert!(doc["paths"]["/readings/{id}"].get("put").is_none());
}

#[tokio::test]
async fn the_example_serves_the_document_and_the_index() {
    let db = Db::connect("sqlite::memory:").await.expect("sqlite");
    let app = app::app(db);
    let r = support::get(&app, "/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), people_api().document());
    let r = support::get(&app, "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        serde_json::json!({
            "title": "people",
            "version": env!("CARGO_PKG_VERSION"),
            "openapi": "/openapi.json",
            "resources": [{
                "name": "people",
                "description": "A person, exposed at `/people`.",
                "operations": [
                    { "operation": "list", "method": "GET", "path": "/people" },
                    { "operation": "retrieve", "method": "GET", "path": "/people/{id}" },
                    { "operation": "create", "method": "POST", "path": "/people" },
                    { "operation": "update", "method": "PATCH", "path": "/people/{id}" },
                    { "operation": "update", "method": "PATCH", "path": "/people" },
                    { "operation": "remove", "method": "DELETE", "path": "/people/{id}" },
                    { "operation": "remove", "method": "DELETE", "path": "/people" },
                    { "operation": "replace", "method": "PUT", "path": "/people/{id}" },
                ],
            }],
        })
    );
}

/// Routers nested under a prefix: the document names it in `servers`, its paths stay those
/// of the routers, and every documented operation answers at prefix + path; the index lists
/// the full paths.
#[tokio::test]
async fn a_nested_api_documents_its_prefix() {
    let db = Db::connect("sqlite::memory:").await.expect("sqlite");
    app::create_table(&db).await.expect("table");
    app::seed(&db, 3).await.expect("seed");
    let app = app::app_under(db, "/api/v1");
    let doc = support::get(&app, "/openapi.json").await.json();
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/api/v1" }]));
    // The rest of the document is the one of the unnested app.
    let mut unnested = doc.clone();
    unnested.as_object_mut().unwrap().remove("servers");
    let mut plain = people_api().document();
    assert_eq!(plain["servers"], serde_json::json!([{ "url": "/" }]));
    plain.as_object_mut().unwrap().remove("servers");
    assert!(
        unnested == plain,
        "the nested document differs beyond `servers`"
    );
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let uri = format!("/api/v1{}", path.replace("{id}", "1"));
        for method in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            // Read-only requests, and the writes refused before any SQL by their body.
            let (method, body) = match method.as_str() {
                "get" => ("GET", None),
                "post" => ("POST", Some("{}")),
                "patch" => ("PATCH", Some("{\"age\":\"x\"}")),
                "put" => ("PUT", Some("{}")),
                "delete" => ("DELETE", None),
                other => panic!("unexpected method {other}"),
            };
            // A remove whose `If-Match` matches no version: 412, nothing removed.
            let headers: &[(&str, &str)] = match method {
                "DELETE" => &[("if-match", "\"stale\"")],
                _ => &[],
            };
            let r = support::send(&app, method, &uri, headers, body).await;
            assert!(
                ![404, 405].contains(&r.status.as_u16()),
                "{method} {uri}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
        // Not served at the unprefixed path.
        assert_eq!(
            support::get(&app, &path.replace("{id}", "1")).await.status,
            404
        );
    }
    let index = support::get(&app, "/").await.json();
    let paths: Vec<&str> = index["resources"][0]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().all(|p| p.starts_with("/api/v1/people")),
        "{paths:?}"
    );
    let r = support::send(
        &app,
        "POST",
        "/api/v1/people",
        &[],
        Some(r#"{"name":"Ada","email":"ada@example.com","password":"pw","age":36}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("location").unwrap().starts_with("/api/v1/people/"));
}
