use expose_runtime::expose;

fn next_number() -> i64 {
    7
}

#[expose(as = "books", create)]
pub struct Book {
    #[expose(id, generate = next_number)]
    pub id: uuid::Uuid,
    pub title: String,
}

fn main() {}
