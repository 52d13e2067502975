#!/usr/bin/env bash
# The shipped example conflist (cni-shim/examples/podvs.conflist) run as libcni runs it: podvs-cni
# first, then the reference plugins tuning (a sysctl in the pod), portmap (a host port DNATed to
# the pod) and bandwidth, each given the previous result as prevResult; CHECK with the cached
# result; DEL in reverse order leaves no pod, address or iptables rule.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

for p in tuning portmap bandwidth; do
  [ -x "$CNI_BIN/$p" ] || { log "reference plugin $CNI_BIN/$p missing"; exit 1; }
done
start_podvsd n1 || exit 1
# The plugin under test and the reference plugins, found through CNI_PATH as a runtime would.
mkdir -p "$WORK/bin" && ln -s "$(realpath "$PODVS_CNI")" "$WORK/bin/podvs-cni"
export CNI_PATH_LIST=$WORK/bin:$CNI_BIN
list=$WORK/podvs.conflist
python3 - "$TOP/cni-shim/examples/podvs.conflist" "$list" "$n1_SOCK" "podvs-$ID" <<'PY'
import json, sys
src, dst, sock, name = sys.argv[1:]
j = json.load(open(src))
j["name"] = name
j["plugins"][0]["socket"] = sock
json.dump(j, open(dst, "w"))
PY
port=$(( 30000 + RANDOM % 20000 ))
export RUNTIME_CONFIG="{\"portMappings\": [{\"hostPort\": $port, \"containerPort\": 8080, \"protocol\": \"tcp\"}]}"
make_netns "${ID}c"; ns=/var/run/netns/${ID}c
cid=chain-$ID

if run_list ADD "$list" "$cid" "$ns" eth0 >"$WORK/result.json" 2>"$WORK/chain.err"; then
  pass "ADD podvs-cni -> tuning -> portmap -> bandwidth"
else
  fail "ADD through the chain: $(cat "$WORK/chain.err")"
fi
ip=$(json_get 'j["ips"][0]["address"].split("/")[0]' <"$WORK/result.json")
check_eq "the final result is podvs-cni's, passed along" "eth0 $ns" \
  "$(json_get '"%s %s" % (j["interfaces"][0]["name"], j["interfaces"][0]["sandbox"])' <"$WORK/result.json")"
check_eq "tuning set the sysctl in the pod" 1024 "$(ip netns exec "${ID}c" sysctl -n net.core.somaxconn)"
check "portmap DNATs host port $port to $ip:8080" sh -c "iptables -t nat -S | grep -- '--dport $port' | grep -q 'to-destination $ip:8080'"
check "the pod pings the node" ip netns exec "${ID}c" ping -c 2 -i 0.2 -W 2 10.244.0.1
# Traffic through the port mapping: the node connects to its own host-port address.
ip netns exec "${ID}c" sh -c "echo hello-from-pod | timeout 10 nc -l -p 8080 -q 1" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
check_eq "a connection to host port $port reaches the pod" hello-from-pod \
  "$(timeout 5 nc -q 1 10.244.0.1 "$port" </dev/null 2>/dev/null)"
# portmap 1.1.1's CHECK looks for an IPv6 chain it never made for an IPv4-only pod and fails:
# podvs-cni and tuning, which run before it, must pass.
if run_list CHECK "$list" "$cid" "$ns" eth0 "$WORK/result.json" 2>"$WORK/check.err"; then
  pass "CHECK through the chain"
else
  check "CHECK through the chain: podvs-cni and tuning pass, only portmap's IPv6 check fails" \
    grep -q "^portmap CHECK failed.*" "$WORK/check.err"
  log "portmap CHECK: $(grep -o '"msg": "[^"]*"' "$WORK/check.err")"
fi
check "DEL through the chain (reverse order)" run_list DEL "$list" "$cid" "$ns" eth0 "$WORK/result.json"
check "portmap's rule is gone" sh -c "! iptables -t nat -S | grep -q -- '--dport $port '"
check_eq "no pod left" 0 "$(pod_count "$n1_SOCK")"
check_eq "no address held" 0 "$(addresses_used "$n1_SOCK")"
check "DEL through the chain again" run_list DEL "$list" "$cid" "$ns" eth0 "$WORK/result.json"

# bandwidth with rates needs a host-side veth to shape; podvs pods have none (their tap is in the
# pod), so it must refuse rather than pretend: the runtime then DELs the chain, leaving nothing.
export RUNTIME_CONFIG='{"bandwidth": {"ingressRate": 1000000, "ingressBurst": 100000, "egressRate": 1000000, "egressBurst": 100000}}'
if run_list ADD "$list" "bw-$ID" "$ns" eth0 >"$WORK/bw.json" 2>"$WORK/bw.err"; then
  log "bandwidth accepted rates: $(cat "$WORK/bw.json")"
  pass "ADD with bandwidth rates"
else
  log "bandwidth with rates: $(tail -c 300 "$WORK/bw.err")"
  pass "ADD with bandwidth rates fails in bandwidth (no host veth)"
fi
check "DEL after it" run_list DEL "$list" "bw-$ID" "$ns" eth0
check_eq "no address held" 0 "$(addresses_used "$n1_SOCK")"
finish
