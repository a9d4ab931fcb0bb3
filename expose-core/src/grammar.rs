//! Pure-syntax parser for the PostgREST URL grammar.
//!
//! This module turns already percent-decoded query pairs into an untyped syntax tree. It knows
//! nothing about any model: a later layer checks field names against the exposure policy and
//! converts operand text into typed values.
//!
//! The accepted grammar, a subset of PostgREST's:
//!
//! - field filter: `field=[not.]op.value`, e.g. `age=not.gt.5`, `name=in.(a,"b,c")`;
//!   operators are `eq neq gt gte lt lte like ilike in is cs cd ov` ([`Op::ALL`]); the
//!   containment ones take an array literal `{a,b}` or a JSON document, e.g. `tags=cs.{a,b}`;
//! - logic tree: `or`, `and`, `not.or` or `not.and` `=(item,...)`, where an item is
//!   `field.[not.]op.value` or a nested `and(...)`, `or(...)`, `not.and(...)`, `not.or(...)`,
//!   e.g. `or=(age.lt.18,and(name.eq.x,email.is.null))`;
//! - `order=field[.asc|.desc][.nullsfirst|.nullslast],...`, e.g. `order=age.desc,name`
//!   ([`Direction::ALL`], [`Nulls::ALL`]);
//! - `select=*` or `select=[alias:]field,...`, e.g. `select=id,fullName:name`, with
//!   embedded resources among the items: `[alias:]relation[!hint][!inner](select)`, e.g.
//!   `select=*,author:users!owner_id(name),posts!inner(title,comments(body))`, or spread
//!   among the parent's fields: `...users(author:name)`;
//! - parameters of an embedded resource, named by its path in `select`: filters
//!   `posts.published=eq.true`, `posts.order=...`, `posts.limit=3`, `posts.offset=1`; a
//!   filter on the embed itself (`posts=is.null`) is a top-level filter named like a field;
//! - `limit` and `offset`: plain decimal digits; the `Range` header: `0-24` or `10-`.
//!
//! A value may be double-quoted, with `\"` and `\\` as escapes; inside quotes `,` `(` `)` and
//! `.` are literal. Inside a logic tree a value containing `,` `(` `)` or `"` must be quoted,
//! except the operand of `cs`, `cd` and `ov` when it is a `{...}` or `[...]` literal (as
//! PostgREST reads `or=(tags.cs.{a,b},tags.ov.{c,d})`).
//! The `render_*` functions write syntax trees back in this form, quoting where needed.
//!
//! Whatever the input, the parsers return a [`SyntaxError`] naming the offending parameter
//! rather than panicking; logic trees are parsed without recursion and bounded by a depth limit.
//!
//! The operator table is [`Op::ALL`] with the facts each operator carries ([`Op::operand`],
//! [`Op::is_ordering`], [`Op::is_pattern`], [`Op::applies_to`]) and [`IsValue::ALL`]; the
//! parser, the `#[expose]` macro's check of `where` and `order`, and the runtime's OpenAPI
//! patterns all read it, so an operator is added in one place.

use std::fmt;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `eq`: equal to.
    Eq,
    /// `neq`: not equal to.
    Neq,
    /// `gt`: greater than.
    Gt,
    /// `gte`: greater than or equal to.
    Gte,
    /// `lt`: less than.
    Lt,
    /// `lte`: less than or equal to.
    Lte,
    /// `like`: case-sensitive pattern match, `*` being the wildcard.
    Like,
    /// `ilike`: case-insensitive pattern match, `*` being the wildcard.
    Ilike,
    /// `in`: one of a parenthesized list.
    In,
    /// `is`: `null`, `not_null`, `true`, `false` or `unknown`.
    Is,
    /// `cs`: contains (`@>`): an array field holds every item of `{a,b}`, a JSON field
    /// contains the document given.
    Cs,
    /// `cd`: contained in (`<@`): every item of an array field is one of `{a,b}`, a JSON
    /// field is contained in the document given.
    Cd,
    /// `ov`: overlaps (`&&`): an array field holds at least one item of `{a,b}`.
    Ov,
}

impl Op {
    /// Every operator, in the order error messages list them.
    pub const ALL: [Op; 13] = [
        Op::Eq,
        Op::Neq,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Like,
        Op::Ilike,
        Op::In,
        Op::Is,
        Op::Cs,
        Op::Cd,
        Op::Ov,
    ];

    /// The operator as written in a URL, e.g. `"gte"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Like => "like",
            Op::Ilike => "ilike",
            Op::In => "in",
            Op::Is => "is",
            Op::Cs => "cs",
            Op::Cd => "cd",
            Op::Ov => "ov",
        }
    }

    /// Parses an operator as written in a URL (case-sensitive); `None` if unknown.
    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// The operand the operator takes: a list for `in`, an [`IsValue`] for `is`, otherwise
    /// a single value.
    pub const fn operand(self) -> OperandShape {
        match self {
            Op::In => OperandShape::List,
            Op::Is => OperandShape::Is,
            _ => OperandShape::Scalar,
        }
    }

    /// Whether the operator compares by order (`gt`, `gte`, `lt`, `lte`), which true/false
    /// and JSON fields do not have.
    pub const fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Gte | Op::Lt | Op::Lte)
    }

    /// Whether the operator matches a pattern with `*` as the wildcard (`like`, `ilike`),
    /// which applies to text only.
    pub const fn is_pattern(self) -> bool {
        matches!(self, Op::Like | Op::Ilike)
    }

    /// Whether the operator tests containment or overlap (`cs`, `cd`, `ov`), which applies
    /// to arrays (and `cs`, `cd` to JSON) only.
    pub const fn is_containment(self) -> bool {
        matches!(self, Op::Cs | Op::Cd | Op::Ov)
    }

    /// Whether the operator applies to a field of the given class: `is` to every field
    /// (with the values [`IsValue::applies_to`] allows); `cs`, `cd`, `ov` to arrays, `cs`
    /// and `cd` to JSON, and none of the three to other classes; the comparisons to all
    /// but arrays and JSON, the ordering ones not to true/false or enumerations, the
    /// pattern ones to text only.
    pub const fn applies_to(self, class: TypeClass) -> bool {
        match (self, class) {
            (Op::Is, _) => true,
            (op, TypeClass::Array) => op.is_containment(),
            (Op::Cs | Op::Cd, TypeClass::Json) => true,
            (_, TypeClass::Json) => false,
            (op, _) if op.is_containment() => false,
            (op, TypeClass::Bool | TypeClass::Enum) => !op.is_ordering() && !op.is_pattern(),
            (op, TypeClass::Ordered) => !op.is_pattern(),
            (_, TypeClass::Text) => true,
        }
    }
}

/// The kind of operand an [`Op`] takes, see [`Op::operand`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperandShape {
    /// One value: [`Operand::Scalar`].
    Scalar,
    /// A parenthesized list: [`Operand::List`].
    List,
    /// One of [`IsValue::ALL`]: [`Operand::Is`].
    Is,
}

/// What the operators tell apart in a field's type, see [`Op::applies_to`] and
/// [`IsValue::applies_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeClass {
    /// Text: every operator.
    Text,
    /// Numbers, dates, date-times, UUIDs: compared and ordered, not pattern-matched.
    Ordered,
    /// true/false: compared for equality only; the one class that takes `is.true`,
    /// `is.false` and `is.unknown`.
    Bool,
    /// JSON: tested for containment (`cs`, `cd`) and with `is.null` and `is.not_null`.
    Json,
    /// An array (`Vec<T>`): tested for containment and overlap (`cs`, `cd`, `ov`) and with
    /// `is.null` and `is.not_null`.
    Array,
    /// One of a fixed set of names (a Rust enum stored as text): compared for equality only
    /// (`eq`, `neq`, `in`, `is.null`, `is.not_null`).
    Enum,
}

/// Right-hand side of `is.`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsValue {
    /// `is.null`
    Null,
    /// `is.not_null`
    NotNull,
    /// `is.true`
    True,
    /// `is.false`
    False,
    /// `is.unknown` (a boolean that is null)
    Unknown,
}

impl IsValue {
    /// Every value, in the order error messages list them.
    pub const ALL: [IsValue; 5] = [
        IsValue::Null,
        IsValue::NotNull,
        IsValue::True,
        IsValue::False,
        IsValue::Unknown,
    ];

    /// The value as written in a URL, e.g. `"not_null"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IsValue::Null => "null",
            IsValue::NotNull => "not_null",
            IsValue::True => "true",
            IsValue::False => "false",
            IsValue::Unknown => "unknown",
        }
    }

    /// Parses a value as written in a URL (case-sensitive); `None` if unknown.
    pub fn parse(s: &str) -> Option<IsValue> {
        IsValue::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the value tests a truth value (`true`, `false`, `unknown`) rather than
    /// nullness, and so applies to true/false fields only.
    pub const fn is_boolean(self) -> bool {
        matches!(self, IsValue::True | IsValue::False | IsValue::Unknown)
    }

    /// Whether `is.<value>` applies to a field of the given class.
    pub const fn applies_to(self, class: TypeClass) -> bool {
        !self.is_boolean() || matches!(class, TypeClass::Bool)
    }
}

/// Operand as written (still untyped text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A single value, unquoted; for `like`/`ilike` still with `*` wildcards.
    Scalar(String),
    /// The items of an `in.(...)` list, unquoted.
    List(Vec<String>),
    /// The right-hand side of `is`.
    Is(IsValue),
}

/// One condition `field=[not.]op.value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The field name as written (not yet checked against any model).
    pub field: String,
    /// Whether the condition was prefixed with `not.`.
    pub negated: bool,
    /// The comparison operator.
    pub op: Op,
    /// The right-hand side: a [`Operand::List`] for `in`, [`Operand::Is`] for `is`, otherwise
    /// a [`Operand::Scalar`].
    pub operand: Operand,
}

/// A boolean expression tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A single condition.
    Cond(Condition),
    /// All of the items hold (`and=(...)`, `and(...)`).
    And(Vec<Expr>),
    /// Any of the items holds (`or=(...)`, `or(...)`).
    Or(Vec<Expr>),
    /// The inner group does not hold (`not.and`, `not.or`).
    Not(Box<Expr>),
}

/// One term of `order=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// The field to sort by.
    pub field: String,
    /// `.desc` was given (`.asc` and no direction both mean ascending).
    pub descending: bool,
    /// Where nulls go, if `.nullsfirst` or `.nullslast` was given.
    pub nulls: Option<Nulls>,
}

/// The direction modifier of an `order=` term; an [`OrderTerm`] keeps it as
/// [`OrderTerm::descending`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `.asc` (also the default)
    Asc,
    /// `.desc`
    Desc,
}

impl Direction {
    /// Both directions, in the order messages list them.
    pub const ALL: [Direction; 2] = [Direction::Asc, Direction::Desc];

    /// The modifier as written in a URL, without its `.`: `"asc"` or `"desc"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }

    /// Parses a modifier as written in a URL (case-sensitive); `None` if not a direction.
    pub fn parse(s: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Placement of nulls in an [`OrderTerm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nulls {
    /// `.nullsfirst`
    First,
    /// `.nullslast`
    Last,
}

impl Nulls {
    /// Both placements, in the order messages list them.
    pub const ALL: [Nulls; 2] = [Nulls::First, Nulls::Last];

    /// The modifier as written in a URL, without its `.`: `"nullsfirst"` or `"nullslast"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Nulls::First => "nullsfirst",
            Nulls::Last => "nullslast",
        }
    }

    /// Parses a modifier as written in a URL (case-sensitive); `None` if not a placement.
    pub fn parse(s: &str) -> Option<Nulls> {
        Nulls::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

/// One field item of `select=`: `field` or `alias:field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectItem {
    /// The output name, if renamed with `alias:field`.
    pub alias: Option<String>,
    /// The selected field.
    pub field: String,
}

/// One embedded resource of `select=`: `[alias:]relation[!hint][!inner](select)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The output name, if renamed with `alias:relation(...)`.
    pub alias: Option<String>,
    /// The related resource, by its path (`users`).
    pub relation: String,
    /// The reference field that disambiguates two relations to one resource
    /// (`users!owner_id`).
    pub hint: Option<String>,
    /// `!inner`: only parents with at least one matching embedded row.
    pub inner: bool,
    /// `...relation(fields)`: the embedded row's fields written among the parent's.
    pub spread: bool,
    /// What to select of the embedded rows.
    pub select: Select,
}

/// `select=` value: `*` and/or field items, and embedded resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    /// `*`: every field the policy allows (before any items).
    pub star: bool,
    /// The listed fields, in order.
    pub items: Vec<SelectItem>,
    /// The embedded resources, in order.
    pub embeds: Vec<Embed>,
}

impl Select {
    /// `select=*`.
    pub fn all() -> Select {
        Select {
            star: true,
            items: Vec::new(),
            embeds: Vec::new(),
        }
    }

    /// The deepest nesting of embeds: 0 without any, 1 for `users(name)`.
    pub fn depth(&self) -> usize {
        self.embeds
            .iter()
            .map(|e| 1 + e.select.depth())
            .max()
            .unwrap_or(0)
    }
}

/// One parameter of an embedded resource: `posts.published=eq.true`, `posts.order=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedParam {
    /// The query parameter's key as given.
    pub param: String,
    /// The embed's path in `select`: its output names from the top (`["users", "posts"]`
    /// for `users.posts.limit`).
    pub path: Vec<String>,
    /// What the parameter says.
    pub kind: EmbedParamKind,
}

/// What an [`EmbedParam`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedParamKind {
    /// A filter on the embedded rows (a condition or a logic tree).
    Filter(Expr),
    /// `rel.order=...`.
    Order(Vec<OrderTerm>),
    /// `rel.limit=n`: most embedded rows per parent.
    Limit(u64),
    /// `rel.offset=n`: embedded rows skipped per parent.
    Offset(u64),
}

/// Splits a query key addressed to an embedded resource: `posts.order` into `("posts",
/// "order")`, `users.posts.published` into `("users.posts", "published")`; `None` for a
/// top-level key (no `.`, or a logic tree `not.or` / `not.and`).
pub fn split_embedded(key: &str) -> Option<(&str, &str)> {
    if matches!(key, "not.or" | "not.and") {
        return None;
    }
    for tree in [".not.or", ".not.and"] {
        if let Some(path) = key.strip_suffix(tree) {
            return (!path.is_empty()).then(|| (path, &tree[1..]));
        }
    }
    let (path, last) = key.rsplit_once('.')?;
    (!path.is_empty() && !last.is_empty()).then_some((path, last))
}

/// A syntax error: which query parameter and what was wrong, in a sentence a client can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The query parameter's key as given (`Range` for the header).
    pub param: String,
    /// What was wrong, naming the parameter; this is also what `Display` prints.
    pub message: String,
    /// The unknown word the error is about, when it is one of the grammar's words misspelt,
    /// for a caller that suggests the nearest known one (the message lists them all).
    pub unknown: Option<Unknown>,
}

/// A word where the grammar expects one of a table's words, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// Not one of [`Op::ALL`].
    Operator(String),
    /// After `is.`, not one of [`IsValue::ALL`].
    IsValue(String),
    /// In an `order=` term, not one of [`Direction::ALL`] or [`Nulls::ALL`].
    OrderModifier(String),
}

impl Unknown {
    /// The word as written.
    pub fn word(&self) -> &str {
        match self {
            Unknown::Operator(w) | Unknown::IsValue(w) | Unknown::OrderModifier(w) => w,
        }
    }

    /// The words the grammar would take in its place, in table order.
    pub fn candidates(&self) -> Vec<&'static str> {
        match self {
            Unknown::Operator(_) => Op::ALL.map(Op::as_str).to_vec(),
            Unknown::IsValue(_) => IsValue::ALL.map(IsValue::as_str).to_vec(),
            Unknown::OrderModifier(_) => Direction::ALL
                .map(Direction::as_str)
                .into_iter()
                .chain(Nulls::ALL.map(Nulls::as_str))
                .collect(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Whole query string pre-parsed (already percent-decoded pairs, in order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// `select=`, if given.
    pub select: Option<Select>,
    /// Field conditions and logic trees in the order written; the caller ANDs them.
    pub filters: Vec<Expr>,
    /// `order=`, if given.
    pub order: Option<Vec<OrderTerm>>,
    /// `limit=`, if given.
    pub limit: Option<u64>,
    /// `offset=`, if given.
    pub offset: Option<u64>,
    /// Parameters of embedded resources (`posts.limit=3`), in the order written.
    pub embedded: Vec<EmbedParam>,
}

/// Bounds on the size of a query, checked by [`parse_query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of logic trees; `or=(...)` is depth 1, each nested group adds one.
    pub max_depth: usize,
    /// Most conditions in a query, counting those inside logic trees.
    pub max_conditions: usize,
    /// Most items in one `in` list.
    pub max_in_items: usize,
}

impl Default for Limits {
    /// The list defaults ([`crate::defaults`]): depth 8, 50 conditions, 100 `in` items.
    fn default() -> Self {
        Limits {
            max_depth: crate::defaults::MAX_DEPTH,
            max_conditions: crate::defaults::MAX_CONDITIONS,
            max_in_items: crate::defaults::MAX_IN_ITEMS,
        }
    }
}

/// The operators for messages: `eq, neq, ..., is`.
fn op_names() -> String {
    Op::ALL.map(Op::as_str).join(", ")
}

/// The `is` values for messages: `null, not_null, ...`.
fn is_value_names() -> String {
    IsValue::ALL.map(IsValue::as_str).join(", ")
}

/// The form of an `order=` term for messages: `` `field[.asc|.desc][.nullsfirst|.nullslast]` ``.
fn order_form() -> String {
    format!(
        "`field[.{}][.{}]`",
        Direction::ALL.map(Direction::as_str).join("|."),
        Nulls::ALL.map(Nulls::as_str).join("|.")
    )
}

fn err(param: &str, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        param: param.to_owned(),
        message: message.into(),
        unknown: None,
    }
}

/// A condition's error before it is placed: the message and the unknown word, if any.
struct Fail {
    message: String,
    unknown: Option<Unknown>,
}

impl From<String> for Fail {
    fn from(message: String) -> Self {
        Fail {
            message,
            unknown: None,
        }
    }
}

impl Fail {
    /// The error of parameter `param`, its message prefixed with `prefix`.
    fn at(self, param: &str, prefix: &str) -> SyntaxError {
        SyntaxError {
            param: param.to_owned(),
            message: format!("{prefix}{}", self.message),
            unknown: self.unknown,
        }
    }
}

/// User text for a message: at most 40 characters, control characters escaped.
fn show(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a field or alias name: non-empty, no `(`, `)`, `,`, `"` or whitespace.
fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("empty {kind} name"));
    }
    match name
        .chars()
        .find(|&c| matches!(c, '(' | ')' | ',' | '"') || c.is_whitespace())
    {
        Some(c) if c.is_whitespace() => Err(format!(
            "{kind} name `{}` must not contain whitespace",
            show(name)
        )),
        Some(c) => Err(format!(
            "{kind} name `{}` must not contain `{c}`",
            show(name)
        )),
        None => Ok(()),
    }
}

/// Parses the body of a quoted string (the text after the opening `"`): returns the unescaped
/// value and the text after the closing quote, or `None` if the quote is never closed.
/// `\"` and `\\` are escapes; any other backslash is literal.
fn unquote(body: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.clone().next() {
                Some((_, e @ ('"' | '\\'))) => {
                    out.push(e);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    None
}

/// Writes `s` double-quoted with `"` and `\` escaped.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Splits an array literal as PostgREST writes it in a filter (`tags=cs.{a,"b,c"}`, the
/// operand of `cs`, `cd` and `ov` on an array field) into its items' texts: items
/// separated by `,`, double-quoted where they hold `,`, `{`, `}`, `"`, `\\` or surrounding
/// spaces (`\\` escapes the next character, quoted or not). An unquoted `NULL` (any case)
/// and nested arrays are refused: array fields hold neither. The error completes
/// "expected an array literal such as {a,b} (...)".
pub fn parse_array_literal(s: &str) -> Result<Vec<String>, &'static str> {
    let inner = s
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or("in braces")?;
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Ok(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut text = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => text.extend(chars.next()),
                    Some(c) => text.push(c),
                    None => return Err("an unterminated double quote"),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
        } else {
            while let Some(c) = chars.next_if(|c| !matches!(c, ',' | '"')) {
                match c {
                    '{' | '}' => return Err("nested arrays are not supported"),
                    '\\' => text.extend(chars.next()),
                    c => text.push(c),
                }
            }
            text.truncate(text.trim_end().len());
            if text.eq_ignore_ascii_case("null") {
                return Err("items must not be null");
            }
        }
        items.push(text);
        match chars.next() {
            None => return Ok(items),
            Some(',') => {}
            Some(_) => return Err("items separated by `,`"),
        }
    }
}

/// Parses a condition value (`[not.]op.operand`) for `field`; the error is a bare message.
/// `tree` selects the rules inside a logic tree (operands with `,()"` must be quoted).
fn parse_cond(field: &str, value: &str, tree: bool, max_in: usize) -> Result<Condition, Fail> {
    check_name("field", field)?;
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let Some((op_text, text)) = rest.split_once('.') else {
        return Err(Fail::from(if tree {
            format!(
                "condition `{}` must have the form `field.op.value`, e.g. `{}.eq.5`",
                show(&format!("{field}.{value}")),
                show(field)
            )
        } else {
            format!(
                "filter `{f}` must have the form `{f}=op.value`, e.g. `{f}=eq.5`; got `{f}={}`",
                show(value),
                f = show(field)
            )
        }));
    };
    let Some(op) = Op::parse(op_text) else {
        return Err(Fail {
            message: format!(
                "unknown operator `{}` in `{}`; expected one of {} (optionally prefixed with \
                 `not.`)",
                show(op_text),
                show(field),
                op_names()
            ),
            unknown: Some(Unknown::Operator(op_text.to_owned())),
        });
    };
    let operand = match op.operand() {
        OperandShape::List => Operand::List(parse_list(field, text, max_in)?),
        OperandShape::Is => match IsValue::parse(text) {
            Some(v) => Operand::Is(v),
            None => {
                return Err(Fail {
                    message: format!(
                        "`is` on `{}` takes one of {}; got `{}`",
                        show(field),
                        is_value_names(),
                        show(text)
                    ),
                    unknown: Some(Unknown::IsValue(text.to_owned())),
                })
            }
        },
        // A containment literal is taken whole, as `item_end` delimited it.
        OperandShape::Scalar if op.is_containment() && text.starts_with(['{', '[']) => {
            Operand::Scalar(text.to_owned())
        }
        OperandShape::Scalar => Operand::Scalar(parse_scalar(field, text, tree)?),
    };
    Ok(Condition {
        field: field.to_owned(),
        negated,
        op,
        operand,
    })
}

fn parse_scalar(field: &str, text: &str, tree: bool) -> Result<String, String> {
    if let Some(body) = text.strip_prefix('"') {
        let (value, after) = unquote(body).ok_or_else(|| {
            format!(
                "the value of `{}` has an unterminated double quote",
                show(field)
            )
        })?;
        if after.is_empty() {
            Ok(value)
        } else {
            Err(format!(
                "unexpected `{}` after the closing quote of the value of `{}`",
                show(after),
                show(field)
            ))
        }
    } else if tree && text.contains([',', '(', ')', '"']) {
        Err(format!(
            "the value `{}` of `{f}` contains `,`, `(`, `)` or `\"`; \
             inside a logic tree wrap it in double quotes, e.g. `{f}.eq.\"a,b\"`",
            show(text),
            f = show(field)
        ))
    } else {
        Ok(text.to_owned())
    }
}

/// Parses an `in` operand: `(item,...)`, items optionally double-quoted.
fn parse_list(field: &str, text: &str, max_items: usize) -> Result<Vec<String>, String> {
    let f = show(field);
    let Some(mut rest) = text.strip_prefix('(') else {
        return Err(format!(
            "`in` on `{f}` needs a parenthesized list, e.g. `in.(1,2,3)`; got `{}`",
            show(text)
        ));
    };
    let mut items = Vec::new();
    if !rest.starts_with(')') {
        loop {
            let item = if let Some(body) = rest.strip_prefix('"') {
                let (item, after) = unquote(body).ok_or_else(|| {
                    format!("an item in the `in` list of `{f}` has an unterminated double quote")
                })?;
                rest = after;
                item
            } else {
                let end = rest.find([',', ')', '(', '"']).unwrap_or(rest.len());
                let (item, after) = rest.split_at(end);
                if let Some(c @ ('(' | '"')) = after.chars().next() {
                    return Err(format!(
                        "the item `{}` in the `in` list of `{f}` contains `{c}`; \
                         wrap the whole item in double quotes",
                        show(&rest[..end + 1])
                    ));
                }
                rest = after;
                item.to_owned()
            };
            if items.len() >= max_items {
                return Err(format!(
                    "the `in` list of `{f}` has more than {max_items} items"
                ));
            }
            items.push(item);
            let mut chars = rest.chars();
            match chars.next() {
                Some(',') => rest = chars.as_str(),
                Some(')') => break,
                None => return Err(format!("the `in` list of `{f}` is missing its closing `)`")),
                Some(c) => {
                    return Err(format!(
                        "unexpected `{c}` after a quoted item in the `in` list of `{f}`; \
                         separate items with `,`"
                    ))
                }
            }
        }
    }
    // `rest` starts with the closing `)`.
    match &rest[1..] {
        "" => Ok(items),
        after => Err(format!(
            "unexpected `{}` after the closing `)` of the `in` list of `{f}`",
            show(after)
        )),
    }
}

/// Parses `value` as the filter `field=[not.]op.value`, e.g. `("age", "not.gt.5")`.
///
/// The field name must be non-empty and must not contain `(`, `)`, `,`, `"` or whitespace;
/// whether it exists is for the caller to decide. Errors name `field` as the parameter.
pub fn parse_condition(field: &str, value: &str) -> Result<Condition, SyntaxError> {
    parse_cond(field, value, false, usize::MAX).map_err(|f| f.at(field, ""))
}

/// Counts conditions against [`Limits::max_conditions`] across a whole query.
struct Budget {
    left: usize,
    max: usize,
    max_in: usize,
}

impl Budget {
    fn unlimited() -> Self {
        Budget {
            left: usize::MAX,
            max: usize::MAX,
            max_in: usize::MAX,
        }
    }

    fn new(limits: &Limits) -> Self {
        Budget {
            left: limits.max_conditions,
            max: limits.max_conditions,
            max_in: limits.max_in_items,
        }
    }

    fn take(&mut self, param: &str) -> Result<(), SyntaxError> {
        self.left = self.left.checked_sub(1).ok_or_else(|| {
            err(
                param,
                format!(
                    "too many filter conditions at `{}`; a query may have at most {}",
                    show(param),
                    self.max
                ),
            )
        })?;
        Ok(())
    }
}

/// A logic group being parsed.
struct Group {
    negated: bool,
    or: bool,
    items: Vec<Expr>,
}

impl Group {
    fn new(negated: bool, or: bool) -> Self {
        Group {
            negated,
            or,
            items: Vec::new(),
        }
    }

    fn finish(self) -> Expr {
        let expr = if self.or {
            Expr::Or(self.items)
        } else {
            Expr::And(self.items)
        };
        if self.negated {
            Expr::Not(Box::new(expr))
        } else {
            expr
        }
    }
}

/// Matches the opening of a nested group: `(negated, or, text after the "(")`.
fn group_open(s: &str) -> Option<(bool, bool, &str)> {
    [
        ("and(", false, false),
        ("or(", false, true),
        ("not.and(", true, false),
        ("not.or(", true, true),
    ]
    .into_iter()
    .find_map(|(prefix, negated, or)| Some((negated, or, s.strip_prefix(prefix)?)))
}

/// Whether a tree item written up to here (`tags.cs.`, `tags.not.ov.`) is followed by the
/// operand of a containment operator, whose `{...}` or `[...]` literal may hold `,`.
fn containment_operand_at(item: &str) -> bool {
    Op::ALL
        .into_iter()
        .filter(|op| op.is_containment())
        .any(|op| {
            item.strip_suffix('.')
                .and_then(|s| s.strip_suffix(op.as_str()))
                .is_some_and(|s| s.ends_with('.'))
        })
}

/// Byte length of the tree item at the start of `s`: up to the first `,` or `)` outside quotes,
/// parentheses and a containment operator's `{...}` / `[...]` literal. The error says what
/// was left open: a quote, or such a literal.
fn item_end(s: &str) -> Result<usize, &'static str> {
    let (mut depth, mut quoted, mut skip) = (0usize, false, false);
    // Inside a containment literal: its brackets (`{}` or `[]`, the kind that opened it;
    // the other kind nests only inside JSON, where it is balanced) and their depth.
    let (mut literal, mut brackets) = ((0u8, 0u8), 0usize);
    for (i, b) in s.bytes().enumerate() {
        match (quoted, b) {
            _ if skip => skip = false,
            (true, b'\\') => skip = true,
            (true, b'"') => quoted = false,
            (false, b'"') => quoted = true,
            (false, open @ (b'{' | b'[')) if brackets == 0 && containment_operand_at(&s[..i]) => {
                literal = (open, if open == b'{' { b'}' } else { b']' });
                brackets = 1;
            }
            (false, b) if brackets > 0 && b == literal.0 => brackets += 1,
            (false, b) if brackets > 0 && b == literal.1 => brackets -= 1,
            _ if brackets > 0 => {}
            (false, b'(') => depth += 1,
            (false, b')' | b',') if depth == 0 => return Ok(i),
            (false, b')') => depth -= 1,
            _ => {}
        }
    }
    match (quoted, brackets) {
        (true, _) => Err("an unterminated double quote"),
        (_, 0) => Ok(s.len()),
        _ => Err("a `{...}` or `[...]` value without its closing bracket"),
    }
}

/// Parses the logic tree `key=value`. Errors name `param` as the parameter and call the
/// tree `` `label` `` (both `key` in a query).
fn parse_logic_in(
    key: &str,
    value: &str,
    max_depth: usize,
    budget: &mut Budget,
    (param, label): (&str, &str),
) -> Result<Expr, SyntaxError> {
    let k = show(label);
    let fail = |m: String| Err(err(param, m));
    let (negated, or) = match key {
        "and" => (false, false),
        "or" => (false, true),
        "not.and" => (true, false),
        "not.or" => (true, true),
        _ => {
            return fail(format!(
                "`{k}` is not a logic operator; expected `and`, `or`, `not.and` or `not.or`"
            ))
        }
    };
    let too_deep = || fail(format!("`{k}` nests deeper than {max_depth} levels"));
    let unclosed = || fail(format!("`{k}` is missing a closing `)`"));
    if max_depth == 0 {
        return too_deep();
    }
    let Some(mut rest) = value.strip_prefix('(') else {
        return fail(format!(
            "`{k}` must be a parenthesized list of conditions, e.g. `{k}=(age.lt.18,age.gt.65)`"
        ));
    };
    let mut current = Group::new(negated, or);
    let mut parents: Vec<Group> = Vec::new();
    'item: loop {
        rest = rest.trim_start();
        if let Some((negated, or, after)) = group_open(rest) {
            if parents.len() + 1 >= max_depth {
                return too_deep();
            }
            parents.push(std::mem::replace(&mut current, Group::new(negated, or)));
            rest = after;
            continue;
        }
        match rest.chars().next() {
            None => return unclosed(),
            Some(')') if current.items.is_empty() => {
                return fail(format!(
                    "empty group `()` in `{k}`; a group needs at least one condition"
                ))
            }
            Some(',' | ')') => return fail(format!("empty item in `{k}`; remove the extra `,`")),
            Some('(') => {
                return fail(format!(
                    "unexpected `(` in `{k}`; expected a condition such as `age.eq.5` \
                     or a group such as `and(...)`"
                ))
            }
            Some(_) => {}
        }
        let end = match item_end(rest) {
            Ok(end) => end,
            Err(what) => return fail(format!("`{k}` has {what}")),
        };
        let (text, after) = rest.split_at(end);
        rest = after;
        let Some((field, cond)) = text.split_once('.') else {
            return fail(format!(
                "in `{k}`: `{}` is not a condition; expected `field.op.value`, e.g. `age.eq.5`",
                show(text)
            ));
        };
        budget.take(param)?;
        let cond = parse_cond(field, cond, true, budget.max_in)
            .map_err(|f| f.at(param, &format!("in `{k}`: ")))?;
        current.items.push(Expr::Cond(cond));
        loop {
            let mut chars = rest.chars();
            match chars.next() {
                Some(',') => {
                    rest = chars.as_str();
                    continue 'item;
                }
                Some(')') => {
                    rest = chars.as_str();
                    let done = current.finish();
                    match parents.pop() {
                        Some(parent) => {
                            current = parent;
                            current.items.push(done);
                        }
                        None if rest.is_empty() => return Ok(done),
                        None => {
                            return fail(format!(
                                "unexpected `{}` after the closing `)` of `{k}`",
                                show(rest)
                            ))
                        }
                    }
                }
                None => return unclosed(),
                Some(c) => {
                    return fail(format!(
                        "unexpected `{}` in `{k}`; separate items with `,`",
                        show(&c.to_string())
                    ))
                }
            }
        }
    }
}

/// Parses a logic tree: `key` is `or`, `and`, `not.or` or `not.and`, and `value` a
/// parenthesized list such as `(a.eq.1,and(b.lt.2,c.is.null))`.
///
/// `not.or=(...)` gives `Expr::Not(Box::new(Expr::Or(..)))`. The top-level group is depth 1
/// and each nested group adds one; deeper than `max_depth` is an error. Parsing is iterative,
/// so no input can overflow the stack. Errors name `key` as the parameter.
pub fn parse_logic(key: &str, value: &str, max_depth: usize) -> Result<Expr, SyntaxError> {
    parse_logic_in(key, value, max_depth, &mut Budget::unlimited(), (key, key))
}

/// Parses a filter written as the items of a logic tree without key or parentheses, the
/// form of `#[expose(list(where = "..."))]`: conditions `field.[not.]op.value` and groups
/// `and(...)`, `or(...)`, `not.and(...)`, `not.or(...)`, comma-separated and ANDed, e.g.
/// `is_admin.eq.false,or(age.lt.18,age.gt.65)`.
///
/// It accepts exactly what `parse_logic("and", &format!("({filter})"), max_depth)` accepts,
/// giving the same tree (always an [`Expr::And`]); only the errors differ: they name `where`
/// as the parameter and in the message.
pub fn parse_where(filter: &str, max_depth: usize) -> Result<Expr, SyntaxError> {
    if filter.trim().is_empty() {
        return Err(err(
            "where",
            "`where` is empty; give conditions such as `age.gte.18`",
        ));
    }
    parse_logic_in(
        "and",
        &format!("({filter})"),
        max_depth,
        &mut Budget::unlimited(),
        ("where", "where"),
    )
}

/// Parses `order=`: comma-separated `field[.asc|.desc][.nullsfirst|.nullslast]` terms, e.g.
/// `age.desc,name.asc.nullslast,id`. Whitespace around terms is ignored.
pub fn parse_order(value: &str) -> Result<Vec<OrderTerm>, SyntaxError> {
    value
        .split(',')
        .map(|t| parse_order_term(t.trim()))
        .collect()
}

fn parse_order_term(term: &str) -> Result<OrderTerm, SyntaxError> {
    let fail = |m: String| Err(err("order", m));
    if term.is_empty() {
        return fail(format!(
            "`order` has an empty term; expected comma-separated {}",
            order_form()
        ));
    }
    let mut parts = term.split('.');
    let field = parts.next().unwrap_or_default();
    if let Err(m) = check_name("field", field) {
        return fail(format!("in `order`: {m}"));
    }
    let (mut descending, mut nulls, mut stage) = (false, None, 0);
    for modifier in parts {
        match (Direction::parse(modifier), Nulls::parse(modifier), stage) {
            (Some(d), _, 0) => (descending, stage) = (d == Direction::Desc, 1),
            (_, Some(n), 0 | 1) => (nulls, stage) = (Some(n), 2),
            (Some(_), _, _) | (_, Some(_), _) => {
                return fail(format!(
                    "misplaced `{modifier}` in `order` term `{}`; expected {}",
                    show(term),
                    order_form()
                ))
            }
            (None, None, _) => {
                return Err(SyntaxError {
                    unknown: Some(Unknown::OrderModifier(modifier.to_owned())),
                    ..err(
                        "order",
                        format!(
                            "unknown modifier `{}` in `order` term `{}`; expected {}",
                            show(modifier),
                            show(term),
                            order_form()
                        ),
                    )
                })
            }
        }
    }
    Ok(OrderTerm {
        field: field.to_owned(),
        descending,
        nulls,
    })
}

/// Parses `select=`: `*`, comma-separated `field` / `alias:field` items and embedded
/// resources `[alias:]relation[!hint][!inner](...)`, e.g. `*,author:users(name)`.
/// Whitespace around items is ignored; casts (`::`) and spreads (`...rel(...)`) are not
/// supported; embeds nest at most [`crate::defaults::SELECT_MAX_NESTING`] deep.
pub fn parse_select(value: &str) -> Result<Select, SyntaxError> {
    parse_select_in(value, 0).map_err(|m| err("select", m))
}

/// Splits at the commas outside parentheses; `None` when the parentheses do not balance.
fn split_top(value: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in value.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (depth == 0).then(|| {
        parts.push(&value[start..]);
        parts
    })
}

fn parse_select_in(value: &str, nesting: usize) -> Result<Select, String> {
    let value = value.trim();
    let mut select = Select {
        star: false,
        items: Vec::new(),
        embeds: Vec::new(),
    };
    if value.is_empty() {
        return Err(if nesting == 0 {
            "`select` is empty; use `*` or a comma-separated list of fields".into()
        } else {
            "`select` has an embedded resource with nothing to select; list its fields, as in `users(name)`".into()
        });
    }
    let parts = split_top(value).ok_or_else(|| {
        format!(
            "`select` has unbalanced parentheses in `{}`; an embedded resource reads `relation(fields)`",
            show(value)
        )
    })?;
    for item in parts.into_iter().map(str::trim) {
        if item.is_empty() {
            return Err("`select` has an empty item; remove the extra `,`".into());
        }
        let (spread, item) = match item.strip_prefix("...") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, item),
        };
        if spread && !item.contains('(') {
            return Err(format!(
                "`...{}`: only an embedded resource can be spread, as in `...users(name)`",
                show(item)
            ));
        }
        if item.contains("::") {
            return Err(format!(
                "casts (`::`) are not supported in `select`; got `{}`",
                show(item)
            ));
        }
        if let Some(open) = item.find('(') {
            if !item.ends_with(')') {
                return Err(format!(
                    "`select` item `{}` has text after its `)`; an embedded resource reads `relation(fields)`",
                    show(item)
                ));
            }
            if nesting + 1 > crate::defaults::SELECT_MAX_NESTING {
                return Err(format!(
                    "`select` nests embedded resources more than {} deep",
                    crate::defaults::SELECT_MAX_NESTING
                ));
            }
            let inner = parse_select_in(&item[open + 1..item.len() - 1], nesting + 1)?;
            let embed = parse_embed_head(&item[..open], inner)?;
            if spread && embed.alias.is_some() {
                return Err(format!(
                    "`...{}`: a spread resource takes no alias; rename its fields instead, as in `...users(author:name)`",
                    show(item)
                ));
            }
            select.embeds.push(Embed { spread, ..embed });
            continue;
        }
        let (alias, field) = match item.split_once(':') {
            Some((alias, field)) => (Some(alias.trim()), field.trim()),
            None => (None, item),
        };
        if field == "*" && alias.is_none() {
            if select.star || !select.items.is_empty() {
                return Err(
                    "`*` in `select` must come first and once; it already selects every readable field"
                        .into(),
                );
            }
            select.star = true;
            continue;
        }
        if field == "*" {
            return Err("`*` cannot be renamed in `select`".into());
        }
        if field.contains(':') {
            return Err(format!(
                "`select` item `{}` has more than one `:`; expected `alias:field`",
                show(item)
            ));
        }
        alias
            .map_or(Ok(()), |a| check_name("alias", a))
            .and_then(|()| check_name("field", field))
            .map_err(|m| format!("in `select`: {m}"))?;
        if select.star {
            return Err(format!(
                "`*` already selects every readable field; remove `{}` or list the fields without `*`",
                show(item)
            ));
        }
        select.items.push(SelectItem {
            alias: alias.map(str::to_owned),
            field: field.to_owned(),
        });
    }
    Ok(select)
}

/// `[alias:]relation[!hint][!inner]`, the text before an embed's `(`.
fn parse_embed_head(head: &str, select: Select) -> Result<Embed, String> {
    let head = head.trim();
    let (alias, rest) = match head.split_once(':') {
        Some((a, r)) => (Some(a.trim()), r.trim()),
        None => (None, head),
    };
    let mut words = rest.split('!');
    let relation = words.next().unwrap_or_default().trim();
    let (mut hint, mut inner) = (None, false);
    for word in words.map(str::trim) {
        match word {
            "inner" if !inner => inner = true,
            "left" => {}
            w if hint.is_none() && !w.is_empty() && w != "inner" => hint = Some(w.to_owned()),
            w => {
                return Err(format!(
                    "embedded resource `{}` has an unexpected `!{}`; write `relation[!field][!inner](...)`",
                    show(head),
                    show(w)
                ))
            }
        }
    }
    alias
        .map_or(Ok(()), |a| check_name("alias", a))
        .and_then(|()| check_name("embedded resource", relation))
        .map_err(|m| format!("in `select`: {m}"))?;
    if relation.contains(['.', ':']) || alias.is_some_and(|a| a.contains('.')) {
        return Err(format!(
            "in `select`: embedded resource `{}` must be a resource name, without `.` or `:`",
            show(head)
        ));
    }
    Ok(Embed {
        alias: alias.map(str::to_owned),
        relation: relation.to_owned(),
        hint,
        inner,
        spread: false,
        select,
    })
}

/// Parses plain decimal digits into a `u64`; the error completes "`x` ...".
fn digits(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "must be a non-negative integer (digits only); got `{}`",
            show(s)
        ));
    }
    s.parse()
        .map_err(|_| format!("is too large; the maximum is {}", u64::MAX))
}

/// Parses `limit` or `offset`: decimal digits only, no sign; overflowing `u64` is an error.
/// Errors name `param`.
pub fn parse_non_negative(param: &str, value: &str) -> Result<u64, SyntaxError> {
    digits(value).map_err(|m| err(param, format!("`{}` {m}", show(param))))
}

/// Parses a `Range` header value: `0-24` gives `(0, Some(24))`, `10-` gives `(10, None)`.
/// An upper bound below the lower bound is an error. Errors name `Range` as the parameter.
pub fn parse_range_header(value: &str) -> Result<(u64, Option<u64>), SyntaxError> {
    let fail = |m: String| err("Range", m);
    let Some((lo, hi)) = value.trim().split_once('-') else {
        return Err(fail(format!(
            "`Range` must look like `0-24` or `10-`; got `{}`",
            show(value)
        )));
    };
    let lo = digits(lo).map_err(|m| fail(format!("the `Range` lower bound {m}")))?;
    if hi.is_empty() {
        return Ok((lo, None));
    }
    let hi = digits(hi).map_err(|m| fail(format!("the `Range` upper bound {m}")))?;
    if hi < lo {
        return Err(fail(format!(
            "the `Range` upper bound {hi} is less than the lower bound {lo}"
        )));
    }
    Ok((lo, Some(hi)))
}

/// Parses a whole query string given as percent-decoded `(key, value)` pairs, in order.
///
/// `select`, `order`, `limit` and `offset` are reserved and may appear once each; `or`, `and`,
/// `not.or` and `not.and` are logic trees; every other key is a field condition
/// (`key=op.value`), passed through for the caller to check. Conditions (including those in
/// trees), `in` list lengths and tree depth are checked against `limits`.
pub fn parse_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    limits: &Limits,
) -> Result<ParsedQuery, SyntaxError> {
    fn once<T>(
        slot: &mut Option<T>,
        key: &str,
        parse: impl FnOnce() -> Result<T, SyntaxError>,
    ) -> Result<(), SyntaxError> {
        if slot.is_some() {
            return Err(err(key, format!("`{key}` may appear only once")));
        }
        *slot = Some(parse()?);
        Ok(())
    }
    let mut query = ParsedQuery::default();
    let mut budget = Budget::new(limits);
    for (key, value) in pairs {
        match key {
            "" => {
                return Err(err(
                    "",
                    "a query parameter has an empty name; expected `name=value`",
                ))
            }
            "select" => once(&mut query.select, key, || parse_select(value))?,
            "order" => once(&mut query.order, key, || parse_order(value))?,
            "limit" | "offset" => {
                let slot = if key == "limit" {
                    &mut query.limit
                } else {
                    &mut query.offset
                };
                once(slot, key, || parse_non_negative(key, value))?;
            }
            "or" | "and" | "not.or" | "not.and" => {
                let tree = parse_logic_in(key, value, limits.max_depth, &mut budget, (key, key))?;
                query.filters.push(tree);
            }
            field => match split_embedded(field) {
                Some((path, last)) => {
                    let kind = match last {
                        "order" => EmbedParamKind::Order(parse_order(value).map_err(|e| {
                            err(key, e.message.replace("`order`", &format!("`{key}`")))
                        })?),
                        "limit" | "offset" => {
                            let n = parse_non_negative(key, value)?;
                            match last {
                                "limit" => EmbedParamKind::Limit(n),
                                _ => EmbedParamKind::Offset(n),
                            }
                        }
                        "or" | "and" | "not.or" | "not.and" => EmbedParamKind::Filter(
                            parse_logic_in(last, value, limits.max_depth, &mut budget, (key, key))?,
                        ),
                        field => {
                            budget.take(key)?;
                            let cond = parse_cond(field, value, false, limits.max_in_items)
                                .map_err(|f| f.at(key, ""))?;
                            EmbedParamKind::Filter(Expr::Cond(cond))
                        }
                    };
                    let param = EmbedParam {
                        param: key.to_owned(),
                        path: path.split('.').map(str::to_owned).collect(),
                        kind,
                    };
                    if !matches!(param.kind, EmbedParamKind::Filter(_))
                        && query.embedded.iter().any(|p| p.param == param.param)
                    {
                        return Err(err(key, format!("`{key}` may appear only once")));
                    }
                    query.embedded.push(param);
                }
                None => {
                    budget.take(field)?;
                    let cond = parse_cond(field, value, false, limits.max_in_items)
                        .map_err(|f| f.at(field, ""))?;
                    query.filters.push(Expr::Cond(cond));
                }
            },
        }
    }
    Ok(query)
}

fn needs_quotes(s: &str) -> bool {
    // A leading `{` or `[` would start a containment literal in a logic tree.
    s.contains([',', '(', ')', '"']) || s.starts_with(['{', '['])
}

fn push_operand(out: &mut String, operand: &Operand) {
    match operand {
        Operand::Scalar(s) if needs_quotes(s) => push_quoted(out, s),
        Operand::Scalar(s) => out.push_str(s),
        Operand::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if item.is_empty() || needs_quotes(item) {
                    push_quoted(out, item);
                } else {
                    out.push_str(item);
                }
            }
            out.push(')');
        }
        Operand::Is(v) => out.push_str(v.as_str()),
    }
}

/// Renders the part of a condition after `field=`, e.g. `not.in.(1,"a,b")`, quoting operands
/// that need it. [`parse_condition`] gives back the same condition when the operand kind
/// matches the operator (a list for `in`, an `is` value for `is`, a scalar otherwise).
pub fn render_condition_value(cond: &Condition) -> String {
    let mut out = String::new();
    if cond.negated {
        out.push_str("not.");
    }
    out.push_str(cond.op.as_str());
    out.push('.');
    push_operand(&mut out, &cond.operand);
    out
}

fn push_group(out: &mut String, items: &[Expr]) {
    out.push('(');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_item(out, item);
    }
    out.push(')');
}

fn push_item(out: &mut String, expr: &Expr) {
    match expr {
        Expr::Cond(c) => {
            out.push_str(&c.field);
            out.push('.');
            out.push_str(&render_condition_value(c));
        }
        Expr::And(items) => {
            out.push_str("and");
            push_group(out, items);
        }
        Expr::Or(items) => {
            out.push_str("or");
            push_group(out, items);
        }
        Expr::Not(inner) => {
            out.push_str("not.");
            match &**inner {
                Expr::Or(items) => {
                    out.push_str("or");
                    push_group(out, items);
                }
                Expr::And(items) => {
                    out.push_str("and");
                    push_group(out, items);
                }
                other => {
                    out.push_str("and");
                    push_group(out, std::slice::from_ref(other));
                }
            }
        }
    }
}

/// Renders a logic tree as a query pair `(key, value)`, e.g. `("not.or", "(a.eq.1,b.lt.2)")`.
///
/// `And`, `Or`, `Not(And)` and `Not(Or)` roots round-trip through [`parse_logic`] provided
/// every group is non-empty and each `Not` wraps a group. Other shapes are written in an
/// equivalent form: a lone condition as `and=(cond)`, `Not(x)` as `not.and(x)`.
pub fn render_logic(expr: &Expr) -> (String, String) {
    let mut value = String::new();
    let key = match expr {
        Expr::And(items) => {
            push_group(&mut value, items);
            "and"
        }
        Expr::Or(items) => {
            push_group(&mut value, items);
            "or"
        }
        Expr::Not(inner) => match &**inner {
            Expr::And(items) => {
                push_group(&mut value, items);
                "not.and"
            }
            Expr::Or(items) => {
                push_group(&mut value, items);
                "not.or"
            }
            other => {
                push_group(&mut value, std::slice::from_ref(other));
                "not.and"
            }
        },
        Expr::Cond(_) => {
            push_group(&mut value, std::slice::from_ref(expr));
            "and"
        }
    };
    (key.to_owned(), value)
}

/// Renders `order=` terms, e.g. `age.desc,name.nullslast` (ascending is left implicit).
pub fn render_order(terms: &[OrderTerm]) -> String {
    let terms: Vec<String> = terms
        .iter()
        .map(|t| {
            let mut term = t.field.clone();
            if t.descending {
                term.push('.');
                term.push_str(Direction::Desc.as_str());
            }
            if let Some(n) = t.nulls {
                term.push('.');
                term.push_str(n.as_str());
            }
            term
        })
        .collect();
    terms.join(",")
}

/// Renders a `select=` value: `*`, `field,alias:field,...` and embeds
/// `alias:relation!hint!inner(...)`.
pub fn render_select(select: &Select) -> String {
    let mut parts: Vec<String> = Vec::new();
    if select.star {
        parts.push("*".to_owned());
    }
    parts.extend(select.items.iter().map(|i| match &i.alias {
        Some(alias) => format!("{alias}:{}", i.field),
        None => i.field.clone(),
    }));
    for e in &select.embeds {
        let mut p = String::new();
        if e.spread {
            p.push_str("...");
        }
        if let Some(a) = &e.alias {
            p.push_str(a);
            p.push(':');
        }
        p.push_str(&e.relation);
        if let Some(h) = &e.hint {
            p.push('!');
            p.push_str(h);
        }
        if e.inner {
            p.push_str("!inner");
        }
        p.push('(');
        p.push_str(&render_select(&e.select));
        p.push(')');
        parts.push(p);
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scalar(field: &str, negated: bool, op: Op, v: &str) -> Condition {
        let operand = Operand::Scalar(v.into());
        Condition {
            field: field.into(),
            negated,
            op,
            operand,
        }
    }

    fn list(field: &str, items: &[&str]) -> Condition {
        let operand = Operand::List(items.iter().map(|s| s.to_string()).collect());
        Condition {
            field: field.into(),
            negated: false,
            op: Op::In,
            operand,
        }
    }

    fn is(field: &str, v: IsValue) -> Condition {
        Condition {
            field: field.into(),
            negated: false,
            op: Op::Is,
            operand: Operand::Is(v),
        }
    }

    fn eq(field: &str, v: &str) -> Expr {
        Expr::Cond(scalar(field, false, Op::Eq, v))
    }

    fn not(e: Expr) -> Expr {
        Expr::Not(Box::new(e))
    }

    /// Asserts an error naming `param` whose message contains `fragment`.
    #[track_caller]
    fn fails<T: fmt::Debug>(r: Result<T, SyntaxError>, param: &str, fragment: &str) {
        let e = r.expect_err("expected a syntax error");
        assert_eq!(e.param, param, "{e:?}");
        assert!(
            e.message.contains(fragment),
            "{:?} lacks {fragment:?}",
            e.message
        );
    }

    fn query(pairs: &[(&str, &str)]) -> Result<ParsedQuery, SyntaxError> {
        parse_query(pairs.iter().copied(), &Limits::default())
    }

    #[test]
    fn op_and_is_value_names() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.as_str()), Some(op));
        }
        assert_eq!(
            op_names(),
            "eq, neq, gt, gte, lt, lte, like, ilike, in, is, cs, cd, ov"
        );
        assert_eq!(
            (Op::parse("EQ"), Op::parse("sl"), Op::parse("")),
            (None, None, None)
        );
        for v in IsValue::ALL {
            assert_eq!(IsValue::parse(v.as_str()), Some(v));
        }
        assert_eq!(is_value_names(), "null, not_null, true, false, unknown");
        assert_eq!(IsValue::parse("NULL"), None);
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        for n in Nulls::ALL {
            assert_eq!(Nulls::parse(n.as_str()), Some(n));
        }
        assert_eq!(order_form(), "`field[.asc|.desc][.nullsfirst|.nullslast]`");
        assert_eq!(
            (Direction::parse("DESC"), Nulls::parse("nulls")),
            (None, None)
        );
    }

    #[test]
    fn operator_table() {
        use TypeClass::*;
        let names = |class| {
            Op::ALL
                .into_iter()
                .filter(|op| op.applies_to(class))
                .map(Op::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(names(Text), "eq neq gt gte lt lte like ilike in is");
        assert_eq!(names(Ordered), "eq neq gt gte lt lte in is");
        assert_eq!(names(Bool), "eq neq in is");
        assert_eq!(names(Json), "is cs cd");
        assert_eq!(names(Enum), "eq neq in is");
        assert_eq!(names(Array), "is cs cd ov");
        let shapes = Op::ALL.map(Op::operand);
        assert_eq!(shapes[..8], [OperandShape::Scalar; 8]);
        assert_eq!(shapes[8..10], [OperandShape::List, OperandShape::Is]);
        assert_eq!(shapes[10..], [OperandShape::Scalar; 3]);
        for class in [Text, Ordered, Json, Enum, Array] {
            let values: Vec<_> = IsValue::ALL
                .into_iter()
                .filter(|v| v.applies_to(class))
                .collect();
            assert_eq!(values, [IsValue::Null, IsValue::NotNull]);
        }
        assert!(IsValue::ALL.into_iter().all(|v| v.applies_to(Bool)));
    }

    #[test]
    fn containment_literals() {
        let cs = |v: &str| Expr::Cond(scalar("tags", false, Op::Cs, v));
        assert_eq!(
            parse_condition("tags", "cs.{a,b}").unwrap(),
            scalar("tags", false, Op::Cs, "{a,b}")
        );
        assert_eq!(
            parse_condition("meta", "not.cd.{\"a\":[1,2]}").unwrap(),
            scalar("meta", true, Op::Cd, "{\"a\":[1,2]}")
        );
        // In a logic tree a `{...}` / `[...]` literal may hold `,`, `(`, `)` and quotes.
        assert_eq!(
            parse_logic("or", "(tags.cs.{a,\"b,c\"},tags.ov.[1,2],x.eq.1)", 4).unwrap(),
            Expr::Or(vec![
                cs("{a,\"b,c\"}"),
                Expr::Cond(scalar("tags", false, Op::Ov, "[1,2]")),
                eq("x", "1"),
            ])
        );
        assert_eq!(
            parse_where("tags.not.cs.{(a)},and(tags.cd.{a})", 4).unwrap(),
            Expr::And(vec![
                Expr::Cond(scalar("tags", true, Op::Cs, "{(a)}")),
                Expr::And(vec![Expr::Cond(scalar("tags", false, Op::Cd, "{a}"))]),
            ])
        );
        // Only after a containment operator: elsewhere `{` is plain text, and `,` ends it.
        assert_eq!(
            parse_logic("or", "(name.eq.{x,y.eq.1)", 4).unwrap(),
            Expr::Or(vec![eq("name", "{x"), eq("y", "1")])
        );
        fails(
            parse_logic("or", "(tags.cs.{a,b)", 4),
            "or",
            "has a `{...}` or `[...]` value without its closing bracket",
        );
        let (k, v) = render_logic(&Expr::Or(vec![cs("{a,b}"), cs("{x")]));
        assert_eq!(v, "(tags.cs.\"{a,b}\",tags.cs.\"{x\")");
        assert_eq!(
            parse_logic(&k, &v, 4).unwrap(),
            Expr::Or(vec![cs("{a,b}"), cs("{x")])
        );
    }

    #[test]
    fn unknown_words() {
        fn unknown<T: fmt::Debug>(r: Result<T, SyntaxError>) -> Option<Unknown> {
            r.unwrap_err().unknown
        }
        assert_eq!(
            unknown(parse_condition("a", "not.gtt.1")),
            Some(Unknown::Operator("gtt".into()))
        );
        assert_eq!(
            unknown(parse_logic("or", "(b.eq.1,a.is.nul)", 8)),
            Some(Unknown::IsValue("nul".into()))
        );
        assert_eq!(
            unknown(parse_where("and(a.EQ.1)", 8)),
            Some(Unknown::Operator("EQ".into()))
        );
        let e = parse_order("a.desc,b.dsc").unwrap_err();
        assert_eq!(e.unknown, Some(Unknown::OrderModifier("dsc".into())));
        assert_eq!(e.unknown.as_ref().map(Unknown::word), Some("dsc"));
        assert_eq!(
            e.unknown.map(|u| u.candidates()),
            Some(vec!["asc", "desc", "nullsfirst", "nullslast"])
        );
        assert_eq!(
            Unknown::Operator(String::new()).candidates().join(" "),
            "eq neq gt gte lt lte like ilike in is cs cd ov"
        );
        // Errors about anything else carry no word.
        for r in [
            parse_condition("a", "eq"),
            parse_condition("a", "in.1"),
            parse_condition("a b", "eq.1"),
        ] {
            assert_eq!(unknown(r), None);
        }
        assert_eq!(unknown(parse_order("a.desc.asc")), None);
        assert_eq!(unknown(query(&[("limit", "x")])), None);
    }

    #[test]
    fn where_filters() {
        assert_eq!(
            parse_where("a.eq.1, or(b.lt.2,c.is.null)", 8),
            parse_logic("and", "(a.eq.1, or(b.lt.2,c.is.null))", 8)
        );
        assert_eq!(
            parse_where("a.eq.\"x,y\"", 8),
            Ok(Expr::And(vec![eq("a", "x,y")]))
        );
        for (value, fragment) in [
            ("", "`where` is empty; give conditions such as `age.gte.18`"),
            (" ", "`where` is empty"),
            (
                "a.gtt.1",
                "in `where`: unknown operator `gtt` in `a`; expected one of eq",
            ),
            ("a.eq.x,y", "in `where`: `y` is not a condition"),
            ("a.eq.\"x", "`where` has an unterminated double quote"),
            ("or(a.eq.1", "`where` is missing a closing `)`"),
            ("a.eq.1,", "empty item in `where`"),
            ("or(or(a.eq.1))", "`where` nests deeper than 2 levels"),
        ] {
            fails(parse_where(value, 2), "where", fragment);
        }
    }

    #[test]
    fn conditions() {
        use Op::*;
        for (field, value, want) in [
            ("age", "eq.5", scalar("age", false, Eq, "5")),
            ("age", "not.gt.5", scalar("age", true, Gt, "5")),
            ("x", "eq.1.5", scalar("x", false, Eq, "1.5")),
            ("x", "eq.a.b", scalar("x", false, Eq, "a.b")),
            ("x", "eq.", scalar("x", false, Eq, "")),
            ("x", "neq.not.", scalar("x", false, Neq, "not.")),
            ("x", "like.*ab*", scalar("x", false, Like, "*ab*")),
            ("x", "not.ilike.A*", scalar("x", true, Ilike, "A*")),
            ("x", "lte. a b ", scalar("x", false, Lte, " a b ")),
            ("x", "gte.é\0\\", scalar("x", false, Gte, "é\0\\")),
            ("x", "lt.a\\nb", scalar("x", false, Lt, "a\\nb")),
            // At top level `,()` need no quotes and a quote inside a value is literal.
            ("x", "eq.f(a,b)", scalar("x", false, Eq, "f(a,b)")),
            ("x", "eq.a\"b", scalar("x", false, Eq, "a\"b")),
            ("a.b", "lt.1", scalar("a.b", false, Lt, "1")),
            // Quoted values.
            ("x", "eq.\"a,b\"", scalar("x", false, Eq, "a,b")),
            ("x", "eq.\"(a.b)\"", scalar("x", false, Eq, "(a.b)")),
            (
                "x",
                r#"eq."say \"hi\"""#,
                scalar("x", false, Eq, "say \"hi\""),
            ),
            (
                "x",
                r#"eq."back\\slash""#,
                scalar("x", false, Eq, "back\\slash"),
            ),
            ("x", r#"eq."a\nb""#, scalar("x", false, Eq, "a\\nb")),
            ("x", "eq.\"\"", scalar("x", false, Eq, "")),
            // Lists.
            ("x", "in.(1,2,3)", list("x", &["1", "2", "3"])),
            ("x", "in.()", list("x", &[])),
            ("x", "in.(,)", list("x", &["", ""])),
            ("x", "in.(\"\")", list("x", &[""])),
            ("x", "in.( a ,b.c)", list("x", &[" a ", "b.c"])),
            (
                "x",
                r#"in.(a,"b,c","(d.e)","f\"g\\")"#,
                list("x", &["a", "b,c", "(d.e)", "f\"g\\"]),
            ),
            (
                "x",
                "not.in.(1)",
                Condition {
                    negated: true,
                    ..list("x", &["1"])
                },
            ),
            ("x", "is.null", is("x", IsValue::Null)),
            ("x", "is.not_null", is("x", IsValue::NotNull)),
            ("x", "is.true", is("x", IsValue::True)),
            ("x", "is.false", is("x", IsValue::False)),
            (
                "x",
                "not.is.unknown",
                Condition {
                    negated: true,
                    ..is("x", IsValue::Unknown)
                },
            ),
        ] {
            assert_eq!(parse_condition(field, value), Ok(want), "{field}={value}");
        }
    }

    #[test]
    fn condition_errors() {
        let e = parse_condition("age", "foo.5").unwrap_err();
        assert_eq!(e.param, "age");
        assert_eq!(
            e.message,
            "unknown operator `foo` in `age`; expected one of eq, neq, gt, gte, lt, lte, \
             like, ilike, in, is, cs, cd, ov (optionally prefixed with `not.`)"
        );
        assert_eq!(e.to_string(), e.message);
        for (value, fragment) in [
            (
                "5",
                "filter `age` must have the form `age=op.value`, e.g. `age=eq.5`; got `age=5`",
            ),
            ("eq", "`age=op.value`"),
            ("not.eq", "`age=op.value`"),
            ("", "`age=op.value`"),
            (".5", "unknown operator ``"),
            ("not.not.eq.1", "unknown operator `not`"),
            ("EQ.1", "unknown operator `EQ`"),
            (
                "eq.\"abc",
                "the value of `age` has an unterminated double quote",
            ),
            (r#"eq."abc\""#, "unterminated"),
            ("eq.\"a\"b", "unexpected `b` after the closing quote"),
            (
                "in.1,2",
                "`in` on `age` needs a parenthesized list, e.g. `in.(1,2,3)`",
            ),
            ("in.", "parenthesized list"),
            (
                "in.(1,2",
                "the `in` list of `age` is missing its closing `)`",
            ),
            ("in.(", "missing its closing `)`"),
            ("in.(1)2", "unexpected `2` after the closing `)`"),
            ("in.()2", "unexpected `2` after the closing `)`"),
            (
                "in.(a(b)",
                "the item `a(` in the `in` list of `age` contains `(`; wrap the whole",
            ),
            ("in.(a\"b\")", "contains `\"`"),
            ("in.(\"a\"b)", "unexpected `b` after a quoted item"),
            ("in.(\"a)", "unterminated"),
            (
                "is.nil",
                "`is` on `age` takes one of null, not_null, true, false, unknown; got `nil`",
            ),
            ("is.Null", "got `Null`"),
        ] {
            fails(parse_condition("age", value), "age", fragment);
        }
        fails(parse_condition("", "eq.1"), "", "empty field name");
        for bad in ["a b", "a(b", "a)", "a,b", "a\"b", "a\tb"] {
            fails(parse_condition(bad, "eq.1"), bad, "must not contain");
        }
        // Long input is shortened and control characters are escaped in messages.
        let e = parse_condition("x", &format!("{}.1", "z".repeat(1000))).unwrap_err();
        assert!(
            e.message.len() < 300 && e.message.contains('…'),
            "{}",
            e.message
        );
        fails(parse_condition("x", "a\0b.1"), "x", "`a\\u{0}b`");
    }

    #[test]
    fn logic_trees() {
        let ok = |k, v| parse_logic(k, v, 8).unwrap();
        assert_eq!(
            ok("or", "(a.eq.1,and(b.lt.2,c.is.null))"),
            Expr::Or(vec![
                eq("a", "1"),
                Expr::And(vec![
                    Expr::Cond(scalar("b", false, Op::Lt, "2")),
                    Expr::Cond(is("c", IsValue::Null)),
                ]),
            ])
        );
        assert_eq!(
            ok("not.or", "(a.not.eq.1)"),
            not(Expr::Or(vec![Expr::Cond(scalar("a", true, Op::Eq, "1"))]))
        );
        assert_eq!(
            ok("and", "(not.and(a.eq.1),not.or(b.eq.2),or(c.eq.3))"),
            Expr::And(vec![
                not(Expr::And(vec![eq("a", "1")])),
                not(Expr::Or(vec![eq("b", "2")])),
                Expr::Or(vec![eq("c", "3")]),
            ])
        );
        assert_eq!(
            ok(
                "not.and",
                r#"(a.in.(1,"x,)"),b.eq."q,(r)",c.eq.1.5,d.eq.,e.in.())"#
            ),
            not(Expr::And(vec![
                Expr::Cond(list("a", &["1", "x,)"])),
                eq("b", "q,(r)"),
                eq("c", "1.5"),
                eq("d", ""),
                Expr::Cond(list("e", &[])),
            ]))
        );
        // Whitespace before an item is skipped; fields named like keywords are fields.
        assert_eq!(
            ok("or", "(a.eq.1, and.eq.2,\n not.eq.3, or.eq.*)"),
            Expr::Or(vec![
                eq("a", "1"),
                eq("and", "2"),
                eq("not", "3"),
                eq("or", "*")
            ])
        );
    }

    #[test]
    fn logic_errors() {
        fails(
            parse_logic("xor", "(a.eq.1)", 8),
            "xor",
            "`xor` is not a logic operator",
        );
        for (value, fragment) in [
            (
                "a.eq.1",
                "`or` must be a parenthesized list of conditions, e.g. `or=(age.lt.18",
            ),
            ("", "parenthesized list"),
            ("()", "empty group `()` in `or`"),
            ("(and())", "empty group"),
            ("(a.eq.1,)", "empty item in `or`"),
            ("(,a.eq.1)", "empty item"),
            ("(a.eq.1,,b.eq.2)", "empty item"),
            ("(a.eq.1", "`or` is missing a closing `)`"),
            ("(and(a.eq.1)", "missing a closing `)`"),
            ("(", "missing a closing `)`"),
            ("(a.eq.1))", "unexpected `)` after the closing `)` of `or`"),
            ("(a.eq.1)x", "unexpected `x` after the closing `)`"),
            (
                "(and(a.eq.1)x)",
                "unexpected `x` in `or`; separate items with `,`",
            ),
            ("((a.eq.1))", "unexpected `(` in `or`"),
            (
                "(a)",
                "in `or`: `a` is not a condition; expected `field.op.value`",
            ),
            (
                "(a.5)",
                "in `or`: condition `a.5` must have the form `field.op.value`",
            ),
            ("(a.foo.1)", "in `or`: unknown operator `foo` in `a`"),
            ("(a.eq.f(x))", "in `or`: the value `f(x)` of `a` contains"),
            ("(a.eq.x\"y\")", "wrap it in double quotes"),
            ("(a.eq.\"x)", "`or` has an unterminated double quote"),
            ("(a.eq.\"x\"y)", "after the closing quote"),
            ("(a b.eq.1)", "must not contain whitespace"),
            ("(a.is.maybe)", "in `or`: `is` on `a` takes one of"),
        ] {
            fails(parse_logic("or", value, 8), "or", fragment);
        }
    }

    #[test]
    fn logic_depth() {
        let nested = "(and(or(not.and(a.eq.1))))"; // depth 4
        assert!(parse_logic("or", nested, 4).is_ok());
        let e = parse_logic("or", nested, 3).unwrap_err();
        assert_eq!(
            (e.param.as_str(), e.message.as_str()),
            ("or", "`or` nests deeper than 3 levels")
        );
        assert!(parse_logic("not.or", "(a.eq.1)", 1).is_ok());
        fails(
            parse_logic("not.or", "(and(a.eq.1))", 1),
            "not.or",
            "deeper than 1 levels",
        );
        fails(
            parse_logic("or", "(a.eq.1)", 0),
            "or",
            "deeper than 0 levels",
        );
    }

    #[test]
    fn deep_input_does_not_overflow() {
        for unit in ["(", "and(", "not.or(", "a.in.(", "\"", ")"] {
            let s = unit.repeat(10_000 / unit.len());
            for depth in [8, usize::MAX] {
                assert!(parse_logic("or", &s, depth).is_err());
                assert!(parse_logic("or", &format!("({s}"), depth).is_err());
            }
            assert!(parse_condition("a", &s).is_err());
            assert!(parse_order(&s).is_err());
            assert!(parse_select(&s).is_err());
        }
        // A legal tree 2000 levels deep parses (and drops) when the limit allows it.
        let n = 2000;
        let s = format!("({}a.eq.1{})", "and(".repeat(n), ")".repeat(n));
        assert!(parse_logic("or", &s, usize::MAX).is_ok());
        fails(parse_logic("or", &s, 8), "or", "deeper than 8 levels");
    }

    #[test]
    fn order() {
        let t = |f: &str, descending, nulls| OrderTerm {
            field: f.into(),
            descending,
            nulls,
        };
        assert_eq!(
            parse_order("age.desc,name.asc.nullslast,id, x.nullsfirst ,y.desc.nullsfirst"),
            Ok(vec![
                t("age", true, None),
                t("name", false, Some(Nulls::Last)),
                t("id", false, None),
                t("x", false, Some(Nulls::First)),
                t("y", true, Some(Nulls::First)),
            ])
        );
        for (value, fragment) in [
            (
                "age.up",
                "unknown modifier `up` in `order` term `age.up`; expected `field[.asc|",
            ),
            ("age.nullsfirst.desc", "misplaced `desc`"),
            ("age.desc.asc", "misplaced `asc`"),
            ("age.nullslast.nullsfirst", "misplaced `nullsfirst`"),
            ("age.", "unknown modifier ``"),
            ("", "`order` has an empty term"),
            ("a,", "empty term"),
            ("a,,b", "empty term"),
            (".desc", "in `order`: empty field name"),
            ("a(b)", "must not contain `(`"),
        ] {
            fails(parse_order(value), "order", fragment);
        }
    }

    #[test]
    fn select() {
        let item = |alias: Option<&str>, field: &str| SelectItem {
            alias: alias.map(Into::into),
            field: field.into(),
        };
        let fields = |items: Vec<SelectItem>| Select {
            star: false,
            items,
            embeds: vec![],
        };
        assert_eq!(parse_select("*"), Ok(Select::all()));
        assert_eq!(parse_select(" * "), Ok(Select::all()));
        assert_eq!(
            parse_select("name, fullName:name ,id,a : b"),
            Ok(fields(vec![
                item(None, "name"),
                item(Some("fullName"), "name"),
                item(None, "id"),
                item(Some("a"), "b"),
            ]))
        );
        let embed =
            |alias: Option<&str>, relation: &str, hint: Option<&str>, inner, select| Embed {
                alias: alias.map(Into::into),
                relation: relation.into(),
                hint: hint.map(Into::into),
                inner,
                spread: false,
                select,
            };
        assert_eq!(
            parse_select("id,...users!owner_id(name)"),
            Ok(Select {
                star: false,
                items: vec![item(None, "id")],
                embeds: vec![Embed {
                    spread: true,
                    ..embed(
                        None,
                        "users",
                        Some("owner_id"),
                        false,
                        fields(vec![item(None, "name")])
                    )
                }],
            })
        );
        assert_eq!(
            parse_select("*, author:users!owner_id(name), posts!inner(id,comments(*))"),
            Ok(Select {
                star: true,
                items: vec![],
                embeds: vec![
                    embed(
                        Some("author"),
                        "users",
                        Some("owner_id"),
                        false,
                        fields(vec![item(None, "name")])
                    ),
                    embed(
                        None,
                        "posts",
                        None,
                        true,
                        Select {
                            star: false,
                            items: vec![item(None, "id")],
                            embeds: vec![embed(None, "comments", None, false, Select::all())],
                        }
                    ),
                ],
            })
        );
        assert_eq!(parse_select("a,b(c(d(e)))").map(|s| s.depth()), Ok(3));
        for (value, fragment) in [
            ("", "`select` is empty"),
            ("a,", "`select` has an empty item"),
            ("a,*", "`*` in `select` must come first"),
            ("*,a", "`*` already selects every readable field"),
            ("a,x:*", "`*` cannot be renamed"),
            ("users()", "nothing to select"),
            ("users(name", "unbalanced parentheses"),
            ("users(name))", "unbalanced parentheses"),
            ("users(name)x", "text after its `)`"),
            ("...name", "only an embedded resource can be spread"),
            ("...a:users(name)", "a spread resource takes no alias"),
            ("users!a!b(name)", "unexpected `!b`"),
            ("a.b(name)", "must be a resource name"),
            ("a::text", "casts (`::`) are not supported"),
            ("x:a::text", "casts (`::`)"),
            ("a:b:c", "`select` item `a:b:c` has more than one `:`"),
            (":a", "in `select`: empty alias name"),
            ("a:", "empty field name"),
            ("items(*", "unbalanced parentheses"),
            ("a b", "must not contain whitespace"),
        ] {
            fails(parse_select(value), "select", fragment);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_non_negative("limit", "0"), Ok(0));
        assert_eq!(parse_non_negative("limit", "007"), Ok(7));
        assert_eq!(
            parse_non_negative("offset", &u64::MAX.to_string()),
            Ok(u64::MAX)
        );
        for bad in ["", "-1", "+1", " 1", "1.0", "1e3", "٣", "0x10"] {
            fails(
                parse_non_negative("limit", bad),
                "limit",
                "`limit` must be a non-negative integer",
            );
        }
        fails(
            parse_non_negative("offset", "18446744073709551616"),
            "offset",
            "`offset` is too large",
        );
    }

    #[test]
    fn range_header() {
        assert_eq!(parse_range_header("0-24"), Ok((0, Some(24))));
        assert_eq!(parse_range_header("10-"), Ok((10, None)));
        assert_eq!(parse_range_header(" 5-5 "), Ok((5, Some(5))));
        for (value, fragment) in [
            (
                "10-5",
                "the `Range` upper bound 5 is less than the lower bound 10",
            ),
            (
                "-5",
                "the `Range` lower bound must be a non-negative integer",
            ),
            ("5", "`Range` must look like `0-24` or `10-`"),
            ("", "must look like"),
            ("1-2-3", "upper bound must be"),
            ("items=0-5", "lower bound must be"),
            ("0-99999999999999999999", "upper bound is too large"),
        ] {
            fails(parse_range_header(value), "Range", fragment);
        }
    }

    #[test]
    fn whole_query() {
        let q = query(&[
            ("select", "id,fullName:name"),
            ("age", "gte.18"),
            ("or", "(a.eq.1,b.eq.2)"),
            ("age", "lt.65"),
            ("order", "age.desc"),
            ("limit", "10"),
            ("offset", "20"),
            ("not.and", "(c.is.true)"),
            ("a.b", "eq.1"),
            ("not", "eq.1"),
        ]);
        let want = ParsedQuery {
            select: parse_select("id,fullName:name").ok(),
            filters: vec![
                Expr::Cond(scalar("age", false, Op::Gte, "18")),
                Expr::Or(vec![eq("a", "1"), eq("b", "2")]),
                Expr::Cond(scalar("age", false, Op::Lt, "65")),
                not(Expr::And(vec![Expr::Cond(is("c", IsValue::True))])),
                eq("not", "1"),
            ],
            order: parse_order("age.desc").ok(),
            limit: Some(10),
            offset: Some(20),
            embedded: vec![EmbedParam {
                param: "a.b".into(),
                path: vec!["a".into()],
                kind: EmbedParamKind::Filter(eq("b", "1")),
            }],
        };
        assert_eq!(q, Ok(want));
        assert_eq!(query(&[]), Ok(ParsedQuery::default()));
        for (key, value) in [
            ("select", "a"),
            ("order", "a"),
            ("limit", "1"),
            ("offset", "1"),
        ] {
            let e = query(&[(key, value), ("x", "eq.1"), (key, value)]).unwrap_err();
            assert_eq!(
                (e.param.as_str(), e.message),
                (key, format!("`{key}` may appear only once"))
            );
        }
        for (key, value, fragment) in [
            ("", "x", "a query parameter has an empty name"),
            ("limit", "-1", "non-negative"),
            ("select", "", "empty"),
            ("order", "a.b", "unknown modifier `b`"),
            ("age", "5", "`age=op.value`"),
            ("a b", "eq.5", "whitespace"),
            ("or", "a.eq.1", "parenthesized"),
        ] {
            fails(query(&[(key, value)]), key, fragment);
        }
    }

    #[test]
    fn query_limits() {
        let d = Limits::default();
        assert_eq!(
            (d.max_depth, d.max_conditions, d.max_in_items),
            (8, 50, 100)
        );
        let small = Limits {
            max_depth: 2,
            max_conditions: 3,
            max_in_items: 2,
        };
        let run = |pairs: &[(&str, &str)]| parse_query(pairs.iter().copied(), &small);
        assert!(run(&[("a", "eq.1"), ("or", "(b.eq.1,and(c.eq.1))")]).is_ok());
        assert!(run(&[("a", "in.(1,2)"), ("or", "(b.in.(1,2))")]).is_ok());
        for (pairs, param, fragment) in [
            (
                &[("a", "eq.1"), ("or", "(b.eq.1,and(c.eq.1,d.eq.1))")][..],
                "or",
                "too many filter conditions at `or`",
            ),
            (
                &[("or", "(b.eq.1,c.eq.1,d.eq.1)"), ("a", "eq.1")],
                "a",
                "too many filter conditions at `a`; a query may have at most 3",
            ),
            (
                &[("a", "in.(1,2,3)")],
                "a",
                "the `in` list of `a` has more than 2 items",
            ),
            (
                &[("or", "(b.in.(1,2,3))")],
                "or",
                "in `or`: the `in` list of `b` has more than 2 items",
            ),
            (
                &[("or", "(or(or(a.eq.1)))")],
                "or",
                "`or` nests deeper than 2 levels",
            ),
            (
                &[("not.and", "(or(or(a.eq.1)))")],
                "not.and",
                "`not.and` nests deeper than 2 levels",
            ),
        ] {
            fails(run(pairs), param, fragment);
        }
        // parse_logic and parse_condition alone are not limited in size.
        assert!(parse_condition("a", "in.(1,2,3)").is_ok());
        assert!(parse_logic("or", "(a.eq.1,b.eq.1,c.eq.1,d.eq.1)", 1).is_ok());
    }

    #[test]
    fn render_shapes() {
        let value = |c| render_condition_value(&c);
        assert_eq!(
            value(list("a", &["1", "", "x,y", "q\"\\"])),
            r#"in.(1,"","x,y","q\"\\")"#
        );
        assert_eq!(
            value(scalar("a", true, Op::Like, "*x.y* \\")),
            "not.like.*x.y* \\"
        );
        assert_eq!(value(scalar("a", false, Op::Eq, "\"")), r#"eq."\"""#);
        assert_eq!(value(scalar("a", false, Op::Eq, "f(x)")), r#"eq."f(x)""#);
        assert_eq!(value(is("a", IsValue::NotNull)), "is.not_null");
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let tree = Expr::Or(vec![
            eq("a", "1,2"),
            Expr::And(vec![Expr::Cond(list("b", &["x"]))]),
        ]);
        assert_eq!(
            render_logic(&not(tree)),
            pair("not.or", r#"(a.eq."1,2",and(b.in.(x)))"#)
        );
        // Shapes without a direct spelling render as equivalents.
        assert_eq!(render_logic(&eq("a", "1")), pair("and", "(a.eq.1)"));
        assert_eq!(
            render_logic(&not(eq("a", "1"))),
            pair("not.and", "(a.eq.1)")
        );
        assert_eq!(
            render_logic(&Expr::Or(vec![not(eq("a", "1"))])),
            pair("or", "(not.and(a.eq.1))")
        );
        assert_eq!(
            render_order(&parse_order("a.asc,b.desc.nullslast").unwrap()),
            "a,b.desc.nullslast"
        );
        assert_eq!(render_select(&Select::all()), "*");
        assert_eq!(render_select(&parse_select("a, b:c").unwrap()), "a,b:c");
    }

    // ---- property tests ----

    fn field() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,8}"
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), r#"[,()".\\*a-z é\x00\t]{0,12}"#]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        let scalar_ops = Op::ALL
            .into_iter()
            .filter(|op| op.operand() == OperandShape::Scalar);
        let scalar_op = prop::sample::select(scalar_ops.collect::<Vec<_>>());
        let operand = prop_oneof![
            (scalar_op, value()).prop_map(|(op, v)| (op, Operand::Scalar(v))),
            prop::collection::vec(value(), 0..5).prop_map(|l| (Op::In, Operand::List(l))),
            prop::sample::select(IsValue::ALL.to_vec()).prop_map(|v| (Op::Is, Operand::Is(v))),
        ];
        (field(), any::<bool>(), operand).prop_map(|(field, negated, (op, operand))| Condition {
            field,
            negated,
            op,
            operand,
        })
    }

    fn group_of(items: impl Strategy<Value = Vec<Expr>>) -> impl Strategy<Value = Expr> {
        (items, 0..4u8).prop_map(|(items, shape)| match shape {
            0 => Expr::And(items),
            1 => Expr::Or(items),
            2 => Expr::Not(Box::new(Expr::And(items))),
            _ => Expr::Not(Box::new(Expr::Or(items))),
        })
    }

    /// Logic trees whose root is a group; at most 5 levels deep.
    fn tree() -> impl Strategy<Value = Expr> {
        let item = condition()
            .prop_map(Expr::Cond)
            .prop_recursive(4, 24, 4, |inner| {
                group_of(prop::collection::vec(inner, 1..4))
            });
        group_of(prop::collection::vec(item, 1..4))
    }

    fn order_terms() -> impl Strategy<Value = Vec<OrderTerm>> {
        let nulls = prop::option::of(prop_oneof![Just(Nulls::First), Just(Nulls::Last)]);
        prop::collection::vec(
            (field(), any::<bool>(), nulls).prop_map(|(field, descending, nulls)| OrderTerm {
                field,
                descending,
                nulls,
            }),
            1..5,
        )
    }

    fn selects() -> impl Strategy<Value = Select> {
        let item = (prop::option::of(field()), field())
            .prop_map(|(alias, field)| SelectItem { alias, field });
        let flat = (any::<bool>(), prop::collection::vec(item, 0..5))
            .prop_filter("`*` or fields", |(star, items)| *star == items.is_empty())
            .prop_map(|(star, items)| Select {
                star,
                items,
                embeds: vec![],
            });
        flat.prop_recursive(3, 12, 3, |inner| {
            let embed = (
                prop::option::of(field()),
                field(),
                prop::option::of(
                    field().prop_filter("not a keyword", |h| h != "inner" && h != "left"),
                ),
                any::<bool>(),
                any::<bool>(),
                inner.clone(),
            )
                .prop_map(|(alias, relation, hint, inner, spread, select)| Embed {
                    alias: alias.filter(|_| !spread),
                    relation,
                    hint,
                    inner,
                    spread,
                    select,
                });
            (inner, prop::collection::vec(embed, 1..3)).prop_map(|(mut s, embeds)| {
                s.embeds = embeds;
                s
            })
        })
    }

    /// Text made of grammar fragments, up to ~12k characters.
    fn grammar_soup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("("),
            Just(")"),
            Just(","),
            Just("."),
            Just("\""),
            Just("\\"),
            Just("and("),
            Just("not.or("),
            Just("a.eq.1"),
            Just("in.("),
            Just("not."),
            Just("é"),
            Just("\0"),
        ];
        // A short random run repeated keeps generation cheap while reaching ~10k characters.
        (prop::collection::vec(piece, 0..300), 1..12usize).prop_map(|(v, n)| v.concat().repeat(n))
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            grammar_soup(),
            (0..10_000usize).prop_map(|n| "(".repeat(n)),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "select", "order", "limit", "offset", "or", "and", "not.or", "not.and", "a", ""
            ])
            .prop_map(String::from),
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn parsers_never_panic(k in key(), v in any_text(), depth in 0usize..12) {
            let _ = parse_condition(&k, &v);
            let _ = parse_logic(&k, &v, depth);
            let _ = parse_logic("or", &v, depth);
            let _ = parse_logic("not.and", &v, usize::MAX);
            let _ = parse_order(&v);
            let _ = parse_select(&v);
            let _ = parse_non_negative(&k, &v);
            let _ = parse_range_header(&v);
        }

        #[test]
        fn where_accepts_what_an_and_tree_accepts(v in any_text(), depth in 0usize..12) {
            let tree = parse_logic("and", &format!("({v})"), depth);
            let filter = parse_where(&v, depth);
            prop_assert_eq!(filter.as_ref().ok(), tree.as_ref().ok(), "{:?} / {:?}", filter, tree);
        }

        #[test]
        fn where_round_trips(
            items in prop::collection::vec(prop_oneof![condition().prop_map(Expr::Cond), tree()], 1..4)
        ) {
            let expr = Expr::And(items);
            let (_, value) = render_logic(&expr);
            prop_assert_eq!(parse_where(&value[1..value.len() - 1], 8), Ok(expr));
        }

        #[test]
        fn parse_query_never_panics(pairs in prop::collection::vec((key(), any_text()), 0..4)) {
            let _ = parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &Limits::default());
        }

        #[test]
        fn condition_round_trips(c in condition()) {
            let rendered = render_condition_value(&c);
            prop_assert_eq!(parse_condition(&c.field, &rendered), Ok(c));
        }

        #[test]
        fn logic_round_trips(expr in tree()) {
            let (key, value) = render_logic(&expr);
            prop_assert_eq!(parse_logic(&key, &value, 8), Ok(expr));
        }

        #[test]
        fn order_round_trips(terms in order_terms()) {
            prop_assert_eq!(parse_order(&render_order(&terms)), Ok(terms));
        }

        #[test]
        fn select_round_trips(select in selects()) {
            prop_assert_eq!(parse_select(&render_select(&select)), Ok(select));
        }

        #[test]
        fn query_round_trips(
            select in prop::option::of(selects()),
            order in prop::option::of(order_terms()),
            limit in prop::option::of(any::<u64>()),
            offset in prop::option::of(any::<u64>()),
            filters in prop::collection::vec(prop_oneof![
                condition()
                    .prop_filter("reserved key", |c| !matches!(
                        c.field.as_str(),
                        "select" | "order" | "limit" | "offset" | "or" | "and"
                    ))
                    .prop_map(Expr::Cond),
                tree(),
            ], 0..5),
        ) {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for f in &filters {
                pairs.push(match f {
                    Expr::Cond(c) => (c.field.clone(), render_condition_value(c)),
                    tree => render_logic(tree),
                });
            }
            let mut reserved = vec![];
            reserved.extend(select.as_ref().map(|s| ("select".to_string(), render_select(s))));
            reserved.extend(order.as_ref().map(|o| ("order".to_string(), render_order(o))));
            reserved.extend(limit.map(|n| ("limit".to_string(), n.to_string())));
            reserved.extend(offset.map(|n| ("offset".to_string(), n.to_string())));
            // Interleave reserved keys among the filters.
            for (i, pair) in reserved.into_iter().enumerate() {
                pairs.insert((i * 2).min(pairs.len()), pair);
            }
            let limits = Limits { max_depth: 8, max_conditions: usize::MAX, max_in_items: usize::MAX };
            let parsed = parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits);
            prop_assert_eq!(parsed, Ok(ParsedQuery { select, filters, order, limit, offset, embedded: vec![] }));
        }

        #[test]
        fn embedded_params_are_read_by_their_path(
            path in prop::collection::vec(field(), 1..3),
            cond in condition().prop_filter("reserved key", |c| !matches!(
                c.field.as_str(),
                "order" | "limit" | "offset" | "or" | "and"
            )),
            order in order_terms(),
            limit in any::<u64>(),
        ) {
            let prefix = path.join(".");
            let pairs = [
                (format!("{prefix}.{}", cond.field), render_condition_value(&cond)),
                (format!("{prefix}.order"), render_order(&order)),
                (format!("{prefix}.limit"), limit.to_string()),
            ];
            let limits = Limits { max_depth: 8, max_conditions: usize::MAX, max_in_items: usize::MAX };
            let parsed = parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits)
                .expect("parses");
            let kinds: Vec<_> = parsed.embedded.iter().map(|p| (p.path.clone(), p.kind.clone())).collect();
            prop_assert_eq!(kinds, vec![
                (path.clone(), EmbedParamKind::Filter(Expr::Cond(cond))),
                (path.clone(), EmbedParamKind::Order(order)),
                (path, EmbedParamKind::Limit(limit)),
            ]);
            prop_assert!(parsed.filters.is_empty());
        }
    }
}
