//! The `blog` example: users, posts and an outbox, with bearer-token authentication.
//!
//! - anyone reads published posts; authors also see their own drafts; admins see everything;
//! - only the author or an admin updates or removes a post (others get 404);
//! - `owner_id` is forced from the token on create;
//! - only admins list users, and only they see `email`;
//! - posts embed their author (`/posts?select=title,users(name)`): anyone sees the name, only
//!   admins the e-mail, nobody the token; users embed their posts
//!   (`/users/2?select=name,posts(title)`), only those the caller may read; the answers of
//!   writes embed alike (`POST /posts?select=id,users(name)`,
//!   `POST /posts/{id}/publish?select=id,users(name)`);
//! - posts have tags, many-to-many through `post_tags` (`/posts?select=title,tags(name)`,
//!   `/tags?select=name,posts(title)`, only the posts the caller may read); only admins
//!   list `post_tags` directly;
//! - creating a post writes an `outbox` row in the same transaction;
//! - `/admin/users` is a second exposure of `User` (`view = AdminUsers`), for admins: e-mail
//!   visible, `is_admin` writable, `token` never;
//! - `POST /posts/{id}/publish` is a declared action: the author (or an admin) publishes;
//! - `GET /posts/mine` is a custom route on the posts list: the caller's own posts, drafts
//!   included, with the same query grammar and policies as `/posts`.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use expose_runtime::openapi::Route;
use expose_runtime::{
    expose, Backend, Cond, Db, Endpoints, FieldMask, HookCtx, OperationKind, Problem, Value,
};

/// Who is calling, as the auth middleware found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// Whether the user is an admin.
    pub is_admin: bool,
}

/// A user. Only admins list users; only admins see `email`; nobody sees `token`.
///
/// Exposed twice: the public `/users` (the first attribute) and, through the generated
/// marker type `AdminUsers`, the admin view served under `/admin` (`/admin/users`): admins
/// only (a signed-in non-admin gets 403, an anonymous caller 401), e-mail visible, `is_admin`
/// writable, `token` neither readable nor writable.
#[expose(
    as = "users",
    all(fields = "-token", fields_for = user_fields),
    list(pre = [admins_or_embedded], embed(Post)),
    retrieve(pre = [require_user], embed(Post))
)]
#[expose(
    view = AdminUsers,
    as = "users",
    all(fields = "-token", pre = [require_admin]),
    list(order = "id"),
    retrieve,
    update(fields = "name,email,is_admin")
)]
pub struct User {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    #[expose(unique)]
    pub email: String,
    #[expose(default = "FALSE")]
    pub is_admin: bool,
    #[expose(unique)]
    pub token: String,
}

/// A blog post.
#[derive(Debug, serde::Deserialize)]
#[expose(
    as = "posts",
    all(scope = visible_posts),
    list(
        order = "created_at.desc",
        filter = "owner_id,title,published,created_at",
        embed(User, Tag(through = PostTag))
    ),
    retrieve(embed(User, Tag(through = PostTag))),
    create(
        fields = "title,body,published",
        pre = [require_user],
        force(owner_id = current_user_id),
        post = [announce_post]
    ),
    update(fields = "title,body,published", scope = own_posts),
    remove(scope = own_posts),
    action(publish, method = "POST", scope = own_posts, doc = "Publish a post: its author or an admin sets `published`.")
)]
pub struct Post {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = User)]
    pub owner_id: i64,
    pub title: String,
    pub body: String,
    #[expose(default = "FALSE")]
    pub published: bool,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A tag; anyone lists tags, and embeds the posts they tag (those the caller may read).
#[expose(
    as = "tags",
    list(order = "name", embed(Post(through = PostTag))),
    retrieve(embed(Post(through = PostTag)))
)]
pub struct Tag {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(unique)]
    pub name: String,
}

/// A post's tag: the join model of posts and tags. Only admins list it directly; anyone
/// reads it through an embed (`/posts?select=title,tags(name)`), where the posts' scope
/// still hides the drafts the caller cannot read.
#[expose(as = "post_tags", list(pre = [links_for_admins_or_embedded], order = "id"))]
pub struct PostTag {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = Post)]
    pub post_id: i64,
    #[expose(references = Tag)]
    pub tag_id: i64,
}

fn user(ctx: &HookCtx) -> Option<CurrentUser> {
    ctx.extension::<CurrentUser>().copied()
}

/// `pre` hook: the caller must be signed in.
pub async fn require_user(ctx: &mut HookCtx) -> Result<(), Problem> {
    user(ctx)
        .map(|_| ())
        .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <token>"))
}

/// `pre` hook: the caller must be an admin.
pub async fn require_admin(ctx: &mut HookCtx) -> Result<(), Problem> {
    match user(ctx) {
        Some(u) if u.is_admin => Ok(()),
        Some(_) => Err(Problem::forbidden("only admins may do this")),
        None => Err(Problem::unauthorized("send Authorization: Bearer <token>")),
    }
}

/// `pre` hook of the users list: admins only, except for the authors embedded in a post
/// (`/posts?select=title,users(name)`), whose rows and fields the list's policy still
/// bounds (no e-mail for non-admins, never the token).
pub async fn admins_or_embedded(ctx: &mut HookCtx) -> Result<(), Problem> {
    match ctx.embedded_in() {
        Some("posts") => Ok(()),
        _ => require_admin(ctx).await,
    }
}

/// `pre` hook of the post tags list: admins only, except for the links read through an
/// embed of tags in posts or posts in tags, where each side's scope still applies.
pub async fn links_for_admins_or_embedded(ctx: &mut HookCtx) -> Result<(), Problem> {
    match ctx.embedded_in() {
        Some("posts" | "tags") => Ok(()),
        _ => require_admin(ctx).await,
    }
}

/// Only admins see users' email.
pub fn user_fields(ctx: &HookCtx, fields: &mut FieldMask<User>) -> Result<(), Problem> {
    if !user(ctx).is_some_and(|u| u.is_admin) {
        fields.remove(User::FIELDS.email);
    }
    Ok(())
}

/// Published posts for everyone, plus one's own drafts; everything for admins.
pub fn visible_posts(ctx: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
    let published = Post::FIELDS.published.eq(true);
    Ok(match user(ctx) {
        Some(u) if u.is_admin => None,
        Some(u) => Some(published.or(Post::FIELDS.owner_id.eq(u.id))),
        None => Some(published),
    })
}

/// Only the author (or an admin) may change or remove a post.
pub fn own_posts(ctx: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
    Ok(match user(ctx) {
        Some(u) if u.is_admin => None,
        Some(u) => Some(Post::FIELDS.owner_id.eq(u.id)),
        None => Some(Cond::none()),
    })
}

/// Forced value: the owner of a new post is the caller.
pub fn current_user_id(ctx: &HookCtx) -> Result<i64, Problem> {
    user(ctx)
        .map(|u| u.id)
        .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <token>"))
}

/// `post` hook of create: an outbox row in the same transaction as the post.
pub async fn announce_post(ctx: &mut HookCtx) -> Result<(), Problem> {
    let payload = ctx.output().cloned().unwrap_or_default();
    ctx.execute(
        "INSERT INTO outbox (topic, payload) VALUES (?, ?)",
        &[
            Value::from("post.created"),
            Value::from(payload.to_string()),
        ],
    )
    .await?;
    Ok(())
}

/// `GET /posts/mine`: the posts list on the caller's own posts, drafts included. The client's
/// query (`select`, filters, `order`, `limit`, `Prefer: count=exact`) applies as on `/posts`,
/// under the same scope and policies; the owner condition is ANDed outside the client's
/// filters, which can only narrow it. Anonymous callers get 401.
pub async fn my_posts(posts: Endpoints<Post>, db: Db, req: Request) -> Response {
    let Some(me) = req.extensions().get::<CurrentUser>().copied() else {
        return Problem::unauthorized("send Authorization: Bearer <token>").into_response();
    };
    posts
        .call(req, db)
        .and(Post::FIELDS.owner_id.eq(me.id))
        .list()
        .await
}

/// Action `POST /posts/{id}/publish` (declared on [`Post`]): the post, loaded under
/// `own_posts` (another user's post is a 404 and nothing is written), is published in the
/// action's transaction; the answer is the written row, narrowed by `?select=`.
pub async fn publish(post: Post, ctx: &mut HookCtx) -> Result<(), Problem> {
    if !post.published {
        ctx.input_mut()?.set(Post::FIELDS.published, true)?;
    }
    Ok(())
}

/// Axum middleware: `Authorization: Bearer <token>` → [`CurrentUser`] in the extensions.
/// No header means anonymous; an unknown token is 401.
pub async fn authenticate(State(db): State<Db>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(token) = token {
        match find_user(&db, &token).await {
            Ok(Some(u)) => {
                req.extensions_mut().insert(u);
            }
            Ok(None) => return Problem::unauthorized("unknown token").into_response(),
            Err(e) => return Problem::internal(&e).into_response(),
        }
    }
    next.run(req).await
}

async fn find_user(db: &Db, token: &str) -> Result<Option<CurrentUser>, sqlx::Error> {
    let row: Option<(i64, bool)> = db
        .fetch_optional(
            "SELECT id, is_admin FROM users WHERE token = ?",
            &[token.into()],
        )
        .await?;
    Ok(row.map(|(id, is_admin)| CurrentUser { id, is_admin }))
}

/// The OpenAPI document of the example: both resources, the custom route and the bearer
/// scheme.
pub fn api() -> expose_runtime::OpenApi {
    expose_runtime::OpenApi::new("blog", env!("CARGO_PKG_VERSION"))
        .resource::<User>()
        .resource::<Post>()
        .resource::<Tag>()
        .resource::<PostTag>()
        .resource_under::<AdminUsers>("/admin")
        .route(
            Route::of::<Post>(OperationKind::List, "/posts/mine")
                .summary("List the caller's own posts")
                .description("The caller's own posts, drafts included, with the query of `/posts`.")
                .signed_in(),
        )
        .bearer_auth("A user's token: `Authorization: Bearer <token>`.")
}

/// The router of the example. The posts' operations are compiled once, here: the generated
/// routes (with the `publish` action) and the custom `/posts/mine` share them.
pub fn app(db: Db) -> axum::Router {
    let api = api();
    let posts = Post::endpoints();
    let mine = {
        let posts = posts.clone();
        move |State(db): State<Db>, req: Request| my_posts(posts.clone(), db, req)
    };
    axum::Router::new()
        .merge(User::router())
        .merge(posts.router())
        .merge(Tag::router())
        .merge(PostTag::router())
        .nest("/admin", AdminUsers::router())
        .route(
            "/posts/mine",
            axum::routing::get(mine).fallback(expose_runtime::method_not_allowed),
        )
        .merge(api.router()) // GET /openapi.json
        .merge(api.index_router("/"))
        .fallback(expose_runtime::not_found)
        .layer(axum::middleware::from_fn_with_state(
            db.clone(),
            authenticate,
        ))
        .with_state(db)
}

/// Creates the tables if they are missing: `users`, `posts`, `tags` and `post_tags` from
/// their models (a post's or a tag's links deleted with it), the outbox
/// (no model: only the `announce_post` hook writes it) by hand.
pub async fn create_tables(db: &Db) -> Result<(), expose_runtime::DdlError> {
    expose_runtime::create_tables(db, &[User::MODEL, Post::MODEL, Tag::MODEL]).await?;
    // The links from their model, each foreign key deleting the links of a deleted post or
    // tag.
    let links = PostTag::MODEL
        .create_table(db.backend())?
        .replace(" (id)", " (id) ON DELETE CASCADE");
    db.execute(&links)
        .await
        .map_err(expose_runtime::DdlError::Database)?;
    let (id, ts, now, tail) = match db.backend() {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TEXT",
            "(strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))",
            "",
        ),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ", "now()", ""),
        Backend::MySql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "DATETIME(6)",
            "CURRENT_TIMESTAMP(6)",
            " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
        ),
    };
    let outbox = format!(
        "CREATE TABLE IF NOT EXISTS outbox (id {id}, topic TEXT NOT NULL, \
         payload TEXT NOT NULL, created_at {ts} NOT NULL DEFAULT {now}){tail}"
    );
    db.execute(&outbox)
        .await
        .map_err(expose_runtime::DdlError::Database)?;
    Ok(())
}

/// The demo tokens: (admin, user).
pub const ADMIN_TOKEN: &str = "admin-token";
/// See [`ADMIN_TOKEN`].
pub const USER_TOKEN: &str = "alice-token";

/// Seeds an admin (id 1), a user (id 2), a few posts and their tags, when there are no
/// users yet.
pub async fn seed(db: &Db) -> Result<(), sqlx::Error> {
    if db.fetch_i64("SELECT COUNT(*) FROM users").await? > 0 {
        return Ok(());
    }
    db.execute(&format!(
        "INSERT INTO users (id, name, email, is_admin, token) VALUES \
         (1, 'Ada Admin', 'ada@example.com', TRUE, '{ADMIN_TOKEN}'), \
         (2, 'Alice', 'alice@example.com', FALSE, '{USER_TOKEN}'), \
         (3, 'Bob', 'bob@example.com', FALSE, 'bob-token')"
    ))
    .await?;
    db.execute(
        "INSERT INTO posts (id, owner_id, title, body, published) VALUES \
         (1, 2, 'Hello', 'Alice says hello', TRUE), \
         (2, 2, 'Draft', 'Alice is still writing', FALSE), \
         (3, 3, 'Bob''s news', 'Bob writes', TRUE), \
         (4, 3, 'Bob''s draft', 'unfinished', FALSE)",
    )
    .await?;
    db.execute("INSERT INTO tags (id, name) VALUES (1, 'hello'), (2, 'news'), (3, 'wip')")
        .await?;
    // Post 2 (Alice's draft) is tagged `wip`: only Alice and admins see it among its posts.
    db.execute(
        "INSERT INTO post_tags (id, post_id, tag_id) VALUES \
         (1, 1, 1), (2, 1, 2), (3, 3, 2), (4, 2, 3), (5, 4, 3)",
    )
    .await?;
    if db.backend() == Backend::Postgres {
        for t in ["users", "posts", "tags", "post_tags"] {
            db.execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
            ))
            .await?;
        }
    }
    Ok(())
}
