-- wrk script: GET a random tile from paths.txt, with the session cookie when one is given;
-- counts the answers that were not 200 by status, to print what went wrong.
local paths = {}
local cookie = os.getenv("BENCH_COOKIE")
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() statuses = {} end
math.randomseed(42)
request = function()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
response = function(status)
  if status ~= 200 then statuses[status] = (statuses[status] or 0) + 1 end
end
done = function(summary, latency, requests)
  local other = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do other[#other + 1] = string.format("%d×%d", count, status) end
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f non2xx=%d errors=%d p50ms=%.2f p99ms=%.2f statuses=%s\n",
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, table.concat(other, ",")))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n", summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
