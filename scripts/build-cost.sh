#!/usr/bin/env bash
# Build cost of #[expose]: generates a crate with $MODELS (default 50) exposed models and the
# same crate with the attribute removed (plain structs), in target/build-cost/, and reports
# their clean and incremental debug build times. A benchmark, not a test: figures depend on
# the machine and on what else it is doing.
#
#   scripts/build-cost.sh              # MODELS=50 RUNS=3
#   MODELS=10 RUNS=1 scripts/build-cost.sh
#   GEN_ONLY=1 scripts/build-cost.sh   # only write the two crates
#
# Both crates build in their own target directory, target/build-cost/target (the
# dependencies are compiled there once, before any measurement). "clean" removes only the
# generated crate's own artifacts (`cargo clean -p` in that directory) and rebuilds it;
# "incremental" edits the doc comment of one model (so the macro runs again on a changed
# input and the model's emitted description changes) and rebuilds. Each figure is the
# median of $RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODELS=${MODELS:-50}
RUNS=${RUNS:-3}
OUT=$ROOT/target/build-cost
TARGET=$OUT/target
mkdir -p "$OUT"

# gen NAME WITH_ATTR: writes $OUT/NAME (WITH_ATTR 1: #[expose] models and an app() merging
# their routers; 0: the same structs, no attribute).
gen() {
  local name=$1 attr=$2 dir=$OUT/$1
  rm -rf "$dir"
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
expose-runtime = { path = "$ROOT/expose-runtime" }
axum = { version = "0.8", default-features = false, features = ["http1", "tokio", "query", "json", "original-uri", "tracing"] }
chrono = { version = "0.4", default-features = false, features = ["std", "clock", "serde"] }

# Not part of the expose workspace.
[workspace]
TOML
  cp "$ROOT/Cargo.lock" "$dir/Cargo.lock"
  {
    echo "//! $MODELS generated models ($([ "$attr" = 1 ] && echo "with" || echo "without") #[expose])."
    echo "#![allow(dead_code)]"
    echo "use expose_runtime::{Cond, HookCtx, Problem};"
    echo
    echo "async fn audit(_ctx: &mut HookCtx) -> Result<(), Problem> { Ok(()) }"
    echo "fn owner(_ctx: &HookCtx) -> Result<i64, Problem> { Ok(1) }"
    for i in $(seq 1 "$MODELS"); do
      echo
      echo "/// Model $i."
      if [ "$attr" = 1 ]; then
        if [ $((i % 5)) = 0 ]; then
          echo "#[expose(as = \"m$i\", all(fields = \"-secret\", scope = scope_$i, pre = [audit]), list(filter = \"name,age,active\", sort = \"name,age\", order = \"id\", limit = 50, max_limit = 500), retrieve, create(fields = \"name,email,age,note,secret\", force(owner_id = owner), post = [audit]), update(fields = \"name,email,age,note\"), remove)]"
        else
          echo "#[expose(as = \"m$i\", all(fields = \"-secret\"), list(filter = \"name,age,active\", sort = \"name,age\", order = \"id\", limit = 50, max_limit = 500), retrieve, create(fields = \"name,email,age,note,secret,owner_id\"), update(fields = \"name,email,age,note\"), remove)]"
        fi
      fi
      echo "pub struct M$i {"
      [ "$attr" = 1 ] && echo "    #[expose(id, generated)]"
      echo "    pub id: i64,"
      echo "    pub owner_id: i64,"
      echo "    pub name: String,"
      echo "    pub email: String,"
      echo "    pub secret: String,"
      echo "    pub age: i32,"
      echo "    pub score: Option<f64>,"
      [ "$attr" = 1 ] && echo "    #[expose(default)]"
      echo "    pub active: bool,"
      echo "    pub note: Option<String>,"
      [ "$attr" = 1 ] && echo "    #[expose(generated)]"
      echo "    pub created_at: chrono::DateTime<chrono::Utc>,"
      echo "}"
      if [ "$attr" = 1 ] && [ $((i % 5)) = 0 ]; then
        echo "fn scope_$i(_ctx: &HookCtx) -> Result<Option<Cond<M$i>>, Problem> { Ok(Some(M$i::FIELDS.owner_id.eq(1))) }"
      else
        echo "fn scope_$i(_ctx: &HookCtx) -> Result<Option<Cond<()>>, Problem> { Ok(None) }"
      fi
    done
    if [ "$attr" = 1 ]; then
      echo
      echo "/// Every model's routes."
      echo "pub fn app(db: expose_runtime::Db) -> axum::Router {"
      echo "    axum::Router::new()"
      for i in $(seq 1 "$MODELS"); do echo "        .merge(M$i::router())"; done
      echo "        .with_state(db)"
      echo "}"
    fi
  } >"$dir/src/lib.rs"
  if [ "$attr" = 1 ]; then sed -i '3i use expose_runtime::expose;' "$dir/src/lib.rs"; fi
}

now() { date +%s.%N; }

# build NAME: seconds taken by a debug build of the generated crate.
build() {
  local start end
  start=$(now)
  cargo build --offline -q --manifest-path "$OUT/$1/Cargo.toml" --target-dir "$TARGET" >/dev/null
  end=$(now)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

gen expose_models 1
gen plain_models 0
[ -n "${GEN_ONLY:-}" ] && { echo "generated $OUT/expose_models and $OUT/plain_models"; exit 0; }
echo "build-cost: $MODELS models; dependencies first (not measured)..." >&2
build expose_models >/dev/null
build plain_models >/dev/null

declare -A RESULT
for name in expose_models plain_models; do
  clean="" incr=""
  for _ in $(seq 1 "$RUNS"); do
    cargo clean --offline -q -p "$name" --manifest-path "$OUT/$name/Cargo.toml" --target-dir "$TARGET"
    clean="$clean $(build "$name")"
    sed -i "s|^/// Model 1\b.*|/// Model 1, edited at $(now).|" "$OUT/$name/src/lib.rs"
    incr="$incr $(build "$name")"
  done
  RESULT[$name.clean]=$(echo "$clean" | median)
  RESULT[$name.incr]=$(echo "$incr" | median)
  echo "build-cost: $name clean:$clean  incremental:$incr" >&2
done

lines=$(wc -l <"$OUT/expose_models/src/lib.rs")
{
  echo "| crate ($MODELS models, $lines lines, debug) | clean build | incremental rebuild |"
  echo "|---|---|---|"
  echo "| with \`#[expose]\` | ${RESULT[expose_models.clean]} s | ${RESULT[expose_models.incr]} s |"
  echo "| attribute removed | ${RESULT[plain_models.clean]} s | ${RESULT[plain_models.incr]} s |"
  echo
  echo "median of $RUNS runs; $(rustc --version); $(nproc) cores; $(date -u +%Y-%m-%d)"
} | tee "$OUT/report.md"
