# Shell steps shared by the scripts that run a built example against real clients
# (examples/admin/run-e2e.sh, clients/run.sh): sourced, never run. The sourcing script sets
# NAME (the prefix of its messages) before sourcing and uses:
#
#   fail MESSAGE                 print "NAME: MESSAGE" and exit 1
#   need_tools TOOL...           fail unless every tool is on PATH
#   check_backends BACKEND...    fail on an unknown backend or one whose URL or client is missing
#   start URL LOG BIN [PROBE]    start BIN with DATABASE_URL=URL on a free port (ADDR), logging
#                                to LOG; sets SERVER and PORT once PROBE (default /ready) answers
#   stop                         stop the server started last (SIGTERM, then SIGKILL after 5 s)
#   mysql_exec URL SQL [DB]      run SQL with the mariadb (or mysql) client on the server of
#                                the mysql:// URL, in DB (default: the URL's database)
#   elapsed START                seconds since START (an $EPOCHREALTIME), one decimal
#
# `start` passes the caller's environment on (SEED_ROWS, ADMIN_DIR, CORS_ORIGIN ...). It stops
# the server on exit through the EXIT trap it sets, with CLEANUP (a command) run after it.

fail() { echo "$NAME: $*" >&2; exit 1; }

need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
  done
}

check_backends() {
  local backend
  for backend in "$@"; do
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
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

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
CLEANUP=:
trap 'stop; eval "$CLEANUP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Another process may take the free port before the server binds it: then it tries another
# port (three times).
start() {
  local url=$1 log=$2 bin=$3 probe=${4:-/ready} attempt deadline
  for attempt in 1 2 3; do
    PORT="$(free_port)"
    DATABASE_URL="$url" ADDR="127.0.0.1:$PORT" "$bin" >"$log" 2>&1 &
    SERVER=$!
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
      curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT$probe" 2>/dev/null && return 0
      kill -0 "$SERVER" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$SERVER" 2>/dev/null; then
      echo "$NAME: the server was not ready within 60 s; its log ($log):" >&2
    elif grep -q "Address already in use" "$log" && ((attempt < 3)); then
      wait "$SERVER" 2>/dev/null || true
      SERVER=
      continue
    else
      echo "$NAME: the server exited before it was ready; its log ($log):" >&2
    fi
    cat "$log" >&2
    stop
    return 1
  done
}

# mysql://user[:password]@host[:port]/database[?options]
MYSQL_URL_RE='^mysql://([^:@/]+)(:([^@]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)(.*)$'
mysql_exec() {
  local url=$1 sql=$2 client
  [[ $url =~ $MYSQL_URL_RE ]] || { echo "$NAME: cannot read the MySQL URL $url" >&2; return 1; }
  client="$(command -v mariadb || command -v mysql)"
  MYSQL_PWD="${BASH_REMATCH[3]}" "$client" -h "${BASH_REMATCH[4]}" -P "${BASH_REMATCH[6]:-3306}" \
    -u "${BASH_REMATCH[1]}" "${3:-${BASH_REMATCH[7]}}" -e "$sql"
}
