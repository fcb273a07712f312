-- wrk script: whole issuance requests with parallel sign-off (docs/workflow.md). Each connection
-- opens a request for approval-document (three departments, sealed automatically) as the
-- intake issuer, or signs off a request another response opened, as that department's
-- reviewer; the last approval of each case applies the seal. Responses are told apart by their
-- body. ONESEAL_LOAD_TOKEN is the issuer's token, ONESEAL_LOAD_REVIEWERS the three reviewers'
-- tokens separated by spaces, ONESEAL_LOAD_BODY the opening request's JSON.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local load = require("common")

local open_body = load.file_from_env("ONESEAL_LOAD_BODY")
local issuer = "Bearer " .. (os.getenv("ONESEAL_LOAD_TOKEN") or "")
local reviewers = {}
for token in (os.getenv("ONESEAL_LOAD_REVIEWERS") or ""):gmatch("%S+") do
   reviewers[#reviewers + 1] = "Bearer " .. token
end
local approve = '{"decision":"approve","comment":"同意"}'

-- Sign-offs waiting to be sent: request id and reviewer index, first in first out.
local pending = {}
local first, last = 1, 0
opened, sealed, signed, failed = 0, 0, 0, 0

function request()
   if first <= last then
      local step = pending[first]
      pending[first] = nil
      first = first + 1
      return wrk.format("POST", "/api/v1/requests/" .. step.id .. "/sign-off", {
         ["Content-Type"] = "application/json",
         ["Authorization"] = reviewers[step.reviewer],
      }, approve)
   end
   return wrk.format("POST", "/api/v1/requests", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = issuer,
   }, open_body)
end

function response(status, headers, body)
   if status == 201 then
      local id = body:match('"id":"(REQ%-%d+%-%x+)"')
      if id then
         opened = opened + 1
         for reviewer = 1, #reviewers do
            last = last + 1
            pending[last] = { id = id, reviewer = reviewer }
         end
      end
   elseif status == 200 then
      signed = signed + 1
      if body:find('"certificate":{', 1, true) then
         sealed = sealed + 1
      end
   else
      failed = failed + 1
   end
end

local threads = {}
function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, requests)
   load.summarize(summary, latency)
   local totals = { opened = 0, signed = 0, sealed = 0, failed = 0 }
   for _, thread in ipairs(threads) do
      for key in pairs(totals) do
         totals[key] = totals[key] + (thread:get(key) or 0)
      end
   end
   io.write(string.format('CASES {"opened": %d, "signed_off": %d, "sealed": %d, "failed": %d}\n',
      totals.opened, totals.signed, totals.sealed, totals.failed))
end
