# Helpers for the Services tests, sourced after lib.sh: real servers in pod namespaces that answer
# with their pod's name and the peer address they see (svc_pods.py), and clients that report what
# they got. Servers are started with start_servers and killed by lib.sh's cleanup (PIDS).

SVC_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/svc_pods.py"

# in_ns NETNS svc_pods.py-args...: runs a client command of svc_pods.py in a namespace, bounded.
in_ns() {
  local ns=$1; shift
  timeout 60 ip netns exec "$ns" python3 "$SVC_PY" "$@"
}

# start_server NETNS NAME: TCP 8080 and 8081 (answer and close), TCP 9000 (answer, then a
# stream), UDP 5353 and 9090 (answer). Returns once all of them listen.
start_server() {
  local ns=$1 name=$2
  ip netns exec "$ns" python3 "$SVC_PY" server "$name" --tcp 8080 8081 --stream 9000 \
    --udp 5353 9090 >"$WORK/server-$name.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 50); do
    [ "$(ip netns exec "$ns" ss -Hltn 'sport = :8080 or sport = :8081 or sport = :9000' | wc -l)" -eq 3 ] &&
      [ "$(ip netns exec "$ns" ss -Hlun 'sport = :5353 or sport = :9090' | wc -l)" -eq 2 ] && return 0
    sleep 0.1
  done
  log "server $name in $ns did not start: $(cat "$WORK/server-$name.log")"
  return 1
}

# start_service_pods: podvsd n1 able to serve Services, a client pod c and three server pods s1,
# s2, s3 with their servers started. Sets service_podvsd_flags (to restart n1 with), host_ip
# (n1's host IP), ip_c and IP[s1..s3] (the pods' addresses).
start_service_pods() {
  # A pod CIDR of this run's own (pod_cidrs in lib.sh: the node's answers to the pods must not
  # be routed to another test's podvsd); conntrack is podvsd's default, said in case it moves.
  # WORKERS=2 runs the scenarios with two workers (worker_cpus in lib.sh).
  # One tap queue per kernel pod (--tap-queues 1): each pod is then received by one known worker,
  # which the placement checks rely on (with a queue per worker, the kernel picks one per flow).
  service_podvsd_flags=(--pod-cidr "$(pod_cidrs 1)" --conntrack-entries 65536
    --workers "$(worker_cpus)" --tap-queues 1)
  start_podvsd n1 "${service_podvsd_flags[@]}" || return 1
  host_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
  local p s
  for p in c s1 s2 s3; do make_netns "$ID$p" || return 1; done
  ip_c=$(add_tap_pod "$n1_SOCK" "c-$ID" "${ID}c")
  declare -gA IP
  for s in s1 s2 s3; do
    IP[$s]=$(add_tap_pod "$n1_SOCK" "$s-$ID" "$ID$s")
    start_server "$ID$s" "$s" || return 1
  done
  log "client $ip_c, servers s1=${IP[s1]} s2=${IP[s2]} s3=${IP[s3]}, host IP $host_ip"
}

# node_address IP: IP on an interface of the node's own stack (a server outside the pod and cluster
# CIDRs, as an API server is), held by a veth end: this kernel has no dummy links, and the peer
# only keeps the link up. The link goes at exit, also on failure.
node_address() {
  NODE_LINK="ka$ID"
  ip link add "$NODE_LINK" type veth peer name "kb$ID" && ip addr add "$1/32" dev "$NODE_LINK" &&
    ip link set "kb$ID" up && ip link set "$NODE_LINK" up || return 1
  trap 'ip link del "$NODE_LINK" 2>/dev/null; cleanup' EXIT
}

svc_add() {  # svc_add SOCK NS/NAME args...: podvsctl service add, its output logged on failure
  local sock=$1; shift
  if ! ctl "$sock" service add "$@" >"$WORK/svc-add.out" 2>&1; then
    log "podvsctl service add $* failed: $(cat "$WORK/svc-add.out")"
    return 1
  fi
}

# name_counts JSON: "NAME=COUNT ..." sorted by name, from the output of `svc_pods.py many`.
name_counts() {
  json_get "' '.join('%s=%d' % kv for kv in sorted(j['names'].items())) + ''.join(' %s=%d' % kv for kv in sorted(j['errors'].items())) + (' (failed source ports %s)' % j['failed_source_ports'] if j.get('failed_source_ports') else '')" <<<"$1" 2>/dev/null ||
    echo "no answer ('$1')"
}

# evidence SOCK NETNS...: what a failed check leaves for its reader: stats, drops, services,
# recent drops and the conntrack-related counters, logged.
evidence() {
  local sock=$1; shift
  log "evidence: services:"; ctl "$sock" service list 2>&1 | sed 's/^/    /'
  log "evidence: drops:"; ctl "$sock" drops 2>&1 | sed 's/^/    /'
  log "evidence: recent drops:"; ctl "$sock" drops --recent 2>&1 | tail -15 | sed 's/^/    /'
  log "evidence: stats:"; ctl "$sock" stats 2>&1 | sed 's/^/    /'
}
