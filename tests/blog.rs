//! End-to-end: the `blog` example's rules (hooks, scopes, per-request fields, forced values,
//! the outbox written in the create's transaction) on every backend.

#[path = "../examples/blog/app.rs"]
mod app;
mod support;

use std::sync::Arc;
use support::{send, TestDb};

const ADMIN: &str = "Bearer admin-token";
const ALICE: &str = "Bearer alice-token"; // user 2: posts 1 (published) and 2 (draft)
const BOB: &str = "Bearer bob-token"; // user 3: posts 3 (published) and 4 (draft)

async fn blog(t: &TestDb) -> axum::Router {
    app::create_tables(&t.db).await.expect("tables");
    // The tables made from the models pass the start-up check, as in `main.rs`.
    expose_runtime::verify(
        &t.db,
        &[
            app::User::MODEL,
            app::Post::MODEL,
            app::Tag::MODEL,
            app::PostTag::MODEL,
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    app::seed(&t.db).await.expect("seed");
    app::app(t.db.clone())
}

async fn get_as(app: &axum::Router, uri: &str, auth: Option<&str>) -> support::Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    send(app, "GET", uri, &headers, None).await
}

fn ids(r: &support::Reply) -> Vec<i64> {
    let mut v: Vec<i64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

async fn visibility(t: Arc<TestDb>) {
    let app = blog(&t).await;
    assert_eq!(ids(&get_as(&app, "/posts", None).await), [1, 3]);
    assert_eq!(ids(&get_as(&app, "/posts", Some(ALICE)).await), [1, 2, 3]);
    assert_eq!(
        ids(&get_as(&app, "/posts", Some(ADMIN)).await),
        [1, 2, 3, 4]
    );
    // Scoped-out rows: 404, absent from the count, unreachable through logic trees.
    get_as(&app, "/posts/4", Some(ALICE)).await.problem(404);
    get_as(&app, "/posts/2", None).await.problem(404);
    assert_eq!(get_as(&app, "/posts/2", Some(ALICE)).await.status, 200);
    let r = send(
        &app,
        "GET",
        "/posts",
        &[("authorization", ALICE), ("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.header("content-range"), Some("0-2/3"));
    for q in [
        "or=(published.eq.false,published.eq.true)",
        "or=(owner_id.eq.3,title.neq.zzz)",
        "not.and=(published.eq.true)",
        "published=eq.false",
    ] {
        let r = get_as(&app, &format!("/posts?{q}"), Some(ALICE)).await;
        assert_eq!(r.status, 200, "{q}");
        assert!(
            !ids(&r).contains(&4),
            "{q} escaped the scope: {:?}",
            ids(&r)
        );
    }
    // An unknown token is refused.
    get_as(&app, "/posts", Some("Bearer nope"))
        .await
        .problem(401);
}

async fn ownership(t: Arc<TestDb>) {
    let app = blog(&t).await;
    let patch = |auth: &'static str, id: i64| {
        let app = app.clone();
        async move {
            send(
                &app,
                "PATCH",
                &format!("/posts/{id}"),
                &[("authorization", auth)],
                Some(r#"{"title":"changed"}"#),
            )
            .await
        }
    };
    // Bob cannot change Alice's published post (he can read it): 404, and it is unchanged.
    patch(BOB, 1).await.problem(404);
    assert_eq!(
        get_as(&app, "/posts/1", None).await.json()["title"],
        "Hello"
    );
    assert_eq!(patch(ALICE, 1).await.status, 200);
    assert_eq!(patch(ADMIN, 3).await.status, 200);
    send(&app, "PATCH", "/posts/1", &[], Some(r#"{"title":"x"}"#))
        .await
        .problem(404);
    send(
        &app,
        "DELETE",
        "/posts/3",
        &[("authorization", ALICE)],
        None,
    )
    .await
    .problem(404);
    assert_eq!(
        send(&app, "DELETE", "/posts/3", &[("authorization", BOB)], None)
            .await
            .status,
        204
    );
    assert_eq!(
        send(
            &app,
            "DELETE",
            "/posts/2",
            &[("authorization", ADMIN)],
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM posts").await.unwrap(),
        2
    );
}

async fn forced_owner_and_outbox(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // Anonymous: refused by the pre hook, nothing written.
    send(
        &app,
        "POST",
        "/posts",
        &[],
        Some(r#"{"title":"t","body":"b"}"#),
    )
    .await
    .problem(401);
    // The owner comes from the token; a client-sent owner is refused.
    let p = send(
        &app,
        "POST",
        "/posts",
        &[("authorization", BOB)],
        Some(r#"{"title":"t","body":"b","owner_id":2}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["name"], "owner_id", "{p}");
    let r = send(
        &app,
        "POST",
        "/posts",
        &[("authorization", BOB)],
        Some(r#"{"title":"New","body":"b","published":true}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let post = r.json();
    assert_eq!(post["owner_id"], 3);
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM outbox").await.unwrap(),
        1
    );
    let id = post["id"].as_i64().unwrap();
    assert_eq!(r.header("location").unwrap(), format!("/posts/{id}"));
    // Invalid body: no post, no outbox row.
    send(
        &app,
        "POST",
        "/posts",
        &[("authorization", BOB)],
        Some(r#"{"title":5}"#),
    )
    .await
    .problem(422);
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM outbox").await.unwrap(),
        1
    );
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM posts").await.unwrap(),
        5
    );
}

async fn relations(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // Anyone reading posts sees the author's name, never the e-mail (unless admin) nor the
    // token.
    let r = get_as(&app, "/posts?select=id,users(name)&order=id", None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"id": 1, "users": {"name": "Alice"}},
            {"id": 3, "users": {"name": "Bob"}},
        ])
    );
    let author = get_as(&app, "/posts/1?select=title,author:users(*)", Some(BOB)).await;
    assert_eq!(
        author.json(),
        serde_json::json!({"title": "Hello", "author": {"id": 2, "name": "Alice", "is_admin": false}})
    );
    for who in [None, Some(ALICE)] {
        let p = get_as(&app, "/posts?select=id,users(email)", who)
            .await
            .problem(400);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("`email` is not a field"),
            "{p}"
        );
    }
    let p = get_as(&app, "/posts?select=id,users(token)", Some(ADMIN))
        .await
        .problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("`token` is not a field"),
        "{p}"
    );
    let r = get_as(
        &app,
        "/posts?select=id,users(email)&owner_id=eq.3&published=eq.true",
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"id": 3, "users": {"email": "bob@example.com"}}])
    );
    // A signed-in user reading a user with their posts sees only the posts they may read:
    // their own drafts, others' published posts.
    let mine = get_as(
        &app,
        "/users/2?select=name,posts(id)&posts.order=id",
        Some(ALICE),
    )
    .await;
    assert_eq!(
        mine.json(),
        serde_json::json!({"name": "Alice", "posts": [{"id": 1}, {"id": 2}]})
    );
    let bobs = get_as(&app, "/users/3?select=name,posts(id)", Some(ALICE)).await;
    assert_eq!(
        bobs.json(),
        serde_json::json!({"name": "Bob", "posts": [{"id": 3}]})
    );
    let all = get_as(
        &app,
        "/users?select=id,posts(id)&posts.order=id",
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        all.json(),
        serde_json::json!([
            {"id": 1, "posts": []},
            {"id": 2, "posts": [{"id": 1}, {"id": 2}]},
            {"id": 3, "posts": [{"id": 3}, {"id": 4}]},
        ])
    );
    // A custom route on the posts list embeds as the list does.
    let mine = get_as(
        &app,
        "/posts/mine?select=id,users(name)&order=id",
        Some(BOB),
    )
    .await;
    assert_eq!(
        mine.json(),
        serde_json::json!([
            {"id": 3, "users": {"name": "Bob"}},
            {"id": 4, "users": {"name": "Bob"}},
        ])
    );
    // A write's answer embeds too, under the same policies: the new post's author (its
    // name; the e-mail only for admins), the published post after the action.
    let r = send(
        &app,
        "POST",
        "/posts?select=id,title,users(name)",
        &[
            ("authorization", ALICE),
            ("prefer", "return=representation"),
        ],
        Some(r#"{"title":"Embedded","body":"b"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    assert_eq!(created[0]["users"], serde_json::json!({"name": "Alice"}));
    assert_eq!(created[0]["title"], "Embedded");
    let id = created[0]["id"].as_i64().unwrap();
    // The outbox's `post` hook saw the row without the embeds' join fields.
    let payload: (String,) =
        t.db.fetch_one("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1", &[])
            .await
            .unwrap();
    assert!(!payload.0.contains("expose-link"), "{}", payload.0);
    let r = send(
        &app,
        "POST",
        &format!("/posts/{id}/publish?select=id,published,users(name)"),
        &[("authorization", ALICE)],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        serde_json::json!({"id": id, "published": true, "users": {"name": "Alice"}})
    );
    let p = send(
        &app,
        "PATCH",
        &format!("/posts/{id}?select=id,users(email)"),
        &[("authorization", ALICE)],
        Some(r#"{"title":"Not written"}"#),
    )
    .await
    .problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("`email` is not a field"),
        "{p}"
    );
    let r = send(
        &app,
        "PATCH",
        &format!("/posts/{id}?select=title,users(email)"),
        &[("authorization", ADMIN)],
        Some(r#"{"title":"Edited"}"#),
    )
    .await;
    assert_eq!(
        r.json(),
        serde_json::json!({"title": "Edited", "users": {"email": "alice@example.com"}})
    );
    // The users list itself stays the admins'.
    get_as(&app, "/users?select=name", None).await.problem(401);
    get_as(&app, "/users?select=name,posts(id)", Some(ALICE))
        .await
        .problem(403);
}

async fn tags(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // Posts → tags, many-to-many through `post_tags`.
    let r = get_as(&app, "/posts?select=title,tags(name)&order=id", None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"title": "Hello", "tags": [{"name": "hello"}, {"name": "news"}]},
            {"title": "Bob's news", "tags": [{"name": "news"}]},
        ])
    );
    // Tags → posts: only the posts the caller may read (Alice's draft for Alice, both
    // drafts for an admin).
    let uri = "/tags?select=name,posts(id)&posts.order=id";
    for (who, wip) in [
        (None, vec![]),
        (Some(ALICE), vec![2]),
        (Some(ADMIN), vec![2, 4]),
    ] {
        let r = get_as(&app, uri, who).await;
        let wip: Vec<serde_json::Value> =
            wip.iter().map(|id| serde_json::json!({"id": id})).collect();
        assert_eq!(
            r.json(),
            serde_json::json!([
                {"name": "hello", "posts": [{"id": 1}]},
                {"name": "news", "posts": [{"id": 1}, {"id": 3}]},
                {"name": "wip", "posts": wip},
            ]),
            "{who:?}"
        );
    }
    let r = get_as(&app, "/tags?select=name,posts!inner(id)", None).await;
    let names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["hello", "news"]);
    // The links themselves are the admins'.
    get_as(&app, "/post_tags", None).await.problem(401);
    get_as(&app, "/post_tags", Some(ALICE)).await.problem(403);
    let links = get_as(&app, "/post_tags", Some(ADMIN)).await;
    assert_eq!(links.json().as_array().unwrap().len(), 5);
}

async fn users_are_for_admins(t: Arc<TestDb>) {
    let app = blog(&t).await;
    get_as(&app, "/users", None).await.problem(401);
    get_as(&app, "/users", Some(ALICE)).await.problem(403);
    let r = get_as(&app, "/users", Some(ADMIN)).await;
    assert_eq!(r.status, 200);
    let users = r.json();
    assert_eq!(users[0]["email"], "ada@example.com");
    assert!(users[0].get("token").is_none());
    // Non-admins see a user without email, and cannot name it anywhere.
    let r = get_as(&app, "/users/2", Some(BOB)).await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("email").is_none(), "{}", r.json());
    assert_eq!(r.json()["name"], "Alice");
    get_as(&app, "/users/2?select=email", Some(BOB))
        .await
        .problem(400);
    assert_eq!(
        get_as(&app, "/users/2?select=email", Some(ADMIN))
            .await
            .json()["email"],
        "alice@example.com"
    );
    get_as(&app, "/users?email=eq.x", Some(ADMIN)).await;
    // Admins filter on email; the filter is refused for nobody else because only admins list.
    assert_eq!(
        get_as(&app, "/users?email=eq.bob@example.com", Some(ADMIN))
            .await
            .json()[0]["id"],
        3
    );
    // Users have no write operations: 405 with Allow.
    let r = send(
        &app,
        "POST",
        "/users",
        &[("authorization", ADMIN)],
        Some("{}"),
    )
    .await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

/// Writes chosen by filters are bounded by the scope: a filter naming another user's posts
/// matches none of them, on update and remove alike.
async fn many_row_writes_stay_in_scope(t: Arc<TestDb>) {
    let app = blog(&t).await;
    let alice = [
        ("authorization", ALICE),
        ("prefer", "return=representation"),
    ];
    // Alice asks for posts 1-4: only hers (1, 2) change.
    let r = send(
        &app,
        "PATCH",
        "/posts?id=in.(1,2,3,4)",
        &alice,
        Some(r#"{"title":"mine"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(ids(&r), [1, 2]);
    let bob_post = get_as(&app, "/posts/3", Some(BOB)).await.json();
    assert_ne!(bob_post["title"], "mine");
    // An `or` tree cannot widen it either.
    let r = send(&app, "DELETE", "/posts?or=(id.eq.3,id.eq.4)", &alice, None).await;
    assert_eq!((r.status.as_u16(), r.json()), (200, serde_json::json!([])));
    assert_eq!(get_as(&app, "/posts/4", Some(BOB)).await.status, 200);
    // Anonymous callers' scope matches no row: nothing is removed (204, as PostgREST
    // answers when row-level security hides every row).
    let r = send(&app, "DELETE", "/posts?id=eq.1", &[], None).await;
    assert_eq!(r.status, 204);
    assert_eq!(get_as(&app, "/posts/1", None).await.status, 200);
    let r = send(&app, "DELETE", "/posts?id=in.(1,3)", &alice, None).await;
    assert_eq!(ids(&r), [1]);
    assert_eq!(get_as(&app, "/posts/3", Some(BOB)).await.status, 200);
}

backend_tests!(
    visibility,
    ownership,
    many_row_writes_stay_in_scope,
    forced_owner_and_outbox,
    users_are_for_admins,
    relations,
    tags,
);
