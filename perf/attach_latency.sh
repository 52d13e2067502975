#!/usr/bin/env bash
# Control-plane cost: time from `pod add` to the first packet forwarded for the new pod (its first
# ping to the node answered), p50/p99 over N kernel pods, and pods attached per second. Pods live
# in a sliding window of WINDOW (a podvsd holds max_pods, default 250; WINDOW=250 and PODS
# beyond it measure the attach at a full node).
#   perf/attach_latency.sh [PODS] [WINDOW]
pods=${1:-100}
window=${2:-20}
source "$(dirname "$0")/../tests/integration/lib.sh"

BACKOFF_POLLS=0 start_podvsd n1 || exit 1
for s in $(seq 0 $((window - 1))); do make_netns "${ID}w$s"; done
now_us() { echo $(( $(date +%s%N) / 1000 )); }
: >"$WORK/attach.us"; : >"$WORK/add.us"
start=$(now_us)
for i in $(seq 0 $((pods - 1))); do
  slot=$((i % window))
  [ "$i" -ge "$window" ] && ctl "$n1_SOCK" pod del --id "att$((i - window))-$ID" >/dev/null
  t0=$(now_us)
  ctl "$n1_SOCK" pod add --id "att$i-$ID" --netns "/var/run/netns/${ID}w$slot" >/dev/null || { fail "add $i"; continue; }
  t1=$(now_us)
  # The first packet: a ping from the new pod to the node, through the switch and back.
  until ip netns exec "${ID}w$slot" ping -c 1 -W 0.2 -q 10.244.0.1 >/dev/null 2>&1; do
    [ $(( $(now_us) - t0 )) -gt 5000000 ] && { fail "pod $i: no packet within 5 s"; break; }
  done
  t2=$(now_us)
  echo $((t1 - t0)) >>"$WORK/add.us"
  echo $((t2 - t0)) >>"$WORK/attach.us"
done
total=$(( $(now_us) - start ))
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if(i<1)i=1; printf "%.1f", a[i]/1000}'; }
echo
echo "| measure (ms) | p50 | p99 | max |"
echo "| --- | --- | --- | --- |"
echo "| pod add (API call) | $(pct "$WORK/add.us" 50) | $(pct "$WORK/add.us" 99) | $(pct "$WORK/add.us" 100) |"
echo "| pod add to first forwarded packet | $(pct "$WORK/attach.us" 50) | $(pct "$WORK/attach.us" 99) | $(pct "$WORK/attach.us" 100) |"
echo
rate=$(awk -v n="$pods" -v t="$total" 'BEGIN {printf "%.1f", n / (t / 1e6)}')
echo "$pods pods (at most $window attached at once), $rate pods attached per second including one delete each"
echo "JSON {\"pods\": $pods, \"add_ms\": [$(pct "$WORK/add.us" 50), $(pct "$WORK/add.us" 99), $(pct "$WORK/add.us" 100)], \"attach_ms\": [$(pct "$WORK/attach.us" 50), $(pct "$WORK/attach.us" 99), $(pct "$WORK/attach.us" 100)], \"pods_per_second\": $rate}"
finish >/dev/null
