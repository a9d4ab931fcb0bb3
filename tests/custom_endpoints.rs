//! End-to-end: custom endpoints on the generated machinery, on every backend. The blog's
//! `GET /posts/mine` (the posts list with a server-side condition), one operation mounted
//! at another path or replaced, and operations called from Rust (HTTP answers and typed
//! rows); a property test that no filter of the grammar widens the custom list.

#[path = "../examples/blog/app.rs"]
mod app;
mod support;

use app::{CurrentUser, Post};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use expose_runtime::{expose, Db, Endpoints, OperationKind, Problem};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::Arc;
use support::{send, Reply, TestDb};

const ADMIN: &str = "Bearer admin-token";
const ALICE: &str = "Bearer alice-token"; // user 2: posts 1 (published) and 2 (draft)
const BOB: &str = "Bearer bob-token"; // user 3: posts 3 (published) and 4 (draft)

async fn seeded(t: &TestDb) {
    app::create_tables(&t.db).await.expect("tables");
    app::seed(&t.db).await.expect("seed");
}

async fn blog(t: &TestDb) -> axum::Router {
    seeded(t).await;
    app::app(t.db.clone())
}

async fn get_as(app: &axum::Router, uri: &str, auth: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    send(app, "GET", uri, &headers, None).await
}

fn ids(r: &Reply) -> Vec<i64> {
    assert_eq!(
        r.status.as_u16() / 100,
        2,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
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

async fn mine(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // The caller's own posts, drafts included; nobody else's.
    assert_eq!(ids(&get_as(&app, "/posts/mine", Some(ALICE)).await), [1, 2]);
    assert_eq!(ids(&get_as(&app, "/posts/mine", Some(BOB)).await), [3, 4]);
    assert_eq!(ids(&get_as(&app, "/posts/mine", Some(ADMIN)).await), [0; 0]);
    // Anonymous: 401; an unknown token: 401.
    get_as(&app, "/posts/mine", None).await.problem(401);
    get_as(&app, "/posts/mine", Some("Bearer nope"))
        .await
        .problem(401);
    // A filter only narrows: no other owner's post, whatever the tree.
    for q in [
        "owner_id=eq.3",
        "or=(owner_id.eq.3,title.neq.zzz)",
        "or=(owner_id.eq.3,and(published.eq.false,owner_id.neq.2))",
        "not.and=(owner_id.eq.2)",
        "owner_id=in.(2,3)",
        "published=eq.false",
    ] {
        let r = get_as(&app, &format!("/posts/mine?{q}"), Some(ALICE)).await;
        let got = ids(&r);
        assert!(got.iter().all(|id| [1, 2].contains(id)), "{q}: {got:?}");
    }
    assert_eq!(
        ids(&get_as(&app, "/posts/mine?published=eq.false", Some(ALICE)).await),
        [2]
    );
    // The same grammar and policies as `/posts`: select, order, limit, count.
    let r = get_as(
        &app,
        "/posts/mine?select=id,title&order=id.desc",
        Some(ALICE),
    )
    .await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"id": 2, "title": "Draft"}, {"id": 1, "title": "Hello"}])
    );
    let r = send(
        &app,
        "GET",
        "/posts/mine?limit=1&order=id",
        &[("authorization", ALICE), ("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range"), Some("0-0/2"));
    assert_eq!(ids(&r), [1]);
    // Refusals as on `/posts`: unknown parameters, filters off the whitelist, hidden fields.
    let p = get_as(&app, "/posts/mine?nope=1", Some(ALICE))
        .await
        .problem(400);
    assert!(p.to_string().contains("nope"), "{p}");
    get_as(&app, "/posts/mine?body=eq.x", Some(ALICE))
        .await
        .problem(400);
    get_as(&app, "/posts/mine?order=nope", Some(ALICE))
        .await
        .problem(400);
    // Another method: 405 naming GET.
    let r = send(
        &app,
        "POST",
        "/posts/mine",
        &[("authorization", ALICE)],
        Some("{}"),
    )
    .await;
    r.problem(405);
    assert!(
        r.header("allow").unwrap().contains("GET"),
        "{:?}",
        r.headers
    );
    // `/posts/{id}` is still the retrieve.
    assert_eq!(get_as(&app, "/posts/1", None).await.json()["id"], 1);
}

/// A create of the application's own, in place of the generated one.
async fn my_create() -> Response {
    (StatusCode::ACCEPTED, "queued for review").into_response()
}

/// The operations mounted one by one: the list at another path in a middleware of its own,
/// the generated routes without create, and the application's create in its place.
async fn one_operation_routes(t: Arc<TestDb>) {
    seeded(&t).await;
    let posts = Post::endpoints();
    let tagged = posts.list().layer(axum::middleware::map_response(
        |mut r: Response| async move {
            r.headers_mut()
                .insert("x-articles", axum::http::HeaderValue::from_static("1"));
            r
        },
    ));
    let app = axum::Router::new()
        .merge(posts.router_without(&[OperationKind::Create]))
        .route("/posts", axum::routing::post(my_create))
        .route("/articles", tagged)
        .route("/articles/{id}", posts.retrieve())
        .route(
            "/by-handler",
            axum::routing::get(posts.handler(OperationKind::List)),
        )
        .layer(axum::middleware::from_fn_with_state(
            t.db.clone(),
            app::authenticate,
        ))
        .with_state(t.db.clone());
    // The list at another path, with its scope: drafts of others stay hidden.
    let r = get_as(&app, "/articles", Some(ALICE)).await;
    assert_eq!(r.header("x-articles"), Some("1"));
    assert_eq!(ids(&r), [1, 2, 3]);
    assert_eq!(ids(&get_as(&app, "/by-handler", None).await), [1, 3]);
    assert_eq!(
        ids(&get_as(&app, "/articles?select=id&title=eq.Hello", None).await),
        [1]
    );
    get_as(&app, "/articles/4", Some(ALICE)).await.problem(404);
    assert_eq!(get_as(&app, "/articles/4", Some(BOB)).await.json()["id"], 4);
    // A method the list does not take: 405, Allow from axum.
    let r = send(&app, "DELETE", "/articles", &[], None).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    // The application's create replaced exactly that route.
    let body = r#"{"title":"t","body":"b"}"#;
    let r = send(
        &app,
        "POST",
        "/posts",
        &[("authorization", ALICE)],
        Some(body),
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_slice()),
        (StatusCode::ACCEPTED, &b"queued for review"[..])
    );
    assert_eq!(
        ids(&get_as(&app, "/posts", Some(ADMIN)).await),
        [1, 2, 3, 4]
    );
    // The others are the generated ones, and a 405 names the application's POST too.
    assert_eq!(ids(&get_as(&app, "/posts", None).await), [1, 3]);
    let r = send(&app, "PUT", "/posts", &[], None).await;
    r.problem(405);
    let allow = r.header("allow").unwrap();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(allow.contains(m), "{allow}");
    }
    let r = send(
        &app,
        "PATCH",
        "/posts/2",
        &[("authorization", BOB)],
        Some(r#"{"title":"x"}"#),
    )
    .await;
    r.problem(404);
    let r = send(
        &app,
        "PATCH",
        "/posts/2",
        &[("authorization", ALICE)],
        Some(r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(r.json()["title"], "x");
}

/// A request as a handler would receive it, signed in as `user` (or anonymous).
fn request_as(uri: &str, user: Option<CurrentUser>, body: Option<&str>) -> Request {
    let mut req = Request::builder().uri(uri);
    if body.is_some() {
        req = req
            .header("content-type", "application/json")
            .method("PATCH");
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    if let Some(u) = user {
        req.extensions_mut().insert(u);
    }
    req
}

const ALICE_USER: CurrentUser = CurrentUser {
    id: 2,
    is_admin: false,
};
const ADMIN_USER: CurrentUser = CurrentUser {
    id: 1,
    is_admin: true,
};

async fn status_of(r: Response) -> (StatusCode, serde_json::Value) {
    let status = r.status();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

/// `GET /published-titles`: a handler that computes with the list's typed rows.
async fn published_titles(
    State((posts, db)): State<(Endpoints<Post>, Db)>,
    req: Request,
) -> Result<String, Problem> {
    let posts = posts
        .call(req, db)
        .and(Post::FIELDS.published.eq(true))
        .list_rows()
        .await?;
    Ok(posts
        .iter()
        .map(|p| p.title.as_str())
        .collect::<Vec<_>>()
        .join("|"))
}

/// Operations called from Rust: typed rows, and retrieve / update / remove by key under the
/// caller's scope and the handler's condition.
async fn calls(t: Arc<TestDb>) {
    seeded(&t).await;
    let db = t.db.clone();
    let posts = Post::endpoints();
    // Typed rows, under Alice's scope, with the client's query.
    let rows = posts
        .call(
            request_as("/x?order=id.desc", Some(ALICE_USER), None),
            db.clone(),
        )
        .list_rows()
        .await
        .unwrap();
    let got: Vec<(i64, bool)> = rows.iter().map(|p| (p.id, p.published)).collect();
    assert_eq!(got, [(3, true), (2, false), (1, true)]);
    // A `select` that leaves out a field the struct needs: a 500 problem, not a panic.
    let err = posts
        .call(
            request_as("/x?select=id", Some(ALICE_USER), None),
            db.clone(),
        )
        .list_rows()
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // A client error stays the client's.
    let err = posts
        .call(request_as("/x?nope=1", None, None), db.clone())
        .list_rows()
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    // `query` replaces the client's query string.
    let rows = posts
        .call(request_as("/x?nope=1", None, None), db.clone())
        .query("order=id.desc&limit=1")
        .list_rows()
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|p| p.id).collect::<Vec<_>>(), [3]);
    // By key: the scope, then the condition.
    let p = posts
        .call(request_as("/", Some(ALICE_USER), None), db.clone())
        .retrieve_row(2)
        .await
        .unwrap();
    assert_eq!((p.id, p.owner_id, p.title.as_str()), (2, 2, "Draft"));
    let err = posts
        .call(request_as("/", None, None), db.clone())
        .retrieve_row(2)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    let (status, _) = status_of(
        posts
            .call(request_as("/", Some(ALICE_USER), None), db.clone())
            .and(Post::FIELDS.published.eq(true))
            .retrieve(2)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = status_of(
        posts
            .call(
                request_as("/?select=id", Some(ALICE_USER), None),
                db.clone(),
            )
            .retrieve(2)
            .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!({"id": 2}))
    );
    // An admin's update limited to Alice's posts: Bob's post is out of it, unchanged.
    let only_alice = || Post::FIELDS.owner_id.eq(2);
    let patch = r#"{"title":"edited"}"#;
    let (status, _) = status_of(
        posts
            .call(request_as("/", Some(ADMIN_USER), Some(patch)), db.clone())
            .and(only_alice())
            .update(3)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = status_of(
        posts
            .call(request_as("/", Some(ADMIN_USER), Some(patch)), db.clone())
            .and(only_alice())
            .update(1)
            .await,
    )
    .await;
    assert_eq!(
        (status, body["title"].as_str()),
        (StatusCode::OK, Some("edited"))
    );
    let titles: Vec<String> = db
        .fetch_all("SELECT title FROM posts ORDER BY id", &[])
        .await
        .unwrap()
        .into_iter()
        .map(|(t,): (String,)| t)
        .collect();
    assert_eq!(titles, ["edited", "Draft", "Bob's news", "Bob's draft"]);
    // Remove likewise.
    let (status, _) = status_of(
        posts
            .call(request_as("/", Some(ADMIN_USER), None), db.clone())
            .and(only_alice())
            .remove(4)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = status_of(
        posts
            .call(request_as("/", Some(ADMIN_USER), None), db.clone())
            .and(only_alice())
            .remove(2)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(db.fetch_i64("SELECT COUNT(*) FROM posts").await.unwrap(), 3);
    // A handler computing with typed rows.
    let app = axum::Router::new()
        .route("/published-titles", axum::routing::get(published_titles))
        .with_state((posts.clone(), db.clone()));
    let r = send(&app, "GET", "/published-titles?order=id", &[], None).await;
    assert_eq!(String::from_utf8_lossy(&r.body), "edited|Bob's news");
    send(&app, "GET", "/published-titles?nope=1", &[], None)
        .await
        .problem(400);
}

// --- The property: no filter of the grammar widens `/posts/mine`. ---

/// The list's filterable fields, each with operators and values of its type.
const FIELDS: &[(&str, &[&str], &[&str])] = &[
    (
        "owner_id",
        &["eq", "neq", "gt", "gte", "lt", "lte", "in", "is"],
        &["1", "2", "3", "4", "0", "-1"],
    ),
    (
        "title",
        &["eq", "neq", "gt", "lt", "like", "ilike", "in", "is"],
        &["Hello", "Draft", "*o*", "B*", "Post 1", "post*"],
    ),
    ("published", &["eq", "neq", "is"], &["true", "false"]),
    (
        "created_at",
        &["eq", "gt", "gte", "lt", "lte", "is"],
        &["2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"],
    ),
];

/// One condition `field.op.value` of the item grammar (sometimes negated).
fn item() -> BoxedStrategy<String> {
    prop::sample::select(FIELDS)
        .prop_flat_map(|(f, ops, values)| {
            (
                Just(f),
                any::<bool>(),
                prop::sample::select(ops),
                prop::sample::select(values),
                prop::sample::subsequence(values, 0..values.len().min(3)),
                prop::sample::select(&["null", "not_null", "true", "false"][..]),
            )
        })
        .prop_map(|(f, not, op, v, many, is)| {
            let not = if not { "not." } else { "" };
            let value = match op {
                "in" => format!("({})", many.join(",")),
                "is" if f == "published" => is.to_owned(),
                "is" => ["null", "not_null"][usize::from(is.len() > 4)].to_owned(),
                _ => v.to_owned(),
            };
            format!("{f}.{not}{op}.{value}")
        })
        .boxed()
}

/// A query string of filters, plain (`field=op.value`) and trees (`or=(...)` nested).
fn filters() -> BoxedStrategy<String> {
    let tree = item().prop_recursive(3, 12, 4, |inner| {
        (
            prop::sample::select(&["and", "or", "not.and", "not.or"][..]),
            prop::collection::vec(inner, 1..4),
        )
            .prop_map(|(k, items)| format!("{k}({})", items.join(",")))
    });
    let logic = (
        prop::sample::select(&["and", "or", "not.and", "not.or"][..]),
        prop::collection::vec(tree, 1..4),
    )
        .prop_map(|(k, items)| (k.to_owned(), format!("({})", items.join(","))));
    let plain = item().prop_map(|i| {
        let (field, rest) = i.split_once('.').unwrap();
        (field.to_owned(), rest.to_owned())
    });
    prop::collection::vec(prop_oneof![plain, logic], 0..4)
        .prop_map(|pairs| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                s.append_pair(&k, &v);
            }
            s.finish()
        })
        .boxed()
}

fn block_get(app: &axum::Router, uri: &str, auth: &str) -> Reply {
    let app = app.clone();
    let uri = uri.to_owned();
    let auth = auth.to_owned();
    tokio::runtime::Handle::current().block_on(async move { get_as(&app, &uri, Some(&auth)).await })
}

/// `/posts/mine?q` is `/posts?q` (under the same scope) narrowed to the caller's posts: it
/// never shows another owner's post, and never hides one of the caller's that `/posts?q`
/// shows.
async fn no_filter_widens_mine(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // More posts of every owner, published or not.
    for i in 0..12 {
        let (owner, published) = (1 + i % 3, i % 2 == 0);
        t.db.execute(&format!(
            "INSERT INTO posts (owner_id, title, body, published) VALUES \
             ({owner}, 'Post {i}', 'b', {})",
            if published { "TRUE" } else { "FALSE" }
        ))
        .await
        .unwrap();
    }
    let cases = std::env::var("EXPOSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let answered = std::sync::atomic::AtomicU32::new(0);
    tokio::task::block_in_place(|| {
        runner
            .run(&filters(), |q| {
                for (auth, me) in [(ALICE, 2), (BOB, 3), (ADMIN, 1)] {
                    let mine =
                        block_get(&app, &format!("/posts/mine?select=id,owner_id&{q}"), auth);
                    let all = block_get(&app, &format!("/posts?select=id,owner_id&{q}"), auth);
                    prop_assert!(mine.status.as_u16() < 500, "{q}: {}", mine.status);
                    prop_assert_eq!(mine.status, all.status, "{}", q);
                    if mine.status != StatusCode::OK {
                        continue;
                    }
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let rows = |r: &Reply| -> Vec<(i64, i64)> {
                        let mut v: Vec<(i64, i64)> = r
                            .json()
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| (p["id"].as_i64().unwrap(), p["owner_id"].as_i64().unwrap()))
                            .collect();
                        v.sort_unstable();
                        v
                    };
                    let got = rows(&mine);
                    let want: Vec<(i64, i64)> =
                        rows(&all).into_iter().filter(|(_, o)| *o == me).collect();
                    if got.iter().any(|(_, o)| *o != me) {
                        return Err(TestCaseError::fail(format!("{q} widened: {got:?}")));
                    }
                    prop_assert_eq!(got, want, "{}", q);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    });
    // Most generated queries are valid: the property is not checked on refusals only.
    let answered = answered.into_inner();
    assert!(
        answered > cases,
        "only {answered} of {} requests answered 200",
        3 * cases
    );
}

/// `POST /posts/{id}/publish`: the author or an admin publishes; anyone else gets 404 and
/// nothing is written; `select` narrows the answer; other methods 405 with `Allow`.
async fn publish(t: Arc<TestDb>) {
    let app = blog(&t).await;
    let post = |uri: &str, auth: Option<&'static str>| {
        let (app, uri) = (app.clone(), uri.to_owned());
        async move {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            send(&app, "POST", &uri, &headers, None).await
        }
    };
    let published = |id: i64| {
        let db = t.db.clone();
        async move {
            let rows: Vec<(bool,)> = db
                .fetch_all("SELECT published FROM posts WHERE id = ?", &[id.into()])
                .await
                .unwrap();
            rows[0].0
        }
    };
    // Bob (who cannot see Alice's draft) and an anonymous caller: 404, nothing written.
    post("/posts/2/publish", Some(BOB)).await.problem(404);
    post("/posts/2/publish", None).await.problem(404);
    assert!(!published(2).await);
    // Bob cannot publish a post he can read either.
    post("/posts/1/publish", Some(BOB)).await.problem(404);
    // The author: the written row, narrowed by `select`.
    let r = post("/posts/2/publish?select=id,published", Some(ALICE)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json(), serde_json::json!({"id": 2, "published": true}));
    assert!(published(2).await);
    // An admin publishes anyone's post; the answer is the whole row without `select`.
    let r = post("/posts/4/publish", Some(ADMIN)).await;
    assert_eq!(
        (r.json()["id"].as_i64(), r.json()["title"].as_str()),
        (Some(4), Some("Bob's draft"))
    );
    assert!(published(4).await);
    // Refusals of the update: an unknown parameter, a key that is not one.
    post("/posts/2/publish?nope=1", Some(ALICE))
        .await
        .problem(400);
    post("/posts/x/publish", Some(ALICE)).await.problem(400);
    // GET: 405 with `Allow`.
    let r = get_as(&app, "/posts/2/publish", Some(ALICE)).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("POST"));
}

/// `/admin/users`: a second view of the users table for admins; `/users` keeps its rules.
async fn admin_users(t: Arc<TestDb>) {
    let app = blog(&t).await;
    // Admins: e-mail visible, token never.
    let r = get_as(&app, "/admin/users", Some(ADMIN)).await;
    assert_eq!(ids(&r), [1, 2, 3]);
    let alice = &r.json()[1];
    assert_eq!(alice["email"], "alice@example.com");
    assert!(alice.get("token").is_none(), "{alice}");
    get_as(&app, "/admin/users?select=token", Some(ADMIN))
        .await
        .problem(400);
    get_as(&app, "/admin/users?token=eq.bob-token", Some(ADMIN))
        .await
        .problem(400);
    assert_eq!(
        get_as(&app, "/admin/users/2", Some(ADMIN)).await.json()["email"],
        "alice@example.com"
    );
    // `is_admin` writable, `token` not.
    let r = send(
        &app,
        "PATCH",
        "/admin/users/3",
        &[("authorization", ADMIN)],
        Some(r#"{"is_admin":true}"#),
    )
    .await;
    assert_eq!(
        r.json()["is_admin"],
        true,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    send(
        &app,
        "PATCH",
        "/admin/users/3",
        &[("authorization", ADMIN)],
        Some(r#"{"token":"stolen"}"#),
    )
    .await
    .problem(422);
    let tokens: Vec<(String,)> =
        t.db.fetch_all("SELECT token FROM users WHERE id = 3", &[])
            .await
            .unwrap();
    assert_eq!(tokens, [("bob-token".to_owned(),)]);
    // A signed-in non-admin: 403, nothing written; anonymous: 401.
    get_as(&app, "/admin/users", Some(ALICE)).await.problem(403);
    get_as(&app, "/admin/users/2", Some(ALICE))
        .await
        .problem(403);
    send(
        &app,
        "PATCH",
        "/admin/users/2",
        &[("authorization", ALICE)],
        Some(r#"{"is_admin":true}"#),
    )
    .await
    .problem(403);
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM users WHERE is_admin")
            .await
            .unwrap(),
        2
    );
    get_as(&app, "/admin/users", None).await.problem(401);
    // The public `/users` keeps its policies: no e-mail for a non-admin, no update at all.
    let me = get_as(&app, "/users/2", Some(ALICE)).await.json();
    assert!(
        me.get("email").is_none() && me.get("token").is_none(),
        "{me}"
    );
    send(
        &app,
        "PATCH",
        "/users/2",
        &[("authorization", ALICE)],
        Some(r#"{"is_admin":true}"#),
    )
    .await
    .problem(405);
    get_as(&app, "/users", Some(ALICE)).await.problem(403);
}

/// The blog's document: the custom route as the list it reuses, the bearer scheme, the
/// guarded operations' security and refusals, and the list parameters generated clients
/// read right.
#[test]
fn the_document_holds_the_custom_route_and_the_security() {
    let doc = app::api().document();
    let publish = &doc["paths"]["/posts/{id}/publish"]["post"];
    // The declared action, documented from the model alone.
    assert_eq!(publish["operationId"], "publish_posts");
    assert_eq!(
        publish["summary"],
        "Publish a post: its author or an admin sets `published`."
    );
    assert!(publish.get("requestBody").is_none(), "{publish}");
    assert_eq!(
        doc["paths"]["/posts/{id}/publish"]["parameters"][0]["name"],
        "id"
    );
    assert_eq!(publish["parameters"][0]["name"], "select");
    assert_eq!(
        publish["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Post"
    );
    assert!(publish["responses"]["404"].is_object());
    assert!(doc["paths"]["/posts/{id}/publish"].get("get").is_none());
    let mine = &doc["paths"]["/posts/mine"]["get"];
    assert_eq!(mine["operationId"], "list_posts_mine");
    assert_eq!(mine["summary"], "List the caller's own posts");
    assert_eq!(mine["security"], serde_json::json!([{ "bearer": [] }]));
    assert!(mine["responses"]["401"].is_object(), "{mine}");
    // The same parameters as the list it reuses.
    let list = &doc["paths"]["/posts"]["get"];
    assert_eq!(mine["parameters"], list["parameters"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/" }]));
    // The admin view beside the public one: its own paths, operation ids and tag.
    let admin = &doc["paths"]["/admin/users"]["get"];
    assert_eq!(admin["operationId"], "list_users_admin");
    assert_eq!(admin["tags"], serde_json::json!(["admin/users"]));
    assert_eq!(doc["paths"]["/users"]["get"]["operationId"], "list_users");
    assert!(doc["paths"]["/admin/users/{id}"]["patch"].is_object());
    assert!(doc["paths"]["/users/{id}"].get("patch").is_none());
    let props = &doc["components"]["schemas"]["AdminUsersUpdate"]["properties"];
    assert!(
        props.get("is_admin").is_some() && props.get("token").is_none(),
        "{props}"
    );
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|o| o["operationId"].as_str())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique");
    // Guarded operations accept the token (or none, where a scope lets anonymous callers
    // in) and list 401 and 403.
    for (path, method) in [("/posts", "get"), ("/posts", "post"), ("/users", "get")] {
        let o = &doc["paths"][path][method];
        assert_eq!(
            o["security"],
            serde_json::json!([{ "bearer": [] }, {}]),
            "{path}"
        );
        assert!(o["responses"]["401"].is_object() && o["responses"]["403"].is_object());
    }
    // `limit` and `offset` state their default in words, and `limit` its true maximum.
    let param = |name: &str| {
        list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let (limit, offset) = (param("limit"), param("offset"));
    assert!(limit["schema"].get("default").is_none(), "{limit}");
    assert!(offset["schema"].get("default").is_none(), "{offset}");
    assert_eq!(limit["schema"]["maximum"], 1000);
    assert!(limit["description"]
        .as_str()
        .unwrap()
        .contains("default 100"));
}

/// A ticket, with two declared actions: `close` (a write of its own in the action's
/// transaction, and a refusal that rolls it back) and `shout` (`PATCH`, behind a `pre` hook).
#[derive(Debug, serde::Deserialize)]
#[expose(
    as = "tickets",
    table = "custom_tickets",
    list,
    retrieve,
    action(close, scope = unlocked),
    action(shout, method = "PATCH", pre = [needs_header])
)]
pub struct Ticket {
    #[expose(id, generated)]
    pub id: i64,
    pub title: String,
    pub status: String,
    #[expose(default = "FALSE")]
    pub locked: bool,
    #[expose(default = "0")]
    pub closes: i64,
}

/// The scope of `close`: locked tickets are out of reach.
fn unlocked(_: &expose_runtime::HookCtx) -> Result<expose_runtime::Cond<Ticket>, Problem> {
    Ok(Ticket::FIELDS.locked.eq(false))
}

/// Counts the attempt with a statement of its own, then refuses a closed ticket: the
/// refusal rolls the count back.
async fn close(t: Ticket, ctx: &mut expose_runtime::HookCtx) -> Result<(), Problem> {
    ctx.execute(
        "UPDATE custom_tickets SET closes = closes + 1 WHERE id = ?",
        &[t.id.into()],
    )
    .await?;
    if t.status == "closed" {
        return Err(Problem::conflict("the ticket is already closed"));
    }
    ctx.input_mut()?.set(Ticket::FIELDS.status, "closed")
}

async fn shout(t: Ticket, ctx: &mut expose_runtime::HookCtx) -> Result<(), Problem> {
    ctx.input_mut()?
        .set(Ticket::FIELDS.title, t.title.to_uppercase())
}

async fn needs_header(ctx: &mut expose_runtime::HookCtx) -> Result<(), Problem> {
    match ctx.headers().contains_key("x-loud") {
        true => Ok(()),
        false => Err(Problem::forbidden("send x-loud")),
    }
}

/// Declared actions beyond the blog's: a write of the function's own in the action's
/// transaction, rolled back with its refusal; the action's scope; a `pre` hook; another
/// method; the action mounted at another path; unknown actions.
async fn actions(t: Arc<TestDb>) {
    expose_runtime::create_tables(&t.db, &[Ticket::MODEL])
        .await
        .unwrap();
    t.db.execute(
        "INSERT INTO custom_tickets (title, status, locked, closes) VALUES \
         ('printer', 'open', FALSE, 0), ('vpn', 'open', TRUE, 0)",
    )
    .await
    .unwrap();
    let tickets = Ticket::endpoints();
    let app = axum::Router::new()
        .merge(tickets.router())
        .route("/desk/{id}/close-it", tickets.action("close"))
        .fallback(expose_runtime::not_found)
        .with_state(t.db.clone());
    let row = |id: i64| {
        let db = t.db.clone();
        async move {
            let rows: Vec<(String, String, i64)> = db
                .fetch_all(
                    "SELECT title, status, closes FROM custom_tickets WHERE id = ?",
                    &[id.into()],
                )
                .await
                .unwrap();
            rows[0].clone()
        }
    };
    // Closed: the written row, narrowed by `select`; the function's own statement kept.
    let r = send(&app, "POST", "/tickets/1/close?select=status", &[], None).await;
    assert_eq!(r.json(), serde_json::json!({"status": "closed"}));
    assert!(r.header("etag").is_some());
    assert_eq!(row(1).await, ("printer".into(), "closed".into(), 1));
    // Refused by the function: 409, and its own statement rolled back.
    send(&app, "POST", "/tickets/1/close", &[], None)
        .await
        .problem(409);
    assert_eq!(row(1).await.2, 1);
    // Outside the action's scope (locked): 404, nothing written, not even the count.
    send(&app, "POST", "/tickets/2/close", &[], None)
        .await
        .problem(404);
    send(&app, "POST", "/desk/2/close-it", &[], None)
        .await
        .problem(404);
    assert_eq!(row(2).await, ("vpn".into(), "open".into(), 0));
    // No such row, a key that is not one, an unknown parameter.
    send(&app, "POST", "/tickets/9/close", &[], None)
        .await
        .problem(404);
    send(&app, "POST", "/tickets/x/close", &[], None)
        .await
        .problem(400);
    send(&app, "POST", "/tickets/2/close?order=id", &[], None)
        .await
        .problem(400);
    // Another method: 405 with `Allow`; an undeclared action: 404.
    let r = send(&app, "GET", "/tickets/1/close", &[], None).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = send(&app, "POST", "/tickets/1/shout", &[], None).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("PATCH"));
    send(&app, "POST", "/tickets/1/reopen", &[], None)
        .await
        .problem(404);
    // A `pre` hook runs before the function; PATCH.
    send(&app, "PATCH", "/tickets/2/shout", &[], None)
        .await
        .problem(403);
    assert_eq!(row(2).await.0, "vpn");
    let r = send(&app, "PATCH", "/tickets/2/shout", &[("x-loud", "1")], None).await;
    assert_eq!(r.json()["title"], "VPN");
    // The action at another path, with its key before the last segment.
    t.db.execute("UPDATE custom_tickets SET locked = FALSE WHERE id = 2")
        .await
        .unwrap();
    let r = send(&app, "POST", "/desk/2/close-it?select=id,status", &[], None).await;
    assert_eq!(r.json(), serde_json::json!({"id": 2, "status": "closed"}));
    // Both actions in the document, from the model.
    let doc = expose_runtime::OpenApi::new("t", "1")
        .resource::<Ticket>()
        .document();
    assert_eq!(
        doc["paths"]["/tickets/{id}/shout"]["patch"]["operationId"],
        "shout_tickets"
    );
    assert!(doc["paths"]["/tickets/{id}/close"]["post"].is_object());
    let index = expose_runtime::OpenApi::new("t", "1")
        .resource::<Ticket>()
        .index();
    let listed = index["resources"][0]["operations"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|o| o["path"] == "/tickets/{id}/close" && o["method"] == "POST"),
        "{listed:?}"
    );
}

backend_tests!(
    actions,
    admin_users,
    publish,
    mine,
    one_operation_routes,
    calls,
    no_filter_widens_mine
);
