use expose_runtime::{expose, HookCtx, Problem};

#[derive(serde::Deserialize)]
#[expose(as = "posts", retrieve, action(publish, method = "SEND"), action(archive, method = "post"))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

pub async fn publish(_: Post, _: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

pub async fn archive(_: Post, _: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

fn main() {}
