#!/usr/bin/env bash
# A node's worth of kernel pods: 250 (max_pods' default) attached through podvs-cni on one podvsd,
# every address unique, the 251st refused naming max_pods; each pod pings the next pod and the
# node; then every pod DELed with nothing left behind: no pod interface, no host interface, no
# podvsd file descriptor and no mbuf more than before. Phases are timed (it must fit a CI run),
# and podvsd's RSS and mbufs in use with 0 and 250 pods are logged (the README's memory figure).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

N=${MANY_PODS:-250}
PAR=${MANY_PAR:-8}  # CNI calls and pings in flight at once
CIDR=$(pod_cidrs 1)
[ -n "$CIDR" ] || { fail "no free pod CIDR for this run"; finish; exit 1; }
start_podvsd n1 --pod-cidr "$CIDR" || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
mkdir -p "$WORK/ip" "$WORK/cnilog" "$WORK/cnifail"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$n1_PID/status"; }
mbufs_in_use() { ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]'; }
fds() { ls "/proc/$n1_PID/fd" | wc -l; }
host_links() { ip -o link show | grep -c "$ID"; }  # this run's: other tests may run beside it

fds_before=$(fds)
links_before=$(host_links)
mbufs_before=$(mbufs_in_use)
rss_before=$(rss_kb)
log "0 pods: podvsd RSS ${rss_before} kB, ${mbufs_before} mbufs in use, ${fds_before} fds"

t0=$SECONDS
for i in $(seq "$N"); do make_netns "${ID}k$i" || fail "ip netns add ${ID}k$i"; done
t_netns=$((SECONDS - t0))

cni_call() {  # cni_call VERB I: podvs-cni for pod I; ADD writes the pod's address to $WORK/ip/I
  local out
  out=$(printf '%s' "$c" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="many$2-$ID" \
    CNI_NETNS="/var/run/netns/${ID}k$2" CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" "$PODVS_CNI" \
    2>"$WORK/cnilog/$1-$2")
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    { printf 'exit %s: %s\n' "$rc" "$out"; cat "$WORK/cnilog/$1-$2"; } >"$WORK/cnifail/$1-$2"
    return "$rc"
  fi
  [ "$1" = ADD ] && printf '%s' "$out" | json_get 'j["ips"][0]["address"].split("/")[0]' >"$WORK/ip/$2"
  return 0
}

# in_batches CMD...: runs "CMD I" for I in 1..N, PAR at a time.
# (wait on the batch's pids: a bare wait would also wait for podvsd)
in_batches() {
  local i batch=()
  for i in $(seq "$N"); do
    "$@" "$i" &
    batch+=($!)
    if [ "${#batch[@]}" -ge "$PAR" ] || [ "$i" -eq "$N" ]; then wait "${batch[@]}"; batch=(); fi
  done
}

t0=$SECONDS
in_batches cni_call ADD
t_add=$((SECONDS - t0))
check_eq "all $N ADDs succeeded" "$N" "$(ls "$WORK/ip" | wc -l)"
for f in "$WORK"/cnifail/ADD-*; do [ -e "$f" ] && { log "first failed ADD ($f):"; sed 's/^/    /' "$f"; break; }; done
check_eq "every address is unique" "$N" "$(cat "$WORK"/ip/* | sort -u | wc -l)"
check_eq "podvsd holds $N pods" "$N" "$(pod_count "$n1_SOCK")"
check_eq "status: $N of at most 250, bound by max_pods" "$N 250 max_pods" \
  "$(ctl "$n1_SOCK" --json status | json_get '"%d %d %s" % (j["pods"], j["pods_max"], j["pods_bound"])')"
if [ "$N" -eq 250 ]; then
  make_netns "${ID}over"
  expect_error "the 251st pod is refused" 102 ADD "over-$ID" "/var/run/netns/${ID}over" eth0 "$c"
  check "... naming max_pods" grep -q "250 pods attached, the limit is 250 (max_pods)" "$WORK/out"
  check "... leaving no interface" sh -c "! ip -n ${ID}over link show eth0 2>/dev/null"
fi
rss_full=$(rss_kb)
mbufs_full=$(mbufs_in_use)
log "$N pods: podvsd RSS ${rss_full} kB, ${mbufs_full} mbufs in use, $(fds) fds"

node_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
ping_one() {  # ping_one I: pod I pings pod I+1 and the node; failures go to $WORK/pingfail
  local next=$(( $1 % N + 1 ))
  ip netns exec "${ID}k$1" ping -q -c 1 -w 3 "$(cat "$WORK/ip/$next")" >/dev/null 2>&1 ||
    echo "$1->$next" >>"$WORK/pingfail"
  ip netns exec "${ID}k$1" ping -q -c 1 -w 3 "$node_ip" >/dev/null 2>&1 ||
    echo "$1->node" >>"$WORK/pingfail"
}
: >"$WORK/pingfail"
t0=$SECONDS
PAR=$((PAR * 2)) in_batches ping_one
t_ping=$((SECONDS - t0))
check_eq "each pod reaches the next pod and the node (failures listed)" "" \
  "$(head -c 300 "$WORK/pingfail" | tr '\n' ' ')"

t0=$SECONDS
in_batches cni_call DEL
t_del=$((SECONDS - t0))
[ "$N" -eq 250 ] && cni DEL "over-$ID" "/var/run/netns/${ID}over" eth0 "$c"
check_eq "every DEL succeeded" "" "$(ls "$WORK/cnifail" | grep DEL | head -5 | tr '\n' ' ')"
check_eq "no pod is left" 0 "$(pod_count "$n1_SOCK")"
check_eq "no address is held" 0 "$(addresses_used "$n1_SOCK")"
check_eq "only the host port remains" 1 "$(ctl "$n1_SOCK" --json port list | json_get 'len(j)')"
check "no pod interface is left in any netns" \
  sh -c "for i in \$(seq $N); do ip -n ${ID}k\$i link show eth0 >/dev/null 2>&1 && exit 1; done; exit 0"
check_eq "the host has the interfaces of this run it had (the host port)" "$links_before" "$(host_links)"
check_eq "podvsd has the file descriptors it had" "$fds_before" "$(fds)"
check_eq "the mbuf pool is back where it started" "$mbufs_before" "$(mbufs_in_use)"
check "podvsd is still running" kill -0 "$n1_PID"
log "timing: $N netns ${t_netns}s, ADD ${t_add}s, ping ${t_ping}s, DEL ${t_del}s;" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
finish
