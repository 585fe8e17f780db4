-- wrk script: count responses whose status is not 200 (wrk itself only flags >= 400,
-- so a redirect to /login would pass unnoticed) and print the total, and the first
-- such status with its Location, at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not200 = 0
  first_status = 0
  first_location = ""
end

function response(status, headers, body)
  if status ~= 200 then
    not200 = not200 + 1
    if first_status == 0 then
      first_status = status
      first_location = headers["Location"] or ""
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not200")
    local status = thread:get("first_status")
    if status ~= 0 then
      io.write(string.format("First not-200: %d %s\n", status, thread:get("first_location")))
    end
  end
  io.write(string.format("Not-200 responses: %d\n", total))
end
