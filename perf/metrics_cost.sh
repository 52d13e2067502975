#!/usr/bin/env bash
# What metrics cost the data path: TCP between two kernel pods through podvsd with and without a
# scrape of /metrics every second, interleaved in one run, with the worker's own cycles per packet
# for each. The scraper is curl, so the figure is the exporter's cost, not that of a Prometheus
# server sharing this small machine's CPUs.
#   perf/metrics_cost.sh [SECONDS] [REPETITIONS]
seconds=${1:-10}
reps=${2:-3}
source "$(dirname "$0")/../tests/integration/lib.sh"

BACKOFF_POLLS=0 start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "perf-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "perf-b-$ID" "${ID}b")
ip netns exec "${ID}a" ping -c 1 -W 2 "$ip_b" >/dev/null

run() {  # run -> "Gbit/s cycles/packet"
  ctl "$n1_SOCK" stats --clear >/dev/null
  ip netns exec "${ID}b" iperf3 -s -1 -B "$ip_b" -p 5302 >/dev/null 2>&1 &
  local srv=$!
  sleep 0.5
  local gbps
  gbps=$(timeout $((seconds + 20)) ip netns exec "${ID}a" iperf3 -c "$ip_b" -p 5302 -t "$seconds" -J 2>/dev/null |
    json_get '"%.3f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)')
  wait "$srv" 2>/dev/null
  echo "$gbps $(ctl "$n1_SOCK" --json stats | json_get 'round(j["workers"][0]["cycles_per_packet"])')"
}

off_g=() off_c=() on_g=() on_c=()
for r in $(seq "$reps"); do
  read -r g c <<<"$(run)"; off_g+=("$g"); off_c+=("$c")
  (while :; do curl -sf "http://$n1_METRICS/metrics" >/dev/null && echo >>"$WORK/scrapes"; sleep 1; done) &
  scraper=$!
  read -r g c <<<"$(run)"; on_g+=("$g"); on_c+=("$c")
  kill "$scraper"; wait "$scraper" 2>/dev/null
done
echo
echo "| metrics | TCP Gbit/s median | min / max | worker cycles/packet (median) |"
echo "| --- | --- | --- | --- |"
echo "| no scrape | $(median "${off_g[@]}") | $(minmax "${off_g[@]}") | $(median "${off_c[@]}") |"
echo "| /metrics scraped every 1 s | $(median "${on_g[@]}") | $(minmax "${on_g[@]}") | $(median "${on_c[@]}") |"
echo
echo "$(nproc) CPUs, ${seconds}s per run, $reps runs each, interleaved; $(wc -l <"$WORK/scrapes") scrapes answered"
finish >/dev/null
