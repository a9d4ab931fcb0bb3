use expose_runtime::{expose, Cond, HookCtx, Problem};

// The one mistake is the unknown option; the struct, its FIELDS and router() still exist,
// so the code below reports nothing more.
#[expose(as = "posts", list(limt = 10))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

fn published(_: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
    Ok(Some(Post::FIELDS.published.eq(true)))
}

fn app(db: expose_runtime::Db) -> axum::Router {
    axum::Router::new().merge(Post::router()).with_state(db)
}

fn main() {
    let post = Post { id: 1, published: true };
    let _ = (post.id, post.published, published, app);
}
