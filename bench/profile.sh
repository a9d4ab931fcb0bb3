#!/usr/bin/env bash
# Instructions per request of each side, counted by valgrind's callgrind: unlike requests
# per second, the count does not depend on how busy the machine is.
#
#   bench/profile.sh [backend] [workloads] [requests]
#     backend    sqlite (default), postgres or mysql (the servers of bench/README.md)
#     workloads  comma-separated (default retrieve,list,create,update); remove is not
#                available (it needs rows made for it)
#     requests   per measurement (default 1000)
#   CONCURRENCY=n  connections of the load (default 1)
#   CALLGRIND_ARGS  more options for callgrind, e.g. "--cache-sim=yes" for simulated cache misses
#
# Prints a Markdown table; the callgrind files stay in $OUT (default target/profile) for
# callgrind_annotate. Needs valgrind. Builds the bench in release mode first.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
workloads=${2:-retrieve,list,create,update}
requests=${3:-1000}
conc=${CONCURRENCY:-1}
OUT=${OUT:-target/profile}
command -v valgrind >/dev/null || { echo "profile.sh needs valgrind" >&2; exit 1; }
cargo build --release -q -p expose-bench
B=target/release/expose-bench
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

url_for() { # side
  case $backend in
    sqlite) echo "sqlite:$OUT/$1.db" ;;
    postgres) echo "postgres://postgres@127.0.0.1:5432/test?options[search_path]=expose_profile_$1" ;;
    mysql) echo "mysql://root@127.0.0.1:3306/expose_profile_$1" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
}

prepare() { # side: an empty database of its own
  case $backend in
    sqlite) rm -f "$OUT/$1.db"* ;;
    postgres) psql -q -h 127.0.0.1 -U postgres -d test -c \
      "DROP SCHEMA IF EXISTS expose_profile_$1 CASCADE; CREATE SCHEMA expose_profile_$1;" ;;
    mysql) mariadb -h 127.0.0.1 -u root -e \
      "DROP DATABASE IF EXISTS expose_profile_$1; CREATE DATABASE expose_profile_$1 COLLATE utf8mb4_bin;" ;;
  esac
}

# Counts one side on one workload; prints the instructions per request.
count() { # side workload
  local side=$1 wl=$2
  local fifo="$OUT/in-$side" out="$OUT/cg-$backend-$side-$wl"
  rm -f "$fifo" "$out"*; mkfifo "$fifo"
  sleep 3600 > "$fifo" & local keep=$!
  valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$out" \
    $B --serve "$side" --url "$(url_for "$side")" --seed 10000 \
    < "$fifo" > "$OUT/addr-$side" 2> "$OUT/valgrind-$side.log" &
  local vg=$! addr=
  for _ in $(seq 240); do
    addr=$(sed -n 's/^listening //p' "$OUT/addr-$side")
    [ -n "$addr" ] && break
    sleep 0.5
  done
  [ -n "$addr" ] || { echo "the $side server did not start" >&2; kill $keep; exit 1; }
  $B --drive "$addr" --workloads "$wl" --concurrency "$conc" --requests 200 --round-ms 600000 > /dev/null
  callgrind_control -z $vg > /dev/null 2>&1
  local ok
  ok=$($B --drive "$addr" --workloads "$wl" --concurrency "$conc" --requests "$requests" --round-ms 600000 |
    sed -n 's/.*: \([0-9]*\) ok, 0 errors.*/\1/p')
  callgrind_control -d $vg > /dev/null 2>&1
  kill $keep; wait $vg || true
  [ -n "$ok" ] || { echo "$side $wl: requests failed" >&2; exit 1; }
  local total
  total=$(callgrind_annotate "$(ls "$out".* | head -n 1)" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo $((total / ok))
}

echo "| backend | workload | requests | instructions/request, generated | hand-written | ratio |"
echo "|---|---|--:|--:|--:|--:|"
for side in generated handwritten; do prepare $side; done
for wl in ${workloads//,/ }; do
  g=$(count generated "$wl")
  h=$(count handwritten "$wl")
  printf '| %s | %s | %s | %s | %s | %.2f |\n' "$backend" "$wl" "$requests" "$g" "$h" \
    "$(echo "$g / $h" | bc -l)"
done
