#!/usr/bin/env bash
# podvsd's view of its agent: no agent until one reports; a report (sent through the agent's own
# client, control/agent/podvsd_client) shows in `podvsctl status` (text and --json) and in the
# metrics, turns stale after 30 s without another, and is forgotten by a restarted podvsd, whose
# instance_id changes so an agent can tell.
source "$(dirname "$0")/lib.sh"
REPORT_AGENT=${REPORT_AGENT:-$BUILD/tests/report_agent}

start_podvsd n1 || exit 1
check "before any report: agent: none" sh -c "'$PODVSCTL' --socket '$n1_SOCK' status | grep -qx 'agent: none'"
instance=$(ctl "$n1_SOCK" --json status | json_get '"%016x" % j["instance_id"]')
check "status has a non-zero instance_id" test "$instance" != 0000000000000000

last_sync=$(date +%s)
out=$("$REPORT_AGENT" "$n1_SOCK" true "$last_sync" 12 3 2>&1)
check_eq "ReportAgent answers with podvsd's instance_id" "reported $instance" "$(head -1 <<<"$out")"
check_eq "the agent's client reads the same instance_id from status" "status $instance" \
  "$(sed -n 2p <<<"$out")"

line=$(ctl "$n1_SOCK" status | grep '^agent ')
when=$(date -u -d "@$last_sync" +%Y-%m-%dT%H:%M:%SZ)
check "podvsctl status: the agent is connected and synced (got '$line')" \
  matches "$line" "agent podvs-agent: connected (report [0-9]s ago), synced, last sync $when, 12 services, 3 nodes, pid *, version it-report"
json=$(ctl "$n1_SOCK" --json status)
check_eq "--json: one agent, connected, synced, its counts" "podvs-agent True True 12 3 $last_sync" \
  "$(json_get '" ".join(str(x) for x in [j["agents"][0]["name"], j["agents"][0]["connected"], j["agents"][0]["synced"], j["agents"][0]["services"], j["agents"][0]["nodes"], j["agents"][0]["last_sync_unix_s"]])' <<<"$json")"
metrics=$(curl -s "http://$n1_METRICS/metrics")
check "metrics: podvs_agent_report_age_seconds for the agent" \
  grep -q '^podvs_agent_report_age_seconds{agent="podvs-agent"} ' <<<"$metrics"
check "metrics: podvs_agent_synced is 1" grep -q '^podvs_agent_synced{agent="podvs-agent"} 1' <<<"$metrics"

# A second report replaces the first: not synced any more (a relist in progress).
"$REPORT_AGENT" "$n1_SOCK" false "$last_sync" 12 3 >/dev/null 2>&1
check "a new report replaces the last one" \
  sh -c "'$PODVSCTL' --socket '$n1_SOCK' status | grep -q '^agent podvs-agent: connected (report [0-9]s ago), not synced'"

# Silent for more than 30 s: stale.
sleep 31
line=$(ctl "$n1_SOCK" status | grep '^agent ')
check "after 31 s without a report the agent is stale (got '$line')" \
  matches "$line" "agent podvs-agent: stale (report 3[0-9]s ago), not synced, *"
check_eq "--json says not connected" False \
  "$(ctl "$n1_SOCK" --json status | json_get 'j["agents"][0]["connected"]')"

# A restarted podvsd knows no agent and has a new instance_id.
kill -TERM "$n1_PID"
for _ in $(seq 50); do kill -0 "$n1_PID" 2>/dev/null || break; sleep 0.1; done
start_podvsd n1 || exit 1
check "after a restart: agent: none" sh -c "'$PODVSCTL' --socket '$n1_SOCK' status | grep -qx 'agent: none'"
restarted=$(ctl "$n1_SOCK" --json status | json_get '"%016x" % j["instance_id"]')
check "after a restart the instance_id changed ($instance -> $restarted)" test "$restarted" != "$instance"

finish
