//! The admin example (`examples/admin`): its copy of the people model documents the same API
//! as the people example's, its e-mail check refuses a bad address on every write path and
//! every backend (422 naming `email`, nothing written), and the page's files are served at
//! `/admin`. The page itself is tested in a browser by `examples/admin/run-e2e.sh`.

#[path = "../examples/admin/app.rs"]
#[allow(dead_code)] // main.rs uses the rest
mod admin;
mod support;

use expose_runtime::OpenApi;
use serde_json::Value;
use std::sync::Arc;
use support::{send, TestDb};

/// The document without its prose and the responses hooks may add: what a client relies on.
fn contract(mut doc: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("description");
                if let Some(Value::Object(responses)) = map.get_mut("responses") {
                    responses.remove("default");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut doc);
    doc
}

#[test]
fn the_admin_people_model_documents_the_people_examples_api() {
    let people = OpenApi::new("people", "1").resource::<admin::people::Person>();
    let ours = OpenApi::new("people", "1").resource::<admin::Person>();
    assert_eq!(contract(ours.document()), contract(people.document()));
}

const BAD: [&str; 4] = [
    "no-at-sign.example.com",
    "@example.com",
    "ada@localhost",
    "",
];

fn refused_at_email(r: &support::Reply) {
    let p = r.problem(422);
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(1), "{p}");
    // `[1].email` for row 1 of a bulk body when the model's declared `email` rule refuses
    // it; the example's stricter hook (a dot in the domain) names `email`.
    let name = p["errors"][0]["name"].as_str().unwrap_or("");
    assert!(name == "email" || name == "[1].email", "{p}");
    assert_eq!(p["errors"][0]["in"], "body", "{p}");
}

async fn email_check(t: Arc<TestDb>) {
    admin::people::create_table(&t.db).await.expect("people");
    admin::people::seed(&t.db, 3).await.expect("seed");
    admin::blog::create_tables(&t.db).await.expect("blog");
    // The tables made from the models pass the start-up check, as in `main.rs`.
    let models = [
        admin::Person::MODEL,
        admin::blog::User::MODEL,
        admin::blog::Post::MODEL,
    ];
    expose_runtime::verify(&t.db, &models)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app = admin::app(t.db.clone());
    let before = send(&app, "GET", "/people?order=id", &[], None)
        .await
        .json();
    let rep = [("prefer", "return=representation")];
    for bad in BAD {
        let row = format!(r#"{{"name":"A","email":"{bad}","password":"p","age":30}}"#);
        refused_at_email(&send(&app, "POST", "/people", &[], Some(&row)).await);
        // A bulk create with one bad row writes none.
        let rows =
            format!(r#"[{{"name":"B","email":"b@example.com","password":"p","age":30}},{row}]"#);
        refused_at_email(&send(&app, "POST", "/people", &rep, Some(&rows)).await);
        let email = format!(r#"{{"email":"{bad}"}}"#);
        // What react-admin sends (a PATCH chosen by the key), and REST's PATCH and PUT.
        refused_at_email(&send(&app, "PATCH", "/people?id=eq.1", &rep, Some(&email)).await);
        refused_at_email(&send(&app, "PATCH", "/people/2", &[], Some(&email)).await);
        let whole = format!(r#"{{"name":"C","email":"{bad}","password":"p","age":30,"bio":null}}"#);
        refused_at_email(&send(&app, "PUT", "/people/3", &[], Some(&whole)).await);
    }
    let after = send(&app, "GET", "/people?order=id", &[], None)
        .await
        .json();
    assert_eq!(after, before, "nothing was written");

    let good = r#"{"email":"ada@example.com"}"#;
    let r = send(&app, "PATCH", "/people?id=eq.1", &rep, Some(good)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()[0]["email"], "ada@example.com");
    // Updates that do not write the e-mail are not checked.
    let r = send(&app, "PATCH", "/people/2", &[], Some(r#"{"age":44}"#)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

backend_tests!(email_check);

#[tokio::test]
async fn the_page_is_served_at_admin_and_a_missing_build_is_explained() {
    let db = expose_runtime::Db::connect("sqlite::memory:")
        .await
        .expect("db");
    let dir = std::env::temp_dir().join(format!("expose-admin-page-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).expect("dir");
    std::fs::write(dir.join("index.html"), "<!doctype html><div id=root></div>").expect("index");
    std::fs::write(dir.join("assets/app.js"), "console.log(1)").expect("asset");
    let app = admin::app_serving(db.clone(), &dir);
    for path in ["/admin", "/admin/"] {
        let r = send(&app, "GET", path, &[], None).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html"), "{path}");
    }
    let r = send(&app, "GET", "/admin/assets/app.js", &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"console.log(1)");
    assert_eq!(
        send(&app, "GET", "/admin/assets/none.js", &[], None)
            .await
            .status,
        404
    );
    // The API beside it.
    assert_eq!(
        send(&app, "GET", "/openapi.json", &[], None).await.status,
        200
    );

    let empty = dir.join("nothing-here");
    let app = admin::app_serving(db, &empty);
    let r = send(&app, "GET", "/admin", &[], None).await;
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("npm ci && npm run build"));
    let _ = std::fs::remove_dir_all(&dir);
}
