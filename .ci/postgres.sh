#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the e2e (Debian's postgresql: initdb / pg_ctl).
#   bash .ci/postgres.sh start DIR PORT   starts a cluster in DIR on 127.0.0.1:PORT, creates the
#                                         database `solvapay` and prints its URL (the only stdout line):
#                                         postgres://postgres@127.0.0.1:PORT/solvapay
#   bash .ci/postgres.sh stop DIR         stops it (a cluster that is not running is not an error).
# Run as root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root) and DIR is
# handed to it. Trust authentication, listening on 127.0.0.1 only: a cluster for one machine's tests.
# PG_BIN overrides the directory of the PostgreSQL programs (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "postgres.sh: no PostgreSQL found under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$dir"
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2 bin data
  case $port in '' | *[!0-9]*) usage ;; esac
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  data=$dir/data
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
  fi
  as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # Only the loopback address and the cluster's own socket directory are trusted.
  as_owner tee "$data/pg_hba.conf" >/dev/null <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || {
    cat "$dir/postgres.log" >&2
    exit 1
  }
  local tries=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
      echo "postgres.sh: the cluster in $dir did not become ready on 127.0.0.1:$port" >&2
      cat "$dir/postgres.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres solvapay
  echo "postgres://postgres@127.0.0.1:$port/solvapay"
}

stop() {
  local dir=$1 bin
  bin=$(pg_bin)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

case ${1:-} in
  start)
    [ $# -eq 3 ] || usage
    start "$2" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop "$2"
    ;;
  *) usage ;;
esac
