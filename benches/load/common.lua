-- Shared by the wrk scripts of scripts/load: the request body from a file, and a summary line
-- that scripts/load parses (wrk's own report stays above it for the reader).

local load = {}

--- The whole file at `path` (from an environment variable), or an error naming the variable.
function load.file_from_env(variable)
   local path = os.getenv(variable)
   if path == nil or path == "" then
      error(variable .. " is not set (run this through scripts/load)")
   end
   local file = assert(io.open(path, "rb"))
   local bytes = file:read("*a")
   file:close()
   return bytes
end

--- One line `LOAD {json}` with what BENCHMARKS.md reports; latencies in microseconds.
function load.summarize(summary, latency)
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'LOAD {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "non_2xx_3xx": %d, "connect": %d, '
         .. '"read": %d, "write": %d, "timeout": %d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, errors.status, errors.connect, errors.read, errors.write,
      errors.timeout))
end

return load
