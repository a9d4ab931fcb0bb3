//! A model's own validation: the field errors its `validate` function returns, for rules
//! across fields that a field's declared rules cannot state.
//!
//! ```
//! use expose_runtime::{expose, FieldErrors, Input};
//!
//! #[expose(as = "loans", validate = due_after_start, create, update)]
//! pub struct Loan {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     pub start: chrono::NaiveDate,
//!     pub due: chrono::NaiveDate,
//! }
//!
//! /// A loan is due after it starts.
//! fn due_after_start(input: &Input) -> Result<(), FieldErrors> {
//!     let mut errors = FieldErrors::new();
//!     // An update writes only the fields it sends: compare when both are there.
//!     if let (Some(start), Some(due)) = (input.get(Loan::FIELDS.start), input.get(Loan::FIELDS.due)) {
//!         if due <= start {
//!             errors.add(Loan::FIELDS.due, "after_start", "must be after `start`");
//!         }
//!     }
//!     errors.into_result()
//! }
//! ```

use crate::problem::{Offender, Problem};
use crate::scope::Col;

/// Field errors of a model's `validate` function: each names a field, the rule it broke and
/// what is wrong. They join the errors of the fields' declared rules in one 422 problem
/// (`errors` of the `application/problem+json` body, each with its `rule`).
///
/// Converts into that 422 [`Problem`] too, so a hook can refuse a request the same way:
/// `return Err(errors.into())`.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    errors: Vec<Offender>,
}

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    /// One error: `field` (a typed handle such as `Loan::FIELDS.due`, or an API name) broke
    /// `rule` (a short name clients can match on), and `detail` says how.
    pub fn one(field: impl ErrorField, rule: &'static str, detail: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, rule, detail);
        e
    }

    /// Adds an error (see [`FieldErrors::one`]).
    pub fn add(
        &mut self,
        field: impl ErrorField,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> &mut FieldErrors {
        self.errors.push(Offender {
            name: field.field_name(),
            location: "body",
            detail: detail.into(),
            rule: Some(rule),
        });
        self
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, as the problem lists them.
    pub fn errors(&self) -> &[Offender] {
        &self.errors
    }

    /// `Ok(())` when there are none, else `Err(self)`: what a `validate` function returns.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    pub(crate) fn into_offenders(self) -> Vec<Offender> {
        self.errors
    }
}

impl From<FieldErrors> for Problem {
    /// The 422 problem listing every error.
    fn from(e: FieldErrors) -> Problem {
        let names: Vec<&str> = e.errors.iter().map(|o| o.name.as_str()).collect();
        let detail = format!("the body has invalid fields: {}", names.join(", "));
        Problem::unprocessable(detail, e.errors)
    }
}

/// How [`FieldErrors::add`] names a field: a typed handle (`Loan::FIELDS.due`) or its API
/// name (`"due"`).
pub trait ErrorField {
    /// The field's API name.
    #[doc(hidden)]
    fn field_name(&self) -> String;
}

impl ErrorField for &str {
    fn field_name(&self) -> String {
        (*self).to_owned()
    }
}

impl<M: crate::Exposed, T> ErrorField for Col<M, T> {
    fn field_name(&self) -> String {
        M::MODEL.fields[self.index()].name.to_owned()
    }
}
