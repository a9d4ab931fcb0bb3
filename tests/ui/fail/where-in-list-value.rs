use expose_runtime::expose;

// Every item of an `in` list is checked against the field's type.
#[expose(as = "people", list(where = "age.in.(1,two,3)", where = "score.not.in.(0.5,1e39)"))]
pub struct Person {
    pub id: i64,
    pub age: i32,
    pub score: f32,
}

fn main() {}
