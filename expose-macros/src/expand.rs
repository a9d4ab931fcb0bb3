//! Code generation: the struct as written (minus helper attributes), a static model
//! description, typed field handles and `router()`.
//!
//! The emitted code is metadata: field names, types and policies, plus one small adapter per
//! user function (hook, scope, `fields_for`, forced value), each spanned at the function's
//! path in the attribute so that rustc reports a missing or mistyped function there.

use crate::ast::{Field, OperationKind};
use crate::attr;
use crate::check::{self, CheckedAction, CheckedOp};
use crate::ctxt::Ctxt;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// The whole expansion. On error the struct still comes out, next to `compile_error!` and a
/// model with no operations, so uses of `router()` and `FIELDS` elsewhere do not cascade.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => return not_a_struct(item),
    };
    let cx = Ctxt::new();
    let further = further_exposures(&cx, &mut input.attrs);
    let attr = attr::parse_struct_attr(&cx, args);
    if let Some(v) = &attr.view {
        cx.error_spanned_by(
            v,
            "`view` names the type of a further exposure of the struct; the first #[expose] is the \
             struct's own: remove `view` here, and give it on the second #[expose]",
        );
    }
    let rename_all = attr::rename_all(&input.attrs);
    let mut fields = Vec::new();
    let mut named = false;
    match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(n) => {
                named = true;
                for f in &n.named {
                    fields.extend(attr::parse_field(&cx, f, rename_all.as_deref()));
                }
            }
            syn::Fields::Unnamed(u) => cx.error_spanned_by(
                u,
                "#[expose] needs named fields, one per column: write `struct Name { id: i64, ... }`",
            ),
            syn::Fields::Unit => cx.error_spanned_by(
                &input.ident,
                "#[expose] needs named fields, one per column: write `struct Name { id: i64, ... }`",
            ),
        },
        syn::Data::Enum(e) => cx.error_spanned_by(
            e.enum_token,
            "#[expose] applies to structs with named fields, not enums",
        ),
        syn::Data::Union(u) => cx.error_spanned_by(
            u.union_token,
            "#[expose] applies to structs with named fields, not unions",
        ),
    }
    strip_helper_attrs(&mut input.data);
    let generic = !input.generics.params.is_empty() || input.generics.where_clause.is_some();
    if generic {
        cx.error_spanned_by(
            &input.generics,
            "#[expose] does not support generic structs: a resource maps to one table; remove the parameters",
        );
    }
    let ops = if named {
        check::check(&cx, &attr, &fields, &input.ident)
    } else {
        Vec::new()
    };
    let actions = check::check_actions(&cx, &attr);
    // Each further `#[expose(view = AdminUsers, ...)]`: its own attribute, checked alike.
    let views: Vec<(syn::Ident, attr::ParsedView)> = further
        .into_iter()
        .filter_map(|(at, args)| {
            let attr = attr::parse_struct_attr(&cx, args);
            let Some(view) = attr.view.clone() else {
                cx.error_spanned_by(at, SECOND_WITHOUT_VIEW);
                return None;
            };
            let ops = if named {
                check::check(&cx, &attr, &fields, &view)
            } else {
                Vec::new()
            };
            let actions = check::check_actions(&cx, &attr);
            Some((view, (attr, ops, actions)))
        })
        .collect();
    let doc = attr::doc(&input.attrs);
    let path_of = |attr: &crate::ast::Attr| {
        let path = attr
            .path
            .as_ref()
            .map(syn::LitStr::value)
            .unwrap_or_default();
        let table = attr
            .table
            .as_ref()
            .map_or_else(|| path.clone(), syn::LitStr::value);
        (path, table)
    };
    let (path, table) = path_of(&attr);
    match cx.check() {
        Ok(()) => {
            let mut out = model(
                &input,
                None,
                &path,
                &table,
                &doc,
                &fields,
                (&ops, &actions),
                attr.validate.as_ref(),
                true,
                attr.state.as_ref(),
            );
            for (view, (attr, ops, actions)) in &views {
                let (path, table) = path_of(attr);
                let view_doc = format!(
                    "A further exposure of [`{}`] at `/{path}`, with its own policies: its rows are `{}`s.",
                    input.ident, input.ident
                );
                out.extend(model(
                    &input,
                    Some(view),
                    &path,
                    &table,
                    &view_doc,
                    &fields,
                    (ops, actions),
                    attr.validate.as_ref(),
                    true,
                    attr.state.as_ref(),
                ));
            }
            out
        }
        Err(e) => {
            let err = e.to_compile_error();
            if named && !generic {
                // Same items, no operations and no adapters: nothing more to report.
                let mut stub = model(
                    &input,
                    None,
                    &path,
                    &table,
                    &doc,
                    &fields,
                    (&[], &[]),
                    None,
                    false,
                    None,
                );
                for (view, _) in &views {
                    stub.extend(model(
                        &input,
                        Some(view),
                        "",
                        "",
                        "",
                        &fields,
                        (&[], &[]),
                        None,
                        false,
                        None,
                    ));
                }
                quote!(#err #stub)
            } else {
                quote!(#err #input)
            }
        }
    }
}

/// The item is not a struct, enum or union: it comes back as written, with the error at its
/// name (or keyword).
fn not_a_struct(item: TokenStream) -> TokenStream {
    let msg = "#[expose] applies to structs with named fields";
    let err = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => syn::Error::new_spanned(&f.sig.ident, msg),
        Ok(syn::Item::Impl(i)) => syn::Error::new_spanned(i.impl_token, msg),
        Ok(syn::Item::Trait(t)) => syn::Error::new_spanned(&t.ident, msg),
        Ok(syn::Item::Mod(m)) => syn::Error::new_spanned(&m.ident, msg),
        Ok(syn::Item::Type(t)) => syn::Error::new_spanned(&t.ident, msg),
        Ok(syn::Item::Const(c)) => syn::Error::new_spanned(&c.ident, msg),
        Ok(syn::Item::Static(s)) => syn::Error::new_spanned(&s.ident, msg),
        Ok(_) => syn::Error::new(Span::call_site(), msg),
        Err(e) => e,
    }
    .to_compile_error();
    quote!(#err #item)
}

/// What a further `#[expose]` without `view` is told.
const SECOND_WITHOUT_VIEW: &str = "a further exposure of this struct names the type it generates: write \
    #[expose(view = AdminUsers, as = \"users\", ...)] with this exposure's own policies; `AdminUsers` \
    gets its own router, endpoints and FIELDS, with rows of this struct. Mount it under a prefix \
    (`Router::nest(\"/admin\", AdminUsers::router())`); to serve the same operations at another path, \
    route `Type::endpoints().list()` (and the others) there instead";

/// The further `#[expose(...)]` attributes of the struct (each a `view`), taken off it so
/// that none expands into a second model of the struct itself (a cascade of errors).
fn further_exposures(
    cx: &Ctxt,
    attrs: &mut Vec<syn::Attribute>,
) -> Vec<(syn::Attribute, TokenStream)> {
    let is_expose = |a: &syn::Attribute| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "expose")
            && matches!(a.style, syn::AttrStyle::Outer)
    };
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| is_expose(a)) {
        match a.meta.require_list() {
            Ok(list) => out.push((a.clone(), list.tokens.clone())),
            Err(_) => cx.error_spanned_by(a, SECOND_WITHOUT_VIEW),
        }
    }
    attrs.retain(|a| !is_expose(a));
    out
}

/// Removes `#[expose(...)]` from every field, whatever the item's shape (rust-lang/rust#65823).
fn strip_helper_attrs(data: &mut syn::Data) {
    let strip = |fields: &mut syn::Fields| {
        for f in fields.iter_mut() {
            f.attrs.retain(|a| !a.path().is_ident("expose"));
        }
    };
    match data {
        syn::Data::Struct(s) => strip(&mut s.fields),
        syn::Data::Enum(e) => e.variants.iter_mut().for_each(|v| strip(&mut v.fields)),
        syn::Data::Union(u) => u
            .fields
            .named
            .iter_mut()
            .for_each(|f| f.attrs.retain(|a| !a.path().is_ident("expose"))),
    }
}

/// The adapters of user functions, one per distinct function (and forced field).
#[derive(Default)]
struct Glue {
    /// (what and path as written, adapter name)
    names: Vec<(String, syn::Ident)>,
    items: Vec<TokenStream>,
}

impl Glue {
    /// The adapter for `key`, made by `make` the first time; named `__{prefix}_{path}`.
    fn get(
        &mut self,
        prefix: &str,
        path: &syn::Path,
        make: impl FnOnce(&syn::Ident) -> TokenStream,
    ) -> syn::Ident {
        let key = format!("{prefix} {}", path.to_token_stream());
        if let Some((_, name)) = self.names.iter().find(|(k, _)| *k == key) {
            return name.clone();
        }
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|s| {
                let s = s.ident.to_string();
                s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
            })
            .collect();
        let mut name = format_ident!("__{}_{}", prefix, segments.join("_"));
        let mut n = 1u32;
        while self.names.iter().any(|(_, used)| *used == name) {
            n += 1;
            name = format_ident!("__{}_{}_{}", prefix, segments.join("_"), n);
        }
        self.items.push(make(&name));
        self.names.push((key, name.clone()));
        name
    }
}

#[allow(clippy::too_many_arguments)]
fn model(
    input: &syn::DeriveInput,
    view: Option<&syn::Ident>,
    path: &str,
    table: &str,
    struct_doc: &str,
    fields: &[Field],
    (ops, actions): (&[CheckedOp], &[CheckedAction]),
    attr_validate: Option<&syn::Path>,
    with_rules: bool,
    state: Option<&syn::Type>,
) -> TokenStream {
    let (row, vis) = (&input.ident, &input.vis);
    // A view is a marker type implementing the model for rows of the struct.
    let ident = view.unwrap_or(row);
    let item = match view {
        None => quote! {
            // Every field is a column the generated API reads or writes, even when no Rust code does.
            #[allow(dead_code)]
            #input
        },
        Some(v) => quote! {
            #[doc = #struct_doc]
            #[derive(Debug, Clone, Copy)]
            #vis struct #v;
        },
    };
    let rust_name = ident.to_string();
    let has_key = fields.iter().any(|f| f.key.is_some());
    let field_descs = fields.iter().map(|f| {
        let rust = f.ident_str();
        let ty = &f.ty;
        // Spanned at the user's type, so an unsupported type is reported there.
        let mut desc = quote_spanned!(ty.span()=> __e::Field::of::<#ty>(#rust));
        if f.name != rust {
            let name = &f.name;
            desc.extend(quote!(.name(#name)));
        }
        if f.column != rust {
            let column = &f.column;
            desc.extend(quote!(.column(#column)));
        }
        if f.key.is_some() || (!has_key && rust == "id") {
            desc.extend(quote!(.key()));
        }
        if f.generated.is_some() {
            desc.extend(quote!(.generated()));
        }
        match (&f.default_sql, f.default) {
            (Some(sql), _) => desc.extend(quote!(.default_sql(#sql))),
            (None, true) => desc.extend(quote!(.default())),
            (None, false) => {}
        }
        if let Some(r) = &f.references {
            desc.extend(quote!(.references(#r)));
        }
        if let Some(path) = &f.generate {
            // Spanned at the user's path, so a missing or mistyped function is reported there.
            let make = quote_spanned!(path.span()=> let make: fn() -> #ty = #path;);
            desc.extend(quote!(.generate({
                fn generate() -> __e::Value {
                    #make
                    __e::Value::from(make())
                }
                generate
            })));
        }
        if f.version.is_some() {
            desc.extend(quote!(.version()));
        }
        if f.unique.is_some() {
            desc.extend(quote!(.unique()));
        }
        if !f.doc.is_empty() {
            let doc = &f.doc;
            desc.extend(quote!(.doc(#doc)));
        }
        if let Some(first) = f.rules.first().filter(|_| with_rules) {
            let rules = f.rules.iter().map(rule);
            // Spanned at the first rule: a rule the runtime finds not to fit the type (one
            // `check` could not read) fails the model's evaluation there.
            desc.extend(quote_spanned!(first.ident.span()=> .rules(&[#(#rules),*])));
        }
        desc
    });
    let mut glue = Glue::default();
    // One `const` per operation, named after it, so that the table reads as a list of names.
    let (op_names, op_consts): (Vec<Ident>, Vec<TokenStream>) = OperationKind::ALL
        .iter()
        .filter_map(|kind| ops.iter().find(|o| o.kind == *kind))
        .map(|op| {
            let variant = format!("{:?}", op.kind);
            let name = format_ident!("__{}", variant.to_uppercase());
            let kind = Ident::new(&variant, Span::call_site());
            let base = quote!(__e::Operation::of(__e::OperationKind::#kind));
            let opts = operation(op, ident, &mut glue, None);
            let value = match opts.is_empty() {
                true => base,
                false => quote!(__e::Operation { #(#opts,)* ..#base }),
            };
            (name.clone(), quote!(const #name: __e::Operation = #value;))
        })
        .unzip();
    let relations: Vec<TokenStream> = fields
        .iter()
        .filter_map(|f| {
            let path = f.references_model.as_ref()?;
            let target = model_fn(path, &mut glue);
            let key_ty = unoptioned(&f.ty);
            let field = f.ident_str();
            let check = quote_spanned!(path.span()=> __e::same_key::<#path, #key_ty>());
            Some(quote!({
                const _: () = #check;
                __e::Relation { field: #field, target: #target }
            }))
        })
        .collect();
    // What `embed(T(through = ThisModel))` checks: each model referenced, once.
    let mut referenced: Vec<String> = Vec::new();
    let reference_impls: Vec<TokenStream> = fields
        .iter()
        .filter_map(|f| f.references_model.as_ref())
        .filter(|p| {
            let name = p.to_token_stream().to_string();
            !referenced.contains(&name) && {
                referenced.push(name);
                true
            }
        })
        .map(|p| quote!(impl __e::References<#p> for #ident {}))
        .collect();
    let key_ty = fields
        .iter()
        .find(|f| f.key.is_some())
        .or_else(|| fields.iter().find(|f| f.ident_str() == "id"))
        .map_or_else(|| quote!(()), |f| f.ty.to_token_stream());
    // One `const` per action (the update it runs), and its entry in the model's table.
    let (action_consts, action_entries): (Vec<TokenStream>, Vec<TokenStream>) = actions
        .iter()
        .map(|a| {
            let run = action_glue(a, &mut glue);
            let name = format_ident!("__ACTION_{}", a.name.to_uppercase());
            let opts = operation(&a.op, ident, &mut glue, Some(&run));
            let value = quote!(__e::Operation { #(#opts,)* ..__e::Operation::of(__e::OperationKind::Update) });
            let (segment, method, doc) = (&a.name, &a.method, &a.doc);
            (
                quote!(const #name: __e::Operation = #value;),
                quote!(__e::Action { name: #segment, method: #method, doc: #doc, op: #name }),
            )
        })
        .unzip();
    let validate = match &attr_validate {
        Some(path) => {
            let name = glue.get("validate", path, |name| {
                let f = quote_spanned!(path.span()=>
                    let validate: fn(&__e::Input) -> __e::Result<(), __e::FieldErrors> = #path;
                );
                quote! {
                    fn #name(input: &__e::Input) -> __e::Result<(), __e::FieldErrors> {
                        #f
                        validate(input)
                    }
                }
            });
            quote!(__e::Some(#name))
        }
        None => quote!(__e::None),
    };
    let glue = glue.items;
    let fields_ty = format_ident!("{}Fields", ident);
    let handle_fields = fields.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(pub #name: ::expose_runtime::Col<#ident, #ty>)
    });
    let handles = fields.iter().enumerate().map(|(i, f)| {
        let (name, ty) = (&f.ident, &f.ty);
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        let col = quote_spanned!(ty.span()=> ::expose_runtime::Col::<#ident, #ty>);
        quote!(#name: #col::new(#i))
    });
    let fields_doc =
        format!(" Typed handles on the fields of [`{ident}`], for scopes and `fields_for`.");
    let state_bound = state_bound(state);
    let router_doc = format!(
        " The routes of `/{path}` and `/{path}/{{id}}`, for any state that holds a [`Db`](::expose_runtime::Db)."
    );
    let endpoints_doc = format!(
        " The operations of `/{path}` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers."
    );
    quote! {
        #item
        #[doc = #fields_doc]
        #[allow(dead_code, missing_docs, unused_qualifications)]
        #vis struct #fields_ty {
            #(#handle_fields,)*
        }
        #[allow(unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            use ::expose_runtime::__private as __e;
            #(#glue)*
            #(#op_consts)*
            #(#action_consts)*
            #(#reference_impls)*
            #[automatically_derived]
            impl __e::Exposed for #ident {
                type Row = #row;
                type Key = #key_ty;
                const MODEL: &'static __e::Model = &__e::Model {
                    rust_name: #rust_name,
                    path: #path,
                    table: #table,
                    doc: #struct_doc,
                    fields: &[#(#field_descs),*],
                    operations: &[#(#op_names),*],
                    actions: &[#(#action_entries),*],
                    validate: #validate,
                    relations: &[#(#relations),*],
                };
            }
        };
        #[automatically_derived]
        #[allow(unused_qualifications, clippy::all, clippy::pedantic)]
        impl #ident {
            /// Typed handles on the fields, for scopes and `fields_for`.
            pub const FIELDS: #fields_ty = #fields_ty { #(#handles,)* };

            /// The model's description, for [`verify`](::expose_runtime::verify()) and
            /// [`create_table`](::expose_runtime::Model::create_table).
            pub const MODEL: &'static ::expose_runtime::Model =
                <Self as ::expose_runtime::Exposed>::MODEL;

            #[doc = #router_doc]
            pub fn router<S>() -> ::expose_runtime::__private::Router<S>
            where
                S: ::expose_runtime::DbState,
                #state_bound
            {
                Self::router_with(::core::default::Default::default())
            }

            #[doc = #endpoints_doc]
            pub fn endpoints() -> ::expose_runtime::Endpoints<Self> {
                ::expose_runtime::Endpoints::new()
            }

            /// Like `router()`, with settings such as the body size limit.
            pub fn router_with<S>(config: ::expose_runtime::RouterConfig) -> ::expose_runtime::__private::Router<S>
            where
                S: ::expose_runtime::DbState,
                #state_bound
            {
                ::expose_runtime::__private::router::<Self, S>(config)
            }
        }
    }
}

/// The adapter of an action's function: the row it loaded, as the type the function takes
/// (the model, deserialized), and the hook context. Spanned at the function's path, so that
/// a missing or mistyped function (or a row type without `Deserialize`) is reported there.
fn action_glue(a: &CheckedAction, glue: &mut Glue) -> syn::Ident {
    let path = &a.func;
    glue.get("action", path, |name| {
        let call = quote_spanned!(path.span()=>
            let row = __e::action_row(ctx)?;
            #path(row, ctx).await
        );
        quote! {
            fn #name(ctx: &mut __e::HookCtx) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
                __e::Box::pin(async move { #call })
            }
        }
    })
}

/// The non-default options of one operation, as `name: value` pairs of `Operation`; an
/// action's adapter (`run`) ends its `pre` hooks.
fn operation(
    op: &CheckedOp,
    model: &syn::Ident,
    glue: &mut Glue,
    run: Option<&syn::Ident>,
) -> Vec<TokenStream> {
    let mut opts = Vec::new();
    if !op.fields.is_empty() {
        let fields = &op.fields;
        opts.push(quote!(fields: &[#(#fields),*]));
    }
    if let Some(f) = &op.filterable {
        opts.push(quote!(filterable: __e::Some(&[#(#f),*])));
    }
    if let Some(s) = &op.sortable {
        opts.push(quote!(sortable: __e::Some(&[#(#s),*])));
    }
    if let Some(o) = &op.order {
        opts.push(quote!(default_order: #o));
    }
    if op.fixed_order {
        opts.push(quote!(fixed_order: true));
    }
    if !op.wheres.is_empty() {
        let w = &op.wheres;
        opts.push(quote!(forced_filters: &[#(#w),*]));
    }
    let nums = [
        ("default_limit", op.limit),
        ("max_limit", op.max_limit),
        ("max_conditions", op.max_conditions),
        ("max_depth", op.max_depth),
        ("max_in_items", op.max_in),
        ("max_rows", op.max_rows),
        ("max_affected", op.max_affected),
        ("embed_depth", op.embed_depth),
        ("embed_rows", op.embed_rows),
    ];
    for (name, value) in nums {
        if let Some(v) = value {
            let name = syn::Ident::new(name, Span::call_site());
            let v = proc_macro2::Literal::u64_unsuffixed(v);
            opts.push(quote!(#name: #v));
        }
    }
    if op.fixed_limit {
        opts.push(quote!(fixed_limit: true));
    }
    for (which, hooks) in [("pre", &op.pre), ("post", &op.post)] {
        let tail = run.filter(|_| which == "pre");
        if hooks.is_empty() && tail.is_none() {
            continue;
        }
        let names = hooks.iter().map(|path| {
            glue.get("hook", path, |name| {
                let call = quote_spanned!(path.span()=> __e::hook_future(#path(ctx)));
                quote! {
                    fn #name(ctx: &mut __e::HookCtx) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
                        #call
                    }
                }
            })
        });
        let names: Vec<syn::Ident> = names.chain(tail.cloned()).collect();
        let which = syn::Ident::new(which, Span::call_site());
        opts.push(quote!(#which: &[#(#names),*]));
    }
    if let Some(path) = &op.scope {
        opts.push(scope_glue(path, model, glue));
    }
    if let Some(path) = &op.fields_for {
        let name = glue.get("fields_for", path, |name| {
            let f = quote_spanned!(path.span()=>
                let fields_for: fn(&__e::HookCtx, &mut __e::FieldMask<#model>) -> __e::Result<(), __e::Problem> = #path;
            );
            quote! {
                fn #name(ctx: &__e::HookCtx, bits: &mut u64) -> __e::Result<(), __e::Problem> {
                    #f
                    let mut mask = __e::FieldMask::from_bits(*bits);
                    fields_for(ctx, &mut mask)?;
                    *bits &= mask.bits();
                    __e::Ok(())
                }
            }
        });
        opts.push(quote!(fields_for: __e::Some(#name)));
    }
    if !op.force.is_empty() {
        let entries = op.force.iter().map(|(field, ty, path, overwrite)| {
            let prefix = format!("force_{}", field.to_string().trim_start_matches("r#"));
            let name = glue.get(&prefix, path, |name| {
                let f = quote_spanned!(path.span()=>
                    let force: fn(&__e::HookCtx) -> __e::Result<#ty, __e::Problem> = #path;
                );
                quote! {
                    fn #name(ctx: &__e::HookCtx) -> __e::Result<__e::Value, __e::Problem> {
                        #f
                        force(ctx).map(__e::Value::from)
                    }
                }
            });
            let field = field.to_string();
            let field = field.trim_start_matches("r#");
            quote!(__e::Force { field: #field, overwrite: #overwrite, value: #name })
        });
        opts.push(quote!(force: &[#(#entries),*]));
    }
    if op.require_if_match {
        opts.push(quote!(require_if_match: true));
    }
    if op.unfiltered {
        opts.push(quote!(unfiltered: true));
    }
    if op.upsert {
        opts.push(quote!(upsert: true));
    }
    let direct: Vec<&syn::Path> = op
        .embed
        .iter()
        .filter(|e| e.through.is_none())
        .map(|e| &e.model)
        .collect();
    if !direct.is_empty() {
        let names = direct.iter().map(|path| model_fn(path, glue));
        opts.push(quote!(embed: &[#(#names),*]));
    }
    let through: Vec<TokenStream> = op
        .embed
        .iter()
        .filter_map(|e| {
            let join = e.through.as_ref()?;
            let path = &e.model;
            let (target, join_fn) = (model_fn(path, glue), model_fn(join, glue));
            // Spanned at the join model: it must be exposed and reference both sides.
            let check = quote_spanned!(join.span()=> __e::joins::<#model, #path, #join>());
            Some(quote!({
                const _: () = #check;
                __e::Through { target: #target, join: #join_fn }
            }))
        })
        .collect();
    if !through.is_empty() {
        opts.push(quote!(embed_through: &[#(#through),*]));
    }
    opts
}

/// A function giving the model of an exposed struct (`embed(User)`, `references = User`),
/// spanned at its path, so that a struct without `#[expose]` is reported there.
fn model_fn(path: &syn::Path, glue: &mut Glue) -> Ident {
    glue.get("model", path, |name| {
        let model = quote_spanned!(path.span()=> <#path as __e::Exposed>::MODEL);
        quote! {
            fn #name() -> &'static __e::Model {
                #model
            }
        }
    })
}

/// `T` of `Option<T>`, else the type itself.
fn unoptioned(ty: &syn::Type) -> &syn::Type {
    if let syn::Type::Path(p) = ty {
        if let Some(last) = p.path.segments.last() {
            if last.ident == "Option" {
                if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                    if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                        return inner;
                    }
                }
            }
        }
    }
    ty
}

/// One rule of a field, as a `Rule` value.
fn rule(r: &crate::ast::Rule) -> TokenStream {
    use crate::ast::{ChoiceLit, NumLit, RuleKind};
    let opt = |v: Option<TokenStream>| match v {
        Some(v) => quote!(__e::Some(#v)),
        None => quote!(__e::None),
    };
    let num = |n: &Option<Box<(NumLit, syn::Expr)>>| {
        opt(n.as_ref().map(|b| match b.0 {
            NumLit::Int(i) => {
                let i = proc_macro2::Literal::i64_suffixed(i as i64);
                quote!(__e::Num::Int(#i))
            }
            NumLit::Float(x) => {
                // Refused by `check` when not finite; never emitted so.
                let x = proc_macro2::Literal::f64_suffixed(if x.is_finite() { x } else { 0.0 });
                quote!(__e::Num::Float(#x))
            }
        }))
    };
    let len = |l: &Option<syn::LitInt>| {
        opt(l.as_ref().map(|l| {
            let v = proc_macro2::Literal::u64_suffixed(l.base10_parse::<u64>().unwrap_or(0));
            quote!(#v)
        }))
    };
    match &r.kind {
        RuleKind::Length { min, max } => {
            let (min, max) = (len(min), len(max));
            quote!(__e::Rule::Length { min: #min, max: #max })
        }
        RuleKind::NonEmpty => quote!(__e::Rule::NonEmpty),
        RuleKind::Email => quote!(__e::Rule::Email),
        RuleKind::Url => quote!(__e::Rule::Url),
        RuleKind::Range { min, max } => {
            let (min, max) = (num(min), num(max));
            quote!(__e::Rule::Range { min: #min, max: #max })
        }
        RuleKind::Pattern(p) => quote!(__e::Rule::Pattern(#p)),
        RuleKind::OneOf(choices) => {
            let items = choices.iter().map(|(c, _)| match c {
                ChoiceLit::Text(t) => quote!(__e::Choice::Text(#t)),
                ChoiceLit::Int(i) => {
                    let i = proc_macro2::Literal::i64_suffixed(*i as i64);
                    quote!(__e::Choice::Int(#i))
                }
                // Refused by `check`; never emitted.
                ChoiceLit::Other => quote!(__e::Choice::Int(0i64)),
            });
            quote!(__e::Rule::OneOf(&[#(#items),*]))
        }
    }
}

/// The `scope:` option: the user's function adapted to return the erased `Scope<()>`. It may
/// return `Option<Cond<M>>`, `Cond<M>` or `Scope<M>` (the runtime's `IntoScope`), in a
/// `Result<_, Problem>`.
fn scope_glue(path: &syn::Path, model: &syn::Ident, glue: &mut Glue) -> TokenStream {
    let name = glue.get("scope", path, |name| {
        let f = quote_spanned!(path.span()=>
            let scope: fn(&__e::HookCtx) -> __e::Result<_, __e::Problem> = #path;
            let scope = __e::IntoScope::<#model>::into_scope(scope(ctx)?);
        );
        quote! {
            fn #name(ctx: &__e::HookCtx) -> __e::Result<__e::Scope<()>, __e::Problem> {
                #f
                __e::Ok(scope.erase())
            }
        }
    });
    quote!(scope: __e::Some(#name))
}

/// `state = AppState`: the bound on `router()` that checks, at compile time, that the router
/// is served with that state, so that the hooks' `ctx.state::<AppState>()` finds it.
fn state_bound(state: Option<&syn::Type>) -> TokenStream {
    match state {
        Some(ty) => quote_spanned!(ty.span()=> S: ::expose_runtime::StateIs<#ty>,),
        None => TokenStream::new(),
    }
}
