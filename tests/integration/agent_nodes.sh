#!/usr/bin/env bash
# podvs-agent against a test API server (tests/k8s/apiserver.py: HTTPS with a CA made here, a
# bearer token) and a real podvsd with an af_packet uplink: the agent announces this node's VTEP
# in its Node's flannel annotations (one PATCH, read back from the server), makes every other
# annotated Node a remote node in podvsd and follows it through changes and deletion, survives
# cut watches, an unavailable server and compacted history (410 Gone as an ERROR event and as
# HTTP 410: the relist reconciles a Node deleted meanwhile), follows a rotated token file,
# skips malformed Nodes and watch lines without stopping, uses only the API verbs listed in
# control/agent/rbac.json, stops cleanly on SIGTERM, and authenticates with a client certificate.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/overlay_lib.sh"
source "$(dirname "$0")/agent_lib.sh"

# --- the API server: a CA, a server certificate for 127.0.0.1, a token ---
start_apiserver || exit 1
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.crt" "$@"; }
check_eq "API server: 401 without a token" 401 "$(code "$API/api/v1/nodes")"
check_eq "API server: 403 with a wrong token" 403 "$(code -H "Authorization: Bearer nope" "$API/api/v1/nodes")"
check_eq "API server: 200 with the token over TLS verified by the test CA" 200 \
  "$(code -H "Authorization: Bearer $token" "$API/api/v1/nodes?limit=1")"

# --- podvsd with an uplink, and this node's Node ---
u1="u1$ID"
make_underlay || exit 1
add_uplink "$u1" || exit 1
# podvsd starts with a pod CIDR of its own: the agent hands it the Node's.
start_podvsd n1 --pod-cidr 10.244.9.0/24 --cluster-cidr 10.244.0.0/16 --uplink-interface "$u1" --node-ip "$UL.1/24" || exit 1
vtep1=$(ctl "$n1_SOCK" --json status | json_get 'j["vtep_mac"].lower()')
me="node-a-$ID"
put nodes "{\"metadata\":{\"name\":\"$me\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"}}"
put nodes "$(flannel_node "node-b-$ID" 2 "$UL.2" 0a:00:00:00:00:02)"
# An operator's remote node, added by hand: no reconcile of the agent may touch it.
check "an operator's node added with podvsctl" \
  ctl "$n1_SOCK" node add --name manual-$ID --pod-cidr 10.244.200.0/24 --node-ip "$UL.200" \
  --vtep-mac 0a:00:00:00:00:c8

# --- the agent, with a kubeconfig: CA inline, token from a file ---
write_kubeconfig "$WORK/kubeconfig"
# No metrics endpoint here (it_agent_resync tests it): --metrics-listen "" turns it off.
"$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "$me" --socket "$n1_SOCK" --watch-timeout 4 --page-size 1 \
  --metrics-listen "" >"$WORK/agent.log" 2>&1 &
agent_pid=$!
PIDS+=("$agent_pid")

annotation() { get_node "$1" | json_get "j['metadata'].get('annotations', {}).get('flannel.alpha.coreos.com/$2', '')"; }
remote() { node_field "$n1_SOCK" "$1" node_ip; }  # a remote node's IP in podvsd, or "none"
is_remote() { [ "$(remote "$1")" = "$2" ]; }
announced() { [ "$(annotation "$me" public-ip)" = "$UL.1" ]; }

check "the agent announced this node's VTEP" wait_for 15 announced
pod_cidr() { [ "$(ctl "$n1_SOCK" --json status | json_get 'j["pod_cidr"]')" = 10.244.1.0/24 ]; }
check "podvsd serves the pod CIDR of its Node (SetPodCidr)" wait_for 10 pod_cidr
check_eq "backend-type" vxlan "$(annotation "$me" backend-type)"
check_eq "backend-data: podvsd's VNI and VTEP MAC" "1 $vtep1" \
  "$(annotation "$me" backend-data | json_get '"%d %s" % (j["VNI"], j["VtepMAC"])')"
check "node-b is a remote node in podvsd via $UL.2" wait_for 10 is_remote "node-b-$ID" "$UL.2"
check_eq "node-b's pod CIDR and VTEP MAC" "10.244.2.0/24 0a:00:00:00:00:02" \
  "$(node_field "$n1_SOCK" "node-b-$ID" pod_cidr) $(node_field "$n1_SOCK" "node-b-$ID" vtep_mac | tr A-F a-f)"
check_eq "this node is not a remote node of itself" none "$(remote "$me")"
check_eq "node-b is the agent's (owner)" podvs-agent "$(node_field "$n1_SOCK" "node-b-$ID" owner)"

put nodes "$(flannel_node "node-b-$ID" 2 "$UL.3" 0a:00:00:00:00:03)"
check "node-b modified: podvsd follows to $UL.3" wait_for 10 is_remote "node-b-$ID" "$UL.3"
del_node "node-b-$ID"
check "node-b deleted: podvsd drops it" wait_for 10 is_remote "node-b-$ID" none

# A watch cut in the middle of an event resumes from the last version seen: the change made
# while it was down arrives.
put nodes "$(flannel_node "node-c-$ID" 3 "$UL.4" 0a:00:00:00:00:04)"
check "node-c added" wait_for 10 is_remote "node-c-$ID" "$UL.4"
post cut
put nodes "$(flannel_node "node-c-$ID" 3 "$UL.5" 0a:00:00:00:00:04)"
check "after a cut watch, node-c's change arrives" wait_for 15 is_remote "node-c-$ID" "$UL.5"

# 410 Gone: the server goes away (cutting the watch), a Node is deleted and the history
# compacted meanwhile; the agent's re-watch is refused with 410 and its relist must delete it.
relists() { grep -c "listed .* objects" "$WORK/agent.log"; }
for mode in event http; do
  post settings "{\"watch_410\":\"$mode\"}"
  before=$(relists)
  post "unavailable?seconds=2"
  del_node "node-c-$ID"
  post compact
  relisted() { [ "$(relists)" -gt "$before" ]; }
  check "410 as $mode: the agent relisted" wait_for 40 relisted
  check "410 as $mode: the relist removed node-c, deleted while the agent was away" \
    wait_for 10 is_remote "node-c-$ID" none
  put nodes "$(flannel_node "node-c-$ID" 3 "$UL.4" 0a:00:00:00:00:04)"
  check "410 as $mode: watching again afterwards (node-c back)" wait_for 10 is_remote "node-c-$ID" "$UL.4"
done
check "the agent logged the 410 and the retries" grep -q "too old\|410" "$WORK/agent.log"
check_eq "the operator's node survived every reconcile" "$UL.200" "$(remote "manual-$ID")"

# Token rotation: the server accepts only a new token, the kubelet replaces the file; the
# agent's next requests (after a cut) carry the new one.
post settings "{\"token\":\"rotated-$token\"}"
printf '%s\n' "rotated-$token" >"$WORK/token.new" && mv "$WORK/token.new" "$WORK/token"
post cut
put nodes "$(flannel_node "node-f-$ID" 6 "$UL.8" 0a:00:00:00:00:08)"
check "after the token rotated, the agent follows with the new token" wait_for 20 is_remote "node-f-$ID" "$UL.8"

# Malformed input: a Node with bad annotations (logged once, however often it changes), watch
# lines that are not JSON, without a name, of an unknown type. The agent goes on.
bad=$(flannel_node "node-d-$ID" 4 "$UL.6" 0a:00:00:00:00:06 | sed 's/{\\"VNI/{oops{\\"VNI/')
put nodes "$bad"
put nodes "$(echo "$bad" | sed 's/"linux"/"windows"/')"
post inject/nodes '{"line":"this is not JSON"}'
post inject/nodes '{"line":"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"uid\":\"x\"}}}"}'
post inject/nodes '{"line":"{\"type\":\"RESHARDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"x\"}}}"}'
put nodes "$(flannel_node "node-e-$ID" 5 "$UL.7" 0a:00:00:00:00:07)"
check "after malformed input, the next Node is programmed" wait_for 10 is_remote "node-e-$ID" "$UL.7"
check "the agent is still running" kill -0 "$agent_pid"
check_eq "the malformed Node is not a remote node" none "$(remote "node-d-$ID")"
check_eq "the malformed Node is logged once" 1 "$(grep -c "node node-d-$ID: skipped" "$WORK/agent.log")"
check "the malformed watch lines were skipped and logged" grep -q "skipped a watch line that is not a JSON object" "$WORK/agent.log"

# What the agent asked of the API server: one PATCH (the annotations were then current), and
# only verbs control/agent/rbac.json lists.
curl -sf "$C/log" >"$WORK/requests.json"
check "every verb the agent used is in control/agent/rbac.json" rbac_covers "$WORK/requests.json" \
  nodes:list nodes:watch nodes:patch
check_eq "the agent patched its Node once" 1 \
  "$(json_get "sum(1 for r in j if r['verb'] == 'patch' and r['user_agent'].startswith('podvs-agent/'))" <"$WORK/requests.json")"
# --page-size 1 and two Nodes at the first LIST: it must have followed a continue token.
lists_paged() {
  python3 -c "
import json, sys
l = [r for r in json.load(open(sys.argv[1])) if r['verb'] == 'list' and r['user_agent'].startswith('podvs-agent/')]
sys.exit(not l or not all('limit=1' in r['path'] for r in l) or not any('continue=' in r['path'] for r in l))" "$WORK/requests.json"
}
check "LISTs come in pages (limit=1, continue)" lists_paged

kill -TERM "$agent_pid"
stopped() { ! kill -0 "$agent_pid"; }
check "SIGTERM stops the agent within 5 s" wait_for 5 stopped
wait "$agent_pid"
check_eq "the agent's exit status" 0 "$?"
log "agent log tail:"; tail -5 "$WORK/agent.log" | sed 's/^/    /'

# A client certificate instead of a token, the CA from a file.
cat >"$WORK/kubeconfig-cert" <<KC
apiVersion: v1
kind: Config
current-context: cert
contexts:
- {name: cert, context: {cluster: test, user: node}}
clusters:
- {name: test, cluster: {server: $API, certificate-authority: pki/ca.crt}}
users:
- {name: node, user: {client-certificate: pki/client.crt, client-key: pki/client.key}}
KC
"$AGENT" --kubeconfig "$WORK/kubeconfig-cert" --node-name "$me" --socket "$n1_SOCK" \
  --metrics-listen "" >"$WORK/agent-cert.log" 2>&1 &
cert_pid=$!
PIDS+=("$cert_pid")
cert_listed() {
  curl -sf "$C/log" | python3 -c "import json,sys; sys.exit(not any(r['user'] == 'cert:system:node:podvs-test' and r['verb'] == 'list' and r['code'] == 200 for r in json.load(sys.stdin)))"
}
check "with a client certificate the agent lists Nodes" wait_for 10 cert_listed
kill -TERM "$cert_pid"
finish
