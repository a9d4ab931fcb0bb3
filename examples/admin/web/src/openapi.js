// What the page knows of the API, read from its OpenAPI 3.1 document (expose-runtime's
// openapi.rs writes it from the same models the handlers serve). Plain JavaScript with no
// React, so that the browser test can run it in Node against the same document.
//
// Per collection path `/{name}` whose `get` lists rows:
// - fields: the read schema (the list's 200 `application/json` array items), in order;
//   the key is the schema's `x-expose-key`;
// - filters: one per query parameter named after a readable field (the document lists one
//   per filterable field), typed by the field; text fields use `ilike` when the parameter's
//   pattern accepts it;
// - sortable: the readable fields the `order` parameter's pattern accepts (none when the
//   list has a fixed order);
// - create / update: the fields of the request body schema of `POST /{name}` (its object
//   form, where it also takes an array) and of `PATCH /{name}` (or `PATCH /{name}/{id}`),
//   with `required` on create; a writable field that is not readable (a password) is
//   write-only: never shown, entered masked;
// - delete: `DELETE /{name}` filtering on the key (bulk delete sends `id=in.(...)`), or
//   `DELETE /{name}/{id}` where the document states no collection delete.

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'or', 'and', 'not.or', 'not.and']);

/** Follows a local `$ref` (`#/components/schemas/X`). */
export function resolve(doc, schema) {
  let s = schema;
  for (let guard = 0; s && s.$ref && guard < 16; guard++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return s;
}

/** The kind of input and field a JSON schema calls for. */
export function kindOf(schema) {
  const types = [].concat(schema?.type ?? []);
  const nullable = types.includes('null');
  const main = types.filter((t) => t !== 'null');
  let kind = 'text';
  if (main.length > 1) kind = 'json';
  else if (main[0] === 'integer') kind = 'integer';
  else if (main[0] === 'number') kind = 'number';
  else if (main[0] === 'boolean') kind = 'boolean';
  else if (main[0] === 'object' || main[0] === 'array') kind = 'json';
  else if (schema?.format === 'date-time') kind = 'datetime';
  else if (schema?.format === 'date') kind = 'date';
  return { kind, nullable };
}

function regex(pattern) {
  try {
    return pattern ? new RegExp(pattern) : null;
  } catch {
    return null;
  }
}

/** A sample value of a field's kind, to try against a filter parameter's pattern. */
function sample(kind) {
  switch (kind) {
    case 'integer':
    case 'number':
      return '1';
    case 'boolean':
      return 'true';
    case 'datetime':
      return '2024-01-01T00:00:00Z';
    case 'date':
      return '2024-01-01';
    default:
      return 'a';
  }
}

/** The filter a query parameter offers for a field: an operator and an input kind. */
function filterOf(field, param) {
  const re = regex(param.schema?.pattern);
  const accepts = (op, value) => !re || re.test(`${op}.${value}`);
  const base = { name: field.name, kind: field.kind, description: param.description };
  switch (field.kind) {
    case 'text':
      if (accepts('ilike', '*a*')) return { ...base, op: 'ilike' };
      return accepts('eq', 'a') ? { ...base, op: 'eq' } : null;
    case 'datetime':
    case 'date':
      // One input, "on or after", for a date; a date-time filter takes the day's start (UTC).
      return accepts('gte', sample(field.kind)) ? { ...base, op: 'gte' } : null;
    case 'json':
      return null;
    default:
      return accepts('eq', sample(field.kind)) ? { ...base, op: 'eq' } : null;
  }
}

/** The object schema of a request body: itself, or the object among its `oneOf` / `anyOf`
 * (a create that also takes an array of rows). */
function objectSchema(doc, schema) {
  const s = resolve(doc, schema);
  if (s?.properties) return s;
  for (const alt of [...(s?.oneOf ?? []), ...(s?.anyOf ?? [])]) {
    const o = resolve(doc, alt);
    if (o?.properties) return o;
  }
  return null;
}

function bodyFields(doc, operation, readable) {
  const schema = objectSchema(doc, operation?.requestBody?.content?.['application/json']?.schema);
  if (!schema) return null;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => ({
    name,
    ...kindOf(s),
    required: required.has(name),
    writeOnly: !readable.has(name),
    description: s.description,
  }));
}

/** The resources of an OpenAPI document, as the page builds its views from them. */
export function describe(doc) {
  const paths = doc?.paths ?? {};
  const tags = new Map((doc?.tags ?? []).map((t) => [t.name, t.description]));
  const resources = [];
  for (const [path, item] of Object.entries(paths)) {
    const m = /^\/([^/{}]+)$/.exec(path);
    const list = item?.get;
    if (!m || !list) continue;
    const name = m[1];
    const rowSchema = resolve(doc, list.responses?.['200']?.content?.['application/json']?.schema?.items);
    if (!rowSchema?.properties) continue;
    const key = rowSchema['x-expose-key'] ?? 'id';
    const fields = Object.entries(rowSchema.properties).map(([field, s]) => ({
      name: field,
      ...kindOf(s),
      description: s.description,
    }));
    const byName = new Map(fields.map((f) => [f.name, f]));
    const params = (list.parameters ?? []).map((p) => resolve(doc, p));
    const query = params.filter((p) => p?.in === 'query');
    const filters = query
      .filter((p) => !RESERVED.has(p.name) && byName.has(p.name))
      .map((p) => filterOf(byName.get(p.name), p))
      .filter(Boolean);
    const order = regex(query.find((p) => p.name === 'order')?.schema?.pattern);
    const sortable = new Set(order ? fields.filter((f) => order.test(f.name)).map((f) => f.name) : []);
    const itemPath = paths[`/${name}/{id}`] ?? {};
    const readable = new Set(byName.keys());
    // The provider edits and deletes through the collection (`PATCH /people?id=eq.7`): where
    // the document states those operations, they must filter on the key; where it states
    // only the item's, the collection's are taken to filter on the key.
    const byKey = (op) =>
      (op.parameters ?? []).map((p) => resolve(doc, p)).some((p) => p?.in === 'query' && p.name === key);
    const patch = item.patch ? (byKey(item.patch) ? item.patch : null) : itemPath.patch;
    const remove = item.delete ? byKey(item.delete) : Boolean(itemPath.delete);
    resources.push({
      name,
      description: tags.get(name) ?? '',
      key,
      fields,
      filters,
      sortable,
      defaultSort: { field: key, order: 'ASC' },
      show: Boolean(itemPath.get),
      create: bodyFields(doc, item.post, readable),
      update: bodyFields(doc, patch, readable),
      delete: remove,
    });
  }
  return resources;
}
