#!/usr/bin/env bash
# podvs-cni GC (1.1.0): frees exactly the network's attachments that are not listed (under either
# cni.dev/valid-attachments or cni.dev/attachments), by (container id, ifname), and never touches
# pods made by podvsctl or by another network.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

start_podvsd n1 || exit 1
c=$(conf 1.1.0 "$n1_SOCK")
other=$(printf '{"cniVersion": "1.1.0", "name": "other-%s", "type": "podvs-cni", "socket": "%s"}' "$ID" "$n1_SOCK")
for i in 1 2 3; do
  make_netns "${ID}g$i"
  check "ADD tap pod $i" cni ADD "gc$i-$ID" "/var/run/netns/${ID}g$i" eth0 "$c"
done
check "ADD vhost-user pod 4" cni ADD "gc4-$ID" "/var/run/netns/${ID}g1" net1 "$c" "PODVS_KIND=vhost-user"
check "ADD a pod of another network" cni ADD "gco-$ID" "/var/run/netns/${ID}g1" net2 "$other" "PODVS_KIND=vhost-user"
check "an operator's pod" ctl "$n1_SOCK" pod add --id "gcop-$ID" --kind vhost-user
ids() { pods_json "$n1_SOCK" | json_get '" ".join(sorted(p["spec"]["id"] for p in j))'; }
gc() { cni GC "" "" "" "$(conf 1.1.0 "$n1_SOCK" "$1")"; }

expect_error "GC needs cniVersion 1.1.0" 1 GC "" "" "" "$(conf 1.0.0 "$n1_SOCK" '"cni.dev/valid-attachments": []')"
expect_error "GC without the attachment list is refused" 7 GC "" "" "" "$c"
check_eq "... and deleted nothing" 6 "$(pod_count "$n1_SOCK")"
printf '%s' "$(conf 1.1.0 "$n1_SOCK" '"cni.dev/valid-attachments": []')" |
  env -i PATH="$PATH" CNI_COMMAND=GC "$PODVS_CNI" >"$WORK/out" 2>"$WORK/err"
check_eq "GC without CNI_PATH: 4" 4 "$(error_code)"

check "GC keeping 1, 2 and 4 (valid-attachments)" \
  gc "\"cni.dev/valid-attachments\": [{\"containerID\": \"gc1-$ID\", \"ifname\": \"eth0\"}, {\"containerID\": \"gc2-$ID\", \"ifname\": \"eth0\"}, {\"containerID\": \"gc4-$ID\", \"ifname\": \"net1\"}]"
check_eq "GC printed nothing" "" "$(out)"
check_eq "only pod 3 was freed" "gc1-$ID gc2-$ID gc4-$ID gco-$ID gcop-$ID" "$(ids)"
check "pod 3's interface is gone" sh -c "! ip -n ${ID}g3 link show eth0 2>/dev/null"
check "GC keeping 1 and 4 (the older key, cni.dev/attachments)" \
  gc "\"cni.dev/attachments\": [{\"containerID\": \"gc1-$ID\", \"ifname\": \"eth0\"}, {\"containerID\": \"gc4-$ID\", \"ifname\": \"net1\"}]"
check_eq "pod 2 was freed" "gc1-$ID gc4-$ID gco-$ID gcop-$ID" "$(ids)"
check "GC listing pod 1 under another ifname" \
  gc "\"cni.dev/valid-attachments\": [{\"containerID\": \"gc1-$ID\", \"ifname\": \"eth1\"}], \"cni.dev/attachments\": [{\"containerID\": \"gc4-$ID\", \"ifname\": \"net1\"}]"
check_eq "pod 1 was freed, the union of both keys kept pod 4" "gc4-$ID gco-$ID gcop-$ID" "$(ids)"
check "GC with an empty list" gc '"cni.dev/valid-attachments": []'
check_eq "every attachment of the network is gone; the other network's and the operator's stay" \
  "gco-$ID gcop-$ID" "$(ids)"
check_eq "addresses held: the two remaining pods" 2 "$(addresses_used "$n1_SOCK")"
check "the vhost-user socket directory of pod 4 is gone" test ! -e "$WORK/n1/vhost/gc4-$ID"
expect_error "GC with a malformed entry: 6" 6 GC "" "" "" "$(conf 1.1.0 "$n1_SOCK" '"cni.dev/valid-attachments": [{"ifname": "eth0"}]')"
check_eq "... deleted nothing" 2 "$(pod_count "$n1_SOCK")"
finish
