#!/usr/bin/env bash
# Builds fuzz_templates with clang (libFuzzer + ASan + UBSan) in its own build dir and runs it.
#   bash tests/fuzz/templates/run.sh [seconds]      default 20; exits non-zero when the fuzzer finds a crash
# The test suite runs it for 30 s (ctest fuzz_templates_brief, build dir FUZZ_BUILD_DIR); run it longer by hand.
# Crash inputs are written to build-fuzz-templates/crash-*; the working corpus persists between runs.
set -euo pipefail
seconds="${1:-20}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz-templates}"
cxx="$(command -v clang++-14 || command -v clang++)"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" -DCOMMS_FUZZ=ON -DCOMMS_BUILD_TESTS=OFF -DCOMMS_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" -j2 fuzz_templates

corpus="$build/corpus"
mkdir -p "$corpus"
"$build/fuzz_templates" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -dict="$here/templates.dict" -artifact_prefix="$build/" "$corpus" "$here/seeds"
