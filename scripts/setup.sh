#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run Tessera. Idempotent: when nothing
# is missing it only checks, in about a second.
#
#   scripts/setup.sh            system packages + a Rust toolchain that compiles the runtime to wasm
#
# The runtime's wasm is built by the runtime crate's build script (substrate-wasm-builder) inside
# the normal `cargo build`; this script only makes sure the compiler can target wasm:
#   1. rustup's own `wasm32v1-none` target and `rust-src` (the standard path), else
#   2. Debian's matched rustc-web/rust-web-src pair with a prebuilt wasm32v1-none core/alloc,
#      linked into rustup as the `tessera-wasm` toolchain (docs/BUILD.md explains why).
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install packages by hand: $*"
    SUDO="sudo"
fi

APT_UPDATED=0
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install: ${missing[*]}"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- system packages -------------------------------------------------------------------------
# protoc: litep2p runs prost-build. pkg-config + libssl-dev: system OpenSSL (OPENSSL_NO_VENDOR).
# g++/make: binaryen (wasm-opt-sys) is C++. git: build info in `tessera-node --version`.
apt_install build-essential pkg-config libssl-dev protobuf-compiler git ca-certificates curl
# chromium: the web app's browser tests (scripts/web.sh test) drive Debian's build headless;
# nothing downloads a browser.
apt_install chromium

# --- Rust -----------------------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
    die "rustup not found: this project expects rustup's stable toolchain (see docs/BUILD.md)"
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup default stable >/dev/null

host_has_wasm_target() {
    local sysroot
    sysroot="$(rustc --print sysroot)"
    [ -d "$sysroot/lib/rustlib/wasm32v1-none/lib" ] && [ -d "$sysroot/lib/rustlib/src/rust/library" ]
}

WASM_TOOLCHAIN_DIR="$HOME/.local/share/tessera-wasm-toolchain"

setup_debian_wasm_toolchain() {
    # Debian bookworm-security ships a compiler and its std sources as a matched pair.
    apt_install rustc-web cargo-web rust-web-src lld-22
    local t="$WASM_TOOLCHAIN_DIR" rustc_ver
    rustc_ver="$(/usr/bin/rustc --version)"
    if [ -f "$t/.built-for" ] && [ "$(cat "$t/.built-for")" = "$rustc_ver" ]; then
        return 0
    fi
    log "building wasm32v1-none core/alloc with $rustc_ver (once, ~1 min)"
    rm -rf "$t"
    mkdir -p "$t/bin" "$t/lib/rustlib/wasm32v1-none/lib"
    ln -s /usr/bin/cargo "$t/bin/cargo"
    # Debian's rustc finds its sysroot from its own location (/usr): point it at ours instead.
    printf '#!/bin/sh\nexec /usr/bin/rustc --sysroot="%s" "$@"\n' "$t" > "$t/bin/rustc"
    printf '#!/bin/sh\nexec /usr/bin/rustdoc --sysroot="%s" "$@"\n' "$t" > "$t/bin/rustdoc"
    chmod +x "$t/bin/rustc" "$t/bin/rustdoc"
    for d in x86_64-unknown-linux-gnu src etc; do
        [ -e "/usr/lib/rustlib/$d" ] && ln -s "/usr/lib/rustlib/$d" "$t/lib/rustlib/$d"
    done
    local scratch
    scratch="$(mktemp -d)"
    mkdir -p "$scratch/src"
    cat > "$scratch/Cargo.toml" <<'TOML'
[package]
name = "wasm-std-seed"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[profile.release]
panic = "abort"
TOML
    echo '#![no_std]' > "$scratch/src/lib.rs"
    (cd "$scratch" && env -u CARGO_TARGET_DIR RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-C embed-bitcode=yes" /usr/bin/cargo build -q --release \
        --target wasm32v1-none -Zbuild-std=core,alloc)
    cp "$scratch"/target/wasm32v1-none/release/deps/lib{core,alloc,compiler_builtins}-*.rlib \
        "$t/lib/rustlib/wasm32v1-none/lib/"
    rm -rf "$scratch"
    echo "$rustc_ver" > "$t/.built-for"
    rustup toolchain link tessera-wasm "$t"
}

if host_has_wasm_target; then
    :
elif rustup target add wasm32v1-none >/dev/null 2>&1 && rustup component add rust-src >/dev/null 2>&1 \
    && host_has_wasm_target; then
    log "installed rustup's wasm32v1-none target and rust-src"
else
    log "rustup cannot install wasm32v1-none/rust-src here: using Debian's toolchain for the runtime"
    setup_debian_wasm_toolchain
    mkdir -p "$(dirname "$TESSERA_TOOLCHAIN_ENV")"
    echo 'export WASM_BUILD_TOOLCHAIN=tessera-wasm' > "$TESSERA_TOOLCHAIN_ENV"
fi
if host_has_wasm_target && [ -f "$TESSERA_TOOLCHAIN_ENV" ]; then
    # The standard path works (again): drop a stale fallback marker.
    rm -f "$TESSERA_TOOLCHAIN_ENV"
fi

mkdir -p "$CARGO_TARGET_DIR"
log "ready (target dir: $CARGO_TARGET_DIR)"
