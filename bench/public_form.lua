-- wrk script: POST the hosted registration form (form-encoded, as a browser sends it) with a new
-- email on every request; counting and the BENCH line come from register.lua.
-- Usage (from the repository root): wrk -s bench/public_form.lua URL -- RUN_ID FORM_TOKEN

dofile("bench/register.lua")

function init(args)
  run_id = args[1] or tostring(os.time())
  token = args[2] or ""
  sent = 0
  non_2xx = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  sent = sent + 1
  local body = string.format(
    "_token=%s&website=&first_name=Bench&last_name=Form&email=bench-%s-%d-%d%%40example.com"
      .. "&data.company=Bench+Ltd&data.plan=Growth&data.team_size=12&_consent=on"
      .. "&_source_url=https%%3A%%2F%%2Fshop.example%%2F%%3Futm_source%%3Dbench&_utm_source=bench",
    token, run_id, thread_id, sent
  )
  return wrk.format(nil, nil, nil, body)
end
