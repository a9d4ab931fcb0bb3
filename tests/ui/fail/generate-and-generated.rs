use expose_runtime::expose;

#[expose(as = "books", create)]
pub struct Book {
    #[expose(id, generated, generate = uuid::Uuid::new_v4)]
    pub id: uuid::Uuid,
    pub title: String,
}

fn main() {}
