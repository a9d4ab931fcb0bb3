use expose_runtime::expose;

#[expose(as = "people", create, remove(filter = "id,email"))]
pub struct Person {
    pub id: i64,
    pub email: String,
}

fn main() {}
