#!/usr/bin/env bash
# podvs-agent's Service programming, against the test API server (tests/k8s/apiserver.py) and a
# real podvsd:
# - initial sync: SERVICES Services with an EndpointSlice of PER endpoints each (default 10,000
#   and 10: 100,000 endpoints) are in the API server before the agent starts; measured from the
#   agent's start to its log saying podvsd holds them all, and the agent's memory then;
# - network programming latency (kube-proxy's network_programming_duration_seconds): for
#   SECONDS seconds, RATE EndpointSlice changes per minute (an endpoint's readiness flipped, the
#   slice's endpoints.kubernetes.io/last-change-trigger-time set to the moment of the change),
#   each timed by the agent from that annotation to podvsd's AddService answer; p50/p99/max.
#   perf/agent_programming.sh [SERVICES] [PER] [RATE] [SECONDS]
# Prints a table and, last, one line "JSON {...}".
services=${1:-10000}
per=${2:-10}
rate=${3:-1000}
duration=${4:-60}
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/../tests/integration/agent_lib.sh"
AGENT=${PODVS_AGENT:-$BUILD/podvs-agent}
if [ "$services" -lt 1 ] || [ "$services" -gt 10000 ] || [ "$per" -lt 1 ] || [ "$per" -gt 250 ]; then
  echo "usage: $0 [SERVICES (1-10000)] [PER (1-250)] [RATE per minute] [SECONDS]" >&2
  exit 2
fi
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# cpu_ticks PID [TID]: user + system time of a process (or one of its threads), in clock ticks.
# CPU time, unlike the wall clock, hardly moves with what else runs on this shared VM.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1${2:+/task/$2}/stat" 2>/dev/null || echo 0; }

start_apiserver || exit 1
start_podvsd n1 --workers "$(($(nproc) - 1))" || exit 1

# objects.py load|churn: the Services and slices (load), or RATE changes a minute (churn).
cat >"$WORK/objects.py" <<'PY'
import http.client, json, random, sys, time, datetime
mode, ctl, services, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = http.client.HTTPConnection(ctl)
def put(resource, obj):
    # Bytes, so that the headers and body leave in one segment (no delayed-ACK stall).
    conn.request('PUT', '/objects/' + resource, json.dumps(obj).encode(),
                 {'Content-Type': 'application/json'})
    r = conn.getresponse(); r.read()
    if r.status != 200: sys.exit(f'PUT {resource}: {r.status}')
def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
def service(i):
    ip = f'10.96.{(i + 1) >> 8}.{(i + 1) & 255}'
    return {'metadata': {'name': f's{i}', 'namespace': 'default'},
            'spec': {'type': 'ClusterIP', 'clusterIP': ip, 'clusterIPs': [ip],
                     'ports': [{'name': 'http', 'protocol': 'TCP', 'port': 80, 'targetPort': 8080}]}}
def slice_(i, not_ready=-1):
    eps = [{'addresses': [f'10.244.0.{2 + (i + j) % 250}'], 'conditions': {'ready': j != not_ready}}
           for j in range(per)]
    return {'metadata': {'name': f's{i}-abcde', 'namespace': 'default',
                         'labels': {'kubernetes.io/service-name': f's{i}'},
                         'annotations': {'endpoints.kubernetes.io/last-change-trigger-time': stamp()}},
            'addressType': 'IPv4', 'ports': [{'name': 'http', 'protocol': 'TCP', 'port': 8080}],
            'endpoints': eps}
if mode == 'load':
    for i in range(services):
        put('services', service(i))
        put('endpointslices', slice_(i))
else:
    rate, seconds = int(sys.argv[5]), float(sys.argv[6])
    interval, n, start = 60.0 / rate, 0, time.monotonic()
    while time.monotonic() - start < seconds:
        i = random.randrange(services)
        put('endpointslices', slice_(i, not_ready=n % per))
        n += 1
        time.sleep(max(0.0, start + n * interval - time.monotonic()))
    print(n)
PY
ctl_addr=${C#http://}
log "loading $services Services with $per endpoints each into the API server"
python3 "$WORK/objects.py" load "$ctl_addr" "$services" "$per" || exit 1
# The server keeps every version for its watches to replay; the agent lists first anyway.
post compact

write_kubeconfig "$WORK/kubeconfig"
start_ns=$(date +%s%N)
# podvsd's main thread is its control thread.
control_ticks_before=$(cpu_ticks "$n1_PID" "$n1_PID")
"$AGENT" --kubeconfig "$WORK/kubeconfig" --node-name "bench-$ID" --socket "$n1_SOCK" \
  >"$WORK/agent.log" 2>&1 &
agent_pid=$!
PIDS+=("$agent_pid")
synced() { grep -q "services synced with podvsd" "$WORK/agent.log"; }
for _ in $(seq 1200); do synced && break; kill -0 "$agent_pid" || break; sleep 0.05; done
synced || { log "the agent did not sync: $(tail -5 "$WORK/agent.log")"; exit 1; }
sync_s=$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
# When both LISTs were complete (the log's stamps are whole seconds): the rest of the sync is
# podvsd's.
listed_at=$(sed -n 's/^\([0-9T:-]*\)Z .*: listed [0-9]* objects.*/\1/p' "$WORK/agent.log" | tail -1)
listed_s=$(( $(date -u -d "${listed_at/T/ }" +%s) - start_ns / 1000000000 ))
agent_rss=$(rss_mb "$agent_pid")
hz=$(getconf CLK_TCK)
control_cpu_s=$(awk -v a="$control_ticks_before" -v b="$(cpu_ticks "$n1_PID" "$n1_PID")" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
agent_cpu_s=$(awk -v t="$(cpu_ticks "$agent_pid")" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
podvsd_rss=$(rss_mb "$n1_PID")
in_podvsd=$(ctl "$n1_SOCK" --json service list | json_get 'len(j)')
log "initial sync: $in_podvsd Services in podvsd $sync_s s after the agent started (its LISTs done after ~$listed_s s); agent RSS $agent_rss MiB"

log "churn: $rate EndpointSlice changes per minute for $duration s"
lines_before=$(wc -l <"$WORK/agent.log")
changes=$(python3 "$WORK/objects.py" churn "$ctl_addr" "$services" "$per" "$rate" "$duration")
sleep 1
tail -n +"$((lines_before + 1))" "$WORK/agent.log" |
  sed -n 's/.*: replaced: .*, \([0-9.]*\) ms after the change$/\1/p' >"$WORK/latency"
read -r samples p50 p99 max < <(sort -g "$WORK/latency" | awk '{a[NR] = $1}
  END {if (NR == 0) {print 0, 0, 0, 0; exit}
       p50 = a[int((NR - 1) * 0.50) + 1]; p99 = a[int((NR - 1) * 0.99) + 1]
       print NR, p50, p99, a[NR]}')
agent_rss_after=$(rss_mb "$agent_pid")

printf '\n| podvs-agent, %s Services x %s endpoints | value |\n| --- | --- |\n' "$services" "$per"
printf '| initial sync: agent start to all Services in podvsd, s | %s |\n' "$sync_s"
printf '| of which the LISTs of Services and EndpointSlices, s (whole seconds) | %s |\n' "$listed_s"
printf '| CPU time during the sync: podvsd control thread / agent, s | %s / %s |\n' "$control_cpu_s" "$agent_cpu_s"
printf '| agent RSS after the sync / after the churn, MiB | %s / %s |\n' "$agent_rss" "$agent_rss_after"
printf '| podvsd RSS after the sync, MiB | %s |\n' "$podvsd_rss"
printf '| slice changes made (%s per minute for %s s) / Services replaced | %s / %s |\n' \
  "$rate" "$duration" "$changes" "$samples"
printf '| programming latency p50 / p99 / max, ms | %s / %s / %s |\n\n' "$p50" "$p99" "$max"
echo "JSON {\"services\": $services, \"endpoints_per_service\": $per, \"in_podvsd\": $in_podvsd, \"sync_s\": $sync_s, \"listed_s\": $listed_s, \"control_cpu_s\": $control_cpu_s, \"agent_cpu_s\": $agent_cpu_s, \"agent_rss_mb\": $agent_rss, \"agent_rss_after_mb\": $agent_rss_after, \"changes\": $changes, \"samples\": $samples, \"latency_ms\": {\"p50\": $p50, \"p99\": $p99, \"max\": $max}}"
kill -TERM "$agent_pid"
