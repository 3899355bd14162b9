#!/usr/bin/env bash
# Checks a runtime upgrade against a live network's state before it is enacted.
#
#   scripts/try-runtime.sh build                 # the next runtime with the try-runtime feature
#   scripts/try-runtime.sh check ws://HOST:PORT  # build, then run its migrations and checks on
#                                                # that node's latest finalized state
#
# `build` compiles the runtime (one spec version later, feature `next-spec-version`) with the
# `try-runtime` feature in its own cargo profile, so the try-runtime blob never replaces the
# everyday one; the blob is $CARGO_TARGET_DIR/try-runtime/wbuild/tessera-runtime/
# tessera_runtime.compact.compressed.wasm. From scratch this is a second wasm build of the whole
# runtime (about 6 minutes on two cores); afterwards only what changed.
#
# `check` runs `tessera-try-runtime on-runtime-upgrade` (tools/try-runtime): it downloads the
# state over JSON-RPC, checks its root, puts the new runtime in place, runs every migration with
# its pre/post checks and every pallet's try_state, checks a second upgrade changes nothing and
# that the upgrade's weight fits in a block. The network test (worker/tests/network.rs) runs the
# same check before it enacts the upgrade with sudo `set_code`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

blob="$CARGO_TARGET_DIR/try-runtime/wbuild/tessera-runtime/tessera_runtime.compact.compressed.wasm"

build() {
    echo "[try-runtime] cargo check --profile try-runtime -p tessera-runtime --features try-runtime,next-spec-version"
    cargo check --locked --profile try-runtime -p tessera-runtime --features try-runtime,next-spec-version
    [ -f "$blob" ] || { echo "[try-runtime] the build did not produce $blob" >&2; exit 1; }
    echo "[try-runtime] $blob ($(stat -c %s "$blob") bytes)"
}

case "${1:-}" in
    build) build ;;
    check)
        uri="${2:?usage: scripts/try-runtime.sh check ws://HOST:PORT}"
        build
        cargo build --locked -p tessera-try-runtime
        "$CARGO_TARGET_DIR/debug/tessera-try-runtime" on-runtime-upgrade --uri "$uri" --runtime "$blob"
        ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
esac
