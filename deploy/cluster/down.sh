#!/usr/bin/env bash
# `make cluster-down`: stop every process of the cluster and remove its namespaces, links and
# files. Safe to run again, or on a cluster that came up half-way.
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || { log "run as root"; exit 1; }
if [[ -f $STATE/pgdata/postmaster.pid ]] && ip netns list | grep -q "^$(namespace db)\b"; then
  stop_db immediate 2>/dev/null || true  # lets PostgreSQL remove its shared memory
fi
# Everything here is disposable: SIGTERM, one second's grace, then SIGKILL.
for node in "${NODES[@]}"; do
  ip netns list | grep -q "^$(namespace "$node")\b" && stop_node "$node" 1 &
done
wait
for node in "${NODES[@]}"; do
  ns=$(namespace "$node")
  ip netns list | grep -q "^$ns\b" && ip netns del "$ns"
done
for node in "${NODES[@]}"; do  # deleting a namespace deletes its veth; a stray host end may stay
  ip link del "$(host_veth "$node")" 2>/dev/null || true
done
ip link del "$BRIDGE" 2>/dev/null || true
rm -rf "$STATE"
log "down"
