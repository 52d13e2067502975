#!/usr/bin/env bash
# TCP single-stream throughput between kernel pods through podvsd, each path next to a Linux
# reference measured in the same run on the same machine, repetitions interleaved:
#   1. kernel pod -> podvsd (tap ports) -> kernel pod, against a veth pair;
#   2. the same through a ClusterIP (a Service whose endpoint is the server pod), against the veth
#      pair again;
#   3. kernel pod -> podvsd -> VXLAN -> second podvsd -> kernel pod (two daemons, net_af_packet
#      uplinks on veths into a Linux bridge, as tests/integration/overlay_two_nodes.sh), against
#      two Linux nodes set up as flannel's vxlan backend does over the same underlay.
# Every pod's TcpInCsumErrors and TcpExtTCPCsumErrors are read before and after: a segment with
# a bad checksum is dropped by the receiving kernel and counted there, so both must stay 0.
# Prints Markdown tables, the worker's cycles per packet, the load average and whether the
# counters moved.
#   perf/kernel_pods_iperf.sh [SECONDS] [REPETITIONS]
seconds=${1:-10}
reps=${2:-3}
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/../tests/integration/overlay_lib.sh"

gbps() {  # gbps NAME CLIENT_NS SERVER_NS SERVER_IP [PORT]: one run's received Gbit/s (0: failed)
  iperf "$1" "$2" "$3" "$4" "${5:-5301}" "$seconds" >/dev/null 2>&1
  iperf_gbps "$1"
}
# csum_errors NETNS: "TcpInCsumErrors/TcpExtTCPCsumErrors" of the namespace's kernel ("-" for a
# counter this kernel does not have).
csum_errors() {
  ip netns exec "$1" nstat -saz TcpInCsumErrors TcpExtTCPCsumErrors |
    awk '{v[$1] = $2} END {
      a = ("TcpInCsumErrors" in v) ? v["TcpInCsumErrors"] : "-"
      b = ("TcpExtTCPCsumErrors" in v) ? v["TcpExtTCPCsumErrors"] : "-"
      print a "/" b }'
}
cpp() { ctl "$1" --json stats | json_get 'round(j["workers"][0]["cycles_per_packet"])'; }
loads=()
note_load() { loads+=("$(cut -d' ' -f1 /proc/loadavg)"); }

# The veth reference: two namespaces joined by a veth pair, offloads on (the kernel's default).
make_netns "${ID}va" && make_netns "${ID}vb" || exit 1
ip link add "v${ID}a" netns "${ID}va" type veth peer name "v${ID}b" netns "${ID}vb" &&
  ip -n "${ID}va" addr add 192.0.2.1/24 dev "v${ID}a" && ip -n "${ID}va" link set "v${ID}a" up &&
  ip -n "${ID}vb" addr add 192.0.2.2/24 dev "v${ID}b" && ip -n "${ID}vb" link set "v${ID}b" up || exit 1

# One node: the worker polls without back-off, as in production; pods a (client) and b
# (server, also the Service's endpoint).
read -r cidr1 cidr2 <<<"$(pod_cidrs 2 | tr '\n' ' ')"
[ -n "$cidr2" ] || { fail "no free pod CIDRs for this run"; finish; exit 1; }
BACKOFF_POLLS=0 start_podvsd n0 --pod-cidr "$cidr1" || exit 1
make_netns "${ID}a" && make_netns "${ID}b" || exit 1
add_tap_pod "$n0_SOCK" "perf-a-$ID" "${ID}a" >/dev/null
ip_b=$(add_tap_pod "$n0_SOCK" "perf-b-$ID" "${ID}b")
vip=10.96.$(( $(printf '%s' "$ID" | cksum | cut -d' ' -f1) % 200 + 20 )).10
ctl "$n0_SOCK" service add "perf/iperf-$ID" --cluster-ip "$vip" --port tcp:5201:5301 \
  --endpoint "$ip_b" >/dev/null || { fail "service add"; finish; exit 1; }
ping_within 5 "${ID}a" "$ip_b" >/dev/null || { fail "pod a does not reach pod b"; finish; exit 1; }
csum_before="a $(csum_errors "${ID}a"), b $(csum_errors "${ID}b")"
pod=() svc=() veth=() cpp_pod=() cpp_svc=()
for r in $(seq "$reps"); do
  ctl "$n0_SOCK" stats --clear >/dev/null
  pod+=("$(gbps "pod$r" "${ID}a" "${ID}b" "$ip_b")"); cpp_pod+=("$(cpp "$n0_SOCK")")
  ctl "$n0_SOCK" stats --clear >/dev/null
  # The client connects to the ClusterIP's port 5201; the server listens on the pod's 5301.
  ip netns exec "${ID}b" timeout $((seconds + 20)) iperf3 -s -1 -B "$ip_b" -p 5301 \
    >"$WORK/svc$r-server.log" 2>&1 &
  PIDS+=("$!")
  sleep 0.5
  timeout $((seconds + 15)) ip netns exec "${ID}a" iperf3 -c "$vip" -p 5201 -t "$seconds" -J \
    >"$WORK/svc$r.json" 2>/dev/null
  wait "${PIDS[-1]}" 2>/dev/null
  svc+=("$(iperf_gbps "svc$r")"); cpp_svc+=("$(cpp "$n0_SOCK")")
  veth+=("$(gbps "veth$r" "${ID}va" "${ID}vb" 192.0.2.2)")
  note_load
done
csum_after="a $(csum_errors "${ID}a"), b $(csum_errors "${ID}b")"
ctl "$n0_SOCK" pod del --id "perf-a-$ID" >/dev/null
ctl "$n0_SOCK" pod del --id "perf-b-$ID" >/dev/null
kill -TERM "$n0_PID" && wait "$n0_PID" 2>/dev/null

# Two nodes joined by VXLAN: both daemons' workers share the last CPU with idle back-off (two
# busy-polling workers and the pods' stacks do not fit on a 2-core machine).
make_underlay || exit 1
add_uplink "u1$ID" && add_uplink "u2$ID" || exit 1
start_podvsd n1 --pod-cidr "$cidr1" --uplink-interface "u1$ID" --node-ip "$UL.1/24" || exit 1
start_podvsd n2 --pod-cidr "$cidr2" --uplink-interface "u2$ID" --node-ip "$UL.2/24" || exit 1
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"]')
vtep2=$(ctl "$n2_SOCK" --json status | json_get 'j["vtep_mac"]')
ctl "$n1_SOCK" node add --name n2 --pod-cidr "$cidr2" --node-ip "$UL.2" --vtep-mac "$vtep2" >/dev/null &&
  ctl "$n2_SOCK" node add --name n1 --pod-cidr "$cidr1" --node-ip "$UL.1" --vtep-mac "$vtep1" >/dev/null ||
  { fail "node add"; finish; exit 1; }
make_netns "${ID}c" && make_netns "${ID}d" || exit 1
add_tap_pod "$n1_SOCK" "perf-c-$ID" "${ID}c" >/dev/null
ip_d=$(add_tap_pod "$n2_SOCK" "perf-d-$ID" "${ID}d")
ping_within 5 "${ID}c" "$ip_d" >/dev/null || { fail "pods c and d do not reach each other"; finish; exit 1; }
# Linux: two flannel-style nodes on UDP 4789, pods 10.244.3.2 and 10.244.4.2 (inside their own
# namespaces: the host routes none of it).
for ns in k3 p3 k4 p4; do make_netns "$ID$ns" || exit 1; done
add_kernel_node "${ID}k3" "${ID}p3" "$UL.3" 3 4789 && add_kernel_node "${ID}k4" "${ID}p4" "$UL.4" 4 4789 || exit 1
add_kernel_peer "${ID}k3" 4 "$(mac_of flannel.1 "${ID}k4")" "$UL.4" &&
  add_kernel_peer "${ID}k4" 3 "$(mac_of flannel.1 "${ID}k3")" "$UL.3" || exit 1
ping_within 5 "${ID}p3" 10.244.4.2 >/dev/null || { fail "kernel VXLAN pods do not reach each other"; finish; exit 1; }
csum_before+=", c $(csum_errors "${ID}c"), d $(csum_errors "${ID}d")"
vxlan=() kvxlan=() cpp_c=() cpp_d=()
for r in $(seq "$reps"); do
  ctl "$n1_SOCK" stats --clear >/dev/null && ctl "$n2_SOCK" stats --clear >/dev/null
  vxlan+=("$(gbps "vxlan$r" "${ID}c" "${ID}d" "$ip_d")")
  cpp_c+=("$(cpp "$n1_SOCK")") cpp_d+=("$(cpp "$n2_SOCK")")
  kvxlan+=("$(gbps "kvxlan$r" "${ID}p3" "${ID}p4" 10.244.4.2)")
  note_load
done
csum_after+=", c $(csum_errors "${ID}c"), d $(csum_errors "${ID}d")"

echo
echo "| path | TCP Gbit/s median | min / max | × reference | worker cycles/packet (median) |"
echo "| --- | --- | --- | --- | --- |"
ratio() { awk -v a="$(median "$@")" -v b="$REF" 'BEGIN {printf (b > 0 ? "%.2f" : "-"), a / b}'; }
REF=$(median "${veth[@]}")
echo "| kernel pod -> podvsd (tap, 1 worker) -> kernel pod | $(median "${pod[@]}") | $(minmax "${pod[@]}") | $(ratio "${pod[@]}") | $(median "${cpp_pod[@]}") |"
echo "| kernel pod -> podvsd -> ClusterIP -> kernel pod | $(median "${svc[@]}") | $(minmax "${svc[@]}") | $(ratio "${svc[@]}") | $(median "${cpp_svc[@]}") |"
echo "| reference: kernel pod -> veth pair -> kernel pod | $(median "${veth[@]}") | $(minmax "${veth[@]}") | 1 | - |"
REF=$(median "${kvxlan[@]}")
echo "| kernel pod -> podvsd -> VXLAN (af_packet uplinks) -> podvsd -> kernel pod | $(median "${vxlan[@]}") | $(minmax "${vxlan[@]}") | $(ratio "${vxlan[@]}") | $(median "${cpp_c[@]}") / $(median "${cpp_d[@]}") |"
echo "| reference: kernel pod -> Linux node -> VXLAN (flannel.1) -> Linux node -> kernel pod | $(median "${kvxlan[@]}") | $(minmax "${kvxlan[@]}") | 1 | - |"
echo
echo "TcpInCsumErrors/TcpExtTCPCsumErrors per pod (- : not a counter of this kernel):"
echo "  before: $csum_before"
echo "  after:  $csum_after"
moved=$(printf '%s\n%s\n' "$csum_before" "$csum_after" | grep -oE '[0-9]+/|/[0-9]+' | tr -d / | sort -u | grep -vx 0)
[ -z "$moved" ] && echo "  no checksum error on any pod" || fail "checksum errors counted: $moved"
echo
echo "$(nproc) CPUs, ${seconds}s per run, $reps runs each, interleaved with their reference;" \
  "1-minute load average $(minmax "${loads[@]}") over the runs; $(uname -r)"
echo "one node: worker without back-off, pod MTU 1500, veth MTU 1500, offloads on;" \
  "two nodes: pod MTU 1450, underlay MTU 1500 with veth offloads off on both paths," \
  "both daemons' workers on CPU $(( $(nproc) - 1 )) with idle back-off"
finish >/dev/null
