//! Relations: a reference to an exposed model, and the models each read may embed,
//! directly or many-to-many through a join model.

use expose_runtime::expose;

/// A post, exposed at `/posts`, written by a user and perhaps edited by another.
#[expose(
    as = "posts",
    list(embed(Author, Tag(through = PostTag)), embed_depth = 2, embed_rows = 20),
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

/// A tag, exposed at `/tags`, with the posts it tags.
#[expose(as = "tags", list(embed(Post(through = PostTag))))]
pub struct Tag {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
}

/// A post's tag: the join model of posts and tags.
#[expose(as = "post_tags", list)]
pub struct PostTag {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = Post)]
    pub post_id: i64,
    #[expose(references = Tag)]
    pub tag_id: i64,
}

fn main() {
    let _ = Post::router::<expose_runtime::Db>();
    let _ = Author::router::<expose_runtime::Db>();
    let _ = Tag::router::<expose_runtime::Db>();
    let _ = PostTag::router::<expose_runtime::Db>();
}
