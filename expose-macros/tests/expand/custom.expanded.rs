#[allow(dead_code)]
#[derive(serde::Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
}
/// Typed handles on the fields of [`User`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct UserFields {
    pub id: ::expose_runtime::Col<User, i64>,
    pub name: ::expose_runtime::Col<User, String>,
    pub is_admin: ::expose_runtime::Col<User, bool>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    fn __action_handlers_greet(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::Box::pin(async move {
            let row = __e::action_row(ctx)?;
            handlers::greet(row, ctx).await
        })
    }
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "name", "is_admin"],
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __RETRIEVE: __e::Operation = __e::Operation {
        fields: &["id", "name", "is_admin"],
        ..__e::Operation::of(__e::OperationKind::Retrieve)
    };
    const __ACTION_GREET: __e::Operation = __e::Operation {
        pre: &[__action_handlers_greet],
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    #[automatically_derived]
    impl __e::Exposed for User {
        type Row = User;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "User",
            path: "users",
            table: "users",
            doc: "",
            fields: &[
                __e::Field::of::<i64>("id").key(),
                __e::Field::of::<String>("name"),
                __e::Field::of::<bool>("is_admin").default_sql("FALSE"),
            ],
            operations: &[__LIST, __RETRIEVE],
            actions: &[
                __e::Action {
                    name: "greet",
                    method: "POST",
                    doc: "",
                    op: __ACTION_GREET,
                },
            ],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl User {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: UserFields = UserFields {
        id: ::expose_runtime::Col::<User, i64>::new(0),
        name: ::expose_runtime::Col::<User, String>::new(1),
        is_admin: ::expose_runtime::Col::<User, bool>::new(2),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/users` and `/users/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/users` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
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
///A further exposure of [`User`] at `/users`, with its own policies: its rows are `User`s.
#[derive(Debug, Clone, Copy)]
pub struct AdminUsers;
/// Typed handles on the fields of [`AdminUsers`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct AdminUsersFields {
    pub id: ::expose_runtime::Col<AdminUsers, i64>,
    pub name: ::expose_runtime::Col<AdminUsers, String>,
    pub is_admin: ::expose_runtime::Col<AdminUsers, bool>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    fn __scope_admins_reach(
        ctx: &__e::HookCtx,
    ) -> __e::Result<__e::Scope<()>, __e::Problem> {
        let scope: fn(&__e::HookCtx) -> __e::Result<_, __e::Problem> = admins_reach;
        let scope = __e::IntoScope::<AdminUsers>::into_scope(scope(ctx)?);
        __e::Ok(scope.erase())
    }
    fn __action_promote(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::Box::pin(async move {
            let row = __e::action_row(ctx)?;
            promote(row, ctx).await
        })
    }
    fn __hook_audit(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::hook_future(audit(ctx))
    }
    fn __action_handlers_greet(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::Box::pin(async move {
            let row = __e::action_row(ctx)?;
            handlers::greet(row, ctx).await
        })
    }
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "name", "is_admin"],
        scope: __e::Some(__scope_admins_reach),
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __UPDATE: __e::Operation = __e::Operation {
        fields: &["is_admin"],
        scope: __e::Some(__scope_admins_reach),
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    const __ACTION_PROMOTE: __e::Operation = __e::Operation {
        pre: &[__hook_audit, __action_promote],
        post: &[__hook_audit],
        scope: __e::Some(__scope_admins_reach),
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    const __ACTION_GREET: __e::Operation = __e::Operation {
        pre: &[__action_handlers_greet],
        scope: __e::Some(__scope_admins_reach),
        require_if_match: true,
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    #[automatically_derived]
    impl __e::Exposed for AdminUsers {
        type Row = User;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "AdminUsers",
            path: "users",
            table: "users",
            doc: "A further exposure of [`User`] at `/users`, with its own policies: its rows are `User`s.",
            fields: &[
                __e::Field::of::<i64>("id").key(),
                __e::Field::of::<String>("name"),
                __e::Field::of::<bool>("is_admin").default_sql("FALSE"),
            ],
            operations: &[__LIST, __UPDATE],
            actions: &[
                __e::Action {
                    name: "promote",
                    method: "PUT",
                    doc: "Make an admin",
                    op: __ACTION_PROMOTE,
                },
                __e::Action {
                    name: "greet",
                    method: "DELETE",
                    doc: "",
                    op: __ACTION_GREET,
                },
            ],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl AdminUsers {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: AdminUsersFields = AdminUsersFields {
        id: ::expose_runtime::Col::<AdminUsers, i64>::new(0),
        name: ::expose_runtime::Col::<AdminUsers, String>::new(1),
        is_admin: ::expose_runtime::Col::<AdminUsers, bool>::new(2),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/users` and `/users/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/users` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
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
