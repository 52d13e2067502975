#!/usr/bin/env bash
# podvs-cni's refusals through the real binary: each is the spec's error object on stdout with the
# right code, nothing else on stdout, logs on stderr or in logFile, and a refused ADD holds nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

start_podvsd n1 || exit 1
c=$(conf 1.0.0 "$n1_SOCK")
make_netns "${ID}e"; ns=/var/run/netns/${ID}e

printf '' | env -i CNI_COMMAND=VERSION "$PODVS_CNI" >"$WORK/out" 2>"$WORK/err"
check_eq "VERSION lists the supported versions" '1.1.0 0.3.0,0.3.1,0.4.0,1.0.0,1.1.0' \
  "$(out_get 'j["cniVersion"] + " " + ",".join(j["supportedVersions"])')"
printf '' | env -i "$PODVS_CNI" >"$WORK/out" 2>"$WORK/err"
check_eq "no CNI_COMMAND: 4" 4 "$(error_code)"
expect_error "ADD without CNI_NETNS: 4" 4 ADD "e1-$ID" "" eth0 "$c"
expect_error "ADD with a bad container id: 4" 4 ADD "-bad" "$ns" eth0 "$c"
expect_error "ADD into a netns that does not exist: 4" 4 ADD "e1-$ID" /var/run/netns/none-$ID eth0 "$c"
expect_error "unknown CNI_ARGS key without IgnoreUnknown: 4" 4 ADD "e1-$ID" "$ns" eth0 "$c" "FOO=1"
expect_error "stdin not JSON: 6" 6 ADD "e1-$ID" "$ns" eth0 "{not json"
expect_error "unsupported cniVersion: 1" 1 ADD "e1-$ID" "$ns" eth0 "$(conf 0.2.0 "$n1_SOCK")"
check_eq "... the error object carries a cniVersion" "1.1.0" "$(out_get 'j["cniVersion"]')"
expect_error "an ipam section: 2" 2 ADD "e1-$ID" "$ns" eth0 "$(conf 1.0.0 "$n1_SOCK" '"ipam": {"type": "host-local"}')"
check "... naming the field" grep -q '"ipam' "$WORK/out"
expect_error "a bad timeoutSeconds: 7" 7 ADD "e1-$ID" "$ns" eth0 "$(conf 1.0.0 "$n1_SOCK" '"timeoutSeconds": -1')"
check "errors leave stdout with the error object alone" test "$(wc -l <"$WORK/out")" -eq 1
check "and log on stderr" grep -q "error 7" "$WORK/err"
check_eq "refused ADDs held nothing" 0 "$(addresses_used "$n1_SOCK")"

check "ADD" cni ADD "e1-$ID" "$ns" eth0 "$c" "IgnoreUnknown=1;FOO=1"
expect_error "a second ADD of the container with another ifname: 101" 101 ADD "e1-$ID" "$ns" eth1 "$c"
check "... saying why" grep -q "one interface per network" "$WORK/out"
expect_error "a second ADD of the same attachment: 101" 101 ADD "e1-$ID" "$ns" eth0 "$c"
check_eq "... the first attachment is intact" 1 "$(addresses_used "$n1_SOCK")"
check "DEL with another ifname leaves the attachment alone" cni DEL "e1-$ID" "$ns" eth1 "$c"
check_eq "... it is still there" 1 "$(pod_count "$n1_SOCK")"
check "DEL" cni DEL "e1-$ID" "$ns" eth0 "$c"
ctl "$n1_SOCK" pod add --id "op-$ID" --kind vhost-user >/dev/null
expect_error "ADD with an id an operator already uses: 101" 101 ADD "op-$ID" "$ns" eth0 "$c"
check "... saying who has it" grep -q "podvsctl" "$WORK/out"
check "DEL of that id leaves the operator's pod alone" cni DEL "op-$ID" "$ns" eth0 "$c"
check_eq "... it is still there" 1 "$(pod_count "$n1_SOCK")"

lc=$(conf 1.0.0 "$n1_SOCK" "\"logFile\": \"$WORK/cni.log\"")
check "ADD with logFile" cni ADD "e2-$ID" "$ns" eth0 "$lc"
check "... logs into the file" grep -q "ADD e2-$ID/eth0: attached" "$WORK/cni.log"
check_eq "... and nothing on stderr" "" "$(cat "$WORK/err")"
check "DEL" cni DEL "e2-$ID" "$ns" eth0 "$lc"
finish
