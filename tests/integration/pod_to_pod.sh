#!/usr/bin/env bash
# Two kernel pods and the node on one podvsd: ping, TCP both ways and through a ClusterIP with no
# checksum error counted, host <-> pod over the host port, counters that moved, and pod delete
# that removes the interface and frees the address.
source "$(dirname "$0")/lib.sh"

start_podvsd n1 || exit 1
make_netns "${ID}a" && make_netns "${ID}b"
baseline=$(ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]')

ip_a=$(add_tap_pod "$n1_SOCK" "pod-a-$ID" "${ID}a")
ip_b=$(add_tap_pod "$n1_SOCK" "pod-b-$ID" "${ID}b")
check "pod a got an address from the pod CIDR" matches "$ip_a" "10.244.0.*"
check "pod b got a different address" [ "$ip_a" != "$ip_b" ]
check "eth0 in pod a carries $ip_a/32" sh -c "ip -n ${ID}a -4 addr show dev eth0 | grep -q 'inet $ip_a/32'"
check "pod a has a default route via 169.254.1.1" sh -c "ip -n ${ID}a route | grep -q 'default via 169.254.1.1 dev eth0'"

check_eq "status counts the two addresses in use" "2 253 10.244.0.1" \
  "$(ctl "$n1_SOCK" --json status | json_get '"%d %d %s" % (j["addresses_used"], j["addresses_total"], j["host_ip"])')"
check "ping a -> b" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$ip_b"
check "ping b -> a" ip netns exec "${ID}b" ping -c 3 -i 0.2 -W 2 "$ip_a"
host_ip=10.244.0.1
check "ping host -> a over the host port" ping -c 3 -i 0.2 -W 2 "$ip_a"
check "ping a -> host" ip netns exec "${ID}a" ping -c 3 -i 0.2 -W 2 "$host_ip"

# TCP both ways with real payload (iperf3), bounded in time; super-frames cross podvs whole, and
# neither kernel may count a checksum error.
errors_before="$(csum_errors "${ID}a") $(csum_errors "${ID}b")"
ip netns exec "${ID}b" iperf3 -s -1 -B "$ip_b" -p 5201 >"$WORK/iperf-srv-b.log" 2>&1 &
PIDS+=($!)
ip netns exec "${ID}a" iperf3 -s -1 -B "$ip_a" -p 5202 >"$WORK/iperf-srv-a.log" 2>&1 &
PIDS+=($!)
sleep 0.5
check "TCP a -> b (iperf3)" timeout 30 ip netns exec "${ID}a" iperf3 -c "$ip_b" -p 5201 -t 3 -J --logfile "$WORK/ab.json"
check "TCP b -> a (iperf3)" timeout 30 ip netns exec "${ID}b" iperf3 -c "$ip_a" -p 5202 -t 3 -J --logfile "$WORK/ba.json"
# The same through a ClusterIP: DNAT to b's port 5205 and replies translated back, on
# super-frames whose partial checksums the NAT adjusts as Linux does.
check "a ClusterIP for b's iperf3" ctl "$n1_SOCK" service add "default/iperf-$ID" \
  --cluster-ip 10.96.77.7 --port tcp:5201:5205 --endpoint "$ip_b"
ip netns exec "${ID}b" iperf3 -s -1 -B "$ip_b" -p 5205 >"$WORK/iperf-srv-svc.log" 2>&1 &
PIDS+=($!)
sleep 0.5
check "TCP a -> ClusterIP -> b (iperf3)" timeout 30 ip netns exec "${ID}a" iperf3 -c 10.96.77.7 -p 5201 -t 3 -J --logfile "$WORK/svc.json"
check_eq "no checksum error counted in either pod" "$errors_before" \
  "$(csum_errors "${ID}a") $(csum_errors "${ID}b")"
check "delete the ClusterIP" ctl "$n1_SOCK" service del "default/iperf-$ID"
for f in ab ba svc; do
  [ -s "$WORK/$f.json" ] && log "iperf3 $f: $(json_get '"%.2f Gbit/s" % (j["end"]["sum_received"]["bits_per_second"]/1e9)' <"$WORK/$f.json")"
done

stats=$(ctl "$n1_SOCK" --json stats)
check "worker counted packets" test "$(echo "$stats" | json_get 'j["workers"][0]["rx_packets"] > 1000')" = True
check "worker reports cycles per packet" test "$(echo "$stats" | json_get 'j["workers"][0]["cycles_per_packet"] > 0')" = True
log "cycles/packet: $(echo "$stats" | json_get 'round(j["workers"][0]["cycles_per_packet"], 1)')"
ip netns exec "${ID}a" ping -q -i 0.01 -c 150 "$ip_b" >/dev/null &
top_out=$(ctl "$n1_SOCK" top --interval 0.5 --iterations 2)
wait $!
check_eq "podvsctl top printed 2 screens" 2 "$(echo "$top_out" | grep -c '^workers')"
check "podvsctl top shows pod a's port with a packet rate" \
  sh -c "echo '$top_out' | grep 'pod-a-$ID' | awk '{print \$4}' | grep -qv '^0\$'"
check "pod list shows both pods" sh -c "'$PODVSCTL' --socket '$n1_SOCK' pod list | grep -q pod-b-$ID"
check "port list shows the host port and both pods" test "$(ctl "$n1_SOCK" --json port list | json_get 'len(j)')" = 3

check "metrics endpoint exports port counters" sh -c "curl -sf http://$n1_METRICS/metrics | grep -q 'podvs_port_rx_packets_total{.*pod_id=\"pod-a-$ID\"'"

check "delete pod b" ctl "$n1_SOCK" pod del --id "pod-b-$ID"
check "eth0 is gone from pod b's namespace" sh -c "! ip -n ${ID}b link show eth0"
check "deleting it again succeeds (idempotent)" ctl "$n1_SOCK" pod del --id "pod-b-$ID"
check "ping a -> b now fails" sh -c "! ip netns exec ${ID}a ping -c 1 -W 1 $ip_b"
check "pod a still reaches the host" ip netns exec "${ID}a" ping -c 2 -i 0.2 -W 2 "$host_ip"

check "delete pod a" ctl "$n1_SOCK" pod del --id "pod-a-$ID"
sleep 0.5
after=$(ctl "$n1_SOCK" --json stats | json_get 'j["mbufs_in_use"]')
check_eq "every mbuf is back in the pool" "$baseline" "$after"

# Freed addresses are not handed out again at once (round robin).
make_netns "${ID}c"
ip_c=$(add_tap_pod "$n1_SOCK" "pod-c-$ID" "${ID}c")
check "a new pod does not get a just-freed address" sh -c "[ '$ip_c' != '$ip_a' ] && [ '$ip_c' != '$ip_b' ]"

finish
