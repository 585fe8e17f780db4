-- wrk script: count responses whose status is not 200 (wrk itself only flags >= 400,
-- so a redirect to /login would pass unnoticed) and print the total at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not200 = not200 + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not200")
  end
  io.write(string.format("Not-200 responses: %d\n", total))
end
