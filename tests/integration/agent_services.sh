#!/usr/bin/env bash
# podvs-agent programs podvsd's Services from Services and EndpointSlices in the test API server
# (tests/k8s/apiserver.py), checked with real traffic from a kernel pod to servers in kernel pods
# that answer with their name and port: a new Service answers at its ClusterIP and its NodePort
# (on the host IP) within a second; endpoints scaled up and down; a terminating endpoint takes no
# new connection while a ready one exists; a named targetPort resolving to a different port on
# each pod; ClientIP affinity switched on; headless and ExternalName Services ignored; the
# Service deleted. Faults: the agent killed with -9 during a long TCP stream through a ClusterIP
# and restarted (the stream goes on and podvsd receives no AddService(s): nothing is re-added);
# the API server unavailable for 20 s while a Service changes; a watch cut in the middle of an
# event. An operator's own `podvsctl service add` Service survives every reconcile, and the agent
# uses only the API verbs control/agent/rbac.json lists.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/services_lib.sh"
source "$(dirname "$0")/agent_lib.sh"
AGENT=${PODVS_AGENT:-$BUILD/podvs-agent}

start_apiserver || exit 1
start_service_pods || exit 1

# --- Objects shaped as the API server's. svc NAME CLUSTER_IP PORTS [SPEC_FIELDS]: a Service;
# slice NAME SERVICE PORTS ENDPOINTS: an EndpointSlice (with the trigger-time annotation the
# EndpointSlice controller writes); ep POD [CONDITIONS]: an endpoint of a server pod.
svc() {
  printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default","labels":{"app":"%s"}},"spec":{"type":"NodePort","clusterIP":"%s","clusterIPs":["%s"],"ipFamilies":["IPv4"],"ports":%s,"selector":{"app":"%s"}%s},"status":{"loadBalancer":{}}}' \
    "$1" "$1" "$2" "$2" "$3" "$1" "${4:+,$4}"
}
slice() {
  printf '{"metadata":{"name":"%s","namespace":"default","labels":{"kubernetes.io/service-name":"%s","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"},"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":"%s"}},"addressType":"IPv4","ports":%s,"endpoints":[%s]}' \
    "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$3" "$4"
}
ep() {
  local conditions=${2:-'{"ready":true,"serving":true,"terminating":false}'}
  printf '{"addresses":["%s"],"conditions":%s,"nodeName":"node-a","targetRef":{"kind":"Pod","namespace":"default","name":"%s"}}' \
    "${IP[$1]}" "$conditions" "$1"
}
HTTP='[{"name":"http","protocol":"TCP","port":8080}]'
WEB=10.96.1.10 NAMED=10.96.1.20 STREAM=10.96.1.30 MANUAL=10.96.1.99

listed() { ctl "$n1_SOCK" --json service list | json_get "' '.join(sorted(s['name'] for s in j))"; }
owner_of() { ctl "$n1_SOCK" --json service list | json_get "next((s['owner'] for s in j if s['name'] == '$1'), 'none')"; }
endpoint_count() { ctl "$n1_SOCK" --json service list | json_get "next((len(s['endpoints']) for s in j if s['name'] == '$1'), -1)"; }
endpoint_ips() { ctl "$n1_SOCK" --json service list | json_get "''.join(ip + ' ' for ip in sorted(e['ip'] for s in j if s['name'] == '$1' for e in s['endpoints']))"; }
# has_ips NAME POD...: the Service's endpoints are exactly those pods' addresses.
has_ips() {
  local name=$1 pod want=(); shift
  for pod in "$@"; do want+=("${IP[$pod]}"); done
  [ "$(endpoint_ips "$name")" = "$(printf '%s\n' "${want[@]}" | LC_ALL=C sort | tr '\n' ' ')" ]
}
answers() { [ "$(name_counts "$(in_ns "${ID}c" many "$1" "$2" "$3")")" = "$4" ]; }
# AddService and AddServices calls podvsd answered (the agent sends its adds in batches).
add_services() { curl -s "http://$n1_METRICS/metrics" | awk '/^podvs_grpc_requests_total\{/ && /method="AddServices?"/ && /code="OK"/ {n += $2} END {print n + 0}'; }

check "an operator's Service added with podvsctl" \
  svc_add "$n1_SOCK" "default/manual-$ID" --cluster-ip $MANUAL --port tcp:80:8080 --endpoint "${IP[s3]}"

write_kubeconfig "$WORK/kubeconfig"
agent_metrics=127.0.0.1:$(free_port)
start_agent() {
  "$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "node-a-$ID" --socket "$n1_SOCK" \
    --watch-timeout 30 --metrics-listen "$agent_metrics" >"$WORK/agent$1.log" 2>&1 &
  agent_pid=$!
  PIDS+=("$agent_pid")
}
start_agent 1
synced() { grep -q "services synced with podvsd" "$WORK/agent$1.log"; }
check "the agent synced its Services with podvsd" wait_for 15 synced 1
# The agent reports itself to podvsd (ReportAgent): podvsctl status shows it connected and synced.
agent_seen() {
  ctl "$n1_SOCK" --json status |
    json_get '" ".join("%s %s %s %s" % (a["name"], a["connected"], a["synced"], a["last_sync_unix_s"] > 0) for a in j["agents"])'
}
reported() { [ "$(agent_seen)" = "podvs-agent True True True" ]; }
check "podvsctl status: podvs-agent connected, synced, with a last sync" wait_for 15 reported

# --- A new Service answers at its ClusterIP and NodePort as soon as the agent sees it.
start=$(date +%s.%N)
put services "$(svc web $WEB '[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]')"
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s1)")"
programmed() { has_ips web s1; }
for _ in $(seq 100); do programmed && break; sleep 0.02; done
answer=$(in_ns "${ID}c" ask $WEB 80)
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
log "Service created -> ClusterIP answered in $elapsed s"
check "ClusterIP $WEB:80 answered by s1's port 8080 (got '$answer')" matches "$answer" "s1 8080 $ip_c"
# Programmed on the change, not at the next resync (30 s): well under 5 s even on a loaded
# machine. The latency itself is perf/agent_programming.sh's to measure, not a test's.
check "ClusterIP answered within 5 s of the Service's creation ($elapsed s)" \
  awk -v e="$elapsed" 'BEGIN {exit !(e < 5.0)}'
answer=$(in_ns "${ID}c" ask "$host_ip" 30080)
check "NodePort $host_ip:30080 answered by s1 (got '$answer')" matches "$answer" "s1 8080 *"
check_eq "the Service is the agent's" podvs-agent "$(owner_of web)"

# --- Endpoints scaled up, then down.
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s1),$(ep s2)")"
put endpointslices "$(slice web-def34 web "$HTTP" "$(ep s3)")"
check "scaled up to 3 endpoints over two slices" wait_for 5 has_ips web s1 s2 s3
seen=$(in_ns "${ID}c" many $WEB 80 40)
check "40 connections reach s1, s2 and s3 (got $(name_counts "$seen"))" \
  matches "$(name_counts "$seen")" "s1=* s2=* s3=*"
del_object endpointslices default/web-def34
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s2)")"
check "scaled down to s2" wait_for 5 has_ips web s2
check "20 connections all reach s2" answers $WEB 80 20 "s2=20"

# --- A terminating endpoint takes no new connection while a ready one exists; alone, a serving
# terminating endpoint does (kube-proxy's fallback).
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s1),$(ep s2 '{"ready":false,"serving":true,"terminating":true}')")"
check "s2 terminating next to s1 ready" wait_for 5 has_ips web s1 s2
check "20 connections all reach the ready s1" answers $WEB 80 20 "s1=20"
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s2 '{"ready":false,"serving":true,"terminating":true}')")"
check "only s2, terminating" wait_for 5 has_ips web s2
check "10 connections reach s2, serving while terminating" answers $WEB 80 10 "s2=10"

# --- A named targetPort: s1 serves "http" on 8080, s2 on 8081 (two slices, as the EndpointSlice
# controller groups pods by their ports).
put services "$(svc named $NAMED '[{"name":"http","protocol":"TCP","port":80,"targetPort":"web"}]')"
put endpointslices "$(slice named-a named "$HTTP" "$(ep s1)")"
put endpointslices "$(slice named-b named '[{"name":"http","protocol":"TCP","port":8081}]' "$(ep s2)")"
check "the named Service has both endpoints" wait_for 5 has_ips named s1 s2
seen=$(for _ in $(seq 16); do in_ns "${ID}c" ask $NAMED 80 | awk '{print $1 ":" $2}'; done | sort -u | tr '\n' ' ')
check_eq "named targetPort: s1 answers on 8080 and s2 on 8081" "s1:8080 s2:8081 " "$seen"

# --- ClientIP affinity switched on: every connection of the client sticks to one endpoint.
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s1),$(ep s2),$(ep s3)")"
check "web back to 3 endpoints" wait_for 5 has_ips web s1 s2 s3
put services "$(svc web $WEB '[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]' \
  '"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}')"
affinity() { ctl "$n1_SOCK" --json service list | json_get "[s for s in j if s['name'] == 'web'][0]['client_ip_affinity']" | grep -q True; }
check "affinity on in podvsd" wait_for 5 affinity
answers=$(in_ns "${ID}c" many $WEB 80 30)
sticky=$(name_counts "$answers")
check "affinity: 30 connections reach one endpoint (got $sticky)" matches "$sticky" "s[123]=30"
matches "$sticky" "s[123]=30" ||
  log "answers in order (endpoint:client source port): $(json_get "' '.join(j['order'])" <<<"$answers")"

# --- Headless and ExternalName Services are ignored.
put services '{"metadata":{"name":"headless","namespace":"default"},"spec":{"clusterIP":"None","ports":[{"name":"http","port":80}]}}'
put endpointslices "$(slice headless-x headless "$HTTP" "$(ep s1)")"
put services '{"metadata":{"name":"extname","namespace":"default"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}'
skipped() { grep -q "service default/headless: skipped (headless)" "$WORK/agent1.log" &&
  grep -q "service default/extname: skipped (external_name)" "$WORK/agent1.log"; }
check "the agent logged both skips" wait_for 5 skipped
check_eq "podvsd has only the agent's web and named and the operator's Service" "manual-$ID named web" "$(listed)"

# --- The agent killed with -9 during a long stream through a ClusterIP, and restarted: the stream
# goes on, and the restarted agent finds podvsd as it left it and adds nothing.
put services "$(svc stream $STREAM '[{"name":"s","protocol":"TCP","port":9000,"targetPort":9000}]')"
put endpointslices "$(slice stream-1 stream '[{"name":"s","protocol":"TCP","port":9000}]' "$(ep s1),$(ep s2),$(ep s3)")"
check "the stream Service is programmed" wait_for 5 has_ips stream s1 s2 s3
ip netns exec "${ID}c" python3 "$SVC_PY" stream $STREAM 9000 "$WORK/stream" 10 &
stream_pid=$!
PIDS+=("$stream_pid")
streaming() { [ -s "$WORK/stream.name" ]; }
check "a long stream runs through $STREAM" wait_for 5 streaming
adds_before=$(add_services)
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null
start_agent 2
check "the restarted agent synced" wait_for 15 synced 2
check "it found nothing to change" grep -q "services synced with podvsd: 3 programmed (0 added or replaced, 0 deleted)" "$WORK/agent2.log"
check_eq "podvsd received no AddService(s) from the restarted agent" "$adds_before" "$(add_services)"
wait "$stream_pid"
check "the stream through the ClusterIP ran unbroken across the restart ($(tail -1 "$WORK/stream"))" \
  grep -q '^end [0-9]* OK$' "$WORK/stream"
bytes=$(tail -1 "$WORK/stream" | awk '{print $2}')
check "the stream carried data all along ($bytes bytes)" test "${bytes:-0}" -gt 5000000

# --- The API server unavailable for 20 s while a Service changes: podvsd keeps serving what it
# had, and the agent converges once the server is back.
post "unavailable?seconds=20"
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s3)")"
sleep 2
check_eq "while the server is away podvsd keeps web's 3 endpoints" 3 "$(endpoint_count web)"
check "after the server returns, web follows its slice (s3 only)" wait_for 45 has_ips web s3
check "10 connections reach s3" answers $WEB 80 10 "s3=10"

# --- A watch cut in the middle of an event: the change still arrives. The informers retry at
# once only after a watch that made progress (an event or a bookmark); the ones that came back
# from the outage with nothing to tell are given a bookmark first, else their next retry is
# backed off to 30 s.
watching() { [ "$(curl -sf "$C/watches" | json_get 'j["open"]')" = 3 ]; }
check "the agent watches nodes, services and endpointslices again" wait_for 40 watching
sleep 1.5
post cut
put endpointslices "$(slice web-abc12 web "$HTTP" "$(ep s2)")"
check "after a cut watch, web's change arrives" wait_for 15 has_ips web s2
check "10 connections reach s2" answers $WEB 80 10 "s2=10"

# --- The Service deleted: its ClusterIP is gone from podvsd and its NodePort refuses.
del_object services default/web
gone() { ! listed | grep -qw web; }
check "web deleted from podvsd" wait_for 5 gone
# The refusal is the node's own TCP reset (nothing listens there); it reaches the client only
# because this run's pod CIDR is its own (start_service_pods).
np_refused() { matches "$(in_ns "${ID}c" refused "$host_ip" 30080)" "refused*"; }
check "NodePort $host_ip:30080 now refused" np_refused

check_eq "the operator's Service survived every reconcile" "" "$(owner_of "manual-$ID")"
check "the operator's Service still answers" answers $MANUAL 80 3 "s3=3"
check "the agent is still running" kill -0 "$agent_pid"
# The agent's own metrics saw what this test did: the restarted agent programmed web's two
# changes (after the outage, after the cut) and its deletion.
agent_metric() { curl -sf "http://$agent_metrics/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
observed=$(agent_metric podvs_agent_network_programming_duration_seconds_count)
check "the restarted agent observed 3 or more programming latencies ($observed)" \
  test "${observed%%.*}" -ge 3
check_eq "the headless and ExternalName Services are counted as skipped" "1 1" \
  "$(agent_metric 'podvs_agent_services_skipped{reason="headless"}') $(agent_metric 'podvs_agent_services_skipped{reason="external_name"}')"
curl -sf "$C/log" >"$WORK/requests.json"
check "every verb the agent used is in control/agent/rbac.json" rbac_covers "$WORK/requests.json" \
  services:list services:watch endpointslices:list endpointslices:watch
log "latency and counts:"; grep -c "service default/.*: \(added\|replaced\)" "$WORK/agent1.log" | sed 's/^/    Services added or replaced by the first agent: /'
if [ "$FAILED" -gt 0 ]; then
  log "evidence: the agents' logs:"; tail -n 25 "$WORK/agent1.log" "$WORK/agent2.log" | sed 's/^/    /'
  evidence "$n1_SOCK"
fi
kill -TERM "$agent_pid"
finish
