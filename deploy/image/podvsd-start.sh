#!/bin/sh
# podvsd's entrypoint in the DaemonSet. The configuration is the ConfigMap's podvsd.yaml; what
# differs per node comes from the node itself:
# - the uplink (PODVS_UPLINK, from the ConfigMap; empty = no overlay, a one-node cluster) is a
#   data-plane interface the kernel must leave to podvs: no address of its own, no forwarding, no
#   ARP answers, offloads off (docs/dpdk.md, "net_af_packet uplink and its offloads");
# - this node's underlay address and subnet (podvsd owns it on the uplink and answers ARP for it)
#   is read from /etc/podvs/node-ip on the host, one line such as 192.168.1.11/24, written when
#   the node is provisioned, as the uplink itself is.
# The pod CIDR is not configured per node: podvs-agent hands podvsd the Node's spec.podCIDR.
set -eu
config=${PODVS_CONFIG:-/etc/podvs/config/podvsd.yaml}
node_ip_file=${PODVS_NODE_IP_FILE:-/host/etc/podvs/node-ip}

if [ -n "${PODVS_UPLINK:-}" ]; then
  if [ ! -r "$node_ip_file" ]; then
    echo "podvsd-start: uplink $PODVS_UPLINK is set but $node_ip_file (this node's underlay" \
         "address, e.g. 192.168.1.11/24) is missing on the host" >&2
    exit 1
  fi
  node_ip=$(tr -d ' \n' <"$node_ip_file")
  sysctl -qw "net.ipv4.conf.$PODVS_UPLINK.forwarding=0" "net.ipv4.conf.$PODVS_UPLINK.arp_ignore=8"
  sysctl -qw "net.ipv6.conf.$PODVS_UPLINK.disable_ipv6=1" || true
  ethtool -K "$PODVS_UPLINK" tx off tso off gso off gro off 2>/dev/null || true
  ip link set "$PODVS_UPLINK" up
  set -- --uplink-interface "$PODVS_UPLINK" --node-ip "$node_ip" "$@"
fi
mkdir -p /run/podvs /var/lib/podvs
exec /usr/local/bin/podvsd --config "$config" "$@"
