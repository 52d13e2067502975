#!/usr/bin/env bash
# Two workers (sharing one CPU, taking turns through idle back-off, so this fits a 2-core
# machine): rx queues are spread over both (--tap-queues 0: each kernel pod's tap has a queue per
# worker, so the spread does not depend on measured load), both
# workers' tx carries traffic, and deleting pods re-plans the queues so neither worker is left
# idle.
source "$(dirname "$0")/lib.sh"

cpu=$(( $(nproc) - 1 ))
start_podvsd n1 --workers "$cpu,$cpu" --tap-queues 0 || exit 1
for p in a b c d; do make_netns "$ID$p"; done
declare -A ip
for p in a b c d; do ip[$p]=$(add_tap_pod "$n1_SOCK" "$p-$ID" "$ID$p"); done
queues() { ctl "$n1_SOCK" --json stats | json_get '" ".join(str(w["rx_queues"]) for w in j["workers"])'; }
check_eq "9 rx queues (host + 4 pods of 2 queues) spread over 2 workers" "5 4" "$(queues)"
for pair in "a b" "b c" "c d" "d a"; do
  set -- $pair
  check "ping $1 -> $2" ip netns exec "$ID$1" ping -c 2 -i 0.2 -W 2 "${ip[$2]}"
done
ip netns exec "${ID}b" iperf3 -s -1 -B "${ip[b]}" -p 5203 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
check "TCP a -> b across workers" timeout 20 ip netns exec "${ID}a" iperf3 -c "${ip[b]}" -p 5203 -t 2
busy=$(ctl "$n1_SOCK" --json stats | json_get 'sum(1 for w in j["workers"] if w["rx_packets"] > 0)')
check_eq "both workers forwarded packets" 2 "$busy"

# Delete the pods one worker polls; the re-plan must give that worker queues again.
for p in a c; do ctl "$n1_SOCK" pod del --id "$p-$ID"; done
q=$(queues)
check "after deletes each worker still polls a queue ($q)" test "$(echo $q | tr ' ' '\n' | grep -c '^0$')" -eq 0
check "ping b -> d after the re-plan" ip netns exec "${ID}b" ping -c 3 -i 0.2 -W 2 "${ip[d]}"
finish
