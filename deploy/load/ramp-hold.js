// k6: open-model load in ramp/hold stages (the ramping-arrival-rate executor starts requests at the rate
// asked whatever the response times, as real users do), for watching MAESTRO scale up and back down.
//   k6 run -e TARGET=http://web.shop.svc -e PEAK_RPS=200 deploy/load/ramp-hold.js
// TARGET: base URL (required); REQUEST_PATH: request path (/work, the sample target app's); PEAK_RPS: requests/s
// at the plateau (100); BASE_RPS: before and after it (PEAK_RPS / 10); RAMP, HOLD: stage durations (5m, 10m).
import http from "k6/http";
import { check } from "k6";

const target = __ENV.TARGET;
if (!target) throw new Error("set TARGET, the base URL to load (e.g. -e TARGET=http://web.shop.svc)");
const path = __ENV.REQUEST_PATH || "/work";
const peak = Number(__ENV.PEAK_RPS || 100);
const base = Number(__ENV.BASE_RPS || Math.max(1, Math.round(peak / 10)));
const ramp = __ENV.RAMP || "5m";
const hold = __ENV.HOLD || "10m";

/** @type {import("k6/options").Options} */
export const options = {
  discardResponseBodies: true,
  scenarios: {
    ramp_hold: {
      executor: "ramping-arrival-rate",
      startRate: base,
      timeUnit: "1s",
      preAllocatedVUs: Math.max(10, Math.ceil(peak / 5)),
      maxVUs: Math.max(50, peak * 2),
      stages: [
        { target: base, duration: hold },  // the baseline MAESTRO starts from
        { target: peak, duration: ramp },  // ramp up: it should scale up ahead of the SLO
        { target: peak, duration: hold },  // plateau
        { target: base, duration: ramp },  // ramp down: it should give the pods back
        { target: base, duration: hold },
      ],
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
