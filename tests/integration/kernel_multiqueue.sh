#!/usr/bin/env bash
# Kernel pods with a tap queue per worker (IFF_MULTI_QUEUE): with two workers each kernel pod's
# tap has two queues, polled by different workers, and a TCP transfer of 4 streams between two
# kernel pods is carried by both workers; every worker writes to its own queue of the receiving
# tap (no lock).
source "$(dirname "$0")/lib.sh"

command -v iperf3 >/dev/null || { log "iperf3 missing"; exit 1; }
cpu=$(( $(nproc) - 1 ))
start_podvsd n1 --workers "$cpu,$cpu" --pod-cidr "$(pod_cidrs 1)" --tap-queues 0 || exit 1
make_netns "${ID}a"
make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "b-$ID" "${ID}b")

check_eq "a kernel pod's tap has one queue per worker" 2 \
  "$(ctl "$n1_SOCK" --json pod get --id "a-$ID" | json_get 'j["spec"]["queues"]')"
check "the kernel sees a multi-queue tap with 2 queues" sh -c \
  "ip netns exec '${ID}a' ls /sys/class/net/eth0/queues | grep -c '^rx-' | grep -qx 2"
for p in a b; do
  qw=$(ctl "$n1_SOCK" --json port list | json_get "[p['queue_workers'] for p in j if p['pod_id'] == '$p-$ID'][0]")
  check "pod $p's two tap queues are polled by different workers ($qw)" \
    test "$qw" = "[0, 1]" -o "$qw" = "[1, 0]"
done
check "ping a -> b" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_b"

stats0=$(ctl "$n1_SOCK" --json stats)
ip netns exec "${ID}b" iperf3 -s -1 -B "$ip_b" -p 5204 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
check "TCP a -> b, 4 streams (iperf3 -P 4, 3 s)" \
  timeout 30 ip netns exec "${ID}a" iperf3 -c "$ip_b" -p 5204 -P 4 -t 3
stats1=$(ctl "$n1_SOCK" --json stats)
deltas=$(worker_rx_deltas "$stats0" "$stats1")
log "packets received per worker during the transfer: $deltas"
check "both workers carried the transfer (over 1000 packets each: $deltas)" sh -c \
  "for d in $deltas; do [ \"\$d\" -gt 1000 ] || exit 1; done"
check "nothing dropped for a full queue" sh -c \
  "! '$PODVSCTL' --socket '$n1_SOCK' --json port list | grep -q tx_queue_full"

check "delete pod a" ctl "$n1_SOCK" pod del --id "a-$ID"
check "its tap is gone" sh -c "! ip netns exec '${ID}a' ip link show eth0"
check "ping b -> node after the delete" ip netns exec "${ID}b" ping -c 2 -i 0.2 -W 2 \
  "$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')"
finish
