#!/usr/bin/env bash
# podvs-agent in place of kube-proxy, seen from the node and from the API server's side: the test
# API server listens on an address of the node's own stack (as a control-plane node's
# kube-apiserver does), the agent reaches it there, and programs from the API objects alone:
# - the `kubernetes` Service (port 443, its EndpointSlice naming the API server's real address and
#   port): a pod reaches the API server through the ClusterIP with TLS (the certificate names the
#   ClusterIP, as kube-apiserver's does) and the bearer token, as in-cluster clients do; the node's
#   own stack reaches it too;
# - a Service whose endpoint is a kernel pod: the node's own stack reaches its ClusterIP
#   (service_cidr routes the Service network to the switch).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/services_lib.sh"
source "$(dirname "$0")/agent_lib.sh"

octet=$(( 0x$(printf '%s' "$ID" | md5sum | cut -c1-2) % 200 + 20 ))
SVC_CIDR=10.198.0.0/16  # a range no other test routes in the root namespace
KUBE=10.198.0.1 WEB=10.198.0.10
API_IP=192.0.2.$octet  # an address of the node's own stack, on a veth end

node_address "$API_IP" || exit 1

API_BIND=$API_IP API_SANS=$KUBE start_apiserver || exit 1
start_podvsd n1 --conntrack-entries 65536 --workers "$(worker_cpus)" --pod-cidr "$(pod_cidrs 1)" \
  --service-cidr "$SVC_CIDR" || exit 1
host_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
for p in c s1; do make_netns "$ID$p" || exit 1; done
ip_c=$(add_tap_pod "$n1_SOCK" "c-$ID" "${ID}c")
ip_s1=$(add_tap_pod "$n1_SOCK" "s1-$ID" "${ID}s1")
start_server "${ID}s1" s1 || exit 1
log "client $ip_c, server $ip_s1, host IP $host_ip, API server $API"

write_kubeconfig "$WORK/kubeconfig"
"$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "node-a-$ID" --socket "$n1_SOCK" \
  --metrics-listen "" >"$WORK/agent.log" 2>&1 &
PIDS+=("$!")
synced() { grep -q "services synced with podvsd" "$WORK/agent.log"; }
check "the agent synced its Services with podvsd over the API server at $API" wait_for 15 synced

# --- The kubernetes Service, as kube-apiserver writes it: targetPort 6443, while the slice names
# the port the server really listens on (the port is matched by name, the slice's number wins).
put services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default","labels":{"component":"apiserver","provider":"kubernetes"}},"spec":{"type":"ClusterIP","clusterIP":"'$KUBE'","clusterIPs":["'$KUBE'"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster","sessionAffinity":"None","ports":[{"name":"https","protocol":"TCP","port":443,"targetPort":6443}]},"status":{"loadBalancer":{}}}'
put endpointslices '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kubernetes","namespace":"default","labels":{"kubernetes.io/service-name":"kubernetes","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},"addressType":"IPv4","endpoints":[{"addresses":["'$API_IP'"],"conditions":{"ready":true}}],"ports":[{"name":"https","protocol":"TCP","port":'$api_port'}]}'
kube_endpoint() {
  ctl "$n1_SOCK" --json service list |
    json_get "' '.join('%s:%d' % (e['ip'], p['port']) for s in j if s['name'] == 'kubernetes' for e in s['endpoints'] for p in e['ports'])"
}
kube_programmed() { [ "$(kube_endpoint)" = "$API_IP:$api_port" ]; }
check "podvsd serves default/kubernetes with endpoint $API_IP:$api_port (the slice's port)" \
  wait_for 5 kube_programmed

# In-cluster clients find the API server at the kubernetes Service's ClusterIP and check its
# certificate against the cluster's CA.
list_nodes() {  # list_nodes [NETNS]: the API's answer to GET /api/v1/nodes through the ClusterIP
  ${1:+ip netns exec "$1"} curl -s -m 10 --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" \
    "https://$KUBE/api/v1/nodes" | json_get 'j.get("kind", "")'
}
check_eq "a pod lists Nodes through https://$KUBE (TLS and token checked)" NodeList \
  "$(list_nodes "${ID}c")"
seen_from() {  # seen_from IP: requests for /api/v1/nodes the API server received from IP
  curl -s "$C/log" | json_get "sum(1 for r in j if r['remote'] == '$1' and r['path'] == '/api/v1/nodes')"
}
check "the API server saw the pod's own address ($(seen_from "$ip_c") request)" test "$(seen_from "$ip_c")" -eq 1
check_eq "the node lists Nodes through https://$KUBE" NodeList "$(list_nodes)"
check "the API server saw the pods' gateway address (the node's own would be a martian)" \
  test "$(seen_from 169.254.1.1)" -eq 1
got=$(ip netns exec "${ID}c" curl -s -m 10 --cacert "$pki/ca.crt" "https://$KUBE/api/v1/nodes" |
  json_get 'j.get("code", "")')
check_eq "without the token the API server answers 401 through the ClusterIP" 401 "$got"

# --- A Service whose endpoint is a pod: the node's own stack reaches its ClusterIP.
put services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"type":"ClusterIP","clusterIP":"'$WEB'","clusterIPs":["'$WEB'"],"ipFamilies":["IPv4"],"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":"http"}]},"status":{"loadBalancer":{}}}'
put endpointslices '{"metadata":{"name":"web-x1","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","endpoints":[{"addresses":["'$ip_s1'"],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-a-'$ID'"}],"ports":[{"name":"http","protocol":"TCP","port":8080}]}'
web_programmed() {
  ctl "$n1_SOCK" --json service list | json_get "any(s['name'] == 'web' and s['endpoints'] for s in j) or sys.exit(1)"
}
check "podvsd serves default/web" wait_for 5 web_programmed
answer=$(timeout 20 python3 "$SVC_PY" ask $WEB 80)
check_eq "the node reaches ClusterIP $WEB:80; the pod sees the node's host IP" "s1 8080 $host_ip" "$answer"
answer=$(in_ns "${ID}c" ask $WEB 80)
check_eq "a pod reaches ClusterIP $WEB:80 with its own address" "s1 8080 $ip_c" "$answer"

[ "$FAILED" -eq 0 ] || { evidence "$n1_SOCK"; tail -20 "$WORK/agent.log"; }
finish
