#!/usr/bin/env bash
# Whole-program benchmark of the latency sidecar's overhead: the sample target app (0.1 ms of CPU per
# request) under wrk with 8 keep-alive connections — once directly, once through `maestro sidecar` —
# alternating, several runs each. Prints each run's throughput, p50 and p99 and the medians of what the
# sidecar adds (the machine is shared and noisy: quote the medians). wrk is closed-loop (Debian has no wrk2
# for a fixed rate), so on a saturated machine added latency and lost throughput mix: read both.
#
#   bench/sidecar_overhead_bench.sh [BUILD_DIR] [RUNS] [SECONDS]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
runs="${2:-5}"
seconds="${3:-5}"
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
for program in maestro maestro-target-app; do
  [ -x "$build/$program" ] || { echo "no $build/$program: build first" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

wait_port() {  # FILE: the port of its "listening on PORT" line, waiting up to 10 s
  for _ in $(seq 1 100); do
    port="$(sed -n 's/^listening on \([0-9]*\).*$/\1/p' "$1")"
    [ -n "$port" ] && { echo "$port"; return; }
    sleep 0.1
  done
  echo "did not start: $1" >&2; exit 1
}

"$build/maestro-target-app" --listen 127.0.0.1:0 --cpu-ms 0.1 --memory-kb 4 --workers 8 >"$work/app.out" 2>&1 &
pids+=($!)
app_port="$(wait_port "$work/app.out")"
"$build/maestro" sidecar --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --upstream "127.0.0.1:$app_port" \
  >"$work/sidecar.out" 2>"$work/sidecar.err" &
pids+=($!)
sidecar_port="$(wait_port "$work/sidecar.out")"
curl -sf "http://127.0.0.1:$sidecar_port/work" >/dev/null

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
measure() {  # PORT NAME: one wrk run; appends p50 and p99 to NAME.p50 / NAME.p99
  wrk -c8 -t2 -d"${seconds}s" --latency "http://127.0.0.1:$1/work" >"$work/wrk.out"
  if grep -q 'Non-2xx\|Socket errors' "$work/wrk.out"; then cat "$work/wrk.out" >&2; echo "requests failed" >&2; exit 1; fi
  local p50 p99 rps
  p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$work/wrk.out")")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")")"
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")"
  echo "$p50" >>"$work/$2.p50"; echo "$p99" >>"$work/$2.p99"
  printf '  %-8s %8.0f requests/s  p50 %.3f ms  p99 %.3f ms\n' "$2" "$rps" "$p50" "$p99"
}

echo "target app (0.1 ms CPU/request) under wrk -c8 -t2 -d${seconds}s: direct vs through maestro sidecar, $runs runs"
for run in $(seq 1 "$runs"); do
  echo "run $run:"
  measure "$app_port" direct
  measure "$sidecar_port" sidecar
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
d50="$(median <"$work/direct.p50")"; s50="$(median <"$work/sidecar.p50")"
d99="$(median <"$work/direct.p99")"; s99="$(median <"$work/sidecar.p99")"
printf 'median p50: direct %.3f ms, through the sidecar %.3f ms: added %.3f ms\n' "$d50" "$s50" \
  "$(awk -v a="$s50" -v b="$d50" 'BEGIN { print a - b }')"
printf 'median p99: direct %.3f ms, through the sidecar %.3f ms: added %.3f ms\n' "$d99" "$s99" \
  "$(awk -v a="$s99" -v b="$d99" 'BEGIN { print a - b }')"
