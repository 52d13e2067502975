#!/usr/bin/env bash
# TCP between two network namespaces through podvs's tap backend alone (podvs-tap-forward: two
# taps with virtio-net headers and TSO, one core moving frames with readv/writev, no pipeline), with
# super-frames passed whole and with software segmentation, against a veth pair in the same run.
# The ceiling the tap backend puts on kernel pods. Prints a Markdown table.
#   perf/tap_forward_iperf.sh [SECONDS] [REPETITIONS]
seconds=${1:-10}
reps=${2:-3}
source "$(dirname "$0")/../tests/integration/lib.sh"
FORWARD=${FORWARD:-$BUILD/perf/podvs-tap-forward}

iperf_gbps() {  # iperf_gbps CLIENT_NS SERVER_NS SERVER_IP
  ip netns exec "$2" iperf3 -s -1 -B "$3" -p 5301 >/dev/null 2>&1 &
  local srv=$!
  sleep 0.5
  timeout $((seconds + 20)) ip netns exec "$1" iperf3 -c "$3" -p 5301 -t "$seconds" -J 2>/dev/null |
    json_get '"%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9)'
  wait "$srv" 2>/dev/null
}

nstat_csum_errors() {  # nstat_csum_errors NS: the kernel's TCP checksum error counters, summed
  ip netns exec "$1" nstat -asz TcpInCsumErrors TcpExtTCPCsumErrors 2>/dev/null |
    awk '/Csum/ {s += $2} END {print s + 0}'
}

# tap_run MODE: one iperf3 run through podvs-tap-forward (MODE "" or --segment); prints Gbit/s
# and keeps the forwarder's counters in $WORK/forward.json.
tap_run() {
  "$FORWARD" "${ID}a" "${ID}b" $((seconds + 6)) $1 >"$WORK/forward.out" 2>&1 &
  local fwd=$!
  PIDS+=("$fwd")
  for _ in $(seq 50); do grep -q ready "$WORK/forward.out" && break; sleep 0.1; done
  ip -n "${ID}a" addr add 192.0.2.1/24 dev tfwd0 && ip -n "${ID}a" link set tfwd0 up
  ip -n "${ID}b" addr add 192.0.2.2/24 dev tfwd0 && ip -n "${ID}b" link set tfwd0 up
  ip netns exec "${ID}a" ping -c 1 -W 2 192.0.2.2 >/dev/null
  iperf_gbps "${ID}a" "${ID}b" 192.0.2.2
  wait "$fwd"
  tail -1 "$WORK/forward.out" >"$WORK/forward.json"
}

make_netns "${ID}a" && make_netns "${ID}b"
make_netns "${ID}va" && make_netns "${ID}vb"
ip link add "v${ID}a" netns "${ID}va" type veth peer name "v${ID}b" netns "${ID}vb"
ip -n "${ID}va" addr add 192.0.2.1/24 dev "v${ID}a" && ip -n "${ID}va" link set "v${ID}a" up
ip -n "${ID}vb" addr add 192.0.2.2/24 dev "v${ID}b" && ip -n "${ID}vb" link set "v${ID}b" up

whole=() segmented=() veth=() frame_kib=()
errors_before=$(( $(nstat_csum_errors "${ID}a") + $(nstat_csum_errors "${ID}b") ))
for r in $(seq "$reps"); do
  whole+=("$(tap_run "")")
  frame_kib+=("$(json_get '"%.1f" % (j["a_to_b"]["bytes"] / max(1, j["a_to_b"]["frames"]) / 1024)' <"$WORK/forward.json")")
  segmented+=("$(tap_run --segment)")
  veth+=("$(iperf_gbps "${ID}va" "${ID}vb" 192.0.2.2)")
done
errors_after=$(( $(nstat_csum_errors "${ID}a") + $(nstat_csum_errors "${ID}b") ))
echo
echo "| path | TCP Gbit/s median | min / max |"
echo "| --- | --- | --- |"
echo "| netns -> podvs tap backend, super-frames whole -> netns | $(median "${whole[@]}") | $(minmax "${whole[@]}") |"
echo "| netns -> podvs tap backend, segmented in software -> netns | $(median "${segmented[@]}") | $(minmax "${segmented[@]}") |"
echo "| netns -> veth pair -> netns | $(median "${veth[@]}") | $(minmax "${veth[@]}") |"
echo
echo "Average frame read from the sender's tap, KiB (one readv() each; whole, median): $(median "${frame_kib[@]}"); TCP checksum errors in the namespaces: $errors_before before, $errors_after after"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ${seconds}s per run, $reps runs each, interleaved; $(uname -r)"
finish >/dev/null
