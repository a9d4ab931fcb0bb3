use expose_runtime::expose;

#[expose(as = "people", all(fields = "-password"), list(sort = "password"))]
pub struct Person {
    pub id: i64,
    pub password: String,
}

fn main() {}
