#!/usr/bin/env bash
# The Services API of a real podvsd: add, conflicts, list, load, delete, Services kept across a
# clean stop and a kill -9 (once flushed), and owners (only the owner replaces a Service).
source "$(dirname "$0")/lib.sh"

start_podvsd n1 --pod-cidr 10.244.0.0/24 --cluster-cidr 10.244.0.0/16 || exit 1
names() { ctl "$n1_SOCK" --json service list | json_get '" ".join(s["namespace"] + "/" + s["name"] for s in j)'; }

expect_error() {  # expect_error "what" "expected text" podvsctl-args...
  local what=$1 text=$2; shift 2
  if out=$(ctl "$n1_SOCK" "$@" 2>&1); then fail "$what: succeeded: $out"; return; fi
  if [[ "$out" == *"$text"* ]]; then pass "$what ($out)"; else fail "$what: '$out' lacks '$text'"; fi
}

check "add a Service" ctl "$n1_SOCK" service add default/web --cluster-ip 10.96.0.10 \
  --port http=tcp:80:8080 --port udp:53 --endpoint 10.244.0.5 --endpoint 10.244.1.6:terminating \
  --affinity client-ip:600
check "add a NodePort Service" ctl "$n1_SOCK" service add kube-system/dns --cluster-ip 10.96.0.11 \
  --port dns=udp:53:53:30053 --endpoint 10.244.0.9
expect_error "a taken ClusterIP" "cluster_ip 10.96.0.10 belongs to service default/web" \
  service add default/other --cluster-ip 10.96.0.10 --port tcp:81
expect_error "a taken node port" "node_port 30053/udp is already used by service kube-system/dns" \
  service add default/other --cluster-ip 10.96.0.12 --port udp:54:54:30053
expect_error "a ClusterIP in the cluster CIDR" "is inside the cluster CIDR 10.244.0.0/16" \
  service add default/other --cluster-ip 10.244.7.1 --port tcp:80
check_eq "list holds the two" "default/web kube-system/dns" "$(names)"
check_eq "target_port was filled in" "53" \
  "$(ctl "$n1_SOCK" --json service list | json_get 'j[0]["ports"][1]["target_port"]')"

cat >"$WORK/services.txt" <<LINES
# three more
ns1/a --cluster-ip 10.96.1.1 --port tcp:80 --endpoint 10.244.0.5
ns1/b --cluster-ip 10.96.1.2 --port tcp:80 --endpoint 10.244.0.5:not-ready
ns1/c --cluster-ip 10.96.1.3 --port tcp:80
LINES
check "load a file" sh -c "'$PODVSCTL' --socket '$n1_SOCK' service load '$WORK/services.txt' | grep -q '^programmed 3 services in '"
echo "ns1/d --cluster-ip 10.96.1.4 --port tcp:0" >>"$WORK/services.txt"
expect_error "a bad line stops the whole file" "services.txt:5: --port 'tcp:0'" \
  service load "$WORK/services.txt"
check "delete one" ctl "$n1_SOCK" service del ns1/c
check "delete an unknown one" ctl "$n1_SOCK" service del ns1/never
before="default/web kube-system/dns ns1/a ns1/b"
check_eq "list after load and delete" "$before" "$(names)"

kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
start_podvsd n1 --pod-cidr 10.244.0.0/24 --cluster-cidr 10.244.0.0/16 || { finish; exit 1; }
check_eq "Services are back after a clean restart" "$before" "$(names)"
check_eq "with their endpoint conditions" "[True, False]" \
  "$(ctl "$n1_SOCK" --json service list | json_get '[e["ready"] for e in j[0]["endpoints"]]')"

check "add one more" ctl "$n1_SOCK" service add ns2/late --cluster-ip 10.96.2.1 --port tcp:80
sleep 1  # past the store's flush delay
kill -9 "$n1_PID"
wait "$n1_PID" 2>/dev/null
start_podvsd n1 --pod-cidr 10.244.0.0/24 --cluster-cidr 10.244.0.0/16 || { finish; exit 1; }
check_eq "a flushed Service survives kill -9" "$before ns2/late" "$(names)"

# --- Owners: only the owner replaces; deletes and lists may name one; owners survive a restart.
check "podvs-agent adds its Service" ctl "$n1_SOCK" service add agent/web --cluster-ip 10.96.3.1 \
  --port tcp:80 --owner podvs-agent
expect_error "an operator's add of the agent's Service is refused" \
  "service agent/web belongs to owner \"podvs-agent\" and this request's owner is \"\" (an operator)" \
  service add agent/web --cluster-ip 10.96.3.1 --port tcp:81
expect_error "the agent's add of an operator's Service is refused" \
  "service ns2/late belongs to owner \"\" (an operator) and this request's owner is \"podvs-agent\"" \
  service add ns2/late --cluster-ip 10.96.2.1 --port tcp:80 --owner podvs-agent
expect_error "a delete naming another owner is refused" \
  "service agent/web belongs to owner \"podvs-agent\", not to \"other\"; it was not deleted" \
  service del agent/web --owner other
owned() { ctl "$n1_SOCK" --json service list --owner "$1" | json_get '" ".join(s["namespace"] + "/" + s["name"] for s in j)'; }
check_eq "list --owner podvs-agent shows only the agent's" "agent/web" "$(owned podvs-agent)"
check_eq "list --owner '' shows only the operator's" "$before ns2/late" "$(owned '')"
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
start_podvsd n1 --pod-cidr 10.244.0.0/24 --cluster-cidr 10.244.0.0/16 || { finish; exit 1; }
check_eq "the owner survives a restart" "agent/web" "$(owned podvs-agent)"
check "its owner deletes it" ctl "$n1_SOCK" service del agent/web --owner podvs-agent
check_eq "and it is gone" "" "$(owned podvs-agent)"
finish
