#!/usr/bin/env bash
# `make cluster`: leadsite on seven network namespaces joined by a bridge (run as root).
#   lb (HAProxy) -> app1, app2 (gunicorn, gthread) ; worker1, worker2 ; db (PostgreSQL) ; cache (Redis)
# Settings passed through to every leadsite process: API_RATE_LIMIT, API_IP_RATE_LIMIT,
# WORKER_LEASE_SECONDS (default 10 here), INGEST_LOG, ANALYTICS_COUNTING, OUTAGE_RETRY_AFTER (also
# the balancer's own Retry-After). APP_WORKERS and APP_THREADS size each app's gunicorn (2 x 4);
# HEALTH_PATH is what HAProxy checks (/readyz). `make cluster-down` undoes everything.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || { log "run as root (network namespaces)"; exit 1; }
for tool in ip haproxy redis-server runuser curl; do
  command -v "$tool" >/dev/null || { log "$tool is missing"; exit 1; }
done
[[ -x $VENV/bin/gunicorn ]] || { log "no venv at $VENV: run make .venv/.installed"; exit 1; }
PGBIN=$(pg_bin)
# A test or benchmark run holds the lock for as long as its cluster lives (and says so when it
# runs this script); one machine, one cluster.
if [[ ${LEADSITE_CLUSTER_LOCK_HELD:-} != 1 ]] && ! flock -n "$LOCK" true; then
  log "a cluster test or benchmark is running (it holds $LOCK)"
  exit 1
fi
if [[ -e $STATE ]] || ip netns list | grep -q '^ls-'; then
  log "a cluster is already up (or half down): make cluster-down first"
  exit 1
fi
# On failure: show the end of every log (the state dir goes with the rest), then take it down.
trap 'status=$?; log "failed (exit $status); the logs, then cleaning up"; \
  tail -n 15 "$STATE"/logs/*.log >&2 2>/dev/null || true; \
  "$(dirname "$0")/down.sh" >/dev/null 2>&1 || true; exit $status' ERR

mkdir -p "$STATE"/{logs,pids}
chmod 755 "$STATE"
umask 077
head -c 48 /dev/urandom | base64 | tr -d '/+=\n' >"$STATE/secret_key"
: >"$STATE/settings.env"
for name in API_RATE_LIMIT API_IP_RATE_LIMIT INGEST_LOG ANALYTICS_COUNTING OUTAGE_RETRY_AFTER; do
  [[ -z ${!name:-} ]] || echo "$name=${!name}" >>"$STATE/settings.env"
done
echo "WORKER_LEASE_SECONDS=${WORKER_LEASE_SECONDS:-10}" >>"$STATE/settings.env"
umask 022

log "network: bridge $BRIDGE on $SUBNET.0/24, host end $HOST_ADDRESS"
ip link add "$BRIDGE" type bridge
ip addr add "$HOST_ADDRESS/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for node in "${NODES[@]}"; do
  ns=$(namespace "$node")
  ip netns add "$ns"
  ip link add "$(host_veth "$node")" type veth peer name eth0 netns "$ns"
  ip link set "$(host_veth "$node")" master "$BRIDGE" up
  in_ns "$node" ip link set lo up
  in_ns "$node" ip addr add "${ADDRESS[$node]}/24" dev eth0
  in_ns "$node" ip link set eth0 up
  # No default route: a process in the cluster can reach the subnet and nothing else.
done

log "db: PostgreSQL ($PGBIN) in ${ADDRESS[db]}"
mkdir -p "$STATE/pgdata" "$STATE/pgsock"
touch "$STATE/logs/postgres.log"
chown postgres: "$STATE/pgdata" "$STATE/pgsock" "$STATE/logs/postgres.log"
runuser -u postgres -- "$PGBIN/initdb" -D "$STATE/pgdata" -U postgres -A trust -E UTF8 \
  --no-sync >"$STATE/logs/initdb.log"
cat >>"$STATE/pgdata/postgresql.conf" <<CONF
listen_addresses = '${ADDRESS[db]}'
port = $PG_PORT
unix_socket_directories = '$STATE/pgsock'
max_connections = 200
CONF
echo "host all all $SUBNET.0/24 trust" >>"$STATE/pgdata/pg_hba.conf"
start_db
in_ns db runuser -u postgres -- "$PGBIN/createdb" -h "${ADDRESS[db]}" -p "$PG_PORT" leadsite

log "cache: Redis in ${ADDRESS[cache]}"
start_cache

# The apps boot while the schema is migrated (nothing reaches them before the balancer starts);
# the workers wait for the schema, and the demo workspace is made while they start.
for node in app1 app2; do
  log "$node: gunicorn in ${ADDRESS[$node]}:$APP_PORT"
  spawn_app "$node"
done
log "migrating (from app1)"
run_in app1 flask --app app db upgrade >"$STATE/logs/migrate.log" 2>&1
for node in worker1 worker2; do
  log "$node: leadsite worker in ${ADDRESS[$node]}"
  start_worker "$node"
done
log "creating the demo workspace (from app1)"
run_in app1 flask --app app leadsite demo --json 2>>"$STATE/logs/migrate.log" \
  | tail -1 >"$STATE/demo.json"
wait_app app1
wait_app app2

log "lb: HAProxy in ${ADDRESS[lb]}:$LB_PORT, health check $HEALTH_PATH"
# The balancer's own 503, in the apps' words (leadsite/outages.py, leadsite/errors.py's
# JSON_PATHS and envelope; tests/cluster compares the two answers).
RETRY_AFTER=${OUTAGE_RETRY_AFTER:-5}
UNAVAILABLE_MESSAGE="The service is briefly unavailable. Try again in a few seconds."
UNAVAILABLE_JSON='{"success":false,"error":"'$UNAVAILABLE_MESSAGE'","code":"SERVICE_UNAVAILABLE","details":{},"errors":[]}'
UNAVAILABLE_HTML="<!doctype html><title>Briefly unavailable</title><h1>Briefly unavailable</h1><p>$UNAVAILABLE_MESSAGE</p>"
JSON_PATHS="/api/ /v1/ /v2/ /platform/ /hooks/"
cat >"$STATE/haproxy.cfg" <<CONF
global
    maxconn 2000
    stats socket $STATE/haproxy.sock mode 600 level admin
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    option forwardfor
    option redispatch
    retries 2
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    # A busy app may take a second to answer its check: slowness alone is not death.
    timeout check 2s

frontend web
    bind ${ADDRESS[lb]}:$LB_PORT
    # Any 503 the balancer makes itself (no app ready, a queue timeout) says when to come back,
    # as the apps' own 503s do (OUTAGE_RETRY_AFTER).
    http-after-response set-header Retry-After $RETRY_AFTER if { status 503 } !{ res.hdr(Retry-After) -m found }
    # No app ready: /readyz says 503 on every app while the database is away. Answer as the
    # apps would (leadsite/outages.py): the API's error envelope, or a page, with Retry-After.
    http-request return status 503 content-type application/json hdr Retry-After $RETRY_AFTER string '$UNAVAILABLE_JSON' if { nbsrv(apps) eq 0 } { path_beg $JSON_PATHS }
    http-request return status 503 content-type "text/html; charset=utf-8" hdr Retry-After $RETRY_AFTER string '$UNAVAILABLE_HTML' if { nbsrv(apps) eq 0 }
    default_backend apps

backend apps
    balance leastconn
    option httpchk GET $HEALTH_PATH
    http-check expect status 200
    # A dead app refuses connections: the first refused request takes it out at once
    # (observe layer4), the checks bring it back. Retries go to the other app (redispatch).
    # Checks: every 1 s while up, every 500 ms while down, 250 ms while changing; two in a row
    # change the state. An app is out within ~0.5-1.5 s of its database going, and back
    # within ~1 s of it returning (the goal: 5 s). Marked down, an app keeps the requests it
    # holds (no on-marked-down shutdown-sessions): under /readyz "down" means "no database",
    # and those requests are about to be answered 503 with Retry-After, not to hang.
    default-server check inter 1s downinter 500ms fastinter 250ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
    server app1 ${ADDRESS[app1]}:$APP_PORT
    server app2 ${ADDRESS[app2]}:$APP_PORT
CONF
start_lb

python3 - "$STATE" "$LB_URL" "$DATABASE_URL" "$REDIS_URL" "$HOST_ADDRESS" <<'PY'
import json, sys
state, lb, db, redis, host = sys.argv[1:]
demo = json.load(open(f"{state}/demo.json"))
json.dump({"lb_url": lb, "database_url": db, "redis_url": redis, "host_address": host,
           "api_key": demo["api_key"], "api_ref": demo["origins"]["api"], "demo": demo},
          open(f"{state}/cluster.json", "w"), indent=2)
print(f"""
  leadsite cluster is up: {lb}
  Sign in:  {lb}/login   {demo['email']} / {demo['password']}
  API key:  {demo['api_key']}   API ref: {demo['origins']['api']}
  State, pids and logs: {state}   (make cluster-down removes it all)
""")
PY
