-- wrk script: whole logins the way a browser does them, one after the other on each
-- connection: GET the start path, then follow every Location (3xx) with the cookies
-- the answers set, until a 200 whose body holds the expected text; then start again
-- as a new browser (no cookies). Anything else is a failed login, and the chain
-- starts over.
--
--   wrk -t32 -c32 -d5s -s bench/login.lua http://127.0.0.1:PORT -- START_PATH [EXPECT [FROM_US TO_US]]
--
-- FROM_US and TO_US (CLOCK_MONOTONIC, microseconds) bound the window measured: only
-- logins that end inside it count, and done() reports its length. wrk starts each
-- thread as soon as its Lua state is made, so with hundreds of threads the first run
-- for a second or more before wrk's own clock starts: its duration would flatter the
-- rate. Failures count wherever they happen.
--
-- wrk calls request() and response() from one Lua state per thread, shared by the
-- thread's connections with no way to tell them apart; so run it with as many
-- threads as connections (-tN -cN): each thread is then exactly one browser.
-- done() prints one line "BENCH {json}" with logins, failures and login latencies.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local start_path, expect
window_from, window_to = nil, nil -- globals: done() reads them from a thread
local next_path
local cookies = {}
local started_at = 0
local steps = 0

logins = 0
failures = 0
statuses = "" -- the first failures, for the report
lat = {}      -- login latencies, microseconds

function init(args)
  start_path = args[1] or "/"
  expect = args[2] or "login"
  window_from = tonumber(args[3] or "")
  window_to = tonumber(args[4] or "")
  next_path = nil
end

function request()
  if next_path == nil then
    cookies = {}
    steps = 0
    next_path = start_path
    started_at = now_us()
  end
  local jar = {}
  for name, value in pairs(cookies) do
    jar[#jar + 1] = name .. "=" .. value
  end
  local headers = nil
  if #jar > 0 then headers = { Cookie = table.concat(jar, "; ") } end
  return wrk.format("GET", next_path, headers)
end

local function fail(why)
  failures = failures + 1
  if #statuses < 200 then statuses = statuses .. why .. ";" end
  next_path = nil
end

function response(status, headers, body)
  steps = steps + 1
  local location
  for name, value in pairs(headers) do
    local n = string.lower(name)
    if n == "set-cookie" then
      local cname, cvalue = string.match(value, "^%s*([^=;%s]+)=([^;]*)")
      if cname then
        if cvalue == "" or string.find(string.lower(value), "max%-age=0", 1) then
          cookies[cname] = nil
        else
          cookies[cname] = cvalue
        end
      end
    elseif n == "location" then
      location = value
    end
  end
  if status >= 300 and status < 400 and location then
    if steps > 8 then return fail("loop") end
    -- Same server: keep the path and query of an absolute URL.
    next_path = string.gsub(location, "^https?://[^/]+", "")
  elseif status == 200 and string.find(body, expect, 1, true) then
    local ended = now_us()
    if window_from == nil or (ended >= window_from and ended <= window_to) then
      logins = logins + 1
      lat[#lat + 1] = ended - started_at
    end
    next_path = nil
  else
    fail(tostring(status) .. "@" .. tostring(steps))
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local all = {}
  local ok, bad, why = 0, 0, ""
  for _, t in ipairs(threads) do
    ok = ok + t:get("logins")
    bad = bad + t:get("failures")
    why = why .. t:get("statuses")
    for _, v in ipairs(t:get("lat")) do all[#all + 1] = v end
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    local i = math.max(1, math.min(#all, math.ceil(p / 100 * #all)))
    return all[i]
  end
  local e = summary.errors
  -- done() runs in wrk's main Lua state, which init() never saw: the window is a thread's.
  local duration = summary.duration
  local from, to = threads[1]:get("window_from"), threads[1]:get("window_to")
  if from ~= nil then duration = to - from end
  io.write(string.format(
    'BENCH {"duration_us": %d, "requests": %d, "logins": %d, "login_failures": %d, ' ..
    '"failure_sample": "%s", "p50_us": %.1f, "p99_us": %.1f, "req_p50_us": %.1f, "req_p99_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    duration, summary.requests, ok, bad, string.sub(why, 1, 200), pct(50), pct(99),
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
