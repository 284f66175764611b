-- bench/cluster/tally.lua: a wrk script for distribution.sh LOAD=1. It
-- counts the answers by body (each names the worker that served it) and,
-- every 1,000 answers, prints the counts, largest first, on stderr as
-- "TALLY total c1 c2 ..."; the last such line is the result. Run it with
-- one wrk thread: each thread counts on its own.
local seen, n = {}, 0

response = function(status, headers, body)
  seen[body] = (seen[body] or 0) + 1
  n = n + 1
  if n % 1000 == 0 then
    local counts = {}
    for _, v in pairs(seen) do
      counts[#counts + 1] = v
    end
    table.sort(counts, function(a, b) return a > b end)
    io.stderr:write("TALLY " .. n .. " " .. table.concat(counts, " ") .. "\n")
  end
end
