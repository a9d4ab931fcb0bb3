//! Declared validation: each field rule, emitted as data, and the model's own function.

use expose_runtime::{expose, FieldErrors, Input};

/// A sign-up.
#[expose(as = "signups", validate = handle_is_not_name, create, update)]
pub struct Signup {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(validate(length(min = 2, max = 10)))]
    pub name: String,
    #[expose(validate(email))]
    pub email: Option<String>,
    #[expose(validate(url, non_empty))]
    pub homepage: Option<String>,
    #[expose(validate(range(min = -1, max = 150)))]
    pub age: i32,
    #[expose(validate(pattern = "^[a-z]+$"))]
    pub handle: String,
    #[expose(validate(one_of("basic", "premium")))]
    pub plan: String,
    #[expose(validate(one_of(1, 2, 3)))]
    pub level: i16,
    #[expose(validate(range(min = 0.5)))]
    pub score: f64,
}

fn handle_is_not_name(input: &Input) -> Result<(), FieldErrors> {
    match (input.get(Signup::FIELDS.name), input.get(Signup::FIELDS.handle)) {
        (Some(n), Some(h)) if n == h => Err(FieldErrors::one(
            Signup::FIELDS.handle,
            "differs_from_name",
            "must differ from `name`",
        )),
        _ => Ok(()),
    }
}

fn main() {
    let _ = Signup::router::<expose_runtime::Db>();
}
