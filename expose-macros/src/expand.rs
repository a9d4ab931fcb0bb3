//! Code generation: the struct as written (minus helper attributes), a static model
//! description, and `router()`.

use crate::ast::{Field, OpKind};
use crate::attr;
use crate::check::{self, CheckedOp};
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The whole expansion; on error, the struct still comes out next to `compile_error!`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => {
            let err = e.to_compile_error();
            return quote!(#item #err);
        }
    };
    let cx = Ctxt::new();
    let attr = attr::parse_struct_attr(&cx, args);
    let rename_all = attr::rename_all(&input.attrs);
    let mut fields = Vec::new();
    let mut docs = Vec::new();
    match &mut input.data {
        syn::Data::Struct(s) => match &mut s.fields {
            syn::Fields::Named(named) => {
                for f in named.named.iter_mut() {
                    let doc = attr::doc(&f.attrs);
                    if let Some(f) = attr::parse_field(&cx, f, rename_all.as_deref()) {
                        fields.push(f);
                        docs.push(doc);
                    }
                }
            }
            other => cx.error_spanned_by(
                &*other,
                "#[expose] needs a struct with named fields, one per column",
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
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[expose] does not support generic structs: a resource maps to one table",
        );
    }
    let ops = if matches!(input.data, syn::Data::Struct(_)) {
        check::check(&cx, &attr, &fields, &input.ident)
    } else {
        Vec::new()
    };
    if cx.has_errors() {
        let err = cx.check().err().map(|e| e.to_compile_error());
        return quote!(#input #err);
    }
    if let Err(e) = cx.check() {
        let err = e.to_compile_error();
        return quote!(#input #err);
    }
    let path = attr
        .path
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let table = attr
        .table
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_else(|| path.clone());
    let doc = attr::doc(&input.attrs);
    let model = model(
        &input.ident,
        &input.vis,
        &path,
        &table,
        &fields,
        &ops,
        (&doc, &docs),
    );
    // Every field is a column the generated API reads or writes, even when no Rust code does.
    quote!(#[allow(dead_code)] #input #model)
}

fn model(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    path: &str,
    table: &str,
    fields: &[Field],
    ops: &[CheckedOp],
    (struct_doc, docs): (&str, &[String]),
) -> TokenStream {
    let rust_name = ident.to_string();
    let has_key = fields.iter().any(|f| f.key.is_some());
    let field_descs = fields.iter().zip(docs).map(|(f, doc)| {
        let ident = f.ident_str();
        let (name, column, ty) = (&f.name, &f.column, &f.ty);
        let key = f.key.is_some() || (!has_key && ident == "id");
        let generated = f.generated.is_some();
        let default = f.default;
        let version = f.version.is_some();
        // Spanned at the user's type, so an unsupported type is reported there.
        let kind = quote_spanned!(ty.span()=> <#ty as __e::FieldKind>);
        quote! {
            __e::Field {
                ident: #ident,
                name: #name,
                column: #column,
                ty: #kind::TYPE,
                nullable: #kind::NULLABLE,
                key: #key,
                generated: #generated,
                default: #default,
                version: #version,
                doc: #doc,
            }
        }
    });
    let mut glue = Vec::new();
    let mut op_slot = |kind: OpKind| {
        let Some(op) = ops.iter().find(|o| o.kind == kind) else {
            return quote!(__e::None);
        };
        let fields = &op.fields;
        let mut opts = vec![quote!(fields: &[#(#fields),*])];
        let op_name = kind.name();
        for (which, hooks) in [("pre", &op.pre), ("post", &op.post)] {
            if hooks.is_empty() {
                continue;
            }
            let names: Vec<syn::Ident> = (0..hooks.len())
                .map(|i| quote::format_ident!("__{}_{}_{}", which, op_name, i))
                .collect();
            for (name, path) in names.iter().zip(hooks) {
                let call = quote_spanned!(path.span()=> #path(ctx));
                glue.push(quote! {
                    fn #name(ctx: &mut __e::HookCtx) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
                        __e::Box::pin(#call)
                    }
                });
            }
            let slot = syn::Ident::new(which, proc_macro2::Span::call_site());
            opts.push(quote!(#slot: &[#(#names),*]));
        }
        if let Some(path) = &op.scope {
            let name = quote::format_ident!("__scope_{}", op_name);
            let call = quote_spanned!(path.span()=> #path(ctx));
            glue.push(quote! {
                fn #name(ctx: &__e::HookCtx) -> __e::Result<__e::Option<__e::Cond<()>>, __e::Problem> {
                    let scope: __e::Option<__e::Cond<#ident>> = #call?;
                    __e::Ok(scope.map(__e::Cond::erase))
                }
            });
            opts.push(quote!(scope: __e::Some(#name)));
        }
        if let Some(path) = &op.fields_for {
            let name = quote::format_ident!("__fields_for_{}", op_name);
            let call = quote_spanned!(path.span()=> #path(ctx, &mut mask));
            glue.push(quote! {
                fn #name(ctx: &__e::HookCtx, bits: &mut u64) -> __e::Result<(), __e::Problem> {
                    let mut mask = __e::FieldMask::<#ident>::from_bits(*bits);
                    #call?;
                    *bits &= mask.bits();
                    __e::Ok(())
                }
            });
            opts.push(quote!(fields_for: __e::Some(#name)));
        }
        if op.require_if_match {
            opts.push(quote!(require_if_match: true));
        }
        if !op.force.is_empty() {
            let mut entries = Vec::new();
            for (i, (field, ty, path, overwrite)) in op.force.iter().enumerate() {
                let name = quote::format_ident!("__force_{}_{}", op_name, i);
                let call = quote_spanned!(path.span()=> #path(ctx));
                glue.push(quote! {
                    fn #name(ctx: &__e::HookCtx) -> __e::Result<__e::Value, __e::Problem> {
                        let value: #ty = #call?;
                        __e::Ok(__e::Value::from(value))
                    }
                });
                let field = field.to_string();
                entries.push(
                    quote!(__e::Force { field: #field, overwrite: #overwrite, value: #name }),
                );
            }
            opts.push(quote!(force: &[#(#entries),*]));
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
        let num = |name: &str, v: Option<u64>, ty: TokenStream| {
            v.map(|v| {
                let name = syn::Ident::new(name, proc_macro2::Span::call_site());
                let lit = proc_macro2::Literal::u64_unsuffixed(v);
                let _ = ty;
                quote!(#name: #lit)
            })
        };
        opts.extend(num("default_limit", op.limit, quote!(u64)));
        opts.extend(num("max_limit", op.max_limit, quote!(u64)));
        if op.fixed_limit {
            opts.push(quote!(fixed_limit: true));
        }
        opts.extend(num("max_conditions", op.max_conditions, quote!(usize)));
        opts.extend(num("max_depth", op.max_depth, quote!(usize)));
        opts.extend(num("max_in_items", op.max_in, quote!(usize)));
        quote!(__e::Some(__e::Operation { #(#opts,)* ..__e::Operation::DEFAULT }))
    };
    let (list, retrieve, create, update, remove) = (
        op_slot(OpKind::List),
        op_slot(OpKind::Retrieve),
        op_slot(OpKind::Create),
        op_slot(OpKind::Update),
        op_slot(OpKind::Remove),
    );
    let fields_ty = quote::format_ident!("{}Fields", ident);
    let handles = fields.iter().enumerate().map(|(i, f)| {
        let (name, ty) = (&f.ident, &f.ty);
        let col = quote_spanned!(ty.span()=> ::expose_runtime::Col::<#ident, #ty>);
        quote!(#name: #col::new(#i))
    });
    let handle_fields = fields.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(pub #name: ::expose_runtime::Col<#ident, #ty>)
    });
    let fields_doc =
        format!("Typed handles on the fields of [`{ident}`], for scopes and `fields_for`.");
    let doc = format!(
        "The routes of `/{path}` and `/{path}/{{id}}`, for any state that holds a [`Db`](::expose_runtime::Db)."
    );
    quote! {
        #[automatically_derived]
        #[allow(unused_qualifications, clippy::all, clippy::pedantic)]
        #[doc = #fields_doc]
        #[allow(dead_code)]
        #vis struct #fields_ty {
            #(#handle_fields,)*
        }
        #[automatically_derived]
        #[allow(unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            use ::expose_runtime::__private as __e;
            #(#glue)*
            impl __e::Exposed for #ident {
                const MODEL: &'static __e::Model = &__e::Model {
                    rust_name: #rust_name,
                    path: #path,
                    table: #table,
                    doc: #struct_doc,
                    fields: &[#(#field_descs),*],
                    list: #list,
                    retrieve: #retrieve,
                    create: #create,
                    update: #update,
                    remove: #remove,
                };
            }
        };
        #[automatically_derived]
        #[allow(unused_qualifications, clippy::all, clippy::pedantic)]
        impl #ident {
            /// Typed handles on the fields, for scopes and `fields_for`.
            pub const FIELDS: #fields_ty = #fields_ty { #(#handles,)* };

            #[doc = #doc]
            pub fn router<S>() -> ::expose_runtime::__private::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
                ::expose_runtime::Db: ::expose_runtime::__private::FromRef<S>,
            {
                Self::router_with(::core::default::Default::default())
            }

            /// Like `router()`, with settings such as the body size limit.
            pub fn router_with<S>(config: ::expose_runtime::RouterConfig) -> ::expose_runtime::__private::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
                ::expose_runtime::Db: ::expose_runtime::__private::FromRef<S>,
            {
                ::expose_runtime::__private::router(
                    <Self as ::expose_runtime::__private::Exposed>::MODEL,
                    config,
                )
            }
        }
    }
}
