# Shared by the benchmark scripts (source it).

# start_model_server MAESTRO WORK [SERVE_ARGS...]: `maestro serve model` on an untrained policy (seed 1) on a
# free loopback port, its output in WORK/server.{out,err}; sets server_pid and port, exits 1 if the server
# has not said its port within 10 s.
start_model_server() {
  local maestro="$1" work="$2"
  shift 2
  "$maestro" policy init --out "$work/policy.maestro" --seed 1 >/dev/null
  "$maestro" serve model --policy "$work/policy.maestro" --listen 127.0.0.1:0 "$@" \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port="$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$work/server.out")"
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "model server did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
}
