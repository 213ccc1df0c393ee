#!/usr/bin/env bash
# podtap-agent performance benchmark.
#
# Builds the static agent (agent/build-static.sh) and the measuring harness
# (agent/tests/bench_agent.rs, an ignored test built in release), creates two
# network namespaces joined by a veth pair (RX and TX, no routes out), then for
# each load step sends 64-byte UDP from TX to RX while podtap-agent and
# `tcpdump -i any -w - -U` capture it in RX, both pinned to one core, the
# generator on the other. Prints per tool: packets captured, drops, CPU % of one
# core, CPU us/packet, peak RSS; then the targets:
#   at 10k packets/s <= 3% of one core; >= 200k packets/s with < 0.1% drops;
#   less CPU per packet than tcpdump and no more drops; peak RSS <= 24 MiB;
#   static binary <= 4 MB.
#
# Needs root, ip (iproute2), tcpdump, taskset.
#
# Environment:
#   BENCH_RATES        packets/s per step, `max` = unthrottled (default 10000,50000,100000,200000,max)
#   BENCH_SECS         seconds of traffic per step (default 5)
#   BENCH_CAPTURE_CPU  core of both captures (default 0)
#   BENCH_GEN_CPU      core of the generator and the agent's stdout reader (default 1)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf 'bench: %s\n' "$*" >&2; }

# --- checks ------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || { say "needs root (network namespaces, packet sockets)"; exit 1; }
for tool in ip tcpdump taskset cargo python3; do
    command -v "$tool" >/dev/null || { say "$tool is not installed"; exit 1; }
done
export BENCH_CAPTURE_CPU=${BENCH_CAPTURE_CPU:-0}
export BENCH_GEN_CPU=${BENCH_GEN_CPU:-1}
if [[ $(nproc) -lt 2 ]]; then
    say "only one CPU: the generator shares the captures' core, figures are pessimistic"
    BENCH_GEN_CPU=$BENCH_CAPTURE_CPU
fi

# --- build -------------------------------------------------------------------
say "building the static agent (agent/build-static.sh)"
# No size limit here: the size is reported against the target below.
built=$(AGENT_MAX_BYTES=$((1 << 40)) agent/build-static.sh | tail -n 1)
AGENT=$(sed -n 's/^static podtap-agent: \(.*\) ([0-9]* bytes.*$/\1/p' <<<"$built")
[[ -x $AGENT ]] || { say "cannot find the static agent in: $built"; exit 1; }
AGENT=$(realpath "$AGENT")
export BENCH_AGENT=$AGENT
BENCH_AGENT_BYTES=$(stat -c %s "$AGENT")
export BENCH_AGENT_BYTES

say "building the harness (cargo test --release -p podtap-agent --test bench_agent --no-run)"
HARNESS=$(cargo test --release -p podtap-agent --test bench_agent --no-run --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "bench_agent":
        print(m["executable"])
')
[[ -x $HARNESS ]] || { say "cannot find the harness executable"; exit 1; }

# --- namespaces --------------------------------------------------------------
export BENCH_NS_RX=ptbench-rx-$$
export BENCH_NS_TX=ptbench-tx-$$
export BENCH_ADDR_RX=10.254.77.1
export BENCH_ADDR_TX=10.254.77.2
HARNESS_PID=

cleanup() {
    trap - EXIT INT TERM HUP
    if [[ -n $HARNESS_PID ]]; then
        kill -TERM "$HARNESS_PID" 2>/dev/null || true
    fi
    local ns pid
    for ns in "$BENCH_NS_RX" "$BENCH_NS_TX"; do
        if [[ -e /run/netns/$ns ]]; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do
                kill -KILL "$pid" 2>/dev/null || true
            done
        fi
    done
    if [[ -n $HARNESS_PID ]]; then
        wait "$HARNESS_PID" 2>/dev/null || true
    fi
    for ns in "$BENCH_NS_RX" "$BENCH_NS_TX"; do
        [[ -e /run/netns/$ns ]] && ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

say "creating namespaces $BENCH_NS_RX and $BENCH_NS_TX"
ip netns add "$BENCH_NS_RX"
ip netns add "$BENCH_NS_TX"
ip link add eth0 netns "$BENCH_NS_RX" type veth peer name eth0 netns "$BENCH_NS_TX"
for side in "RX $BENCH_NS_RX $BENCH_ADDR_RX" "TX $BENCH_NS_TX $BENCH_ADDR_TX"; do
    read -r _ ns addr <<<"$side"
    # No IPv6: no neighbour discovery or MLD chatter in the counts.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
done
# A static neighbour entry, so no ARP in the counts either. By default it
# names a MAC address RX does not have: RX's eth0 still receives every frame and
# both captures see it exactly as before (the packet taps run first), but IP
# then discards it as addressed to another host instead of running the UDP
# receive path on the generator's core (which doubles the reachable rate on a
# small VM). BENCH_REAL_MAC=1 uses RX's real address (datagrams reach a socket
# bound to the port that never reads them).
mac=02:00:5e:10:00:99
if [[ ${BENCH_REAL_MAC:-0} == 1 ]]; then
    mac=$(ip -n "$BENCH_NS_RX" -j link show dev eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
fi
ip -n "$BENCH_NS_TX" neigh replace "$BENCH_ADDR_RX" lladdr "$mac" dev eth0 nud permanent

# --- run ---------------------------------------------------------------------
say "running $HARNESS"
"$HARNESS" --ignored --exact agent_benchmark --nocapture --test-threads 1 &
HARNESS_PID=$!
status=0
wait "$HARNESS_PID" || status=$?
HARNESS_PID=
exit "$status"
