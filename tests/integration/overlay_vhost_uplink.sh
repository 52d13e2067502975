#!/usr/bin/env bash
# Two podvs nodes whose uplinks are vhost-user ports (uplink_vhost_socket), joined by a user-space
# underlay: dpdk-testpmd with two virtio-user ports in server mode, forwarding each port's frames
# to the other (io mode), as a host's user-space switch would. podvsd connects to its socket as
# client. Checked: the VTEP MAC derived from the node IP, ARP between the nodes through the
# vhost-user rings, pods on the two nodes ping and carry TCP with correct checksums (the uplink
# negotiates no offloads, so podvs segments and finishes checksums before encapsulating), the
# uplink's counters, and that the nodes reconnect when the underlay process restarts. With
# WORKERS=2 the underlay offers two queue pairs: both are polled, by different workers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"

TESTPMD=$(command -v dpdk-testpmd) || { log "dpdk-testpmd missing"; exit 1; }
QUEUES=${WORKERS:-1}
s1="$WORK/ul1.sock" s2="$WORK/ul2.sock"

start_underlay() {
  # Main and forwarding lcore share CPU 0; the podvsd workers have the last CPU. --stats-period
  # keeps testpmd running without a terminal. A virtio-user server waits for its client before
  # the next port is probed: testpmd is up once both nodes connected (podvsd keeps retrying).
  "$TESTPMD" --lcores=0@0,1@0 --no-pci --in-memory --single-file-segments \
    --file-prefix="ul$ID" --log-level=4 \
    --vdev="net_virtio_user0,path=$s1,server=1,queues=$QUEUES" \
    --vdev="net_virtio_user1,path=$s2,server=1,queues=$QUEUES" -- \
    --forward-mode=io --auto-start --stats-period=60 --total-num-mbufs=4096 \
    --nb-cores=1 --rxq="$QUEUES" --txq="$QUEUES" --txd=256 --rxd=256 >>"$WORK/testpmd.log" 2>&1 &
  UNDERLAY_PID=$!
  PIDS+=("$UNDERLAY_PID")
}
stop_underlay() { kill -INT "$UNDERLAY_PID"; wait "$UNDERLAY_PID" 2>/dev/null; }

uplink_field() {  # uplink_field SOCK FIELD: a field of the uplink in `port list`
  ctl "$1" --json port list | json_get "[p['$2'] for p in j if p['kind'] == 'uplink'][0]"
}
wait_uplink() {  # wait_uplink SOCK STATE: the uplink's link reaches STATE within 20 s
  for _ in $(seq 200); do
    [ "$(uplink_field "$1" link)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "uplink link is $(uplink_field "$1" link), not $2"
  return 1
}

start_underlay
nodes=(--cluster-cidr 10.244.0.0/16 --workers "$(worker_cpus)")
start_podvsd n1 --pod-cidr 10.244.1.0/24 --uplink-vhost-socket "$s1" --node-ip "$UL.1/24" \
  "${nodes[@]}" || exit 1
start_podvsd n2 --pod-cidr 10.244.2.0/24 --uplink-vhost-socket "$s2" --node-ip "$UL.2/24" \
  --vxlan-udp-checksum "${nodes[@]}" || exit 1
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
check "n1's vhost-user uplink connects to the underlay" wait_uplink "$n1_SOCK" up
check "n2's vhost-user uplink connects to the underlay" wait_uplink "$n2_SOCK" up

# 0a:58 and the node IP's four bytes.
mac_for() { printf '0a:58:%02x:%02x:%02x:%02x' ${1//./ }; }
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
vtep2=$(ctl "$n2_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
check_eq "n1's VTEP MAC is 0a:58 and its node IP" "$(mac_for "$UL.1")" "$vtep1"
check_eq "n2's VTEP MAC is 0a:58 and its node IP" "$(mac_for "$UL.2")" "$vtep2"
check_eq "n1's uplink is its vhost-user port" vhost_uplink "$(uplink_field "$n1_SOCK" name)"

check "n1: node add n2" ctl "$n1_SOCK" node add --name n2 --pod-cidr 10.244.2.0/24 --node-ip "$UL.2" --vtep-mac "$vtep2"
check "n2: node add n1" ctl "$n2_SOCK" node add --name n1 --pod-cidr 10.244.1.0/24 --node-ip "$UL.1" --vtep-mac "$vtep1"
for p in p1 p2; do make_netns "$ID$p"; done
ip1=$(add_tap_pod "$n1_SOCK" "p1-$ID" "${ID}p1")
ip2=$(add_tap_pod "$n2_SOCK" "p2-$ID" "${ID}p2")
check_eq "pod 1's eth0 MTU is the uplink's minus 50" 1450 \
  "$(ip -n "${ID}p1" -j link show dev eth0 | json_get 'j[0]["mtu"]')"

check "ping pod 1 -> pod 2 (first reply within 10 s: ARP through the underlay first)" \
  ping_within 10 "${ID}p1" "$ip2"
check "ping pod 1 -> pod 2" ip netns exec "${ID}p1" ping -c 3 -i 0.2 -W 2 "$ip2"
check "ping pod 2 -> pod 1" ip netns exec "${ID}p2" ping -c 3 -i 0.2 -W 2 "$ip1"
check "DF ping of 1450 bytes pod 1 -> pod 2 (a full underlay frame)" \
  ip netns exec "${ID}p1" ping -M "do" -s 1422 -c 2 -i 0.2 -W 2 "$ip2"
check "n1 resolved n2's node IP over ARP: REACHABLE" wait_node_state "$n1_SOCK" n2 REACHABLE
check "n2 resolved n1's node IP over ARP: REACHABLE" wait_node_state "$n2_SOCK" n1 REACHABLE
check_eq "n1's next-hop MAC for n2 is n2's VTEP MAC" "$vtep2" \
  "$(node_field "$n1_SOCK" n2 next_hop_mac | tr A-F a-f)"

check_tcp_both_ways "${ID}p1" "$ip1" "${ID}p2" "$ip2" 2
for n in n1 n2; do
  sock_var="${n}_SOCK"
  counts=$(ctl "${!sock_var}" --json port list |
    json_get "[(p['rx_packets'], p['tx_packets']) for p in j if p['kind'] == 'uplink'][0]")
  log "$n uplink rx, tx packets: $counts"
  check "$n's uplink counted more than 1000 frames each way" \
    test "$(echo "$counts" | tr -d '(),' | awk '{print ($1 > 1000 && $2 > 1000)}')" = 1
done

if [ "$QUEUES" -gt 1 ]; then
  # The underlay enabled both queue pairs: each is polled, by different workers (placed by load).
  check "n1 polls both queues of its uplink" sh -c \
    "for i in \$(seq 50); do [ \"\$('$PODVSCTL' --socket '$n1_SOCK' --json port list | python3 -c 'import json,sys; print(sorted(w for p in json.load(sys.stdin) if p[\"kind\"] == \"uplink\" for w in p[\"queue_workers\"]))')\" = '[0, 1]' ] && exit 0; sleep 0.1; done; exit 1"
  grep -q "port uplink: rx queue 1 enabled" "$WORK/n1/log" &&
    pass "n1 logged its uplink's second rx queue" || fail "n1 did not log its uplink's rx queue 1"
fi

announced() {  # announced SOCK N: the node has sent N gratuitous ARPs
  local n
  n=$(ctl "$1" --json status | json_get 'j["uplink_announcements"]')
  [ "$n" = "$2" ] || { echo "announcements: $n, wanted $2"; return 1; }
}
check "n1 announced its node IP once, when its uplink came up" wait_for 5 announced "$n1_SOCK" 1

# The underlay process restarts: the uplinks go down, reconnect on their own, and traffic flows.
stop_underlay
check "n1's uplink is down while the underlay is gone" wait_uplink "$n1_SOCK" down
check "ping pod 1 -> pod 2 fails without the underlay" \
  sh -c "! ip netns exec ${ID}p1 ping -c 2 -i 0.2 -W 1 $ip2"
start_underlay
check "n1's uplink reconnects" wait_uplink "$n1_SOCK" up
check "n2's uplink reconnects" wait_uplink "$n2_SOCK" up
check "n1 announced its node IP again on reconnecting" wait_for 5 announced "$n1_SOCK" 2
grep -q "uplink vhost_uplink: link up, announced $UL.1" "$WORK/n1/log" &&
  pass "n1 logged its announcement" || fail "n1 did not log its announcement"
check "ping pod 1 -> pod 2 after the underlay restarts (within 10 s)" ping_within 10 "${ID}p1" "$ip2"
check "ping pod 2 -> pod 1 after the underlay restarts" ip netns exec "${ID}p2" ping -c 3 -i 0.2 -W 2 "$ip1"
stop_underlay
check "n1 and n2 still run the same processes" kill -0 "$n1_PID" "$n2_PID"
finish
