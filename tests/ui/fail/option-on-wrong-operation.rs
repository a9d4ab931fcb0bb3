use expose_runtime::expose;

#[expose(as = "people", retrieve(limit = 10, sort = "name"), create(where = "name.eq.x"))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
