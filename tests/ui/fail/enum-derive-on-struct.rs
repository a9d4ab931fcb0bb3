#[derive(expose_runtime::Enum)]
pub struct Status {
    pub name: String,
}

fn main() {}
