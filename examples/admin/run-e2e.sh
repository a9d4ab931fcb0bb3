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

fail() { echo "admin-e2e: $*" >&2; exit 1; }
for tool in node npm cargo curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
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
for backend in "${BACKENDS[@]}"; do
  case $backend in
    sqlite) ;;
    postgres)
      [ -n "${EXPOSE_TEST_POSTGRES:-}" ] || fail "postgres asked for but EXPOSE_TEST_POSTGRES is not set"
      command -v psql >/dev/null || fail "psql is not installed" ;;
    mysql)
      [ -n "${EXPOSE_TEST_MYSQL:-}" ] || fail "mysql asked for but EXPOSE_TEST_MYSQL is not set"
      command -v mariadb >/dev/null || command -v mysql >/dev/null || fail "neither mariadb nor mysql (the client) is installed" ;;
    *) fail "unknown backend '$backend' (sqlite, postgres, mysql)" ;;
  esac
done

BEGIN=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

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

SERVER=
stop() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true # SIGTERM: graceful shutdown
    for _ in $(seq 1 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}
trap 'stop; rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# The origin the CORS layer is set up for in these runs; the test checks its headers.
CORS_ORIGIN=http://localhost:5173
export CORS_ORIGIN

# Starts the example on DATABASE_URL $1, logging to $2; sets SERVER and PORT once /ready
# answers. Another process may take the free port before the server binds it: then it tries
# another port (three times).
start() {
  local url=$1 log=$2 attempt deadline
  for attempt in 1 2 3; do
    PORT="$(free_port)"
    DATABASE_URL="$url" ADDR="127.0.0.1:$PORT" SEED_ROWS=200 ADMIN_DIR="$WEB/dist" "$BIN" >"$log" 2>&1 &
    SERVER=$!
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
      curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/ready" 2>/dev/null && return 0
      kill -0 "$SERVER" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$SERVER" 2>/dev/null; then
      echo "admin-e2e: the server was not ready within 60 s; its log ($log):" >&2
    elif grep -q "Address already in use" "$log" && ((attempt < 3)); then
      wait "$SERVER" 2>/dev/null || true
      SERVER=
      continue
    else
      echo "admin-e2e: the server exited before it was ready; its log ($log):" >&2
    fi
    cat "$log" >&2
    stop
    return 1
  done
}

# A URL with one more query parameter.
with_param() { case $1 in *\?*) echo "$1&$2" ;; *) echo "$1?$2" ;; esac; }

fresh_postgres() { # the schema admin_e2e, empty; prints the URL that uses it
  PGOPTIONS='--client-min-messages=warning' psql "$EXPOSE_TEST_POSTGRES" -v ON_ERROR_STOP=1 -q \
    -c 'DROP SCHEMA IF EXISTS admin_e2e CASCADE' -c 'CREATE SCHEMA admin_e2e' >&2 || return 1
  with_param "$EXPOSE_TEST_POSTGRES" 'options=-csearch_path%3Dadmin_e2e'
}

fresh_mysql() { # the database admin_e2e, empty; prints the URL that uses it
  local re='^mysql://([^:@/]+)(:([^@]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)(.*)$' client
  [[ $EXPOSE_TEST_MYSQL =~ $re ]] || { echo "admin-e2e: cannot read EXPOSE_TEST_MYSQL=$EXPOSE_TEST_MYSQL" >&2; return 1; }
  client="$(command -v mariadb || command -v mysql)"
  MYSQL_PWD="${BASH_REMATCH[3]}" "$client" -h "${BASH_REMATCH[4]}" -P "${BASH_REMATCH[6]:-3306}" \
    -u "${BASH_REMATCH[1]}" -e 'DROP DATABASE IF EXISTS admin_e2e; CREATE DATABASE admin_e2e' >&2 || return 1
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
  elif echo "admin-e2e: $backend: starting the admin example" && start "$url" "$dir/server.log"; then
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
