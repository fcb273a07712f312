-- wrk script: POST /api/v1/verify with one issued licence as the body (public, no token).
-- ONESEAL_LOAD_BODY is the PDF's file.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local load = require("common")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/pdf"
wrk.body = load.file_from_env("ONESEAL_LOAD_BODY")

done = load.summarize
