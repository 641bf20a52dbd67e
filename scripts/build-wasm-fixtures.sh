#!/bin/sh
# Rebuilds the committed C and Rust guest fixtures (test/wasm/fixtures/{c,rust}/*.wasm, which the
# examples in examples/wasm-{c,rust} also load) with Debian's toolchains:
#   apt-get install clang lld wasi-libc rustc libstd-rust-dev-wasm32
# The tests run the committed builds; AssemblyScript and WAT guests are compiled by the tests.
set -eu
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
RUSTC=${RUSTC:-/usr/bin/rustc}
build_c() { # source output
  "$CLANG" --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi -L/usr/lib/wasm32-wasi \
    -O2 -mexec-model=reactor -Wl,--strip-all -o "$2" "$1"
  echo "built $2 ($(wc -c <"$2") bytes)"
}
build_rust() { # source output
  "$RUSTC" --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib -C opt-level=3 \
    -C panic=abort -C strip=symbols -o "$2" "$1"
  echo "built $2 ($(wc -c <"$2") bytes)"
}
build_c test/wasm/fixtures/c/strdist.c test/wasm/fixtures/c/strdist.wasm
build_c test/wasm/fixtures/c/wasi-read.c test/wasm/fixtures/c/wasi-read.wasm
build_rust test/wasm/fixtures/rust/strdist.rs test/wasm/fixtures/rust/strdist.wasm
exit 0
