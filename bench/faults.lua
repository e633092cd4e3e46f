-- wrk script of the overload fault: POST one JSON body, count every answer by status and the
-- 503s that carry Retry-After (the proxy's own fast refusal), print it all as one JSON line.
-- The response() hook costs wrk speed; under overload the count is the point, not the rate.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  refused = 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["Retry-After"] then
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local total, refusals = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    refusals = refusals + thread:get("refused")
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "statuses": {%s}, "refused": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, table.concat(parts, ", "), refusals,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
