#!/usr/bin/env bash
# TCP throughput between two kernel pods through podvsd (tap ports, one worker core) and, in the
# same run on the same machine, through a plain Linux veth pair; plus the cycles per packet the
# worker reports during the podvs transfer. Prints a Markdown table.
#   perf/kernel_pods_iperf.sh [SECONDS] [REPETITIONS]
seconds=${1:-10}
reps=${2:-3}
source "$(dirname "$0")/../tests/integration/lib.sh"

iperf_gbps() {  # iperf_gbps CLIENT_NS SERVER_NS SERVER_IP
  ip netns exec "$2" iperf3 -s -1 -B "$3" -p 5301 >/dev/null 2>&1 &
  local srv=$!
  sleep 0.5
  timeout $((seconds + 20)) ip netns exec "$1" iperf3 -c "$3" -p 5301 -t "$seconds" -J 2>/dev/null |
    json_get '"%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)'
  wait "$srv" 2>/dev/null
}

# podvs: the worker polls without back-off, as in production.
BACKOFF_POLLS=0 start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "perf-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "perf-b-$ID" "${ID}b")
ip netns exec "${ID}a" ping -c 1 -W 2 "$ip_b" >/dev/null

# veth: the same two-namespace shape without a switch.
make_netns "${ID}va" && make_netns "${ID}vb"
ip link add "v${ID}a" netns "${ID}va" type veth peer name "v${ID}b" netns "${ID}vb"
ip -n "${ID}va" addr add 192.0.2.1/24 dev "v${ID}a" && ip -n "${ID}va" link set "v${ID}a" up
ip -n "${ID}vb" addr add 192.0.2.2/24 dev "v${ID}b" && ip -n "${ID}vb" link set "v${ID}b" up

podvs=() veth=() cpp=()
for r in $(seq "$reps"); do
  ctl "$n1_SOCK" stats --clear >/dev/null
  podvs+=("$(iperf_gbps "${ID}a" "${ID}b" "$ip_b")")
  cpp+=("$(ctl "$n1_SOCK" --json stats | json_get 'round(j["workers"][0]["cycles_per_packet"])')")
  veth+=("$(iperf_gbps "${ID}va" "${ID}vb" 192.0.2.2)")
done
echo
echo "| path | TCP Gbit/s median | min / max | worker cycles/packet (median) |"
echo "| --- | --- | --- | --- |"
echo "| kernel pod -> podvsd (tap, 1 worker) -> kernel pod | $(median "${podvs[@]}") | $(minmax "${podvs[@]}") | $(median "${cpp[@]}") |"
echo "| kernel pod -> veth pair -> kernel pod | $(median "${veth[@]}") | $(minmax "${veth[@]}") | - |"
echo
echo "$(nproc) CPUs, ${seconds}s per run, $reps runs each, interleaved; $(uname -r)"
finish >/dev/null
