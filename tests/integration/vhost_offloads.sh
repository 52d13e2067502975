#!/usr/bin/env bash
# Offloads between DPDK pods (vhost-user) and kernel pods (tap), with real virtio drivers: DPDK's
# virtio_user PMD in tests/tools/vhost_offload_pod.cc negotiates CSUM/GUEST_CSUM/TSO with podvsd
# (or not) and writes and checks the virtio-net headers.
#   - A TCP super-frame from a kernel pod (a packet socket with a virtio-net header asking for
#     TSO) reaches a DPDK pod that took TSO whole, with a correct header, and one that did not as
#     MSS-sized segments with correct checksums.
#   - A partial UDP checksum from a DPDK pod reaches a pod without checksum offload completed, a
#     pod with it still partial (pseudo-header sum), and a kernel pod intact with no checksum
#     error counted in its namespace.
#   - A header asking for TSO with segments of 0 bytes is dropped and counted on the sender's port
#     (rte_vhost leaves of it a partial checksum on a frame longer than the MTU:
#     virtio_oversized_frame), and the worker keeps forwarding the good datagrams that follow.
source "$(dirname "$0")/lib.sh"

POD=${VHOST_OFFLOAD_POD:-$BUILD/tests/vhost_offload_pod}
[ -x "$POD" ] || { log "vhost_offload_pod missing ($POD)"; exit 1; }
HERE=$(dirname "$0")
PAYLOAD=20000 MSS=1400

start_podvsd n1 --pod-cidr "$(pod_cidrs 1)" || exit 1
make_netns "${ID}a"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
mac_a=$(ctl "$n1_SOCK" --json pod get --id "pod-a-$ID" | json_get 'j["mac"]')

add_vhost_pod() {  # add_vhost_pod NAME: sets <NAME>_IP, <NAME>_MAC, <NAME>_SOCK
  local pod
  pod=$(ctl "$n1_SOCK" --json pod add --id "$1-$ID" --kind vhost-user) || return 1
  printf -v "$1_IP" '%s' "$(echo "$pod" | json_get 'j["ip"]')"
  printf -v "$1_MAC" '%s' "$(echo "$pod" | json_get 'j["mac"]')"
  printf -v "$1_SOCK" '%s' "$(echo "$pod" | json_get 'j["socket_path"]')"
}
add_vhost_pod dpo  # a DPDK pod that takes offloads when the test asks it to
add_vhost_pod dpp  # another, the receiving end of DPDK-to-DPDK traffic

# run_pod NAME ARGS...: vhost_offload_pod as pod NAME (its EAL on CPU 0, the worker has the last).
run_pod() {
  local name=$1; shift
  local sock_var=${name}_SOCK mac_var=${name}_MAC ip_var=${name}_IP
  "$POD" --lcores=0@0 --no-pci --in-memory --single-file-segments --file-prefix="vo$ID$name" \
    --log-level=4 --vdev="net_virtio_user0,path=${!sock_var},server=1,queues=1,mac=${!mac_var}" \
    -- --mac "${!mac_var}" --ip "${!ip_var}" "$@"
}
# start_pod NAME ARGS...: run_pod in the background; POD_PID is its pid, its output $WORK/NAME.out
start_pod() {
  local name=$1
  run_pod "$@" >"$WORK/$name.out" 2>&1 &
  POD_PID=$!
  PIDS+=("$POD_PID")
}
wait_link() {  # wait_link POD_ID
  for _ in $(seq 150); do
    [ "$(ctl "$n1_SOCK" --json port list | json_get "[p['link'] for p in j if p['pod_id'] == '$1'][0]")" = up ] && return 0
    sleep 0.1
  done
  return 1
}
wait_pod() {  # wait_pod NAME: the background pod's exit status; its output goes to the log
  wait "$POD_PID"
  local rc=$?
  sed 's/^/    /' "$WORK/$1.out"
  return $rc
}
drops() {  # drops POD_ID REASON
  ctl "$n1_SOCK" --json port list |
    json_get "sum(p['drops'].get('$2', 0) for p in j if p['pod_id'] == '$1')"
}
send_gso() {
  ip netns exec "${ID}a" python3 "$HERE/send_gso.py" eth0 "$mac_a" "$ip_a" "$1" "$PAYLOAD" "$MSS"
}

# 1. Kernel pod -> DPDK pod that took TSO: the super-frame arrives whole.
start_pod dpo --offloads recv-whole --payload "$PAYLOAD" --mss "$MSS" --timeout 20
check "the DPDK pod with offloads connects" wait_link "dpo-$ID"
check "send a TCP super-frame from the kernel pod" send_gso "$dpo_IP"
check "a pod with TSO gets the super-frame whole, with a correct virtio-net header" wait_pod dpo

# 2. The same to a DPDK pod without offloads: correct segments.
start_pod dpp recv-segments --payload "$PAYLOAD" --mss "$MSS" --timeout 20
check "the DPDK pod without offloads connects" wait_link "dpp-$ID"
check "send a TCP super-frame from the kernel pod" send_gso "$dpp_IP"
check "a pod without TSO gets MSS-sized segments with correct checksums" wait_pod dpp

# 3. Partial checksums from a DPDK pod.
start_pod dpp recv-udp --count 5 --payload 1000 --timeout 20
check "the receiving DPDK pod connects" wait_link "dpp-$ID"
check "a DPDK pod sends datagrams with partial checksums" \
  run_pod dpo --offloads send-udp-partial --peer "$dpp_IP" --count 5 --payload 1000
check "a pod without checksum offload gets them completed" wait_pod dpp

start_pod dpp --offloads recv-udp --count 5 --payload 1000 --timeout 20
check "the receiving DPDK pod reconnects, now taking offloads" wait_link "dpp-$ID"
check "a DPDK pod sends datagrams with partial checksums" \
  run_pod dpo --offloads send-udp-partial --peer "$dpp_IP" --count 5 --payload 1000
check "a pod with checksum offload gets them partial, with the pseudo-header sum" wait_pod dpp

# kernel_receiver LENGTH: the kernel pod waits (up to 20 s) for 5 UDP datagrams of LENGTH bytes on
# port 7777 and writes how many arrived with the sender's pattern to $WORK/kernel.out
# ($RECV_PID: its PID).
kernel_receiver() {
  ip netns exec "${ID}a" python3 "$HERE/recv_udp.py" 7777 5 "$1" 20 >"$WORK/kernel.out" 2>&1 &
  RECV_PID=$!
  PIDS+=("$RECV_PID")
  sleep 0.5
}
errors_before=$(csum_errors "${ID}a")
kernel_receiver 1000
check "a DPDK pod sends datagrams with partial checksums to the kernel pod" \
  run_pod dpo --offloads send-udp-partial --peer "$ip_a" --count 5 --payload 1000
wait "$RECV_PID"
check_eq "the kernel pod receives all 5 intact" 5 "$(cat "$WORK/kernel.out")"
check_eq "and counts no checksum error" "$errors_before" "$(csum_errors "${ID}a")"

# 4. A malformed header: TSO with segments of 0 bytes.
bad_before=$(drops "dpo-$ID" virtio_oversized_frame)
kernel_receiver 100
check "a DPDK pod sends frames asking for TSO into 0-byte segments, then good datagrams" \
  run_pod dpo --offloads send-bad-tso --peer "$ip_a" --count 5 --payload 1900
wait "$RECV_PID"
check_eq "each is dropped as virtio_oversized_frame on the sender's port" \
  $((bad_before + 5)) "$(drops "dpo-$ID" virtio_oversized_frame)"
check_eq "the worker keeps forwarding: the good datagrams after them arrive" 5 "$(cat "$WORK/kernel.out")"
ctl "$n1_SOCK" port list | sed 's/^/    /'
finish
