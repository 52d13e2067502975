#!/usr/bin/env bash
# A storm of parallel ADDs and DELs through podvs-cni, with podvsd killed (-9) and restarted in
# the middle. Each container is driven as a runtime drives it: ADD; on failure DEL until it
# succeeds (the spec's cleanup after a failed ADD); half the pods are then DELed again. ADDs that
# race the restart fail with 11 (or 102 when the node is full: STORM_PODS beyond max_pods) and
# are retried. At the end podvsd holds exactly the pods the runtime believes exist, no address
# twice, and after DEL of everything, nothing. (250 pods at once: many_kernel_pods.sh.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

N=${STORM_PODS:-60}
start_podvsd n1 || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
mkdir -p "$WORK/live" "$WORK/codes"
for i in $(seq "$N"); do make_netns "${ID}s$i"; done

# retry_del ID NS: DEL until it succeeds, as a runtime retries (podvsd may be restarting).
retry_del() {
  local i
  for i in $(seq 40); do
    printf '%s' "$c" | env -i PATH="$PATH" CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$2" \
      CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" "$PODVS_CNI" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}

container() {  # container I: one pod's life; a failed ADD is cleaned up by DEL and retried
  local id=storm$1-$ID ns=/var/run/netns/${ID}s$1 out attempt
  sleep "0.$(( RANDOM % 10 ))"
  for attempt in 1 2 3; do
    if out=$(printf '%s' "$c" | env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$id" \
        CNI_NETNS="$ns" CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN" "$PODVS_CNI" 2>/dev/null); then
      echo "$out" | json_get 'j["ips"][0]["address"]' >"$WORK/live/$id"
      echo ok >>"$WORK/codes/$id"
      if [ $(( $1 % 2 )) -eq 0 ]; then
        sleep "0.$(( RANDOM % 10 ))"
        retry_del "$id" "$ns" && rm -f "$WORK/live/$id" || echo "del-failed" >>"$WORK/codes/$id"
      fi
      return
    fi
    echo "$out" | json_get 'j["code"]' >>"$WORK/codes/$id" 2>/dev/null
    retry_del "$id" "$ns" || { echo "del-failed" >>"$WORK/codes/$id"; return; }
    sleep 1
  done
}

workers=()
for i in $(seq "$N"); do container "$i" & workers+=($!); done
sleep 2
log "kill -9 podvsd in the middle of the storm"
kill -9 "$n1_PID"; wait "$n1_PID" 2>/dev/null
start_podvsd n1 || exit 1
for w in "${workers[@]}"; do wait "$w"; done

log "outcomes: $(cat "$WORK"/codes/* | sort | uniq -c | tr '\n' ' ')"
check "every container's DEL eventually succeeded" sh -c "! grep -q del-failed $WORK/codes/*"
believed=$(ls "$WORK/live" | sort | tr '\n' ' ')
held=$(pods_json "$n1_SOCK" | json_get '" ".join(sorted(p["spec"]["id"] for p in j)) + (" " if j else "")')
check_eq "podvsd holds exactly the pods the runtime believes exist" "$believed" "$held"
check_eq "addresses in use = pods the runtime believes exist" "$(ls "$WORK/live" | wc -l)" "$(addresses_used "$n1_SOCK")"
check_eq "no address is held twice" "" "$(pods_json "$n1_SOCK" | json_get '" ".join(a for a in set(p["ip"] for p in j) if [p["ip"] for p in j].count(a) > 1)')"
check_eq "each live pod has the address its ADD reported" "" \
  "$(for f in "$WORK"/live/*; do [ -e "$f" ] || continue; id=$(basename "$f")
     [ "$(ctl "$n1_SOCK" --json pod get --id "$id" | json_get 'j["ip"]')/32" = "$(cat "$f")" ] || echo "$id"; done)"
check "some ADDs succeeded" test -n "$believed"
for f in "$WORK"/live/*; do
  [ -e "$f" ] || continue
  id=$(basename "$f"); i=${id#storm}; i=${i%%-*}
  retry_del "$id" "/var/run/netns/${ID}s$i" || fail "DEL $id"
done
check_eq "after DEL of everything no pod is left" 0 "$(pod_count "$n1_SOCK")"
check_eq "... and no address is held" 0 "$(addresses_used "$n1_SOCK")"
check_eq "... and only the host port remains" 1 "$(ctl "$n1_SOCK" --json port list | json_get 'len(j)')"
check "no pod interface is left in any netns" sh -c "for i in \$(seq $N); do ip -n ${ID}s\$i link show eth0 >/dev/null 2>&1 && exit 1; done; exit 0"
finish
