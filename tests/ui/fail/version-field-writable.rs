use expose_runtime::expose;

#[expose(as = "people", update(fields = "name,version"))]
pub struct Person {
    pub id: i64,
    pub name: String,
    #[expose(version)]
    pub version: i64,
}

fn main() {}
