# shellcheck shell=bash
# Sourced by every Tessera script: one place for the build environment.
#
# - A persistent cargo target dir outside the clone, so CI and later sessions build incrementally.
# - The wasm builder is told where the workspace (and so Cargo.lock) is; without the hint it
#   silently re-resolves the runtime's wasm build to the newest compatible crate versions.
# - OpenSSL from the system instead of compiling a vendored copy (litep2p -> str0m asks for it).
TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TESSERA_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
export WASM_BUILD_WORKSPACE_HINT="$TESSERA_ROOT"
export OPENSSL_NO_VENDOR=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if [ -d "$HOME/.cargo/bin" ]; then
    case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
fi

# Written by scripts/setup.sh when rustup could not install the wasm32 target and the Debian
# toolchain fallback is in use (see docs/BUILD.md).
TESSERA_TOOLCHAIN_ENV="$HOME/.cache/tessera/toolchain.env"
# shellcheck disable=SC1090
if [ -f "$TESSERA_TOOLCHAIN_ENV" ]; then . "$TESSERA_TOOLCHAIN_ENV"; fi
