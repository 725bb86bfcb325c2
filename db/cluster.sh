#!/usr/bin/env bash
# The project-local PostgreSQL cluster: db/cluster.sh start|stop|destroy|status|dir
#   RELABEL_PG_NAME  cluster name, a folder under .data/ (default: pg; "make test" uses test-pg)
#   RELABEL_PG_PORT  loopback port (default 54329)
# initdb and postgres refuse to run as root: as root they run as the postgres user, on a data directory
# that user owns. If that user cannot reach .data/ (a checkout under a closed home, say), the cluster lives in
# a per-checkout folder under /tmp instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
name=${RELABEL_PG_NAME:-pg}
port=${RELABEL_PG_PORT:-54329}

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bindir=$(pg_config --bindir); fi
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  # From /, so that a checkout the postgres user cannot enter is not its working directory.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

data_dir() {
  mkdir -p "$root/.data"
  if [ "$(id -u)" = 0 ]; then
    chmod 755 "$root/.data"
    if ! runuser -u postgres -- test -x "$root/.data"; then
      local fallback="/tmp/relabel-$(printf '%s' "$root" | sha1sum | cut -c1-12)"
      mkdir -p "$fallback" && chmod 755 "$fallback"
      echo "$fallback/$name"
      return
    fi
  fi
  echo "$root/.data/$name"
}

dir=$(data_dir)

running() { [ -f "$dir/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      chmod 700 "$dir"
      as_owner "$bindir/initdb" -D "$dir" -U relabel --auth=trust -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
      cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 1GB
work_mem = 32MB
maintenance_work_mem = 256MB
max_wal_size = 2GB
wal_compression = lz4
CONF
      if [ "$name" = test-pg ]; then
        # The throwaway test cluster trades durability for speed; benchmarks measure a durable one, like "make run"'s.
        printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$dir/postgresql.conf"
      fi
    fi
    if running; then echo "PostgreSQL ($name) already running on 127.0.0.1:$port"; exit 0; fi
    as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    echo "PostgreSQL ($name) running on 127.0.0.1:$port, data in $dir"
    ;;
  stop)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null; echo "PostgreSQL ($name) stopped"; fi
    ;;
  destroy)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null || true; fi
    rm -rf "$dir" "$dir.initdb.log"
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$port ($dir)"; else echo "stopped ($dir)"; exit 3; fi
    ;;
  dir)
    echo "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|destroy|status|dir" >&2; exit 2
    ;;
esac
