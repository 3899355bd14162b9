#!/usr/bin/env bash
# Regenerates client/metadata/tessera.scale, the runtime metadata that tessera-client's typed
# interface is generated from. Run after any change to the runtime's calls, events, storage,
# constants or runtime APIs; `scripts/test.sh` fails while the file is stale.
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$TESSERA_ROOT"
# --workspace (with only this test target) keeps the features unified as in every other build,
# so nothing is recompiled for it.
TESSERA_UPDATE_METADATA=1 cargo test --locked --workspace --test metadata -- --nocapture
