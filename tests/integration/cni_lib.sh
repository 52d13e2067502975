# Helpers for the podvs-cni integration tests, sourced after lib.sh: they drive the plugin as a
# container runtime does (CNI_* environment, configuration on stdin, result or error on stdout).
PODVS_CNI=${PODVS_CNI:-$BUILD/cni-shim/podvs-cni}
CNI_BIN=${CNI_BIN:-/usr/lib/cni}

# conf VERSION SOCK [EXTRA_JSON_MEMBERS]: one network configuration for podvs-cni.
conf() {
  local extra=${3:+, $3}
  printf '{"cniVersion": "%s", "name": "podvs-%s", "type": "podvs-cni", "socket": "%s"%s}' \
    "$1" "$ID" "$2" "$extra"
}

# cni VERB CONTAINER_ID NETNS_PATH IFNAME CONF [CNI_ARGS]: runs the plugin; its stdout goes to
# $WORK/out, stderr to $WORK/err; returns its exit status.
cni() {
  printf '%s' "$5" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="$4" CNI_PATH="$CNI_BIN" CNI_ARGS="${6:-}" "$PODVS_CNI" >"$WORK/out" 2>"$WORK/err"
}

out() { cat "$WORK/out"; }
out_get() { json_get "$1" <"$WORK/out"; }
# error_code: the code of the error object on stdout, or "none".
error_code() { python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["code"])
except Exception: print("none")' "$WORK/out"; }

# expect_error "what" CODE VERB ...: the plugin fails with the error object's CODE.
expect_error() {
  local what=$1 code=$2; shift 2
  if cni "$@"; then fail "$what: succeeded: $(out)"; return; fi
  check_eq "$what (error $code)" "$code" "$(error_code)"
}

pods_json() { ctl "$1" --json pod list; }
pod_count() { pods_json "$1" | json_get 'len(j)'; }
addresses_used() { ctl "$1" --json status | json_get 'j["addresses_used"]'; }

# run_list VERB CONFLIST CONTAINER NETNS_PATH IFNAME [CACHED_RESULT_FILE]: executes a conflist the
# way libcni does: ADD in order, each plugin's result passed on as the next one's prevResult;
# CHECK in order and DEL in reverse, with the cached ADD result as prevResult. The list's name and
# cniVersion replace each plugin's; runtimeConfig carries the capabilities the plugin declares
# from $RUNTIME_CONFIG. ADD prints the final result on stdout.
run_list() {
  python3 - "$@" <<'PY'
import json, os, subprocess, sys
verb, conflist, cid, netns, ifname = sys.argv[1:6]
cached = sys.argv[6] if len(sys.argv) > 6 else None
lst = json.load(open(conflist))
runtime = json.loads(os.environ.get("RUNTIME_CONFIG", "{}"))
prev = json.load(open(cached)) if cached and verb != "ADD" and os.path.exists(cached) else None
plugins = lst["plugins"] if verb != "DEL" else list(reversed(lst["plugins"]))
env = dict(os.environ, CNI_COMMAND=verb, CNI_CONTAINERID=cid, CNI_NETNS=netns, CNI_IFNAME=ifname,
           CNI_PATH=os.environ["CNI_PATH_LIST"], CNI_ARGS=os.environ.get("CNI_ARGS", ""))
for plugin in plugins:
    conf = dict(plugin, name=lst["name"], cniVersion=lst["cniVersion"])
    caps = {k: runtime[k] for k, on in plugin.get("capabilities", {}).items() if on and k in runtime}
    if caps:
        conf["runtimeConfig"] = caps
    if prev is not None:
        conf["prevResult"] = prev
    path = next(os.path.join(d, plugin["type"]) for d in env["CNI_PATH"].split(":")
                if os.path.exists(os.path.join(d, plugin["type"])))
    p = subprocess.run([path], input=json.dumps(conf).encode(), env=env, capture_output=True)
    if p.returncode != 0:
        sys.stderr.write("%s %s failed: %s %s\n" % (plugin["type"], verb, p.stdout.decode(), p.stderr.decode()))
        sys.exit(1)
    if verb == "ADD":
        prev = json.loads(p.stdout)
if verb == "ADD":
    print(json.dumps(prev))
PY
}
