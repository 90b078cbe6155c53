-- wrk script: GET the hosted form page as a person's browser does (a browser's user agent, a
-- referrer, a campaign in the URL), so that with counting on each request counts a view;
-- counting and the BENCH line come from register.lua.
-- Usage (from the repository root):
--   wrk -s bench/public_form_get.lua URL -- RUN_ID

dofile("bench/register.lua")

function init(args)
  sent = 0
  non_2xx = 0
  statuses = {}
  wrk.method = "GET"
  wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    .. "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
  wrk.headers["Referer"] = "https://news.example.com/story"
end

function request()
  sent = sent + 1
  return wrk.format(nil, wrk.path .. "?utm_campaign=bench")
end
