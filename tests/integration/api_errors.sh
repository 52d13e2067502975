#!/usr/bin/env bash
# Bad requests get a precise error and change nothing.
source "$(dirname "$0")/lib.sh"

# A small port capacity, so the full-node case below needs few pods.
start_podvsd n1 --max-ports 8 || exit 1
make_netns "${ID}a"
count() { ctl "$n1_SOCK" --json pod list | json_get 'len(j)'; }

expect_error() {  # expect_error "what" "expected text" podvsctl-args...
  local what=$1 text=$2; shift 2
  if out=$(ctl "$n1_SOCK" "$@" 2>&1); then fail "$what: succeeded: $out"; return; fi
  if [[ "$out" == *"$text"* ]]; then pass "$what ($out)"; else fail "$what: '$out' lacks '$text'"; fi
}

expect_error "missing netns" "does not exist" pod add --id "p1-$ID" --netns /var/run/netns/nope-$ID
expect_error "netns that is not a namespace" "not a network namespace" pod add --id "p1-$ID" --netns /etc/hostname
expect_error "bad pod id" "pod id" pod add --id "../etc" --netns "/var/run/netns/${ID}a"
expect_error "interface name too long" "interface name" pod add --id "p1-$ID" --netns "/var/run/netns/${ID}a" --ifname eth0123456789abcdef
long=$(printf 'x%.0s' $(seq 120))
expect_error "vhost socket path beyond sun_path" "108" pod add --id "$long" --kind vhost-user
expect_error "unknown pod" "no pod" pod get --id "nope-$ID"
check_eq "nothing was created" 0 "$(count)"
check "no stray interface in the namespace" sh -c "[ \$(ip -n ${ID}a -o link | wc -l) -eq 1 ]"

check "a valid pod" ctl "$n1_SOCK" pod add --id "p1-$ID" --netns "/var/run/netns/${ID}a"
expect_error "duplicate id" "already exists" pod add --id "p1-$ID" --netns "/var/run/netns/${ID}a"
make_netns "${ID}b"
check "interface name collision is refused" sh -c "ip -n ${ID}b link add eth0 type dummy 2>/dev/null || ip -n ${ID}b link add eth0 type veth peer name x$ID"
expect_error "existing interface in the namespace" "already exists" pod add --id "p2-$ID" --netns "/var/run/netns/${ID}b"
check_eq "the failed add held no address (one pod)" 1 "$(count)"
check "deleting an unknown pod succeeds" ctl "$n1_SOCK" pod del --id "never-$ID"
check "podvsctl reports an unreachable daemon" sh -c "'$PODVSCTL' --socket /tmp/none-$ID.sock pod list 2>&1 | grep -q 'cannot reach podvsd'"

# A full node: every port of the capacity in use. The next pod gets a clear "resource exhausted" error and
# holds nothing; deleting one pod makes room again.
max=$(ctl "$n1_SOCK" --json status | json_get 'j["ports_max"] - j["ports_used"]')
added=0
for i in $(seq "$max"); do
  make_netns "${ID}f$i"
  ctl "$n1_SOCK" pod add --id "fill-$i-$ID" --netns "/var/run/netns/${ID}f$i" >/dev/null && added=$((added + 1))
done
check_eq "pods fill every free port" "$max" "$added"
make_netns "${ID}over"
expect_error "one pod too many" "no port left" pod add --id "over-$ID" --netns "/var/run/netns/${ID}over"
check "the refused pod left no interface" sh -c "! ip -n ${ID}over link show eth0 2>/dev/null"
ctl "$n1_SOCK" pod del --id "fill-1-$ID"
check "after a delete the pod fits" ctl "$n1_SOCK" pod add --id "over-$ID" --netns "/var/run/netns/${ID}over"
finish
