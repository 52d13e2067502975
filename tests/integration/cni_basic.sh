#!/usr/bin/env bash
# podvs-cni ADD/CHECK/DEL against a real podvsd for every supported cniVersion: the interface,
# address and routes in the pod's netns are what the result says, the pod pings the gateway and
# another pod, CHECK fails precisely when the interface, address or route goes, and DEL is
# idempotent (twice, unknown container, empty or vanished netns) and frees every address.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cni_lib.sh"

start_podvsd n1 || exit 1
SOCK=$n1_SOCK
ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-$ID;K8S_POD_NAME=web"

for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
  tag=${v//./}
  c=$(conf "$v" "$SOCK")
  make_netns "${ID}a$tag" && make_netns "${ID}b$tag"
  na=/var/run/netns/${ID}a$tag nb=/var/run/netns/${ID}b$tag
  ida=ctr-a-$tag-$ID idb=ctr-b-$tag-$ID

  check "[$v] ADD pod a" cni ADD "$ida" "$na" eth0 "$c" "$ARGS"
  res_a=$(out)
  check "[$v] ADD pod b" cni ADD "$idb" "$nb" eth0 "$c" "$ARGS"
  res_b=$(out)
  ip_a=$(echo "$res_a" | json_get 'j["ips"][0]["address"].split("/")[0]')
  ip_b=$(echo "$res_b" | json_get 'j["ips"][0]["address"].split("/")[0]')
  check_eq "[$v] result cniVersion" "$v" "$(echo "$res_a" | json_get 'j["cniVersion"]')"
  check_eq "[$v] result interface and sandbox" "eth0 $na" \
    "$(echo "$res_a" | json_get '"%s %s" % (j["interfaces"][0]["name"], j["interfaces"][0]["sandbox"])')"
  check_eq "[$v] result MAC is eth0's" "$(ip -n "${ID}a$tag" -j link show eth0 | json_get 'j[0]["address"]')" \
    "$(echo "$res_a" | json_get 'j["interfaces"][0]["mac"]')"
  check_eq "[$v] address is a /32 with gateway 169.254.1.1 on interface 0" "/32 169.254.1.1 0" \
    "$(echo "$res_a" | json_get '"/%s %s %d" % (j["ips"][0]["address"].split("/")[1], j["ips"][0]["gateway"], j["ips"][0]["interface"])')"
  check "[$v] eth0 in the netns carries $ip_a/32" sh -c "ip -n ${ID}a$tag -4 addr show dev eth0 | grep -q 'inet $ip_a/32'"
  check "[$v] default route via 169.254.1.1" sh -c "ip -n ${ID}a$tag route | grep -q 'default via 169.254.1.1 dev eth0'"
  check "[$v] result has the default route" test "$(echo "$res_a" | json_get '{"dst": "0.0.0.0/0", "gw": "169.254.1.1"} in j["routes"]')" = True
  case $v in
    0.*) check_eq "[$v] ips[].version is 4" "4" "$(echo "$res_a" | json_get 'j["ips"][0].get("version")')" ;;
    *) check_eq "[$v] ips[] has no version" "None" "$(echo "$res_a" | json_get 'j["ips"][0].get("version")')" ;;
  esac
  if [ "$v" = 1.1.0 ]; then
    check_eq "[$v] interface mtu" "1500" "$(echo "$res_a" | json_get 'j["interfaces"][0]["mtu"]')"
    check "[$v] the gateway's link-scope route" test "$(echo "$res_a" | json_get '{"dst": "169.254.1.1/32", "scope": 253} in j["routes"]')" = True
  else
    check_eq "[$v] no 1.1.0 fields" "None None" "$(echo "$res_a" | json_get '"%s %s" % (j["interfaces"][0].get("mtu"), j["interfaces"][0].get("socketPath"))')"
  fi
  # podvsd answers ARP for the gateway but has no ICMP responder: the gateway is proven by its
  # ARP answer and by pinging the node (10.244.0.1) through it.
  ip netns exec "${ID}a$tag" ping -c 1 -W 1 169.254.1.1 >/dev/null 2>&1
  check "[$v] pod a resolves the gateway 169.254.1.1" sh -c "ip -n ${ID}a$tag neigh show 169.254.1.1 | grep -q lladdr"
  check "[$v] pod a pings the node through the gateway" ip netns exec "${ID}a$tag" ping -c 2 -i 0.2 -W 2 10.244.0.1
  check "[$v] pod a pings pod b" ip netns exec "${ID}a$tag" ping -c 2 -i 0.2 -W 2 "$ip_b"
  check_eq "[$v] podvsd records owner and Kubernetes names" "cni:podvs-$ID ns-$ID web" \
    "$(ctl "$SOCK" --json pod get --id "$ida" | json_get '"%s %s %s" % (j["spec"]["owner"], j["spec"]["k8s_namespace"], j["spec"]["k8s_name"])')"

  if [ "$v" != 0.3.0 ] && [ "$v" != 0.3.1 ]; then
    ca=$(conf "$v" "$SOCK" "\"prevResult\": $res_a")
    check "[$v] CHECK passes" cni CHECK "$ida" "$na" eth0 "$ca" "$ARGS"
  else
    expect_error "[$v] CHECK is refused before 0.4.0" 1 CHECK "$ida" "$na" eth0 "$c" "$ARGS"
  fi

  check "[$v] DEL pod a" cni DEL "$ida" "$na" eth0 "$c" "$ARGS"
  check "[$v] eth0 gone from pod a" sh -c "! ip -n ${ID}a$tag link show eth0 2>/dev/null"
  check "[$v] DEL pod a again" cni DEL "$ida" "$na" eth0 "$c" "$ARGS"
  check "[$v] DEL pod b with an empty netns" cni DEL "$idb" "" eth0 "$c" "$ARGS"
  check_eq "[$v] no address held" 0 "$(addresses_used "$SOCK")"
  check_eq "[$v] DEL printed nothing" "" "$(out)"
done

# CHECK fails precisely when something ADD made is missing, and passes again once restored.
c=$(conf 1.1.0 "$SOCK")
make_netns "${ID}k"; nk=/var/run/netns/${ID}k
check "ADD for CHECK" cni ADD "ctr-k-$ID" "$nk" eth0 "$c"
ck=$(conf 1.1.0 "$SOCK" "\"prevResult\": $(out)")
ip_k=$(out_get 'j["ips"][0]["address"]')
ip -n "${ID}k" route del default
expect_error "CHECK fails without the default route" 103 CHECK "ctr-k-$ID" "$nk" eth0 "$ck"
check "... and names it" grep -q "default route via 169.254.1.1 is missing" "$WORK/out"
ip -n "${ID}k" route add default via 169.254.1.1 dev eth0
check "CHECK passes with the route back" cni CHECK "ctr-k-$ID" "$nk" eth0 "$ck"
ip -n "${ID}k" addr del "$ip_k" dev eth0
expect_error "CHECK fails without the address" 103 CHECK "ctr-k-$ID" "$nk" eth0 "$ck"
check "... and names it" grep -q "lacks address" "$WORK/out"
ip -n "${ID}k" addr add "$ip_k" dev eth0
ip -n "${ID}k" route replace default via 169.254.1.1 dev eth0 2>/dev/null
ip -n "${ID}k" link set eth0 down && ip -n "${ID}k" link set eth0 name eth9
expect_error "CHECK fails without the interface" 103 CHECK "ctr-k-$ID" "$nk" eth0 "$ck"
check "... and names it" grep -q "interface eth0 is missing" "$WORK/out"
ip -n "${ID}k" link set eth9 name eth0 && ip -n "${ID}k" link set eth0 up
# Setting the link down took its routes: put back what podvsd made.
ip -n "${ID}k" route replace 169.254.1.1/32 dev eth0 scope link
ip -n "${ID}k" route replace default via 169.254.1.1 dev eth0
check "CHECK passes once everything is back" cni CHECK "ctr-k-$ID" "$nk" eth0 "$ck"
wrong=$(echo "$ck" | python3 -c 'import json,sys; j=json.load(sys.stdin); j["prevResult"]["ips"][0]["address"]="10.9.9.9/32"; print(json.dumps(j))')
expect_error "CHECK fails when prevResult disagrees" 103 CHECK "ctr-k-$ID" "$nk" eth0 "$wrong"
expect_error "CHECK fails without prevResult" 7 CHECK "ctr-k-$ID" "$nk" eth0 "$c"
check "DEL" cni DEL "ctr-k-$ID" "$nk" eth0 "$c"
expect_error "CHECK of a deleted container fails" 103 CHECK "ctr-k-$ID" "$nk" eth0 "$ck"

# DEL of an unknown container, and of a pod whose netns vanished.
check "DEL of an unknown container succeeds" cni DEL "never-$ID" /var/run/netns/none eth0 "$c"
make_netns "${ID}v"
check "ADD in a netns about to vanish" cni ADD "ctr-v-$ID" "/var/run/netns/${ID}v" eth0 "$c"
ip netns del "${ID}v"
check "DEL after the netns vanished succeeds" cni DEL "ctr-v-$ID" "/var/run/netns/${ID}v" eth0 "$c"
check_eq "no pod left" 0 "$(pod_count "$SOCK")"
check_eq "no address held" 0 "$(addresses_used "$SOCK")"
check_eq "only the host port is left" 1 "$(ctl "$SOCK" --json port list | json_get 'len(j)')"
finish
