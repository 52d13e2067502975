# Shared helpers for integration tests: real podvsd, real network namespaces, real packets.
# Every test sources this file, calls its functions, and ends with `finish`. Everything a test
# creates carries a unique suffix and is removed by an EXIT trap, also on failure.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${PODVS_BUILD:-$TOP/build}
PODVSD=${PODVSD:-$BUILD/podvsd}
PODVSCTL=${PODVSCTL:-$BUILD/podvsctl}
# Short and unique: it ends up in interface names (15 characters at most).
ID=${ID:-$(printf 't%x' $(( ($$ + RANDOM) % 0xfffff )))}
WORK=/tmp/podvs-it-$ID
mkdir -p "$WORK"

PASSED=0
FAILED=0
NETNS=()
PIDS=()
DAEMON_PIDS=()

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }

pass() { PASSED=$((PASSED + 1)); log "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); log "FAIL: $*"; }
# check "what" command...: the command's success is the assertion.
check() {
  local what=$1; shift
  if "$@" >"$WORK/last.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/    /' "$WORK/last.out" | tail -20; fi
}
matches() { [[ "$1" == $2 ]]; }  # matches VALUE GLOB
# wait_for SECONDS COMMAND...: the command succeeds within SECONDS.
wait_for() {
  local end=$((SECONDS + $1)); shift
  while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  "$@"
}
check_eq() {  # check_eq "what" expected actual
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${DAEMON_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  local ns
  for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

make_netns() {  # make_netns NAME: creates netns <NAME> (name is used verbatim; include $ID)
  ip netns add "$1" && NETNS+=("$1")
}

# start_podvsd NAME [podvsd flags...]: one daemon with its own socket, state, DPDK prefix, host
# port and metrics port. Sets <NAME>_SOCK and <NAME>_PID. Idle back-off is on so that the
# daemon, the pods and the test share a 2-core machine.
start_podvsd() {
  local name=$1; shift
  local dir=$WORK/$name
  mkdir -p "$dir"
  # A restart appends to the same log: wait for one more "ready" line than there is now.
  local ready_before
  ready_before=$(grep -c "ready:" "$dir/log" 2>/dev/null)
  local metrics_port=$(( 20000 + ($$ + ${#DAEMON_PIDS[@]} * 7) % 20000 ))
  "$PODVSD" --socket "$dir/podvsd.sock" --state-dir "$dir/state" --file-prefix "pv$ID$name" \
    --host-port "${HOSTPORT_PREFIX:-pv}$ID$name" --vhost-dir "$dir/vhost" \
    --metrics-listen "127.0.0.1:$metrics_port" --mbufs "${MBUFS:-16383}" \
    --idle-backoff-polls "${BACKOFF_POLLS:-1000}" --idle-backoff-us 50 "$@" >>"$dir/log" 2>&1 &
  local pid=$!
  DAEMON_PIDS+=("$pid")
  printf -v "${name}_SOCK" '%s' "$dir/podvsd.sock"
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_METRICS" '%s' "127.0.0.1:$metrics_port"
  printf -v "${name}_HOSTPORT" '%s' "${HOSTPORT_PREFIX:-pv}$ID$name"
  for _ in $(seq 150); do
    [ "$(grep -c "ready:" "$dir/log")" -gt "${ready_before:-0}" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "podvsd $name did not come up; its log:"
  sed 's/^/    /' "$dir/log"
  return 1
}

daemon_log() { cat "$WORK/$1/log"; }

# pod_cidrs N: N distinct /24s of 10.244.0.0/16 for this run's daemons, derived from $ID and not
# routed on this host. podvsd routes its pod CIDR to its host port in the host's namespace, so
# two daemons with one CIDR on one machine (tests run side by side) take that route from each
# other: the node's own answers to one's pods (a TCP reset from a port nobody listens on, say)
# go to the other, which drops them as no_route, and the route is gone once the other stops.
pod_cidrs() {
  local n=$(( $(printf '%s' "$ID" | cksum | cut -d' ' -f1) % 150 + 100 )) found=0 tries=0
  while [ "$found" -lt "$1" ] && [ "$tries" -lt 150 ]; do
    if [ -z "$(ip -4 route show "10.244.$n.0/24")" ]; then
      echo "10.244.$n.0/24"
      found=$((found + 1))
    fi
    n=$(( (n - 99) % 150 + 100 )) tries=$((tries + 1))
  done
}

ctl() {  # ctl SOCK args...
  local sock=$1; shift
  "$PODVSCTL" --socket "$sock" "$@"
}

# add_tap_pod SOCK POD_ID NETNS -> prints the pod's IP
add_tap_pod() {
  ctl "$1" --json pod add --id "$2" --netns "/var/run/netns/$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ip"])'
}

# csum_errors NETNS: the namespace's checksum error counters (IP, UDP, TCP), summed. A receiving
# kernel drops a segment with a bad checksum and counts it here: a transfer that completes with
# this unchanged carried correct checksums.
csum_errors() {
  ip netns exec "$1" nstat -az 2>/dev/null |
    awk '$1 ~ /^(IpExtInCsumErrors|UdpInCsumErrors|TcpInCsumErrors|TcpExtTCPCsumErrors)$/ {s += $2} END {print s + 0}'
}

# worker_rx_deltas BEFORE AFTER: packets each worker received between two `stats --json`
# documents, space-separated in worker order.
worker_rx_deltas() {
  printf '%s\n' "$1" "$2" | python3 -c '
import json, sys
docs = json.JSONDecoder()
text = sys.stdin.read()
a, end = docs.raw_decode(text)
b, _ = docs.raw_decode(text[end:].lstrip())
before = {w["worker"]: w["rx_packets"] for w in a["workers"]}
print(" ".join(str(w["rx_packets"] - before[w["worker"]]) for w in b["workers"]))'
}

json_get() {  # json_get EXPR: evaluates a Python expression over the JSON on stdin, bound to j
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

# --workers for start_podvsd: WORKERS of them (1 unless the test runs with WORKERS=2), all on the
# last CPU, taking turns through idle back-off so that they fit a 2-core machine.
worker_cpus() {
  local cpu=$(( $(nproc) - 1 )) list=""
  for _ in $(seq "${WORKERS:-1}"); do list+=${list:+,}$cpu; done
  echo "$list"
}

# port_worker SOCK WHAT: the worker polling the port of pod WHAT, the port named WHAT, or the
# port of kind WHAT (uplink, host), from podvsctl port list.
port_worker() {
  ctl "$1" --json port list |
    json_get "[p['worker'] for p in j if '$2' in (p['pod_id'], p['name'], p['kind'])][0]"
}

# With several workers, checks (and logs) that the two ports are polled by different workers, so
# that the scenarios after it cross workers: a connection's two directions are received by each.
check_apart() {  # check_apart SOCK WHAT WHAT
  [ "${WORKERS:-1}" -gt 1 ] || return 0
  local a b
  a=$(port_worker "$1" "$2") b=$(port_worker "$1" "$3")
  check "$2 (worker $a) and $3 (worker $b) are polled by different workers" test "$a" != "$b"
}

# With several workers, checks that every worker received packets: the scenarios before it ran
# on all of them.
check_all_workers_busy() {  # check_all_workers_busy SOCK
  [ "${WORKERS:-1}" -gt 1 ] || return 0
  local busy
  busy=$(ctl "$1" --json stats | json_get 'sum(1 for w in j["workers"] if w["rx_packets"] > 0)')
  check_eq "all $WORKERS workers received packets" "$WORKERS" "$busy"
}

# For benchmarks: median and "min / max" of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR==1{min=$1} {max=$1} END {print min " / " max}'; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
