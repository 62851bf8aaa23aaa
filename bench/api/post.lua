-- wrk script: POST /api/v1/notifications with a service token, counting statuses.
-- Token in env BENCH_TOKEN. Each request uses a distinct recipient id.
local token = os.getenv("BENCH_TOKEN") or ""
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  other = 0
end

function request()
  counter = counter + 1
  local body = '{"recipientId":"bench-' .. counter ..
      '","channel":"sms","to":"+260971234567","content":"Your repayment of K 1,250.00 is due on 2026-12-01."}'
  return wrk.format("POST", "/api/v1/notifications", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    o = o + t:get("other")
  end
  io.write(string.format("STATUS accepted=%d other=%d\n", a, o))
  io.write(string.format("LATENCY p50_ms=%.3f p99_ms=%.3f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
