#!/usr/bin/env bash
# Starts, stops or reports the local stack: Temporal dev server (with its Web UI), MinIO,
# the local LLM endpoint and a parrot worker. Logs and data live in .data/ (git-ignored);
# the Temporal database is a file there, so a restart keeps earlier runs.
#   infra/stack.sh start | stop | status
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
set -a; source "$root/infra/local.env"; set +a
tools="$root/.tools"; data="$root/.data"; logs="$data/logs"; run="$data/run"
mkdir -p "$logs" "$run" "$data/temporal" "$data/minio"
tsx="$root/node_modules/.bin/tsx"

say() { printf '[stack] %s\n' "$*"; }
alive() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

launch() { # name command...
  local name=$1; shift
  if alive "$name"; then say "$name: already running (pid $(cat "$run/$name.pid"))"; return 0; fi
  setsid nohup "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

wait_for() { # name seconds check-command...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 "$((secs * 2))"); do
    if "$@" >/dev/null 2>&1; then say "$name: ready"; return 0; fi
    if ! alive "$name"; then break; fi
    sleep 0.5
  done
  say "$name did not start; its log is $logs/$name.log. Last lines:"; tail -n 15 "$logs/$name.log" || true
  exit 1
}

start() {
  [ -x "$tools/bin/temporal" ] && [ -x "$tools/bin/minio" ] || { say "binaries missing: run infra/install.sh first"; exit 1; }
  [ -x "$tsx" ] || { say "node modules missing: run npm install first"; exit 1; }

  launch temporal "$tools/bin/temporal" server start-dev \
    --ip 127.0.0.1 --port "${TEMPORAL_ADDRESS##*:}" --ui-port "$PARROT_UI_PORT" \
    --db-filename "$data/temporal/temporal.db" --namespace "$TEMPORAL_NAMESPACE" \
    --search-attribute ParrotDataset=Keyword --search-attribute ParrotPhase=Keyword --search-attribute ParrotDialogues=KeywordList --log-level warn \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
    --dynamic-config-value system.enableActivityEagerExecution=true \
    ${PARROT_PAYLOAD_KEY:+--ui-codec-endpoint "http://127.0.0.1:${PARROT_CODEC_PORT:-8234}"}
  wait_for temporal 60 "$tools/bin/temporal" operator cluster health --address "$TEMPORAL_ADDRESS"

  MINIO_ROOT_USER="$AWS_ACCESS_KEY_ID" MINIO_ROOT_PASSWORD="$AWS_SECRET_ACCESS_KEY" MINIO_BROWSER=off \
    launch minio "$tools/bin/minio" server "$data/minio" --address "${PARROT_S3_ENDPOINT#http://}" --quiet
  wait_for minio 60 curl -fsS "$PARROT_S3_ENDPOINT/minio/health/live"
  "$tsx" "$root/src/cli/ensure-bucket.ts" "$PARROT_S3_BUCKET"

  launch llm "$tsx" "$root/src/cli/serve-local-llm.ts"
  wait_for llm 120 curl -fsS "$PARROT_LOCAL_LLM_URL/models"

  if [ -n "${PARROT_PAYLOAD_KEY:-}" ]; then
    # Payloads are encrypted: the UI decrypts through this codec server, which holds the key.
    PARROT_UI_ORIGIN="http://localhost:$PARROT_UI_PORT" launch codec "$tsx" "$root/src/cli/codec-server.ts"
  fi
  # The worker runs compiled, as in production: build it (into dist/) from the current source.
  (cd "$root" && npm run --silent build)
  # Its metrics on PARROT_METRICS_BIND: set for this worker only, so that no other process of the stack binds it.
  PARROT_METRICS_BIND="$PARROT_STACK_METRICS_BIND" launch worker node --enable-source-maps "$root/dist/worker.js"
  wait_for worker 120 grep -q "parrot worker ready" "$logs/worker.log"
  say "Worker metrics (Prometheus): http://$PARROT_STACK_METRICS_BIND/metrics"
  say "Temporal UI: http://localhost:$PARROT_UI_PORT   (stop everything with: npm run stack:stop)"
}

stop() {
  for name in worker codec llm minio temporal; do
    if alive "$name"; then
      local pid; pid=$(cat "$run/$name.pid")
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      say "$name: stopped"
    fi
    rm -f "$run/$name.pid"
  done
}

status() {
  for name in temporal minio llm worker ${PARROT_PAYLOAD_KEY:+codec}; do
    if alive "$name"; then say "$name: running (pid $(cat "$run/$name.pid"), log $logs/$name.log)"; else say "$name: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  # Runs a command with the stack's settings (S3 endpoint and keys, addresses) in its environment.
  exec) shift; exec "$@" ;;
  *) echo "usage: infra/stack.sh start|stop|status|exec <command…>" >&2; exit 2 ;;
esac
