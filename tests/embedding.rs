//! End-to-end: PostgREST resource embedding on every backend. To-one (an object or null),
//! to-many (an array), nesting, aliases, filters, order and limits on embedded rows,
//! `!inner` and `rel=is.null`, every refusal, every policy of the embedded model (its
//! readable fields, `fields_for`, scope, `where`, `pre` hooks), and the number of
//! statements, which does not grow with the number of parents.

mod support;

use expose_runtime::{expose, Cond, Db, FieldMask, HookCtx, Problem};
use serde_json::{json, Value};
use std::sync::Arc;
use support::{admin, caller, send, TestDb};

/// A user: `token` is never readable; `email` only for admins; inactive users are never
/// listed.
#[expose(
    as = "rel_users",
    all(fields = "-token", fields_for = user_fields),
    list(
        where = "active.eq.true",
        order = "id",
        embed(RelPost, RelComment),
        embed_depth = 2,
        embed_rows = 3
    ),
    retrieve(embed(RelPost))
)]
pub struct RelUser {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub token: String,
    pub active: bool,
    /// Only user 1 has one.
    pub motto: Option<String>,
}

/// A post: published ones for everyone, one's own drafts too.
#[expose(
    as = "rel_posts",
    all(scope = visible_posts),
    list(order = "id", filter = "-body", embed(RelUser, RelComment), embed_depth = 2),
    retrieve(embed(RelUser, RelComment)),
    create(fields = "id,owner_id,title,body,published")
)]
pub struct RelPost {
    #[expose(id)]
    pub id: i64,
    #[expose(references = RelUser)]
    pub owner_id: i64,
    pub title: String,
    pub body: String,
    pub published: bool,
}

/// A comment, by an author, maybe reviewed by another user: two references to users. Its
/// list refuses callers marked as bots.
#[expose(
    as = "rel_comments",
    list(order = "id", pre = [no_bots], embed(RelUser, RelPost))
)]
pub struct RelComment {
    #[expose(id)]
    pub id: i64,
    #[expose(references = RelPost)]
    pub post_id: i64,
    #[expose(references = RelUser)]
    pub author_id: i64,
    #[expose(references = RelUser)]
    pub reviewer_id: Option<i64>,
    pub body: String,
}

pub fn user_fields(ctx: &HookCtx, fields: &mut FieldMask<RelUser>) -> Result<(), Problem> {
    if !admin(ctx) {
        fields.remove(RelUser::FIELDS.email);
    }
    Ok(())
}

pub fn visible_posts(ctx: &HookCtx) -> Result<Option<Cond<RelPost>>, Problem> {
    let published = RelPost::FIELDS.published.eq(true);
    Ok(Some(match caller(ctx) {
        Some(id) => published.or(RelPost::FIELDS.owner_id.eq(id)),
        None => published,
    }))
}

pub async fn no_bots(ctx: &mut HookCtx) -> Result<(), Problem> {
    match ctx.headers().contains_key("x-bot") {
        true => Err(Problem::forbidden(format!(
            "no bots (embedded in {:?})",
            ctx.embedded_in()
        ))),
        false => Ok(()),
    }
}

async fn setup(t: &TestDb, users: i64) -> axum::Router {
    expose_runtime::create_tables(&t.db, &[RelUser::MODEL, RelPost::MODEL, RelComment::MODEL])
        .await
        .expect("tables");
    let mut sql =
        String::from("INSERT INTO rel_users (id, name, email, token, active, motto) VALUES ");
    for id in 1..=users {
        if id > 1 {
            sql.push_str(", ");
        }
        // User 3 is inactive: its list's `where` hides it.
        let active = if id == 3 { "FALSE" } else { "TRUE" };
        let motto = if id == 1 { "'hi'" } else { "NULL" };
        sql.push_str(&format!(
            "({id}, 'user{id}', 'u{id}@example.com', 'secret{id}', {active}, {motto})"
        ));
    }
    t.db.execute(&sql).await.expect("users");
    // Users 1 and 2 have posts; the others none. Post 2 is user 1's draft.
    t.db.execute(
        "INSERT INTO rel_posts (id, owner_id, title, body, published) VALUES \
         (1, 1, 'Hello', 'b1', TRUE), (2, 1, 'Draft', 'b2', FALSE), \
         (3, 1, 'Again', 'b3', TRUE), (4, 2, 'Mine', 'b4', TRUE), \
         (5, 1, 'Fourth', 'b5', TRUE), (6, 3, 'Ghost', 'b6', TRUE)",
    )
    .await
    .expect("posts");
    t.db.execute(
        "INSERT INTO rel_comments (id, post_id, author_id, reviewer_id, body) VALUES \
         (1, 1, 2, 1, 'nice'), (2, 1, 1, NULL, 'thanks'), (3, 4, 1, 2, 'welcome'), \
         (4, 2, 2, NULL, 'on a draft')",
    )
    .await
    .expect("comments");
    let db: Db = t.db.clone();
    axum::Router::new()
        .merge(RelUser::router())
        .merge(RelPost::router())
        .merge(RelComment::router())
        .with_state(db)
}

async fn get(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Value {
    let r = send(app, "GET", uri, headers, None).await;
    assert_eq!(r.status, 200, "{uri}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

async fn refused(app: &axum::Router, uri: &str, headers: &[(&str, &str)], status: u16) -> String {
    let r = send(app, "GET", uri, headers, None).await;
    let p = r.problem(status);
    let text = p.to_string().to_lowercase();
    for word in ["select 1", "from \"", "exists (", "sqlx", "expose_"] {
        assert!(!text.contains(word), "`{word}` in {p}");
    }
    p["detail"].as_str().unwrap().to_owned()
}

async fn to_one_and_to_many(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    // To-one: an object.
    let posts = get(
        &app,
        "/rel_posts?select=id,title,rel_users(name)&id=lte.4",
        &[],
    )
    .await;
    assert_eq!(
        posts,
        json!([
            {"id": 1, "title": "Hello", "rel_users": {"name": "user1"}},
            {"id": 3, "title": "Again", "rel_users": {"name": "user1"}},
            {"id": 4, "title": "Mine", "rel_users": {"name": "user2"}},
        ])
    );
    // To-many: an array, in the embedded list's order, empty for none.
    let users = get(&app, "/rel_users?select=name,rel_posts(id,title)", &[]).await;
    assert_eq!(
        users,
        json!([
            {"name": "user1", "rel_posts": [
                {"id": 1, "title": "Hello"}, {"id": 3, "title": "Again"}, {"id": 5, "title": "Fourth"}
            ]},
            {"name": "user2", "rel_posts": [{"id": 4, "title": "Mine"}]},
            {"name": "user4", "rel_posts": []},
        ])
    );
    // Aliases, `*` beside an embed, only an embed.
    let post = get(
        &app,
        "/rel_posts?select=*,author:rel_users(who:name)&id=eq.4",
        &[],
    )
    .await;
    assert_eq!(
        post,
        json!([{"id": 4, "owner_id": 2, "title": "Mine", "body": "b4", "published": true,
                "author": {"who": "user2"}}])
    );
    // Spread: a to-one embed's fields among the parent's; `null` each when it has no row.
    let spread = get(
        &app,
        "/rel_posts?select=id,...rel_users(author:name,active)&id=in.(4,6)",
        &[],
    )
    .await;
    assert_eq!(
        spread,
        json!([
            {"id": 4, "author": "user2", "active": true},
            {"id": 6, "author": null, "active": null},
        ])
    );
    let only = get(&app, "/rel_posts?select=rel_users(id)&id=eq.1", &[]).await;
    assert_eq!(only, json!([{"rel_users": {"id": 1}}]));
    let star = get(&app, "/rel_posts?select=id,rel_users(*)&id=eq.1", &[]).await;
    assert_eq!(
        star,
        json!([{"id": 1, "rel_users": {"id": 1, "name": "user1", "active": true, "motto": "hi"}}])
    );
    // Whether a joined row is there is read from one of its columns that is never null
    // (`name`) or, where all it shows may be null (`motto`), from its key: a row whose
    // columns are all null is an object of nulls, a missing row `null`.
    let posts = "/rel_posts?id=in.(1,4,6)&select=id,";
    let cases = [
        (
            "rel_users(motto)",
            json!({"motto": "hi"}),
            json!({"motto": null}),
        ),
        (
            "rel_users(motto,name)",
            json!({"motto": "hi", "name": "user1"}),
            json!({"motto": null, "name": "user2"}),
        ),
    ];
    for (embed, user1, user2) in cases {
        let got = get(&app, &format!("{posts}{embed}"), &[]).await;
        assert_eq!(
            got,
            json!([
                {"id": 1, "rel_users": user1},
                {"id": 4, "rel_users": user2},
                {"id": 6, "rel_users": null},
            ]),
            "{embed}"
        );
    }
    // A single object (`Accept: application/vnd.pgrst.object+json`) keeps its embeds.
    let r = send(
        &app,
        "GET",
        "/rel_posts?select=id,rel_users(name)&id=eq.4",
        &[("accept", "application/vnd.pgrst.object+json")],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), json!({"id": 4, "rel_users": {"name": "user2"}}));
    // Retrieve.
    let one = get(&app, "/rel_users/2?select=name,rel_posts(title)", &[]).await;
    assert_eq!(
        one,
        json!({"name": "user2", "rel_posts": [{"title": "Mine"}]})
    );
    let one = get(
        &app,
        "/rel_posts/1?select=title,rel_users(name),rel_comments(body)",
        &[],
    )
    .await;
    assert_eq!(
        one,
        json!({"title": "Hello", "rel_users": {"name": "user1"},
               "rel_comments": [{"body": "nice"}, {"body": "thanks"}]})
    );
    let r = send(
        &app,
        "GET",
        "/rel_posts/1?select=title,rel_users(name)",
        &[],
        None,
    )
    .await;
    let etag = r.header("etag").expect("an ETag").to_owned();
    let r = send(
        &app,
        "GET",
        "/rel_posts/1?select=title,rel_users(name)",
        &[("if-none-match", &etag)],
        None,
    )
    .await;
    assert_eq!(r.status, 304);
    // A scoped-out row is 404 with embeds as without.
    refused(&app, "/rel_posts/2?select=title,rel_users(name)", &[], 404).await;
}

async fn nesting_and_ambiguity(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    // users → posts → comments, each level under its own model's embed list.
    let users = get(
        &app,
        "/rel_users?select=name,rel_posts(title,rel_comments(body))&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"name": "user1", "rel_posts": [
            {"title": "Hello", "rel_comments": [{"body": "nice"}, {"body": "thanks"}]},
            {"title": "Again", "rel_comments": []},
            {"title": "Fourth", "rel_comments": []},
        ]}])
    );
    // Two references from comments to users: the client names one, by the field.
    let detail = refused(&app, "/rel_comments?select=body,rel_users(name)", &[], 400).await;
    assert!(detail.contains("ambiguous"), "{detail}");
    assert!(
        detail.contains("rel_users!author_id") && detail.contains("rel_users!reviewer_id"),
        "{detail}"
    );
    let comments = get(
        &app,
        "/rel_comments?select=id,author:rel_users!author_id(name),reviewer:rel_users!reviewer_id(name)",
        &[],
    )
    .await;
    assert_eq!(
        comments,
        json!([
            {"id": 1, "author": {"name": "user2"}, "reviewer": {"name": "user1"}},
            {"id": 2, "author": {"name": "user1"}, "reviewer": null},
            {"id": 3, "author": {"name": "user1"}, "reviewer": {"name": "user2"}},
            {"id": 4, "author": {"name": "user2"}, "reviewer": null},
        ])
    );
    // The reverse side: users' comments, by either reference.
    let users = get(
        &app,
        "/rel_users?select=id,reviewed:rel_comments!reviewer_id(id)&id=lte.2",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "reviewed": [{"id": 1}]}, {"id": 2, "reviewed": [{"id": 3}]}])
    );
    let detail = refused(
        &app,
        "/rel_comments?select=body,rel_users!post_id(name)",
        &[],
        400,
    )
    .await;
    assert!(detail.contains("no reference field `post_id`"), "{detail}");
}

async fn embedded_filters_order_limit(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts.order=id.desc&rel_posts.limit=2&id=lte.2",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "rel_posts": [{"id": 5}, {"id": 3}]}, {"id": 2, "rel_posts": [{"id": 4}]}])
    );
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts.offset=1&rel_posts.limit=1&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(users, json!([{"id": 1, "rel_posts": [{"id": 3}]}]));
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(title)&rel_posts.title=like.*e*&id=lte.2",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "rel_posts": [{"title": "Hello"}]}, {"id": 2, "rel_posts": [{"title": "Mine"}]}])
    );
    // Nested parameters are named by their path.
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id,rel_comments(id))&rel_posts.rel_comments.author_id=eq.1&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "rel_posts": [
            {"id": 1, "rel_comments": [{"id": 2}]}, {"id": 3, "rel_comments": []}, {"id": 5, "rel_comments": []}
        ]}])
    );
    // The row cap (users' `embed_rows = 3`) clamps a larger limit, as `max_limit` does.
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts.limit=50&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(users[0]["rel_posts"].as_array().unwrap().len(), 3);
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&id=eq.1",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(
        users[0]["rel_posts"].as_array().unwrap().len(),
        3,
        "capped at 3 of 4"
    );
    // `!inner`: only parents with a matching embedded row; `is.null`: those without any.
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts!inner(title)&rel_posts.title=eq.Mine",
        &[],
    )
    .await;
    assert_eq!(users, json!([{"id": 2, "rel_posts": [{"title": "Mine"}]}]));
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts=is.null",
        &[],
    )
    .await;
    assert_eq!(users, json!([{"id": 4, "rel_posts": []}]));
    // The count is of the parents `!inner` keeps.
    let r = send(
        &app,
        "GET",
        "/rel_users?select=id,rel_posts!inner(id)&rel_posts.published=eq.true",
        &[("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts=not.is.null",
        &[],
    )
    .await;
    assert_eq!(users.as_array().unwrap().len(), 2);
}

async fn policies_of_the_embedded_model(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    // A field hidden from every read: refused as a missing field is, in select, filters and
    // order.
    let detail = refused(&app, "/rel_posts?select=id,rel_users(token)", &[], 400).await;
    assert!(
        detail.contains("`token` is not a field you can select in `rel_users`"),
        "{detail}"
    );
    assert!(
        !detail.contains("token,") && !detail.contains(", token"),
        "{detail}"
    );
    let detail = refused(
        &app,
        "/rel_users?select=id,rel_posts(id)&rel_posts.body=eq.b1",
        &[],
        400,
    )
    .await;
    assert!(detail.contains("`body`"), "{detail}");
    // `fields_for`: the e-mail only for admins, as on /rel_users.
    refused(&app, "/rel_posts?select=id,rel_users(email)", &[], 400).await;
    refused(&app, "/rel_users?select=email", &[], 400).await;
    let posts = get(
        &app,
        "/rel_posts?select=id,rel_users(email)&id=eq.1",
        &[("x-admin", "1")],
    )
    .await;
    assert_eq!(
        posts,
        json!([{"id": 1, "rel_users": {"email": "u1@example.com"}}])
    );
    let star = get(&app, "/rel_posts?select=id,rel_users(*)&id=eq.1", &[]).await;
    assert!(star[0]["rel_users"].get("email").is_none(), "{star}");
    let detail = refused(
        &app,
        "/rel_posts?select=id,rel_users(name)&rel_users.order=token",
        &[],
        400,
    )
    .await;
    assert!(
        detail.contains("`token` is not a field you can sort rel_users on"),
        "{detail}"
    );
    // The scope: a draft appears embedded only to its owner, as on /rel_posts.
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&id=eq.1&rel_posts.limit=3",
        &[],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "rel_posts": [{"id": 1}, {"id": 3}, {"id": 5}]}])
    );
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts(id)&id=eq.1",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(
        users,
        json!([{"id": 1, "rel_posts": [{"id": 1}, {"id": 2}, {"id": 3}]}])
    );
    // Through a nested embed too: comment 4 is on the draft.
    let comments = get(
        &app,
        "/rel_comments?select=id,rel_posts(title)&id=eq.4",
        &[],
    )
    .await;
    assert_eq!(comments, json!([{"id": 4, "rel_posts": null}]));
    let comments = get(
        &app,
        "/rel_comments?select=id,rel_posts(title)&id=eq.4",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(
        comments,
        json!([{"id": 4, "rel_posts": {"title": "Draft"}}])
    );
    // `where`: user 3 is never listed, so its post's author is null.
    let posts = get(&app, "/rel_posts?select=id,rel_users(name)&id=eq.6", &[]).await;
    assert_eq!(posts, json!([{"id": 6, "rel_users": null}]));
    // `!inner` follows the scope: no draft gives user 1 a row.
    let users = get(
        &app,
        "/rel_users?select=id,rel_posts!inner(id)&rel_posts.published=eq.false",
        &[],
    )
    .await;
    assert_eq!(users, json!([]));
    // The embedded model's list `pre` hooks run, and refuse the request.
    let detail = refused(
        &app,
        "/rel_posts?select=id,rel_comments(body)",
        &[("x-bot", "1")],
        403,
    )
    .await;
    assert!(detail.contains("Some(\"rel_posts\")"), "{detail}");
    assert_eq!(
        send(&app, "GET", "/rel_posts?select=id", &[("x-bot", "1")], None)
            .await
            .status,
        200
    );
}

async fn refusals(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "/rel_posts?select=id,nope(id)",
            "select",
            "`nope` is not a resource rel_posts can embed; embeddable: rel_users, rel_comments",
        ),
        (
            "/rel_comments?select=id,rel_comments(id)",
            "select",
            "`rel_comments` is not a resource rel_comments can embed",
        ),
        (
            "/rel_users?select=id,rel_posts(id,rel_comments(id,rel_users!author_id(id)))",
            "select",
            "nests embedded resources 3 deep; rel_users allows at most 2",
        ),
        (
            "/rel_posts?select=id,rel_users(name)&rel_users.limit=2",
            "rel_users.limit",
            "embeds one rel_users row (or null)",
        ),
        (
            "/rel_posts?select=id&rel_users.name=eq.x",
            "rel_users.name",
            "`rel_users` is not an embedded resource of `select`",
        ),
        (
            "/rel_users?select=id,rel_posts(id)&rel_posts=eq.1",
            "rel_posts",
            "only `rel_posts=is.null`",
        ),
        (
            "/rel_users?select=id,rel_posts(id,rel_comments!inner(id))",
            "select",
            "`!inner` applies to resources embedded at the top",
        ),
        (
            "/rel_users?select=id,rel_posts(nope)",
            "select",
            "`nope` is not a field you can select in `rel_posts`",
        ),
        (
            "/rel_users?select=id,x:rel_posts(id),x:rel_comments!author_id(id)",
            "select",
            "names two members `x`",
        ),
        (
            "/rel_users?select=id,id:rel_posts(id)",
            "select",
            "names two members `id`",
        ),
        (
            "/rel_users?select=id,...rel_posts(title)",
            "select",
            "only a to-one resource (one row or none) can be spread",
        ),
        (
            "/rel_posts?select=id,...rel_users(*)",
            "select",
            "a spread resource lists its fields",
        ),
        (
            "/rel_posts?select=id,...rel_users(id)",
            "select",
            "names two members `id`",
        ),
        (
            "/rel_users?select=id,rel_posts(id",
            "select",
            "unbalanced parentheses",
        ),
    ];
    for (uri, param, fragment) in cases {
        let r = send(&app, "GET", uri, &[], None).await;
        let p = r.problem(400);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(fragment), "{uri}: {detail}");
        assert_eq!(p["errors"][0]["name"], *param, "{uri}: {p}");
    }
    // CSV cannot hold embedded resources.
    let r = send(
        &app,
        "GET",
        "/rel_posts?select=id,rel_users(name)",
        &[("accept", "text/csv")],
        None,
    )
    .await;
    r.problem(406);
    // A write's answer embeds as a read of the row would (tests/embedding_writes.rs); a
    // relation outside the whitelist is refused before anything is written.
    let r = send(
        &app,
        "POST",
        "/rel_posts?select=id,rel_nope(name)",
        &[("prefer", "return=representation")],
        Some(r#"{"id":9,"owner_id":1,"title":"t","body":"b","published":true}"#),
    )
    .await;
    let p = r.problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("`rel_nope` is not a resource rel_posts can embed"),
        "{p}"
    );
    let r = send(
        &app,
        "POST",
        "/rel_posts?select=id,rel_users(name)",
        &[("prefer", "return=representation")],
        Some(r#"{"id":9,"owner_id":1,"title":"t","body":"b","published":true}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), json!([{"id": 9, "rel_users": {"name": "user1"}}]));
}

/// A to-one embed that embeds nothing is joined in its parent's statement: what it shows
/// is what the statement per level showed (its model's scope, `where` and the filters on
/// it make it `null`, never drop the parent), under aliases that cannot clash.
async fn joined_to_one(t: Arc<TestDb>) {
    let app = setup(&t, 4).await;
    // A scoped-out target (post 2 is user 1's draft) is null; the parent stays.
    let comments = get(
        &app,
        "/rel_comments?select=id,rel_posts(title)&id=gte.3",
        &[],
    )
    .await;
    assert_eq!(
        comments,
        json!([{"id": 3, "rel_posts": {"title": "Mine"}}, {"id": 4, "rel_posts": null}])
    );
    let mine = get(
        &app,
        "/rel_comments?select=id,rel_posts(title)&id=eq.4",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(mine, json!([{"id": 4, "rel_posts": {"title": "Draft"}}]));
    // The embedded list's `where` (user 3 is inactive): null.
    let ghost = get(&app, "/rel_posts?select=id,rel_users(name)&id=eq.6", &[]).await;
    assert_eq!(ghost, json!([{"id": 6, "rel_users": null}]));
    // A filter on the embed: null where it fails, the parent kept; on a spread, each field
    // null.
    let filtered = get(
        &app,
        "/rel_posts?select=id,rel_users(name)&rel_users.name=eq.user2&id=lte.4",
        &[],
    )
    .await;
    assert_eq!(
        filtered,
        json!([
            {"id": 1, "rel_users": null},
            {"id": 3, "rel_users": null},
            {"id": 4, "rel_users": {"name": "user2"}},
        ])
    );
    let spread = get(
        &app,
        "/rel_posts?select=id,...rel_users(author:name)&rel_users.name=eq.user1&id=in.(1,4)",
        &[],
    )
    .await;
    assert_eq!(
        spread,
        json!([{"id": 1, "author": "user1"}, {"id": 4, "author": null}])
    );
    // Columns of the same name in both tables (`id`), the parent's filters and order on
    // them: each table's own.
    let clash = get(
        &app,
        "/rel_posts?select=id,rel_users(id,name)&id=gte.4&order=id.desc",
        &[],
    )
    .await;
    assert_eq!(
        clash,
        json!([
            {"id": 6, "rel_users": null},
            {"id": 5, "rel_users": {"id": 1, "name": "user1"}},
            {"id": 4, "rel_users": {"id": 2, "name": "user2"}},
        ])
    );
    // A null reference; the same table twice through two references, each its own join.
    let both = get(
        &app,
        "/rel_comments?select=id,author:rel_users!author_id(name),reviewer:rel_users!reviewer_id(who:name)",
        &[],
    )
    .await;
    assert_eq!(
        both,
        json!([
            {"id": 1, "author": {"name": "user2"}, "reviewer": {"who": "user1"}},
            {"id": 2, "author": {"name": "user1"}, "reviewer": null},
            {"id": 3, "author": {"name": "user1"}, "reviewer": {"who": "user2"}},
            {"id": 4, "author": {"name": "user2"}, "reviewer": null},
        ])
    );
    // A filter on one of the two joins of the same table is its own.
    let one = get(
        &app,
        "/rel_comments?select=id,author:rel_users!author_id(name),reviewer:rel_users!reviewer_id(name)&reviewer.name=eq.user2",
        &[],
    )
    .await;
    assert_eq!(
        one[0],
        json!({"id": 1, "author": {"name": "user2"}, "reviewer": null})
    );
    assert_eq!(
        one[2],
        json!({"id": 3, "author": {"name": "user1"}, "reviewer": {"name": "user2"}})
    );
    // `!inner` keeps the parents with a match; the count is theirs, and without `!inner`
    // the count is the parents' whatever their embeds.
    let r = send(
        &app,
        "GET",
        "/rel_comments?select=id,rel_users!reviewer_id!inner(name)",
        &[("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    assert_eq!(
        r.json(),
        json!([{"id": 1, "rel_users": {"name": "user1"}}, {"id": 3, "rel_users": {"name": "user2"}}])
    );
    let r = send(
        &app,
        "GET",
        "/rel_comments?select=id,rel_users!reviewer_id(name)&rel_users.name=eq.user2",
        &[("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.header("content-range"), Some("0-3/4"));
    // A hidden field cannot be selected or filtered through the join; a narrowed one only
    // by whom `fields_for` lets read it.
    let detail = refused(&app, "/rel_posts?select=id,rel_users(token)", &[], 400).await;
    assert!(detail.contains("`token`"), "{detail}");
    let detail = refused(
        &app,
        "/rel_posts?select=id,rel_users(name)&rel_users.token=eq.secret1",
        &[],
        400,
    )
    .await;
    assert!(detail.contains("token"), "{detail}");
    refused(&app, "/rel_posts?select=id,rel_users(email)", &[], 400).await;
    let admin = get(
        &app,
        "/rel_posts?select=id,rel_users(email)&rel_users.email=like.u1*&id=in.(1,4)",
        &[("x-admin", "1")],
    )
    .await;
    assert_eq!(
        admin,
        json!([{"id": 1, "rel_users": {"email": "u1@example.com"}}, {"id": 4, "rel_users": null}])
    );
    // Joined and fetched embeds keep `select`'s order of members.
    let r = send(
        &app,
        "GET",
        "/rel_posts?select=id,rel_comments(id),rel_users(name),title&id=eq.4",
        &[],
        None,
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"[{"id":4,"title":"Mine","rel_comments":[{"id":3}],"rel_users":{"name":"user2"}}]"#
    );
    // Retrieve joins too.
    let post = get(
        &app,
        "/rel_posts/2?select=title,author:rel_users(id,name)",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(
        post,
        json!({"title": "Draft", "author": {"id": 1, "name": "user1"}})
    );
}

/// The row-reading statements one request runs (the runtime's `expose_runtime::rows`
/// events, one per statement whose rows it reads).
async fn statements(app: &axum::Router, uri: &str) -> (Value, usize) {
    support::counting_statements(get(app, uri, &[])).await
}

async fn statements_do_not_grow_with_parents(t: Arc<TestDb>) {
    let app = setup(&t, 60).await;
    // 60 users with posts, each post with two comments.
    let mut posts =
        String::from("INSERT INTO rel_posts (id, owner_id, title, body, published) VALUES ");
    let mut comments = String::from(
        "INSERT INTO rel_comments (id, post_id, author_id, reviewer_id, body) VALUES ",
    );
    for u in 4..=60 {
        let p = 100 + u;
        if u > 4 {
            posts.push_str(", ");
            comments.push_str(", ");
        }
        posts.push_str(&format!("({p}, {u}, 'p{u}', 'b', TRUE)"));
        comments.push_str(&format!(
            "({}, {p}, 1, NULL, 'a'), ({}, {p}, 2, NULL, 'b')",
            2 * p,
            2 * p + 1
        ));
    }
    t.db.execute(&posts).await.expect("posts");
    t.db.execute(&comments).await.expect("comments");
    let uri = |n: u32| format!("/rel_users?select=id,rel_posts(id,rel_comments(id))&limit={n}");
    // Warm the pool, so that no connection opens during a counted request.
    get(&app, &uri(1), &[]).await;
    let (few, small) = statements(&app, &uri(3)).await;
    let (many, large) = statements(&app, &uri(50)).await;
    assert_eq!(few.as_array().unwrap().len(), 3);
    assert_eq!(many.as_array().unwrap().len(), 50);
    let nested: usize = many
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["rel_posts"].as_array().unwrap())
        .map(|p| p["rel_comments"].as_array().unwrap().len())
        .sum();
    assert!(nested >= 90, "{nested} comments embedded");
    // One statement per level: users, their posts, those posts' comments.
    assert_eq!(
        (small, large),
        (3, 3),
        "statements for 3 and for 50 parents"
    );
    // To-one embeds that embed nothing are joined in their parent's statement: one
    // statement for comments with their post and two users.
    let joined = |n: u32| {
        format!("/rel_comments?select=id,rel_posts(title),author:rel_users!author_id(name),reviewer:rel_users!reviewer_id(name)&limit={n}")
    };
    let (few, small) = statements(&app, &joined(3)).await;
    let (many, large) = statements(&app, &joined(50)).await;
    assert_eq!(few.as_array().unwrap().len(), 3);
    assert_eq!(many.as_array().unwrap().len(), 50);
    assert!(many
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["author"]["name"].is_string()));
    assert_eq!((small, large), (1, 1), "joined: statements for 3 and 50");
    // Beside a to-many embed, and a to-one with an embed of its own: one statement more
    // per level fetched (posts with their owner joined, then the comments; posts, their
    // owners, the owners' posts).
    let mixed = |n: u32| format!("/rel_posts?select=id,rel_users(name),rel_comments(id)&limit={n}");
    let (_, small) = statements(&app, &mixed(3)).await;
    let (_, large) = statements(&app, &mixed(50)).await;
    assert_eq!((small, large), (2, 2), "mixed: statements for 3 and 50");
    let nested = |n: u32| format!("/rel_posts?select=id,rel_users(name,rel_posts(id))&limit={n}");
    let (many, small) = statements(&app, &nested(3)).await;
    assert!(
        many[0]["rel_users"]["rel_posts"][0]["id"].is_number(),
        "{many}"
    );
    let (_, large) = statements(&app, &nested(50)).await;
    assert_eq!(
        (small, large),
        (3, 3),
        "nested under a to-one: statements for 3 and 50"
    );
}

backend_tests!(
    to_one_and_to_many,
    nesting_and_ambiguity,
    embedded_filters_order_limit,
    policies_of_the_embedded_model,
    refusals,
    statements_do_not_grow_with_parents,
    joined_to_one,
);
