use expose_runtime::expose;

#[expose(
    as = "posts",
    list(where = "title.cs.{a}", where = "tags.eq.a", where = "meta.ov.[1]")
)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub meta: serde_json::Value,
}

fn main() {}
