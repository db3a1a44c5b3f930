-- SPDX-License-Identifier: Apache-2.0
-- wrk script of the benchmark (tests/bench/run.py): every request carries
-- "Authorization: Bearer <token>", the tokens taken round robin from the
-- file BENCH_TOKENS (one a line; a file of one line repeats one token).
-- The requests are formatted once, at start, so that the client does the
-- same small work per request whatever the number of tokens.
-- BENCH_STOP_AFTER=N and BENCH_DONE=FILE (optional): after N responses
-- (one pass over N tokens, for the memory measurement) send no more and
-- create FILE; the caller then interrupts wrk (SIGINT), which prints its
-- summary (wrk itself runs for its whole -d duration).

local requests = {}
local next_index = 0
local stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "") or 0
local responses = 0

function init(args)
    local path = os.getenv("BENCH_TOKENS")
    for line in io.lines(path) do
        if line ~= "" then
            requests[#requests + 1] = wrk.format(nil, nil,
                {["Authorization"] = "Bearer " .. line})
        end
    end
    if #requests == 0 then
        error("no tokens in " .. tostring(path))
    end
end

function request()
    next_index = next_index % #requests + 1
    return requests[next_index]
end

if stop_after > 0 then
    function response(status, headers, body)
        responses = responses + 1
        if responses == stop_after then
            wrk.thread:stop()
            io.open(os.getenv("BENCH_DONE"), "w"):close()
        end
    end
end
