# Shared by up.sh, down.sh and ctl.sh: the cluster's layout and how each node starts and stops.
# Sourced, not run. Every address is on SUBNET, which exists only on the bridge and the namespaces.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${LEADSITE_CLUSTER_STATE:-/tmp/leadsite-cluster}
LOCK=/tmp/leadsite-cluster-test.lock  # held by tests/cluster and bench/cluster_faults.py
VENV=${LEADSITE_CLUSTER_VENV:-$ROOT/.venv}
SUBNET=${LEADSITE_CLUSTER_SUBNET:-10.231.0}   # a /24 used only here
BRIDGE=ls-br0
HOST_ADDRESS=$SUBNET.1                        # the root namespace's end, for clients and receivers
# What HAProxy asks each app, and what a started app is awaited on: /readyz answers 503 while
# the app cannot reach its database (or the database is behind its migrations), so HAProxy
# sends it nothing then. HEALTH_PATH=/healthz gives the old behaviour, for comparison.
HEALTH_PATH=${HEALTH_PATH:-/readyz}

NODES=(lb app1 app2 worker1 worker2 db cache)
declare -A ADDRESS=(
  [lb]=$SUBNET.10 [app1]=$SUBNET.11 [app2]=$SUBNET.12
  [worker1]=$SUBNET.21 [worker2]=$SUBNET.22 [db]=$SUBNET.30 [cache]=$SUBNET.31
)
LB_PORT=8080
APP_PORT=8000
PG_PORT=5432
REDIS_PORT=6379
LB_URL=http://${ADDRESS[lb]}:$LB_PORT
DATABASE_URL=postgresql://postgres@${ADDRESS[db]}:$PG_PORT/leadsite
REDIS_URL=redis://${ADDRESS[cache]}:$REDIS_PORT/0

namespace() { echo "ls-$1"; }
host_veth() { echo "lsv-$1"; }
in_ns() { local node=$1; shift; ip netns exec "$(namespace "$node")" "$@"; }
log() { echo "cluster: [${SECONDS}s] $*" >&2; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n $dir ]] || { log "no PostgreSQL binaries under /usr/lib/postgresql"; return 1; }
  echo "$dir"
}

# The environment of every leadsite process (apps, workers, migrations). Written by up.sh.
app_env() {
  local -a env=(
    "PATH=$VENV/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$STATE"
    "DATABASE_URL=$DATABASE_URL"
    "REDIS_URL=$REDIS_URL"
    "SECRET_KEY=$(cat "$STATE/secret_key")"
    "BASE_URL=$LB_URL"
    "TRUSTED_PROXIES=1"
    "WEBHOOK_ALLOW_PRIVATE=1"
    "LEADSITE_INLINE_WORKER=0"
    "DEMO_CREDENTIALS_FILE=$STATE/demo-credentials.json"
  )
  # Settings up.sh was given (the benchmark raises rate limits, shortens the lease).
  local line
  while IFS= read -r line; do [[ -n $line ]] && env+=("$line"); done <"$STATE/settings.env"
  printf '%s\0' "${env[@]}"
}

run_in() {  # run_in NODE COMMAND...: a leadsite command inside NODE's namespace, from the worktree
  local node=$1; shift
  local -a env
  mapfile -d '' env < <(app_env)
  (cd "$ROOT" && in_ns "$node" env -i "${env[@]}" "$@")
}

spawn() {  # spawn NODE NAME COMMAND...: start in the background, log and pid in the state dir
  local node=$1 name=$2; shift 2
  (cd "$ROOT" && exec setsid ip netns exec "$(namespace "$node")" "$@" \
    >>"$STATE/logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$STATE/pids/$name"
}

spawn_leadsite() {
  local node=$1 name=$2; shift 2
  local -a env
  mapfile -d '' env < <(app_env)
  spawn "$node" "$name" env -i "${env[@]}" "$@"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "timed out waiting for $what"; return 1; fi
    sleep 0.2
  done
}

# --- nodes -------------------------------------------------------------------------------------

start_db() {
  local bin; bin=$(pg_bin)
  in_ns db runuser -u postgres -- "$bin/pg_ctl" -D "$STATE/pgdata" -l "$STATE/logs/postgres.log" \
    -w -t 30 start >/dev/null
}
stop_db() {  # stop_db [MODE]: fast by default; immediate is a crash
  local bin; bin=$(pg_bin)
  in_ns db runuser -u postgres -- "$bin/pg_ctl" -D "$STATE/pgdata" -m "${1:-fast}" -w -t 30 \
    stop >/dev/null
}

start_cache() {
  spawn cache redis redis-server --bind "${ADDRESS[cache]}" --port "$REDIS_PORT" --save "" \
    --appendonly no --protected-mode no
  wait_for 10 redis in_ns cache redis-cli -h "${ADDRESS[cache]}" -p "$REDIS_PORT" ping
}

spawn_app() {  # spawn_app app1|app2: start gunicorn, do not wait for it
  local node=$1
  spawn_leadsite "$node" "$node" gunicorn --chdir "$ROOT" --worker-class gthread \
    --workers "${APP_WORKERS:-2}" --threads "${APP_THREADS:-4}" \
    --bind "${ADDRESS[$node]}:$APP_PORT" --timeout 30 --graceful-timeout 5 \
    --no-control-socket app:app  # both apps' default socket would be the same file ($HOME)
}
wait_app() {
  wait_for 60 "$1" curl -fsS --max-time 2 "http://${ADDRESS[$1]}:$APP_PORT$HEALTH_PATH"
}
start_app() { spawn_app "$1" && wait_app "$1"; }

start_worker() {  # start_worker worker1|worker2
  spawn_leadsite "$1" "$1" flask --app app leadsite worker
}

start_lb() {
  spawn lb haproxy haproxy -db -f "$STATE/haproxy.cfg"
  wait_for 20 "the load balancer" curl -fsS --max-time 2 "$LB_URL$HEALTH_PATH"
}

kill_node() {  # kill_node NODE: SIGKILL every process in the node's namespace (a host dying)
  local pids
  pids=$(ip netns pids "$(namespace "$1")" 2>/dev/null || true)
  [[ -z $pids ]] || kill -9 $pids 2>/dev/null || true
}

stop_node() {  # stop_node NODE [SECONDS]: SIGTERM every process in it, SIGKILL what is left
  local ns pids
  ns=$(namespace "$1")
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq $((${2:-5} * 10))); do
    [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  kill_node "$1"
}

link() {  # link NODE up|down: the node's cable to the bridge
  ip link set "$(host_veth "$1")" "$2"
}
