// k6: replays a trace's shape (per-minute request rates, from trace-rates.mjs) scaled to a peak, open model:
// every minute of the trace is a ramping-arrival-rate stage that ramps linearly to that minute's rate.
//   k6 run -e TARGET=http://web.shop.svc -e PEAK_RPS=300 -e RATES=worldcup-1998-07-07.json deploy/load/trace-replay.js
// TARGET: base URL (required); REQUEST_PATH: request path (/work); RATES: the rates file (rates.json beside the
// script); PEAK_RPS: the busiest minute's requests/s (100); STAGE_SECONDS: seconds each minute of the trace
// lasts (60 is real time, ×1; fewer compresses the replay, and should compress the scenario's every duration).
import http from "k6/http";
import { check } from "k6";

const target = __ENV.TARGET;
if (!target) throw new Error("set TARGET, the base URL to load (e.g. -e TARGET=http://web.shop.svc)");
const path = __ENV.REQUEST_PATH || "/work";
const peak = Number(__ENV.PEAK_RPS || 100);

/** @type {{source: string, interval_seconds: number, rates: number[]}} */
const trace = JSON.parse(open(__ENV.RATES || "./rates.json"));
const stageSeconds = Number(__ENV.STAGE_SECONDS || trace.interval_seconds);
const busiest = Math.max(...trace.rates);
if (!(busiest > 0)) throw new Error(`${trace.source}: no requests in the window`);
const scaled = trace.rates.map((rate) => Math.round((rate / busiest) * peak));

/** @type {import("k6/options").Options} */
export const options = {
  discardResponseBodies: true,
  scenarios: {
    trace_replay: {
      executor: "ramping-arrival-rate",
      startRate: scaled[0],
      timeUnit: "1s",
      preAllocatedVUs: Math.max(10, Math.ceil(peak / 5)),
      maxVUs: Math.max(50, peak * 2),
      stages: scaled.map((rate) => ({ target: rate, duration: `${stageSeconds}s` })),
    },
  },
  thresholds: {
    http_req_failed: ["rate<0.01"],
  },
};

export default function () {
  const response = http.get(`${target}${path}`);
  check(response, { "status is 2xx": (r) => r.status >= 200 && r.status < 300 });
}
