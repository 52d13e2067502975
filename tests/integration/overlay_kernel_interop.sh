#!/usr/bin/env bash
# podvs and a Linux kernel "flannel" node on one VXLAN overlay: podvsd in flannel-compatible
# mode (UDP 8472, VNI 1) and a namespace set up the way flannel's vxlan backend sets up a node
# (flannel.1 device without learning, onlink route + permanent neighbour + fdb entry per peer).
# Pods on both sides ping and carry TCP both ways, and the wire shows what the kernel expects.
# The kernel's vxlan device computes outer UDP checksums by default (udpcsum), so podvs also
# receives checksummed VXLAN here while it sends zero checksums.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"

u1="u1$ID" kn="${ID}kn" kp="${ID}kp"
make_underlay || exit 1
add_uplink "$u1" || exit 1
start_podvsd n1 --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" --node-ip "$UL.1/24" \
  --flannel-compat || exit 1
# Pod traffic must not find a way through the host's stack instead of the overlay.
sysctl -qw "net.ipv4.conf.$n1_HOSTPORT.forwarding=0"
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
check_eq "podvs's VTEP MAC is its uplink's MAC" "$(mac_of "$u1")" "$vtep1"
check_eq "flannel-compatible status: VXLAN port 8472, VNI 1" "8472 1" \
  "$(ctl "$n1_SOCK" --json status | json_get '"%d %d" % (j["vxlan_port"], j["vni"])')"

# The kernel node (flannel.1 at 10.244.3.0, its pod 10.244.3.2 behind gateway 10.244.3.1),
# programmed for podvs as flanneld programs a peer.
make_netns "$kn" && make_netns "$kp" || exit 1
add_kernel_node "$kn" "$kp" "$UL.3" 3 8472 || exit 1
add_kernel_peer "$kn" 1 "$vtep1" "$UL.1" || exit 1
kmac=$(mac_of flannel.1 "$kn")

check "podvs: node add kn (the kernel node, VTEP MAC = flannel.1's)" \
  ctl "$n1_SOCK" node add --name kn --pod-cidr 10.244.3.0/24 --node-ip "$UL.3" --vtep-mac "$kmac"

make_netns "${ID}p1"
ip1=$(add_tap_pod "$n1_SOCK" "p1-$ID" "${ID}p1")
check "podvs pod is in n1's CIDR ($ip1)" matches "$ip1" "10.244.1.*"

capture_start vx "udp port 8472" || exit 1
check "ping podvs pod -> kernel pod (first reply within 5 s)" ping_within 5 "${ID}p1" 10.244.3.2
check "ping podvs pod -> kernel pod" ip netns exec "${ID}p1" ping -c 3 -i 0.2 -W 2 10.244.3.2
check "ping kernel pod -> podvs pod" ip netns exec "$kp" ping -c 3 -i 0.2 -W 2 "$ip1"
capture_stop vx -T vxlan
re() { printf '%s' "$1" | sed 's/\./\\./g'; }
vxlan_hdr='VXLAN, flags \[I\] \(0x08\), vni 1 \|'
# podvs -> kernel: to the kernel node's 8472, inner Ethernet from podvs's VTEP MAC to flannel.1's
# (the kernel drops inner frames not addressed to flannel.1).
check "underlay: podvs -> kernel VXLAN $UL.1 > $UL.3:8472, inner $vtep1 > $kmac (flannel.1)" \
  test "$(captured vx "^[^|]*\| $(re "$UL.1")\.[0-9]+ > $(re "$UL.3")\.8472: [^|]*$vxlan_hdr $vtep1 > $kmac, ethertype IPv4 .* $(re "$ip1") > 10\.244\.3\.2: ICMP echo request")" -ge 1
check "underlay: kernel -> podvs VXLAN $UL.3 > $UL.1:8472, inner $kmac > $vtep1" \
  test "$(captured vx "^[^|]*\| $(re "$UL.3")\.[0-9]+ > $(re "$UL.1")\.8472: [^|]*$vxlan_hdr $kmac > $vtep1, ethertype IPv4 .* 10\.244\.3\.2 > $(re "$ip1"): ICMP echo reply")" -ge 1
check "underlay: the kernel pod's echo requests reached podvs in VXLAN" \
  test "$(captured vx "$(re "$UL.3")\.[0-9]+ > $(re "$UL.1")\.8472: .* 10\.244\.3\.2 > $(re "$ip1"): ICMP echo request")" -ge 1
check_eq "underlay: no bad or wrong checksum in any header tcpdump verifies" 0 "$(captured vx 'bad|wrong')"
log "underlay sample: $(grep -m1 "$(re "$UL.1")\.[0-9]* > " "$WORK/vx.txt")"
check "podvs resolved the kernel node's IP: REACHABLE" wait_node_state "$n1_SOCK" kn REACHABLE
check_eq "the kernel node's next-hop MAC is its underlay veth's" "$(mac_of "k$kn" "$kn")" \
  "$(node_field "$n1_SOCK" kn next_hop_mac | tr A-F a-f)"

check "DF ping of 1450 bytes podvs pod -> kernel pod" \
  ip netns exec "${ID}p1" ping -M "do" -s 1422 -c 2 -i 0.2 -W 2 10.244.3.2
check "DF ping of 1450 bytes kernel pod -> podvs pod" \
  ip netns exec "$kp" ping -M "do" -s 1422 -c 2 -i 0.2 -W 2 "$ip1"
check "TCP podvs pod -> kernel pod (iperf3, 3 s)" iperf tcp1k "${ID}p1" "$kp" 10.244.3.2 5201 3
check "TCP kernel pod -> podvs pod (iperf3, 3 s)" iperf tcpk1 "$kp" "${ID}p1" "$ip1" 5202 3
log "TCP: podvs -> kernel $(iperf_gbps tcp1k) Gbit/s, kernel -> podvs $(iperf_gbps tcpk1) Gbit/s"
for r in tcp1k tcpk1; do
  check "$r: throughput above 10 Mbit/s" test "$(json_get 'j["end"]["sum_received"]["bits_per_second"] > 1e7' 2>/dev/null <"$WORK/$r.json")" = True
done
finish
