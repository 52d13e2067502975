#!/usr/bin/env bash
# More vhost-user pods than Debian's DPDK has ethdevs (RTE_MAX_ETHPORTS is 32): podvsd drives
# vhost-user through rte_vhost directly, so 40 DPDK pods attach next to a kernel pod and the host
# port, and the last one carries traffic (dpdk-testpmd on virtio-user, icmpecho), also after
# podvsd is killed and restarted. Deleting them all leaves no port and no socket behind.
source "$(dirname "$0")/lib.sh"

N=${VHOST_PODS:-40}
TESTPMD=$(command -v dpdk-testpmd) || { log "dpdk-testpmd missing"; exit 1; }
start_podvsd n1 || exit 1
make_netns "${ID}a"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")

added=0
for i in $(seq "$N"); do
  ctl "$n1_SOCK" pod add --id "v$i-$ID" --kind vhost-user >/dev/null && added=$((added + 1))
done
check_eq "$N vhost-user pods attach" "$N" "$added"
check_eq "ports in use: the host port, the kernel pod and $N vhost-user pods" $((N + 2)) \
  "$(ctl "$n1_SOCK" --json status | json_get 'j["ports_used"]')"

last=$(ctl "$n1_SOCK" --json pod get --id "v$N-$ID")
ip_d=$(echo "$last" | json_get 'j["ip"]')
mac_d=$(echo "$last" | json_get 'j["mac"]')
sock=$(echo "$last" | json_get 'j["socket_path"]')
# The pod is the vhost-user server; podvsd (client) connects within its reconnect period.
"$TESTPMD" --lcores=0@0,1@0 --no-pci --in-memory --single-file-segments \
  --file-prefix="tp$ID" --log-level=4 \
  --vdev="net_virtio_user0,path=$sock,server=1,queues=1,mac=$mac_d" -- \
  --forward-mode=icmpecho --auto-start --stats-period=60 --total-num-mbufs=2048 \
  --nb-cores=1 --txd=256 --rxd=256 >>"$WORK/testpmd.log" 2>&1 &
TESTPMD_PID=$!
PIDS+=("$TESTPMD_PID")
link_up() {
  [ "$(ctl "$n1_SOCK" --json port list | json_get "[p['link'] for p in j if p['pod_id'] == 'v$N-$ID'][0]")" = up ]
}
wait_link() { for _ in $(seq 100); do link_up && return 0; sleep 0.1; done; return 1; }
check "podvsd connects to pod $N's vhost-user socket" wait_link
check "ping kernel pod -> DPDK pod $N" ip netns exec "${ID}a" ping -c 5 -i 0.2 -W 2 "$ip_d"
rx=$(ctl "$n1_SOCK" --json port list | json_get "[p['rx_packets'] for p in j if p['pod_id'] == 'v$N-$ID'][0]")
check "pod $N's port received its echo replies ($rx packets)" test "$rx" -ge 5

# podvsd dies and comes back: it re-registers every socket from its state and reconnects to the
# running pod, whose traffic flows again without the pod doing anything.
kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
start_podvsd n1 || { finish; exit 1; }
check_eq "after the restart all $N vhost-user pods are back" $((N + 1)) \
  "$(ctl "$n1_SOCK" --json pod list | json_get 'len(j)')"
check "podvsd reconnects to the running pod $N" wait_link
check "ping kernel pod -> DPDK pod $N after podvsd's restart" \
  ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_d"
kill -INT "$TESTPMD_PID"; wait "$TESTPMD_PID" 2>/dev/null

deleted=0
for i in $(seq "$N"); do ctl "$n1_SOCK" pod del --id "v$i-$ID" >/dev/null && deleted=$((deleted + 1)); done
check_eq "every vhost-user pod deletes" "$N" "$deleted"
check_eq "only the host port and the kernel pod are left" 2 \
  "$(ctl "$n1_SOCK" --json status | json_get 'j["ports_used"]')"
check "no vhost-user socket directory is left" \
  sh -c "[ -z \"\$(ls -A '$WORK/n1/vhost' 2>/dev/null)\" ]"
finish
