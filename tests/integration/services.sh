#!/usr/bin/env bash
# Kubernetes Services on one node, with real servers in kernel pods that answer with their pod's
# name and the peer address they see: ClusterIP TCP and UDP (DNAT to a target port, the client's
# own address kept, replies from the ClusterIP), the same port on TCP and UDP reaching different
# targets, Maglev spreading 1000 connections evenly, ClientIP affinity on and off, hairpin,
# a fixed-source-port UDP client moving on when its endpoint leaves, long transfers surviving the
# removal of another endpoint, ICMP rejects without endpoints or for unknown ports, the drop
# counters, one source port (TCP, UDP) to two Services sharing an endpoint, and the Services
# surviving a restart and a crash.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/services_lib.sh"

start_service_pods || exit 1
check_apart "$n1_SOCK" "c-$ID" "s1-$ID"
[ "${WORKERS:-1}" -gt 1 ] && log "workers: c $(port_worker "$n1_SOCK" "c-$ID"), s1 $(port_worker "$n1_SOCK" "s1-$ID"), s2 $(port_worker "$n1_SOCK" "s2-$ID"), s3 $(port_worker "$n1_SOCK" "s3-$ID"), host $(port_worker "$n1_SOCK" "host_$n1_HOSTPORT")"
all_eps=(--endpoint "${IP[s1]}" --endpoint "${IP[s2]}" --endpoint "${IP[s3]}")

WEB=10.96.0.10 DNS=10.96.0.11 STREAM=10.96.0.13 EMPTY=10.96.0.20 STICKY=10.96.0.30 SELF=10.96.0.40
check "service add default/web (tcp 80->8080, udp 53->5353, udp 80->9090, 3 endpoints)" \
  svc_add "$n1_SOCK" "default/web-$ID" --cluster-ip $WEB --port http=tcp:80:8080 \
  --port dns=udp:53:5353 --port u80=udp:80:9090 "${all_eps[@]}"
check "service add default/dns (udp 53->5353, 3 endpoints)" \
  svc_add "$n1_SOCK" "default/dns-$ID" --cluster-ip $DNS --port udp:53:5353 "${all_eps[@]}"
check "service add default/stream (tcp 9000, 3 endpoints)" \
  svc_add "$n1_SOCK" "default/stream-$ID" --cluster-ip $STREAM --port tcp:9000 "${all_eps[@]}"
check "service add default/empty (tcp 80, udp 53, no endpoints)" \
  svc_add "$n1_SOCK" "default/empty-$ID" --cluster-ip $EMPTY --port tcp:80:8080 --port udp:53:5353
check "service add default/sticky (tcp 80->8080, 3 endpoints, affinity client-ip:60)" \
  svc_add "$n1_SOCK" "default/sticky-$ID" --cluster-ip $STICKY --port tcp:80:8080 "${all_eps[@]}" \
  --affinity client-ip:60
check "service add default/self (tcp 80->8080, only endpoint s1)" \
  svc_add "$n1_SOCK" "default/self-$ID" --cluster-ip $SELF --port tcp:80:8080 --endpoint "${IP[s1]}"
check_eq "service list shows the 6 services" 6 "$(ctl "$n1_SOCK" --json service list | json_get 'len(j)')"

# --- ClusterIP TCP: DNAT to port 8080 of an endpoint, the client's address unchanged.
answer=$(in_ns "${ID}c" ask $WEB 80)
check "ClusterIP TCP $WEB:80 answered by an endpoint's port 8080 (got '$answer')" \
  matches "$answer" "s[123] 8080 *"
check_eq "ClusterIP TCP: the server sees the client pod's own IP as source" "$ip_c" \
  "$(awk '{print $3}' <<<"$answer")"

# --- ClusterIP UDP: the answer comes back from the ClusterIP and port the client sent to.
answer=$(in_ns "${ID}c" udp $WEB 53)
check "ClusterIP UDP $WEB:53 answered by an endpoint's port 5353 (got '$answer')" \
  matches "$answer" "$WEB:53 s[123] 5353 $ip_c"
# --- The same port number on TCP and UDP: different targets, independently.
answer=$(in_ns "${ID}c" udp $WEB 80)
check "UDP $WEB:80 goes to target port 9090 while TCP $WEB:80 goes to 8080 (got '$answer')" \
  matches "$answer" "$WEB:80 s[123] 9090 $ip_c"

# --- A named port whose number differs per endpoint (a named targetPort resolves per pod): s1
# serves "http" on 8080, s2 on 8081. Nothing listens on the Service's own target_port 9999, so
# every answer proves the endpoint's own port was used, and the TCP handshake that replies were
# translated back. 24 connections (new source port each) miss one endpoint with p < 1e-6.
NAMED=10.96.0.60
check "service add default/named (http=tcp 80, target 9999; s1 serves http on 8080, s2 on 8081)" \
  svc_add "$n1_SOCK" "default/named-$ID" --cluster-ip $NAMED --port http=tcp:80:9999 \
  --endpoint "${IP[s1]}@http=8080" --endpoint "${IP[s2]}@http=8081"
seen=$(for _ in $(seq 24); do in_ns "${ID}c" ask $NAMED 80 | awk '{print $1 ":" $2}'; done |
  sort -u | tr '\n' ' ')
check_eq "named port: both endpoints answer through $NAMED:80, each on its own port" \
  "s1:8080 s2:8081 " "$seen"

# --- Distribution: 1000 connections, one client, new source port each. Each endpoint's count is
# Binomial(1000, 1/3): mean 333, sigma 14.9, so 5 sigma is 259..408; the bound 250..420 (25% to
# 42%) adds room for Maglev's table granularity. A fair balancer fails it with p < 1e-6.
start=$SECONDS
dist=$(in_ns "${ID}c" many $WEB 80 1000)
log "1000 connections in $((SECONDS - start)) s: $(name_counts "$dist")"
for s in s1 s2 s3; do
  n=$(json_get "j['names'].get('$s', 0)" 2>/dev/null <<<"$dist")
  check "distribution: $s got $n of 1000 connections (expected 250..420)" \
    test "${n:-0}" -ge 250 -a "${n:-0}" -le 420
done
check_eq "distribution: every connection was answered" 0 "$(json_get 'sum(j["errors"].values())' 2>/dev/null <<<"$dist")"
check_eq "distribution: every server saw the client's own IP" "$ip_c=1000" \
  "$(json_get "' '.join('%s=%d' % kv for kv in j['peers'].items())" 2>/dev/null <<<"$dist")"

# --- Session affinity ClientIP: one endpoint for every connection of the client...
aff=$(in_ns "${ID}c" many $STICKY 80 50)
check "affinity client-ip: 50 connections all reach one endpoint (got $(name_counts "$aff"))" \
  test "$(json_get 'len(j["names"]) == 1 and sum(j["names"].values()) == 50' 2>/dev/null <<<"$aff")" = True
# ...and spread again once it is off (the same Service added again without --affinity).
check "service add default/sticky again without --affinity" \
  svc_add "$n1_SOCK" "default/sticky-$ID" --cluster-ip $STICKY --port tcp:80:8080 "${all_eps[@]}"
aff=$(in_ns "${ID}c" many $STICKY 80 60)
check "affinity off: 60 connections reach all 3 endpoints (got $(name_counts "$aff"))" \
  test "$(json_get 'len(j["names"]) == 3 and sum(j["names"].values()) == 60' 2>/dev/null <<<"$aff")" = True

# --- Hairpin: the only endpoint reaches its own Service and answers itself; its source becomes
# the node's host IP (else it would answer itself directly, untranslated).
answer=$(in_ns "${ID}s1" ask $SELF 80)
check "hairpin: s1 reaches its own ClusterIP $SELF:80 and gets its own answer (got '$answer')" \
  matches "$answer" "s1 8080 *"
check_eq "hairpin: s1's server sees the node's host IP as source" "$host_ip" "$(awk '{print $3}' <<<"$answer")"

# --- UDP from one fixed source port: the same endpoint while it lives, another once it is gone
# (the conntrack entry pointing at the removed endpoint must not survive).
sport=40053
first=$(in_ns "${ID}c" udp $DNS 53 --sport $sport)
x=$(awk '{print $2}' <<<"$first")
check "fixed source port $sport: first datagram answered from $DNS:53 (got '$first')" \
  matches "$first" "$DNS:53 s[123] 5353 $ip_c"
same=1
for _ in 1 2 3 4; do
  a=$(in_ns "${ID}c" udp $DNS 53 --sport $sport)
  [ "$(awk '{print $2}' <<<"$a")" = "$x" ] || { same=0; log "then got '$a'"; }
done
check "fixed source port $sport: 4 more datagrams reach the same endpoint $x" test $same = 1
rest_eps=()
for s in s1 s2 s3; do [ "$s" != "$x" ] && rest_eps+=(--endpoint "${IP[$s]}"); done
check "service add default/dns without $x" \
  svc_add "$n1_SOCK" "default/dns-$ID" --cluster-ip $DNS --port udp:53:5353 "${rest_eps[@]}"
a=$(in_ns "${ID}c" udp $DNS 53 --sport $sport)
y=$(awk '{print $2}' <<<"$a")
check "fixed source port $sport: the next datagram after removing $x reaches another endpoint (got '$a')" \
  sh -c "[ '$y' != '$x' ] && echo '$a' | grep -qE '^$DNS:53 s[123] 5353 '"
same=1
for _ in 1 2 3; do
  a=$(in_ns "${ID}c" udp $DNS 53 --sport $sport)
  [ "$(awk '{print $2}' <<<"$a")" = "$y" ] || { same=0; log "then got '$a'"; }
done
check "fixed source port $sport: and stays with $y" test $same = 1

# --- Long transfers while another endpoint leaves. Streams start until two different endpoints
# carry one each (each new connection has a new source port, so Maglev places it afresh).
declare -A BUSY
streams=()
for i in $(seq 12); do
  f="$WORK/stream$i"
  # Not through in_ns: the background PID must be the client itself, for kill and cleanup.
  ip netns exec "${ID}c" python3 "$SVC_PY" stream $STREAM 9000 "$f" 12 &
  pid=$!
  for _ in $(seq 30); do [ -s "$f.name" ] && break; sleep 0.1; done
  n=$(awk '{print $1}' "$f.name" 2>/dev/null)
  if [ -n "$n" ] && [ -z "${BUSY[$n]:-}" ]; then
    BUSY[$n]=$i
    streams+=("$i:$n:$pid")
    PIDS+=("$pid")
  else
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  [ "${#streams[@]}" -eq 2 ] && break
done
check_eq "two long transfers run to two different endpoints (${streams[*]})" 2 "${#streams[@]}"
if [ "${#streams[@]}" -eq 2 ]; then
  z=""
  keep=()
  for s in s1 s2 s3; do
    if [ -n "${BUSY[$s]:-}" ]; then keep+=(--endpoint "${IP[$s]}"); else z=$s; fi
  done
  sleep 1
  bytes_now() { tail -1 "$WORK/stream$1" | awk '{print $2}'; }
  declare -A BEFORE
  for st in "${streams[@]}"; do i=${st%%:*}; BEFORE[$i]=$(bytes_now "$i"); done
  check "service add default/stream without $z, which carries no transfer" \
    svc_add "$n1_SOCK" "default/stream-$ID" --cluster-ip $STREAM --port tcp:9000 "${keep[@]}"
  sleep 3
  for st in "${streams[@]}"; do
    i=${st%%:*}; rest=${st#*:}; n=${rest%%:*}
    after=$(bytes_now "$i")
    check "transfer to $n keeps flowing after the update (${BEFORE[$i]} -> $after bytes, >= 1 MB more)" \
      test "$(( ${after:-0} - ${BEFORE[$i]:-0} ))" -ge 1000000
  done
  new=$(in_ns "${ID}c" many $STREAM 9000 30)
  check "new connections reach only the remaining endpoints (got $(name_counts "$new"), not $z)" \
    test "$(json_get "'$z' not in j['names'] and sum(j['names'].values()) == 30" 2>/dev/null <<<"$new")" = True
  for st in "${streams[@]}"; do
    i=${st%%:*}; rest=${st#*:}; n=${rest%%:*}; pid=${rest#*:}
    wait "$pid"
    check "transfer to $n ended unbroken after 12 s ($(tail -1 "$WORK/stream$i"))" \
      grep -q '^end [0-9]* OK$' "$WORK/stream$i"
  done
fi

# --- One source port to two Services whose only endpoint is the same pod and port (two DNS
# Services on one resolver pod and a client with a fixed port; or any client, since connect()
# picks ports per destination and reuses one that another ClusterIP's connection still holds in
# conntrack). Both reply tuples would be s3:PORT -> client:SPORT, so the second connection needs
# its own translation; Linux's NAT remaps the source port on such a clash. Both must be answered.
CLA=10.96.0.50 CLB=10.96.0.51
for c in a:$CLA b:$CLB; do
  check "service add default/clash-${c%%:*} (tcp 80->8080, udp 53->5353, only s3)" \
    svc_add "$n1_SOCK" "default/clash-${c%%:*}-$ID" --cluster-ip "${c#*:}" --port tcp:80:8080 \
    --port udp:53:5353 --endpoint "${IP[s3]}"
done
clash_before=$(ctl "$n1_SOCK" --json stats | json_get 'j["drops"].get("conntrack_full", 0)')
a=$(in_ns "${ID}c" udp $CLA 53 --sport 40070)
check_eq "UDP source port 40070 to $CLA:53: answered by s3 from the ClusterIP" "$CLA:53 s3 5353 $ip_c" "$a"
a=$(in_ns "${ID}c" udp $CLB 53 --sport 40070)
check_eq "UDP, the same source port 40070 to $CLB:53 (same endpoint s3:5353): answered from $CLB" \
  "$CLB:53 s3 5353 $ip_c" "$a"
a=$(in_ns "${ID}c" ask $CLA 80 --sport 40071)
check_eq "TCP source port 40071 to $CLA:80: answered by s3" "s3 8080 $ip_c" "$a"
a=$(in_ns "${ID}c" ask $CLB 80 --sport 40071)
check_eq "TCP, the same source port 40071 to $CLB:80 right after (same endpoint s3:8080): answered" \
  "s3 8080 $ip_c" "$a"
clash_after=$(ctl "$n1_SOCK" --json stats | json_get 'j["drops"].get("conntrack_full", 0)')
[ "$clash_after" = "$clash_before" ] || log "conntrack_full drops grew $clash_before -> $clash_after"

# --- No endpoints: TCP refused at once and UDP gets port unreachable (ICMP from the ClusterIP);
# a port the Service lacks likewise. Counted as drops with their reasons.
drops_before=$(ctl "$n1_SOCK" --json stats | json_get 'j["drops"]')
a=$(in_ns "${ID}c" refused $EMPTY 80)
check "zero endpoints: TCP connect to $EMPTY:80 is refused in < 1 s (got '$a')" \
  sh -c "echo '$a' | awk '\$1 == \"refused\" && \$2 < 1 {ok=1} END {exit !ok}'"
a=$(in_ns "${ID}c" udp $EMPTY 53 --connect)
check_eq "zero endpoints: UDP to $EMPTY:53 gets ICMP port unreachable (ConnectionRefusedError)" refused "$a"
a=$(in_ns "${ID}c" refused $WEB 81)
check "a port not in the Service: TCP $WEB:81 is refused in < 1 s (got '$a')" \
  sh -c "echo '$a' | awk '\$1 == \"refused\" && \$2 < 1 {ok=1} END {exit !ok}'"
a=$(in_ns "${ID}c" udp $WEB 54 --connect)
check_eq "a port not in the Service: UDP $WEB:54 gets ICMP port unreachable" refused "$a"
sleep 0.5
stats=$(ctl "$n1_SOCK" --json stats)
grown() {  # grown REASON: how much the drop counter REASON grew since drops_before
  json_get "j['drops'].get('$1', 0) - ($drops_before).get('$1', 0)" <<<"$stats"
}
check_eq "podvsctl stats: service_no_endpoints counted the TCP SYN and the UDP datagram" 2 "$(grown service_no_endpoints)"
check_eq "podvsctl stats: service_port_unknown counted the TCP SYN and the UDP datagram" 2 "$(grown service_port_unknown)"
check "podvsctl drops lists service_no_endpoints on the client's port" \
  sh -c "'$PODVSCTL' --socket '$n1_SOCK' drops | grep 'c-$ID' | grep -q service_no_endpoints"
check "metrics export the service_no_endpoints drops" \
  sh -c "curl -sf http://$n1_METRICS/metrics | grep -v '^#' | grep service_no_endpoints | grep -qv ' 0$'"

# The evidence of a failure so far, before the restart resets the counters.
[ "$FAILED" -eq 0 ] || evidence "$n1_SOCK"
check_all_workers_busy "$n1_SOCK"
failed_before_restart=$FAILED

# --- Restart (SIGTERM, same state dir): the Services come back as they were and work.
before=$(ctl "$n1_SOCK" --json service list | json_get 'json.dumps(j, sort_keys=True)')
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops podvsd" sh -c "! kill -0 $n1_PID 2>/dev/null"
start_podvsd n1 "${service_podvsd_flags[@]}" || { finish; exit 1; }
after=$(ctl "$n1_SOCK" --json service list | json_get 'json.dumps(j, sort_keys=True)')
check_eq "after a restart, service list shows the same 9 services (endpoint ports too)" "$before" "$after"
check "service list names default/web-$ID" sh -c "'$PODVSCTL' --socket '$n1_SOCK' service list | grep -q 'web-$ID'"
ok=0
for _ in $(seq 25); do
  answer=$(in_ns "${ID}c" ask $WEB 80)
  matches "$answer" "s[123] 8080 $ip_c" && { ok=1; break; }
  sleep 0.2
done
check "after a restart, a connection to $WEB:80 succeeds within 5 s (got '$answer')" test $ok = 1
a=$(in_ns "${ID}c" udp $DNS 53 --sport 40054)
check "after a restart, default/dns answers without the removed endpoint $x (got '$a')" \
  sh -c "echo '$a' | grep -qE '^$DNS:53 s[123] 5353 ' && ! echo '$a' | grep -q ' $x '"

# --- A crash (kill -9) shortly after a change: saves are group-committed within 100 ms
# (ServiceStore::kFlushDelay), so a change half a second old survives.
check "service add default/dns with $x back (3 endpoints)" \
  svc_add "$n1_SOCK" "default/dns-$ID" --cluster-ip $DNS --port udp:53:5353 "${all_eps[@]}"
before=$(ctl "$n1_SOCK" --json service list | json_get 'json.dumps(j, sort_keys=True)')
sleep 0.5
kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
start_podvsd n1 "${service_podvsd_flags[@]}" || { finish; exit 1; }
after=$(ctl "$n1_SOCK" --json service list | json_get 'json.dumps(j, sort_keys=True)')
check_eq "after kill -9 and a restart, service list is as before the crash" "$before" "$after"
ok=0
for _ in $(seq 25); do
  a=$(in_ns "${ID}c" udp $DNS 53 --sport 40053 --timeout 0.5)
  matches "$a" "$DNS:53 s[123] 5353 $ip_c" && { ok=1; break; }
  sleep 0.2
done
check "after kill -9 and a restart, $DNS:53 answers within 5 s (got '$a')" test $ok = 1

[ "$FAILED" -eq "$failed_before_restart" ] || evidence "$n1_SOCK"
finish
