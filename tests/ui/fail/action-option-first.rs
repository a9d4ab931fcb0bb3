use expose_runtime::expose;

#[derive(serde::Deserialize)]
#[expose(as = "posts", retrieve, action(method = "POST", publish))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

fn main() {}
