#!/usr/bin/env bash
# kill -9 of podvsd and a restart: every pod keeps its IP and MAC, its interface is re-created in
# its namespace and traffic flows again without any call from outside.
source "$(dirname "$0")/lib.sh"

start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
before=$(ctl "$n1_SOCK" --json pod list | json_get 'sorted((p["spec"]["id"], p["ip"], p["mac"]) for p in j)')
check "ping a -> b before the crash" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"

kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
check "the crash took the taps with it" sh -c "! ip -n ${ID}a link show eth0"

start_podvsd n1 || { finish; exit 1; }
after=$(ctl "$n1_SOCK" --json pod list | json_get 'sorted((p["spec"]["id"], p["ip"], p["mac"]) for p in j)')
check_eq "pods keep their IP and MAC" "$before" "$after"
check "eth0 is back in pod a with its address" sh -c "ip -n ${ID}a -4 addr show dev eth0 | grep -q 'inet $ip_a/32'"
check "ping a -> b after restart" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_b"
check "ping host -> b after restart" ping -c 2 -i 0.2 -W 2 "$ip_b"

# A clean stop (SIGTERM) releases the ports; the state stays for the next start.
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops podvsd" sh -c "! kill -0 $n1_PID 2>/dev/null"
check "SIGTERM removed the host port" sh -c "! ip link show $n1_HOSTPORT"
check "SIGTERM removed the API socket" test ! -e "$n1_SOCK"
start_podvsd n1 || { finish; exit 1; }
check "ping a -> b after a clean restart" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$ip_b"
finish
