# Shared helpers for scripts/test.sh and scripts/package.sh (sourced, not run).
set -euo pipefail

EXT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$EXT_DIR/.." && pwd)"
CACHE_DIR="${AGENT_LS_CACHE:-$REPO/.cache}"
CODE_SERVER_VERSION=4.100.3
CODE_SERVER_DIR="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_BIN="$CODE_SERVER_DIR/node_modules/.bin/code-server"

log() { printf '\n==> %s\n' "$*" >&2; }

# Run as root directly, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt packages the tests need: apt-get update once, only when something is missing.
ensure_apt_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing apt packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

# npm ci of the extension, skipped when node_modules matches package-lock.json.
ensure_node_modules() {
  local stamp="$EXT_DIR/node_modules/.agent-ls-lock.sha256"
  local want
  want="$(sha256sum "$EXT_DIR/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "npm ci (vscode-extension)"
  (cd "$EXT_DIR" && npm ci --no-fund --no-audit)
  echo "$want" >"$stamp"
}

build_extension() {
  log "typecheck + build"
  (cd "$EXT_DIR" && npx tsc --noEmit -p . && node esbuild.mjs --production)
}

package_vsix() {
  log "package .vsix"
  (cd "$EXT_DIR" && npx vsce package --no-dependencies --allow-missing-repository --out dist/agent-ls.vsix)
}

# code-server (real VS Code 1.100.3 in the browser) installed locally into the cache dir.
ensure_code_server() {
  if [ -x "$CODE_SERVER_BIN" ] && [ -f "$CODE_SERVER_DIR/.complete" ]; then
    return 0
  fi
  log "installing code-server@$CODE_SERVER_VERSION into $CODE_SERVER_DIR"
  rm -rf "$CODE_SERVER_DIR"
  mkdir -p "$CODE_SERVER_DIR"
  # @vscode/ripgrep downloads a binary at install time; pre-seed its cache with the system rg.
  local tmp="${TMPDIR:-/tmp}"
  local rg_cache="$tmp/vscode-ripgrep-cache-1.15.11"
  local rg_tar="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  if [ ! -s "$rg_tar" ]; then
    mkdir -p "$rg_cache"
    local stage
    stage="$(mktemp -d)"
    cp "$(command -v rg)" "$stage/rg"
    tar -C "$stage" -czf "$rg_tar" rg
    rm -rf "$stage"
  fi
  (
    cd "$CODE_SERVER_DIR"
    # npm 11 runs a dependency's install scripts only when package.json's allowScripts names
    # it: code-server's postinstall fetches VS Code's own modules, argon2 builds its addon.
    echo '{"name":"agent-ls-code-server","private":true,'\
'"allowScripts":{"code-server":true,"argon2":true}}' >package.json
    npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true \
      npm install --no-fund --no-audit --no-save "code-server@$CODE_SERVER_VERSION"
  )
  test -x "$CODE_SERVER_BIN"
  touch "$CODE_SERVER_DIR/.complete"
}
