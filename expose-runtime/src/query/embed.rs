//! Embedded resources of a read (`select=title,users(name)`): each relation found from the
//! two models' references, and checked against the embedded model's own list policy as the
//! caller meets it reading that model directly (readable fields, `fields_for`, scope,
//! `where`), so that an embed never shows more than a direct read.

use super::grammar::{self, EmbedParam, EmbedParamKind};
use super::plan::{order_key, type_expr, Names};
use crate::field::FieldSet;
use crate::filter::{Column, Exists, Filter, Link, OrderKey, Via};
use crate::model::{Model, Operation};
use crate::problem::Problem;
use crate::schema::{same_model, Related, Schema};

/// What one caller may read of an embedded model in this request: its list's readable
/// fields narrowed by `fields_for`, and its scope's conditions.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub(crate) readable: FieldSet,
    pub(crate) scope: Vec<Filter>,
}

/// The caller's [`Access`] to the related model at an index of [`Schema::related`].
pub(crate) type AccessFn<'a> = dyn FnMut(&Related) -> Result<Access, Problem> + 'a;

/// One checked embedded resource.
#[derive(Debug)]
pub(crate) struct EmbedPlan {
    /// The member it is written under (its alias, else the relation's name).
    pub(crate) name: String,
    /// The embedded model, an index of the router's [`Schema::related`].
    pub(crate) target: usize,
    pub(crate) link: Link,
    pub(crate) columns: Vec<Column>,
    /// Its list's `where`, the caller's scope on it and the request's filters on it.
    pub(crate) filters: Vec<Filter>,
    pub(crate) order: Vec<OrderKey>,
    /// Most rows per parent (to-many).
    pub(crate) limit: u64,
    /// Rows skipped per parent (to-many).
    pub(crate) offset: u64,
    /// `...relation(fields)`: the fields written among the parent's (to-one only).
    pub(crate) spread: bool,
    pub(crate) embeds: Vec<EmbedPlan>,
    /// A many-to-many embed's join rows (`link.child` is then the embedded model's key).
    pub(crate) through: Option<Via>,
    /// Where a joined row of this (to-one) embed shows that it is there: `Some(i)`, its `i`th
    /// column, a field that is never null (a `NOT NULL` column reads `NULL` in a joined row
    /// only where no row was joined); `None`, its key, then selected before its columns.
    pub(crate) presence: Option<usize>,
}

/// A request's embeds, planned: the tree, and the conditions they put on the parent rows
/// (`!inner`, `rel=is.null`).
#[derive(Debug, Default)]
pub(crate) struct Embeds {
    pub(crate) tree: Vec<EmbedPlan>,
    pub(crate) parent_filters: Vec<Filter>,
}

/// A top-level filter on an embed itself: `posts=is.null` (`true`) or `posts=not.is.null`.
pub(crate) struct NullTest {
    pub(crate) name: String,
    pub(crate) param: String,
    pub(crate) is_null: bool,
}

struct Planner<'a, 'b> {
    root: &'a Schema,
    access: &'a mut AccessFn<'b>,
    granted: Vec<Option<Access>>,
    params: Vec<(EmbedParam, bool)>,
    rows: u64,
}

/// Plans the embeds of a read of `root` under `op` (a list or retrieve).
pub(crate) fn plan(
    root: &Schema,
    op: &Operation,
    embeds: Vec<grammar::Embed>,
    params: Vec<EmbedParam>,
    nulls: Vec<NullTest>,
    access: &mut AccessFn<'_>,
) -> Result<Embeds, Problem> {
    let depth = embeds
        .iter()
        .map(|e| 1 + e.select.depth())
        .max()
        .unwrap_or(0);
    if depth > op.embed_depth && !embeds.is_empty() {
        return Err(Problem::invalid_parameter(
            "select",
            format!(
                "`select` nests embedded resources {depth} deep; {} allows at most {}",
                root.model.path, op.embed_depth
            ),
        ));
    }
    let mut p = Planner {
        root,
        access,
        granted: (0..root.related.len()).map(|_| None).collect(),
        params: params.into_iter().map(|p| (p, false)).collect(),
        rows: op.embed_rows,
    };
    let mut parent_filters = Vec::new();
    let tree = p.level(root, op, embeds, &[], Some((&mut parent_filters, nulls)))?;
    if let Some((param, _)) = p.params.iter().find(|(_, used)| !used) {
        return Err(Problem::invalid_parameter(
            param.param.clone(),
            format!(
                "`{}` is not an embedded resource of `select`, so `{}` does not apply",
                param.path.join("."),
                param.param
            ),
        ));
    }
    Ok(Embeds {
        tree,
        parent_filters,
    })
}

type Top<'f> = Option<(&'f mut Vec<Filter>, Vec<NullTest>)>;

impl Planner<'_, '_> {
    fn access(&mut self, target: usize) -> Result<Access, Problem> {
        if let Some(a) = &self.granted[target] {
            return Ok(a.clone());
        }
        let a = (self.access)(&self.root.related[target])?;
        self.granted[target] = Some(a.clone());
        Ok(a)
    }

    fn level(
        &mut self,
        parent: &Schema,
        parent_op: &Operation,
        embeds: Vec<grammar::Embed>,
        path: &[String],
        mut top: Top<'_>,
    ) -> Result<Vec<EmbedPlan>, Problem> {
        let mut out = Vec::with_capacity(embeds.len());
        for e in embeds {
            let name = e.alias.clone().unwrap_or_else(|| e.relation.clone());
            if out.iter().any(|p: &EmbedPlan| p.name == name) {
                return Err(Problem::invalid_parameter(
                    "select",
                    format!("`select` embeds two resources named `{name}`; give each its own name, as in `{name}2:{}(...)`", e.relation),
                ));
            }
            let (target, link, joined) = self.resolve(parent, parent_op, &e)?;
            if e.spread && link.many {
                return Err(Problem::invalid_parameter(
                    "select",
                    format!(
                        "`...{}(...)`: only a to-one resource (one row or none) can be spread; embed {} as `{}(...)`, an array",
                        e.relation, e.relation, e.relation
                    ),
                ));
            }
            let root = self.root;
            let related = &root.related[target];
            let (schema, policy) = (&related.schema, &related.policy);
            if !policy.op.post.is_empty() {
                return Err(Problem::invalid_parameter(
                    "select",
                    format!(
                        "`{}` cannot be embedded: its {} has `post` hooks, which see whole answers; read it at /{}",
                        e.relation,
                        policy.op.kind.name(),
                        schema.model.path
                    ),
                ));
            }
            let access = self.access(target)?;
            let readable = FieldSet(policy.fields.0 & access.readable.0);
            let columns = columns(schema, readable, &e)?;
            let mut filters = policy.forced.clone();
            filters.extend(access.scope);
            let mut order = None;
            let (mut limit, mut offset) = (None, None);
            let mut here: Vec<String> = path.to_vec();
            here.push(name.clone());
            for (param, used) in self.params.iter_mut().filter(|(p, _)| p.path == here) {
                *used = true;
                match &param.kind {
                    EmbedParamKind::Filter(expr) => {
                        let allowed = FieldSet(policy.filterable.0 & readable.0);
                        filters.push(type_expr(
                            schema,
                            allowed,
                            Names::Api,
                            &param.param,
                            expr.clone(),
                        )?);
                    }
                    EmbedParamKind::Order(terms) => {
                        let sortable = FieldSet(policy.sortable.0 & readable.0);
                        let keys = terms
                            .iter()
                            .map(|t| {
                                schema
                                    .by_name(&t.field)
                                    .filter(|i| sortable.contains(*i))
                                    .map(|f| order_key(f, t))
                                    .ok_or_else(|| {
                                        Problem::invalid_parameter(
                                            param.param.clone(),
                                            format!(
                                                "`{}` is not a field you can sort {} on; sortable fields: {}",
                                                t.field,
                                                schema.model.path,
                                                schema.names(sortable)
                                            ),
                                        )
                                    })
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        order = Some(keys);
                    }
                    EmbedParamKind::Limit(n) | EmbedParamKind::Offset(n) if !link.many => {
                        let _ = n;
                        return Err(Problem::invalid_parameter(
                            param.param.clone(),
                            format!(
                                "`{name}` embeds one {} row (or null), so `{}` does not apply",
                                schema.model.path, param.param
                            ),
                        ));
                    }
                    EmbedParamKind::Limit(n) => limit = Some(*n),
                    EmbedParamKind::Offset(n) => offset = Some(*n),
                }
            }
            let mut order = order.unwrap_or_else(|| policy.default_order.clone());
            if !order.iter().any(|k| k.field == schema.key) {
                order.push(OrderKey {
                    field: schema.key,
                    desc: false,
                    nulls_first: false,
                });
            }
            let through = match joined {
                Some(j) => Some(self.through(&e, j)?),
                None => None,
            };
            let nested = self.level(schema, policy.op, e.select.embeds.clone(), &here, None)?;
            let null_test = match &mut top {
                Some((_, nulls)) => nulls
                    .iter()
                    .position(|n| n.name == name)
                    .map(|i| nulls.remove(i)),
                None => None,
            };
            if e.inner || null_test.is_some() {
                let Some((parent_filters, _)) = &mut top else {
                    return Err(Problem::invalid_parameter(
                        "select",
                        format!("`{}!inner`: `!inner` applies to resources embedded at the top of `select`", e.relation),
                    ));
                };
                if e.inner {
                    parent_filters.push(exists(target, link, &filters, false, &through));
                }
                if let Some(n) = null_test {
                    parent_filters.push(exists(target, link, &filters, n.is_null, &through));
                }
            }
            let presence = columns.iter().position(|c| !schema.field(c.field).nullable);
            out.push(EmbedPlan {
                presence,
                name,
                target,
                link,
                columns,
                filters,
                order,
                limit: limit.unwrap_or(self.rows).min(self.rows),
                offset: offset.unwrap_or(0).min(i64::MAX as u64),
                spread: e.spread,
                embeds: nested,
                through,
            });
        }
        if let Some((_, nulls)) = top {
            if let Some(n) = nulls.first() {
                return Err(Problem::invalid_parameter(
                    n.param.clone(),
                    format!(
                        "`{}` is neither a field you can filter on nor an embedded resource of `select`",
                        n.name
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// A many-to-many embed's join rows, as the caller could read them at the join model
    /// directly: its list's (else retrieve's) `where` and the caller's scope on it; both
    /// of its reference fields must be readable to the caller, and it must have no `post`
    /// hooks.
    fn through(&mut self, e: &grammar::Embed, j: Joined) -> Result<Via, Problem> {
        let root = self.root;
        let related = &root.related[j.join];
        let (schema, policy) = (&related.schema, &related.policy);
        let refuse = |why: String| {
            Problem::invalid_parameter(
                "select",
                format!(
                    "`{}` cannot be embedded: its rows are linked through {}, {why}",
                    e.relation, schema.model.path
                ),
            )
        };
        if !policy.op.post.is_empty() {
            return Err(refuse(format!(
                "whose {} has `post` hooks, which see whole answers",
                policy.op.kind.name()
            )));
        }
        let access = self.access(j.join)?;
        let readable = FieldSet(policy.fields.0 & access.readable.0);
        if !readable.contains(j.parent) || !readable.contains(j.child) {
            return Err(refuse(format!(
                "whose `{}` and `{}` you cannot both read",
                schema.field(j.parent).name,
                schema.field(j.child).name
            )));
        }
        let mut filters = policy.forced.clone();
        filters.extend(access.scope);
        Ok(Via {
            join: j.join,
            parent: j.parent,
            child: j.child,
            filters,
        })
    }

    /// The related model and the link that `e` names from `parent`: a reference of the
    /// parent to it (to-one) or of it to the parent (to-many), among the models the parent's
    /// operation lets a client embed.
    fn resolve(
        &self,
        parent: &Schema,
        parent_op: &Operation,
        e: &grammar::Embed,
    ) -> Result<(usize, Link, Option<Joined>), Problem> {
        let allowed: Vec<&'static Model> = parent_op.embed.iter().map(|f| f()).collect();
        let models: Vec<&'static Model> = allowed
            .iter()
            .copied()
            .filter(|m| m.path == e.relation)
            .collect();
        let joins = joins(parent_op);
        let joined: Vec<(&'static Model, &'static Model)> = joins
            .iter()
            .copied()
            .filter(|(m, _)| m.path == e.relation)
            .collect();
        if models.is_empty() && joined.is_empty() {
            let mut names: Vec<&str> = allowed.iter().map(|m| m.path).collect();
            names.extend(joins.iter().map(|(m, _)| m.path));
            return Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`{}` is not a resource {} can embed; {}",
                    e.relation,
                    parent.model.path,
                    if names.is_empty() {
                        "it embeds none".to_owned()
                    } else {
                        format!("embeddable: {}", names.join(", "))
                    }
                ),
            ));
        }
        let mut found = candidates(parent, &models);
        found.extend(through_candidates(parent, &joined));
        if let Some(hint) = &e.hint {
            found.retain(|(_, _, ident, name, via)| {
                ident == hint || name == hint || via.is_some_and(|(j, ..)| j.path == hint)
            });
        }
        let fields = || -> String {
            found
                .iter()
                .map(|(_, _, _, name, via)| match via {
                    Some((j, ..)) => format!("`{}!{}`", e.relation, j.path),
                    None => format!("`{}!{name}`", e.relation),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match found.as_slice() {
            [] => Err(Problem::invalid_parameter(
                "select",
                match &e.hint {
                    Some(h) => format!(
                        "`{}!{h}`: no reference field `{h}` relates {} and {}",
                        e.relation, parent.model.path, e.relation
                    ),
                    None => format!(
                        "`{}`: no reference relates {} and {}",
                        e.relation, parent.model.path, e.relation
                    ),
                },
            )),
            [(m, link, _, _, via)] => {
                let index = |m: &Model| {
                    self.root.related_index(m).ok_or_else(|| {
                        Problem::internal(&format!("{} is not among the related models", m.path))
                    })
                };
                let joined = match via {
                    Some((j, parent, child)) => Some(Joined {
                        join: index(j)?,
                        parent: *parent,
                        child: *child,
                    }),
                    None => None,
                };
                Ok((index(m)?, *link, joined))
            }
            _ => Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`{}` is ambiguous: {} and {} are related by more than one reference; name one: {}",
                    e.relation,
                    parent.model.path,
                    e.relation,
                    fields()
                ),
            )),
        }
    }
}

/// One relation a model may embed through: the related model, the link, the reference
/// field's Rust and API names, and a many-to-many relation's join model with its fields
/// referencing the parent and the related model (the reference field is then the first).
type Candidate = (
    &'static Model,
    Link,
    &'static str,
    &'static str,
    Option<(&'static Model, usize, usize)>,
);

/// A resolved many-to-many relation: the join model (an index of [`Schema::related`]) and
/// its fields referencing the parent and the embedded model.
#[derive(Debug, Clone, Copy)]
struct Joined {
    join: usize,
    parent: usize,
    child: usize,
}

/// The (embedded model, join model) pairs `op` lets a client embed many-to-many.
fn joins(op: &Operation) -> Vec<(&'static Model, &'static Model)> {
    op.embed_through
        .iter()
        .map(|t| ((t.target)(), (t.join)()))
        .collect()
}

/// The many-to-many relations between `parent` and each (model, join model) of `joins`:
/// each pair of distinct fields of the join model, one referencing the parent and one the
/// model.
fn through_candidates(
    parent: &Schema,
    joins: &[(&'static Model, &'static Model)],
) -> Vec<Candidate> {
    let mut found = Vec::new();
    for &(m, join) in joins {
        let key = m.fields.iter().position(|f| f.key).unwrap_or(0);
        let index = |ident: &str| join.fields.iter().position(|f| f.ident == ident);
        for up in join.relations {
            if !same_model((up.target)(), parent.model) {
                continue;
            }
            for down in join.relations {
                if down.field == up.field || !same_model((down.target)(), m) {
                    continue;
                }
                if let (Some(p), Some(c)) = (index(up.field), index(down.field)) {
                    let link = Link {
                        parent: parent.key,
                        child: key,
                        many: true,
                    };
                    found.push((m, link, up.field, join.fields[p].name, Some((join, p, c))));
                }
            }
        }
    }
    found
}

/// The first (model, join model) of `op`'s `embed(...(through = ...))` whose join model
/// does not reference both `parent` and the model, if any.
pub(crate) fn unjoined(
    parent: &Schema,
    op: &Operation,
) -> Option<(&'static Model, &'static Model)> {
    joins(op)
        .into_iter()
        .find(|j| through_candidates(parent, std::slice::from_ref(j)).is_empty())
}

/// The relations between `parent` and each of `models`: its references to them (to-one),
/// theirs to it (to-many).
fn candidates(parent: &Schema, models: &[&'static Model]) -> Vec<Candidate> {
    let mut found = Vec::new();
    for &m in models {
        let key = m.fields.iter().position(|f| f.key).unwrap_or(0);
        for r in parent.model.relations {
            if same_model((r.target)(), m) {
                if let Some(i) = parent.by_ident(r.field) {
                    let link = Link {
                        parent: i,
                        child: key,
                        many: false,
                    };
                    found.push((m, link, r.field, parent.field(i).name, None));
                }
            }
        }
        for r in m.relations {
            if same_model((r.target)(), parent.model) {
                if let Some(i) = m.fields.iter().position(|f| f.ident == r.field) {
                    let link = Link {
                        parent: parent.key,
                        child: i,
                        many: true,
                    };
                    found.push((m, link, r.field, m.fields[i].name, None));
                }
            }
        }
    }
    found
}

/// The first model `op` lets a client embed that no reference relates to `parent` (a
/// misdeclared `embed(...)`), if any.
pub(crate) fn unrelated(parent: &Schema, op: &Operation) -> Option<&'static Model> {
    op.embed
        .iter()
        .map(|f| f())
        .find(|m| candidates(parent, &[*m]).is_empty())
}

/// What a read under `op` may embed, for its documentation: each relation as the client
/// names it (`users`, or `users!owner_id` when two fields relate the models), and whether it
/// is to-many (an array) or to-one (an object or null).
pub(crate) fn embeddable(parent: &Schema, op: &Operation) -> Vec<(String, bool)> {
    let models: Vec<&'static Model> = op.embed.iter().map(|f| f()).collect();
    let mut found = candidates(parent, &models);
    found.extend(through_candidates(parent, &joins(op)));
    found
        .iter()
        .map(|(m, link, _, field, via)| {
            let twice = found.iter().filter(|(n, ..)| n.path == m.path).count() > 1;
            let name = match (twice, via) {
                (true, Some((j, ..))) => format!("{}!{}", m.path, j.path),
                (true, None) => format!("{}!{field}", m.path),
                (false, _) => m.path.to_owned(),
            };
            (name, link.many)
        })
        .collect()
}

/// The models a read under `op` may embed, one per relation of [`embeddable`], each with
/// whether it is to-many.
pub(crate) fn embeddable_models(parent: &Schema, op: &Operation) -> Vec<(&'static Model, bool)> {
    let models: Vec<&'static Model> = op.embed.iter().map(|f| f()).collect();
    let mut found = candidates(parent, &models);
    found.extend(through_candidates(parent, &joins(op)));
    found
        .into_iter()
        .map(|(m, link, ..)| (m, link.many))
        .collect()
}

fn exists(
    target: usize,
    link: Link,
    filters: &[Filter],
    negated: bool,
    via: &Option<Via>,
) -> Filter {
    Filter::Related(Box::new(Exists {
        target,
        link,
        filters: filters.to_vec(),
        negated,
        via: via.clone(),
    }))
}

/// The members `select`'s embeds write into their parent: an embed's name, or the fields
/// of a spread one (named as written; a spread lists its fields and embeds nothing).
pub(crate) fn embed_members(embeds: &[grammar::Embed]) -> Result<Vec<&str>, Problem> {
    let mut names = Vec::new();
    for e in embeds {
        if !e.spread {
            names.push(e.alias.as_deref().unwrap_or(&e.relation));
            continue;
        }
        if e.select.star || !e.select.embeds.is_empty() {
            return Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`...{}(...)`: a spread resource lists its fields, without `*` or embeds, as in `...{}(name)`",
                    e.relation, e.relation
                ),
            ));
        }
        names.extend(
            e.select
                .items
                .iter()
                .map(|i| i.alias.as_deref().unwrap_or(&i.field)),
        );
    }
    Ok(names)
}

/// The embedded model's columns from its `select`, within what the caller may read of it.
fn columns(
    schema: &Schema,
    readable: FieldSet,
    e: &grammar::Embed,
) -> Result<Vec<Column>, Problem> {
    let mut columns: Vec<Column> = Vec::new();
    if e.select.star {
        columns.extend(readable.iter().map(|field| Column { field, alias: None }));
    }
    for it in &e.select.items {
        let field = schema
            .by_name(&it.field)
            .filter(|i| readable.contains(*i))
            .ok_or_else(|| {
                Problem::invalid_parameter(
                    "select",
                    format!(
                        "`{}` is not a field you can select in `{}`; readable fields: {}",
                        it.field,
                        e.relation,
                        schema.names(readable)
                    ),
                )
            })?;
        columns.push(Column {
            field,
            alias: it.alias.clone(),
        });
    }
    let mut names = std::collections::HashSet::new();
    let embedded = embed_members(&e.select.embeds)?;
    for name in columns
        .iter()
        .map(|c| c.alias.as_deref().unwrap_or(schema.field(c.field).name))
        .chain(embedded)
    {
        if !names.insert(name) {
            return Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`select` names two members `{name}` in `{}`; give each its own name with `alias:`",
                    e.relation
                ),
            ));
        }
    }
    Ok(columns)
}
