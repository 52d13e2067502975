#!/usr/bin/env bash
# podvs-agent mends podvsd by itself: a remote node deleted in podvsd behind the agent's back is
# added again at the next periodic resync; a podvsd killed with -9 and restarted (its state comes
# back from disk, without the node deleted by hand just before) is noticed and mended at once.
# An operator's node survives both. Its /metrics pass promtool and count what happened (watch
# restarts after a cut stream, API errors while the server is unavailable, relists after 410,
# podvsd errors while podvsd is down, resyncs and repairs, programming latency); /healthz answers
# 200 with its checks; a --metrics-listen address in use is refused with a precise error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"
source "$(dirname "$0")/agent_lib.sh"

start_apiserver || exit 1
u1="u1$ID"
make_underlay || exit 1
add_uplink "$u1" || exit 1
podvsd_flags=(--pod-cidr 10.244.9.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" --node-ip "$UL.1/24")
start_podvsd n1 "${podvsd_flags[@]}" || exit 1
me="node-a-$ID" b="node-b-$ID" c="node-c-$ID"
put nodes "{\"metadata\":{\"name\":\"$me\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"}}"
put nodes "$(flannel_node "$b" 2 "$UL.2" 0a:00:00:00:00:02)"
put nodes "$(flannel_node "$c" 3 "$UL.3" 0a:00:00:00:00:03)"
check "an operator's node added with podvsctl" \
  ctl "$n1_SOCK" node add --name "manual-$ID" --pod-cidr 10.244.200.0/24 --node-ip "$UL.200" \
  --vtep-mac 0a:00:00:00:00:c8

write_kubeconfig "$WORK/kubeconfig"
M="127.0.0.1:$(free_port)"
resync_s=4
"$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "$me" --socket "$n1_SOCK" --watch-timeout 30 \
  --resync-period "$resync_s" --metrics-listen "$M" >"$WORK/agent.log" 2>&1 &
agent_pid=$!
PIDS+=("$agent_pid")

remote() { node_field "$n1_SOCK" "$1" node_ip; }  # a remote node's IP in podvsd, or "none"
is_remote() { [ "$(remote "$1")" = "$2" ]; }
check "node-b is programmed" wait_for 15 is_remote "$b" "$UL.2"
check "node-c is programmed" wait_for 5 is_remote "$c" "$UL.3"

# metric 'NAME{LABELS}': its value in a scrape (labels in name order, as prometheus-cpp writes
# them), or "none".
metric() {
  curl -sf "http://$M/metrics" | awk -v k="$1" '$1 == k {print $2; found=1} END {if (!found) print "none"}'
}
positive() { local v; v=$(metric "$1"); echo "$1 = $v"; [ "$v" != none ] && awk -v v="$v" 'BEGIN {exit !(v > 0)}'; }
is_value() { local v; v=$(metric "$1"); echo "$1 = $v"; [ "$v" = "$2" ]; }

healthz() { curl -s -o "$WORK/healthz" -w '%{http_code}' "http://$M/healthz"; }
check_eq "/healthz: 200" 200 "$(healthz)"
check "/healthz names its checks" grep -q "ok: informer nodes running" "$WORK/healthz"
check "/healthz: podvsd answered" grep -q "ok: podvsd last answered" "$WORK/healthz"
check "objects in the cache: 3 Nodes" wait_for 5 is_value 'podvs_agent_objects{resource="nodes"}' 3
check "the Node informer has synced" is_value 'podvs_agent_informer_synced{resource="nodes"}' 1
check "programming latency was observed" positive podvs_agent_network_programming_duration_seconds_count

# 1. A node deleted behind the agent's back: the periodic resync adds it again. An unchanged
# podvsd is resynced with no repair at all.
check "periodic resyncs run" wait_for $((resync_s * 2 + 2)) positive 'podvs_agent_resyncs_total{controller="nodes"}'
no_repairs() { ! curl -sf "http://$M/metrics" | grep '^podvs_agent_resync_repairs_total'; }
check "no repair of any kind while nothing differs" no_repairs
check "node-b deleted in podvsd by hand" ctl "$n1_SOCK" node del --name "$b" --owner podvs-agent
check_eq "node-b is gone from podvsd" none "$(remote "$b")"
check "within the resync period ($resync_s s), node-b is back" wait_for $((resync_s + 3)) is_remote "$b" "$UL.2"
check "the repair is logged" grep -q "node $b: missing in podvsd: adding again" "$WORK/agent.log"
check "the repair is counted" is_value 'podvs_agent_resync_repairs_total{controller="nodes",what="missing"}' 1

# 2. node-c deleted by hand, then podvsd killed with -9 and restarted: it restores its state
# from disk (without node-c), and the agent resyncs as soon as podvsd answers again.
check "node-c deleted in podvsd by hand" ctl "$n1_SOCK" node del --name "$c" --owner podvs-agent
kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
podvsd_silent() { grep -q "podvsd does not answer" "$WORK/agent.log"; }
check "the agent notices podvsd is gone" wait_for 5 podvsd_silent
start_podvsd n1 "${podvsd_flags[@]}" || { finish; exit 1; }
check_eq "the restarted podvsd restored node-b from its state" "$UL.2" "$(remote "$b")"
check "the agent notices podvsd is back and resyncs" wait_for 5 grep -q "resync: podvsd answers again" "$WORK/agent.log"
check "node-c is back in the restarted podvsd" wait_for 5 is_remote "$c" "$UL.3"
check_eq "the operator's node survived" "$UL.200" "$(remote "manual-$ID")"
pod_cidr() { [ "$(ctl "$n1_SOCK" --json status | json_get 'j["pod_cidr"]')" = 10.244.1.0/24 ]; }
check "the restarted podvsd serves the Node's pod CIDR" pod_cidr
check "podvsd calls that failed while it was down are counted" \
  positive 'podvs_agent_podvsd_call_errors_total{code="UNAVAILABLE"}'
check_eq "/healthz: 200 after podvsd's restart" 200 "$(healthz)"

# 3. Faults of the API server, counted.
post cut
check "a cut watch is counted as a broken one" \
  wait_for 5 positive 'podvs_agent_watch_restarts_total{reason="broken",resource="nodes"}'
post "unavailable?seconds=2"
check "requests refused while the server is unavailable are counted by code" \
  wait_for 10 positive 'podvs_agent_api_errors_total{code="503"}'
# The server goes away, a Node is added and the history compacted meanwhile: the agent's
# re-watch is refused with 410, and its relist finds the new Node.
post settings '{"watch_410":"http"}'
post "unavailable?seconds=1"
put nodes "$(flannel_node "node-d-$ID" 4 "$UL.4" 0a:00:00:00:00:04)"
post compact
check "410 Gone: a relist is counted" wait_for 15 positive 'podvs_agent_relists_total{resource="nodes"}'
check "the relist programmed the Node added meanwhile" wait_for 5 is_remote "node-d-$ID" "$UL.4"
check "an expired watch is counted" positive 'podvs_agent_watch_restarts_total{reason="expired",resource="nodes"}'
check "after the relist, node-b is still programmed" is_remote "$b" "$UL.2"

curl -sf "http://$M/metrics" >"$WORK/metrics.txt"
check "promtool check metrics accepts the exposition" sh -c "promtool check metrics <'$WORK/metrics.txt'"
check "every family has a HELP text" python3 -c "
import sys
lines = open(sys.argv[1]).read().splitlines()
helped = {l.split()[2] for l in lines if l.startswith('# HELP podvs_agent_')}
named = {l.split('{')[0].split()[0] for l in lines if l.startswith('podvs_agent_')}
bare = {n for n in named if not any(n == h or n.startswith(h + '_') for h in helped)}
print('families:', sorted(helped)); sys.exit(bool(bare) or len(helped) < 10)" "$WORK/metrics.txt"
check "the build info" grep -q '^podvs_agent_build_info{version="' "$WORK/metrics.txt"

# A second agent cannot listen where the first does: it stops with the address in its error.
"$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "$me" --socket "$n1_SOCK" --metrics-listen "$M" \
  >"$WORK/agent2.log" 2>&1
check_eq "an address in use: exit status 1" 1 "$?"
check "an address in use: the error names it" grep -q -- "--metrics-listen $M: cannot listen" "$WORK/agent2.log"

kill -TERM "$agent_pid"
stopped() { ! kill -0 "$agent_pid"; }
check "SIGTERM stops the agent within 5 s" wait_for 5 stopped
wait "$agent_pid"
check_eq "the agent's exit status" 0 "$?"
finish
