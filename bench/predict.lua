-- wrk script for bench/predict.py: POST the request bodies of a file (one JSON body per line)
-- to /api/v1/predict in turn, count answers that are not 200, and print the figures as JSON.
--   wrk -t2 -c4 -d20s -s bench/predict.lua http://127.0.0.1:PORT -- bodies.jsonl

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests, index, not_ok = {}, 0, 0
  for body in io.lines(args[1]) do
    table.insert(requests, wrk.format("POST", "/api/v1/predict",
      {["Content-Type"] = "application/json"}, body))
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, _)
  local not_ok_total = 0
  for _, thread in ipairs(threads) do
    not_ok_total = not_ok_total + thread:get("not_ok")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"not_200": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, not_ok_total,
    errors.connect, errors.read, errors.write, errors.timeout))
end
