-- wrk script: save a job application the way the app's htmx form does, with a fresh
-- client_uuid on every request (the app treats a repeated UUID as a retry and saves nothing).
--
--   wrk -t2 -c8 -d10s --latency -s bench/post_application.lua http://127.0.0.1:PORT \
--       -- "<Cookie header value>" "<csrf token>" "<YYYY-MM-DD, today in Denmark>" "<run nonce hex>"
--
-- The session cookie and CSRF token come from a real login (bench/throughput.py does it).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_report.lua")

marker_header = "HX-Location"  -- success: 200 with HX-Location (htmx navigates home)

local counter = 0
local nonce = 0

function init(args)
  if #args < 4 then
    error("post_application.lua needs: cookie csrf_token date nonce")
  end
  csrf = args[2]
  day = args[3]
  nonce = tonumber(args[4], 16) % 0x100000000
  math.randomseed(nonce + thread_id * 7919)
  wrk.method = "POST"
  wrk.path = "/activities/new/application"
  wrk.headers["Cookie"] = args[1]
  wrk.headers["X-CSRFToken"] = csrf
  wrk.headers["HX-Request"] = "true"
  wrk.headers["HX-Target"] = "entry-form"
  wrk.headers["HX-Current-URL"] = "/activities/new/application"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(ch) return string.format("%%%02X", string.byte(ch)) end))
end

function request()
  counter = counter + 1
  -- Unique per run (nonce), thread and request (counter); the rest random; version 4 layout.
  local client_uuid = string.format("%08x-%04x-4%03x-%x%03x-%012x", nonce, thread_id,
    math.random(0, 0xfff), 8 + math.random(0, 3), math.random(0, 0xfff), counter)
  local body = "csrf_token=" .. urlencode(csrf)
    .. "&client_uuid=" .. client_uuid
    .. "&organisation=" .. urlencode("Bench Bageri ApS")
    .. "&title=" .. urlencode("Bagermedhjælper " .. counter)
    .. "&occurred_on=" .. day
    .. "&method=advertised&status=applied"
  return wrk.format(nil, nil, nil, body)
end
