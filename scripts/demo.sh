#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts podvsd with its embedded default config,
# attaches two demo kernel pods (network namespaces podvs-demo-a and podvs-demo-b), shows them
# pinging each other and pod a reaching pod b's web server through a ClusterIP Service, and keeps
# traffic flowing until Ctrl-C (or DEMO_SECONDS seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build podvsd podvsctl

PODVSCTL=./build/podvsctl
log=/tmp/podvsd-demo.log
pids=()
cleanup() {
  set +e
  for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null; done
  $PODVSCTL service del demo/web >/dev/null 2>&1
  for pod in demo-a demo-b; do $PODVSCTL pod del --id $pod >/dev/null 2>&1; done
  for ns in podvs-demo-a podvs-demo-b; do ip netns del $ns 2>/dev/null; done
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[0]}" 2>/dev/null && wait "${pids[0]}" 2>/dev/null
  echo "demo stopped; podvsd log: $log"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

if pgrep -x podvsd >/dev/null; then
  echo "demo: a podvsd is already running; stop it first" >&2
  exit 1
fi
./build/podvsd >"$log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "ready:" "$log" && break; sleep 0.1; done
grep -q "ready:" "$log" || { cat "$log"; exit 1; }

for name in a b; do
  ip netns del podvs-demo-$name 2>/dev/null || true
  ip netns add podvs-demo-$name
  $PODVSCTL pod del --id demo-$name >/dev/null
  $PODVSCTL pod add --id demo-$name --netns /var/run/netns/podvs-demo-$name \
    --k8s-namespace demo --k8s-name pod-$name
done
ip_b=$($PODVSCTL --json pod get --id demo-b | python3 -c 'import json,sys; print(json.load(sys.stdin)["ip"])')
echo
ip netns exec podvs-demo-a ping -c 3 "$ip_b"

# A Service in front of pod b, as kube-proxy would program it; pod a reaches it by its ClusterIP.
ip netns exec podvs-demo-b python3 -m http.server 8080 >/dev/null 2>&1 &
pids+=($!)
$PODVSCTL service add demo/web --cluster-ip 10.96.0.10 --port http=tcp:80:8080 --endpoint "$ip_b"
echo
for _ in $(seq 50); do
  ip netns exec podvs-demo-a python3 -c "import urllib.request as u
r = u.urlopen('http://10.96.0.10/', timeout=2)
print('pod a -> Service demo/web (10.96.0.10:80) -> pod b:8080: HTTP', r.status)" 2>/dev/null && break
  sleep 0.2
done
echo
$PODVSCTL service list
echo
$PODVSCTL pod list
echo
$PODVSCTL stats
# Traffic keeps flowing while the demo runs: one ping a second from pod a to pod b.
ip netns exec podvs-demo-a ping -q -i 1 "$ip_b" >/dev/null 2>&1 &
pids+=($!)
cat <<MSG

podvsd is running with two pods (log: $log). In another terminal:
  ./build/podvsctl pod list            pods, addresses, ports
  ./build/podvsctl port list           ports, counters, drops
  ./build/podvsctl stats               workers: cycles/packet, busy cycles; drops by reason
  ./build/podvsctl service list        Services (ClusterIP 10.96.0.10 in front of pod b)
  curl -s 127.0.0.1:9477/metrics       Prometheus metrics
  ip netns exec podvs-demo-a ping $ip_b
Press Ctrl-C to stop (pods are deleted, podvsd stops cleanly).
MSG
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else wait "${pids[0]}"; fi
