-- 50 checkouts of product 1 at once: each request a fresh reservation of one
-- unit (names unique per thread, request and round: ROUND).
local token = os.getenv("TOKEN")
local round = os.getenv("ROUND") or "1"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  local body = '{"reservation":"hot-' .. round .. '-' .. tid .. '-' .. n .. '","order_id":' .. n .. ',"lines":[{"product_id":1,"qty":1}]}'
  return wrk.format("POST", "/api/stock/reserve", headers, body)
end
