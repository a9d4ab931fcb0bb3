use expose_runtime::expose;

#[expose(as = "tags", list)]
pub struct Tag {
    pub id: String,
}

/// `tag_id` holds an integer, but a tag's key is text.
#[expose(as = "post_tags", list)]
pub struct PostTag {
    pub id: i64,
    #[expose(references = Post)]
    pub post_id: i64,
    #[expose(references = Tag)]
    pub tag_id: i64,
}

#[expose(as = "posts", list(embed(Tag(through = PostTag))))]
pub struct Post {
    pub id: i64,
}

fn main() {}
