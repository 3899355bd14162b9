#!/usr/bin/env bash
# Command 1 of the README: set up what is missing, build, and start a development chain.
#
#   scripts/run.sh [extra tessera-node flags]
#
# Starts `tessera-node --dev --tmp` (Alice authors, GRANDPA finalizes, state is thrown away on
# exit) with JSON-RPC on 127.0.0.1:9944 and Prometheus on 127.0.0.1:9615. Ctrl-C stops it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
. "$here/env.sh"
cd "$TESSERA_ROOT"

echo "[run] cargo build --workspace (first build on 2 cores: ~10 min; later: seconds)"
cargo build --locked --workspace
node="$CARGO_TARGET_DIR/debug/tessera-node"
echo "[run] starting $node --dev --tmp; JSON-RPC at ws://127.0.0.1:9944"
exec "$node" --dev --tmp --rpc-port 9944 --prometheus-port 9615 "$@"
