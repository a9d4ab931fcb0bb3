use expose_runtime::expose;

#[expose(
    as = "posts",
    list(where = "scores.cs.{1,x}", where = "tags.ov.a", where = "tags.cd.{NULL}", where = "meta.cs.{\"a\":1")
)]
pub struct Post {
    pub id: i64,
    pub scores: Vec<i64>,
    pub tags: Vec<String>,
    pub meta: serde_json::Value,
}

fn main() {}
