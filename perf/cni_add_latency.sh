#!/usr/bin/env bash
# ADD latency of podvs-cni through the real plugin and a real podvsd: 100 ADD+DEL cycles of kernel
# (tap) pods, each ADD timed from exec to exit as a runtime sees it. Pods live in a sliding window
# of at most WINDOW at once (a podvsd holds max_pods, default 250, and the pod CIDR's addresses), so
# every ADD runs with 0..WINDOW-1 other pods attached. Prints p50/p90/p99/max for ADD and DEL.
#
#   sudo PODVSD=build/podvsd PODVSCTL=build/podvsctl PODVS_CNI=build/cni-shim/podvs-cni \
#     bash perf/cni_add_latency.sh
source "$(dirname "$0")/../tests/integration/lib.sh"
source "$(dirname "$0")/../tests/integration/cni_lib.sh"

CYCLES=${CYCLES:-100}
WINDOW=${WINDOW:-10}
start_podvsd n1 || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
for s in $(seq 0 $((WINDOW - 1))); do make_netns "${ID}p$s"; done

now_us() { echo $(( $(date +%s%N) / 1000 )); }
: >"$WORK/add.us"; : >"$WORK/del.us"
del_pod() {  # del_pod I
  local t0; t0=$(now_us)
  cni DEL "lat$1-$ID" "/var/run/netns/${ID}p$(( $1 % WINDOW ))" eth0 "$c" || fail "DEL lat$1: $(out)"
  echo $(( $(now_us) - t0 )) >>"$WORK/del.us"
}
for i in $(seq 0 $((CYCLES - 1))); do
  [ "$i" -ge "$WINDOW" ] && del_pod $((i - WINDOW))
  t0=$(now_us)
  cni ADD "lat$i-$ID" "/var/run/netns/${ID}p$(( i % WINDOW ))" eth0 "$c" || fail "ADD lat$i: $(out)"
  echo $(( $(now_us) - t0 )) >>"$WORK/add.us"
done
for i in $(seq $((CYCLES > WINDOW ? CYCLES - WINDOW : 0)) $((CYCLES - 1))); do del_pod "$i"; done
check_eq "every address was released" 0 "$(addresses_used "$n1_SOCK")"

report() {
  python3 - "$1" "$2" <<'PY'
import sys
name, path = sys.argv[1:]
v = sorted(int(x) / 1000 for x in open(path))
pct = lambda p: v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
print("%s over %d: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms" % (name, len(v), pct(50), pct(90), pct(99), v[-1]))
PY
}
report "podvs-cni ADD" "$WORK/add.us"
report "podvs-cni DEL" "$WORK/del.us"
finish
