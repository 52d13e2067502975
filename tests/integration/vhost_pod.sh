#!/usr/bin/env bash
# A DPDK pod (dpdk-testpmd on virtio-user, icmpecho) on a vhost-user port: a kernel pod pings it
# through the switch. podvsd is the vhost-user client, so restarting the pod reconnects on its own.
source "$(dirname "$0")/lib.sh"

TESTPMD=$(command -v dpdk-testpmd) || { log "dpdk-testpmd missing"; exit 1; }
start_podvsd n1 || exit 1
make_netns "${ID}a"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
pod=$(ctl "$n1_SOCK" --json pod add --id "dpdk-$ID" --kind vhost-user)
ip_d=$(echo "$pod" | json_get 'j["ip"]')
mac_d=$(echo "$pod" | json_get 'j["mac"]')
sock=$(echo "$pod" | json_get 'j["socket_path"]')
check "the vhost-user pod got an address" matches "$ip_d" "10.244.0.*"
check "its socket lives in a per-pod directory" matches "$sock" "*/dpdk-$ID/vhost-user.sock"

start_testpmd() {  # [server=1|0]: by default the pod is the vhost-user server
  # --stats-period keeps testpmd running without a terminal. Main and forwarding lcore share
  # CPU 0; podvsd's worker has the last CPU.
  "$TESTPMD" --lcores=0@0,1@0 --no-pci --in-memory --single-file-segments \
    --file-prefix="tp$ID" --log-level=4 \
    --vdev="net_virtio_user0,path=$sock,${1:-server=1},queues=1,mac=$mac_d" -- \
    --forward-mode=icmpecho --auto-start --stats-period=60 --total-num-mbufs=2048 \
    --nb-cores=1 --txd=256 --rxd=256 >>"$WORK/testpmd.log" 2>&1 &
  TESTPMD_PID=$!
  PIDS+=("$TESTPMD_PID")
}
wait_link() {  # [pod id]
  for _ in $(seq 100); do
    [ "$(ctl "$n1_SOCK" --json port list | json_get "[p['link'] for p in j if p['pod_id'] == '${1:-dpdk-$ID}'][0]")" = up ] && return 0
    sleep 0.1
  done
  return 1
}

start_testpmd
check "podvsd connects to the pod's vhost-user socket" wait_link
check "ping kernel pod -> DPDK pod" ip netns exec "${ID}a" ping -c 5 -i 0.2 -W 2 "$ip_d"

kill -INT "$TESTPMD_PID"; wait "$TESTPMD_PID" 2>/dev/null
start_testpmd
check "after the pod restarts, podvsd reconnects" wait_link
check "ping kernel pod -> DPDK pod after its restart" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_d"
kill -INT "$TESTPMD_PID"; wait "$TESTPMD_PID" 2>/dev/null

check "delete the DPDK pod" ctl "$n1_SOCK" pod del --id "dpdk-$ID"
check "its socket directory is gone" test ! -e "$(dirname "$sock")"

# Server mode: podvsd creates and listens on the socket, the pod's virtio-user connects to it.
pod=$(ctl "$n1_SOCK" --json pod add --id "dpdk-srv-$ID" --kind vhost-user --vhost-server)
ip_d=$(echo "$pod" | json_get 'j["ip"]')
mac_d=$(echo "$pod" | json_get 'j["mac"]')
sock=$(echo "$pod" | json_get 'j["socket_path"]')
check "in server mode podvsd created the socket" test -S "$sock"
start_testpmd server=0
check "the pod connects to podvsd's socket" wait_link "dpdk-srv-$ID"
check "ping kernel pod -> DPDK pod (podvsd as vhost-user server)" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_d"
kill -INT "$TESTPMD_PID"; wait "$TESTPMD_PID" 2>/dev/null
check "delete the server-mode pod removes its socket" sh -c "'$PODVSCTL' --socket '$n1_SOCK' pod del --id dpdk-srv-$ID && test ! -e '$sock'"
finish
