#!/usr/bin/env bash
# TCP throughput between kernel pods on two nodes joined by VXLAN over the same kind of underlay
# (veths into a Linux bridge, offloads off): through two podvsd (tap pods, net_af_packet uplinks)
# and, in the same run on the same machine, through two Linux kernel nodes set up as flannel's
# vxlan backend does. Prints a Markdown table.
#   perf/overlay_iperf.sh [SECONDS] [REPETITIONS]
seconds=${1:-10}
reps=${2:-3}
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/../tests/integration/overlay_lib.sh"

gbps() {  # gbps CLIENT_NS SERVER_NS SERVER_IP: one run's received Gbit/s
  iperf run "$1" "$2" "$3" 5301 "$seconds" >/dev/null 2>&1
  iperf_gbps run
}

make_underlay || exit 1

# podvs: both daemons' workers share the last CPU with idle back-off (two busy-polling workers
# and the pods' stacks do not fit on a 2-core machine).
add_uplink "u1$ID" && add_uplink "u2$ID" || exit 1
start_podvsd n1 --pod-cidr 10.244.1.0/24 --uplink-interface "u1$ID" --node-ip "$UL.1/24" || exit 1
start_podvsd n2 --pod-cidr 10.244.2.0/24 --uplink-interface "u2$ID" --node-ip "$UL.2/24" || exit 1
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"]')
vtep2=$(ctl "$n2_SOCK" --json status | json_get 'j["vtep_mac"]')
ctl "$n1_SOCK" node add --name n2 --pod-cidr 10.244.2.0/24 --node-ip "$UL.2" --vtep-mac "$vtep2" >/dev/null || exit 1
ctl "$n2_SOCK" node add --name n1 --pod-cidr 10.244.1.0/24 --node-ip "$UL.1" --vtep-mac "$vtep1" >/dev/null || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
add_tap_pod "$n1_SOCK" "perf-a-$ID" "${ID}a" >/dev/null
ip_b=$(add_tap_pod "$n2_SOCK" "perf-b-$ID" "${ID}b")
ping_within 5 "${ID}a" "$ip_b" || { log "podvs pods do not reach each other"; exit 1; }

# Linux: two flannel-style nodes on UDP 4789, pods 10.244.3.2 and 10.244.4.2.
for ns in k3 p3 k4 p4; do make_netns "$ID$ns"; done
add_kernel_node "${ID}k3" "${ID}p3" "$UL.3" 3 4789 && add_kernel_node "${ID}k4" "${ID}p4" "$UL.4" 4 4789 || exit 1
add_kernel_peer "${ID}k3" 4 "$(mac_of flannel.1 "${ID}k4")" "$UL.4" &&
  add_kernel_peer "${ID}k4" 3 "$(mac_of flannel.1 "${ID}k3")" "$UL.3" || exit 1
ping_within 5 "${ID}p3" 10.244.4.2 || { log "kernel pods do not reach each other"; exit 1; }

podvs=() kernel=() cpp1=() cpp2=()
for _ in $(seq "$reps"); do
  ctl "$n1_SOCK" stats --clear >/dev/null && ctl "$n2_SOCK" stats --clear >/dev/null
  podvs+=("$(gbps "${ID}a" "${ID}b" "$ip_b")")
  cpp1+=("$(ctl "$n1_SOCK" --json stats | json_get 'round(j["workers"][0]["cycles_per_packet"])')")
  cpp2+=("$(ctl "$n2_SOCK" --json stats | json_get 'round(j["workers"][0]["cycles_per_packet"])')")
  kernel+=("$(gbps "${ID}p3" "${ID}p4" 10.244.4.2)")
done
echo
echo "| path | TCP Gbit/s median | min / max | worker cycles/packet sender / receiver (median) |"
echo "| --- | --- | --- | --- |"
echo "| kernel pod -> podvsd -> VXLAN (af_packet uplinks) -> podvsd -> kernel pod | $(median "${podvs[@]}") | $(minmax "${podvs[@]}") | $(median "${cpp1[@]}") / $(median "${cpp2[@]}") |"
echo "| kernel pod -> Linux node -> VXLAN (flannel.1) -> Linux node -> kernel pod | $(median "${kernel[@]}") | $(minmax "${kernel[@]}") | - |"
echo
echo "$(nproc) CPUs, ${seconds}s per run, $reps runs each, interleaved; pod MTU 1450, underlay MTU 1500,"
echo "underlay veth offloads off on both paths; podvs workers on CPU $(( $(nproc) - 1 )) with idle back-off; $(uname -r)"
finish >/dev/null
