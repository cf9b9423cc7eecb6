-- wrk script: GET /{code} for codes read from the file named by $CODES, at random.
local codes = {}

function init(args)
  local path = os.getenv("CODES")
  for line in io.lines(path) do
    if #line > 0 then codes[#codes + 1] = line end
  end
  if #codes == 0 then error("no codes in " .. path) end
  math.randomseed(os.time() + #codes)
end

function request()
  return wrk.format("GET", "/" .. codes[math.random(#codes)])
end

-- wrk counts responses with status >= 400 in summary.errors.status (no response()
-- hook: it would run Lua for every response and slow wrk down).
function done(summary, latency, requests)
  io.write(string.format("error responses: %d\n", summary.errors.status))
end
