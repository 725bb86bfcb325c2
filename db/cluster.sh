#!/usr/bin/env bash
# The project-local PostgreSQL cluster: db/cluster.sh start|stop|destroy|status|dir|connection|admin-connection
#   db/cluster.sh replica-of NAME PORT: make this cluster a streaming replica (hot standby) of cluster NAME on PORT
#   RELABEL_PG_NAME  cluster name, a folder under .data/ (default: pg; "make test" uses test-pg)
#   RELABEL_PG_PORT  loopback port (default 54329)
# The API connects as "relabel", an ordinary role that owns its database (no superuser, no CREATEROLE, no CREATEDB),
# with scram-sha-256 password authentication; so does every other local connection. The passwords are generated at
# initdb and kept beside the data directory in two pgpass files readable by their owner only: <dir>.pgpass (the role
# "relabel", for the API, tests and benchmarks) and <dir>.admin.pgpass (the bootstrap superuser "postgres", for this
# script and for creating test databases). "connection" prints the role's connection string without a database
# (Passfile= names the file: the password itself never appears on a command line or in the environment).
# initdb and postgres refuse to run as root: as root they run as the postgres user, on a data directory
# that user owns. If that user cannot reach .data/ (a checkout under a closed home, say), the cluster lives in
# a per-checkout folder under /tmp instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
name=${RELABEL_PG_NAME:-pg}
port=${RELABEL_PG_PORT:-54329}
role=relabel
superuser=postgres

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
pgpass="$dir.pgpass"
admin_pgpass="$dir.admin.pgpass"

running() { [ -f "$dir/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; }

new_password() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

# A pgpass file for one role on this loopback cluster, readable by its owner only (libpq ignores it otherwise).
write_pgpass() {
  local file=$1 user=$2 password=$3
  (umask 077 && printf '127.0.0.1:*:*:%s:%s\n' "$user" "$password" >"$file.tmp")
  mv "$file.tmp" "$file"
}

admin_psql() {
  PGPASSFILE="$admin_pgpass" "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$superuser" -d postgres -v ON_ERROR_STOP=1 -q -X "$@"
}

case "${1:-}" in
  start)
    if [ -f "$dir/PG_VERSION" ] && [ ! -f "$admin_pgpass" ]; then
      cat >&2 <<MSG
The cluster in $dir was made by an older Relabel: trust authentication and the API as its superuser.
Move its data to a cluster of this version (docs/operations.md, "The database role"): pg_dump it, then
"make clean" (or db/cluster.sh destroy), start again and pg_restore --no-owner into the new database.
MSG
      exit 1
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      rm -f "$pgpass" "$admin_pgpass"
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      chmod 700 "$dir"
      superuser_password=$(new_password)
      pwfile=$(mktemp)
      chmod 600 "$pwfile"
      printf '%s\n' "$superuser_password" >"$pwfile"
      [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
      as_owner "$bindir/initdb" -D "$dir" -U "$superuser" --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=scram-sha-256 \
        -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 || { rm -f "$pwfile"; cat "$dir.initdb.log" >&2; exit 1; }
      rm -f "$pwfile"
      write_pgpass "$admin_pgpass" "$superuser" "$superuser_password"
      cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
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
    if [ ! -f "$pgpass" ]; then
      # The API's role: it owns the database "relabel" (and the test and benchmark databases made for it), nothing more.
      password=$(new_password)
      admin_psql <<SQL
create role $role login password '$password' nosuperuser nocreatedb nocreaterole noreplication;
create database relabel owner $role;
SQL
      write_pgpass "$pgpass" "$role" "$password"
    fi
    echo "PostgreSQL ($name) running on 127.0.0.1:$port, data in $dir"
    ;;
  replica-of)
    # PostgreSQL's own physical replication: a base backup of the primary that keeps streaming its WAL (-R writes
    # standby.signal and primary_conninfo). The roles and their passwords come with it, so the pgpass files do too.
    primary=${2:?usage: $0 replica-of NAME PORT}
    primary_port=${3:?usage: $0 replica-of NAME PORT}
    [ ! -f "$dir/PG_VERSION" ] || { echo "$dir holds a cluster already" >&2; exit 1; }
    primary_admin="$(dirname "$dir")/$primary.admin.pgpass"
    [ -f "$primary_admin" ] || { echo "No cluster $primary beside $dir (missing $primary_admin)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    # The standby connects to the primary as its superuser, with a copy of that password the postgres user owns (the
    # replica's primary_conninfo names it).
    passcopy="$dir.replication.pgpass"
    (umask 077 && cp "$primary_admin" "$passcopy")
    [ "$(id -u)" = 0 ] && chown postgres "$passcopy"
    as_owner env PGPASSFILE="$passcopy" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U "$superuser" \
      -D "$dir" -R -X stream -c fast >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    cp -p "$(dirname "$dir")/$primary.pgpass" "$pgpass"
    cp -p "$primary_admin" "$admin_pgpass"
    echo "port = $port" >>"$dir/postgresql.auto.conf"
    echo "Replica $name of $primary made in $dir: start it with db/cluster.sh start"
    ;;
  stop)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null; echo "PostgreSQL ($name) stopped"; fi
    ;;
  destroy)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null || true; fi
    rm -rf "$dir" "$dir.initdb.log" "$dir.replication.pgpass" "$pgpass" "$admin_pgpass"
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$port ($dir)"; else echo "stopped ($dir)"; exit 3; fi
    ;;
  dir)
    echo "$dir"
    ;;
  connection)
    echo "Host=127.0.0.1;Port=$port;Username=$role;Passfile=$pgpass"
    ;;
  admin-connection)
    echo "Host=127.0.0.1;Port=$port;Username=$superuser;Passfile=$admin_pgpass"
    ;;
  *)
    echo "usage: $0 start|stop|destroy|status|dir|connection|admin-connection|replica-of NAME PORT" >&2; exit 2
    ;;
esac
