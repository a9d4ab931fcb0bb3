// react-admin's PostgREST data provider (@raphiniert/ra-data-postgrest) over the expose API,
// with an HTTP client that
// - sends `Authorization: Bearer <token>` when a token is stored (the blog's resources);
// - turns an RFC 9457 problem into the error react-admin shows: its `detail` as the message
//   (a notification) and the offending body fields as `body.errors` (shown at the inputs);
// and three additions around the provider:
// - getOne reads the item route (`GET /{name}/{id}`) where the API has one, and keeps the
//   record's `ETag`, which update sends back as `If-Match`: an edit of a record changed
//   since it was read is refused (412) instead of overwriting the change;
// - a text filter of several words matches them in order (`ilike.*ada*love*`): the provider
//   would send one `ilike` per word as an array, which its query-string encoder spells
//   `name[0]=...`, a parameter the API does not know.
import { fetchUtils, HttpError } from 'react-admin';
import raDataPostgrest, { defaultPrimaryKeys, defaultSchema } from '@raphiniert/ra-data-postgrest';

export const TOKEN_KEY = 'expose-admin.token';

export function getToken() {
  return window.localStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token) {
  if (token) window.localStorage.setItem(TOKEN_KEY, token);
  else window.localStorage.removeItem(TOKEN_KEY);
}

/** The error react-admin shows for an answer of the API that is not a success. */
export function problemError(status, body, fallback) {
  const problem = body && typeof body === 'object' ? body : {};
  const detail = problem.detail ?? fallback ?? `HTTP ${status}`;
  const message = problem.title && problem.title !== detail ? `${problem.title}: ${detail}` : detail;
  const offenders = Array.isArray(problem.errors) ? problem.errors : [];
  const fields = offenders.filter((o) => o && o.in === 'body' && typeof o.name === 'string');
  const errors = fields.length
    ? Object.fromEntries([
        ...fields.map((o) => [o.name, o.detail ?? message]),
        ['root', { serverError: message }],
      ])
    : undefined;
  // The offenders outside the body (query parameters, headers) are named in the message.
  const others = offenders.filter((o) => !fields.includes(o)).map((o) => `${o.name}: ${o.detail}`);
  const text = others.length ? `${message} (${others.join('; ')})` : message;
  return new HttpError(text, status, { ...problem, offenders, errors });
}

export function httpClient(url, options = {}) {
  const headers = new Headers(options.headers ?? { Accept: 'application/json' });
  const token = getToken();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return fetchUtils.fetchJson(url, { ...options, headers }).catch((e) => {
    if (e instanceof HttpError) throw problemError(e.status, e.body, e.message);
    throw e;
  });
}

/** Words of a `like`/`ilike` filter joined by `*`, so the provider sends one value. */
function joinWords(filter = {}) {
  const out = {};
  for (const [key, value] of Object.entries(filter)) {
    const op = key.split('@')[1];
    out[key] = (op === 'like' || op === 'ilike') && typeof value === 'string'
      ? value.trim().split(/\s+/).join('*')
      : value;
  }
  return out;
}

/** The data provider for an API at `apiUrl` whose resources `describe()` returned. */
export function makeDataProvider(apiUrl, resources) {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const primaryKeys = new Map(defaultPrimaryKeys);
  for (const r of resources) primaryKeys.set(r.name, [r.key]);
  const base = (raDataPostgrest.default ?? raDataPostgrest)({
    apiUrl,
    httpClient,
    defaultListOp: 'eq',
    primaryKeys,
    schema: defaultSchema,
  });
  const etags = new Map();
  const tagKey = (resource, id) => `${resource}/${id}`;
  return {
    ...base,
    getList: (resource, params) => base.getList(resource, { ...params, filter: joinWords(params.filter) }),
    getManyReference: (resource, params) =>
      base.getManyReference(resource, { ...params, filter: joinWords(params.filter) }),
    async getOne(resource, params) {
      if (!byName.get(resource)?.show) return base.getOne(resource, params);
      const { json, headers } = await httpClient(`${apiUrl}/${resource}/${encodeURIComponent(params.id)}`, {
        headers: new Headers({ Accept: 'application/json' }),
      });
      const etag = headers.get('etag');
      if (etag) etags.set(tagKey(resource, params.id), etag);
      else etags.delete(tagKey(resource, params.id));
      return { data: { ...json, id: json[byName.get(resource).key] } };
    },
    update(resource, params) {
      const etag = etags.get(tagKey(resource, params.id));
      if (!etag) return base.update(resource, params);
      const meta = { ...params.meta, headers: { ...params.meta?.headers, 'If-Match': etag } };
      return base.update(resource, { ...params, meta }).then((result) => {
        // The record changed: its tag did too. The next getOne reads the new one.
        etags.delete(tagKey(resource, params.id));
        return result;
      });
    },
  };
}
