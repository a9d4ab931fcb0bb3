//! End-to-end: embedded resources in the answer of every write that answers rows
//! (`POST /ew_posts?select=id,ew_users(name)` with `Prefer: return=representation`), on
//! every backend: create (one object, an array, an upsert), `PATCH` of one row and of rows
//! chosen by filters, `DELETE` chosen by filters, `PUT`, a declared action; the embedded
//! models' policies (hidden fields, scope), the whitelist, and that a refused `select`
//! writes nothing. The embeds are read in the write's transaction, after it, with a number
//! of statements that does not grow with the number of rows.

mod support;

use expose_runtime::{expose, Cond, Db, FieldMask, HookCtx, Problem};
use serde_json::{json, Value};
use std::sync::Arc;
use support::{admin, send, Reply, TestDb};

const REP: (&str, &str) = ("prefer", "return=representation");

/// A user: `token` is never readable, `email` only for admins; inactive users are never
/// listed, so never embedded.
#[expose(
    as = "ew_users",
    all(fields = "-token", fields_for = user_fields),
    list(where = "active.eq.true", order = "id", embed(EwPost)),
    retrieve(embed(EwPost))
)]
pub struct EwUser {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub token: String,
    pub active: bool,
}

/// A post: everyone reads the published ones (and embeds only those); writes reach all.
#[derive(Debug, serde::Deserialize)]
#[expose(
    as = "ew_posts",
    list(order = "id", scope = published_only, embed(EwUser, EwNote)),
    retrieve(scope = published_only, embed(EwUser, EwNote)),
    create(fields = "id,owner_id,title,published", upsert),
    update(fields = "title,published", filter = "id,title"),
    remove(filter = "id,title"),
    replace(fields = "owner_id,title,published"),
    action(publish)
)]
pub struct EwPost {
    #[expose(id)]
    pub id: i64,
    #[expose(references = EwUser)]
    pub owner_id: i64,
    pub title: String,
    pub published: bool,
}

/// A note on a post (never deleted with it: the tests remove only posts without notes).
#[expose(as = "ew_notes", list(order = "id", embed(EwPost)))]
pub struct EwNote {
    #[expose(id)]
    pub id: i64,
    #[expose(references = EwPost)]
    pub post_id: i64,
    pub body: String,
}

pub fn user_fields(ctx: &HookCtx, fields: &mut FieldMask<EwUser>) -> Result<(), Problem> {
    if !admin(ctx) {
        fields.remove(EwUser::FIELDS.email);
    }
    Ok(())
}

pub fn published_only(_: &HookCtx) -> Result<Option<Cond<EwPost>>, Problem> {
    Ok(Some(EwPost::FIELDS.published.eq(true)))
}

/// Action `POST /ew_posts/{id}/publish`.
pub async fn publish(post: EwPost, ctx: &mut HookCtx) -> Result<(), Problem> {
    if !post.published {
        ctx.input_mut()?.set(EwPost::FIELDS.published, true)?;
    }
    Ok(())
}

async fn setup(t: &TestDb) -> axum::Router {
    expose_runtime::create_tables(&t.db, &[EwUser::MODEL, EwPost::MODEL, EwNote::MODEL])
        .await
        .expect("tables");
    // User 3 is inactive: its list's `where` hides it, so it is never embedded.
    t.db.execute(
        "INSERT INTO ew_users (id, name, email, token, active) VALUES \
         (1, 'Ann', 'ann@example.com', 's1', TRUE), (2, 'Ben', 'ben@example.com', 's2', TRUE), \
         (3, 'Gone', 'gone@example.com', 's3', FALSE)",
    )
    .await
    .expect("users");
    t.db.execute(
        "INSERT INTO ew_posts (id, owner_id, title, published) VALUES \
         (1, 1, 'Hello', TRUE), (2, 2, 'Draft', FALSE)",
    )
    .await
    .expect("posts");
    t.db.execute(
        "INSERT INTO ew_notes (id, post_id, body) VALUES (1, 1, 'n1'), (2, 1, 'n2'), (3, 2, 'n3')",
    )
    .await
    .expect("notes");
    let db: Db = t.db.clone();
    axum::Router::new()
        .merge(EwUser::router())
        .merge(EwPost::router())
        .merge(EwNote::router())
        .with_state(db)
}

fn ok(r: &Reply, status: u16) -> Value {
    assert_eq!(
        r.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

/// Every post, as the database has them: what "nothing was written" compares.
async fn posts(t: &TestDb) -> Vec<(i64, i64, String, bool)> {
    t.db.fetch_all(
        "SELECT id, owner_id, title, published FROM ew_posts ORDER BY id",
        &[],
    )
    .await
    .expect("posts")
}

async fn creates(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // One object, REST's way (no Prefer): 201 with the author embedded.
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,title,ew_users(name)",
        &[],
        Some(r#"{"id":10,"owner_id":1,"title":"New","published":true}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 201),
        json!({"id": 10, "title": "New", "ew_users": {"name": "Ann"}})
    );
    assert!(r.header("location").is_some_and(|l| l.ends_with("/10")));
    // With return=representation, an alias, `*` and a spread.
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=*,author:ew_users(id,name),...ew_users(who:name)",
        &[REP],
        Some(r#"{"id":11,"owner_id":2,"title":"Second","published":false}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 201),
        json!([{"id": 11, "owner_id": 2, "title": "Second", "published": false,
                "author": {"id": 2, "name": "Ben"}, "who": "Ben"}])
    );
    // The singular Accept: one object.
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,ew_users(name)",
        &[REP, ("accept", "application/vnd.pgrst.object+json")],
        Some(r#"{"id":12,"owner_id":1,"title":"Third","published":true}"#),
    )
    .await;
    assert_eq!(ok(&r, 201), json!({"id": 12, "ew_users": {"name": "Ann"}}));
    // A bulk create: each row with its author; an inactive author is scoped out: null.
    let rows = json!([
        {"id": 20, "owner_id": 2, "title": "a", "published": true},
        {"id": 21, "owner_id": 3, "title": "b", "published": true},
        {"id": 22, "owner_id": 1, "title": "c", "published": true},
    ]);
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,ew_users(name),ew_notes(body)",
        &[REP],
        Some(&rows.to_string()),
    )
    .await;
    assert_eq!(
        ok(&r, 201),
        json!([
            {"id": 20, "ew_users": {"name": "Ben"}, "ew_notes": []},
            {"id": 21, "ew_users": null, "ew_notes": []},
            {"id": 22, "ew_users": {"name": "Ann"}, "ew_notes": []},
        ])
    );
    // Without return=representation a bulk create answers no body.
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,ew_users(name)",
        &[],
        Some(r#"[{"id":23,"owner_id":1,"title":"d","published":true}]"#),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.len()), (201, 0));
    // An upsert (merge): the existing row merged, with its author and its notes.
    let rows = json!([
        {"id": 1, "owner_id": 1, "title": "Hello again", "published": true},
        {"id": 24, "owner_id": 2, "title": "e", "published": true},
    ]);
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,title,ew_users(name),ew_notes(body)",
        &[(
            "prefer",
            "return=representation, resolution=merge-duplicates",
        )],
        Some(&rows.to_string()),
    )
    .await;
    let got = ok(&r, 201);
    assert_eq!(
        got,
        json!([
            {"id": 1, "title": "Hello again", "ew_users": {"name": "Ann"},
             "ew_notes": [{"body": "n1"}, {"body": "n2"}]},
            {"id": 24, "title": "e", "ew_users": {"name": "Ben"}, "ew_notes": []},
        ])
    );
    // A one-row upsert, which has a one-statement path without embeds.
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,ew_users(name)",
        &[(
            "prefer",
            "return=representation, resolution=merge-duplicates",
        )],
        Some(r#"{"id":24,"owner_id":2,"title":"e2","published":true}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!([{"id": 24, "ew_users": {"name": "Ben"}}])
    );
}

async fn updates_removes_replaces(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // PATCH one row.
    let r = send(
        &app,
        "PATCH",
        "/ew_posts/1?select=title,ew_users(name),ew_notes(body)",
        &[],
        Some(r#"{"title":"Changed"}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!({"title": "Changed", "ew_users": {"name": "Ann"},
               "ew_notes": [{"body": "n1"}, {"body": "n2"}]})
    );
    assert!(r.header("etag").is_some());
    // The scope of the embedded notes' parent does not matter: notes of the draft (post 2)
    // show, as a read of notes would; the draft's own answer shows it, as a write's does.
    let r = send(
        &app,
        "PATCH",
        "/ew_posts/2?select=id,ew_notes(body)",
        &[],
        Some(r#"{"title":"Still a draft"}"#),
    )
    .await;
    assert_eq!(ok(&r, 200), json!({"id": 2, "ew_notes": [{"body": "n3"}]}));
    // return=minimal: no body.
    let r = send(
        &app,
        "PATCH",
        "/ew_posts/1?select=id,ew_users(name)",
        &[("prefer", "return=minimal")],
        Some(r#"{"title":"Hello"}"#),
    )
    .await;
    assert_eq!(r.status.as_u16(), 204);
    // PATCH chosen by filters.
    let r = send(
        &app,
        "PATCH",
        "/ew_posts?id=in.(1,2)&select=id,published,ew_users(name)",
        &[REP],
        Some(r#"{"published":true}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!([{"id": 1, "published": true, "ew_users": {"name": "Ann"}},
               {"id": 2, "published": true, "ew_users": {"name": "Ben"}}])
    );
    // PUT: an update, then an insert with the path's key.
    let r = send(
        &app,
        "PUT",
        "/ew_posts/2?select=id,title,ew_users(name)",
        &[],
        Some(r#"{"owner_id":1,"title":"Moved","published":true}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!({"id": 2, "title": "Moved", "ew_users": {"name": "Ann"}})
    );
    let r = send(
        &app,
        "PUT",
        "/ew_posts/30?select=id,ew_users(name)",
        &[],
        Some(r#"{"owner_id":2,"title":"Put","published":true}"#),
    )
    .await;
    assert_eq!(ok(&r, 201), json!({"id": 30, "ew_users": {"name": "Ben"}}));
    // DELETE chosen by filters, with representation: the removed rows with their authors.
    send(
        &app,
        "POST",
        "/ew_posts",
        &[],
        Some(r#"[{"id":31,"owner_id":1,"title":"x","published":true},{"id":32,"owner_id":2,"title":"x","published":false}]"#),
    )
    .await;
    let r = send(
        &app,
        "DELETE",
        "/ew_posts?title=eq.x&select=id,ew_users(name)",
        &[REP],
        None,
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!([{"id": 31, "ew_users": {"name": "Ann"}},
               {"id": 32, "ew_users": {"name": "Ben"}}])
    );
    assert!(!posts(&t).await.iter().any(|p| p.0 == 31 || p.0 == 32));
    // A declared action answers the written row with its embeds.
    t.db.execute("UPDATE ew_posts SET published = FALSE WHERE id = 2")
        .await
        .expect("unpublish");
    let r = send(
        &app,
        "POST",
        "/ew_posts/2/publish?select=id,published,ew_users(name)",
        &[],
        None,
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!({"id": 2, "published": true, "ew_users": {"name": "Ann"}})
    );
}

async fn policies_and_refusals(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let before = posts(&t).await;
    let one = r#"{"id":40,"owner_id":1,"title":"t","published":true}"#;
    let many = r#"[{"id":40,"owner_id":1,"title":"t","published":true}]"#;
    // A hidden field of the embedded model reads like a missing one, for every write.
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "POST",
            "/ew_posts?select=id,ew_users(email)".into(),
            Some(one),
        ),
        (
            "POST",
            "/ew_posts?select=id,ew_users(token)".into(),
            Some(many),
        ),
        (
            "PATCH",
            "/ew_posts/1?select=id,ew_users(email)".into(),
            Some(r#"{"title":"z"}"#),
        ),
        (
            "PATCH",
            "/ew_posts?id=eq.1&select=id,ew_users(email)".into(),
            Some(r#"{"title":"z"}"#),
        ),
        (
            "DELETE",
            "/ew_posts?id=eq.2&select=id,ew_users(email)".into(),
            None,
        ),
        (
            "PUT",
            "/ew_posts/1?select=id,ew_users(email)".into(),
            Some(r#"{"owner_id":1,"title":"z","published":true}"#),
        ),
        (
            "POST",
            "/ew_posts/2/publish?select=id,ew_users(email)".into(),
            None,
        ),
    ];
    for (method, uri, body) in &cases {
        let r = send(&app, method, uri, &[REP], *body).await;
        let p = r.problem(400);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("is not a field you can select in `ew_users`"),
            "{method} {uri}: {p}"
        );
        assert!(
            !detail.contains("token,") && !detail.contains("email,"),
            "{p}"
        );
    }
    // The admin sees the e-mail, as when reading users.
    let r = send(
        &app,
        "PATCH",
        "/ew_posts/1?select=id,ew_users(email)",
        &[("x-admin", "1")],
        Some(r#"{"title":"Hello"}"#),
    )
    .await;
    assert_eq!(
        ok(&r, 200),
        json!({"id": 1, "ew_users": {"email": "ann@example.com"}})
    );
    // A relation the read's whitelist lacks: 400 naming it; an `!inner` is for reads.
    let r = send(
        &app,
        "POST",
        "/ew_notes?select=id,ew_users(name)",
        &[REP],
        Some(r#"{"id":9,"post_id":1,"body":"x"}"#),
    )
    .await;
    // Notes have no create: the router answers 405 before any `select` is read.
    assert_eq!(r.status.as_u16(), 405);
    for (method, uri, body) in [
        ("POST", "/ew_posts?select=id,ew_posts(id)", Some(one)),
        (
            "PATCH",
            "/ew_posts?id=eq.1&select=id,nope(id)",
            Some(r#"{"title":"z"}"#),
        ),
        (
            "PUT",
            "/ew_posts/1?select=id,nope(id)",
            Some(r#"{"owner_id":1,"title":"z","published":true}"#),
        ),
    ] {
        let r = send(&app, method, uri, &[REP], body).await;
        let p = r.problem(400);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("is not a resource ew_posts can embed")
                && detail.contains("embeddable: ew_users, ew_notes"),
            "{method} {uri}: {p}"
        );
    }
    let r = send(
        &app,
        "POST",
        "/ew_posts?select=id,ew_users!inner(name)",
        &[REP],
        Some(one),
    )
    .await;
    assert!(r.problem(400)["detail"]
        .as_str()
        .unwrap()
        .contains("!inner"));
    let r = send(
        &app,
        "PATCH",
        "/ew_posts?id=eq.1&select=id,ew_notes(body)&ew_notes.limit=1",
        &[REP],
        Some(r#"{"title":"z"}"#),
    )
    .await;
    assert_eq!(r.problem(400)["errors"][0]["name"], "ew_notes.limit");
    // Nothing above was written.
    assert_eq!(posts(&t).await, before);
}

/// The row-reading statements one request runs (`expose_runtime::rows` events).
async fn statements(app: &axum::Router, uri: &str, body: &str) -> (Value, usize) {
    let (r, n) = support::counting_statements(send(app, "POST", uri, &[REP], Some(body))).await;
    (ok(&r, 201), n)
}

async fn statements_do_not_grow_with_rows(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let rows = |from: i64, n: i64| {
        let v: Vec<Value> = (from..from + n)
            .map(|id| json!({"id": id, "owner_id": 1 + id % 2, "title": "s", "published": true}))
            .collect();
        Value::Array(v).to_string()
    };
    let uri = "/ew_posts?select=id,ew_users(name),ew_notes(body)";
    // Warm the pool, so that no connection opens during a counted request.
    statements(&app, uri, &rows(100, 1)).await;
    let (few, small) = statements(&app, uri, &rows(200, 2)).await;
    let (many, large) = statements(&app, uri, &rows(300, 40)).await;
    assert_eq!(few.as_array().unwrap().len(), 2);
    assert_eq!(many.as_array().unwrap().len(), 40);
    assert!(many
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["ew_users"]["name"].is_string()));
    assert!(small > 0);
    assert_eq!(small, large, "statements for 2 and for 40 rows");
}

backend_tests!(
    creates,
    updates_removes_replaces,
    policies_and_refusals,
    statements_do_not_grow_with_rows,
);

/// The document shows the embeddable resources in the row schemas (a `$ref` to the related
/// model's row schema where the document has it, an object otherwise) and in the `select`
/// of writes.
#[test]
fn the_document_shows_embedded_shapes() {
    let doc = expose_runtime::OpenApi::new("ew", "1")
        .resource::<EwUser>()
        .resource::<EwPost>()
        .document();
    let schemas = &doc["components"]["schemas"];
    let post = &schemas["EwPost"]["properties"];
    assert_eq!(
        post["ew_users"]["anyOf"],
        json!([{"$ref": "#/components/schemas/EwUser"}, {"type": "null"}])
    );
    // Notes are not in this document: an object.
    assert_eq!(post["ew_notes"]["type"], "array");
    assert_eq!(post["ew_notes"]["items"]["type"], "object");
    let posts = &schemas["EwUser"]["properties"]["ew_posts"];
    assert_eq!(
        (&posts["type"], &posts["items"]),
        (
            &json!("array"),
            &json!({"$ref": "#/components/schemas/EwPost"})
        )
    );
    assert!(schemas["EwPost"].get("additionalProperties").is_none());
    assert!(post.get("owner_id").is_some() && post.get("token").is_none());
    // Every write that answers rows takes embeds in `select`.
    let select = |path: &str, method: &str| {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
        params
            .iter()
            .find(|p| p["name"] == "select")
            .unwrap_or_else(|| panic!("{method} {path}"))["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (path, method) in [
        ("/ew_posts", "post"),
        ("/ew_posts", "patch"),
        ("/ew_posts", "delete"),
        ("/ew_posts/{id}", "patch"),
        ("/ew_posts/{id}", "put"),
        ("/ew_posts/{id}/publish", "post"),
    ] {
        let d = select(path, method);
        assert!(
            d.contains("`ew_users(...)` (an object or null)") && d.contains("after the write"),
            "{method} {path}: {d}"
        );
    }
    assert!(select("/ew_posts", "get").contains("relation.limit"));
}
