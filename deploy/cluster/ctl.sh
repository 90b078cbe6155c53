#!/usr/bin/env bash
# Faults and repairs on a running cluster (bench/cluster_faults.py uses it):
#   ctl.sh kill NODE        SIGKILL every process of the node (a host dying)
#   ctl.sh stop NODE        stop it (PostgreSQL with pg_ctl -m fast, the rest with SIGTERM)
#   ctl.sh start NODE       start it again (app1, app2, worker1, worker2, db, cache, lb)
#   ctl.sh restart db       pg_ctl stop -m fast, then start
#   ctl.sh link NODE up|down
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

action=${1:?action} node=${2:?node}
[[ -n ${ADDRESS[$node]:-} ]] || { log "no node $node"; exit 2; }
case $action in
  kill) kill_node "$node" ;;
  stop) if [[ $node == db ]]; then stop_db fast; else stop_node "$node"; fi ;;
  start)
    case $node in
      app1 | app2) start_app "$node" ;;
      worker1 | worker2) start_worker "$node" ;;
      db) start_db ;;
      cache) start_cache ;;
      lb) start_lb ;;
    esac ;;
  restart) "$0" stop "$node" && "$0" start "$node" ;;
  link) link "$node" "${3:?up or down}" ;;
  *) log "unknown action $action"; exit 2 ;;
esac
