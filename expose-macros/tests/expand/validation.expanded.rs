#[allow(dead_code)]
/// A sign-up.
pub struct Signup {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub homepage: Option<String>,
    pub age: i32,
    pub handle: String,
    pub plan: String,
    pub level: i16,
    pub score: f64,
}
/// Typed handles on the fields of [`Signup`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct SignupFields {
    pub id: ::expose_runtime::Col<Signup, i64>,
    pub name: ::expose_runtime::Col<Signup, String>,
    pub email: ::expose_runtime::Col<Signup, Option<String>>,
    pub homepage: ::expose_runtime::Col<Signup, Option<String>>,
    pub age: ::expose_runtime::Col<Signup, i32>,
    pub handle: ::expose_runtime::Col<Signup, String>,
    pub plan: ::expose_runtime::Col<Signup, String>,
    pub level: ::expose_runtime::Col<Signup, i16>,
    pub score: ::expose_runtime::Col<Signup, f64>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    fn __validate_handle_is_not_name(
        input: &__e::Input,
    ) -> __e::Result<(), __e::FieldErrors> {
        let validate: fn(&__e::Input) -> __e::Result<(), __e::FieldErrors> = handle_is_not_name;
        validate(input)
    }
    const __CREATE: __e::Operation = __e::Operation {
        fields: &[
            "name",
            "email",
            "homepage",
            "age",
            "handle",
            "plan",
            "level",
            "score",
        ],
        ..__e::Operation::of(__e::OperationKind::Create)
    };
    const __UPDATE: __e::Operation = __e::Operation {
        fields: &[
            "name",
            "email",
            "homepage",
            "age",
            "handle",
            "plan",
            "level",
            "score",
        ],
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    #[automatically_derived]
    impl __e::Exposed for Signup {
        type Row = Signup;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Signup",
            path: "signups",
            table: "signups",
            doc: "A sign-up.",
            fields: &[
                __e::Field::of::<i64>("id").key().generated(),
                __e::Field::of::<String>("name")
                    .rules(
                        &[
                            __e::Rule::Length {
                                min: __e::Some(2u64),
                                max: __e::Some(10u64),
                            },
                        ],
                    ),
                __e::Field::of::<Option<String>>("email").rules(&[__e::Rule::Email]),
                __e::Field::of::<Option<String>>("homepage")
                    .rules(&[__e::Rule::Url, __e::Rule::NonEmpty]),
                __e::Field::of::<i32>("age")
                    .rules(
                        &[
                            __e::Rule::Range {
                                min: __e::Some(__e::Num::Int(-1i64)),
                                max: __e::Some(__e::Num::Int(150i64)),
                            },
                        ],
                    ),
                __e::Field::of::<String>("handle")
                    .rules(&[__e::Rule::Pattern("^[a-z]+$")]),
                __e::Field::of::<String>("plan")
                    .rules(
                        &[
                            __e::Rule::OneOf(
                                &[__e::Choice::Text("basic"), __e::Choice::Text("premium")],
                            ),
                        ],
                    ),
                __e::Field::of::<i16>("level")
                    .rules(
                        &[
                            __e::Rule::OneOf(
                                &[
                                    __e::Choice::Int(1i64),
                                    __e::Choice::Int(2i64),
                                    __e::Choice::Int(3i64),
                                ],
                            ),
                        ],
                    ),
                __e::Field::of::<f64>("score")
                    .rules(
                        &[
                            __e::Rule::Range {
                                min: __e::Some(__e::Num::Float(0.5f64)),
                                max: __e::None,
                            },
                        ],
                    ),
            ],
            operations: &[__CREATE, __UPDATE],
            actions: &[],
            validate: __e::Some(__validate_handle_is_not_name),
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl Signup {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: SignupFields = SignupFields {
        id: ::expose_runtime::Col::<Signup, i64>::new(0),
        name: ::expose_runtime::Col::<Signup, String>::new(1),
        email: ::expose_runtime::Col::<Signup, Option<String>>::new(2),
        homepage: ::expose_runtime::Col::<Signup, Option<String>>::new(3),
        age: ::expose_runtime::Col::<Signup, i32>::new(4),
        handle: ::expose_runtime::Col::<Signup, String>::new(5),
        plan: ::expose_runtime::Col::<Signup, String>::new(6),
        level: ::expose_runtime::Col::<Signup, i16>::new(7),
        score: ::expose_runtime::Col::<Signup, f64>::new(8),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/signups` and `/signups/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/signups` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
    pub fn endpoints() -> ::expose_runtime::Endpoints<Self> {
        ::expose_runtime::Endpoints::new()
    }
    /// Like `router()`, with settings such as the body size limit.
    pub fn router_with<S>(
        config: ::expose_runtime::RouterConfig,
    ) -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        ::expose_runtime::__private::router::<Self, S>(config)
    }
}
