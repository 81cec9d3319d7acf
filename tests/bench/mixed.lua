-- wrk: a mixed sync load of one account. Per request: 35% GET /v1/status,
-- 35% a pull of 50 records at a random `since` of $BENCH_PULL_COLLECTION
-- (holding $BENCH_PULL_MAX + 50 records or more), 30% a push of 10 new
-- records (256 bytes each, ids unique per thread and run) to
-- $BENCH_PUSH_COLLECTION. The token is $BENCH_TOKEN. Reports like
-- report.lua, with non2xx = answers >= 300 other than 429 and n429 apart.
local token = os.getenv("BENCH_TOKEN") or ""
local pushcol = os.getenv("BENCH_PUSH_COLLECTION") or "mix"
local pullcol = os.getenv("BENCH_PULL_COLLECTION") or "mixpull"
local pullmax = tonumber(os.getenv("BENCH_PULL_MAX") or "950")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local get_headers, push_headers, prefix, push_path, pull_path
local counter = 0
local payload = string.rep("QUJD", 86) -- 344 base64 characters: 258 bytes

function init(args)
  math.randomseed(os.time() * 131 + (tid or 0) * 7919)
  -- unique across threads and runs: thread, start time, a random number
  prefix = string.format("t%d-%d-%d", tid or 0, os.time(), math.random(1, 1000000000))
  get_headers = { ["Authorization"] = "Bearer " .. token }
  push_headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  push_path = "/v1/collections/" .. pushcol .. "/push"
  pull_path = "/v1/collections/" .. pullcol .. "/pull?limit=50&since="
  n429 = 0
  nbad = 0
end

function request()
  local r = math.random()
  if r < 0.35 then
    get_headers["Content-Length"] = nil
    return wrk.format("GET", "/v1/status", get_headers)
  elseif r < 0.70 then
    get_headers["Content-Length"] = nil
    return wrk.format("GET", pull_path .. math.random(0, pullmax), get_headers)
  end
  counter = counter + 1
  local recs = {}
  for k = 1, 10 do
    recs[k] = string.format('{"id":"%s-%d-%d","base_version":0,"payload":"%s"}', prefix, counter, k, payload)
  end
  return wrk.format("POST", push_path, push_headers, '{"records":[' .. table.concat(recs, ",") .. ']}')
end

function response(status, headers, body)
  if status == 429 then
    n429 = n429 + 1
  elseif status >= 300 then
    nbad = nbad + 1
  end
end

function done(summary, latency, requests)
  local c429, bad = 0, 0
  for _, t in ipairs(threads) do
    c429 = c429 + (tonumber(t:get("n429")) or 0)
    bad = bad + (tonumber(t:get("nbad")) or 0)
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d n429=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad, c429))
end
