-- wrk script: POST a JSON lead with a new email on every request; report one BENCH line.
-- Usage: wrk -s bench/register.lua URL -- RUN_ID   (RUN_ID keeps emails unique across runs)

local threads = {}
local counter = 1

function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  run_id = args[1] or tostring(os.time())
  sent = 0
  non_2xx = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  sent = sent + 1
  local email = string.format("bench-%s-%d-%d@example.com", run_id, thread_id, sent)
  local body = string.format('{"email": "%s", "first_name": "Bench"}', email)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_non_2xx = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total_non_2xx = total_non_2xx + thread:get("non_2xx")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_s": %.3f, "requests_per_s": %.2f, "p50_ms": %.2f, '
      .. '"p99_ms": %.2f, "non_2xx": %d, "non_2xx_by_status": {%s}, "socket_errors": %d}\n',
    summary.requests,
    summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    total_non_2xx,
    table.concat(parts, ", "),
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
