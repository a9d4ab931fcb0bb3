// What both suites share: the server's address, a per-run suffix for the rows they create, the
// seed rows' formula (examples/people/app.rs, `seed_row`) and a fetch that remembers the last
// response's headers (the clients do not expose them).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const BASE_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
if (!BASE_URL) {
  throw new Error('BASE_URL is not set (e.g. BASE_URL=http://127.0.0.1:3101); clients/run.sh sets it');
}

/** Unique per run and per process, so a suite can run again against the same database. */
export const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * The reads use seed rows 1..=100 only (run.sh seeds 200): no suite ever writes them, and the
 * rows the suites create get higher ids.
 */
export const SEEDED = 100;

/** Seed row `n` as the API shows it (examples/people/app.rs, `seed_row`). */
export function seedRow(n) {
  return {
    id: n,
    name: `Person ${n}`,
    email: `person${n}@example.com`,
    age: 18 + (n % 60),
    is_admin: n % 50 === 0,
    bio: n % 3 === 0 ? null : `Bio of person ${n}`,
  };
}

/** The seed rows 1..=SEEDED that satisfy `pred`. */
export function seedWhere(pred) {
  const rows = [];
  for (let n = 1; n <= SEEDED; n++) {
    const row = seedRow(n);
    if (pred(row)) rows.push(row);
  }
  return rows;
}

/** A new person to create, with an email no other test or run uses. */
export function person(tag, fields = {}) {
  return {
    name: `Client ${tag}`,
    email: `${tag}-${RUN}@clients.example`,
    password: `pw-${tag}`,
    age: 40,
    bio: `bio of ${tag}`,
    ...fields,
  };
}

/** The last response seen by `recordingFetch`. */
export const last = { response: null };

/** `fetch` that keeps the last response, for its headers. */
export async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  last.response = response;
  return response;
}

/** The `Preference-Applied` preferences of the last response, trimmed. */
export function preferenceApplied() {
  const header = last.response?.headers.get('preference-applied') ?? '';
  return header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Drops the fields the tests do not control (id, created_at, is_admin) from an API row. */
export function pick(row, ...keys) {
  return Object.fromEntries(keys.map((k) => [k, row[k]]));
}

/** Asserts that no row shows the password (it is writable, never readable). */
export function assertNoPassword(rows) {
  for (const row of [rows].flat()) {
    assert.ok(!('password' in row), `password must never be returned: ${JSON.stringify(row)}`);
  }
}
