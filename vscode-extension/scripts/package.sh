#!/usr/bin/env bash
# `make vsix`: install the extension's npm dependencies, typecheck, bundle and package the .vsix.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_node_modules
build_extension
package_vsix
log "built $EXT_DIR/dist/agent-ls.vsix"
