#!/usr/bin/env bash
# podvs-cni STATUS and podvsd's limits: ready when podvsd can take a pod, 50 when the pod CIDR or
# its ports are exhausted (and ADD then fails cleanly, holding nothing), 51 within a second
# when podvsd is down or hung; ADD and DEL fail with 11 within 5 s while podvsd is down.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

# ms COMMAND...: runs it and prints its wall time in milliseconds.
elapsed_ms() { local t0; t0=$(date +%s%N); "$@"; echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$WORK/ms"; }

start_podvsd n1 --max-ports 8 || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
check "STATUS: ready" cni STATUS "" "" "" "$c"
check_eq "STATUS prints nothing on success" "" "$(out)"
expect_error "STATUS needs cniVersion 1.1.0" 1 STATUS "" "" "" "$(conf 1.0.0 "$n1_SOCK")"

# Fill every port of the capacity with operator-made vhost-user pods (no netns needed).
max=$(ctl "$n1_SOCK" --json status | json_get 'j["ports_max"] - j["ports_used"]')
for i in $(seq "$max"); do ctl "$n1_SOCK" pod add --id "fill-$i-$ID" --kind vhost-user >/dev/null || break; done
check_eq "every port is taken" True "$(ctl "$n1_SOCK" --json status | json_get 'j["ports_used"] == j["ports_max"]')"
expect_error "STATUS: 50 when the ports are exhausted" 50 STATUS "" "" "" "$c"
check "... saying so" grep -q "max_ports) are in use" "$WORK/out"
used=$(addresses_used "$n1_SOCK")
make_netns "${ID}x"
expect_error "ADD on a full node fails" 102 ADD "ctr-x-$ID" "/var/run/netns/${ID}x" eth0 "$c"
check "... with podvsd's reason" grep -q "no port left" "$WORK/out"
check_eq "the failed ADD holds no address" "$used" "$(addresses_used "$n1_SOCK")"
check "the failed ADD left no interface" sh -c "! ip -n ${ID}x link show eth0 2>/dev/null"
check "the failed ADD left no pod" sh -c "! '$PODVSCTL' --socket '$n1_SOCK' pod get --id ctr-x-$ID 2>/dev/null"
ctl "$n1_SOCK" pod del --id "fill-1-$ID" >/dev/null
check "STATUS: ready again after one pod leaves" cni STATUS "" "" "" "$c"
for i in $(seq 2 "$max"); do ctl "$n1_SOCK" pod del --id "fill-$i-$ID" >/dev/null; done

# A pod CIDR with few addresses: exhaustion of addresses.
start_podvsd n2 --pod-cidr 10.99.0.0/29 || exit 1
c2=$(conf 1.1.0 "$n2_SOCK")
total=$(ctl "$n2_SOCK" --json status | json_get 'j["addresses_total"]')
for i in $(seq "$total"); do ctl "$n2_SOCK" pod add --id "fill-$i-$ID" --kind vhost-user >/dev/null; done
expect_error "STATUS: 50 when the pod CIDR is full" 50 STATUS "" "" "" "$c2"
check "... saying so" grep -q "pod CIDR 10.99.0.0/29 is full" "$WORK/out"
expect_error "ADD with no free address fails" 102 ADD "ctr-y-$ID" "/var/run/netns/${ID}x" eth0 "$c2"
check "... with podvsd's reason" grep -q "the usable addresses of pod_cidr 10.99.0.0/29" "$WORK/out"
check_eq "the failed ADD holds no address" "$total" "$(addresses_used "$n2_SOCK")"

# podvsd hung (stopped): STATUS still answers, after its 0.5 s deadline (kStatusTimeout). The
# bound checked leaves room for starting the shim on a loaded machine (CI runs the tests while
# other work shares the two cores).
kill -STOP "$n1_PID"
elapsed_ms cni STATUS "" "" "" "$c"
check_eq "STATUS with podvsd hung: 51" 51 "$(error_code)"
check "... bounded by the shim's 0.5 s deadline, not hanging ($(cat "$WORK/ms") ms < 1500)" test "$(cat "$WORK/ms")" -lt 1500
kill -CONT "$n1_PID"

# podvsd down.
kill -9 "$n1_PID"; wait "$n1_PID" 2>/dev/null
elapsed_ms cni STATUS "" "" "" "$c"
check_eq "STATUS with podvsd down: 51" 51 "$(error_code)"
check "... bounded by the shim's 0.5 s deadline, not hanging ($(cat "$WORK/ms") ms < 1500)" test "$(cat "$WORK/ms")" -lt 1500
log "STATUS error: $(out_get 'j["msg"]')"
elapsed_ms cni ADD "ctr-z-$ID" "/var/run/netns/${ID}x" eth0 "$c"
check_eq "ADD with podvsd down: 11" 11 "$(error_code)"
check "... within 5 s ($(cat "$WORK/ms") ms)" test "$(cat "$WORK/ms")" -lt 5000
log "ADD error: $(out_get 'j["msg"]')"
elapsed_ms cni DEL "ctr-z-$ID" "/var/run/netns/${ID}x" eth0 "$c"
check_eq "DEL with podvsd down: 11 (the runtime retries)" 11 "$(error_code)"
check "... within 5 s ($(cat "$WORK/ms") ms)" test "$(cat "$WORK/ms")" -lt 5000
rm -f "$n1_SOCK"
elapsed_ms cni ADD "ctr-z-$ID" "/var/run/netns/${ID}x" eth0 "$c"
check_eq "ADD with podvsd's socket gone: 11" 11 "$(error_code)"
check "... within 5 s ($(cat "$WORK/ms") ms)" test "$(cat "$WORK/ms")" -lt 5000
finish
