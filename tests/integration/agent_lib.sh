# Helpers for podvs-agent's tests, sourced after lib.sh: the test API server
# (tests/k8s/apiserver.py) over HTTPS with a CA made here and a bearer token, a kubeconfig for
# it, and the calls of its control port. start_apiserver sets API (the HTTPS URL), C (the control
# URL), PKI (the CA and certificates) and TOKEN; the server is killed by lib.sh's cleanup.
APISERVER="$TOP/tests/k8s/apiserver.py"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_apiserver() {
  PKI=$WORK/pki
  mkdir -p "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=podvs-test-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$PKI/server.key" \
    -out "$PKI/server.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1\n' >"$PKI/san.ext"
  openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAcreateserial -days 1 -extfile "$PKI/san.ext" -out "$PKI/server.crt" 2>/dev/null || return 1
  TOKEN="tok-$ID-$RANDOM"
  local api_port ctl_port
  api_port=$(free_port) ctl_port=$(free_port)
  python3 "$APISERVER" --port "$api_port" --control-port "$ctl_port" --cert "$PKI/server.crt" \
    --key "$PKI/server.key" --token "$TOKEN" >"$WORK/apiserver.log" 2>&1 &
  PIDS+=("$!")
  C="http://127.0.0.1:$ctl_port"
  API="https://127.0.0.1:$api_port"
  for _ in $(seq 50); do curl -sf "$C/watches" >/dev/null && return 0; sleep 0.1; done
  log "the API server did not start: $(cat "$WORK/apiserver.log")"
  return 1
}

# write_kubeconfig FILE: the CA inline, the token from $WORK/token.
write_kubeconfig() {
  printf '%s\n' "$TOKEN" >"$WORK/token"
  cat >"$1" <<KC
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: test, user: agent}
clusters:
- name: test
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: agent
  user:
    tokenFile: $WORK/token
KC
}

# The control port: objects created, replaced and deleted as the API server would.
put() { curl -sf -X PUT --data-binary "$2" "$C/objects/$1" >/dev/null; }
del_object() { curl -sf -X DELETE "$C/objects/$1/$2" >/dev/null; }
post() { curl -sf -X POST ${2:+--data-binary "$2"} "$C/$1" >/dev/null; }

# wait_for SECONDS COMMAND...: the command succeeds within SECONDS.
wait_for() {
  local end=$((SECONDS + $1)); shift
  while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  "$@"
}

# rbac_covers REQUESTS_JSON RESOURCE:VERB...: every request of the agent in the API server's log
# uses a verb control/agent/rbac.json lists, and each RESOURCE:VERB given was used.
rbac_covers() {
  local log=$1; shift
  python3 - "$log" "$TOP/control/agent/rbac.json" "$@" <<'PY'
import json, sys
log = [r for r in json.load(open(sys.argv[1])) if r['user_agent'].startswith('podvs-agent/')]
allowed = {(rule['resource'], v) for rule in json.load(open(sys.argv[2]))['rules'] for v in rule['verbs']}
used = {(r['resource'], r['verb']) for r in log}
print('used:', sorted(used), file=sys.stderr)
expected = {tuple(a.split(':')) for a in sys.argv[3:]}
if used - allowed or not expected <= used:
    print('not in rbac.json:', sorted(used - allowed), 'not used:', sorted(expected - used), file=sys.stderr)
    sys.exit(1)
PY
}
