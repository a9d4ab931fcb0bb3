use expose_runtime::expose;

#[expose(as = "people", create(upsert), update)]
pub struct Person {
    #[expose(id, unique)]
    pub id: i64,
    pub email: String,
}

fn main() {}
