-- wrk script: POST /api/v1/certificates, the food-business-licence example as the data, as an
-- issuer. ONESEAL_LOAD_TOKEN is the issuer's token, ONESEAL_LOAD_BODY the JSON body's file.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local load = require("common")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("ONESEAL_LOAD_TOKEN") or "")
wrk.body = load.file_from_env("ONESEAL_LOAD_BODY")

done = load.summarize
