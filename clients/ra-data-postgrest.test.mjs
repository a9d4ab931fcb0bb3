// react-admin's PostgREST data provider (@raphiniert/ra-data-postgrest, with ra-core's
// fetchUtils.fetchJson as its HTTP client: Node's global fetch and Headers, no browser) against
// the people example at BASE_URL. Every call is checked afterwards through the provider's own
// reads or a plain GET.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchUtils } from 'ra-core';
import raDataPostgrest, { defaultPrimaryKeys, defaultSchema } from '@raphiniert/ra-data-postgrest';
import { BASE_URL, SEEDED, assertNoPassword, person, pick, seedRow, seedWhere } from './support.mjs';

// The package is CommonJS compiled from TypeScript: its default export is `exports.default`.
const postgrestRestProvider = raDataPostgrest.default ?? raDataPostgrest;

// fetchJson as is; only a failure's message is made to name the request (fetchJson's is the
// body's `message`, which a problem+json body does not have, and HttpError's stack omits it).
const httpClient = (url, options = {}) =>
  fetchUtils.fetchJson(url, options).catch((e) => {
    e.message = `${options.method ?? 'GET'} ${url}: HTTP ${e.status} ${JSON.stringify(e.body)}`;
    e.stack = `${e.name}: ${e.message}\n${String(e.stack).split('\n').slice(1).join('\n')}`;
    throw e;
  });

// The configuration its README documents.
const dataProvider = postgrestRestProvider({
  apiUrl: BASE_URL,
  httpClient,
  defaultListOp: 'eq',
  primaryKeys: defaultPrimaryKeys, // `id` for every resource
  schema: defaultSchema, // no Accept-Profile / Content-Profile header
});

const seedFields = (r) => pick(r, 'id', 'name', 'email', 'age', 'is_admin', 'bio');
const byId = (a, b) => a.id - b.id;

/** Rows by id through a plain GET (not the provider), ordered by id. */
async function get(...ids) {
  const response = await fetch(`${BASE_URL}/people?id=in.(${ids.join(',')})&order=id`);
  assert.equal(response.status, 200, `GET ${ids}: ${response.status}`);
  const rows = await response.json();
  assertNoPassword(rows);
  return rows;
}

/** Creates rows through the provider; returns what it returned, in order. */
async function create(...rows) {
  const created = [];
  for (const data of rows) created.push((await dataProvider.create('people', { data })).data);
  return created;
}

/** Asserts that `promise` rejects with ra-core's HttpError of `status`, an RFC 9457 body. */
async function rejectsWith(promise, status, what) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status, `${what}: HTTP ${e.status} ${e.message} ${JSON.stringify(e.body)}`);
    assert.equal(e.body?.status, status, `${what}: a problem+json body: ${JSON.stringify(e.body)}`);
    return true;
  });
}

describe('reads', () => {
  test('getList: filter, sort, pagination, total', async () => {
    const filter = { 'id@lte': SEEDED, 'age@gte': 70 };
    const all = seedWhere((r) => r.age >= 70).sort((a, b) => b.age - a.age || a.id - b.id);
    assert.ok(all.length > 5);
    const { data, total } = await dataProvider.getList('people', {
      pagination: { page: 2, perPage: 5 },
      sort: { field: 'age', order: 'DESC' },
      filter,
    });
    assert.equal(total, all.length);
    assert.deepEqual(data.map(seedFields), all.slice(5, 10));
    assertNoPassword(data);
  });

  test('getList: an ilike filter (case-insensitive), sorted by id', async () => {
    const { data, total } = await dataProvider.getList('people', {
      pagination: { page: 1, perPage: 25 },
      sort: { field: 'id', order: 'ASC' },
      filter: { 'id@lte': SEEDED, 'email@ilike': 'PERSON7' },
    });
    const expected = seedWhere((r) => r.email.includes('person7'));
    assert.equal(total, expected.length);
    assert.deepEqual(data.map(seedFields), expected);
  });

  test('getOne and getMany', async () => {
    const one = await dataProvider.getOne('people', { id: 7 });
    assert.deepEqual(seedFields(one.data), seedRow(7));
    assertNoPassword(one.data);

    const many = await dataProvider.getMany('people', { ids: [3, 5, 8] });
    assert.deepEqual(many.data.map(seedFields).sort(byId), [3, 5, 8].map(seedRow));

    await rejectsWith(dataProvider.getOne('people', { id: 987654321 }), 406, 'getOne of a missing id');
  });

  test('getManyReference: the people of one age', async () => {
    const { data, total } = await dataProvider.getManyReference('people', {
      target: 'age',
      id: 30,
      pagination: { page: 1, perPage: 10 },
      sort: { field: 'id', order: 'ASC' },
      filter: { 'id@lte': SEEDED },
    });
    const expected = seedWhere((r) => r.age === 30);
    assert.ok(expected.length >= 1);
    assert.equal(total, expected.length);
    assert.deepEqual(data.map(seedFields), expected);
  });
});

describe('writes', () => {
  test('create returns the new record with its id', async () => {
    const row = person('ra-create', { age: 41 });
    const { data } = await dataProvider.create('people', { data: row });
    assert.equal(typeof data.id, 'number');
    assert.deepEqual(pick(data, 'name', 'email', 'age', 'bio', 'is_admin'), {
      ...pick(row, 'name', 'email', 'age', 'bio'),
      is_admin: false,
    });
    assertNoPassword(data);

    const found = await dataProvider.getOne('people', { id: data.id });
    assert.deepEqual(found.data, data);
  });

  test('update sends the changed fields and returns the record', async () => {
    const [before] = await create(person('ra-update', { age: 42 }));
    const { data } = await dataProvider.update('people', {
      id: before.id,
      data: { ...before, age: 43, name: 'Updated' },
      previousData: before,
    });
    assert.deepEqual(data, { ...before, age: 43, name: 'Updated' });
    assert.deepEqual(await get(before.id), [{ ...before, age: 43, name: 'Updated' }]);
  });

  test('updateMany changes the listed records only', async () => {
    const rows = await create(person('ra-update-many-a'), person('ra-update-many-b'), person('ra-update-many-c'));
    const ids = [rows[0].id, rows[1].id];
    const { data } = await dataProvider.updateMany('people', { ids, data: { age: 45 } });
    assert.deepEqual(data.slice().sort((a, b) => a - b), ids);

    const { data: after } = await dataProvider.getMany('people', { ids: rows.map((r) => r.id) });
    assert.deepEqual(after.sort(byId), [{ ...rows[0], age: 45 }, { ...rows[1], age: 45 }, rows[2]]);
  });

  test('delete returns the deleted record; it is gone', async () => {
    const [row, other] = await create(person('ra-delete'), person('ra-delete-other'));
    const { data } = await dataProvider.delete('people', { id: row.id, previousData: row });
    assert.deepEqual(data, row);
    await rejectsWith(dataProvider.getOne('people', { id: row.id }), 406, 'getOne after delete');
    assert.deepEqual(await get(row.id, other.id), [other]);
  });

  test('deleteMany deletes the listed records only', async () => {
    const rows = await create(person('ra-delete-many-a'), person('ra-delete-many-b'), person('ra-delete-many-c'));
    const ids = [rows[0].id, rows[1].id];
    const { data } = await dataProvider.deleteMany('people', { ids });
    assert.deepEqual(data.slice().sort((a, b) => a - b), ids);

    const { data: left } = await dataProvider.getMany('people', { ids: rows.map((r) => r.id) });
    assert.deepEqual(left, [rows[2]]);
  });

  test('a duplicate email is refused (409) with the problem as the error body', async () => {
    const [existing] = await create(person('ra-duplicate'));
    await rejectsWith(
      dataProvider.create('people', { data: { ...person('ra-duplicate-copy'), email: existing.email } }),
      409,
      'create with a taken email',
    );
    assert.deepEqual(await get(existing.id), [existing]);
  });
});
