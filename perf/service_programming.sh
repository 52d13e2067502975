#!/usr/bin/env bash
# Control-plane cost of Services: how long `podvsctl service load` takes to program SERVICES
# Services with PER endpoints each (default 10,000 and 10: 100,000 endpoints) into a fresh podvsd,
# podvsd's memory before and after, and how long a restart takes to restore them all.
#
# Service i has ClusterIP 10.96.0.0 + i + 1 (10.96.0.0/16), port http=tcp:80:8080 and, every other
# one, dns=udp:53:5353; its endpoints are addresses of the node's pod CIDR (10.244.0.0/24, shared
# between Services). The last Service's endpoints are PER kernel pods, each running a TCP server
# on 8080 that answers with its index, and a client pod connects to that Service's ClusterIP:80
# again and again (a new source port each time): every connection must be answered, which shows
# the last Service programmed is in the data path, and the answers show how many endpoints
# Maglev spread the connections over. The same check runs again after the restart.
#   perf/service_programming.sh [SERVICES] [PER]
# Prints a table and, last, one line "JSON {...}" (perf/bench.py reads it).
services=${1:-10000}
per=${2:-10}
connections=$((per * 3))
source "$(dirname "$0")/../tests/integration/lib.sh"

# The client and PER endpoint pods share one podvsd, which holds max_pods pods (250 by default).
max_per=249
if [ "$per" -lt 1 ] || [ "$per" -gt "$max_per" ] || [ "$services" -lt 1 ] || [ "$services" -gt 65000 ]; then
  echo "usage: $0 [SERVICES (1-65000)] [PER (1-$max_per)]" >&2
  exit 2
fi
PY=/usr/bin/python3
now_us() { echo $(( $(date +%s%N) / 1000 )); }
secs() { awk -v us="$1" 'BEGIN {printf "%.3f", us / 1e6}'; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
service_count() { ctl "$n1_SOCK" --json service list | json_get 'len(j)'; }

# connect_all: connects to the last Service $connections times from the client pod; prints
# "<answered> <distinct endpoints>".
connect_all() {
  ip netns exec "${ID}c" "$PY" - "$last_vip" "$connections" <<'EOF'
import socket, sys
vip, n = sys.argv[1], int(sys.argv[2])
answered, endpoints = 0, set()
for _ in range(n):
    try:
        with socket.create_connection((vip, 80), timeout=2) as s:
            s.settimeout(2)
            reply = s.recv(64).strip()
            if reply:
                answered += 1
                endpoints.add(reply)
    except OSError:
        pass
print(answered, len(endpoints))
EOF
}

t0=$(now_us)
start_podvsd n1 || exit 1
fresh_ready_us=$(( $(now_us) - t0 ))  # a start with nothing to restore, for comparison
make_netns "${ID}c" || exit 1
ctl "$n1_SOCK" pod add --id "svc-client-$ID" --netns "/var/run/netns/${ID}c" >/dev/null || exit 1
endpoint_ips=()
for j in $(seq 0 $((per - 1))); do
  make_netns "${ID}e$j" || exit 1
  ip=$(add_tap_pod "$n1_SOCK" "svc-ep$j-$ID" "${ID}e$j") || exit 1
  endpoint_ips+=("$ip")
  ip netns exec "${ID}e$j" "$PY" - "$j" <<'EOF' >/dev/null 2>&1 &
import socket, sys
server = socket.create_server(("0.0.0.0", 8080), backlog=64)
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(sys.argv[1].encode() + b"\n")
EOF
  PIDS+=($!)
  disown $!  # lib.sh's cleanup kills it; no "Killed" notice from the shell
done

# The Services file: one `service add` argument list per line.
file=$WORK/services.txt
"$PY" - "$services" "$per" "${endpoint_ips[@]}" >"$file" <<'EOF'
import ipaddress, sys
services, per, last_endpoints = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
first_vip = ipaddress.IPv4Address("10.96.0.1")
pod_net = ipaddress.IPv4Address("10.244.0.0")
for i in range(services):
    ports = "--port http=tcp:80:8080" + (" --port dns=udp:53:5353" if i % 2 else "")
    if i == services - 1:
        endpoints = last_endpoints
    else:  # .2 to .251, PER consecutive (and so distinct) addresses per Service
        endpoints = [str(pod_net + 2 + (i * per + j) % 250) for j in range(per)]
    print(f"bench/svc{i} --cluster-ip {first_vip + i} {ports} "
          + " ".join(f"--endpoint {e}" for e in endpoints))
EOF
last_vip=$(tail -1 "$file" | awk '{print $3}')

rss_before=$(rss_mb "$n1_PID")
t0=$(now_us)
ctl "$n1_SOCK" service load "$file" >"$WORK/load.out" 2>&1 || { fail "service load: $(tail -3 "$WORK/load.out")"; finish; exit 1; }
load_us=$(( $(now_us) - t0 ))
rss_after=$(rss_mb "$n1_PID")
t0=$(now_us)
listed=$(service_count)
list_us=$(( $(now_us) - t0 ))
check_eq "service list holds every Service" "$services" "$listed"
read -r answered reached <<<"$(connect_all)"
check_eq "every connection to the last Service answered" "$connections" "$answered"

# Restart: a clean stop, then a start on the same state directory; timed to "ready", to the first
# connection through the last Service answered, and to every Service listed.
kill -TERM "$n1_PID"
for _ in $(seq 100); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
t0=$(now_us)
# start_podvsd gives up after 15 s, which restoring many Services may take: keep waiting for the
# second "ready" line here (its failure message is not one).
start_podvsd n1 >/dev/null 2>&1
until [ "$(grep -c "ready:" "$WORK/n1/log")" -ge 2 ]; do
  kill -0 "$n1_PID" 2>/dev/null || { fail "podvsd died restoring the Services"; tail -5 "$WORK/n1/log"; finish; exit 1; }
  [ $(( $(now_us) - t0 )) -gt 300000000 ] && { fail "podvsd not ready 300 s after the restart"; finish; exit 1; }
  sleep 0.05
done
ready_us=$(( $(now_us) - t0 ))
# The data path first (one connection is quick), then the API (listing every Service takes a
# while itself: list_us).
saved=$connections
connections=1
until [ "$(connect_all | awk '{print $1}')" = 1 ]; do
  [ $(( $(now_us) - t0 )) -gt 60000000 ] && { fail "last Service not reachable within 60 s of the restart"; break; }
done
reachable_us=$(( $(now_us) - t0 ))
connections=$saved
until [ "$(service_count 2>/dev/null)" = "$services" ]; do
  [ $(( $(now_us) - t0 )) -gt 60000000 ] && { fail "not every Service back within 60 s"; break; }
  sleep 0.01
done
listed_us=$(( $(now_us) - t0 ))
rss_restart=$(rss_mb "$n1_PID")
read -r answered_restart reached_restart <<<"$(connect_all)"
check_eq "every connection to the last Service answered after the restart" "$connections" "$answered_restart"

rate=$(awk -v n="$services" -v us="$load_us" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
echo
echo "| $services Services, $((services * per)) endpoints | value |"
echo "| --- | --- |"
echo "| podvsctl service load, s | $(secs "$load_us") |"
echo "| Services programmed per second | $rate |"
echo "| podvsd RSS before / after, MiB | $rss_before / $rss_after |"
echo "| podvsctl --json service list (every Service), s | $(secs "$list_us") |"
echo "| restart: to ready / last Service answering / every Service listed, s | $(secs "$ready_us") / $(secs "$reachable_us") / $(secs "$listed_us") |"
echo "| first start (nothing to restore) to ready, s | $(secs "$fresh_ready_us") |"
echo "| podvsd RSS after the restart, MiB | $rss_restart |"
echo "| last Service: connections answered, endpoints reached (before / after restart) | $answered/$connections, $reached / $answered_restart/$connections, $reached_restart |"
echo "podvsctl: $(tail -1 "$WORK/load.out")"
echo "JSON {\"services\": $services, \"endpoints\": $((services * per)), \"load_s\": $(secs "$load_us"), \"services_per_second\": $rate, \"rss_mb_before\": $rss_before, \"rss_mb_after\": $rss_after, \"rss_mb_after_restart\": $rss_restart, \"restart_ready_s\": $(secs "$ready_us"), \"restart_listed_s\": $(secs "$listed_us"), \"restart_reachable_s\": $(secs "$reachable_us"), \"fresh_start_ready_s\": $(secs "$fresh_ready_us"), \"list_s\": $(secs "$list_us"), \"connections\": $connections, \"answered\": $answered, \"endpoints_reached\": $reached, \"answered_after_restart\": $answered_restart, \"endpoints_reached_after_restart\": $reached_restart, \"failed_checks\": $FAILED}"
finish >/dev/null
