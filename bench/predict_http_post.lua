-- wrk script for bench/predict_http_bench.sh: POST one observation to /predict on every request.
wrk.method = "POST"
wrk.body = '{"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100}'
wrk.headers["Content-Type"] = "application/json"

-- Any answer but 200 is a failure of the benchmark, not a data point.
local failures = 0
function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
  if summary.errors.status > 0 or summary.errors.connect > 0 or summary.errors.read > 0 then
    io.write(string.format("ERRORS status=%d connect=%d read=%d\n", summary.errors.status,
                           summary.errors.connect, summary.errors.read))
  end
end
