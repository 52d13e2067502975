#!/usr/bin/env bash
# Two podvs nodes joined by a VXLAN overlay over an underlay bridge (each podvsd's uplink is a
# net_af_packet port on a veth into that bridge): pods on different nodes ping and carry TCP and
# UDP, pod MTU is the uplink's minus 50 and a bigger DF packet gets ICMP fragmentation-needed,
# traffic to a pod CIDR no node owns is dropped and counted, node del/add take effect without a
# restart, the wire carries RFC 7348 VXLAN between the node IPs, and nodes keep their owner (only
# it replaces or, when a delete names one, deletes them; also after a crash). n2 computes outer UDP
# checksums (--vxlan-udp-checksum) and n1 does not, so both receive paths are exercised.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"

u1="u1$ID" u2="u2$ID"
make_underlay || exit 1
add_uplink "$u1" && add_uplink "$u2" || exit 1
start_podvsd n1 --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" --node-ip "$UL.1/24" || exit 1
start_podvsd n2 --pod-cidr 10.244.2.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u2" --node-ip "$UL.2/24" \
  --vxlan-udp-checksum || exit 1
# Pod traffic must cross the overlay, not the host's stack between the two host ports (it would
# on a host with ip_forward=1), and nothing a pod sends may leave the machine that way.
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
log "underlay $UL.0/24, host ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"

st1=$(ctl "$n1_SOCK" --json status) st2=$(ctl "$n2_SOCK" --json status)
vtep1=$(echo "$st1" | json_get 'j["vtep_mac"].lower()')
vtep2=$(echo "$st2" | json_get 'j["vtep_mac"].lower()')
mac1=$(mac_of "$u1") mac2=$(mac_of "$u2")
check_eq "n1's VTEP MAC is its uplink's MAC" "$mac1" "$vtep1"
check_eq "n2's VTEP MAC is its uplink's MAC" "$mac2" "$vtep2"
status_line='"%s %d %d %d" % (j["node_ip"].split("/")[0], j["vxlan_port"], j["vni"], j["uplink_mtu"])'
check_eq "n1 status: node IP, VXLAN port, VNI, uplink MTU" "$UL.1 4789 1 1500" \
  "$(echo "$st1" | json_get "$status_line")"
check_eq "n2 status: node IP, VXLAN port, VNI, uplink MTU" "$UL.2 4789 1 1500" \
  "$(echo "$st2" | json_get "$status_line")"

add_n2() { ctl "$n1_SOCK" node add --name n2 --pod-cidr 10.244.2.0/24 --node-ip "$UL.2" --vtep-mac "$vtep2"; }
check "n1: node add n2" add_n2
check "n2: node add n1" ctl "$n2_SOCK" node add --name n1 --pod-cidr 10.244.1.0/24 --node-ip "$UL.1" --vtep-mac "$vtep1"
check_eq "n1's node list has n2 with its CIDR, node IP and VTEP MAC" "10.244.2.0/24 $UL.2 $vtep2" \
  "$(ctl "$n1_SOCK" --json node list | json_get "' '.join('%s %s %s' % (n['pod_cidr'], n['node_ip'], n['vtep_mac'].lower()) for n in j if n['name'] == 'n2')")"

for p in p1 p2 pm; do make_netns "$ID$p"; done
ip1=$(add_tap_pod "$n1_SOCK" "p1-$ID" "${ID}p1")
ip2=$(add_tap_pod "$n2_SOCK" "p2-$ID" "${ID}p2")
ipm=$(add_tap_pod "$n1_SOCK" "pm-$ID" "${ID}pm")
check "pod 1 is in n1's CIDR ($ip1)" matches "$ip1" "10.244.1.*"
check "pod 2 is in n2's CIDR ($ip2)" matches "$ip2" "10.244.2.*"
check "pod m is in n1's CIDR ($ipm)" matches "$ipm" "10.244.1.*"
pod_mtu() { ip -n "$1" -j link show dev eth0 | json_get 'j[0]["mtu"]'; }
check_eq "pod 1's eth0 MTU is the uplink's minus 50" 1450 "$(pod_mtu "${ID}p1")"
check_eq "pod 2's eth0 MTU is the uplink's minus 50" 1450 "$(pod_mtu "${ID}p2")"

# The first ping, captured on the underlay: VXLAN between the node IPs and uplink MACs.
capture_start vx "udp port 4789" || exit 1
check "ping pod 1 -> pod 2 (first reply within 5 s)" ping_within 5 "${ID}p1" "$ip2"
check "ping pod 1 -> pod 2" ip netns exec "${ID}p1" ping -c 3 -i 0.2 -W 2 "$ip2"
capture_stop vx
re() { printf '%s' "$1" | sed 's/\./\\./g'; }
vxlan_hdr='VXLAN, flags \[I\] \(0x08\), vni 1 \|'
# At least one packet each way must decode exactly. (A packet starts at a line with a timestamp,
# HH:MM:SS.frac; matching only "NN:NN:" also split off every inner line whose MAC began with two
# decimal octets, about one run in eight, which looked like packets without inner headers.)
check "underlay: n1 -> n2 echo requests in VXLAN from $UL.1 to $UL.2:4789, uplink MACs, no UDP checksum" \
  test "$(captured vx "^[^|]* $mac1 > $mac2, ethertype IPv4 [^|]*\| $(re "$UL.1")\.[0-9]+ > $(re "$UL.2")\.4789: \[no cksum\] $vxlan_hdr.* $(re "$ip1") > $(re "$ip2"): ICMP echo request")" -ge 1
check "underlay: n2 -> n1 echo replies in VXLAN from $UL.2 to $UL.1:4789 with a correct UDP checksum" \
  test "$(captured vx "^[^|]* $mac2 > $mac1, ethertype IPv4 [^|]*\| $(re "$UL.2")\.[0-9]+ > $(re "$UL.1")\.4789: \[udp sum ok\] $vxlan_hdr.* $(re "$ip2") > $(re "$ip1"): ICMP echo reply")" -ge 1
check_eq "underlay: no bad or wrong checksum in any header tcpdump verifies" 0 "$(captured vx 'bad|wrong')"
log "underlay sample: $(head -1 "$WORK/vx.txt")"

check "n1 resolved n2's node IP: REACHABLE" wait_node_state "$n1_SOCK" n2 REACHABLE
check "n2 resolved n1's node IP: REACHABLE" wait_node_state "$n2_SOCK" n1 REACHABLE
check_eq "n1 reaches n2 directly (next hop = node IP, next-hop MAC = its uplink MAC)" "$UL.2 $mac2" \
  "$(node_field "$n1_SOCK" n2 next_hop) $(node_field "$n1_SOCK" n2 next_hop_mac | tr A-F a-f)"
check "ping pod 2 -> pod 1" ip netns exec "${ID}p2" ping -c 3 -i 0.2 -W 2 "$ip1"

# Full-size frames: a 1450-byte IP packet with DF fits the overlay (1500 on the underlay)...
check "DF ping of 1450 bytes pod 1 -> pod 2" ip netns exec "${ID}p1" ping -M "do" -s 1422 -c 2 -i 0.2 -W 2 "$ip2"
check "DF ping of 1450 bytes pod 2 -> pod 1" ip netns exec "${ID}p2" ping -M "do" -s 1422 -c 2 -i 0.2 -W 2 "$ip1"
# ...one more byte does not: from a pod whose MTU was raised to 1500 (so no local error), podvs
# must answer with ICMP fragmentation-needed naming 1450, and the pod's kernel learns that.
ip -n "${ID}pm" link set dev eth0 mtu 1500
check "pod m reaches pod 2 with ordinary pings" ping_within 5 "${ID}pm" "$ip2"
ip netns exec "${ID}pm" ping -M "do" -s 1423 -c 3 -i 0.3 -W 2 "$ip2" >"$WORK/fragneeded.out" 2>&1
log "1451-byte DF ping: $(grep -E 'From|mtu|received' "$WORK/fragneeded.out" | head -3 | tr '\n' ' ')"
check "a 1451-byte DF packet gets ICMP fragmentation-needed (mtu 1450) back" \
  grep -qE "Frag needed.*mtu ?= ?1450|mtu ?= ?1450" "$WORK/fragneeded.out"
check "the oversize DF packets were not delivered" sh -c "! grep -q 'bytes from' '$WORK/fragneeded.out'"
check "pod m's kernel cached path MTU 1450 towards pod 2" \
  sh -c "ip -n ${ID}pm route get $ip2 | grep -q 'mtu 1450'"

# TCP both ways and UDP at a fixed rate; super-frames are segmented in software before
# encapsulation, and neither kernel may count a checksum error.
check_tcp_both_ways "${ID}p1" "$ip1" "${ID}p2" "$ip2" 3
check "UDP pod 1 -> pod 2 at 50 Mbit/s (iperf3, 3 s)" iperf udp12 "${ID}p1" "${ID}p2" "$ip2" 5203 3 -u -b 50M
udp=$(json_get '"%.2f %d %d" % (j["end"]["sum"]["lost_percent"], j["end"]["sum"]["lost_packets"], j["end"]["sum"]["packets"])' 2>/dev/null <"$WORK/udp12.json")
log "UDP 50 Mbit/s: lost % / lost / sent: $udp"
check "UDP loss below 2 %" test "$(echo "${udp:-100 0 0}" | awk '{print ($1 < 2 && $3 > 1000)}')" = 1

# A pod CIDR that no node owns: dropped on pod 1's port and counted.
before=$(pod_drops "$n1_SOCK" "p1-$ID")
check "ping to 10.244.9.2 (no node has 10.244.9.0/24) fails" \
  sh -c "! ip netns exec ${ID}p1 ping -c 3 -i 0.2 -W 1 10.244.9.2"
sleep 0.5
after=$(pod_drops "$n1_SOCK" "p1-$ID")
log "pod 1's drops: $(pod_drop_reasons "$n1_SOCK" "p1-$ID")"
check "the 3 echo requests were counted as drops on pod 1's port ($before -> $after)" \
  test "$((${after:-0} - ${before:-0}))" -ge 3

# Removing the remote node stops the traffic, adding it back restores it, no restart.
check "n1: node del n2" ctl "$n1_SOCK" node del --name n2
check_eq "n2 is gone from n1's node list" none "$(node_field "$n1_SOCK" n2 name)"
check "ping pod 1 -> pod 2 fails without the node" sh -c "! ip netns exec ${ID}p1 ping -c 3 -i 0.2 -W 1 $ip2"
check "n1: node add n2 again" add_n2
check "ping pod 1 -> pod 2 works again (within 5 s)" ping_within 5 "${ID}p1" "$ip2"
check "ping pod 1 -> pod 2" ip netns exec "${ID}p1" ping -c 3 -i 0.2 -W 2 "$ip2"
check "n1 resolved n2 again: REACHABLE" wait_node_state "$n1_SOCK" n2 REACHABLE
check "n1 and n2 still run the same processes" kill -0 "$n1_PID" "$n2_PID"

# Owners: a node podvs-agent added is replaced and deleted only by it; lists may name an owner;
# the owner is saved and comes back after a crash.
agent_n3() { ctl "$n1_SOCK" node add --name n3 --pod-cidr 10.244.3.0/24 --node-ip "$UL.3" \
  --vtep-mac 02:00:00:00:00:03 "$@"; }
check "n1: podvs-agent adds node n3" agent_n3 --owner podvs-agent
if out=$(agent_n3 2>&1); then fail "an operator replaced podvs-agent's node n3: $out"; else
  check "an operator's node add of n3 is refused, naming both owners" grep -q \
    'node n3 belongs to owner "podvs-agent" and this request.s owner is "" (an operator)' <<<"$out"
fi
if out=$(ctl "$n1_SOCK" node del --name n3 --owner other 2>&1); then
  fail "a delete naming another owner removed n3"
else
  check "a node del naming another owner is refused" grep -q 'not to "other"; it was not deleted' <<<"$out"
fi
owned() { ctl "$n1_SOCK" --json node list --owner "$1" | json_get '" ".join(n["name"] for n in j)'; }
check_eq "node list --owner podvs-agent" n3 "$(owned podvs-agent)"
check_eq "node list --owner '' (the operator's)" n2 "$(owned '')"
kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
start_podvsd n1 --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" --node-ip "$UL.1/24" || { finish; exit 1; }
check_eq "after kill -9 n3 is still podvs-agent's" n3 "$(owned podvs-agent)"
check "its owner deletes n3" ctl "$n1_SOCK" node del --name n3 --owner podvs-agent
check_eq "n3 is gone" none "$(node_field "$n1_SOCK" n3 name)"
finish
