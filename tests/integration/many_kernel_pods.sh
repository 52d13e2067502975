#!/usr/bin/env bash
# A node's worth of pods, kernel and DPDK mixed: 250 (max_pods' default) on one podvsd, 230 kernel
# pods attached through podvs-cni and 20 vhost-user pods, each with its own dpdk-testpmd on
# virtio-user connected at the same time; every address unique, the 251st refused naming
# max_pods; each kernel pod pings the next kernel pod and the node, and a kernel pod pings every
# DPDK pod (testpmd's icmpecho); then every pod deleted with nothing left behind: no pod
# interface, no host interface, no vhost-user socket directory, no podvsd file descriptor and no
# mbuf more than before. Phases are timed (it must fit a CI run), and podvsd's RSS and mbufs in
# use with 0 and 250 pods are logged (the README's memory figure).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

N=${MANY_PODS:-250}
V=${MANY_VHOST:-20}  # of the N, pods that are vhost-user (0: kernel pods only)
K=$((N - V))
PAR=${MANY_PAR:-8}  # CNI calls and pings in flight at once
TESTPMD=$(command -v dpdk-testpmd) || { [ "$V" -eq 0 ] || { log "dpdk-testpmd missing"; exit 1; }; }
CIDR=$(pod_cidrs 1)
[ -n "$CIDR" ] || { fail "no free pod CIDR for this run"; finish; exit 1; }
start_podvsd n1 --pod-cidr "$CIDR" || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
mkdir -p "$WORK/ip" "$WORK/cnilog" "$WORK/cnifail"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$n1_PID/status"; }
mbufs_in_use() { ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]'; }
fds() { ls "/proc/$n1_PID/fd" | wc -l; }
host_links() { ip -o link show | grep -c "$ID"; }  # this run's: other tests may run beside it

# librte_vhost opens a pipe for its event thread at the first vhost-user registration and keeps it
# for the life of the process: one DPDK pod attached and deleted first, so that the count taken
# here already holds it.
if [ "$V" -gt 0 ]; then
  ctl "$n1_SOCK" pod add --id "warm-$ID" --kind vhost-user >/dev/null &&
    ctl "$n1_SOCK" pod del --id "warm-$ID" >/dev/null || fail "a first vhost-user pod attaches and goes"
fi
fds_before=$(fds)
links_before=$(host_links)
mbufs_before=$(mbufs_in_use)
rss_before=$(rss_kb)
log "0 pods: podvsd RSS ${rss_before} kB, ${mbufs_before} mbufs in use, ${fds_before} fds"

t0=$SECONDS
for i in $(seq "$K"); do make_netns "${ID}k$i" || fail "ip netns add ${ID}k$i"; done
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

# in_batches CMD...: runs "CMD I" for I in 1..K (the kernel pods), PAR at a time.
# (wait on the batch's pids: a bare wait would also wait for podvsd)
in_batches() {
  local i batch=()
  for i in $(seq "$K"); do
    "$@" "$i" &
    batch+=($!)
    if [ "${#batch[@]}" -ge "$PAR" ] || [ "$i" -eq "$K" ]; then wait "${batch[@]}"; batch=(); fi
  done
}

t0=$SECONDS
in_batches cni_call ADD
t_add=$((SECONDS - t0))
check_eq "all $K kernel pod ADDs succeeded" "$K" "$(ls "$WORK/ip" | wc -l)"
for f in "$WORK"/cnifail/ADD-*; do [ -e "$f" ] && { log "first failed ADD ($f):"; sed 's/^/    /' "$f"; break; }; done

# The DPDK pods: attached over the API (podvsctl), their addresses beside the kernel pods'.
mkdir -p "$WORK/vhost"
t0=$SECONDS
for i in $(seq "$V"); do
  ctl "$n1_SOCK" --json pod add --id "mv$i-$ID" --kind vhost-user >"$WORK/vhost/$i.json" ||
    fail "vhost-user pod $i: pod add"
done
t_vadd=$((SECONDS - t0))
for i in $(seq "$V"); do json_get 'j["ip"]' <"$WORK/vhost/$i.json" >"$WORK/ip/v$i"; done
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

# One dpdk-testpmd per DPDK pod (the vhost-user server; podvsd connects as client), all connected
# at once. Twenty busy-polling testpmds do not fit a 2-core machine beside podvsd: each is frozen
# (SIGSTOP) as soon as its link is up, which keeps its vhost-user connection, and thawed only
# while it is pinged. No hugepages: --no-huge memory (memfd) is shared with podvsd all the same.
vhost_links_up() {  # the DPDK pods whose port podvsd reports up, one pod id a line
  ctl "$n1_SOCK" --json port list |
    json_get '"\n".join(p["pod_id"] for p in j if p["kind"] == "vhost-user" and p["link"] == "up")'
}
declare -A TP=()
t0=$SECONDS
for i in $(seq "$V"); do
  f="$WORK/vhost/$i.json"
  "$TESTPMD" --lcores=0@0,1@0 --no-huge -m 32 --no-pci --single-file-segments \
    --file-prefix="mv$i$ID" --log-level=4 \
    --vdev="net_virtio_user0,path=$(json_get 'j["socket_path"]' <"$f"),server=1,queues=1,mac=$(json_get 'j["mac"]' <"$f")" -- \
    --forward-mode=icmpecho --auto-start --stats-period=60 --total-num-mbufs=1536 \
    --nb-cores=1 --txd=64 --rxd=64 >"$WORK/vhost/testpmd$i.log" 2>&1 &
  TP[$i]=$!
  PIDS+=("${TP[$i]}")
done
declare -A frozen=()
while [ "${#frozen[@]}" -lt "$V" ] && [ $((SECONDS - t0)) -lt 60 ]; do
  for pod in $(vhost_links_up); do
    i=${pod#mv}; i=${i%%-*}
    [ -n "${frozen[$i]:-}" ] || { kill -STOP "${TP[$i]}"; frozen[$i]=1; }
  done
  sleep 0.2
done
for i in $(seq "$V"); do [ -n "${frozen[$i]:-}" ] || kill -STOP "${TP[$i]}"; done
t_vlink=$((SECONDS - t0))
check_eq "all $V DPDK pods' vhost-user links are up at once" "$V" "$(vhost_links_up | grep -c .)"
[ "$V" -gt 0 ] && [ "$(vhost_links_up | grep -c .)" -ne "$V" ] && tail -5 "$WORK/vhost/testpmd1.log"
# A testpmd is frozen as soon as its link is up, which may be before it starts forwarding: once
# thawed it may still need a moment, so ping waits for the first answer for up to 10 s.
ping_dpdk() {  # ping_dpdk I: kernel pod 1 pings DPDK pod I (testpmd thawed meanwhile)
  kill -CONT "${TP[$1]}"
  ip netns exec "${ID}k1" ping -q -c 1 -w 10 "$(cat "$WORK/ip/v$1")" >/dev/null 2>&1 ||
    echo "k1->v$1" >>"$WORK/pingfail"
  kill -STOP "${TP[$1]}"
}
: >"$WORK/pingfail"
t0=$SECONDS
for i in $(seq "$V"); do ping_dpdk "$i"; done
t_vping=$((SECONDS - t0))
check_eq "a kernel pod reaches every DPDK pod (failures listed)" "" \
  "$(head -c 300 "$WORK/pingfail" | tr '\n' ' ')"
for i in $(seq "$V"); do kill -CONT "${TP[$i]}"; kill -INT "${TP[$i]}"; done
for i in $(seq "$V"); do wait "${TP[$i]}" 2>/dev/null; done

node_ip=$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')
ping_one() {  # ping_one I: kernel pod I pings kernel pod I+1 and the node; failures to $WORK/pingfail
  local next=$(( $1 % K + 1 ))
  ip netns exec "${ID}k$1" ping -q -c 1 -w 3 "$(cat "$WORK/ip/$next")" >/dev/null 2>&1 ||
    echo "$1->$next" >>"$WORK/pingfail"
  ip netns exec "${ID}k$1" ping -q -c 1 -w 3 "$node_ip" >/dev/null 2>&1 ||
    echo "$1->node" >>"$WORK/pingfail"
}
: >"$WORK/pingfail"
t0=$SECONDS
PAR=$((PAR * 2)) in_batches ping_one
t_ping=$((SECONDS - t0))
check_eq "each kernel pod reaches the next kernel pod and the node (failures listed)" "" \
  "$(head -c 300 "$WORK/pingfail" | tr '\n' ' ')"

t0=$SECONDS
in_batches cni_call DEL
t_del=$((SECONDS - t0))
[ "$N" -eq 250 ] && cni DEL "over-$ID" "/var/run/netns/${ID}over" eth0 "$c"
check_eq "every DEL succeeded" "" "$(ls "$WORK/cnifail" | grep DEL | head -5 | tr '\n' ' ')"
t0=$SECONDS
deleted=0
for i in $(seq "$V"); do ctl "$n1_SOCK" pod del --id "mv$i-$ID" >/dev/null && deleted=$((deleted + 1)); done
t_del=$((t_del + SECONDS - t0))
check_eq "every DPDK pod deleted" "$V" "$deleted"
check "no vhost-user socket directory is left" \
  sh -c "[ -z \"\$(ls -A '$WORK/n1/vhost' 2>/dev/null)\" ]"
check_eq "no pod is left" 0 "$(pod_count "$n1_SOCK")"
check_eq "no address is held" 0 "$(addresses_used "$n1_SOCK")"
check_eq "only the host port remains" 1 "$(ctl "$n1_SOCK" --json port list | json_get 'len(j)')"
check "no pod interface is left in any netns" \
  sh -c "for i in \$(seq $K); do ip -n ${ID}k\$i link show eth0 >/dev/null 2>&1 && exit 1; done; exit 0"
check_eq "the host has the interfaces of this run it had (the host port)" "$links_before" "$(host_links)"
check_eq "podvsd has the file descriptors it had" "$fds_before" "$(fds)"
check_eq "the mbuf pool is back where it started" "$mbufs_before" "$(mbufs_in_use)"
check "podvsd is still running" kill -0 "$n1_PID"
log "timing: $K netns ${t_netns}s, $K kernel ADD ${t_add}s, $V vhost-user add ${t_vadd}s," \
  "$V testpmd links up ${t_vlink}s, pings ${t_ping}s + ${t_vping}s, DEL ${t_del}s;" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
finish
