# Shared by podvs-agent's integration tests (source it after lib.sh): the test API server
# (tests/k8s/apiserver.py) with TLS from a CA made here and a bearer token, a kubeconfig for the
# agent, and helpers to shape the server's objects.
AGENT=${PODVS_AGENT:-$BUILD/podvs-agent}
APISERVER="$TOP/tests/k8s/apiserver.py"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# make_pki: a CA, a server certificate for 127.0.0.1 (and API_BIND and the addresses in
# API_SANS, e.g. the ClusterIP of the kubernetes Service, if set) and a client certificate, in
# $WORK/pki.
make_pki() {
  pki=$WORK/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=podvs-test-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null || return 1
  local san=IP:127.0.0.1 ip
  for ip in ${API_BIND:-} ${API_SANS:-}; do san+=,IP:$ip; done
  printf 'subjectAltName=%s\n' "$san" >"$pki/san.ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 1 -extfile "$pki/san.ext" -out "$pki/server.crt" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=system:node:podvs-test" -keyout "$pki/client.key" \
    -out "$pki/client.csr" 2>/dev/null || return 1
  openssl x509 -req -in "$pki/client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 1 -out "$pki/client.crt" 2>/dev/null || return 1
}

# start_apiserver: make_pki, then the server with a fresh token, on 127.0.0.1 or on API_BIND.
# Sets pki, token, API (its HTTPS URL), api_port and C (its plain-HTTP control URL, for the test
# to change objects and faults).
start_apiserver() {
  make_pki || return 1
  token="tok-$ID-$RANDOM"
  local ctl_port bind=${API_BIND:-127.0.0.1}
  api_port=$(free_port) ctl_port=$(free_port)
  python3 "$APISERVER" --port "$api_port" --control-port "$ctl_port" --cert "$pki/server.crt" \
    --key "$pki/server.key" --token "$token" --client-ca "$pki/ca.crt" --bind "$bind" \
    >"$WORK/apiserver.log" 2>&1 &
  PIDS+=("$!")
  C="http://127.0.0.1:$ctl_port"
  API="https://$bind:$api_port"
  for _ in $(seq 50); do curl -sf "$C/watches" >/dev/null && return 0; sleep 0.1; done
  log "the test API server did not come up:"; cat "$WORK/apiserver.log"
  return 1
}

# write_kubeconfig FILE: the server's CA inline and the token from $WORK/token.
write_kubeconfig() {
  printf '%s\n' "$token" >"$WORK/token"
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
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: agent
  user:
    tokenFile: $WORK/token
KC
}

put() { curl -sf -X PUT --data-binary "$2" "$C/objects/$1" >/dev/null; }
get_node() { curl -sf "$C/objects/nodes/$1"; }
del_node() { curl -sf -X DELETE "$C/objects/nodes/$1" >/dev/null; }
del_object() { curl -sf -X DELETE "$C/objects/$1/$2" >/dev/null; }  # del_object RESOURCE [NS/]NAME
post() { curl -sf -X POST ${2:+--data-binary "$2"} "$C/$1" >/dev/null; }
# flannel_node NAME N IP MAC: a Node owning 10.244.N.0/24 with flannel's vxlan annotations.
flannel_node() {
  printf '{"metadata":{"name":"%s","labels":{"kubernetes.io/os":"linux"},"annotations":{"flannel.alpha.coreos.com/backend-type":"vxlan","flannel.alpha.coreos.com/backend-data":"{\\"VNI\\":1,\\"VtepMAC\\":\\"%s\\"}","flannel.alpha.coreos.com/public-ip":"%s"}},"spec":{"podCIDR":"10.244.%s.0/24","podCIDRs":["10.244.%s.0/24"]},"status":{"addresses":[{"type":"InternalIP","address":"%s"}]}}' \
    "$1" "$4" "$3" "$2" "$2" "$3"
}

# rbac_covers REQUESTS_JSON RESOURCE:VERB...: every request of the agent in the API server's log
# uses a verb control/agent/rbac.json lists for its API group and resource, and each
# RESOURCE:VERB given was used.
rbac_covers() {
  local log=$1; shift
  python3 - "$log" "$TOP/control/agent/rbac.json" "$@" <<'PY'
import json, sys
log = [r for r in json.load(open(sys.argv[1])) if r['user_agent'].startswith('podvs-agent/')]
allowed = {(rule['apiGroup'], rule['resource'], v)
           for rule in json.load(open(sys.argv[2]))['rules'] for v in rule['verbs']}
used = {(r['group'], r['resource'], r['verb']) for r in log}
print('used:', sorted(used), file=sys.stderr)
expected = {tuple(a.split(':')) for a in sys.argv[3:]}
missing = expected - {(resource, verb) for _, resource, verb in used}
if used - allowed or missing:
    print('not in rbac.json:', sorted(used - allowed), 'not used:', sorted(missing), file=sys.stderr)
    sys.exit(1)
PY
}
