#!/usr/bin/env bash
# Two podvs nodes driven only by their agents: two podvsd joined by a VXLAN overlay over an
# underlay bridge (as in overlay_two_nodes.sh), one test API server (tests/k8s/apiserver.py)
# holding two Nodes with spec.podCIDR, and one podvs-agent per node. Nobody calls `podvsctl node
# add` or `set-pod-cidr`: each podvsd takes its pod CIDR from its agent, each agent announces its
# node's VTEP in its Node's flannel annotations (read back from the server) and makes the other
# Node a remote node; a pod on node 1 pings a pod on node 2 and back; a Service created in the
# server with its endpoint on node 2 answers a pod on node 1 at its ClusterIP; deleting a Node in
# the server removes it from the other podvsd.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"
source "$(dirname "$0")/services_lib.sh"
source "$(dirname "$0")/agent_lib.sh"

start_apiserver || exit 1
u1="u1$ID" u2="u2$ID"
make_underlay || exit 1
add_uplink "$u1" && add_uplink "$u2" || exit 1
# Four /24s of this run's own (pod_cidrs in lib.sh): the Nodes' pod CIDRs, and the ones each
# podvsd starts with (two host ports must not share an address) until its agent hands it its
# Node's. Services need conntrack and one worker.
read -r cidr1 cidr2 boot1 boot2 < <(pod_cidrs 4 | tr '\n' ' ')
common=(--cluster-cidr 10.244.0.0/16 --conntrack-entries 65536 --workers "$(($(nproc) - 1))")
start_podvsd n1 --pod-cidr "$boot1" --uplink-interface "$u1" --node-ip "$UL.1/24" "${common[@]}" || exit 1
start_podvsd n2 --pod-cidr "$boot2" --uplink-interface "$u2" --node-ip "$UL.2/24" "${common[@]}" || exit 1
# Pod traffic must cross the overlay, not the host's stack between the two host ports.
for hp in "$n1_HOSTPORT" "$n2_HOSTPORT"; do sysctl -qw "net.ipv4.conf.$hp.forwarding=0"; done
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
vtep2=$(ctl "$n2_SOCK" --json status | json_get 'j["vtep_mac"].lower()')

# The Nodes as the cluster's node IPAM leaves them: a pod CIDR each, no annotations yet.
node1="node-1-$ID" node2="node-2-$ID"
node_object() {  # node_object NAME POD_CIDR ADDRESS
  printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s"}},"spec":{"podCIDR":"%s","podCIDRs":["%s"]},"status":{"addresses":[{"type":"InternalIP","address":"%s"},{"type":"Hostname","address":"%s"}]}}' \
    "$1" "$1" "$2" "$2" "$3" "$1"
}
put nodes "$(node_object "$node1" "$cidr1" "$UL.1")" && put nodes "$(node_object "$node2" "$cidr2" "$UL.2")" || exit 1

write_kubeconfig "$WORK/kubeconfig"
for n in 1 2; do
  sock_var="n${n}_SOCK"
  "$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "node-$n-$ID" --socket "${!sock_var}" \
    --metrics-listen "" >"$WORK/agent$n.log" 2>&1 &
  printf -v "agent${n}_pid" '%s' "$!"
  PIDS+=("$!")
done

pod_cidr_is() { [ "$(ctl "$1" --json status | json_get 'j["pod_cidr"]')" = "$2" ]; }
check "n1 serves its Node's pod CIDR $cidr1 (it started with $boot1)" wait_for 15 pod_cidr_is "$n1_SOCK" "$cidr1"
check "n2 serves its Node's pod CIDR $cidr2 (it started with $boot2)" wait_for 15 pod_cidr_is "$n2_SOCK" "$cidr2"

annotation() { get_node "$1" | json_get "j['metadata'].get('annotations', {}).get('flannel.alpha.coreos.com/$2', '')"; }
announced() {  # announced NODE NODE_IP VTEP_MAC: the Node carries that VTEP in flannel's format
  [ "$(annotation "$1" public-ip) $(annotation "$1" backend-type)" = "$2 vxlan" ] &&
    [ "$(annotation "$1" backend-data | json_get '"%d %s" % (j["VNI"], j["VtepMAC"].lower())')" = "1 $3" ]
}
check "agent 1 announced n1's VTEP ($UL.1, $vtep1) on its Node" wait_for 15 announced "$node1" "$UL.1" "$vtep1"
check "agent 2 announced n2's VTEP ($UL.2, $vtep2) on its Node" wait_for 15 announced "$node2" "$UL.2" "$vtep2"

remote_is() {  # remote_is SOCK NODE "POD_CIDR NODE_IP VTEP_MAC OWNER" (or "none")
  [ "$(ctl "$1" --json node list | json_get "next(('%s %s %s %s' % (n['pod_cidr'], n['node_ip'], n['vtep_mac'].lower(), n['owner']) for n in j if n['name'] == '$2'), 'none')")" = "$3" ]
}
check "n1 has node 2 as a remote node, from the agent" \
  wait_for 15 remote_is "$n1_SOCK" "$node2" "$cidr2 $UL.2 $vtep2 podvs-agent"
check "n2 has node 1 as a remote node, from the agent" \
  wait_for 15 remote_is "$n2_SOCK" "$node1" "$cidr1 $UL.1 $vtep1 podvs-agent"
check_eq "n1 is not a remote node of itself" none "$(node_field "$n1_SOCK" "$node1" name)"
check_eq "n2 is not a remote node of itself" none "$(node_field "$n2_SOCK" "$node2" name)"

for p in p1 p2; do make_netns "$ID$p" || exit 1; done
ip1=$(add_tap_pod "$n1_SOCK" "p1-$ID" "${ID}p1")
ip2=$(add_tap_pod "$n2_SOCK" "p2-$ID" "${ID}p2")
check "pod 1 has an address of node 1's CIDR ($ip1)" matches "$ip1" "${cidr1%.0/24}.*"
check "pod 2 has an address of node 2's CIDR ($ip2)" matches "$ip2" "${cidr2%.0/24}.*"
check "ping pod 1 (n1) -> pod 2 (n2) (first reply within 5 s)" ping_within 5 "${ID}p1" "$ip2"
check "ping pod 2 (n2) -> pod 1 (n1)" ip netns exec "${ID}p2" ping -c 3 -i 0.2 -W 2 "$ip1"

# --- A Service in the API server whose endpoint is pod 2, on node 2: pod 1 reaches it through
# its ClusterIP (DNAT on n1, VXLAN to n2, the reply translated back on n1).
start_server "${ID}p2" p2 || exit 1
CIP=10.96.7.10
put services "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"remote\",\"namespace\":\"default\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"$CIP\",\"clusterIPs\":[\"$CIP\"],\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080}]}}" || exit 1
put endpointslices "{\"metadata\":{\"name\":\"remote-x1\",\"namespace\":\"default\",\"labels\":{\"kubernetes.io/service-name\":\"remote\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080}],\"endpoints\":[{\"addresses\":[\"$ip2\"],\"conditions\":{\"ready\":true},\"nodeName\":\"$node2\"}]}" || exit 1
programmed() { [ "$(ctl "$1" --json service list | json_get "' '.join(e['ip'] for s in j if s['name'] == 'remote' for e in s['endpoints'])")" = "$ip2" ]; }
check "agent 1 programmed the Service on n1" wait_for 10 programmed "$n1_SOCK"
check "agent 2 programmed the Service on n2" wait_for 10 programmed "$n2_SOCK"
answer=$(in_ns "${ID}p1" ask $CIP 80)
check "pod 1 reaches ClusterIP $CIP:80, answered by pod 2's port 8080, which sees pod 1 (got '$answer')" \
  matches "$answer" "p2 8080 $ip1"

# --- Node 2 deleted in the API server: n1 drops it.
del_node "$node2" || exit 1
check "node 2 deleted in the server: n1 removed the remote node" wait_for 10 remote_is "$n1_SOCK" "$node2" none
check "agent 1 is still running" kill -0 "$agent1_pid"
check "agent 2 is still running" kill -0 "$agent2_pid"
if [ "$FAILED" -gt 0 ]; then
  for n in 1 2; do log "evidence: agent $n's log:"; tail -n 20 "$WORK/agent$n.log" | sed 's/^/    /'; done
  evidence "$n1_SOCK"
fi
kill -TERM "$agent1_pid" "$agent2_pid"
finish
