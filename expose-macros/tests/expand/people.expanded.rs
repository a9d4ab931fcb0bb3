#[allow(dead_code)]
/// A person, exposed at `/people`.
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub password: String,
    pub age: i32,
    pub is_admin: bool,
    pub bio: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}
/// Typed handles on the fields of [`Person`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct PersonFields {
    pub id: ::expose_runtime::Col<Person, i64>,
    pub name: ::expose_runtime::Col<Person, String>,
    pub email: ::expose_runtime::Col<Person, String>,
    pub password: ::expose_runtime::Col<Person, String>,
    pub age: ::expose_runtime::Col<Person, i32>,
    pub is_admin: ::expose_runtime::Col<Person, bool>,
    pub bio: ::expose_runtime::Col<Person, Option<String>>,
    pub created_at: ::expose_runtime::Col<Person, chrono::DateTime<chrono::Utc>>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "name", "email", "age", "is_admin", "bio", "created_at"],
        filterable: __e::Some(
            &["id", "name", "email", "age", "is_admin", "bio", "created_at"],
        ),
        sortable: __e::Some(&["id", "name", "age", "bio", "created_at"]),
        default_order: "id",
        default_limit: 100,
        max_limit: 1000,
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __RETRIEVE: __e::Operation = __e::Operation {
        fields: &["id", "name", "email", "age", "is_admin", "bio", "created_at"],
        ..__e::Operation::of(__e::OperationKind::Retrieve)
    };
    const __CREATE: __e::Operation = __e::Operation {
        fields: &["name", "email", "password", "age", "bio"],
        ..__e::Operation::of(__e::OperationKind::Create)
    };
    const __UPDATE: __e::Operation = __e::Operation {
        fields: &["name", "email", "password", "age", "bio"],
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    const __REMOVE: __e::Operation = __e::Operation::of(__e::OperationKind::Remove);
    #[automatically_derived]
    impl __e::Exposed for Person {
        type Row = Person;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Person",
            path: "people",
            table: "people",
            doc: "A person, exposed at `/people`.",
            fields: &[
                __e::Field::of::<i64>("id").key().generated(),
                __e::Field::of::<String>("name"),
                __e::Field::of::<String>("email"),
                __e::Field::of::<String>("password"),
                __e::Field::of::<i32>("age"),
                __e::Field::of::<bool>("is_admin").default(),
                __e::Field::of::<Option<String>>("bio"),
                __e::Field::of::<chrono::DateTime<chrono::Utc>>("created_at").generated(),
            ],
            operations: &[__LIST, __RETRIEVE, __CREATE, __UPDATE, __REMOVE],
            actions: &[],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl Person {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: PersonFields = PersonFields {
        id: ::expose_runtime::Col::<Person, i64>::new(0),
        name: ::expose_runtime::Col::<Person, String>::new(1),
        email: ::expose_runtime::Col::<Person, String>::new(2),
        password: ::expose_runtime::Col::<Person, String>::new(3),
        age: ::expose_runtime::Col::<Person, i32>::new(4),
        is_admin: ::expose_runtime::Col::<Person, bool>::new(5),
        bio: ::expose_runtime::Col::<Person, Option<String>>::new(6),
        created_at: ::expose_runtime::Col::<
            Person,
            chrono::DateTime<chrono::Utc>,
        >::new(7),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/people` and `/people/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/people` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
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
