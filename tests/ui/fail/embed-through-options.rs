use expose_runtime::expose;

#[expose(as = "tags", list)]
pub struct Tag {
    pub id: i64,
}

#[expose(as = "posts", list(embed(Tag(thru = PostTag), Tag(), Tag(through = Tag))))]
pub struct Post {
    pub id: i64,
}

fn main() {}
