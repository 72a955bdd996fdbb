#!/usr/bin/env bash
# `make test-vscode`: everything the VS Code extension's tests need, installed on demand, then
# unit tests (vitest), webview tests (headless Chromium) and the code-server end-to-end test.
#
# Environment: AGENT_LS_CACHE (cache dir, default <repo>/.cache), CHROMIUM_PATH (default
# /usr/bin/chromium), SKIP_E2E=1 (unit + webview only), AGENT_LS_E2E_KEEP=1 (keep the temp dirs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START=$SECONDS
PYTHON="$REPO/.venv/bin/python"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
RESULTS_DIR="$EXT_DIR/test-results"

step_times=()
timed() {
  local name=$1
  shift
  local t0=$SECONDS
  "$@"
  step_times+=("$name: $((SECONDS - t0)) s")
}

if [ ! -x "$PYTHON" ]; then
  echo "error: $PYTHON not found; run 'make setup' first (make test-vscode does)." >&2
  exit 1
fi

timed "apt packages" ensure_apt_packages chromium libkrb5-dev pkg-config ripgrep
timed "npm ci" ensure_node_modules
timed "code-server" ensure_code_server
timed "build" build_extension
timed "package" package_vsix

mkdir -p "$RESULTS_DIR"
cd "$EXT_DIR"

log "unit tests (vitest)"
timed "unit tests" npx vitest run --config vitest.config.ts

log "webview tests (headless Chromium)"
timed "webview tests" npx vitest run --config vitest.webview.config.ts

if [ "${SKIP_E2E:-0}" != 1 ]; then
  log "end-to-end test (code-server $CODE_SERVER_VERSION + Chromium + agent-ls + fake API)"
  # The test kills what it starts; this trap is the backstop if it is killed itself.
  E2E_PID=""
  cleanup() {
    if [ -n "$E2E_PID" ] && kill -0 "$E2E_PID" 2>/dev/null; then
      kill -TERM "$E2E_PID" 2>/dev/null || true
      wait "$E2E_PID" 2>/dev/null || true
    fi
  }
  trap cleanup EXIT INT TERM
  e2e() {
    REPO="$REPO" PYTHON="$PYTHON" CODE_SERVER_BIN="$CODE_SERVER_BIN" VSIX="$EXT_DIR/dist/agent-ls.vsix" \
      RESULTS_DIR="$RESULTS_DIR" node test/e2e/e2e.test.mjs &
    E2E_PID=$!
    wait "$E2E_PID"
  }
  timed "e2e test" e2e
  trap - EXIT INT TERM
fi

log "VS Code extension tests passed in $((SECONDS - START)) s"
printf '  %s\n' "${step_times[@]}" >&2
echo "  screenshots: $RESULTS_DIR" >&2
