use expose_runtime::expose;

#[expose(as = "people", list(where = "is_admn.eq.false"))]
pub struct Person {
    pub id: i64,
    pub is_admin: bool,
}

fn main() {}
