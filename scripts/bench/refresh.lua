-- refresh.lua - wrk: POST /auth/refresh with a different single-use token
-- per request, read from $BENCH_TOKENS (one per line), split between the
-- threads by line number.
local threads = 0
local tokens, idx = {}, 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

function init(args)
    local n = 0
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
        if n % 2 == tid then tokens[#tokens + 1] = line end
        n = n + 1
    end
end

function request()
    idx = idx + 1
    local t = tokens[idx] or "exhausted"
    return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                      '{"refresh_token":"' .. t .. '"}')
end
