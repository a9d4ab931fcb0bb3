#[allow(dead_code)]
/// A contact, exposed at `/contacts`.
pub struct Contact {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub team: Option<String>,
    pub token: Option<String>,
    pub archived: bool,
}
/// Typed handles on the fields of [`Contact`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct ContactFields {
    pub id: ::expose_runtime::Col<Contact, i64>,
    pub email: ::expose_runtime::Col<Contact, String>,
    pub name: ::expose_runtime::Col<Contact, String>,
    pub team: ::expose_runtime::Col<Contact, Option<String>>,
    pub token: ::expose_runtime::Col<Contact, Option<String>>,
    pub archived: ::expose_runtime::Col<Contact, bool>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "email", "name", "team", "archived"],
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __CREATE: __e::Operation = __e::Operation {
        fields: &["email", "name", "team", "archived"],
        max_rows: 500,
        upsert: true,
        ..__e::Operation::of(__e::OperationKind::Create)
    };
    const __UPDATE: __e::Operation = __e::Operation {
        fields: &["email", "name", "team", "archived"],
        filterable: __e::Some(&["id", "email", "team"]),
        forced_filters: &["archived.is.false"],
        max_affected: 50,
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    const __REMOVE: __e::Operation = __e::Operation {
        filterable: __e::Some(&["id", "email", "team", "archived"]),
        max_affected: 10000,
        unfiltered: true,
        ..__e::Operation::of(__e::OperationKind::Remove)
    };
    const __REPLACE: __e::Operation = __e::Operation {
        fields: &["email", "name", "team", "archived"],
        forced_filters: &["archived.is.false"],
        ..__e::Operation::of(__e::OperationKind::Replace)
    };
    #[automatically_derived]
    impl __e::Exposed for Contact {
        type Row = Contact;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Contact",
            path: "contacts",
            table: "contacts",
            doc: "A contact, exposed at `/contacts`.",
            fields: &[
                __e::Field::of::<i64>("id").key().generated(),
                __e::Field::of::<String>("email").unique(),
                __e::Field::of::<String>("name"),
                __e::Field::of::<Option<String>>("team"),
                __e::Field::of::<Option<String>>("token"),
                __e::Field::of::<bool>("archived").default(),
            ],
            operations: &[__LIST, __CREATE, __UPDATE, __REMOVE, __REPLACE],
            actions: &[],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl Contact {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: ContactFields = ContactFields {
        id: ::expose_runtime::Col::<Contact, i64>::new(0),
        email: ::expose_runtime::Col::<Contact, String>::new(1),
        name: ::expose_runtime::Col::<Contact, String>::new(2),
        team: ::expose_runtime::Col::<Contact, Option<String>>::new(3),
        token: ::expose_runtime::Col::<Contact, Option<String>>::new(4),
        archived: ::expose_runtime::Col::<Contact, bool>::new(5),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/contacts` and `/contacts/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/contacts` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
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
