use expose_runtime::expose;

#[expose(as = "people", list(fixed_order = "created"))]
pub struct Person {
    pub id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
