#!/usr/bin/env bash
# SetPodCidr on a real podvsd (`podvsctl node set-pod-cidr`): the new CIDR moves the host port's
# address and route, pods get addresses from it and reach each other and the node; precise
# refusals (host bits, a Service's ClusterIP inside it, pods holding addresses, outside the
# cluster CIDR); and the saved CIDR wins over the configured one after a clean restart and a
# kill -9. Uses 10.217/16 and 10.218/16, which no other test routes.
source "$(dirname "$0")/lib.sh"

OLD=10.217.0.0/24 NEW=10.218.4.0/24
start_podvsd n1 --pod-cidr $OLD || exit 1
cidr() { ctl "$n1_SOCK" --json status | json_get 'j["pod_cidr"]'; }
host_has() {  # host_has ADDRESS/32 ROUTE: the host port holds the address and the route
  ip -4 addr show dev "$n1_HOSTPORT" | grep -q "inet $1 " &&
    ip -4 route show dev "$n1_HOSTPORT" | grep -q "^$2 "
}
host_lacks() {  # host_lacks ADDRESS/32 ROUTE: the host port holds neither
  ! ip -4 addr show dev "$n1_HOSTPORT" | grep -q "inet $1 " &&
    ! ip -4 route show dev "$n1_HOSTPORT" | grep -q "^$2 "
}
expect_error() {  # expect_error "what" "expected text" podvsctl-args...
  local what=$1 text=$2; shift 2
  if out=$(ctl "$n1_SOCK" "$@" 2>&1); then fail "$what: succeeded: $out"; return; fi
  if [[ "$out" == *"$text"* ]]; then pass "$what ($out)"; else fail "$what: '$out' lacks '$text'"; fi
}

check_eq "podvsd starts with the configured pod CIDR" $OLD "$(cidr)"
check "the host port holds 10.217.0.1 and a route to $OLD" host_has 10.217.0.1/32 $OLD

# --- Refusals, each leaving the CIDR as it was.
check "add a Service whose ClusterIP lies in 10.218.0.0/24" \
  ctl "$n1_SOCK" service add "default/svc-$ID" --cluster-ip 10.218.0.10 --port tcp:80
expect_error "a CIDR holding a Service's ClusterIP is refused" \
  "the pod CIDR cannot change from $OLD to 10.218.0.0/24: service default/svc-$ID: cluster_ip 10.218.0.10 is inside the pod CIDR 10.218.0.0/24" \
  node set-pod-cidr 10.218.0.0/24
expect_error "host bits are refused, naming the network" \
  "pod_cidr '10.218.4.1/24' has host bits set; the network is 10.218.4.0/24; the pod CIDR stays $OLD" \
  node set-pod-cidr 10.218.4.1/24
expect_error "a /31 is refused" "pod_cidr 10.218.4.0/31 is not supported; use a prefix length from /8 to /30" \
  node set-pod-cidr 10.218.4.0/31
expect_error "a CIDR holding the gateway is refused" "gateway_ip 169.254.1.1 lies inside pod_cidr 169.254.0.0/16" \
  node set-pod-cidr 169.254.0.0/16
check "setting the same CIDR again is a no-op success" ctl "$n1_SOCK" node set-pod-cidr $OLD
check_eq "the CIDR is unchanged after the refusals" $OLD "$(cidr)"

# --- The change.
check "set-pod-cidr $NEW" ctl "$n1_SOCK" node set-pod-cidr $NEW
check_eq "status shows the new pod CIDR" $NEW "$(cidr)"
check_eq "status shows the new host IP" 10.218.4.1 "$(ctl "$n1_SOCK" --json status | json_get 'j["host_ip"]')"
check "the host port holds 10.218.4.1 and a route to $NEW" host_has 10.218.4.1/32 $NEW
check "the host port no longer holds 10.217.0.1 or the route to $OLD" host_lacks 10.217.0.1/32 $OLD
check_eq "the host port's MAC follows its address" 0a:58:0a:da:04:01 \
  "$(cat /sys/class/net/"$n1_HOSTPORT"/address)"

make_netns "${ID}a" && make_netns "${ID}b" || { finish; exit 1; }
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
check "pod a got an address from $NEW ($ip_a)" matches "$ip_a" "10.218.4.*"
check "pod b got an address from $NEW ($ip_b)" matches "$ip_b" "10.218.4.*"
check "ping a -> b" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"
check "ping a -> the node (10.218.4.1)" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 10.218.4.1
check "ping the node -> b" ping -c 2 -i 0.2 -W 2 "$ip_b"

expect_error "a change while pods exist is refused, naming both CIDRs and the pod count" \
  "the pod CIDR cannot change from $NEW to 10.219.0.0/24 while 2 pods exist (their addresses come from it); delete every pod first" \
  node set-pod-cidr 10.219.0.0/24
check_eq "the CIDR is unchanged after the refusal" $NEW "$(cidr)"

# --- Restarts with the old CIDR still configured: the saved one wins.
pods() { ctl "$n1_SOCK" --json pod list | json_get 'sorted((p["spec"]["id"], p["ip"]) for p in j)'; }
before=$(pods)
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
start_podvsd n1 --pod-cidr $OLD || { finish; exit 1; }
check_eq "after a clean restart the saved CIDR wins over the configured $OLD" $NEW "$(cidr)"
check "podvsd says which CIDR won" grep -q "pod CIDR $NEW from .* wins over the configured $OLD" "$WORK/n1/log"
check_eq "pods keep their addresses" "$before" "$(pods)"
check "the host port holds 10.218.4.1 and a route to $NEW again" host_has 10.218.4.1/32 $NEW
check "ping a -> b after a clean restart" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"

kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
start_podvsd n1 --pod-cidr $OLD || { finish; exit 1; }
check_eq "after kill -9 the saved CIDR still wins" $NEW "$(cidr)"
check_eq "pods keep their addresses after kill -9" "$before" "$(pods)"
check "ping a -> b after kill -9" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_b"
check "ping the node -> a after kill -9" ping -c 2 -i 0.2 -W 2 "$ip_a"

# --- A configuration that cannot take the saved CIDR stops the start with a precise reason.
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
if start_podvsd n1 --pod-cidr $OLD --cluster-cidr 10.217.0.0/16 >/dev/null 2>&1; then
  fail "podvsd started with a cluster CIDR that excludes the saved pod CIDR"
else
  check "the refusal names the saved CIDR and why" grep -q \
    "has pod CIDR $NEW, which this configuration cannot take: pod_cidr $NEW is not inside cluster_cidr 10.217.0.0/16" \
    "$WORK/n1/log"
fi

# --- Once the pods are gone the CIDR may change again, here to one outside a cluster CIDR.
start_podvsd n1 --pod-cidr $OLD || { finish; exit 1; }
check "delete pod a" ctl "$n1_SOCK" pod del --id "pod-a-$ID"
check "delete pod b" ctl "$n1_SOCK" pod del --id "pod-b-$ID"
check "set-pod-cidr back to $OLD once no pod exists" ctl "$n1_SOCK" node set-pod-cidr $OLD
check "the host port holds 10.217.0.1 and a route to $OLD again" host_has 10.217.0.1/32 $OLD
check "and no longer 10.218.4.1 or the route to $NEW" host_lacks 10.218.4.1/32 $NEW
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
start_podvsd n1 --pod-cidr $OLD --cluster-cidr 10.217.0.0/16 || { finish; exit 1; }
expect_error "a CIDR outside the cluster CIDR is refused" \
  "pod_cidr 10.218.4.0/24 is not inside cluster_cidr 10.217.0.0/16; the pod CIDR stays $OLD" \
  node set-pod-cidr $NEW
finish
