#!/usr/bin/env bash
# A DPDK pod with two queue pairs (dpdk-testpmd on virtio-user, queues=2, icmpecho on both
# queues) on podvsd with two workers: each of its rx queues is polled by a different worker,
# sends reach both of its queues, and both workers carry its traffic. Then the same pod with only
# one queue pair enabled by the guest, the validation of --queues, a restart that keeps the
# queues, and a delete that leaves nothing behind.
#
# The queue a packet reaches the pod on is chosen by podvsd (worker w sends on queue w % 2: no
# lock, each worker has its own), not by the pod's RSS, which virtio-user over vhost-user does not
# have; icmpecho answers on the queue it received on, so traffic from sources polled by both
# workers crosses both queues both ways.
source "$(dirname "$0")/lib.sh"

TESTPMD=$(command -v dpdk-testpmd) || { log "dpdk-testpmd missing"; exit 1; }
cpu=$(( $(nproc) - 1 ))
# A pod CIDR of its own: the node pings the pod through a route to it (lib.sh, pod_cidrs).
cidr=$(pod_cidrs 1)
# One tap queue per kernel pod: each ping source is then polled by one known worker. With a queue
# per worker the kernel would pick each pod's queue by a hash that is the same for all its pings.
flags=(--workers "$cpu,$cpu" --pod-cidr "$cidr" --tap-queues 1)
start_podvsd n1 "${flags[@]}" || exit 1

check "--queues 17 is refused with the limit" sh -c \
  "'$PODVSCTL' --socket '$n1_SOCK' pod add --id big-$ID --kind vhost-user --queues 17 2>&1 | grep -q '1 to 16 queue pairs'"
make_netns "${ID}x"
check "--queues 2 on a tap pod is refused" sh -c \
  "'$PODVSCTL' --socket '$n1_SOCK' pod add --id tapq-$ID --netns /var/run/netns/${ID}x --queues 2 2>&1 | grep -q 'only a vhost-user'"

# Sources of pings on both workers: two kernel pods and the node itself (the host port).
make_netns "${ID}a"
make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
pod=$(ctl "$n1_SOCK" --json pod add --id "dpdk-$ID" --kind vhost-user --queues 2)
ip_d=$(echo "$pod" | json_get 'j["ip"]')
mac_d=$(echo "$pod" | json_get 'j["mac"]')
sock=$(echo "$pod" | json_get 'j["socket_path"]')
check_eq "the pod was added with 2 queue pairs" 2 "$(echo "$pod" | json_get 'j["spec"]["queues"]')"
check "pod list shows its queues" sh -c \
  "'$PODVSCTL' --socket '$n1_SOCK' pod list | grep 'dpdk-$ID' | grep -q ' 2 '"

start_testpmd() {  # RXQ: the queue pairs the guest enables (of the 2 it asks for)
  # --stats-period keeps testpmd running without a terminal. Main and forwarding lcore share
  # CPU 0; podvsd's workers have the last CPU.
  : >"$WORK/testpmd.log"
  "$TESTPMD" --lcores=0@0,1@0 --no-pci --in-memory --single-file-segments \
    --file-prefix="tq$ID" --log-level=4 \
    --vdev="net_virtio_user0,path=$sock,server=1,queues=2,mac=$mac_d" -- \
    --forward-mode=icmpecho --auto-start --stats-period=60 --total-num-mbufs=4096 \
    --nb-cores=1 --rxq="$1" --txq="$1" --txd=256 --rxd=256 >>"$WORK/testpmd.log" 2>&1 &
  TESTPMD_PID=$!
  PIDS+=("$TESTPMD_PID")
}
stop_testpmd() {  # SIGINT: testpmd prints its per-queue forwarding statistics as it stops
  kill -INT "$TESTPMD_PID"; wait "$TESTPMD_PID" 2>/dev/null
  # Until podvsd has seen the pod go (link down), so that what follows sees the next one.
  for _ in $(seq 100); do
    [ "$(ctl "$n1_SOCK" --json port list | json_get "[p['link'] for p in j if p['pod_id'] == 'dpdk-$ID'][0]")" = down ] && return 0
    sleep 0.1
  done
}
queue_workers() { ctl "$n1_SOCK" --json port list | json_get "[p['queue_workers'] for p in j if p['pod_id'] == 'dpdk-$ID'][0]"; }
wait_queue_workers() {  # PATTERN: until the pod's queue_workers match it
  for _ in $(seq 100); do
    matches "$(queue_workers)" "$1" && return 0
    sleep 0.1
  done
  return 1
}
wait_link() {  # until the pod is connected: testpmd is up and its device ready
  for _ in $(seq 100); do
    [ "$(ctl "$n1_SOCK" --json port list | json_get "[p['link'] for p in j if p['pod_id'] == 'dpdk-$ID'][0]")" = up ] && return 0
    sleep 0.1
  done
  return 1
}
# RX-packets of testpmd's forwarding stream on queue Q (absent: none received).
stream_rx() {
  awk -v q="Queue= *$1 ->" '$0 ~ "Forward Stats for RX Port= *0/" q {f=1; next}
    f && /RX-packets/ {print $2; exit}' "$WORK/testpmd.log" | grep . || echo 0
}
# Many flows: each ping process is a flow of its own (its ICMP id), from both kernel pods and the
# node, so the three sources' workers all send to the pod.
ping_many() {  # COUNT
  local pids=() p
  for src in "${ID}a" "${ID}b"; do
    for _ in 1 2 3 4; do
      ip netns exec "$src" ping -q -c "$1" -i 0.05 -W 2 "$ip_d" >/dev/null & pids+=($!)
    done
  done
  for _ in 1 2; do ping -q -c "$1" -i 0.05 -W 2 "$ip_d" >/dev/null & pids+=($!); done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

# Both queue pairs enabled.
start_testpmd 2
check "both of the pod's rx queues are polled once the pod enables them" wait_queue_workers "[[]?, ?[]]"
qw=$(queue_workers)
check "the pod's two rx queues are polled by two different workers ($qw)" test "$qw" = "[0, 1]" -o "$qw" = "[1, 0]"
check "port list shows each queue's worker" sh -c \
  "'$PODVSCTL' --socket '$n1_SOCK' port list | grep 'dpdk-$ID' | grep -Eq ' (0,1|1,0) '"
for _ in $(seq 50); do grep -q "sends spread over 2 queue pairs" "$WORK/n1/log" && break; sleep 0.1; done
check "podvsd spreads sends over the 2 queue pairs the pod enabled" grep -q "sends spread over 2 queue pairs (was 1)" "$WORK/n1/log"
w_a=$(port_worker "$n1_SOCK" "pod-a-$ID") w_b=$(port_worker "$n1_SOCK" "pod-b-$ID")
w_h=$(port_worker "$n1_SOCK" "host_$n1_HOSTPORT")
log "sources: pod-a on worker $w_a, pod-b on worker $w_b, host port on worker $w_h"
check "the ping sources are polled by both workers" sh -c \
  "printf '%s\n' $w_a $w_b $w_h | sort -u | wc -l | grep -qx 2"
stats0=$(ctl "$n1_SOCK" --json stats)
check "ping kernel pod -> DPDK pod" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_d"
check "12 flows of pings to the DPDK pod and back (2 kernel pods, the node)" ping_many 40
stats1=$(ctl "$n1_SOCK" --json stats)
busy=$(worker_rx_deltas "$stats0" "$stats1" | tr ' ' '\n' | grep -vc '^0$')
check_eq "both workers received packets while the pings ran" 2 "$busy"
check "no packet to the pod was dropped for a full queue" sh -c \
  "! '$PODVSCTL' --socket '$n1_SOCK' --json port list | grep -q tx_queue_full"
stop_testpmd
rx0=$(stream_rx 0) rx1=$(stream_rx 1)
log "testpmd received $rx0 packets on queue 0 and $rx1 on queue 1"
check "the pod received (and echoed) on queue 0" test "$rx0" -gt 0
check "the pod received (and echoed) on queue 1" test "$rx1" -gt 0

# Asked for 2, the guest enables 1: queue 1 is not polled, every send goes to queue 0.
start_testpmd 1
check "the pod reconnects with one queue pair enabled" wait_link
check "with one queue pair enabled only rx queue 0 is polled" wait_queue_workers "[[]?, -1[]]"
check "ping kernel pod -> DPDK pod with one queue pair enabled" ip netns exec "${ID}b" ping -c 3 -i 0.2 -W 2 "$ip_d"
check "many flows with one queue pair enabled" ping_many 10
stop_testpmd
check "the pod received everything on queue 0" test "$(stream_rx 1)" -eq 0

# A restart of podvsd keeps the pod's queue pairs.
kill -9 "$n1_PID"
start_podvsd n1 "${flags[@]}" || { finish; exit 1; }
check_eq "after a restart the pod still has 2 queue pairs" 2 \
  "$(ctl "$n1_SOCK" --json pod get --id "dpdk-$ID" | json_get 'j["spec"]["queues"]')"
start_testpmd 2
check "after the restart both rx queues are polled again, by different workers" wait_queue_workers "[[]?, ?[]]"
qw=$(queue_workers)
check "their workers differ ($qw)" test "$qw" = "[0, 1]" -o "$qw" = "[1, 0]"
check "ping kernel pod -> DPDK pod after the restart" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_d"
stop_testpmd

check "delete the DPDK pod" ctl "$n1_SOCK" pod del --id "dpdk-$ID"
check "its socket directory is gone" test ! -e "$(dirname "$sock")"
check "its port is gone" sh -c "! '$PODVSCTL' --socket '$n1_SOCK' port list | grep -q 'dpdk-$ID'"
check "the kernel pods still reach each other" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"
finish
