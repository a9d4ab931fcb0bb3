use expose_runtime::expose;

// A field's rules on the struct, a model's function on a field, and rules on a field
// clients never write.
#[expose(as = "people", validate(email), create)]
pub struct Person {
    pub id: i64,
    #[expose(validate = check)]
    pub name: String,
    #[expose(generated, validate(non_empty))]
    pub code: String,
}

fn main() {}
