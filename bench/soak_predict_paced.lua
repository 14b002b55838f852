-- wrk script for bench/soak.sh: POST one observation to /predict at a fixed rate, SOAK_RATE requests/s over
-- all of wrk's threads (wrk2 is not in Debian). Each thread keeps a schedule of send times, one every
-- threads/SOAK_RATE seconds, and each request waits for the next free slot: a request that could not be sent
-- on time goes at once, so the offered rate holds while the server keeps up. Latency is measured from the send
-- (not corrected for coordinated omission).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock, soak_timespec* now);
]]
local CLOCK_MONOTONIC = 1
local now_spec = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_spec)
  return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.body = '{"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100}'
wrk.headers["Content-Type"] = "application/json"

local threads = tonumber(os.getenv("SOAK_THREADS") or "2")
local period_ms = threads * 1000 / tonumber(os.getenv("SOAK_RATE") or "1000")
local next_send_ms = nil

function delay()
  local now = now_ms()
  if next_send_ms == nil or next_send_ms < now - 1000 then next_send_ms = now end  -- no burst after a stall
  next_send_ms = next_send_ms + period_ms
  local wait = next_send_ms - now
  if wait <= 0 then return 0 end
  return math.floor(wait)
end

function done(summary, latency, requests)
  io.write(string.format("SOAK requests=%d status_errors=%d socket_errors=%d p99_us=%d\n", summary.requests,
                         summary.errors.status, summary.errors.connect + summary.errors.read +
                         summary.errors.write + summary.errors.timeout, latency:percentile(99)))
end
