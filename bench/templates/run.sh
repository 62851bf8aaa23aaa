#!/usr/bin/env bash
# Template rendering benchmark: this engine vs mstch (C++), mustache.js and handlebars (node), same data
# and templates, measured in one run. Prints a markdown table of renders/s and the ratios.
#
#   bash bench/templates/run.sh [ROUNDS] [SECONDS]     defaults: 3 rounds, 1 second per measurement
#
# Each round runs every implementation once, alternating C++ and node, and the table keeps the best round
# of each (the least disturbed by other work on a shared machine). It first checks that all engines render
# the same text. Needs: cmake, ninja, g++, libbenchmark-dev, node/npm; fetches (once) libmstch-dev with
# apt-get download into the build dir and mustache/handlebars with npm into bench/templates/node_modules.
set -euo pipefail
rounds="${1:-3}"
seconds="${2:-1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-bench-templates"
mkdir -p "$build"

if [[ ! -f "$build/mstch-deb/usr/lib/x86_64-linux-gnu/libmstch.a" ]]; then
  # libmstch-dev depends on Boost 1.74 and cannot be installed beside 1.81: unpack it for this build only.
  (cd "$build" && rm -f libmstch-dev_*.deb && apt-get download libmstch-dev >/dev/null 2>&1 &&
    dpkg -x libmstch-dev_*.deb mstch-deb) ||
    echo "warning: could not fetch libmstch-dev; the table will have no mstch rows" >&2
fi
if [[ ! -d "$here/node_modules/mustache" || ! -d "$here/node_modules/handlebars" ]]; then
  npm install --prefix "$here" --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null
fi

if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOMMS_BUILD_TESTS=OFF \
  >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  exit 1
fi
ninja -C "$build" -j2 bench_templates >/dev/null
bench="$build/bench_templates"

# Same output from every engine, or the comparison means nothing.
ok=1
for kind in sms email; do
  "$bench" --print "ours-$kind" >"$build/out-ours-$kind.txt"
  "$bench" --print "ours-pre-$kind" >"$build/out-ours-pre-$kind.txt"
  others=("ours-pre-$kind" "mustache-$kind" "mustache-pre-$kind" "handlebars-$kind")
  for o in "${others[@]:1}"; do node "$here/bench.js" print "$o" >"$build/out-$o.txt"; done
  if "$bench" --print "mstch-$kind" >"$build/out-mstch-$kind.txt" 2>/dev/null; then others+=("mstch-$kind"); fi
  for o in "${others[@]}"; do
    if ! cmp -s "$build/out-ours-$kind.txt" "$build/out-$o.txt"; then
      echo "output differs: ours-$kind vs $o" >&2
      diff "$build/out-ours-$kind.txt" "$build/out-$o.txt" >&2 || true
      ok=0
    fi
  done
done
[[ $ok == 1 ]] || exit 1
echo "outputs identical across engines (sms $(wc -c <"$build/out-ours-sms.txt") bytes, email $(wc -c <"$build/out-ours-email.txt") bytes)"

results=()
for ((r = 1; r <= rounds; r++)); do
  "$bench" --benchmark_min_time="$seconds" --benchmark_format=json >"$build/cpp-$r.json" 2>/dev/null
  node "$here/bench.js" run "$seconds" >"$build/js-$r.json"
  results+=("$build/cpp-$r.json" "$build/js-$r.json")
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version), g++ -O3"
node "$here/bench.js" table "${results[@]}"
