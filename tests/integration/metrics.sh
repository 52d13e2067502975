#!/usr/bin/env bash
# The Prometheus endpoint under traffic, read by a real Prometheus: the exposition passes
# promtool, counters move by exactly the traffic sent, drops appear under their reason and pod,
# API calls are counted, and every query of the shipped dashboard works.
source "$(dirname "$0")/lib.sh"

start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
mac_a=$(ctl "$n1_SOCK" --json pod get --id "pod-a-$ID" | json_get 'j["mac"]')
ip netns exec "${ID}a" ping -c 1 -W 2 "$ip_b" >/dev/null

curl -sf "http://$n1_METRICS/metrics" >"$WORK/metrics.txt"
check "promtool check metrics accepts the exposition" sh -c "promtool check metrics <'$WORK/metrics.txt'"

prom_port=$(( 30000 + ($$ % 20000) ))
cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: podvs
    static_configs: [{targets: ["$n1_METRICS"]}]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM="http://127.0.0.1:$prom_port"
query() {  # query PROMQL -> the single value, or "none"
  curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
    json_get 'j["data"]["result"][0]["value"][1] if j["data"]["result"] else "none"'
}
wait_value() {  # wait_value PROMQL EXPECTED: Prometheus sees EXPECTED within 20 s
  for _ in $(seq 100); do
    [ "$(query "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.2
  done
  echo "last value of $1: $(query "$1")"; return 1
}
check "Prometheus scrapes podvsd" wait_value 'up{job="podvs"}' 1

rx_a() { ctl "$n1_SOCK" --json port list | json_get "[p['rx_packets'] for p in j if p['pod_id'] == 'pod-a-$ID'][0]"; }
sel="pod_id=\"pod-a-$ID\""
before=$(rx_a)
check "Prometheus has pod a's counter" wait_value "podvs_port_rx_packets_total{$sel}" "$before"
ip netns exec "${ID}a" ping -c 100 -i 0.01 -q "$ip_b" >/dev/null
after=$(rx_a)
check "podvsctl counted at least the 100 echo requests" test $((after - before)) -ge 100
check "Prometheus sees the counter move by exactly that ($before -> $after)" \
  wait_value "podvs_port_rx_packets_total{$sel}" "$after"

ip netns exec "${ID}a" python3 "$(dirname "$0")/send_frames.py" eth0 spoofed_ip 25 "$mac_a" "$ip_a" "$ip_b"
check "25 forged frames appear as spoofed_source drops of pod a" \
  wait_value "podvs_port_drops_total{$sel,reason=\"spoofed_source\"}" 25
check "API calls are counted by method and code" \
  wait_value 'sum(podvs_grpc_requests_total{method="AddPod",code="OK"})' 2
check "API latency histogram is exported" \
  wait_value 'count(podvs_grpc_request_duration_seconds_bucket{method="AddPod"}) > 0' 16
check "table occupancy: 2 pod addresses in use" wait_value 'podvs_pod_addresses_used' 2

curl -sf "http://$n1_METRICS/metrics" >"$WORK/metrics.txt"
check "every dashboard query names exported metrics and runs in Prometheus" \
  python3 "$(dirname "$0")/check_dashboard.py" "$TOP/control/dashboards/podvs-grafana.json" "$WORK/metrics.txt" "$PROM"
check "the shipped scrape configuration is valid" promtool check config "$TOP/control/dashboards/prometheus.yml"
finish
