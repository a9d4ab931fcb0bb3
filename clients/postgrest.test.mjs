// @supabase/postgrest-js, unchanged, against the people example at BASE_URL: reads on the seed
// rows, and every write postgrest-js can send, each checked afterwards with a separate read.
// The rows written here are the suite's own (unique emails per run); seed rows are only read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import {
  BASE_URL,
  RUN,
  SEEDED,
  assertNoPassword,
  last,
  person,
  pick,
  preferenceApplied,
  recordingFetch,
  seedRow,
  seedWhere,
} from './support.mjs';

const db = new PostgrestClient(BASE_URL, { fetch: recordingFetch });
const people = () => db.from('people');

/** Asserts that a postgrest-js result carries no error; returns it. */
function ok(res, what) {
  assert.equal(res.error, null, `${what}: HTTP ${res.status} ${JSON.stringify(res.error)}`);
  return res;
}

/** Asserts that a postgrest-js result is the error `status`; returns it. */
function refused(res, status, what) {
  assert.equal(res.status, status, `${what}: expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.error ?? res.data)}`);
  assert.notEqual(res.error, null, `${what}: an error body is expected`);
  assert.equal(res.data, null, `${what}: no data with an error`);
  return res;
}

/** The rows with these emails, read through the API (a separate GET), ordered by id. */
async function byEmail(...emails) {
  const res = ok(await people().select('*').in('email', emails).order('id'), 'read back by email');
  assertNoPassword(res.data);
  return res.data;
}

/** The rows with these ids, read through the API, ordered by id. */
async function byId(...ids) {
  const res = ok(await people().select('*').in('id', ids).order('id'), 'read back by id');
  return res.data;
}

/**
 * Creates rows one POST each (the simplest write, so that a test's set-up does not depend on the
 * feature it tests) and returns them as the API reads them, in the given order.
 */
async function create(...rows) {
  for (const row of rows) {
    const res = await people().insert(row);
    assert.ok(res.status === 201, `set-up: create ${row.email}: HTTP ${res.status} ${JSON.stringify(res.error)}`);
  }
  const found = await byEmail(...rows.map((r) => r.email));
  assert.equal(found.length, rows.length, 'set-up: every created row reads back');
  return rows.map((r) => found.find((f) => f.email === r.email));
}

describe('reads', () => {
  test('filters, or, order on two columns, select', async () => {
    const res = ok(
      await people()
        .select('id,name,age')
        .lte('id', SEEDED)
        .or('age.gte.75,age.lt.19')
        .order('age', { ascending: false })
        .order('id', { ascending: true }),
      'select',
    );
    const expected = seedWhere((r) => r.age >= 75 || r.age < 19)
      .sort((a, b) => b.age - a.age || a.id - b.id)
      .map((r) => pick(r, 'id', 'name', 'age'));
    assert.ok(expected.length > 2);
    assert.deepEqual(res.data, expected);
  });

  test('range with count=exact: a page and the total', async () => {
    const res = ok(
      await people().select('*', { count: 'exact' }).lte('id', SEEDED).order('id').range(10, 19),
      'select with count',
    );
    assert.equal(res.status, 206);
    assert.equal(res.count, SEEDED);
    assert.deepEqual(
      res.data.map((r) => pick(r, 'id', 'name', 'email', 'age', 'is_admin', 'bio')),
      Array.from({ length: 10 }, (_, i) => seedRow(11 + i)),
    );
    assertNoPassword(res.data);
  });

  test('ilike, in, single and maybeSingle', async () => {
    const like = ok(await people().select('id').ilike('email', 'PERSON9*@EXAMPLE.COM').lte('id', SEEDED).order('id'), 'ilike');
    assert.deepEqual(like.data.map((r) => r.id), [9, ...Array.from({ length: 10 }, (_, i) => 90 + i)]);

    const some = ok(await people().select('id,email').in('id', [3, 5, 8]).order('id', { ascending: false }), 'in');
    assert.deepEqual(some.data, [8, 5, 3].map((n) => pick(seedRow(n), 'id', 'email')));

    const one = ok(await people().select('id,name,bio').eq('id', 7).single(), 'single');
    assert.deepEqual(one.data, pick(seedRow(7), 'id', 'name', 'bio'));

    const none = ok(await people().select('id').eq('email', `nobody-${RUN}@clients.example`).maybeSingle(), 'maybeSingle');
    assert.equal(none.data, null);

    refused(await people().select('id').lte('id', 2).single(), 406, 'single on two rows');
  });
});

describe('insert', () => {
  test('one row: 201 with the row (REST default without Prefer); the row is there', async () => {
    const row = person('insert-one', { age: 31 });
    const res = ok(await people().insert(row), 'insert');
    assert.equal(res.status, 201);
    // One object without a return preference keeps expose's REST answer (the row, with
    // Location); PostgREST would send no body. An array (below) follows PostgREST.
    assert.equal(res.data?.email, row.email);

    const [found, ...more] = await byEmail(row.email);
    assert.equal(more.length, 0);
    assert.deepEqual(pick(found, 'name', 'email', 'age', 'bio', 'is_admin'), {
      ...pick(row, 'name', 'email', 'age', 'bio'),
      is_admin: false,
    });
    assert.equal(typeof found.id, 'number');
  });

  test('many rows in one request (?columns= is the union of their keys)', async () => {
    const rows = [
      person('insert-many-a', { age: 21 }),
      person('insert-many-b', { age: 22 }),
      person('insert-many-c', { age: 23, bio: null }),
    ];
    delete rows[1].bio; // no bio key in this row: null
    const res = ok(await people().insert(rows), 'insert many');
    assert.equal(res.status, 201);
    assert.equal(res.data, null);

    const found = await byEmail(...rows.map((r) => r.email));
    assert.deepEqual(
      found.map((r) => pick(r, 'email', 'age', 'bio')),
      [
        { email: rows[0].email, age: 21, bio: rows[0].bio },
        { email: rows[1].email, age: 22, bio: null },
        { email: rows[2].email, age: 23, bio: null },
      ],
    );
  });

  test('defaultToNull: false sends Prefer: missing=default', async () => {
    const rows = [person('missing-default-a'), person('missing-default-b')];
    delete rows[1].bio;
    const res = ok(await people().insert(rows, { defaultToNull: false }), 'insert missing=default');
    assert.equal(res.status, 201);
    assert.ok(preferenceApplied().includes('missing=default'), `Preference-Applied: ${preferenceApplied()}`);

    const found = await byEmail(...rows.map((r) => r.email));
    assert.deepEqual(found.map((r) => pick(r, 'email', 'bio', 'is_admin')), [
      { email: rows[0].email, bio: rows[0].bio, is_admin: false },
      { email: rows[1].email, bio: null, is_admin: false }, // bio's default is NULL
    ]);

    const single = person('missing-default-one');
    delete single.bio;
    ok(await people().insert(single, { defaultToNull: false }), 'one row, missing=default');
    assert.deepEqual((await byEmail(single.email)).map((r) => r.bio), [null]);
  });

  test('.select() returns an array, even for one object', async () => {
    const row = person('insert-select');
    const res = ok(await people().insert(row).select(), 'insert select');
    assert.equal(res.status, 201);
    assert.ok(Array.isArray(res.data), `an array: ${JSON.stringify(res.data)}`);
    assert.equal(res.data.length, 1);
    assertNoPassword(res.data);
    assert.equal(res.data[0].email, row.email);
    assert.ok(preferenceApplied().includes('return=representation'), `Preference-Applied: ${preferenceApplied()}`);

    const found = await byEmail(row.email);
    assert.deepEqual(found, res.data);
  });

  test('.select(cols) on many rows returns those columns of every row', async () => {
    const rows = [person('insert-select-many-a'), person('insert-select-many-b')];
    const res = ok(await people().insert(rows).select('id,email'), 'insert many select');
    assert.equal(res.status, 201);
    assert.equal(res.data.length, 2);
    for (const r of res.data) assert.deepEqual(Object.keys(r).sort(), ['email', 'id']);

    const found = await byEmail(...rows.map((r) => r.email));
    assert.deepEqual(
      res.data.slice().sort((a, b) => a.id - b.id),
      found.map((r) => pick(r, 'id', 'email')),
    );
  });

  test('.select().single() returns an object', async () => {
    const row = person('insert-single', { age: 33 });
    const res = ok(await people().insert(row).select().single(), 'insert select single');
    assert.equal(res.status, 201);
    assert.ok(res.data && !Array.isArray(res.data), `an object: ${JSON.stringify(res.data)}`);
    assertNoPassword(res.data);
    assert.equal(res.data.age, 33);

    const found = await byId(res.data.id);
    assert.deepEqual(found, [res.data]);
  });

  test('.select().single() on two rows: 406, nothing written', async () => {
    const rows = [person('insert-single-two-a'), person('insert-single-two-b')];
    refused(await people().insert(rows).select().single(), 406, 'insert two, singular');
    assert.deepEqual(await byEmail(...rows.map((r) => r.email)), []);
  });

  test('one duplicate email fails the whole batch (409), nothing written', async () => {
    const [existing] = await create(person('insert-dup-existing'));
    const fresh = person('insert-dup-fresh');
    const res = await people().insert([fresh, { ...person('insert-dup-copy'), email: existing.email }]);
    refused(res, 409, 'batch with a duplicate');
    assert.deepEqual(await byEmail(fresh.email), [], 'the batch is one transaction');
    assert.deepEqual(await byEmail(existing.email), [existing]);
  });

  test('a field that is not writable is refused, nothing written', async () => {
    const row = person('insert-admin', { is_admin: true });
    const res = await people().insert(row);
    assert.ok([400, 422].includes(res.status), `HTTP ${res.status} ${JSON.stringify(res.error)}`);
    assert.deepEqual(await byEmail(row.email), []);
  });
});

describe('upsert (on_conflict=email)', () => {
  test('merge-duplicates updates the existing row: 200, the row comes back changed', async () => {
    const [before] = await create(person('upsert-merge', { age: 30 }));
    const res = ok(
      await people()
        .upsert(person('upsert-merge', { age: 31, name: 'Merged' }), { onConflict: 'email' })
        .select(),
      'upsert merge',
    );
    assert.equal(res.status, 200, 'no row inserted');
    assert.ok(preferenceApplied().includes('resolution=merge-duplicates'), `Preference-Applied: ${preferenceApplied()}`);
    assert.equal(res.data.length, 1);
    assert.deepEqual(pick(res.data[0], 'id', 'email', 'name', 'age'), {
      id: before.id,
      email: before.email,
      name: 'Merged',
      age: 31,
    });

    const found = await byEmail(before.email);
    assert.deepEqual(found, res.data);
  });

  test('ignore-duplicates leaves the existing row untouched', async () => {
    const [before] = await create(person('upsert-ignore', { age: 30 }));
    const res = ok(
      await people()
        .upsert(person('upsert-ignore', { age: 99, name: 'Ignored' }), { onConflict: 'email', ignoreDuplicates: true })
        .select(),
      'upsert ignore',
    );
    assert.equal(res.status, 200, 'no row inserted');
    assert.deepEqual(res.data, [], 'an ignored row is not returned');
    assert.deepEqual(await byEmail(before.email), [before]);
  });

  test('a new row is inserted: 201', async () => {
    const row = person('upsert-new', { age: 44 });
    const res = ok(await people().upsert(row, { onConflict: 'email' }).select(), 'upsert new');
    assert.equal(res.status, 201);
    assert.equal(res.data.length, 1);
    assert.equal(res.data[0].age, 44);
    assert.deepEqual(await byEmail(row.email), res.data);
  });

  test('a batch with one existing and one new row: 201, both as sent', async () => {
    const [existing] = await create(person('upsert-batch-old', { age: 30 }));
    const rows = [person('upsert-batch-old', { age: 32 }), person('upsert-batch-new', { age: 33 })];
    const res = ok(await people().upsert(rows, { onConflict: 'email' }), 'upsert batch');
    assert.equal(res.status, 201, 'a row was inserted');
    const found = await byEmail(...rows.map((r) => r.email));
    assert.deepEqual(found.map((r) => pick(r, 'email', 'age')), rows.map((r) => pick(r, 'email', 'age')));
    assert.equal(found[0].id, existing.id, 'the existing row kept its id');
  });
});

describe('update', () => {
  test('.eq(id).select(): 200, the changed row as an array', async () => {
    const [row] = await create(person('update-eq', { age: 40 }));
    const res = ok(await people().update({ age: 55 }).eq('id', row.id).select(), 'update eq');
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [{ ...row, age: 55 }]);
    assert.deepEqual(await byId(row.id), [{ ...row, age: 55 }]);
  });

  test('.in(id).select() changes exactly the matched rows', async () => {
    const rows = await create(person('update-in-a'), person('update-in-b'), person('update-in-c'));
    const res = ok(
      await people().update({ age: 56, bio: null }).in('id', [rows[0].id, rows[1].id]).select(),
      'update in',
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.data.slice().sort((a, b) => a.id - b.id),
      [rows[0], rows[1]].map((r) => ({ ...r, age: 56, bio: null })),
    );
    assert.deepEqual(await byId(...rows.map((r) => r.id)), [
      { ...rows[0], age: 56, bio: null },
      { ...rows[1], age: 56, bio: null },
      rows[2],
    ]);
  });

  test('without .select(): 204, no body', async () => {
    const [row] = await create(person('update-minimal', { age: 40 }));
    const res = ok(await people().update({ name: 'Renamed' }).eq('email', row.email), 'update');
    assert.equal(res.status, 204);
    assert.equal(res.data, null);
    assert.deepEqual(await byId(row.id), [{ ...row, name: 'Renamed' }]);
  });

  test('matching nothing: 204 (or 200 with [])', async () => {
    const res = ok(await people().update({ age: 1 }).eq('email', `nobody-${RUN}@clients.example`).select(), 'update none');
    assert.ok(
      res.status === 204 || (res.status === 200 && Array.isArray(res.data) && res.data.length === 0),
      `HTTP ${res.status} ${JSON.stringify(res.data)}`,
    );
  });

  test('a filter on a field that is not filterable for writes (bio): 400', async () => {
    const [row] = await create(person('update-bad-filter', { age: 40 }));
    const res = await people().update({ age: 1 }).eq('email', row.email).eq('bio', row.bio);
    refused(res, 400, 'update filtered on bio');
    assert.deepEqual(await byId(row.id), [row]);
  });
});

describe('delete', () => {
  test('.eq(id): 204; the row is gone', async () => {
    const [row, other] = await create(person('delete-eq'), person('delete-eq-other'));
    const res = ok(await people().delete().eq('id', row.id), 'delete eq');
    assert.equal(res.status, 204);
    assert.equal(res.data, null);
    assert.deepEqual(await byId(row.id, other.id), [other]);
  });

  test('.in(id).select(): 200, the deleted rows; the others stay', async () => {
    const rows = await create(person('delete-in-a'), person('delete-in-b'), person('delete-in-c'));
    const res = ok(await people().delete().in('id', [rows[0].id, rows[1].id]).select(), 'delete in');
    assert.equal(res.status, 200);
    assert.deepEqual(res.data.slice().sort((a, b) => a.id - b.id), [rows[0], rows[1]]);
    assert.deepEqual(await byId(...rows.map((r) => r.id)), [rows[2]]);
  });
});

describe('count=exact on writes', () => {
  test('insert, update and delete report how many rows they touched', async () => {
    const rows = [person('count-a'), person('count-b')];
    const inserted = ok(await people().insert(rows, { count: 'exact' }), 'insert count');
    assert.equal(inserted.count, 2);
    assert.equal(last.response.headers.get('content-range'), '*/2');
    const ids = (await byEmail(...rows.map((r) => r.email))).map((r) => r.id);
    assert.equal(ids.length, 2);

    const updated = ok(await people().update({ age: 57 }, { count: 'exact' }).in('id', ids), 'update count');
    assert.equal(updated.count, 2);
    assert.deepEqual((await byId(...ids)).map((r) => r.age), [57, 57]);

    const none = ok(await people().update({ age: 58 }, { count: 'exact' }).eq('email', `nobody-${RUN}@clients.example`), 'update count none');
    assert.equal(none.count, 0);

    const deleted = ok(await people().delete({ count: 'exact' }).in('id', ids).select('id'), 'delete count');
    assert.equal(deleted.count, 2);
    assert.equal(deleted.data.length, 2);
    assert.deepEqual(await byId(...ids), []);
  });
});

describe('maxAffected (Prefer: handling=strict, max-affected=n)', () => {
  test('an update matching more rows is refused (400) and writes nothing', async () => {
    const rows = await create(person('max-update-a'), person('max-update-b'), person('max-update-c'));
    const ids = rows.map((r) => r.id);
    refused(await people().update({ age: 60 }).in('id', ids).maxAffected(2), 400, 'update 3 > 2');
    assert.deepEqual(await byId(...ids), rows, 'nothing written');

    const res = ok(await people().update({ age: 60 }).in('id', ids).maxAffected(3).select('id,age'), 'update 3 <= 3');
    assert.equal(res.data.length, 3);
    assert.deepEqual((await byId(...ids)).map((r) => r.age), [60, 60, 60]);
  });

  test('a delete matching more rows is refused (400) and deletes nothing', async () => {
    const rows = await create(person('max-delete-a'), person('max-delete-b'), person('max-delete-c'));
    const ids = rows.map((r) => r.id);
    refused(await people().delete().in('id', ids).maxAffected(1), 400, 'delete 3 > 1');
    assert.deepEqual(await byId(...ids), rows, 'nothing deleted');

    ok(await people().delete().in('id', ids).maxAffected(5), 'delete 3 <= 5');
    assert.deepEqual(await byId(...ids), []);
  });
});

describe('single() on writes (Accept: application/vnd.pgrst.object+json)', () => {
  test('an update matching two rows: 406, nothing written', async () => {
    const rows = await create(person('single-update-a'), person('single-update-b'));
    const ids = rows.map((r) => r.id);
    refused(await people().update({ age: 61 }).in('id', ids).select().single(), 406, 'update two, singular');
    assert.deepEqual(await byId(...ids), rows, 'nothing written');
  });

  test('an update matching one row returns it as an object', async () => {
    const [row] = await create(person('single-update-one'));
    const res = ok(await people().update({ age: 62 }).eq('id', row.id).select().single(), 'update one, singular');
    assert.deepEqual(res.data, { ...row, age: 62 });
    assert.deepEqual(await byId(row.id), [{ ...row, age: 62 }]);
  });

  test('a delete matching two rows: 406, nothing deleted', async () => {
    const rows = await create(person('single-delete-a'), person('single-delete-b'));
    const ids = rows.map((r) => r.id);
    refused(await people().delete().in('id', ids).select().single(), 406, 'delete two, singular');
    assert.deepEqual(await byId(...ids), rows, 'nothing deleted');
  });
});
