-- wrk script for scripts/bench-server: one request (method, path, headers, body) repeated,
-- and one parseable summary line at the end.
--
-- Configured by environment variables (wrk's Lua has os.getenv):
--   BENCH_METHOD   GET or POST                         (default GET)
--   BENCH_TOKEN    the session token, sent as "Authorization: Bearer <token>" (optional)
--   BENCH_BODY     a file whose contents are the JSON body (optional; sets Content-Type)
--   BENCH_ACCEPT   the Accept header                   (optional)
--   BENCH_VARY_SEED  1: give every request a new pattern seed, so that no two requests are the
--                  same and the server's cache of recent patterns never answers (the body's last
--                  `"seed": N` is replaced by a number unique to the thread and request)
-- The path is the one in wrk's URL.
--
-- done() prints, on standard output:
--   BENCH requests=N duration_s=S rps=R p50_ms=A p95_ms=B p99_ms=C max_ms=D status_errors=E socket_errors=F bytes=G
-- status_errors are wrk's count of answers with a status of 400 or more; socket_errors its
-- connect, read, write and timeout errors. No response() callback: it would make wrk hand
-- every answer to Lua and slow the load generator, which shares the machine with the server.

local method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
local body_file = os.getenv("BENCH_BODY")
local accept = os.getenv("BENCH_ACCEPT")

local body = nil
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
end

wrk.method = method
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end
if body then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local vary = os.getenv("BENCH_VARY_SEED") == "1"
local counter = 0
local prefix, suffix

if vary then
  assert(body, "BENCH_VARY_SEED needs BENCH_BODY")
  local i, j = nil, nil
  local from = 1
  while true do -- the last occurrence
    local a, b = body:find('"seed":%s*%d+', from)
    if not a then break end
    i, j, from = a, b, b + 1
  end
  assert(i, 'BENCH_VARY_SEED: no "seed": N in the body')
  prefix, suffix = body:sub(1, i - 1) .. '"seed": ', body:sub(j + 1)
end

local threads_made = 0
function setup(thread) -- runs in the main Lua state; thread:set makes a global in the thread's
  threads_made = threads_made + 1
  thread:set("thread_id", threads_made)
end

if vary then
  function init(args)
    -- seeds 1,000,000 x thread + n: distinct across threads and from the stored design's
    counter = 1000000 * (thread_id or 1)
  end

  function request()
    counter = counter + 1
    return wrk.format(nil, nil, nil, prefix .. counter .. suffix)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f status_errors=%d socket_errors=%d bytes=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, errors, summary.bytes))
end
