use expose_runtime::{expose, Input, Problem};

fn check(_: &Input) -> Result<(), Problem> {
    Ok(())
}

#[expose(as = "people", validate = check, create)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
