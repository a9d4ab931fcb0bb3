use expose_runtime::expose;

#[expose(as = "people", list(where = "is_admin.like.true", where = "age.like.3"))]
pub struct Person {
    pub id: i64,
    pub is_admin: bool,
    pub age: i32,
}

fn main() {}
