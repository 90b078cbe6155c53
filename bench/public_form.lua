-- wrk script: POST the hosted registration form (form-encoded, as a browser sends it) with a new
-- email and a form token of its own on every request (a token registers one submission);
-- counting and the BENCH line come from register.lua.
-- Usage (from the repository root):
--   wrk -s bench/public_form.lua URL -- RUN_ID TOKENS_FILE WRK_THREADS

dofile("bench/register.lua")

function init(args)
  run_id = args[1] or tostring(os.time())
  tokens = {}
  for line in io.lines(args[2]) do
    tokens[#tokens + 1] = line
  end
  threads_count = tonumber(args[3] or "1")
  sent = 0
  non_2xx = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  sent = sent + 1
  -- Threads take turns through the tokens, so no two requests send the same one.
  local token = tokens[((sent - 1) * threads_count + thread_id - 1) % #tokens + 1]
  local body = string.format(
    "_token=%s&website=&first_name=Bench&last_name=Form&email=bench-%s-%d-%d%%40example.com"
      .. "&data.company=Bench+Ltd&data.plan=Growth&data.team_size=12&_consent=on"
      .. "&_source_url=https%%3A%%2F%%2Fshop.example%%2F%%3Futm_source%%3Dbench&_utm_source=bench",
    token, run_id, thread_id, sent
  )
  return wrk.format(nil, nil, nil, body)
end
