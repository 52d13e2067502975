#!/usr/bin/env bash
# Control-plane cost: time from `pod add` to the first packet forwarded for the new pod (its first
# ping to the node answered), p50/p99 over N kernel pods, and pods attached per second. Pods live
# in a sliding window of WINDOW (a podvsd holds max_pods, default 250; WINDOW=250 and PODS
# beyond it measure the attach at a full node).
#   perf/attach_latency.sh [PODS] [WINDOW]
pods=${1:-100}
window=${2:-20}
source "$(dirname "$0")/../tests/integration/lib.sh"

# A pod CIDR of this run's own: two daemons routing one CIDR on one host take each other's replies.
CIDR=$(pod_cidrs 1)
[ -n "$CIDR" ] || { fail "no free pod CIDR for this run"; finish; exit 1; }
BACKOFF_POLLS=0 start_podvsd n1 --pod-cidr "$CIDR" || exit 1
node_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
for s in $(seq 0 $((window - 1))); do make_netns "${ID}w$s"; done
now_us() { echo $(( $(date +%s%N) / 1000 )); }
: >"$WORK/attach.us"; : >"$WORK/add.us"; : >"$WORK/rtt.us"
# CPU time of podvsd's control thread (the main thread: it attaches and detaches every pod), in
# ms: what podvsd itself spends per pod, which the load of a shared machine does not inflate as
# much as the latencies.
control_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$n1_PID/task/$n1_PID/stat"
}
cpu0=$(control_cpu_ms)
start=$(now_us)
for i in $(seq 0 $((pods - 1))); do
  slot=$((i % window))
  [ "$i" -ge "$window" ] && ctl "$n1_SOCK" pod del --id "att$((i - window))-$ID" >/dev/null
  t0=$(now_us)
  ctl "$n1_SOCK" pod add --id "att$i-$ID" --netns "/var/run/netns/${ID}w$slot" >/dev/null || { fail "add $i"; continue; }
  t1=$(now_us)
  # The first packet: a ping from the new pod to the node, through the switch and back.
  until ip netns exec "${ID}w$slot" ping -c 1 -W 0.2 -q "$node_ip" >/dev/null 2>&1; do
    [ $(( $(now_us) - t0 )) -gt 5000000 ] && { fail "pod $i: no packet within 5 s"; break; }
  done
  t2=$(now_us)
  # The client's own floor: a podvsctl call podvsd answers without work (process start, gRPC
  # connect), which every pod add pays before podvsd sees it.
  ctl "$n1_SOCK" status >/dev/null
  t3=$(now_us)
  echo $((t1 - t0)) >>"$WORK/add.us"
  echo $((t2 - t0)) >>"$WORK/attach.us"
  echo $((t3 - t2)) >>"$WORK/rtt.us"
done
cpu_per_pod=$(awk -v a="$cpu0" -v b="$(control_cpu_ms)" -v n="$pods" 'BEGIN {printf "%.1f", (b - a) / n}')
# Without the reference calls, which are not part of attaching.
total=$(( $(now_us) - start - $(awk '{s += $1} END {print s + 0}' "$WORK/rtt.us") ))
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if(i<1)i=1; printf "%.1f", a[i]/1000}'; }
echo
echo "| measure (ms) | p50 | p99 | max |"
echo "| --- | --- | --- | --- |"
echo "| pod add (API call) | $(pct "$WORK/add.us" 50) | $(pct "$WORK/add.us" 99) | $(pct "$WORK/add.us" 100) |"
echo "| podvsctl status (the client's floor) | $(pct "$WORK/rtt.us" 50) | $(pct "$WORK/rtt.us" 99) | $(pct "$WORK/rtt.us" 100) |"
echo "| pod add to first forwarded packet | $(pct "$WORK/attach.us" 50) | $(pct "$WORK/attach.us" 99) | $(pct "$WORK/attach.us" 100) |"
echo
rate=$(awk -v n="$pods" -v t="$total" 'BEGIN {printf "%.1f", n / (t / 1e6)}')
echo "$pods pods (at most $window attached at once), $rate pods attached per second including one delete each;" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "podvsd's control thread: $cpu_per_pod ms of CPU per pod attached (the adds, and the window's deletes)"
echo "JSON {\"pods\": $pods, \"add_ms\": [$(pct "$WORK/add.us" 50), $(pct "$WORK/add.us" 99), $(pct "$WORK/add.us" 100)], \"attach_ms\": [$(pct "$WORK/attach.us" 50), $(pct "$WORK/attach.us" 99), $(pct "$WORK/attach.us" 100)], \"pods_per_second\": $rate, \"control_cpu_ms_per_pod\": $cpu_per_pod}"
finish >/dev/null
