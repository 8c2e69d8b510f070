-- Counts every response by status (wrk itself only reports "Non-2xx or 3xx", so a 302 to
-- the login page would pass unnoticed) and prints one machine-readable line when done:
--   BENCH-JSON {"requests":..,"duration_us":..,"p50_us":..,"p95_us":..,"status":{"200":..},..}
-- Used alone for GET runs; bench/post_application.lua loads it and adds request().
-- Optional: set `marker_header` (e.g. "HX-Location") to count 2xx responses carrying it.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

status_counts = {}
marked = 0

function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
  if marker_header ~= nil and status >= 200 and status < 300 then
    for name, _ in pairs(headers) do
      if string.lower(name) == string.lower(marker_header) then
        marked = marked + 1
        break
      end
    end
  end
end

local function json_value(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do
      table.insert(parts, string.format("%q:%s", tostring(k), json_value(x)))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

function done(summary, latency, requests)
  local statuses, total_marked = {}, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("status_counts")) do
      statuses[tostring(status)] = (statuses[tostring(status)] or 0) + n
    end
    total_marked = total_marked + t:get("marked")
  end
  local out = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = summary.errors,
    status = statuses,
    marked = total_marked,
    mean_us = latency.mean,
    max_us = latency.max,
    p50_us = latency:percentile(50),
    p90_us = latency:percentile(90),
    p95_us = latency:percentile(95),
    p99_us = latency:percentile(99),
  }
  io.write("BENCH-JSON " .. json_value(out) .. "\n")
end
