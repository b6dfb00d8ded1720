-- wrk script: GETs each path of BENCH_PATHS exactly once, the list split over BENCH_THREADS threads
-- (path i goes to thread i mod n). A thread stops when all of its share has been answered and says
-- so on stderr ("DONE thread=…"): wrk's main thread sleeps out -d whatever its threads do, so the
-- caller ends wrk with SIGINT once every thread is done, and -d is only the deadline.
-- Why an earlier "each once" script stalled: wrk calls request() once on its main thread to check
-- the request (script_verify_request, thread 0's state) before the thread runs; a script that
-- advanced its list there never sent that path, so thread 0 waited for one answer too many until -d.
-- A request lost to a broken connection (wrk reconnects and asks request() anew) is not retried:
-- its thread is never done and the run ends at the deadline, reported as incomplete.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } each_once_timespec;
int clock_gettime(int clock, each_once_timespec *tp);
unsigned long pthread_self(void);
]])
local clock = ffi.new("each_once_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local all = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if line ~= "" then all[#all + 1] = line end
end
local thread_count = tonumber(os.getenv("BENCH_THREADS"))
local cookie = os.getenv("BENCH_COOKIE")

-- Main state: setup() runs on wrk's main thread for each thread, just before that thread's init().
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  thread:set("main_thread", tonumber(ffi.C.pthread_self()))
  threads[#threads + 1] = thread
end

-- Thread state.
function init()
  local headers = {}
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  requests = {}
  for i = id + 1, #all, thread_count do requests[#requests + 1] = wrk.format("GET", all[i], headers) end
  share, handed, answered, first_ms, last_ms, statuses = #requests, 0, 0, 0, 0, {}
end

function request()
  -- wrk's request check on its main thread: show it a request without using one up.
  if tonumber(ffi.C.pthread_self()) == main_thread then return requests[1] end
  -- Share all sent: send nothing; the connection waits, idle, until the thread stops.
  if handed == share then return "" end
  handed = handed + 1
  if handed == 1 then first_ms = now_ms() end
  return requests[handed]
end

function response(status)
  answered = answered + 1
  if status ~= 200 then statuses[status] = (statuses[status] or 0) + 1 end
  if answered == share then
    last_ms = now_ms()
    io.stderr:write(string.format("DONE thread=%d answered=%d\n", id, answered))
    wrk.thread:stop()
  end
end

function done(summary, latency)
  local answered, share, done_threads, first, last, non200, by_status = 0, 0, 0, math.huge, 0, 0, {}
  for _, thread in ipairs(threads) do
    answered = answered + thread:get("answered")
    share = share + thread:get("share")
    local thread_first, thread_last = thread:get("first_ms"), thread:get("last_ms")
    if thread_last > 0 then done_threads = done_threads + 1 end
    if thread_first > 0 and thread_first < first then first = thread_first end
    if thread_last > last then last = thread_last end
    for status, count in pairs(thread:get("statuses")) do
      non200 = non200 + count
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local other = {}
  for status, count in pairs(by_status) do other[#other + 1] = string.format("%d×%d", count, status) end
  table.sort(other)
  -- From the first request sent to the last answer, when every thread finished; else wrk's run time.
  local seconds = done_threads == #threads and (last - first) / 1000 or summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT answered=%d of=%d threadsDone=%d/%d seconds=%.3f non200=%d errors=%d p50ms=%.2f p99ms=%.2f statuses=%s\n",
    answered, share, done_threads, #threads, seconds, non200, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, table.concat(other, ",")))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n", e.connect, e.read, e.write, e.timeout))
end
