use expose_runtime::expose;

#[expose(as = "posts", list(sort = "id,tags", order = "tags"))]
pub struct Post {
    pub id: i64,
    pub tags: Vec<String>,
}

fn main() {}
