//! Every operation option and field option at once.
#![deny(warnings)]

use expose_runtime::{expose, Cond, FieldMask, HookCtx, Problem};

mod hooks {
    use expose_runtime::{HookCtx, Problem};

    pub async fn signed_in(_ctx: &mut HookCtx) -> Result<(), Problem> {
        Ok(())
    }

    pub async fn audit(_ctx: &mut HookCtx) -> Result<(), Problem> {
        Ok(())
    }
}

async fn stamp(ctx: &mut HookCtx) -> Result<(), Problem> {
    if let Some(input) = ctx.input_mut().ok() {
        input.remove("title");
    }
    Ok(())
}

fn own_rows(_ctx: &HookCtx) -> Result<Option<Cond<Article>>, Problem> {
    Ok(Some(Article::FIELDS.owner_id.eq(1)))
}

fn narrow(_ctx: &HookCtx, mask: &mut FieldMask<Article>) -> Result<(), Problem> {
    mask.remove(Article::FIELDS.body);
    Ok(())
}

fn current_user(_ctx: &HookCtx) -> Result<i64, Problem> {
    Ok(7)
}

fn now(_ctx: &HookCtx) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    Ok(chrono::Utc::now())
}

/// An article.
#[expose(
    as = "articles",
    table = "article",
    all(
        fields = "-secret",
        pre = [hooks::signed_in],
        scope = own_rows,
        max_in = 20,
        max_affected = 100,
    ),
    list(
        fields = "id,title,owner_id,published,rating,created_at,body",
        filter = "title,published,rating,-body",
        sort = "-body",
        fixed_order = "rating.desc.nullslast,id",
        where = "published.eq.true",
        where = "rating.gte.1",
        where = "or(rating.is.null,rating.lt.10)",
        fixed_limit = 20,
        max_conditions = 10,
        max_depth = 3,
        max_in = 50,
        fields_for = narrow,
    ),
    retrieve(where = "published.is.true", post = [hooks::audit]),
    create(
        fields = "title,slug,body,secret,owner_id,created_at",
        pre = [stamp, hooks::audit],
        post = [hooks::audit],
        force(owner_id = current_user, created_at = now),
        max_rows = 200,
        upsert,
    ),
    update(
        fields = "-owner_id",
        overwrite(owner_id = current_user),
        require_if_match,
        fields_for = narrow,
        filter = "id,slug,published",
        max_affected = 20,
        where = "published.is.true",
    ),
    remove(
        require_if_match,
        post = [hooks::audit],
        filter = "-body",
        unfiltered,
        where = "rating.is.null",
    ),
    replace(
        fields = "-owner_id",
        pre = [stamp],
        post = [hooks::audit],
        fields_for = narrow,
        overwrite(owner_id = current_user),
        require_if_match,
        where = "published.is.true",
    ),
)]
pub struct Article {
    /// The key.
    #[expose(id, generated, column = "article_id")]
    pub id: i64,
    #[expose(references = "users (id)")]
    pub owner_id: i64,
    pub title: String,
    #[expose(unique)]
    pub slug: String,
    pub body: Option<String>,
    pub secret: String,
    #[expose(default = "FALSE")]
    pub published: bool,
    pub rating: Option<i32>,
    #[expose(default)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[expose(version, default)]
    pub revision: i64,
}

/// Limits without fixing them; `order` instead of `fixed_order`.
#[expose(
    as = "notes",
    list(order = "id.desc", limit = 10, max_limit = 50),
    retrieve,
    create,
    update,
    remove,
    replace
)]
pub struct Note {
    #[expose(id, generated)]
    pub id: i64,
    pub text: String,
}

/// A key made in Rust when a create sends none.
#[expose(as = "books", retrieve, create)]
pub struct Book {
    #[expose(id, generate = uuid::Uuid::new_v4)]
    pub id: uuid::Uuid,
    pub title: String,
}

fn main() {
    let _: [&'static expose_runtime::Model; 3] = [Article::MODEL, Note::MODEL, Book::MODEL];
    let _ = Article::router::<expose_runtime::Db>();
    let _ = Note::router_with::<expose_runtime::Db>(expose_runtime::RouterConfig::default());
}
