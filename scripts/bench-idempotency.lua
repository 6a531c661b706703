-- One shopper per thread (tokens from TOKENS, comma-separated); add-item of
-- one of products 1-5 in turn, each with a fresh Idempotency-Key when KEYED
-- (a shopper holds at most 1,000 keys: keep a thread's requests under that).
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS"), "[^,]+") do table.insert(tokens, t) end
local keyed = os.getenv("KEYED") == "1"
local next_id = 1
function setup(thread)
  thread:set("token", tokens[next_id])
  thread:set("tid", next_id)
  next_id = next_id + 1
end
local n = 0
function request()
  n = n + 1
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if keyed then headers["Idempotency-Key"] = "k" .. tid .. "-" .. n end
  local body = '{"product_id":' .. (n % 5 + 1) .. ',"qty":1}'
  return wrk.format("POST", "/api/order/add-item", headers, body)
end
