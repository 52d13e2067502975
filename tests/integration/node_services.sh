#!/usr/bin/env bash
# podvs in place of kube-proxy, seen from the node: with service_cidr podvsd routes the Service
# network to its host port (moved with the pod CIDR, gone when it stops), so the node's own stack
# reaches a ClusterIP whose endpoint is a kernel pod; a `kubernetes`-like Service whose endpoint is
# a server on one of the node's own addresses (outside the pod and cluster CIDRs) answers a pod
# and the node; external IPs are balanced like the ClusterIP with both traffic policies, from a pod
# and from the node; a NodePort still answers; admission refuses a ClusterIP outside service_cidr
# and the external IP conflicts, each with its sentence.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/services_lib.sh"

SVC_CIDR=10.199.0.0/16  # a range no other test routes in the root namespace
octet=$(( 0x$(printf '%s' "$ID" | md5sum | cut -c1-2) % 200 + 20 ))
POD_CIDR=10.244.$octet.0/24 MOVED_CIDR=10.245.$octet.0/24
API_IP=192.0.2.$octet  # the "API server": an address of the node's own stack, on a veth
EXT_IP=203.0.113.$octet

start_podvsd n1 --conntrack-entries 65536 --workers "$(($(nproc) - 1))" --pod-cidr "$MOVED_CIDR" \
  --service-cidr "$SVC_CIDR" || exit 1
route() { ip -4 route show "$SVC_CIDR"; }
check "service_cidr is routed to the host port via the pods' gateway (got '$(route)')" \
  matches "$(route)" "$SVC_CIDR via 169.254.1.1 dev $n1_HOSTPORT * src 10.245.$octet.1 *"
# podvs-agent hands over the Node's real pod CIDR: the route follows the host IP.
check "set-pod-cidr $POD_CIDR" ctl "$n1_SOCK" node set-pod-cidr "$POD_CIDR"
check "the route moved with the pod CIDR (got '$(route)')" \
  matches "$(route)" "$SVC_CIDR via 169.254.1.1 dev $n1_HOSTPORT * src 10.244.$octet.1 *"
host_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')

for p in c s1; do make_netns "$ID$p" || exit 1; done
ip_c=$(add_tap_pod "$n1_SOCK" "c-$ID" "${ID}c")
ip_s1=$(add_tap_pod "$n1_SOCK" "s1-$ID" "${ID}s1")
start_server "${ID}s1" s1 || exit 1
log "client $ip_c, server $ip_s1, host IP $host_ip, API server $API_IP, external IP $EXT_IP"

# --- The node reaches a ClusterIP (and a pod still reaches it, and the NodePort still answers).
WEB=10.199.0.10
check "service add web (tcp 80->8080, NodePort 30080)" \
  svc_add "$n1_SOCK" "default/web-$ID" --cluster-ip $WEB --port tcp:80:8080:30080 --endpoint "$ip_s1"
answer=$(timeout 20 python3 "$SVC_PY" ask $WEB 80)
check_eq "the node reaches ClusterIP $WEB:80; the pod sees the node's host IP" "s1 8080 $host_ip" "$answer"
answer=$(in_ns "${ID}c" ask $WEB 80)
check_eq "a pod reaches ClusterIP $WEB:80 with its own address" "s1 8080 $ip_c" "$answer"
answer=$(in_ns "${ID}c" ask "$host_ip" 30080)
check_eq "a pod reaches NodePort $host_ip:30080 (Cluster policy: the host IP as source)" \
  "s1 8080 $host_ip" "$answer"
out=$(ctl "$n1_SOCK" service add "default/out-$ID" --cluster-ip 10.96.0.10 --port tcp:80 2>&1)
check "a ClusterIP outside service_cidr is refused with its reason (got '$out')" matches "$out" \
  "*cluster_ip 10.96.0.10 is outside the service CIDR $SVC_CIDR (service_cidr, Kubernetes' --service-cluster-ip-range): the node routes only that range to podvs*"

# --- The kubernetes Service: its endpoint is a server on an address of the node's own stack.
node_address "$API_IP" || exit 1
mkdir -p "$WORK/www" && echo "api server $ID" >"$WORK/www/version"
(cd "$WORK/www" && exec python3 -m http.server --bind "$API_IP" 6443) >"$WORK/api.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do ss -Hltn "sport = :6443" | grep -q "$API_IP" && break; sleep 0.1; done
KUBE=10.199.0.1
check "service add kubernetes (tcp 443->6443, endpoint $API_IP)" \
  svc_add "$n1_SOCK" "default/kubernetes-$ID" --cluster-ip $KUBE --port https=tcp:443:6443 \
  --endpoint "$API_IP"
got=$(ip netns exec "${ID}c" curl -s -m 10 "http://$KUBE:443/version")
check_eq "a pod reaches the kubernetes Service's endpoint on the node" "api server $ID" "$got"
check "the API server saw the pod's own address" grep -q "^$ip_c - .*GET /version" "$WORK/api.log"
got=$(curl -s -m 10 "http://$KUBE:443/version")
check_eq "the node reaches the kubernetes Service's endpoint on itself" "api server $ID" "$got"
check "the API server saw the gateway address (the node's own would be a martian)" \
  grep -q "^169.254.1.1 - .*GET /version" "$WORK/api.log"

# --- External IPs: balanced like the ClusterIP, with the external traffic policy.
EXT=10.199.0.20
check "service add ext (external IP $EXT_IP, tcp 80->8080, policy cluster)" \
  svc_add "$n1_SOCK" "default/ext-$ID" --cluster-ip $EXT --external-ip "$EXT_IP" --port tcp:80:8080 \
  --endpoint "$ip_s1"
check_eq "service list shows the external IP" "$EXT_IP" \
  "$(ctl "$n1_SOCK" --json service list | json_get '",".join(ip for s in j if s["name"] == "ext-'"$ID"'" for ip in s["external_ips"])')"
answer=$(in_ns "${ID}c" ask "$EXT_IP" 80)
check_eq "a pod reaches external IP $EXT_IP:80 (Cluster policy: the host IP as source)" \
  "s1 8080 $host_ip" "$answer"
# A load balancer routes its IP to the node: here the node's own route, via the pods' gateway.
ip route add "$EXT_IP/32" via 169.254.1.1 dev "$n1_HOSTPORT"
answer=$(timeout 20 python3 "$SVC_PY" ask "$EXT_IP" 80)
check_eq "the node reaches external IP $EXT_IP:80" "s1 8080 $host_ip" "$answer"
check "service add ext again with policy local" \
  svc_add "$n1_SOCK" "default/ext-$ID" --cluster-ip $EXT --external-ip "$EXT_IP" --port tcp:80:8080 \
  --endpoint "$ip_s1" --external-traffic-policy local
answer=$(in_ns "${ID}c" ask "$EXT_IP" 80)
check_eq "Local policy: the endpoint sees the client pod's own address" "s1 8080 $ip_c" "$answer"
answer=$(in_ns "${ID}c" ask $EXT 80)
check_eq "the ClusterIP of the same Service still answers" "s1 8080 $ip_c" "$answer"

out=$(ctl "$n1_SOCK" service add "default/clash-$ID" --cluster-ip 10.199.0.21 --external-ip "$EXT_IP" \
  --port tcp:80 2>&1)
check "a second Service on external IP $EXT_IP:80 is refused (got '$out')" matches "$out" \
  "*external_ips\[0\] $EXT_IP port 80/tcp is already served by service default/ext-$ID*"
out=$(ctl "$n1_SOCK" service add "default/clash-$ID" --cluster-ip 10.199.0.21 --external-ip $WEB \
  --port tcp:81 2>&1)
check "an external IP that is another Service's ClusterIP is refused (got '$out')" matches "$out" \
  "*external_ips\[0\] $WEB is the cluster_ip of service default/web-$ID*"
check "another port of the same external IP is another Service's to take" \
  svc_add "$n1_SOCK" "default/clash-$ID" --cluster-ip 10.199.0.21 --external-ip "$EXT_IP" \
  --port tcp:81:8081 --endpoint "$ip_s1"
answer=$(in_ns "${ID}c" ask "$EXT_IP" 81)
check_eq "external IP $EXT_IP:81 reaches the other Service" "s1 8081 $host_ip" "$answer"

[ "$FAILED" -eq 0 ] || evidence "$n1_SOCK"

# --- Stopping podvsd takes the route with the host port.
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
check_eq "after podvsd stopped, no route to $SVC_CIDR is left" "" "$(route)"

finish
