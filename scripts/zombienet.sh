#!/usr/bin/env bash
# The zombienet CLI (npm @zombienet/cli, pinned in zombienet/package-lock.json) for Tessera's
# multi-validator networks, with its native provider.
#
#   scripts/zombienet.sh install        # npm ci into zombienet/node_modules (once, ~30 s)
#   scripts/zombienet.sh spawn DIR      # start zombienet/four-validators.toml; files in DIR
#   scripts/zombienet.sh test DIR       # spawn it and run zombienet/four-validators.zndsl
#
# `spawn` and `test` need TESSERA_NODE (the tessera-node binary) and TESSERA_CHAIN_SPEC (a plain
# chain-spec file); scripts/network.sh and the network tests set them.
#
# Why the npm CLI and not the zombienet-sdk crate: zombienet-sdk 0.7.1 links its own copies of
# sc-network 0.58, sc-executor 0.50 and sp-core 41 (an older polkadot-sdk release than this
# workspace's 2609) plus kube and k8s-openapi, which would compile a second node's worth of
# crates on every fresh machine. The CLI is JavaScript (installed in ~30 s, nothing compiled)
# and runs the network definitions as written; the Rust tests drive the network over JSON-RPC.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
zn="$root/zombienet"

install() {
    command -v npm >/dev/null 2>&1 || { echo "[zombienet] npm is missing (apt-get install npm)" >&2; exit 1; }
    local stamp="$zn/node_modules/.tessera-lock"
    if [ -x "$zn/node_modules/.bin/zombienet" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$zn/package-lock.json"; then
        return 0
    fi
    echo "[zombienet] npm ci (zombienet/package-lock.json)"
    (cd "$zn" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
    cp "$zn/package-lock.json" "$stamp"
}

need_env() {
    : "${TESSERA_NODE:?set TESSERA_NODE to the tessera-node binary}"
    : "${TESSERA_CHAIN_SPEC:?set TESSERA_CHAIN_SPEC to a plain chain-spec file}"
}

case "${1:-}" in
    install) install ;;
    spawn)
        install; need_env
        exec "$zn/node_modules/.bin/zombienet" --provider native --logType text --force --dir "${2:?DIR}" \
            spawn "$zn/four-validators.toml"
        ;;
    test)
        install; need_env
        exec "$zn/node_modules/.bin/zombienet" --provider native --logType text --force --dir "${2:?DIR}" \
            test "$zn/four-validators.zndsl"
        ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
esac
