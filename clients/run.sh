#!/usr/bin/env bash
# Real JavaScript clients (@supabase/postgrest-js, @raphiniert/ra-data-postgrest) against the
# running `people` example, on every backend; then, once on SQLite, the OpenAPI documents of
# `people` and `blog` for generated clients: `redocly lint` (recommended rules) on both, an
# openapi-typescript + openapi-fetch client of `people` type-checked with `tsc --strict` and run,
# and an openapi-python-client client of `people` (pinned, in <target>/clients-venv) run:
#
#   bash clients/run.sh                   # SQLite, plus PostgreSQL / MariaDB when their URL is set
#   bash clients/run.sh sqlite postgres   # only these
#
# SQLite always (a fresh file); PostgreSQL when EXPOSE_TEST_POSTGRES holds a URL, MySQL/MariaDB
# when EXPOSE_TEST_MYSQL does. With CI set, a missing URL is a failure, never a skip. For each
# backend: drop the `people` table (server backends), start the built example on a free port
# with 200 seed rows, wait for /ready, run `node --test`, stop the server. Logs go to
# <target>/clients/. Exits non-zero when any backend fails.
set -euo pipefail
CLIENTS="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$CLIENTS")"

NAME=clients
# shellcheck source=../.ci/lib.sh
source "$ROOT/.ci/lib.sh"
need_tools node npm cargo curl python3
# The examples start with 200 seed rows.
export SEED_ROWS=200

# Which backends.
if [ -n "${CI:-}" ]; then
  [ -n "${EXPOSE_TEST_POSTGRES:-}" ] || fail "CI is set but EXPOSE_TEST_POSTGRES is not; refusing to skip PostgreSQL"
  [ -n "${EXPOSE_TEST_MYSQL:-}" ] || fail "CI is set but EXPOSE_TEST_MYSQL is not; refusing to skip MySQL/MariaDB"
fi
if [ $# -gt 0 ]; then
  BACKENDS=("$@")
else
  BACKENDS=(sqlite)
  [ -z "${EXPOSE_TEST_POSTGRES:-}" ] || BACKENDS+=(postgres)
  [ -z "${EXPOSE_TEST_MYSQL:-}" ] || BACKENDS+=(mysql)
fi
check_backends "${BACKENDS[@]}"

# The clients' packages, exactly as locked.
cd "$CLIENTS"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "clients: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The examples, built once; their binaries are started directly for each backend.
cd "$ROOT"
echo "clients: building the people and blog examples"
cargo build --quiet --example people --example blog
TARGET="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
BIN="$TARGET/debug/examples/people"
[ -x "$BIN" ] || fail "$BIN was not built"
LOGS="$TARGET/clients"
mkdir -p "$LOGS"

# openapi-python-client, pinned, in a venv of its own (as .ci/openapi.sh installs its tools).
VENV="$TARGET/clients-venv"
if [ ! -x "$VENV/bin/openapi-python-client" ]; then
  echo "clients: installing openapi-python-client into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==0.26.1"
fi
WORK="$(mktemp -d)"

CLEANUP='rm -rf "$WORK"'

drop_postgres() {
  PGOPTIONS='--client-min-messages=warning' psql "$EXPOSE_TEST_POSTGRES" -v ON_ERROR_STOP=1 -q \
    -c 'DROP TABLE IF EXISTS people'
}

drop_mysql() { mysql_exec "$EXPOSE_TEST_MYSQL" 'DROP TABLE IF EXISTS people'; }

# Runs the suites on one backend; prints its result line and records it.
RESULTS=()
FAILED=0
run_backend() {
  local backend=$1 url begin secs outcome counts=
  begin=$EPOCHREALTIME
  outcome=FAIL
  case $backend in
    sqlite) url="sqlite:$WORK/people.db?mode=rwc"; rm -f "$WORK"/people.db* ;;
    postgres) url=$EXPOSE_TEST_POSTGRES; drop_postgres || counts="could not drop the people table" ;;
    mysql) url=$EXPOSE_TEST_MYSQL; drop_mysql || counts="could not drop the people table" ;;
  esac
  if [ -n "${counts:-}" ]; then
    : # reported below
  elif echo "clients: $backend: starting the people example" && start "$url" "$LOGS/$backend-server.log" "$BIN"; then
    echo "clients: $backend: node --test against http://127.0.0.1:$PORT"
    if (cd "$CLIENTS" && BASE_URL="http://127.0.0.1:$PORT" node --test --test-reporter=spec --test-timeout=30000 \
      postgrest.test.mjs ra-data-postgrest.test.mjs) 2>&1 | tee "$LOGS/$backend-tests.log"; then
      outcome=pass
    else
      outcome=FAIL
    fi
    stop
    counts="$(sed -nE 's/^ℹ (tests|pass|fail) ([0-9]+)$/\1 \2/p' "$LOGS/$backend-tests.log" | paste -sd, - | sed 's/,/, /g')"
  else
    counts="the server did not start"
  fi
  secs="$(elapsed "$begin")"
  [ $outcome = pass ] || FAILED=1
  RESULTS+=("clients: $backend: $outcome ($counts; ${secs} s; logs in $LOGS/$backend-*.log)")
  echo "${RESULTS[-1]}"
}

# The documents and the generated clients, on SQLite: what they check is the document, the
# same on every backend.
run_documents() {
  local gen="$CLIENTS/generated" begin secs outcome=FAIL log="$LOGS/documents.log"
  begin=$EPOCHREALTIME
  rm -rf "$gen" && mkdir -p "$gen"
  rm -f "$WORK"/docs-*.db*
  # In a subshell (for `tee`), which stops the servers it starts.
  if (
    start "sqlite:$WORK/docs-blog.db?mode=rwc" "$LOGS/documents-blog-server.log" \
      "$TARGET/debug/examples/blog" /openapi.json &&
      curl -fsS "http://127.0.0.1:$PORT/openapi.json" -o "$gen/blog.json" &&
      stop &&
      start "sqlite:$WORK/docs-people.db?mode=rwc" "$LOGS/documents-people-server.log" "$BIN" &&
      curl -fsS "http://127.0.0.1:$PORT/openapi.json" -o "$gen/people.json" &&
      (
        set -e
        cd "$CLIENTS"
        echo "clients: redocly lint (recommended) on the people and blog documents"
        npx --no-install redocly lint --extends recommended --format=summary \
          generated/people.json generated/blog.json
        echo "clients: openapi-typescript + openapi-fetch, tsc --strict"
        npx --no-install openapi-typescript generated/people.json -o generated/people.d.ts
        npx --no-install tsc --strict --module nodenext --moduleResolution nodenext \
          --target es2022 --outDir generated/ts typed/people.ts
        BASE_URL="http://127.0.0.1:$PORT" node generated/ts/people.js
        echo "clients: openapi-python-client"
        cd "$gen" && mkdir -p python
        "$VENV/bin/openapi-python-client" generate --path people.json --meta none \
          --output-path "$gen/python/people_client" --config "$CLIENTS/python/config.yaml"
        BASE_URL="http://127.0.0.1:$PORT" "$VENV/bin/python" "$CLIENTS/python/people_check.py" \
          "$gen/python"
      )
    rc=$?
    stop
    exit $rc
  ) 2>&1 | tee "$log"; then
    outcome=pass
  fi
  secs="$(elapsed "$begin")"
  [ $outcome = pass ] || FAILED=1
  RESULTS+=("clients: documents and generated clients: $outcome (${secs} s; log in $log)")
  echo "${RESULTS[-1]}"
}

for backend in "${BACKENDS[@]}"; do
  run_backend "$backend"
done
run_documents
echo
printf '%s\n' "${RESULTS[@]}"
exit $FAILED
