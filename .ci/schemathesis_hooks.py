"""Schemathesis hooks for .ci/openapi.sh: constraints that JSON Schema cannot state.

The OpenAPI document says them in words; these hooks keep generated requests within them so
that a refusal of such a request is not reported as a rejected valid request.
"""
import json
import os
import re

import jsonschema

import schemathesis

# The document under test (saved by .ci/openapi.sh), for the parameter patterns.
with open(os.environ["ST_DOCUMENT"], encoding="utf-8") as f:
    DOCUMENT = json.load(f)


def _patterns(method, path):
    """(location, name) -> compiled pattern of each parameter of an operation."""
    item = DOCUMENT["paths"].get(path, {})
    params = item.get("parameters", []) + item.get(method.lower(), {}).get("parameters", [])
    out = {}
    for p in params:
        schema = p.get("schema", {})
        if "$ref" in schema:
            schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if "pattern" in schema:
            out[(p["in"], p["name"].lower() if p["in"] == "header" else p["name"])] = re.compile(
                schema["pattern"]
            )
    return out


def _schema_invalid(case):
    """Whether a string parameter of the case breaks its documented pattern."""
    patterns = _patterns(case.method, case.operation.path)
    sent = [("query", k, v) for k, v in (case.query or {}).items()]
    sent += [("header", k.lower(), v) for k, v in (case.headers or {}).items()]
    # Values filled in from earlier responses may be numbers: they are sent as their text.
    text = lambda v: v if isinstance(v, str) else json.dumps(v)
    return any(
        (loc, k) in patterns and not patterns[(loc, k)].fullmatch(text(v))
        for loc, k, v in sent
        if isinstance(v, (str, int, float))
    )

RANGE = re.compile(r"^(items=)?([0-9]+)-([0-9]+)$")


@schemathesis.hook
def map_headers(ctx, headers):
    """`Range: first-last` needs last >= first: swap the bounds when they are reversed."""
    if headers and isinstance(headers.get("Range"), str):
        m = RANGE.match(headers["Range"])
        if m and int(m.group(3)) < int(m.group(2)):
            headers["Range"] = f"{m.group(1) or ''}{m.group(3)}-{m.group(2)}"
    return headers


# Rust's `char::is_whitespace`, which the server trims (Python's `str.strip` trims more).
RUST_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


@schemathesis.hook
def map_query(ctx, query):
    """`select` may not give two columns the same name: keep the first of each name."""
    value = (query or {}).get("select")
    if not isinstance(value, str) or value.strip(RUST_WS) == "*":
        return query
    items, names = [], set()
    for item in value.strip(RUST_WS).split(","):
        alias, _, field = item.partition(":")
        name = (alias if field else item).strip(RUST_WS)
        if name not in names:
            names.add(name)
            items.append(item)
    query["select"] = ",".join(items)
    return query


def _prefer(case):
    """The request's `Prefer` values, joined."""
    return ",".join(str(v) for k, v in (case.headers or {}).items() if k.lower() == "prefer")


def _schema(ref_or_schema):
    """A schema with its `$ref` (to the components) followed."""
    ref = ref_or_schema.get("$ref") if isinstance(ref_or_schema, dict) else None
    return DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def _body_schema(method, path):
    """The object schema of an operation's JSON body (the object of a `oneOf`)."""
    op = DOCUMENT["paths"].get(path, {}).get(method.lower(), {})
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return {}
    for s in schema.get("oneOf", [schema]):
        s = _schema(s)
        if s.get("type") == "object":
            return s
    return {}


def _unquote(name):
    name = name.strip(RUST_WS)
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Keeps generated writes within rules the document states in words, across parameters.

    - `on_conflict` applies to an upsert only: without `Prefer: resolution=...` it is refused
      (400); the preference is added (merge or ignore, by the text of `on_conflict`), so that
      upserts are tested rather than refused.
    - `columns` must name every field the body requires (a row without one breaks a rule of
      the table, 422): the missing ones are appended.
    - A `PUT` body may carry the key, which must then be the path's (400): a generated key of
      the right type is replaced by the path's.
    """
    method, path = case.method.upper(), case.operation.path
    query = case.query if isinstance(case.query, dict) else None
    if method == "POST" and query is not None:
        on_conflict = query.get("on_conflict")
        if isinstance(on_conflict, str) and "resolution=" not in _prefer(case):
            pref = f"resolution={'merge' if len(on_conflict) % 2 else 'ignore'}-duplicates"
            if case.headers is None:
                case.headers = {}
            name = next((k for k in case.headers if k.lower() == "prefer"), "Prefer")
            prefer = case.headers.get(name)
            case.headers[name] = f"{prefer}, {pref}" if isinstance(prefer, str) and prefer else pref
        columns = query.get("columns")
        if isinstance(columns, str):
            named = {_unquote(n) for n in columns.split(",")}
            required = _body_schema(method, path).get("required", [])
            missing = [r for r in required if r not in named]
            if missing:
                query["columns"] = ",".join([columns] + missing)
    if method == "PUT" and isinstance(case.body, dict):
        key = _key_name(path)
        sent, wanted = case.body.get(key), (case.path_parameters or {}).get("id")
        # The path's value may come as its text (the coverage phase).
        if type(sent) is int and isinstance(wanted, str) and re.fullmatch(r"[+-]?[0-9]+", wanted):
            wanted = int(wanted)
        if key in case.body and type(sent) is type(wanted) and type(sent) in (int, str):
            case.body[key] = wanted


def _key_name(path):
    """The key's name in the bodies of an item path's `PUT`: `x-expose-key` of the read schema
    (`{Name}`) of its body schema (`{Name}Replace`)."""
    op = DOCUMENT["paths"].get(path, {}).get("put", {})
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    read = DOCUMENT["components"]["schemas"].get(name[: -len("Replace")] if name.endswith("Replace") else "", {})
    return read.get("x-expose-key")


NO_BODY = ("return=minimal", "return=headers-only")


def _no_body_documented(case, response):
    """Whether the document says this write is answered without a body.

    Item writes and single-object creates have none with `return=minimal` or
    `return=headers-only`. A create answered PostgREST's way (an array, `columns`, an upsert)
    has none unless `return=representation` asked for the rows.
    """
    prefer = _prefer(case)
    if response.status_code not in (200, 201, 204):
        return False
    if any(p in prefer for p in NO_BODY):
        return True
    if case.method.upper() != "POST" or "return=representation" in prefer:
        return False
    query = case.query if isinstance(case.query, dict) else {}
    return isinstance(case.body, list) or "columns" in query or "resolution=" in prefer


def _within_columns(case):
    """Whether a create with `columns` is valid once the members `columns` does not name are
    left out, as the server leaves them out (PostgREST's rule, stated in the document)."""
    query = case.query if isinstance(case.query, dict) else {}
    columns = query.get("columns")
    if case.method.upper() != "POST" or not isinstance(columns, str):
        return False
    named = {_unquote(n) for n in columns.split(",")}
    schema = dict(_body_schema("POST", case.operation.path))
    schema["required"] = [r for r in schema.get("required", []) if r in named]
    rows = case.body if isinstance(case.body, list) else [case.body]
    validator = jsonschema.Draft202012Validator(schema)
    return all(
        isinstance(row, dict) and validator.is_valid({k: v for k, v in row.items() if k in named})
        for row in rows
    )


def _limit_above_maximum(case):
    """Whether the case's `limit` is an integer above its documented maximum and the case is
    otherwise within its parameters' patterns."""
    query = case.query if isinstance(case.query, dict) else {}
    limit = query.get("limit")
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        return False
    item = DOCUMENT["paths"].get(case.operation.path, {})
    params = item.get(case.method.lower(), {}).get("parameters", [])
    schema = next((p.get("schema", {}) for p in params if p.get("name") == "limit"), {})
    maximum = schema.get("maximum")
    return maximum is not None and limit > maximum and not _schema_invalid(case)


HIDDEN_FIELD = re.compile(r"is not a field you can (select|filter on|sort on)")


def _field_limited_per_request(case, response):
    """Whether the 400 refuses a field, on an operation documented to limit fields per request."""
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return False
    op = DOCUMENT["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    return bool(HIDDEN_FIELD.search(detail)) and "fields" in op.get("description", "") and (
        "limited per request" in op.get("description", "")
    )


TREES = ("or", "and", "not.or", "not.and")
NESTED = re.compile(r"(?:^|[(,\s])(?:not\.)?(?:and|or)\(")


def _refused_param(case, response, holds):
    """Whether the 400 names a query parameter whose value `holds(name, value)` accepts:
    a part of the value that the parameter's pattern leaves to the server."""
    try:
        names = {e.get("name") for e in response.json().get("errors", [])}
    except (ValueError, AttributeError):
        return False
    query = case.query if isinstance(case.query, dict) else {}
    return any(k in names and isinstance(v, str) and holds(k, v) for k, v in query.items())


def _refused_nested_tree(case, response):
    """Whether the 400 names a logic-tree parameter whose value holds a nested group."""
    return _refused_param(case, response, lambda k, v: k in TREES and NESTED.search(v))


def _refused_embed(case, response):
    """Whether the 400 names `select` whose value embeds a resource (holds a `(`)."""
    return _refused_param(case, response, lambda k, v: k == "select" and "(" in v)


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """Drops kinds of failure that are not the API's fault, and only those.

    A write answered without a body where the document says so in words: `Prefer:
    return=minimal` or `return=headers-only`, or a create answered PostgREST's way (an array,
    `columns`, an upsert) without `return=representation`. OpenAPI cannot make a documented
    response body depend on the request, and schemathesis then reports the missing
    Content-Type (ST104) and the empty JSON (ST109). Only those exact cases are dropped: an
    empty 200/201/204 to a request that the document answers without a body.
    """
    if not response.content and failure.code in ("ST104", "ST109") and _no_body_documented(case, response):
        return False
    # A create with `columns` writes the fields it names and ignores the body's other members
    # (documented): what is wrong only there is not refused.
    if failure.code == "ST201" and response.status_code < 300 and _within_columns(case) and not _schema_invalid(case):
        return False
    # `limit` states the policy's `max_limit` as its `maximum`, and the server serves a larger
    # page size as that maximum (clamped, as the parameter's description says) rather than
    # refusing it. A request accepted whose only fault is such a `limit` is not a failure.
    if failure.code == "ST201" and response.status_code < 300 and _limit_above_maximum(case):
        return False
    # The coverage phase sends an optional header with an empty value (`Range:`) as a valid
    # request, taking it for an absent one; the document's pattern refuses the empty text and
    # so does the server (400): that agreement is not a failure.
    #
    # Likewise, the stateful phase fills parameters from earlier responses (an `id` of a new
    # record into the `id` filter of the list: `id=23` instead of `id=eq.23`) and still calls
    # the request valid. A "valid request rejected" whose parameters break their documented
    # patterns was not a valid request.
    if failure.code == "ST202" and response.status_code == 400 and _schema_invalid(case):
        return False
    # The logic trees' pattern checks their top level's conditions and matches nested groups
    # (`and(...)`, `not.or(...)`) whatever they hold, as the parameters' descriptions say: a
    # regular expression cannot count parentheses, and a pattern strict on one level would
    # refuse valid nested trees. A 400 naming a tree parameter that holds a nested group is
    # the server checking what the pattern leaves to it.
    if failure.code == "ST202" and response.status_code == 400 and _refused_nested_tree(case, response):
        return False
    # Likewise `select` with an embedded resource (`users(name)`): its pattern checks the
    # fields outside the parentheses only; what is inside is the server's to check.
    if failure.code == "ST202" and response.status_code == 400 and _refused_embed(case, response):
        return False
    # Fields limited per request (`fields_for`: the blog shows `email` to admins only, and an
    # earlier request of the run may have made the demo admin a user): the operation's
    # description says so, and a field it hides from this caller is refused by name.
    if failure.code == "ST202" and response.status_code == 400 and _field_limited_per_request(case, response):
        return False
    # The complexity bounds (conditions counted across every filter and tree, nesting depth,
    # `in` list length) are stated in the parameter descriptions; a JSON Schema cannot count
    # across parameters. A 400 that names one of those bounds is the documented refusal.
    if failure.code == "ST202" and response.status_code == 400:
        try:
            detail = response.json().get("detail", "")
        except ValueError:
            detail = ""
        if any(w in detail for w in ("too many filter conditions", "nests deeper than")) or (
            "` list of `" in detail and "has more than" in detail):
            return False
        # A write chosen by filters needs a filter, and may write at most so many rows (the
        # resource's cap, or `Prefer: max-affected`): a count of rows the data decides, and a
        # rule across every filter parameter. Both are stated in the operation's description.
        if case.method.upper() in ("PATCH", "DELETE") and "{" not in case.operation.path and (
            "needs at least one filter" in detail
            or ("nothing was written" in detail and ("the most one request may" in detail or "max-affected=" in detail))
        ):
            return False
    return True
