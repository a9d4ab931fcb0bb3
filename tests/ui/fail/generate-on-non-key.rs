use expose_runtime::expose;

#[expose(as = "books", create)]
pub struct Book {
    #[expose(id, generate = uuid::Uuid::new_v4)]
    pub id: uuid::Uuid,
    #[expose(generate = uuid::Uuid::new_v4)]
    pub isbn: uuid::Uuid,
}

fn main() {}
