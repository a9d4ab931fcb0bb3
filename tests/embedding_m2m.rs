//! End-to-end: many-to-many embedding through a join model (`embed(Tag(through =
//! PostTag))`), on every backend: both directions, filters, order and limits on the
//! embedded rows, `!inner` and `rel=is.null`, nesting, aliases, the embedded model's policy
//! (its `where`, scope and hidden field), the join model's (its scope: a link the caller
//! cannot read is no link; its reference fields must be readable), and the number of
//! statements, which does not grow with the number of parents.

mod support;

use expose_runtime::{expose, Cond, Db, FieldMask, HookCtx, Problem};
use serde_json::{json, Value};
use std::sync::Arc;
use support::{admin, caller, send, TestDb};

/// A post: published ones for everyone, one's own drafts too.
#[expose(
    as = "m2m_posts",
    all(scope = visible_posts),
    list(
        order = "id",
        embed(M2mTag(through = M2mPostTag)),
        embed_depth = 2,
        embed_rows = 3
    ),
    retrieve(embed(M2mTag(through = M2mPostTag)))
)]
pub struct M2mPost {
    #[expose(id)]
    pub id: i64,
    pub owner_id: i64,
    pub title: String,
    pub published: bool,
}

/// A tag: `secret` is never readable, archived tags are never listed.
#[expose(
    as = "m2m_tags",
    list(
        fields = "-secret",
        where = "archived.eq.false",
        order = "id",
        embed(M2mPost(through = M2mPostTag))
    )
)]
pub struct M2mTag {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub secret: String,
    pub archived: bool,
}

/// The link of a post and a tag; hidden links are readable by admins only, and only admins
/// read which tag a link is to (for callers marked `x-narrow`).
#[expose(
    as = "m2m_post_tags",
    list(scope = visible_links, fields_for = link_fields)
)]
pub struct M2mPostTag {
    #[expose(id)]
    pub id: i64,
    #[expose(references = M2mPost)]
    pub post_id: i64,
    #[expose(references = M2mTag)]
    pub tag_id: i64,
    pub hidden: bool,
}

pub fn visible_posts(ctx: &HookCtx) -> Result<Option<Cond<M2mPost>>, Problem> {
    let published = M2mPost::FIELDS.published.eq(true);
    Ok(Some(match caller(ctx) {
        Some(id) => published.or(M2mPost::FIELDS.owner_id.eq(id)),
        None => published,
    }))
}

pub fn visible_links(ctx: &HookCtx) -> Result<Option<Cond<M2mPostTag>>, Problem> {
    Ok((!admin(ctx)).then(|| M2mPostTag::FIELDS.hidden.eq(false)))
}

pub fn link_fields(ctx: &HookCtx, fields: &mut FieldMask<M2mPostTag>) -> Result<(), Problem> {
    if ctx.headers().contains_key("x-narrow") {
        fields.remove(M2mPostTag::FIELDS.tag_id);
    }
    Ok(())
}

async fn setup(t: &TestDb) -> axum::Router {
    expose_runtime::create_tables(&t.db, &[M2mPost::MODEL, M2mTag::MODEL, M2mPostTag::MODEL])
        .await
        .expect("tables");
    // Post 2 is user 1's draft; post 4 has no tags.
    t.db.execute(
        "INSERT INTO m2m_posts (id, owner_id, title, published) VALUES \
         (1, 1, 'Hello', TRUE), (2, 1, 'Draft', FALSE), (3, 2, 'Third', TRUE), \
         (4, 2, 'Bare', TRUE)",
    )
    .await
    .expect("posts");
    // Tag 4 is archived; tag 5 tags nothing.
    t.db.execute(
        "INSERT INTO m2m_tags (id, name, secret, archived) VALUES \
         (1, 'rust', 's1', FALSE), (2, 'sql', 's2', FALSE), (3, 'web', 's3', FALSE), \
         (4, 'old', 's4', TRUE), (5, 'lonely', 's5', FALSE)",
    )
    .await
    .expect("tags");
    // Link 6 (post 3, web) is hidden.
    t.db.execute(
        "INSERT INTO m2m_post_tags (id, post_id, tag_id, hidden) VALUES \
         (1, 1, 3, FALSE), (2, 1, 2, FALSE), (3, 1, 4, FALSE), (4, 2, 1, FALSE), \
         (5, 3, 2, FALSE), (6, 3, 3, TRUE), (7, 1, 1, FALSE)",
    )
    .await
    .expect("links");
    let db: Db = t.db.clone();
    axum::Router::new()
        .merge(M2mPost::router())
        .merge(M2mTag::router())
        .merge(M2mPostTag::router())
        .with_state(db)
}

async fn get(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Value {
    let r = send(app, "GET", uri, headers, None).await;
    assert_eq!(r.status, 200, "{uri}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

async fn refused(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> String {
    let r = send(app, "GET", uri, headers, None).await;
    let p = r.problem(400);
    let text = p.to_string().to_lowercase();
    for word in ["select 1", "from \"", "exists (", "sqlx", "expose_"] {
        assert!(!text.contains(word), "`{word}` in {p}");
    }
    p["detail"].as_str().unwrap().to_owned()
}

fn names(v: &Value, member: &str, field: &str) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row[member]
                .as_array()
                .unwrap_or_else(|| panic!("{member} of {row}"))
                .iter()
                .map(|c| c[field].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

async fn both_directions(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // Posts → tags: an array, in the tag list's order; the archived tag and the hidden link
    // are left out, the draft is not listed.
    let posts = get(&app, "/m2m_posts?select=id,m2m_tags(name)", &[]).await;
    assert_eq!(
        posts,
        json!([
            {"id": 1, "m2m_tags": [{"name": "rust"}, {"name": "sql"}, {"name": "web"}]},
            {"id": 3, "m2m_tags": [{"name": "sql"}]},
            {"id": 4, "m2m_tags": []},
        ])
    );
    // The join model's scope: an admin reads the hidden link, so the embed shows it.
    let posts = get(
        &app,
        "/m2m_posts?select=id,m2m_tags(name)&id=eq.3",
        &[("x-admin", "1")],
    )
    .await;
    assert_eq!(
        posts,
        json!([{"id": 3, "m2m_tags": [{"name": "sql"}, {"name": "web"}]}])
    );
    // Tags → posts: the post's scope applies (the draft for its owner only).
    let tags = get(&app, "/m2m_tags?select=name,m2m_posts(title)", &[]).await;
    assert_eq!(
        tags,
        json!([
            {"name": "rust", "m2m_posts": [{"title": "Hello"}]},
            {"name": "sql", "m2m_posts": [{"title": "Hello"}, {"title": "Third"}]},
            {"name": "web", "m2m_posts": [{"title": "Hello"}]},
            {"name": "lonely", "m2m_posts": []},
        ])
    );
    let tags = get(
        &app,
        "/m2m_tags?select=name,m2m_posts(title)&id=eq.1",
        &[("x-user", "1")],
    )
    .await;
    assert_eq!(
        tags,
        json!([{"name": "rust", "m2m_posts": [{"title": "Hello"}, {"title": "Draft"}]}])
    );
    // Aliases, `*`, the join model's name as the hint, and retrieve.
    let posts = get(
        &app,
        "/m2m_posts?select=*,labels:m2m_tags!m2m_post_tags(label:name)&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(
        posts,
        json!([{"id": 1, "owner_id": 1, "title": "Hello", "published": true,
                "labels": [{"label": "rust"}, {"label": "sql"}, {"label": "web"}]}])
    );
    let post = send(
        &app,
        "GET",
        "/m2m_posts/3?select=title,m2m_tags(id)",
        &[],
        None,
    )
    .await;
    assert_eq!(
        post.json(),
        json!({"title": "Third", "m2m_tags": [{"id": 2}]})
    );
    // Nesting: tags of posts, and their posts in turn.
    let posts = get(
        &app,
        "/m2m_posts?select=id,m2m_tags(name,m2m_posts(id))&id=eq.1",
        &[],
    )
    .await;
    assert_eq!(
        posts,
        json!([{"id": 1, "m2m_tags": [
            {"name": "rust", "m2m_posts": [{"id": 1}]},
            {"name": "sql", "m2m_posts": [{"id": 1}, {"id": 3}]},
            {"name": "web", "m2m_posts": [{"id": 1}]},
        ]}])
    );
}

async fn filters_order_limit(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let q = |extra: &str| format!("/m2m_posts?select=id,m2m_tags(name)&id=lte.3{extra}");
    let posts = get(&app, &q("&m2m_tags.order=name.desc&m2m_tags.limit=2"), &[]).await;
    assert_eq!(
        names(&posts, "m2m_tags", "name"),
        [vec!["web", "sql"], vec!["sql"]]
    );
    let posts = get(&app, &q("&m2m_tags.offset=1"), &[("x-admin", "1")]).await;
    assert_eq!(
        names(&posts, "m2m_tags", "name"),
        [vec!["sql", "web"], vec!["web"]]
    );
    let posts = get(&app, &q("&m2m_tags.name=in.(sql,web)"), &[]).await;
    assert_eq!(
        names(&posts, "m2m_tags", "name"),
        [vec!["sql", "web"], vec!["sql"]]
    );
    // `embed_rows = 3` caps a larger limit.
    let posts = get(&app, &q("&m2m_tags.limit=100"), &[("x-admin", "1")]).await;
    assert_eq!(names(&posts, "m2m_tags", "name")[0], ["rust", "sql", "web"]);
    // `!inner`: only the posts with a matching tag, through links the caller can read.
    let uri = "/m2m_posts?select=id,m2m_tags!inner(name)&m2m_tags.name=eq.web";
    assert_eq!(
        get(&app, uri, &[]).await,
        json!([{"id": 1, "m2m_tags": [{"name": "web"}]}])
    );
    let posts = get(&app, uri, &[("x-admin", "1")]).await;
    assert_eq!(
        posts,
        json!([{"id": 1, "m2m_tags": [{"name": "web"}]}, {"id": 3, "m2m_tags": [{"name": "web"}]}])
    );
    // `is.null`: the posts without a (readable, unarchived) tag; `not.is.null` the others.
    let posts = get(
        &app,
        "/m2m_posts?select=id,m2m_tags(id)&m2m_tags=is.null",
        &[],
    )
    .await;
    assert_eq!(posts, json!([{"id": 4, "m2m_tags": []}]));
    let uri = "/m2m_posts?select=id,m2m_tags(id)&m2m_tags.name=eq.web&m2m_tags=is.null";
    let ids: Vec<i64> = get(&app, uri, &[])
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [3, 4]);
    let uri = "/m2m_tags?select=id,m2m_posts(id)&m2m_posts=not.is.null";
    let ids: Vec<i64> = get(&app, uri, &[])
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    // The archived tag is never linked, whatever the filters.
    let uri = "/m2m_posts?select=id,m2m_tags!inner(id)&m2m_tags.name=eq.old";
    assert_eq!(get(&app, uri, &[("x-admin", "1")]).await, json!([]));
    // Counted with `!inner`: the parents it keeps.
    let r = send(
        &app,
        "GET",
        "/m2m_posts?select=id,m2m_tags!inner(id)&m2m_tags.name=eq.sql",
        &[("prefer", "count=exact")],
        None,
    )
    .await;
    assert_eq!(r.header("content-range"), Some("0-1/2"));
}

async fn policies_and_refusals(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // The tag's hidden field reads like a missing one, selected, filtered or ordered.
    for uri in [
        "/m2m_posts?select=id,m2m_tags(secret)",
        "/m2m_posts?select=id,m2m_tags(name)&m2m_tags.secret=eq.s1",
        "/m2m_posts?select=id,m2m_tags(name)&m2m_tags.order=secret",
    ] {
        let detail = refused(&app, uri, &[]).await;
        assert!(detail.contains("secret"), "{uri}: {detail}");
        assert!(!detail.contains("s1"), "{uri}: {detail}");
        let missing = refused(&app, &uri.replace("secret", "nothing"), &[]).await;
        assert_eq!(detail.replace("secret", "nothing"), missing, "{uri}");
    }
    // A caller who cannot read which tag a link is to cannot embed tags through it.
    let detail = refused(
        &app,
        "/m2m_posts?select=id,m2m_tags(name)",
        &[("x-narrow", "1")],
    )
    .await;
    assert!(
        detail.contains("m2m_tags")
            && detail.contains("m2m_post_tags")
            && detail.contains("tag_id"),
        "{detail}"
    );
    // Unknown relations name the embeddable ones; a wrong hint names the relation.
    let detail = refused(&app, "/m2m_posts?select=id,m2m_links(id)", &[]).await;
    assert!(detail.contains("embeddable: m2m_tags"), "{detail}");
    let detail = refused(&app, "/m2m_posts?select=id,m2m_tags!nope(id)", &[]).await;
    assert!(detail.contains("m2m_tags!nope"), "{detail}");
    // A many-to-many embed is an array: it cannot be spread.
    let detail = refused(&app, "/m2m_posts?select=id,...m2m_tags(name)", &[]).await;
    assert!(detail.contains("only a to-one"), "{detail}");
    // Depth: posts allow 2 levels.
    let detail = refused(
        &app,
        "/m2m_posts?select=id,m2m_tags(m2m_posts(m2m_tags(id)))",
        &[],
    )
    .await;
    assert!(detail.contains("at most 2"), "{detail}");
    // The OpenAPI document names the relation beside the others, as an array.
    let doc = expose_runtime::OpenApi::new("m2m", "1")
        .resource::<M2mPost>()
        .resource::<M2mTag>()
        .document();
    let text = doc.to_string();
    assert!(text.contains("`m2m_tags(...)` (an array)"), "{text}");
    assert!(text.contains("`m2m_posts(...)` (an array)"), "{text}");
    // An embed never shows more than direct reads: the links an anonymous caller reads.
    let links = get(
        &app,
        "/m2m_post_tags?select=post_id,tag_id&post_id=eq.3",
        &[],
    )
    .await;
    assert_eq!(links, json!([{"post_id": 3, "tag_id": 2}]));
}

/// The row-reading statements one request runs (the runtime's `expose_runtime::rows`
/// events, one per statement whose rows it reads).
async fn statements(app: &axum::Router, uri: &str) -> (Value, usize) {
    support::counting_statements(get(app, uri, &[])).await
}

async fn statements_do_not_grow_with_parents(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // 60 more posts, each with two tags.
    let mut posts = String::from("INSERT INTO m2m_posts (id, owner_id, title, published) VALUES ");
    let mut links = String::from("INSERT INTO m2m_post_tags (id, post_id, tag_id, hidden) VALUES ");
    for p in 100..160 {
        if p > 100 {
            posts.push_str(", ");
            links.push_str(", ");
        }
        posts.push_str(&format!("({p}, 1, 'p{p}', TRUE)"));
        links.push_str(&format!(
            "({}, {p}, 1, FALSE), ({}, {p}, {}, FALSE)",
            2 * p,
            2 * p + 1,
            2 + p % 2
        ));
    }
    t.db.execute(&posts).await.expect("posts");
    t.db.execute(&links).await.expect("links");
    let uri =
        |n: u32| format!("/m2m_posts?select=id,m2m_tags(id,m2m_posts(id))&id=gte.100&limit={n}");
    get(&app, &uri(1), &[]).await;
    let (few, small) = statements(&app, &uri(3)).await;
    let (many, large) = statements(&app, &uri(50)).await;
    assert_eq!(few.as_array().unwrap().len(), 3);
    assert_eq!(many.as_array().unwrap().len(), 50);
    let tags: usize = many
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["m2m_tags"].as_array().unwrap().len())
        .sum();
    assert_eq!(tags, 100);
    // One statement per level: posts, their tags, those tags' posts (3 of each at most).
    let first = &many[0]["m2m_tags"][0]["m2m_posts"];
    assert_eq!(first.as_array().unwrap().len(), 3, "{first}");
    assert_eq!(
        (small, large),
        (3, 3),
        "statements for 3 and for 50 parents"
    );
}

backend_tests!(
    both_directions,
    filters_order_limit,
    policies_and_refusals,
    statements_do_not_grow_with_parents,
);
