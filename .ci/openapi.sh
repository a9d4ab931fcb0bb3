#!/usr/bin/env bash
# The OpenAPI document against the OpenAPI 3.1 schema, and schemathesis against the running
# `people` example on SQLite (at the root, and nested under /api/v1) and the `blog` example.
#
#  1. installs openapi-spec-validator and schemathesis (PyPI) into target/openapi-venv;
#  2. validates the checked-in snapshots (tests/snapshots/*.json);
#  3. starts `cargo run --example people` on 127.0.0.1:3999 with a fresh SQLite database,
#     saves and validates the document it serves (target/openapi-people.json);
#  4. runs schemathesis on it: every phase (examples, coverage, fuzzing, stateful) and every
#     check, a bounded number of examples per operation, a fixed seed (ST_SEED to change it);
#  5. stops the server.
#
# ST_MAX_EXAMPLES (default 40) bounds the examples per operation; the whole script stays well
# under 5 minutes on 2 cores once the example is built.
set -euo pipefail
cd "$(dirname "$0")/.."


TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
VENV="$TARGET/openapi-venv"
DB="$TARGET/st.db"

if [ ! -x "$VENV/bin/schemathesis" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"
fi

echo "openapi: validating the snapshots against the OpenAPI 3.1 schema"
"$VENV/bin/openapi-spec-validator" tests/snapshots/*.json

run_example() { # name, port, extra schemathesis arguments; API_PREFIX nests the API
  local EXAMPLE=$1 ADDR=127.0.0.1:$2
  local NAME=$EXAMPLE${API_PREFIX:+-nested}
  shift 2
  local DB="$TARGET/st-$NAME.db"
  cargo build --quiet --example "$EXAMPLE"
  rm -f "$DB" "$DB-shm" "$DB-wal"
  API_PREFIX="${API_PREFIX:-}" ADDR=$ADDR DATABASE_URL="sqlite:$DB?mode=rwc" SEED_ROWS=20 \
    RUST_LOG=info,sqlx=warn \
    setsid cargo run --quiet --example "$EXAMPLE" >"$TARGET/openapi-server-$NAME.log" 2>&1 &
  SERVER=$!
  trap stop EXIT
  for _ in $(seq 1 60); do
    curl -fsS "http://$ADDR/openapi.json" -o "$TARGET/openapi-$NAME.json" 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$TARGET/openapi-server-$NAME.log"; exit 1; }
    sleep 0.5
  done
  echo "openapi: validating the document the $NAME example serves"
  "$VENV/bin/openapi-spec-validator" "$TARGET/openapi-$NAME.json"
  echo "openapi: schemathesis against the $NAME example at http://$ADDR"
  mkdir -p "$TARGET/schemathesis-$NAME"
  (
    cd "$TARGET/schemathesis-$NAME"
    ST_DOCUMENT="$TARGET/openapi-$NAME.json" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$CI_DIR" \
      "$VENV/bin/schemathesis" --config-file "$CI_DIR/schemathesis.toml" run "http://$ADDR/openapi.json" \
      --phases examples,coverage,fuzzing,stateful \
      --checks all \
      --max-examples "${ST_MAX_EXAMPLES:-40}" \
      --seed "${ST_SEED:-20261123}" \
      --workers 1 \
      --generation-database :memory: \
      --request-timeout 10 \
      --no-color \
      --report junit,har --report-dir . "$@"
  )
  stop
  trap - EXIT
}
stop() { kill -- -"$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
CI_DIR="$PWD/.ci"
run_example people 3999
# The same API nested under /api/v1: the document keeps its paths and names the prefix in
# `servers`, which schemathesis sends every request under. Fewer examples and no coverage
# phase (the operations are the ones above; what is tested here is the prefix): about a
# minute on 2 busy cores.
API_PREFIX=/api/v1 ST_MAX_EXAMPLES=10 run_example people 3997 --phases examples,fuzzing,stateful
# The blog runs as its demo admin: anonymous callers get 401 from the hooks, and
# per-request field narrowing (email for admins only) is not something a static document
# can state.
run_example blog 3998 --header "Authorization: Bearer admin-token"
