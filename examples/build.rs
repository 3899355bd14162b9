//! Builds the example programs: every `wat/*.wat` with the `wat` crate, and the Rust programs
//! in `guest/` with cargo for `wasm32v1-none` (a target of the one rustup toolchain: core and
//! alloc only, MVP WebAssembly plus mutable globals — inside what programs may use).
//! The outputs land in OUT_DIR and are embedded by `src/lib.rs`.

use std::{env, fs, path::PathBuf, process::Command};

const RUST_PROGRAMS: &[&str] = &["mandelbrot", "monte_carlo", "matmul"];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));

    println!("cargo:rerun-if-changed=wat");
    for entry in fs::read_dir(root.join("wat")).expect("examples/wat exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|e| e == "wat") {
            let wasm = wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_stem().expect("has a name").to_string_lossy().into_owned();
            fs::write(out.join(format!("{name}.wasm")), wasm).expect("OUT_DIR is writable");
        }
    }

    let guest = root.join("guest");
    println!("cargo:rerun-if-changed=guest/src");
    println!("cargo:rerun-if-changed=guest/Cargo.toml");
    let target_dir = out.join("guest-target");
    // Same toolchain choice as the runtime's wasm build: scripts/setup.sh sets
    // WASM_BUILD_TOOLCHAIN when rustup's own wasm32v1-none target is unavailable.
    println!("cargo:rerun-if-env-changed=WASM_BUILD_TOOLCHAIN");
    let mut cargo = match env::var("WASM_BUILD_TOOLCHAIN") {
        Ok(toolchain) => {
            let mut c = Command::new("rustup");
            c.args(["run", &toolchain, "cargo"]);
            c
        },
        Err(_) => Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into())),
    };
    let status = cargo
        .args(["build", "--release", "--offline", "--target", "wasm32v1-none", "--manifest-path"])
        .arg(guest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags are for the host, not for wasm.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building the Rust programs for wasm32v1-none failed (is the target installed? `rustup target add wasm32v1-none`)"
    );
    for name in RUST_PROGRAMS {
        let built = target_dir.join("wasm32v1-none/release").join(format!("{name}.wasm"));
        fs::copy(&built, out.join(format!("{name}.wasm"))).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
    }
}
