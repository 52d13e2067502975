#!/usr/bin/env bash
# Services across two podvs nodes on a VXLAN overlay, with an outside host behind the underlay
# gateway (as in overlay_two_nodes.sh and overlay_masquerade.sh). Services are programmed on n1
# only; n2 needs none. A pod on n1 reaches a ClusterIP whose endpoint is a pod on n2 and that pod
# sees the client's own address; the outside host reaches n1's node IP:NodePort: with
# externalTrafficPolicy Cluster and the endpoint on n2 the backend sees n1's host IP (the reply
# must come back through n1), with Local only n1's endpoint is used and it sees the outside host;
# external IPs routed to n1 by the gateway behave the same way.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"
source "$(dirname "$0")/services_lib.sh"

u1="u1$ID" u2="u2$ID" gw="${ID}gw" out="o$ID" OUTSIDE=203.0.113.1
make_underlay || exit 1
add_uplink "$u1" && add_uplink "$u2" || exit 1
# The gateway: a kernel router on the underlay that owns $OUTSIDE (the "internet" host).
make_netns "$gw" || exit 1
no_ipv6 "$gw"
add_underlay_host "$gw" "$out" "$UL.254/24" || exit 1
ip -n "$gw" addr add $OUTSIDE/32 dev lo
# One tap queue per kernel pod (--tap-queues 1): each pod is then received by one known worker,
# which the placement checks rely on (with a queue per worker, the kernel picks one per flow).
common=(--cluster-cidr 10.244.0.0/16 --uplink-gateway "$UL.254" --conntrack-entries 65536
  --workers "$(worker_cpus)" --tap-queues 1)
start_podvsd n1 --pod-cidr 10.244.1.0/24 --uplink-interface "$u1" --node-ip "$UL.1/24" "${common[@]}" || exit 1
start_podvsd n2 --pod-cidr 10.244.2.0/24 --uplink-interface "$u2" --node-ip "$UL.2/24" "${common[@]}" || exit 1
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
vtep2=$(ctl "$n2_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
host1=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
check "n1: node add n2" ctl "$n1_SOCK" node add --name n2 --pod-cidr 10.244.2.0/24 --node-ip "$UL.2" --vtep-mac "$vtep2"
check "n2: node add n1" ctl "$n2_SOCK" node add --name n1 --pod-cidr 10.244.1.0/24 --node-ip "$UL.1" --vtep-mac "$vtep1"

for p in a1 a2 b1; do make_netns "$ID$p" || exit 1; done
ip_a1=$(add_tap_pod "$n1_SOCK" "a1-$ID" "${ID}a1")
ip_a2=$(add_tap_pod "$n1_SOCK" "a2-$ID" "${ID}a2")
ip_b1=$(add_tap_pod "$n2_SOCK" "b1-$ID" "${ID}b1")
start_server "${ID}a2" a2 && start_server "${ID}b1" b1 || exit 1
log "underlay $UL.0/24; n1: client a1 $ip_a1, server a2 $ip_a2, host IP $host1; n2: server b1 $ip_b1"
check_apart "$n1_SOCK" "a1-$ID" "a2-$ID"
check "ping a1 (n1) -> b1 (n2) over the overlay (first reply within 5 s)" ping_within 5 "${ID}a1" "$ip_b1"

CIP=10.96.1.10 NPC=10.96.1.11 NPL=10.96.1.12
check "n1: service add default/remote (tcp 80->8080, udp 53->5353, endpoint b1 on n2)" \
  svc_add "$n1_SOCK" "default/remote-$ID" --cluster-ip $CIP --port tcp:80:8080 --port udp:53:5353 \
  --endpoint "$ip_b1"
check "n1: service add default/np-cluster (tcp 80->8080, NodePort 30080, endpoint b1 on n2)" \
  svc_add "$n1_SOCK" "default/np-cluster-$ID" --cluster-ip $NPC --port tcp:80:8080:30080 \
  --endpoint "$ip_b1" --external-traffic-policy cluster
check "n1: service add default/np-local (tcp 80->8080, NodePort 30081, endpoints a2 on n1 and b1 on n2, Local)" \
  svc_add "$n1_SOCK" "default/np-local-$ID" --cluster-ip $NPL --port tcp:80:8081:30081 \
  --endpoint "$ip_a2" --endpoint "$ip_b1" --external-traffic-policy local
check_eq "n2 has no Services" 0 "$(ctl "$n2_SOCK" --json service list | json_get 'len(j)')"

# --- ClusterIP on n1, endpoint on n2: DNAT on n1, VXLAN to n2, the reply untranslated on n1.
# Captured on the underlay and in both pods: the ClusterIP must never reach the wire (a pod's
# packet to it is balanced before routing, not masqueraded out to the gateway like other
# addresses outside the cluster CIDR).
capture_start cip "not arp" || exit 1
pod_caps=()
for p in a1 b1; do
  ip netns exec "$ID$p" tcpdump -nn -U -i eth0 -w "$WORK/pod-$p.pcap" not arp 2>"$WORK/pod-$p.tcpdump" &
  PIDS+=("$!") pod_caps+=("$!")
done
sleep 0.5
answer=$(in_ns "${ID}a1" ask $CIP 80)
check_eq "a1 on n1 reaches ClusterIP $CIP:80 served by b1 on n2, which sees a1's own IP" \
  "b1 8080 $ip_a1" "$answer"
answer=$(in_ns "${ID}a1" udp $CIP 53)
check_eq "UDP: a1 reaches $CIP:53 served by b1 on n2; the answer comes from the ClusterIP" \
  "$CIP:53 b1 5353 $ip_a1" "$answer"
capture_stop cip
kill -INT "${pod_caps[@]}" 2>/dev/null
wait "${pod_caps[@]}" 2>/dev/null
check_eq "underlay: the ClusterIP $CIP never appears on the wire (VXLAN carries b1's address)" 0 \
  "$(captured cip "$(printf '%s' "$CIP" | sed 's/\./\\./g')")"
check "underlay: VXLAN from n1 to n2 carries a1 -> b1:8080" \
  test "$(captured cip "$(printf '%s' "$ip_a1" | sed 's/\./\\./g')\.[0-9]+ > $(printf '%s' "$ip_b1" | sed 's/\./\\./g')\.8080:")" -ge 1
if [ "$FAILED" -ne 0 ]; then
  log "evidence: the underlay during the ClusterIP checks:"; head -8 "$WORK/cip.txt" | sed 's/^/    /'
  for p in a1 b1; do
    log "evidence: tcpdump in pod $p:"; tcpdump -nn -r "$WORK/pod-$p.pcap" 2>/dev/null | head -8 | sed 's/^/    /'
  done
fi
many=$(in_ns "${ID}a1" many $CIP 80 50)
check_eq "50 connections a1 -> $CIP:80 all answered by b1" "b1=50" "$(name_counts "$many")"

# --- NodePort, externalTrafficPolicy Cluster, endpoint on n2: the outside host connects to n1's
# node IP; n1 translates source and destination (to its host IP and b1), so b1's reply returns
# through n1. The first attempt may meet an unresolved gateway or neighbour: up to 5 s.
ok=0
for _ in $(seq 5); do
  answer=$(in_ns "$gw" ask "$UL.1" 30080 --src $OUTSIDE)
  matches "$answer" "b1 8080 *" && { ok=1; break; }
  sleep 0.5
done
check "NodePort Cluster: the outside host $OUTSIDE reaches $UL.1:30080, served by b1 on n2 (got '$answer')" \
  test $ok = 1
check_eq "NodePort Cluster: b1 sees n1's host IP as source" "$host1" "$(awk '{print $3}' <<<"$answer")"
many=$(in_ns "$gw" many "$UL.1" 30080 20 2>&1)
check_eq "NodePort Cluster: 20 more connections from outside all answered by b1" "b1=20" "$(name_counts "$many")"

# --- NodePort, externalTrafficPolicy Local: only n1's own endpoint (a2) takes outside
# connections, and it sees the outside host's address.
ok=0
for _ in $(seq 5); do
  answer=$(in_ns "$gw" ask "$UL.1" 30081 --src $OUTSIDE)
  matches "$answer" "a2 8081 *" && { ok=1; break; }
  sleep 0.5
done
check "NodePort Local: the outside host reaches $UL.1:30081, served by a2 on n1 (got '$answer')" \
  test $ok = 1
check_eq "NodePort Local: a2 sees the outside host's IP as source" "$OUTSIDE" "$(awk '{print $3}' <<<"$answer")"
many=$(cd "$WORK" && ip netns exec "$gw" timeout 60 python3 -c "
import json, socket
names = {}
for _ in range(20):
    s = socket.create_connection(('$UL.1', 30081), timeout=2, source_address=('$OUTSIDE', 0))
    line = s.makefile().readline().split()
    names['%s %s' % (line[0], line[2])] = names.get('%s %s' % (line[0], line[2]), 0) + 1
    s.close()
print(' '.join('%s=%d' % kv for kv in sorted(names.items())))" 2>&1)
check_eq "NodePort Local: 20 more connections from outside all reach a2, which sees $OUTSIDE" \
  "a2 $OUTSIDE=20" "$many"

# --- External IPs from outside: the gateway routes them to n1's node IP, as a load balancer or a
# router in front of the cluster would. Local: only a2 on n1, which sees the outside host;
# Cluster: b1 on n2, which sees n1's host IP (its reply must come back through n1).
EXT_L=198.51.100.10 EXT_C=198.51.100.11
ip -n "$gw" route add $EXT_L/32 via "$UL.1" && ip -n "$gw" route add $EXT_C/32 via "$UL.1"
check "n1: service add default/ext-local (external IP $EXT_L, tcp 80->8081, endpoints a2 and b1, Local)" \
  svc_add "$n1_SOCK" "default/ext-local-$ID" --cluster-ip 10.96.1.13 --external-ip $EXT_L \
  --port tcp:80:8081 --endpoint "$ip_a2" --endpoint "$ip_b1" --external-traffic-policy local
check "n1: service add default/ext-cluster (external IP $EXT_C, tcp 80->8080, endpoint b1 on n2)" \
  svc_add "$n1_SOCK" "default/ext-cluster-$ID" --cluster-ip 10.96.1.14 --external-ip $EXT_C \
  --port tcp:80:8080 --endpoint "$ip_b1"
answer=$(in_ns "$gw" ask $EXT_L 80 --src $OUTSIDE)
check_eq "External IP Local: the outside host reaches $EXT_L:80, served by a2, which sees it" \
  "a2 8081 $OUTSIDE" "$answer"
answer=$(in_ns "$gw" ask $EXT_C 80 --src $OUTSIDE)
check_eq "External IP Cluster: the outside host reaches $EXT_C:80, served by b1 on n2, which sees n1's host IP" \
  "b1 8080 $host1" "$answer"

check_all_workers_busy "$n1_SOCK"
if [ "$FAILED" -ne 0 ]; then
  evidence "$n1_SOCK"
  log "n2 drops:"; ctl "$n2_SOCK" drops 2>&1 | sed 's/^/    /'
fi
finish
