# Helpers for the VXLAN overlay tests, sourced after lib.sh: an underlay (a Linux bridge in its
# own namespace) that podvsd uplinks and kernel "nodes" plug into, captures on that bridge, and
# small readers for podvsctl's JSON. Everything lives in namespaces made with make_netns, so
# lib.sh's cleanup removes it; the uplink veths also go when the underlay namespace does (their
# peers are in it), and overlay_cleanup deletes them explicitly in case that namespace never got
# made.

UL_NS="${ID}ul"
UL_BR=br0
UPLINKS=()

# The underlay's /24 (first three octets, in UL), derived from $ID so that concurrent runs differ,
# and moved on if the host has an address in it: the host kernel sees every underlay frame that
# reaches an uplink veth.
ul_octet=$(( $(printf '%s' "$ID" | cksum | cut -d' ' -f1) % 200 + 20 ))
while ip -4 -o addr show | grep -q " inet 192\.168\.$ul_octet\."; do
  ul_octet=$(( ul_octet % 200 + 21 ))
done
UL=192.168.$ul_octet

overlay_cleanup() {
  local dev
  for dev in "${UPLINKS[@]}"; do ip link del "$dev" 2>/dev/null; done
}
trap 'cleanup; overlay_cleanup' EXIT

# offloads_off IFACE [NETNS]: af_packet on a veth needs checksums done in software and no
# segmentation or aggregation on both ends, else TCP hangs
# (docs/dpdk.md#net_af_packet-uplink-and-its-offloads).
offloads_off() {
  if [ -n "${2:-}" ]; then
    ip netns exec "$2" ethtool -K "$1" tx off tso off gso off gro off >/dev/null
  else
    ethtool -K "$1" tx off tso off gso off gro off >/dev/null
  fi
}

no_ipv6() {  # no_ipv6 NETNS: no router solicitations or MLD reports on the underlay
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

mac_of() {  # mac_of IFACE [NETNS]
  ip ${2:+-n "$2"} -j link show dev "$1" | json_get 'j[0]["address"]'
}

make_underlay() {
  make_netns "$UL_NS" || return 1
  no_ipv6 "$UL_NS"
  ip -n "$UL_NS" link add name "$UL_BR" type bridge &&
    ip -n "$UL_NS" link set "$UL_BR" up
}

# add_uplink IFNAME: a veth whose IFNAME end stays in the host namespace for podvsd's
# net_af_packet port (no address, offloads off, up) and whose peer is a port of the underlay
# bridge. The host's own stack must stay out of the underlay: no IPv6, no ARP replies, and no
# forwarding of what arrives on it (podvsd's frames carry this interface's MAC, so the kernel
# takes them as its own).
add_uplink() {
  local dev=$1 peer="b${1}"
  ip link add name "$dev" type veth peer name "$peer" netns "$UL_NS" || return 1
  UPLINKS+=("$dev")
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" "net.ipv4.conf.$dev.forwarding=0" \
    "net.ipv4.conf.$dev.arp_ignore=8"
  offloads_off "$dev" && offloads_off "$peer" "$UL_NS" || return 1
  ip -n "$UL_NS" link set "$peer" master "$UL_BR" && ip -n "$UL_NS" link set "$peer" up &&
    ip link set "$dev" up
}

# add_underlay_host NETNS IFNAME ADDR/LEN: a kernel host on the underlay (namespace NETNS must
# exist): veth IFNAME in it with the address, its peer a bridge port, offloads off on both.
add_underlay_host() {
  local ns=$1 dev=$2 addr=$3 peer="b${2}"
  ip link add name "$dev" netns "$ns" type veth peer name "$peer" netns "$UL_NS" || return 1
  offloads_off "$dev" "$ns" && offloads_off "$peer" "$UL_NS" || return 1
  ip -n "$UL_NS" link set "$peer" master "$UL_BR" && ip -n "$UL_NS" link set "$peer" up &&
    ip -n "$ns" addr add "$addr" dev "$dev" && ip -n "$ns" link set "$dev" up &&
    ip -n "$ns" link set lo up
}

# capture_start NAME FILTER: tcpdump on the underlay bridge into $WORK/NAME.pcap until
# capture_stop NAME (at most 60 s). Returns once tcpdump listens.
capture_start() {
  timeout 60 ip netns exec "$UL_NS" tcpdump -nn -U --immediate-mode -i "$UL_BR" \
    -w "$WORK/$1.pcap" "$2" 2>"$WORK/$1.tcpdump" &
  local pid=$!
  PIDS+=("$pid")
  printf -v "capture_pid_$1" '%s' "$pid"
  for _ in $(seq 50); do
    grep -q "listening on" "$WORK/$1.tcpdump" && return 0
    sleep 0.1
  done
  log "tcpdump did not start: $(cat "$WORK/$1.tcpdump")"
  return 1
}

# capture_stop NAME [tcpdump flags]: stops the capture and writes $WORK/NAME.txt, one line per
# packet (outer and inner headers joined by " | "), with the checksums tcpdump verifies. tcpdump
# decodes UDP 4789 as VXLAN by itself and then checks the outer UDP checksum ("[no cksum]",
# "[udp sum ok]"); another port needs "-T vxlan", which skips that check.
capture_stop() {
  local var="capture_pid_$1" name=$1
  shift
  sleep 0.3
  kill -INT "${!var}" 2>/dev/null
  wait "${!var}" 2>/dev/null
  tcpdump -nn -vv -e "$@" -r "$WORK/$name.pcap" 2>/dev/null |
    awk '/^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]/ { if (l != "") print l; l = $0; next } { l = l " | " $0 }
         END { if (l != "") print l }' | sed 's/  */ /g' >"$WORK/$name.txt"
}

# captured NAME ERE: the number of packets in capture NAME whose line matches ERE.
captured() { grep -cE "$2" "$WORK/$1.txt"; }

# node_field SOCK NODE FIELD: one field of a remote node in `podvsctl node list`, or "none".
node_field() {
  ctl "$1" --json node list |
    json_get "next((str(n['$3']) for n in j if n['name'] == '$2'), 'none')"
}

# wait_node_state SOCK NODE STATE: the node's neighbour reaches STATE within 5 s.
wait_node_state() {
  local s
  for _ in $(seq 25); do
    s=$(node_field "$1" "$2" neighbour_state)
    [ "$s" = "$3" ] && return 0
    sleep 0.2
  done
  echo "neighbour_state of $2 stayed $s"
  return 1
}

# pod_drops SOCK POD_ID: all drops counted on the pod's port, any reason.
pod_drops() {
  ctl "$1" --json port list |
    json_get "sum(sum(p['drops'].values()) for p in j if p['pod_id'] == '$2')"
}

# pod_drop_reasons SOCK POD_ID: "reason=count ..." on the pod's port (for the log).
pod_drop_reasons() {
  ctl "$1" --json port list |
    json_get "' '.join('%s=%d' % kv for p in j if p['pod_id'] == '$2' for kv in sorted(p['drops'].items()))"
}

# ping_within SECONDS NETNS ARGS...: one ping succeeds within SECONDS (the first packets to a
# new node may be lost while the switch resolves its underlay neighbour).
ping_within() {
  local secs=$1 ns=$2; shift 2
  local end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    ip netns exec "$ns" ping -c 1 -W 1 "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "no reply within ${secs}s: ping $*"
  return 1
}

# iperf NAME CLIENT_NS SERVER_NS SERVER_IP PORT SECONDS [iperf3 client flags...]: one bounded
# iperf3 run, JSON result in $WORK/NAME.json.
iperf() {
  local name=$1 cns=$2 sns=$3 sip=$4 port=$5 secs=$6
  shift 6
  ip netns exec "$sns" timeout $((secs + 20)) iperf3 -s -1 -B "$sip" -p "$port" \
    >"$WORK/$name-server.log" 2>&1 &
  local srv=$!
  PIDS+=("$srv")
  sleep 0.5
  timeout $((secs + 15)) ip netns exec "$cns" iperf3 -c "$sip" -p "$port" -t "$secs" -J "$@" \
    >"$WORK/$name.json"
  local rc=$?
  wait "$srv" 2>/dev/null
  return $rc
}

# iperf_gbps NAME: received TCP throughput of run NAME in Gbit/s (0 when the run failed).
iperf_gbps() {
  json_get '"%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)' 2>/dev/null <"$WORK/$1.json" ||
    echo 0
}

# check_tcp_both_ways NS1 IP1 NS2 IP2 SECONDS: iperf3 TCP from the pod in NS1 to the one in NS2
# (runs tcp12, port 5201) and back (tcp21, 5202), each above 10 Mbit/s, and neither kernel counts
# a checksum error meanwhile: a transfer that completes so carried correct checksums.
check_tcp_both_ways() {
  local ns1=$1 ip1=$2 ns2=$3 ip2=$4 secs=$5 r
  local errors_before
  errors_before="$(csum_errors "$ns1") $(csum_errors "$ns2")"
  check "TCP pod 1 -> pod 2 (iperf3, $secs s)" iperf tcp12 "$ns1" "$ns2" "$ip2" 5201 "$secs"
  check "TCP pod 2 -> pod 1 (iperf3, $secs s)" iperf tcp21 "$ns2" "$ns1" "$ip1" 5202 "$secs"
  log "TCP: pod 1 -> pod 2 $(iperf_gbps tcp12) Gbit/s, pod 2 -> pod 1 $(iperf_gbps tcp21) Gbit/s"
  check_eq "no checksum error counted in either pod" "$errors_before" \
    "$(csum_errors "$ns1") $(csum_errors "$ns2")"
  for r in tcp12 tcp21; do
    check "$r: throughput above 10 Mbit/s" test "$(json_get 'j["end"]["sum_received"]["bits_per_second"] > 1e7' 2>/dev/null <"$WORK/$r.json")" = True
  done
}

# add_kernel_node NODE_NS POD_NS NODE_IP N PORT: a Linux node as flannel's vxlan backend sets it
# up, in namespaces NODE_NS and POD_NS (both must exist): underlay veth k<NODE_NS> with NODE_IP/24,
# flannel.1 (VNI 1, UDP PORT, no learning, MTU 1450, 10.244.N.0/32) and one pod 10.244.N.2/24
# behind a veth whose node end is its gateway 10.244.N.1. Prints nothing; returns non-zero on
# any failure.
add_kernel_node() {
  local kns=$1 pns=$2 nip=$3 n=$4 port=$5
  local dev="k$kns" pdev="p$kns"
  no_ipv6 "$kns" && no_ipv6 "$pns" || return 1
  add_underlay_host "$kns" "$dev" "$nip/24" || return 1
  ip -n "$kns" link add name flannel.1 type vxlan id 1 local "$nip" dev "$dev" dstport "$port" nolearning &&
    ip -n "$kns" link set dev flannel.1 mtu 1450 &&
    ip -n "$kns" addr add "10.244.$n.0/32" dev flannel.1 &&
    ip -n "$kns" link set dev flannel.1 up || return 1
  ip link add name "$pdev" netns "$kns" type veth peer name eth0 netns "$pns" || return 1
  ip -n "$kns" addr add "10.244.$n.1/24" dev "$pdev" && ip -n "$kns" link set dev "$pdev" mtu 1450 up &&
    ip -n "$pns" addr add "10.244.$n.2/24" dev eth0 && ip -n "$pns" link set dev eth0 mtu 1450 up &&
    ip -n "$pns" link set lo up && ip -n "$pns" route add default via "10.244.$n.1" || return 1
  ip netns exec "$kns" sysctl -qw net.ipv4.ip_forward=1
}

# add_kernel_peer NODE_NS PEER_N PEER_VTEP_MAC PEER_NODE_IP: what flanneld programs on a node for
# a peer owning 10.244.PEER_N.0/24: a route via the peer's .0 onlink, that .0's neighbour entry =
# the peer's VTEP MAC, and that MAC's fdb entry = the peer's node IP.
add_kernel_peer() {
  local kns=$1 n=$2 mac=$3 nip=$4
  ip -n "$kns" route add "10.244.$n.0/24" via "10.244.$n.0" dev flannel.1 onlink &&
    ip -n "$kns" neigh add "10.244.$n.0" lladdr "$mac" dev flannel.1 nud permanent &&
    ip netns exec "$kns" bridge fdb append "$mac" dev flannel.1 dst "$nip"
}
