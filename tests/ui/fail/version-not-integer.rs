use expose_runtime::expose;

#[expose(as = "people", update)]
pub struct Person {
    pub id: i64,
    #[expose(version)]
    pub version: String,
}

fn main() {}
