// The admin page in a real browser: playwright-core drives Debian's Chromium (/usr/bin/chromium,
// headless) through /admin of the running admin example at BASE_URL, one step after another,
// and checks what each step did through the API (Node's fetch), never through the page alone.
//
//   BASE_URL=http://127.0.0.1:3002 node --test e2e.mjs     (run-e2e.sh starts the server)
//
// SCREENSHOTS (a folder, default ./screenshots) receives admin-list.png and admin-edit.png.
// CHROMIUM overrides the browser's path. A missing browser fails the run: nothing is skipped.
// The steps read the seed rows (ids 1..200, examples/people/app.rs) and write only rows they
// create (names and e-mails tagged with this run) and one seed row (step "edit").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe as describeApi } from './src/openapi.js';

const BASE = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
if (!BASE) throw new Error('BASE_URL is not set (run-e2e.sh sets it), e.g. BASE_URL=http://127.0.0.1:3002');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS ?? join(import.meta.dirname, 'screenshots');
const RUN = `e2e${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const ADMIN_TOKEN = 'admin-token'; // examples/blog/app.rs

// ---------------------------------------------------------------------------------------
// the API, from Node

async function api(path, { token, headers, ...init } = {}) {
  const h = new Headers(headers);
  if (token) h.set('Authorization', `Bearer ${token}`);
  if (init.body && !h.has('Content-Type')) h.set('Content-Type', 'application/json');
  const response = await fetch(`${BASE}${path}`, { ...init, headers: h });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  return { status: response.status, headers: response.headers, body };
}

/** The rows a list query selects and their total (`Prefer: count=exact`). */
async function list(resource, query, token) {
  const r = await api(`/${resource}?${query}`, { token, headers: { Prefer: 'count=exact' } });
  assert.ok([200, 206].includes(r.status), `GET /${resource}?${query}: ${r.status} ${JSON.stringify(r.body)}`);
  const total = Number(r.headers.get('content-range').split('/')[1]);
  return { rows: r.body, total };
}

async function person(id) {
  const r = await api(`/people/${id}`);
  assert.equal(r.status, 200, `GET /people/${id}: ${r.status}`);
  assert.ok(!('password' in r.body));
  return r.body;
}

/** Retries `check` (an async assertion) until it passes or `ms` have gone by. */
async function eventually(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---------------------------------------------------------------------------------------
// the page

let browser;
let page;
let people; // the people resource as the page reads it from /openapi.json
let resources;
const humanize = (name) => {
  const s = name.replace(/_/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/** The texts of the list's header cells, in order. */
const headers = () => page.locator('table thead th').allInnerTexts().then((t) => t.map((s) => s.trim()));

/** The column `field` of the rows shown. */
async function column(field) {
  const index = (await headers()).indexOf(humanize(field));
  assert.ok(index >= 0, `no column ${field}`);
  return page.locator(`table tbody tr td:nth-child(${index + 1})`).allInnerTexts().then((t) => t.map((s) => s.trim()));
}

async function shownIds() {
  return (await column('id')).map(Number);
}

/** The "first-last of total" of the list's pagination. */
async function pagination() {
  const text = await page.locator('.MuiTablePagination-displayedRows').innerText();
  const m = /(\d+)-(\d+) of (\d+)/.exec(text);
  assert.ok(m, `pagination reads "${text}"`);
  return { first: Number(m[1]), last: Number(m[2]), total: Number(m[3]) };
}

/** The texts of the notifications shown now. */
const notifications = () => page.locator('.MuiSnackbarContent-message').allInnerTexts();

/**
 * Waits for a notification matching `pattern`, then (unless `keep`) closes it: react-admin
 * shows one at a time, each for 4 s, and the next step's would wait behind it.
 */
async function notified(pattern, { keep = false } = {}) {
  await eventually(async () => {
    const texts = await notifications();
    assert.ok(texts.some((t) => pattern.test(t)), `a notification matching ${pattern}; shown: ${JSON.stringify(texts)}`);
  });
  if (!keep) await dismiss();
}

async function dismiss() {
  await page.keyboard.press('Escape');
  await page.locator('.MuiSnackbarContent-message').waitFor({ state: 'detached' });
}

/** The error text shown under the input of `field`. */
const fieldError = (field) => page.locator(`.ra-input-${field} .MuiFormHelperText-root.Mui-error`);

/** The names of the form's inputs. */
async function formInputs() {
  const names = await page.locator('form input[name], form textarea[name]').evaluateAll((els) =>
    els.filter((e) => e.type !== 'hidden' || e.closest('.MuiSelect-root')).map((e) => e.name),
  );
  return [...new Set(names)].sort();
}

const sorted = (xs) => [...xs].sort();

/** A test whose failure leaves a screenshot of the page (failed-<n>.png) beside the others. */
let steps = 0;
function step(name, fn) {
  const n = ++steps;
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const path = join(SHOTS, `failed-${n}.png`);
      await page?.screenshot({ path }).catch(() => {});
      console.error(`step ${n} failed at ${page?.url()}; screenshot: ${path}`);
      throw e;
    }
  });
}

/** The people list without filters, by id: react-admin would restore the last ones. */
const FRESH_LIST = '/people?filter=%7B%7D&order=ASC&page=1&perPage=10&sort=id';

async function go(hash) {
  await page.goto(`${BASE}/admin/#${hash}`);
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium); the test does not skip`);
  mkdirSync(SHOTS, { recursive: true });
  const doc = await api('/openapi.json');
  assert.equal(doc.status, 200);
  resources = describeApi(doc.body);
  people = resources.find((r) => r.name === 'people');
  assert.ok(people, 'the document lists /people');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  // The API's refusals as the page met them (some are expected: 401, 409, 412, 422).
  const t0 = Date.now();
  page.on('response', (r) => {
    if (r.status() >= 400) console.log(`page: ${Date.now() - t0} ms: ${r.request().method()} ${r.url()} → ${r.status()}`);
  });
});

after(async () => {
  await browser?.close();
});

describe('the admin page over the people and blog APIs', { concurrency: 1 }, () => {
  let total; // people in the table
  let opened; // the person opened and edited

  step('CORS: the layer the example adds for CORS_ORIGIN lets such a page read Content-Range', async () => {
    const origin = process.env.CORS_ORIGIN;
    const preflight = await fetch(`${BASE}/people?id=eq.1`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin ?? 'http://elsewhere.example',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization,content-type,prefer,if-match',
      },
    });
    const get = await fetch(`${BASE}/people?limit=1`, {
      headers: { Origin: origin ?? 'http://elsewhere.example', Prefer: 'count=exact' },
    });
    assert.equal(get.status, 206); // one row of many, counted
    if (!origin) {
      // Same origin only: no CORS header at all.
      assert.equal(get.headers.get('access-control-allow-origin'), null);
      return;
    }
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.match(preflight.headers.get('access-control-allow-methods'), /PATCH/);
    const allowed = preflight.headers.get('access-control-allow-headers').toLowerCase();
    for (const h of ['authorization', 'content-type', 'prefer', 'if-match']) assert.match(allowed, new RegExp(h));
    assert.equal(get.headers.get('access-control-allow-origin'), origin);
    assert.match(get.headers.get('access-control-expose-headers').toLowerCase(), /content-range/);
    const other = await fetch(`${BASE}/people?limit=1`, { headers: { Origin: 'http://elsewhere.example' } });
    // The one origin allowed is named whoever asks: a browser on another origin refuses it.
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'http://elsewhere.example');
  });

  step('the people list shows the readable fields, the sortable ones sortable, and the total', async () => {
    ({ total } = await list('people', 'limit=0'));
    await go('/people');
    await eventually(async () => assert.equal((await pagination()).total, total));
    assert.deepEqual(await pagination(), { first: 1, last: Math.min(10, total), total });
    const shown = (await headers()).filter(Boolean);
    assert.deepEqual(shown, people.fields.map((f) => humanize(f.name)));
    assert.ok(!shown.some((h) => /password/i.test(h)), 'no hidden field in the list');
    for (const f of people.fields) {
      const sortable = await page
        .locator('table thead th')
        .filter({ hasText: new RegExp(`^${humanize(f.name)}$`) })
        .locator('.MuiTableSortLabel-root')
        .count();
      assert.equal(sortable > 0, people.sortable.has(f.name), `${f.name} sortable as the document says`);
    }
    const { rows } = await list('people', 'order=id.asc&limit=10&select=id');
    await eventually(async () => assert.deepEqual(await shownIds(), rows.map((r) => r.id)));
    await page.screenshot({ path: join(SHOTS, 'admin-list.png'), animations: 'disabled' });
  });

  step('typed filters: a number, a boolean, a date', async () => {
    await go(FRESH_LIST);
    const [admin] = (await list('people', 'is_admin=eq.true&order=id&limit=1')).rows;
    assert.ok(admin, 'the seed has an admin');
    await page.getByLabel('age =').fill(String(admin.age));
    const byAge = await list('people', `age=eq.${admin.age}&limit=0`);
    await eventually(async () => assert.equal((await pagination()).total, byAge.total));
    await page.getByLabel('is_admin').click();
    await page.getByRole('option', { name: 'Yes' }).click();
    const query = `age=eq.${admin.age}&is_admin=eq.true`;
    const both = await list('people', `${query}&order=id&select=id`);
    assert.ok(both.total >= 1 && both.total < byAge.total, `${query}: ${both.total} of ${byAge.total}`);
    await eventually(async () => assert.deepEqual(await shownIds(), both.rows.map((r) => r.id)));
    // A date-time field filters from a day's start (UTC): all of them since 2000, none since 2999.
    await page.getByLabel('created_at since').fill('2000-01-01');
    const since = await list('people', `${query}&created_at=gte.2000-01-01T00:00:00Z&limit=0`);
    assert.equal(since.total, both.total);
    await page.getByLabel('created_at since').fill('2999-01-01');
    assert.equal((await list('people', `${query}&created_at=gte.2999-01-01T00:00:00Z&limit=0`)).total, 0);
    await eventually(async () => assert.match(await page.locator('#main-content').innerText(), /No People found/));
    assert.match(decodeURIComponent(page.url()), /"created_at@gte":"2999-01-01T00:00:00Z"/);
    await go(FRESH_LIST);
    await eventually(async () => assert.equal((await pagination()).total, total));
  });

  step('sorting by age', async () => {
    await page.locator('table thead th').filter({ hasText: /^Age$/ }).locator('.MuiTableSortLabel-root').click();
    const { rows } = await list('people', 'order=age.asc&limit=10&select=id,age');
    await eventually(async () => assert.deepEqual(await shownIds(), rows.map((r) => r.id)));
    assert.deepEqual((await column('age')).map(Number), rows.map((r) => r.age));
    assert.match(page.url(), /sort=age/);
  });

  step('filtering by name (ilike, two words in order)', async () => {
    await page.getByLabel('name contains').fill('Person 12');
    const query = `name=ilike.*Person*12*&order=age.asc`;
    const { rows, total: matching } = await list('people', `${query}&limit=10&select=id,name`);
    assert.ok(matching > 10, `the seed has more than one page of "Person…12" (${matching})`);
    await eventually(async () => assert.equal((await pagination()).total, matching));
    await eventually(async () => assert.deepEqual(await shownIds(), rows.map((r) => r.id)));
    for (const name of await column('name')) assert.match(name, /Person.*12/);
  });

  step('paging forward', async () => {
    await page.getByRole('button', { name: 'Go to next page' }).click();
    const { rows, total: matching } = await list('people', `name=ilike.*Person*12*&order=age.asc&offset=10&limit=10&select=id`);
    await eventually(async () => {
      assert.deepEqual(await pagination(), { first: 11, last: 10 + rows.length, total: matching });
      assert.deepEqual(await shownIds(), rows.map((r) => r.id));
    });
    assert.match(page.url(), /page=2/);
  });

  step('opening a person shows its readable fields, never the password', async () => {
    const [id] = await shownIds();
    await page.locator('table tbody tr').first().locator('td').nth(1).click();
    await page.waitForURL(new RegExp(`#/people/${id}/show$`));
    opened = await person(id);
    const main = page.locator('#main-content');
    await eventually(async () => assert.match(await main.innerText(), new RegExp(opened.email.replace(/\./g, '\\.'))));
    const text = await main.innerText();
    for (const f of people.fields) assert.ok(text.includes(humanize(f.name)), `the record shows ${f.name}`);
    assert.ok(text.includes(opened.name));
    assert.doesNotMatch(text, /password|secret-/i);
  });

  step('editing the age and saving', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(new RegExp(`#/people/${opened.id}$`));
    await eventually(async () => assert.equal(await page.locator('input[name="age"]').inputValue(), String(opened.age)));
    assert.deepEqual(await formInputs(), sorted(people.update.map((f) => f.name)), 'the writable fields exactly');
    assert.equal(await page.locator('input[name="password"]').inputValue(), '', 'the password is never read back');
    const age = opened.age === 77 ? 78 : 77;
    await page.locator('input[name="age"]').fill(String(age));
    await page.getByRole('button', { name: 'Save' }).click();
    await notified(/updated/i);
    await page.waitForURL(new RegExp(`#/people/${opened.id}/show$`));
    assert.deepEqual(await person(opened.id), { ...opened, age });
    opened = { ...opened, age };
  });

  step('a bad e-mail is refused (422) and shown at the field; nothing changes', async () => {
    await go(`/people/${opened.id}`);
    await eventually(async () => assert.equal(await page.locator('input[name="email"]').inputValue(), opened.email));
    await page.locator('input[name="email"]').fill('not-an-e-mail');
    await page.locator('input[name="age"]').fill(String(opened.age + 1));
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => assert.match(await fieldError('email').innerText(), /must be an e-mail address/));
    await notified(/the body has invalid fields: email/, { keep: true });
    assert.equal(await fieldError('age').count(), 0, 'only the offending field is marked');
    assert.match(page.url(), new RegExp(`#/people/${opened.id}$`), 'the form stays open');
    await page.screenshot({ path: join(SHOTS, 'admin-edit.png'), animations: 'disabled' });
    await dismiss();
    assert.deepEqual(await person(opened.id), opened);
  });

  step('a taken e-mail is refused (409) and shown at the field; nothing changes', async () => {
    const other = await person(opened.id === 1 ? 2 : 1);
    await page.locator('input[name="email"]').fill(other.email);
    await page.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => assert.match(await fieldError('email').innerText(), /must be unique/));
    await notified(/already has this `email`/);
    assert.deepEqual(await person(opened.id), opened);
  });

  step('a stale edit is refused (412) with a notification; the other change stays', async () => {
    await page.reload();
    await eventually(async () => assert.equal(await page.locator('input[name="email"]').inputValue(), opened.email));
    // Someone else changes the record after the form read it.
    const changed = await api(`/people/${opened.id}`, { method: 'PATCH', body: JSON.stringify({ bio: `changed by ${RUN}` }) });
    assert.equal(changed.status, 200);
    await page.locator('input[name="age"]').fill(String(opened.age + 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await notified(/Precondition Failed: the resource has changed/);
    assert.match(page.url(), new RegExp(`#/people/${opened.id}$`), 'the form stays open');
    assert.deepEqual(await person(opened.id), { ...opened, bio: `changed by ${RUN}` });
    assert.ok(await page.locator('#main-content').isVisible(), 'the page is not blank');
  });

  let created;
  step('creating a person', async () => {
    await go('/people/create');
    await page.locator('input[name="name"]').waitFor();
    assert.deepEqual(await formInputs(), sorted(people.create.map((f) => f.name)), 'the writable fields exactly');
    const values = { name: `${RUN} Ada`, email: `ada-${RUN}@example.com`, password: 'pw', age: '36', bio: 'created in the browser' };
    for (const [name, value] of Object.entries(values)) {
      await page.locator(`[name="${name}"]`).first().fill(value);
    }
    await page.getByRole('button', { name: 'Save' }).click();
    await notified(/created/i);
    await page.waitForURL(/#\/people\/\d+\/show$/);
    const id = Number(/#\/people\/(\d+)\/show$/.exec(page.url())[1]);
    const { rows } = await list('people', `email=eq.${encodeURIComponent(values.email)}`);
    assert.equal(rows.length, 1);
    created = rows[0];
    assert.equal(created.id, id);
    assert.deepEqual(
      { name: created.name, email: created.email, age: created.age, bio: created.bio, is_admin: created.is_admin },
      { name: values.name, email: values.email, age: 36, bio: values.bio, is_admin: false },
    );
    assert.equal((await list('people', 'limit=0')).total, total + 1);
  });

  step('deleting two people with the bulk action', async () => {
    const second = await api('/people', {
      method: 'POST',
      body: JSON.stringify({ name: `${RUN} Bob`, email: `bob-${RUN}@example.com`, password: 'pw', age: 40 }),
    });
    assert.equal(second.status, 201);
    assert.equal((await list('people', `name=ilike.*${RUN}*`)).total, 2);
    await go('/people');
    await page.getByLabel('name contains').fill(RUN);
    await eventually(async () => {
      assert.equal((await pagination()).total, 2);
      assert.deepEqual(sorted(await shownIds()), sorted([created.id, second.body.id]));
    });
    await page.getByRole('checkbox', { name: 'Select all' }).check();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await notified(/2 elements deleted/i);
    assert.equal((await list('people', `name=ilike.*${RUN}*`)).total, 0);
    assert.equal((await list('people', 'limit=0')).total, total);
    for (const id of [created.id, second.body.id]) assert.equal((await api(`/people/${id}`)).status, 404);
    await eventually(async () => assert.match(await page.locator('#main-content').innerText(), /No .*found/i));
  });

  step('the blog: refused without a token (a notification, not a blank page), listed with one', async () => {
    const users = resources.find((r) => r.name === 'users');
    const posts = resources.find((r) => r.name === 'posts');
    assert.ok(users && posts, 'the document lists /users and /posts');
    assert.equal((await api('/users')).status, 401);
    await go('/users');
    await notified(/send Authorization: Bearer/);
    await eventually(async () =>
      assert.match(await page.locator('.list-error').innerText(), /HTTP 401: Unauthorized: send Authorization: Bearer/),
    );
    assert.ok(await page.getByRole('menuitem', { name: 'People' }).isVisible(), 'the menu is still there');

    await go('/');
    await page.getByLabel('Bearer token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await notified(/Token saved/);
    assert.equal(await page.evaluate(() => localStorage.getItem('expose-admin.token')), ADMIN_TOKEN);

    const allUsers = await list('users', 'limit=0', ADMIN_TOKEN);
    await go('/users');
    await eventually(async () => assert.equal((await pagination()).total, allUsers.total));
    assert.deepEqual((await headers()).filter(Boolean), users.fields.map((f) => humanize(f.name)));

    const allPosts = await list('posts', 'limit=0', ADMIN_TOKEN);
    const published = await list('posts', 'limit=0');
    assert.ok(allPosts.total > published.total, 'the admin sees drafts too');
    await go('/posts');
    await eventually(async () => assert.equal((await pagination()).total, allPosts.total));

    await go('/posts/create');
    await page.locator('[name="title"]').waitFor();
    assert.deepEqual(await formInputs(), sorted(posts.create.map((f) => f.name)), 'the owner is set by the server');
    assert.ok(!posts.create.some((f) => f.name === 'owner_id'));

    // An edit sends the token too (the blog lets the author or an admin change a post).
    const [post] = (await list('posts', 'order=id&limit=1', ADMIN_TOKEN)).rows;
    await go(`/posts/${post.id}`);
    await eventually(async () => assert.equal(await page.locator('input[name="title"]').inputValue(), post.title));
    await page.locator('input[name="title"]').fill(`${post.title} (${RUN})`);
    await page.getByRole('button', { name: 'Save' }).click();
    await notified(/updated/i);
    const after = await api(`/posts/${post.id}`, { token: ADMIN_TOKEN });
    assert.deepEqual(after.body, { ...post, title: `${post.title} (${RUN})` });
  });
});
