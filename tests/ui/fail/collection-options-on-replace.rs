use expose_runtime::expose;

#[expose(as = "people", update(upsert), replace(filter = "name", max_affected = 5, unfiltered))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
