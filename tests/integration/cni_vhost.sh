#!/usr/bin/env bash
# podvs-cni with DPDK pods: a vhost-user ADD (chosen by the network's kind, CNI_ARGS PODVS_KIND or
# runtimeConfig podvsKind) reports socketPath (1.1.0) and writes the device-info file the runtime
# asked for; DEL removes the socket directory and the file; a failed write leaves nothing. The
# network's "queues" gives the pod its queue pairs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

start_podvsd n1 || exit 1
make_netns "${ID}v"; ns=/var/run/netns/${ID}v
devinfo=$WORK/devinfo/cni/net1-$ID.json
c=$(conf 1.1.0 "$n1_SOCK" "\"kind\": \"vhost-user\", \"runtimeConfig\": {\"CNIDeviceInfoFile\": \"$devinfo\"}")

check "ADD a vhost-user pod (kind in the network config)" cni ADD "dpdk1-$ID" "$ns" net1 "$c"
res=$(out)
sock=$(echo "$res" | json_get 'j["interfaces"][0]["socketPath"]')
check_eq "socketPath is the pod's own directory" "$WORK/n1/vhost/dpdk1-$ID/vhost-user.sock" "$sock"
check "the socket directory exists" test -d "$(dirname "$sock")"
check_eq "device-info file (pod is the vhost-user server by default)" \
  "vhost-user 1.1.0 server $sock" \
  "$(json_get '"%s %s %s %s" % (j["type"], j["version"], j["vhost-user"]["mode"], j["vhost-user"]["path"])' <"$devinfo")"
check "no interface was made in the netns" sh -c "! ip -n ${ID}v link show net1 2>/dev/null"
check "CHECK passes while the pod's virtio-user is not yet connected" \
  cni CHECK "dpdk1-$ID" "$ns" net1 "$(conf 1.1.0 "$n1_SOCK" "\"kind\": \"vhost-user\", \"prevResult\": $res")"
check "DEL" cni DEL "dpdk1-$ID" "$ns" net1 "$c"
check "the socket directory is gone" test ! -e "$(dirname "$sock")"
check "the device-info file is gone" test ! -e "$devinfo"

s=$(conf 1.1.0 "$n1_SOCK" "\"vhostServer\": true, \"runtimeConfig\": {\"CNIDeviceInfoFile\": \"$devinfo\"}")
check "ADD with PODVS_KIND=vhost-user in CNI_ARGS and vhostServer" cni ADD "dpdk2-$ID" "$ns" net1 "$s" "PODVS_KIND=vhost-user"
sock=$(out_get 'j["interfaces"][0]["socketPath"]')
check_eq "device-info mode: the pod is the client" client "$(json_get 'j["vhost-user"]["mode"]' <"$devinfo")"
check "podvsd serves the socket" test -S "$sock"
check "DEL" cni DEL "dpdk2-$ID" "$ns" net1 "$s"

q=$(conf 1.1.0 "$n1_SOCK" "\"kind\": \"vhost-user\", \"queues\": 2")
check "ADD a vhost-user pod with \"queues\": 2" cni ADD "dpdk5-$ID" "$ns" net1 "$q"
check_eq "podvsd gave it 2 queue pairs" 2 \
  "$(ctl "$n1_SOCK" --json pod get --id "dpdk5-$ID" | json_get 'j["spec"]["queues"]')"
check "DEL" cni DEL "dpdk5-$ID" "$ns" net1 "$q"
expect_error "ADD with \"queues\": 17: 7" 7 ADD "dpdk6-$ID" "$ns" net1 \
  "$(conf 1.1.0 "$n1_SOCK" "\"kind\": \"vhost-user\", \"queues\": 17")"

r=$(conf 1.0.0 "$n1_SOCK" "\"runtimeConfig\": {\"podvsKind\": \"vhost-user\", \"CNIDeviceInfoFile\": \"$devinfo\"}")
check "ADD with runtimeConfig podvsKind, cniVersion 1.0.0" cni ADD "dpdk3-$ID" "$ns" net1 "$r"
check_eq "1.0.0 results carry no socketPath" None "$(out_get 'j["interfaces"][0].get("socketPath")')"
check "the device-info file carries it" test -s "$devinfo"
check "DEL" cni DEL "dpdk3-$ID" "$ns" net1 "$r"

bad=$(conf 1.1.0 "$n1_SOCK" '"kind": "vhost-user", "runtimeConfig": {"CNIDeviceInfoFile": "/proc/podvs-no/such.json"}')
expect_error "ADD whose device-info file cannot be written: 5" 5 ADD "dpdk4-$ID" "$ns" net1 "$bad"
check_eq "... left no pod" 0 "$(pod_count "$n1_SOCK")"
check_eq "... held no address" 0 "$(addresses_used "$n1_SOCK")"
check "... left no socket directory" test ! -e "$WORK/n1/vhost/dpdk4-$ID"
expect_error "an unknown PODVS_KIND is refused: 4" 4 ADD "dpdk5-$ID" "$ns" net1 "$(conf 1.1.0 "$n1_SOCK")" "PODVS_KIND=sriov"
expect_error "an unknown kind is refused: 7" 7 ADD "dpdk5-$ID" "$ns" net1 "$(conf 1.1.0 "$n1_SOCK" '"kind": "sriov"')"
finish
