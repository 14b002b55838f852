#!/usr/bin/env bash
# Soak (issue 11, item 4): long runs that print per-minute figures; a benchmark, never a ctest test.
#
#   bench/soak.sh [--minutes N] [--part predict|control|all] [--build DIR]
#
# predict: `maestro serve model` on loopback; its capacity is measured first (wrk -c8 -t2, 10 s, as
#   bench/predict_http_bench.sh), then wrk offers 80% of it for N minutes (default 10), paced per connection
#   by bench/soak_predict_paced.lua (wrk2 is not in Debian; wrk's latencies are from each request's send, so
#   they are not corrected for coordinated omission). Per minute: requests, errors (non-2xx and socket
#   errors), p99, the server's RSS. Ends with RSS at start and end and the total of errors.
# control: build/bench/bench_soak_control (bench/soak_control_bench.cpp): the suggestion server, the model
#   server and the controller as processes, 1,000 deployments on the Kubernetes API test double, a stand-in
#   Prometheus, the controller's real 15 s interval, faults injected on a schedule. See that file.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
build="$here/../build"
minutes=10
part=all
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --part) part="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--part predict|control|all] [--build DIR]" >&2; exit 2 ;;
  esac
done
maestro="$build/maestro"
work=""
server_pid=""

# The number after NAME= in a line.
field() { if [[ $2 =~ (^| )$1=([0-9]+) ]]; then echo "${BASH_REMATCH[2]}"; else echo 0; fi; }

soak_predict() {
  command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
  [ -x "$maestro" ] || { echo "no $maestro: build the maestro target first" >&2; exit 1; }
  local port url
  work="$(mktemp -d)"
  trap 'if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; fi; rm -rf "$work"' EXIT

  start_model_server "$maestro" "$work"
  url="http://127.0.0.1:$port/predict"
  rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

  local rss_start capacity target connections
  rss_start="$(rss_mib)"
  wrk -c8 -t2 -d10s -s "$here/predict_http_post.lua" "$url" >"$work/capacity.out"
  capacity="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/capacity.out")"
  target=$((capacity * 8 / 10))
  # Enough connections that the paced schedule never waits for a free one (a few ms per request at most).
  connections=$(((target + 249) / 250))
  [ "$connections" -lt 8 ] && connections=8
  echo "maestro serve model: capacity $capacity requests/s (wrk -c8 -t2 10 s); offering 80% = $target" \
    "requests/s for $minutes min over $connections connections"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; RSS at start $rss_start MiB"
  printf '%6s %10s %10s %8s %9s %9s\n' minute requests "req/s" errors "p99 ms" "RSS MiB"
  local total_errors=0 minute line requests errors p99_us
  for minute in $(seq 1 "$minutes"); do
    SOAK_RATE="$target" SOAK_THREADS=2 wrk -c"$connections" -t2 -d60s -s "$here/soak_predict_paced.lua" "$url" \
      >"$work/minute.out" 2>&1 || true
    line="$(grep '^SOAK ' "$work/minute.out" || echo "SOAK requests=0 status_errors=0 socket_errors=1 p99_us=0")"
    requests="$(field requests "$line")"
    errors=$(($(field status_errors "$line") + $(field socket_errors "$line")))
    p99_us="$(field p99_us "$line")"
    total_errors=$((total_errors + errors))
    kill -0 "$server_pid" 2>/dev/null || { echo "the model server died" >&2; exit 1; }
    printf '%6d %10d %10.0f %8d %9.3f %9s\n' "$minute" "$requests" "$(awk -v n="$requests" 'BEGIN { print n / 60 }')" \
      "$errors" "$(awk -v u="$p99_us" 'BEGIN { print u / 1000 }')" "$(rss_mib)"
  done
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); RSS start $rss_start MiB, end $(rss_mib) MiB;" \
    "errors $total_errors"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  [ "$total_errors" -eq 0 ]
}

soak_control() {
  local program="$build/bench/bench_soak_control"
  [ -x "$program" ] || { echo "no $program: build the bench_soak_control target first" >&2; exit 1; }
  [ -x "$maestro" ] || { echo "no $maestro: build the maestro target first" >&2; exit 1; }
  MAESTRO_SOAK_MINUTES="$minutes" "$program"
}

case "$part" in
  predict) soak_predict ;;
  control) soak_control ;;
  all) soak_predict; soak_control ;;
  *) echo "--part: predict, control or all" >&2; exit 2 ;;
esac
