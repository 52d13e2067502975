#!/usr/bin/env bash
# Traffic that leaves the cluster: a pod reaching an address outside cluster_cidr goes out the
# uplink to the underlay gateway with its source masqueraded to the node IP (connection tracked,
# replies translated back), ICMP echo and TCP; the outside host only ever sees the node IP; an
# ICMP error about a masqueraded connection reaches the pod; a no_masquerade_cidrs destination
# does not take that path.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"

u1="u1$ID" gw="${ID}gw" out="o$ID"
make_underlay || exit 1
add_uplink "$u1" || exit 1
# The gateway: a kernel router on the underlay that owns 203.0.113.1 (the "internet" host).
make_netns "$gw" || exit 1
add_underlay_host "$gw" "$out" "$UL.254/24" || exit 1
ip -n "$gw" addr add 203.0.113.1/32 dev lo
# One tap queue per kernel pod (--tap-queues 1): each pod is then received by one known worker,
# which the placement checks rely on (with a queue per worker, the kernel picks one per flow).
start_podvsd n1 --pod-cidr 10.244.1.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" \
  --node-ip "$UL.1/24" --uplink-gateway "$UL.254" --no-masquerade-cidrs 198.51.100.0/24 \
  --workers "$(worker_cpus)" --tap-queues 1 || exit 1
sysctl -qw "net.ipv4.conf.$n1_HOSTPORT.forwarding=0"

make_netns "${ID}p1" || exit 1
ip1=$(add_tap_pod "$n1_SOCK" "p1-$ID" "${ID}p1")
check "pod 1 is in n1's CIDR ($ip1)" matches "$ip1" "10.244.1.*"
other=""
if [ "${WORKERS:-1}" -gt 1 ]; then
  # A pod on another worker than pod 1 (placement goes by load: pods are added until one lands
  # there): whichever worker the uplink hands a reply to, one of the two pods' connections has
  # its directions on different workers.
  for p in p2 p3 p4; do
    make_netns "$ID$p" || exit 1
    add_tap_pod "$n1_SOCK" "$p-$ID" "$ID$p" >/dev/null
    [ "$(port_worker "$n1_SOCK" "$p-$ID")" != "$(port_worker "$n1_SOCK" "p1-$ID")" ] && other=$p
    [ -n "$other" ] && break
  done
  check "a pod on another worker than pod 1 (${other:-none})" test -n "$other"
fi

capture_start mq "host 203.0.113.1" || exit 1
check "ping pod -> 203.0.113.1 (outside the cluster) within 5 s" ping_within 5 "${ID}p1" 203.0.113.1
check "ping pod -> 203.0.113.1" ip netns exec "${ID}p1" ping -c 3 -i 0.2 -W 2 203.0.113.1

if [ -n "$other" ]; then
  check "ping $other (the other worker) -> 203.0.113.1" \
    ip netns exec "$ID$other" ping -c 3 -i 0.2 -W 2 203.0.113.1
fi

# TCP: a server on the outside host reports the peer address it sees.
ip netns exec "$gw" timeout 20 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.1", 8080)); s.listen(1)
c, peer = s.accept(); data = c.recv(100); c.sendall(b"seen " + peer[0].encode() + b" " + data)
c.close()' >/dev/null 2>&1 &
PIDS+=("$!")
sleep 0.5
answer=$(ip netns exec "${ID}p1" timeout 10 python3 -c '
import socket
s = socket.create_connection(("203.0.113.1", 8080), timeout=5); s.sendall(b"hello")
print(s.recv(100).decode())')
check_eq "TCP pod -> outside: the outside host sees the node IP, the pod gets the answer" \
  "seen $UL.1 hello" "$answer"
capture_stop mq
check "underlay: echo requests to 203.0.113.1 carry the node IP as source" \
  test "$(captured mq "$(printf '%s' "$UL.1" | sed 's/\./\\./g') > 203\.0\.113\.1: ICMP echo request")" -ge 3
check_eq "underlay: the pod's own address never appears" 0 "$(captured mq "$ip1")"

# An ICMP error about a masqueraded connection: UDP to a closed port of the outside host.
err=$(ip netns exec "${ID}p1" timeout 5 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(("203.0.113.1", 9)); s.send(b"x")
try:
    s.recv(10); print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")')
check_eq "UDP to a closed outside port: the port-unreachable reaches the pod" refused "$err"

# A no-masquerade destination does not go out the uplink masqueraded: it goes to the host port,
# where nothing routes it here, so it gets no answer and no conntrack entry shows on the wire.
capture_start nm "host 198.51.100.7" || exit 1
ip netns exec "${ID}p1" ping -c 2 -W 1 198.51.100.7 >/dev/null 2>&1
capture_stop nm
check_eq "no_masquerade_cidrs: nothing to 198.51.100.7 leaves the uplink" 0 \
  "$(captured nm '198\.51\.100\.7')"

log "pod 1 drops: $(pod_drop_reasons "$n1_SOCK" "p1-$ID")"
check_all_workers_busy "$n1_SOCK"
finish
