use expose_runtime::{expose, HookCtx, Problem};

#[derive(serde::Deserialize)]
#[expose(as = "posts", retrieve, action(publish))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

pub async fn publish(_: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

fn main() {}
