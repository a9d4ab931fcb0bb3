// openapi-fetch, typed by openapi-typescript from the people document (generated/people.d.ts),
// against the running example: compiled with `tsc --strict`, then run by clients/run.sh.
import createClient from "openapi-fetch";
import type { components, paths } from "../generated/people.js";

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type Person = components["schemas"]["Person"];

const baseUrl = process.env.BASE_URL;
if (!baseUrl) throw new Error("BASE_URL is not set");
const client = createClient<paths>({ baseUrl });

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`typed client: ${what}`);
}

// A page by `limit`, ordered.
const page = await client.GET("/people", { params: { query: { order: "id", limit: 2 } } });
check(page.response.status === 200, `list: status ${page.response.status}`);
// The 200 is JSON or CSV (`Accept: text/csv`): JSON here.
const rows: Person[] = Array.isArray(page.data) ? page.data : [];
check(rows.length === 2 && rows[0].id === 1 && rows[1].id === 2, `list: ${JSON.stringify(rows)}`);

// A page by `Range` (no limit sent: the header decides).
const ranged = await client.GET("/people", {
  params: { query: { order: "id" }, header: { Range: "0-2" } },
});
check(Array.isArray(ranged.data) && ranged.data.length === 3, `Range 0-2: ${JSON.stringify(ranged.data)}`);
check(
  ranged.response.headers.get("content-range")?.startsWith("0-2/") === true,
  `Content-Range: ${ranged.response.headers.get("content-range")}`,
);

// One row by key.
const one = await client.GET("/people/{id}", { params: { path: { id: 1 } } });
check(one.data?.id === 1 && one.data.name === rows[0].name, `retrieve: ${JSON.stringify(one.data)}`);

// A create; its answer is the new row, read again by key.
const email = `typed-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const created = await client.POST("/people", {
  body: { name: "Typed", email, password: "secret", age: 30 },
});
check(created.response.status === 201, `create: status ${created.response.status} ${JSON.stringify(created.error)}`);
const id = created.data && !Array.isArray(created.data) ? created.data.id : undefined;
check(typeof id === "number", `create: ${JSON.stringify(created.data)}`);
const again = await client.GET("/people/{id}", { params: { path: { id: id as number } } });
check(again.data?.email === email, `created row: ${JSON.stringify(again.data)}`);

// A refusal is a typed problem.
const bad = await client.GET("/people", { params: { query: { limit: 2, order: "nope" } } });
check(bad.response.status === 400 && typeof bad.error?.title === "string", `problem: ${JSON.stringify(bad.error)}`);

console.log("typed client (openapi-typescript + openapi-fetch): list, Range, retrieve, create, problem: ok");
