#!/usr/bin/env bash
# A Temporal server on PostgreSQL on this machine: what a cluster looks like, for benchmarks
# and for trying parrot past the dev server. Data in .data/cluster/ (git-ignored).
#   infra/cluster.sh install   PostgreSQL (Debian package, if missing), Temporal server and SQL tool (go install, pinned)
#   infra/cluster.sh start     PostgreSQL on 127.0.0.1:15432, schema set up once, Temporal on 127.0.0.1:17233
#   infra/cluster.sh stop
# Point workers and clients at it with TEMPORAL_ADDRESS=127.0.0.1:17233.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/versions.env"
bin="$root/.tools/cluster/bin"; data="$root/.data/cluster"; logs="$root/.data/logs"
mkdir -p "$bin" "$data" "$logs"
address=127.0.0.1:17233; pgport=15432
say() { printf '[cluster] %s\n' "$*"; }
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install() {
  if [ -z "$(pgbin)" ] || [ ! -x "$(pgbin)/postgres" ]; then
    say "installing PostgreSQL (Debian package)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [ "$(cat "$bin/.version" 2>/dev/null)" != "$TEMPORAL_SERVER_VERSION" ]; then
    say "building Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool (go install)"
    GOBIN="$bin" GOFLAGS=-trimpath go install "$TEMPORAL_SERVER_MODULE/cmd/server@$TEMPORAL_SERVER_VERSION" "$TEMPORAL_SERVER_MODULE/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
    echo "$TEMPORAL_SERVER_VERSION" >"$bin/.version"
  fi
  say "installed"
}

start() {
  install
  local pg; pg=$(pgbin)
  # PostgreSQL refuses to run as root: its data folder belongs to the postgres user.
  if [ ! -f "$data/pg/PG_VERSION" ]; then
    mkdir -p "$data/pg"; chown postgres:postgres "$data/pg"
    runuser -u postgres -- "$pg/initdb" -D "$data/pg" -A trust -U postgres >/dev/null
  fi
  if ! runuser -u postgres -- "$pg/pg_ctl" -D "$data/pg" status >/dev/null 2>&1; then
    runuser -u postgres -- "$pg/pg_ctl" -D "$data/pg" -l "$data/pg/server.log" -w -o "-p $pgport -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
      || { say "PostgreSQL did not start; its log is $data/pg/server.log"; tail -n 15 "$data/pg/server.log"; exit 1; }
  fi
  say "PostgreSQL: ready on 127.0.0.1:$pgport"

  if [ ! -f "$data/.schema-$TEMPORAL_SERVER_VERSION" ]; then
    psql -h 127.0.0.1 -p $pgport -U postgres -qtc "SELECT 1 FROM pg_roles WHERE rolname='temporal'" | grep -q 1 \
      || psql -h 127.0.0.1 -p $pgport -U postgres -qc "CREATE ROLE temporal LOGIN SUPERUSER PASSWORD 'temporal'"
    local schema; schema="$(go env GOMODCACHE)/$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12"
    for db in temporal temporal_visibility; do
      local dir=temporal; [ $db = temporal_visibility ] && dir=visibility
      local sqltool=("$bin/sql" --plugin postgres12 --ep 127.0.0.1 -p $pgport -u temporal --pw temporal --db $db)
      "${sqltool[@]}" create-database >/dev/null 2>&1 || true
      "${sqltool[@]}" setup-schema -v 0.0 >/dev/null 2>&1
      "${sqltool[@]}" update-schema -d "$schema/$dir/versioned" >/dev/null 2>&1
    done
    touch "$data/.schema-$TEMPORAL_SERVER_VERSION"; say "schema set up"
  fi

  if [ -f "$data/server.pid" ] && kill -0 "$(cat "$data/server.pid")" 2>/dev/null; then say "Temporal server: already running"; else
    setsid nohup "$bin/server" --root "$root" --config infra/cluster --env temporal-postgres --allow-no-auth start >>"$logs/cluster-server.log" 2>&1 </dev/null &
    echo $! >"$data/server.pid"
  fi
  for _ in $(seq 1 120); do
    if "$root/.tools/bin/temporal" operator cluster health --address $address >/dev/null 2>&1; then break; fi
    kill -0 "$(cat "$data/server.pid")" 2>/dev/null || { say "Temporal server exited; its log is $logs/cluster-server.log"; tail -n 15 "$logs/cluster-server.log"; exit 1; }
    sleep 0.5
  done
  local t=("$root/.tools/bin/temporal" --address $address)
  "${t[@]}" operator namespace describe -n default >/dev/null 2>&1 || "${t[@]}" operator namespace create -n default --retention 72h >/dev/null
  # A namespace just created reaches the server's namespace cache within seconds: retry until then.
  for attr in ParrotDataset:Keyword ParrotPhase:Keyword ParrotDialogues:KeywordList; do
    for try in $(seq 1 60); do
      "${t[@]}" operator search-attribute list -n default 2>/dev/null | grep -q "${attr%%:*}" && break
      "${t[@]}" operator search-attribute create -n default --name "${attr%%:*}" --type "${attr##*:}" >/dev/null 2>&1 && break
      [ "$try" -lt 60 ] || { say "could not register search attribute ${attr%%:*}"; exit 1; }
      sleep 1
    done
  done
  # New search attributes reach the server's cache within a minute (no test-only forced refresh here).
  for _ in $(seq 1 90); do
    "${t[@]}" workflow list -q 'ParrotDialogues="0"' --limit 1 >/dev/null 2>&1 && break
    sleep 1
  done
  say "Temporal server on PostgreSQL: ready at $address (TEMPORAL_ADDRESS=$address)"
}

stop() {
  if [ -f "$data/server.pid" ]; then kill "$(cat "$data/server.pid")" 2>/dev/null || true; rm -f "$data/server.pid"; say "Temporal server: stopped"; fi
  local pg; pg=$(pgbin)
  if [ -n "$pg" ] && [ -f "$data/pg/PG_VERSION" ]; then runuser -u postgres -- "$pg/pg_ctl" -D "$data/pg" -m fast stop >/dev/null 2>&1 && say "PostgreSQL: stopped" || true; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: infra/cluster.sh install|start|stop" >&2; exit 2 ;;
esac
