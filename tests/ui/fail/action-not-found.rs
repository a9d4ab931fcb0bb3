use expose_runtime::expose;

#[derive(serde::Deserialize)]
#[expose(as = "posts", retrieve, action(publish))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

fn main() {}
