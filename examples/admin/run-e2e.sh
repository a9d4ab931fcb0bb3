#!/usr/bin/env bash
# The admin page in a real browser: builds the page and the admin example, then for each
# backend starts the example on a fresh database, waits for /ready, runs the browser test
# (web/e2e.mjs: playwright-core driving Debian's Chromium, headless) and stops the server.
#
#   bash examples/admin/run-e2e.sh                   # SQLite, plus PostgreSQL when EXPOSE_TEST_POSTGRES is set
#   bash examples/admin/run-e2e.sh sqlite postgres   # only these (mysql too, with EXPOSE_TEST_MYSQL)
#   UPDATE_SCREENSHOTS=1 bash examples/admin/run-e2e.sh sqlite   # copy the screenshots to docs/
#
# Installs nothing but the page's locked packages (`npm ci` when node_modules is missing or
# older than the lockfile) and builds the page (`npm run build`) when its sources are newer
# than the build. The browser must be there (/usr/bin/chromium, or CHROMIUM): without it the
# run fails; it never skips. With CI set, a missing EXPOSE_TEST_POSTGRES fails too.
#
# PostgreSQL and MySQL/MariaDB: the example's tables live in a schema (PostgreSQL) or database
# (MySQL) of their own, `admin_e2e`, dropped and made anew before each run, so the run never
# touches the tables of the other suites sharing the database server. Logs and screenshots go
# to <target>/admin-e2e/<backend>/. Exits non-zero when any step of any backend fails.
set -euo pipefail
ADMIN="$(cd "$(dirname "$0")" && pwd)"
WEB="$ADMIN/web"
ROOT="$(cd "$ADMIN/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMIUM

NAME=admin-e2e
# shellcheck source=../../.ci/lib.sh
source "$ROOT/.ci/lib.sh"
need_tools node npm cargo curl
[ -x "$CHROMIUM" ] || fail "no browser at $CHROMIUM: install Debian's chromium (apt-get install chromium); the browser test never skips"

# Which backends.
if [ -n "${CI:-}" ] && [ -z "${EXPOSE_TEST_POSTGRES:-}" ]; then
  fail "CI is set but EXPOSE_TEST_POSTGRES is not; refusing to skip PostgreSQL"
fi
if [ $# -gt 0 ]; then
  BACKENDS=("$@")
else
  BACKENDS=(sqlite)
  [ -z "${EXPOSE_TEST_POSTGRES:-}" ] || BACKENDS+=(postgres)
fi
check_backends "${BACKENDS[@]}"

BEGIN=$EPOCHREALTIME

# The page: its locked packages, then the build when a source is newer than it.
cd "$WEB"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "admin-e2e: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f dist/index.html ] || [ -n "$(find src index.html vite.config.js package-lock.json -newer dist/index.html -print -quit)" ]; then
  echo "admin-e2e: npm run build"
  npm run build --silent >/dev/null
fi
[ -f dist/index.html ] || fail "the page's build wrote no dist/index.html"

# The example, built once; its binary is started directly for each backend.
cd "$ROOT"
echo "admin-e2e: building the admin example"
cargo build --quiet --example admin
TARGET="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
BIN="$TARGET/debug/examples/admin"
[ -x "$BIN" ] || fail "$BIN was not built"
OUT="$TARGET/admin-e2e"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
echo "admin-e2e: page and example ready in $(elapsed "$BEGIN") s"

CLEANUP='rm -rf "$WORK"'

# The origin the CORS layer is set up for in these runs; the test checks its headers.
CORS_ORIGIN=http://localhost:5173
export CORS_ORIGIN

# A URL with one more query parameter.
with_param() { case $1 in *\?*) echo "$1&$2" ;; *) echo "$1?$2" ;; esac; }

fresh_postgres() { # the schema admin_e2e, empty; prints the URL that uses it
  PGOPTIONS='--client-min-messages=warning' psql "$EXPOSE_TEST_POSTGRES" -v ON_ERROR_STOP=1 -q \
    -c 'DROP SCHEMA IF EXISTS admin_e2e CASCADE' -c 'CREATE SCHEMA admin_e2e' >&2 || return 1
  with_param "$EXPOSE_TEST_POSTGRES" 'options=-csearch_path%3Dadmin_e2e'
}

fresh_mysql() { # the database admin_e2e, empty; prints the URL that uses it
  mysql_exec "$EXPOSE_TEST_MYSQL" 'DROP DATABASE IF EXISTS admin_e2e; CREATE DATABASE admin_e2e' >&2 || return 1
  [[ $EXPOSE_TEST_MYSQL =~ $MYSQL_URL_RE ]]
  echo "mysql://${BASH_REMATCH[1]}${BASH_REMATCH[2]}@${BASH_REMATCH[4]}${BASH_REMATCH[5]}/admin_e2e${BASH_REMATCH[8]}"
}

RESULTS=()
FAILED=0
run_backend() {
  local backend=$1 url begin outcome=FAIL counts= dir="$OUT/$1"
  begin=$EPOCHREALTIME
  rm -rf "$dir"
  mkdir -p "$dir"
  case $backend in
    sqlite) url="sqlite:$WORK/admin.db?mode=rwc"; rm -f "$WORK"/admin.db* ;;
    postgres) url="$(fresh_postgres)" || counts="could not make the admin_e2e schema" ;;
    mysql) url="$(fresh_mysql)" || counts="could not make the admin_e2e database" ;;
  esac
  if [ -n "$counts" ]; then
    : # reported below
  elif echo "admin-e2e: $backend: starting the admin example" && SEED_ROWS=200 ADMIN_DIR="$WEB/dist" start "$url" "$dir/server.log" "$BIN"; then
    echo "admin-e2e: $backend: browser test against http://127.0.0.1:$PORT/admin/"
    if (cd "$WEB" && BASE_URL="http://127.0.0.1:$PORT" SCREENSHOTS="$dir" \
      node --test --test-reporter=spec --test-timeout=120000 e2e.mjs) 2>&1 | tee "$dir/test.log"; then
      outcome=pass
    fi
    stop
    counts="$(sed -nE 's/^ℹ (tests|pass|fail) ([0-9]+)$/\1 \2/p' "$dir/test.log" | paste -sd, - | sed 's/,/, /g')"
  else
    counts="the server did not start"
  fi
  [ $outcome = pass ] || FAILED=1
  RESULTS+=("admin-e2e: $backend: $outcome ($counts; $(elapsed "$begin") s; logs and screenshots in $dir)")
  echo "${RESULTS[-1]}"
}

for backend in "${BACKENDS[@]}"; do
  run_backend "$backend"
done

if [ -n "${UPDATE_SCREENSHOTS:-}" ]; then
  if [ $FAILED = 0 ]; then
    mkdir -p "$ROOT/docs"
    cp "$OUT/${BACKENDS[0]}/admin-list.png" "$OUT/${BACKENDS[0]}/admin-edit.png" "$ROOT/docs/"
    echo "admin-e2e: docs/admin-list.png and docs/admin-edit.png updated from the ${BACKENDS[0]} run"
  else
    echo "admin-e2e: a run failed; docs/ left as it was" >&2
  fi
fi
echo
printf '%s\n' "${RESULTS[@]}"
echo "admin-e2e: $(elapsed "$BEGIN") s in all"
exit $FAILED
