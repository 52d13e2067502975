#!/usr/bin/env bash
# Forged and malformed frames from a pod are dropped and counted under their reasons, on the
# pod's port, and the worker keeps forwarding good traffic.
source "$(dirname "$0")/lib.sh"

start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
mac_a=$(ctl "$n1_SOCK" --json pod get --id "pod-a-$ID" | json_get 'j["mac"]')
check "ping a -> b before" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"
mbufs_before=$(ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]')

drops() {  # drops REASON: that reason's count on pod a's port
  ctl "$n1_SOCK" --json port list |
    json_get "sum(p['drops'].get('$1', 0) for p in j if p['pod_id'] == 'pod-a-$ID')"
}

send() { ip netns exec "${ID}a" python3 "$(dirname "$0")/send_frames.py" eth0 "$1" "$2" "$mac_a" "$ip_a" "$ip_b"; }
send spoofed_ip 50
send spoofed_mac 40
sleep 0.5
recent_spoofed=$(ctl "$n1_SOCK" drops --recent)
send truncated_ipv4 30
send bad_ihl 20
send bad_total_length 10
send header_only 5
send ipv6 7
sleep 1
check_eq "forged source IP dropped as spoofed_source (and forged MAC)" 90 "$(drops spoofed_source)"
check_eq "truncated IPv4 counted (cut and header-only frames)" 35 "$(drops ipv4_truncated)"
check_eq "bad IHL counted" 20 "$(drops ipv4_bad_ihl)"
check_eq "bad total length counted" 10 "$(drops ipv4_bad_total_length)"
check_eq "IPv6 counted as unsupported" 7 "$(drops unsupported_ethertype)"
rx_b=$(ctl "$n1_SOCK" --json port list | json_get "[p['tx_packets'] for p in j if p['pod_id'] == 'pod-b-$ID'][0]")
check "none of them reached pod b (only the 2 pings did)" test "$rx_b" -le 4
check "ping a -> b still works after the bad traffic" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_b"
check_eq "every dropped frame's mbuf went back to the pool" "$mbufs_before" \
  "$(ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]')"
check "the flight recorder shows the forged frames with their pod and decoded headers" \
  sh -c "echo '$recent_spoofed' | grep 'pod-a-$ID' | grep spoofed_source | grep -q 'IPv4 10.99.99.99:40000 > $ip_b:9 udp'"
recent=$(ctl "$n1_SOCK" drops --recent)
check "the flight recorder keeps only the last 64 drops (the IPv6 frames are among them)" \
  sh -c "[ \$(echo '$recent' | grep -c unsupported_ethertype) -eq 7 ] && [ \$(echo '$recent' | tail -n +2 | wc -l) -eq 64 ]"
check_eq "podvsctl drops lists pod a's reasons" 90 \
  "$(ctl "$n1_SOCK" --json drops | json_get "sum(d['packets'] for d in j if d['pod_id'] == 'pod-a-$ID' and d['reason'] == 'spoofed_source')")"
check "stats show drops by reason" sh -c "'$PODVSCTL' --socket '$n1_SOCK' stats | grep -q spoofed_source"
finish
