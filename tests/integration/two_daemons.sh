#!/usr/bin/env bash
# Two podvsd on one machine (how later tests run a "second node"): separate sockets, state,
# DPDK file prefixes, host ports and pod CIDRs; each switches its own pods, neither disturbs
# the other, and stopping one leaves the other forwarding.
source "$(dirname "$0")/lib.sh"

start_podvsd n1 --pod-cidr 10.244.0.0/24 || exit 1
start_podvsd n2 --pod-cidr 10.245.0.0/24 || exit 1
for ns in a1 b1 a2 b2; do make_netns "$ID$ns"; done
a1=$(add_tap_pod "$n1_SOCK" "a1-$ID" "${ID}a1"); b1=$(add_tap_pod "$n1_SOCK" "b1-$ID" "${ID}b1")
a2=$(add_tap_pod "$n2_SOCK" "a2-$ID" "${ID}a2"); b2=$(add_tap_pod "$n2_SOCK" "b2-$ID" "${ID}b2")
check "node 1 pods come from its CIDR" matches "$a1" "10.244.0.*"
check "node 2 pods come from its CIDR" matches "$a2" "10.245.0.*"
check "ping within node 1" ip netns exec "${ID}a1" ping -c 2 -i 0.2 -W 2 "$b1"
check "ping within node 2" ip netns exec "${ID}a2" ping -c 2 -i 0.2 -W 2 "$b2"
check "the host reaches pods of both" sh -c "ping -c 1 -W 2 $a1 && ping -c 1 -W 2 $a2"
check_eq "each daemon lists only its own pods" "1 1" \
  "$(ctl "$n1_SOCK" --json pod list | json_get 'len(j) - 1') $(ctl "$n2_SOCK" --json pod list | json_get 'len(j) - 1')"
kill -TERM "$n1_PID"; wait "$n1_PID" 2>/dev/null
check "node 2 keeps forwarding after node 1 stops" ip netns exec "${ID}a2" ping -c 2 -i 0.2 -W 2 "$b2"
finish
