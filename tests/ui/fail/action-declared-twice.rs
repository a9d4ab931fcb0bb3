use expose_runtime::{expose, HookCtx, Problem};

#[derive(serde::Deserialize)]
#[expose(as = "posts", retrieve, action(publish), action(drafts::publish, method = "PUT"))]
pub struct Post {
    pub id: i64,
    pub published: bool,
}

pub async fn publish(_: Post, _: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

mod drafts {
    pub async fn publish(_: super::Post, _: &mut expose_runtime::HookCtx) -> Result<(), expose_runtime::Problem> {
        Ok(())
    }
}

fn main() {}
