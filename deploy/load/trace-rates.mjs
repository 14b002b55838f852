#!/usr/bin/env node
// Per-minute request rates of a window of a trace in /work/shared/traces' formats, as the JSON that
// trace-replay.js replays (its shape: trace-replay.js scales it to a peak). Node's standard library only.
//   node deploy/load/trace-rates.mjs TRACE START MINUTES > rates.json
// TRACE: worldcup98.rpm.csv.gz (per-minute CSV `period,count`; START is a minute, "1998-07-07 20:00") or
// nasa-http-1995.rps.gz (requests per second, one a line; START is the minute from the trace's start).
// A minute absent from the CSV (ten are) is a minute with no requests.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { basename } from "node:path";

const [trace, start, minutesArg] = process.argv.slice(2);
const minutes = Number(minutesArg);
if (!trace || !start || !(Number.isInteger(minutes) && minutes > 0)) {
  console.error("usage: trace-rates.mjs TRACE START MINUTES");
  process.exit(2);
}
const lines = gunzipSync(readFileSync(trace)).toString("utf8").split("\n").filter((line) => line !== "");
const rates = new Array(minutes).fill(0);
if (lines[0].startsWith("period,")) {
  const first = Date.parse(`${start.replace(" ", "T")}:00Z`);
  if (Number.isNaN(first)) throw new Error(`START ${start} is not a minute such as "1998-07-07 20:00"`);
  for (const line of lines.slice(1)) {
    const [period, count] = line.split(",");
    const minute = (Date.parse(`${period.replace(" ", "T")}Z`) - first) / 60000;
    if (minute >= 0 && minute < minutes) rates[minute] = Number(count) / 60;
  }
} else {
  const firstMinute = Number(start);
  if (!Number.isInteger(firstMinute) || firstMinute < 0) throw new Error(`START ${start} is not a minute index`);
  if ((firstMinute + minutes) * 60 > lines.length) throw new Error(`${trace} has ${lines.length} seconds`);
  for (let second = firstMinute * 60; second < (firstMinute + minutes) * 60; ++second)
    rates[Math.floor(second / 60) - firstMinute] += Number(lines[second]) / 60;
}
const rounded = rates.map((rate) => Math.round(rate * 1000) / 1000);
process.stdout.write(
  JSON.stringify({ source: `${basename(trace)} from ${start}, ${minutes} minutes`, interval_seconds: 60, rates: rounded }) + "\n",
);
