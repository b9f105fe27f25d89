#!/usr/bin/env bash
# Builds src/backend/wasm/kernels.wasm from csrc/wasm/*.c with clang 14 (wasm32, SIMD128, shared
# memory). The build is deterministic (no paths, timestamps or names in the output), so CI runs
# `bash scripts/build-wasm.sh --check` to prove the committed binary matches its sources.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/src/backend/wasm/kernels.wasm"
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; fi

clang_bin="${CLANG:-}"
if [[ -z "$clang_bin" ]]; then
  for candidate in clang-14 clang; do
    if command -v "$candidate" >/dev/null 2>&1; then clang_bin="$candidate"; break; fi
  done
fi
if [[ -z "$clang_bin" ]]; then
  echo "build-wasm: clang not found (install clang-14 and lld-14, or set CLANG=/path/to/clang)" >&2
  exit 2
fi

out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT

# Sources sorted by name and compiled from inside csrc/wasm with relative paths, so nothing about
# the checkout's location reaches the binary.
cd "$root/csrc/wasm"
sources=$(LC_ALL=C ls *.c)

# -disable-lsr: LLVM's loop strength reduction rewrites the micro-kernel's addresses as i32.add
# chains, which V8 must execute as separate instructions; without it the constant offsets stay in
# the loads' memarg and fold into x64 addressing modes (the GEMM inner loop loses ~5 of ~30 ops).
# Each thread instance gets its own stack: the linker's __stack_pointer is exported so the TS side
# can point it at a per-worker region (the stack the linker lays out is thread 0's).
# shellcheck disable=SC2086
"$clang_bin" --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -mmutable-globals \
  -nostdlib -ffreestanding -fno-exceptions -std=c11 -Wall -Wextra -Werror -mllvm -disable-lsr \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--export=__stack_pointer -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
  -Wl,--strip-all \
  -o "$out_dir/kernels.wasm" $sources

if [[ $check -eq 1 ]]; then
  if ! cmp -s "$out_dir/kernels.wasm" "$target"; then
    echo "build-wasm --check: $target differs from a fresh build of csrc/wasm (run: bash scripts/build-wasm.sh)" >&2
    exit 1
  fi
  echo "build-wasm --check: kernels.wasm matches csrc/wasm"
else
  cp "$out_dir/kernels.wasm" "$target"
  echo "build-wasm: wrote $target ($(wc -c < "$target") bytes)"
fi
