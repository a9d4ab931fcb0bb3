#[allow(dead_code)]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: uuid::Uuid,
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub created_at: chrono::NaiveDate,
}
/// Typed handles on the fields of [`Account`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct AccountFields {
    pub id: ::expose_runtime::Col<Account, uuid::Uuid>,
    pub display_name: ::expose_runtime::Col<Account, String>,
    pub created_at: ::expose_runtime::Col<Account, chrono::NaiveDate>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "display_name", "created_at"],
        sortable: __e::Some(&["created_at"]),
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __RETRIEVE: __e::Operation = __e::Operation {
        fields: &["id", "display_name", "created_at"],
        ..__e::Operation::of(__e::OperationKind::Retrieve)
    };
    #[automatically_derived]
    impl __e::Exposed for Account {
        type Row = Account;
        type Key = uuid::Uuid;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Account",
            path: "accounts",
            table: "account",
            doc: "",
            fields: &[
                __e::Field::of::<uuid::Uuid>("id").column("account_id").key(),
                __e::Field::of::<String>("display_name").name("displayName"),
                __e::Field::of::<chrono::NaiveDate>("created_at").name("createdAt"),
            ],
            operations: &[__LIST, __RETRIEVE],
            actions: &[],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl Account {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: AccountFields = AccountFields {
        id: ::expose_runtime::Col::<Account, uuid::Uuid>::new(0),
        display_name: ::expose_runtime::Col::<Account, String>::new(1),
        created_at: ::expose_runtime::Col::<Account, chrono::NaiveDate>::new(2),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/accounts` and `/accounts/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/accounts` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
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
