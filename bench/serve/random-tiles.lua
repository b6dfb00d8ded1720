-- wrk script: GET a random tile from paths.txt, with the session cookie when one is given.
local paths = {}
local cookie = os.getenv("BENCH_COOKIE")
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
math.randomseed(42)
request = function()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f non2xx=%d errors=%d p50ms=%.2f p99ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
