"""Schemathesis hooks for .ci/openapi.sh: constraints that JSON Schema cannot state.

The OpenAPI document says them in words; these hooks keep generated requests within them so
that a refusal of such a request is not reported as a rejected valid request.
"""
import json
import os
import re

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


NO_BODY = ("return=minimal", "return=headers-only")


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """Drops two kinds of failure that are not the API's fault, and only those.

    A write answered without a body because `Prefer` asked for none: the document says so in
    words; OpenAPI cannot make a documented response body depend on
    a request header, and schemathesis then reports the missing Content-Type (ST104) and the
    empty JSON (ST109). Only that exact case is dropped: an empty 201/204 to a request that
    asked for no body.
    """
    prefer = ",".join(str(v) for k, v in (case.headers or {}).items() if k.lower() == "prefer")
    asked = any(p in prefer for p in NO_BODY)
    empty = not response.content
    if asked and empty and response.status_code in (201, 204) and failure.code in ("ST104", "ST109"):
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
    return True
