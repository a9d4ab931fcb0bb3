//! Relations: a reference to an exposed model, and the models each read may embed.

use expose_runtime::expose;

/// A post, exposed at `/posts`, written by a user and perhaps edited by another.
#[expose(
    as = "posts",
    list(embed(Author), embed_depth = 2, embed_rows = 20),
    retrieve(embed(Author))
)]
pub struct Post {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = Author)]
    pub owner_id: i64,
    #[expose(references = Author)]
    pub editor_id: Option<i64>,
    pub title: String,
}

/// An author, exposed at `/authors`, with their posts.
#[expose(as = "authors", list(embed(Post)), retrieve)]
pub struct Author {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let _ = Post::router::<expose_runtime::Db>();
    let _ = Author::router::<expose_runtime::Db>();
}
