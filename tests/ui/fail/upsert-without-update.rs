use expose_runtime::expose;

#[expose(as = "people", list, create(upsert), remove)]
pub struct Person {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(unique)]
    pub email: String,
}

fn main() {}
