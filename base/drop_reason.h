// Every reason a worker frees a packet instead of forwarding it. This one list feeds the enum,
// the per-port counters, the API/metrics names and the README's table, so a drop can never be
// counted under a name nobody documented.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace podvs {

// X(name, help)
#define PODVS_DROP_REASONS(X)                                                                    \
  X(runt_frame, "frame shorter than an Ethernet header")                                         \
  X(unsupported_ethertype, "neither IPv4 nor ARP (VLAN tags and IPv6 are not switched)")         \
  X(l2_dst_not_gateway, "unicast frame not addressed to the gateway MAC")                        \
  X(ipv4_truncated, "frame too short for the IPv4 header it announces")                          \
  X(ipv4_bad_version, "IP version field is not 4")                                               \
  X(ipv4_bad_ihl, "IPv4 header length below 20 bytes")                                           \
  X(ipv4_bad_total_length, "IPv4 total length smaller than its header or beyond the frame")      \
  X(l4_truncated, "TCP/UDP/ICMP header cut short by the IPv4 total length")                      \
  X(arp_malformed, "ARP that is not Ethernet/IPv4 or is cut short")                              \
  X(arp_not_for_us, "ARP request for an address the switch does not answer for")                 \
  X(arp_reply_ignored, "ARP reply or other ARP opcode (the switch never asks)")                  \
  X(spoofed_source, "source MAC or IPv4 address is not the pod's")                               \
  X(ttl_exceeded, "IPv4 TTL would reach zero")                                                   \
  X(no_route, "destination is in no table (unknown pod, or host traffic to a non-pod)")          \
  X(tx_queue_full, "output port's transmit queue was full")                                      \
  X(vxlan_not_our_ip, "VXLAN packet whose outer IPv4 destination is not this node")              \
  X(vxlan_fragment, "VXLAN packet in an outer IPv4 fragment (tunnels are not reassembled)")      \
  X(vxlan_bad_udp_length, "outer UDP length disagrees with the outer IPv4 total length")         \
  X(vxlan_truncated, "VXLAN packet too short for the VXLAN and inner Ethernet headers")          \
  X(vxlan_bad_checksum, "non-zero outer UDP checksum of a VXLAN packet is wrong")                \
  X(vxlan_bad_flags, "VXLAN flags other than exactly the I flag, or reserved bits set")          \
  X(vxlan_bad_vni, "VXLAN network identifier is not this switch's")                              \
  X(uplink_not_overlay, "IPv4 on the uplink that is not VXLAN to this node's port")              \
  X(overlay_arp, "ARP inside a VXLAN packet (peers resolve pod neighbours statically)")          \
  X(neighbour_unresolved,                                                                        \
    "the remote node's underlay next hop has no MAC yet (ARP pending or failed)")                \
  X(too_big_for_overlay, "packet too large for the overlay MTU that may not get an ICMP error")  \
  X(encap_failed, "no headroom for the VXLAN headers, or the result exceeds 64 KiB")             \
  X(punt_queue_full, "uplink ARP not handed to the control thread: its queue was full")          \
  X(masquerade_unsupported,                                                                      \
    "leaving the cluster: a protocol or fragment masquerade cannot translate")                   \
  X(snat_ports_exhausted, "no free source port for a new masqueraded or Service connection")     \
  X(conntrack_full, "connection table full: a new connection was refused")                       \
  X(service_port_unknown,                                                                        \
    "to a Service's ClusterIP on a port or protocol it does not serve (ICMP port unreachable)")  \
  X(service_no_endpoints, "to a Service with no endpoint to take it (ICMP port unreachable)")    \
  X(service_unsupported,                                                                         \
    "to a Service: neither TCP nor UDP, a fragment before its first one, or an untranslatable "  \
    "ICMP error")                                                                                \
  X(virtio_hdr_truncated, "frame from a tap shorter than the virtio-net header before it")       \
  X(virtio_bad_gso_type, "virtio-net header with an unknown GSO type or flag")                   \
  X(virtio_gso_size_zero, "virtio-net header asks for segmentation into segments of 0 bytes")    \
  X(virtio_hdr_len_beyond_frame, "virtio-net header length beyond the end of the frame")         \
  X(virtio_csum_out_of_range, "partial checksum start or offset beyond the frame's headers")     \
  X(virtio_gso_unsupported,                                                                      \
    "segmentation asked for other than TCP over IPv4 with a partial checksum in its TCP header") \
  X(virtio_csum_unsupported,                                                                     \
    "partial checksum podvs cannot complete (not TCP or UDP: SCTP's is a CRC32c)")               \
  X(virtio_oversized_frame,                                                                      \
    "frame with a partial checksum longer than the pod's MTU and not a super-frame (from a "     \
    "vhost-user pod: a header asking for segments of 0 bytes)")                                  \
  X(gso_failed, "a super-frame could not be segmented: no mbufs, or more than 128 segments")

enum class DropReason : uint8_t {
#define PODVS_DROP_ENUM(name, help) name,
  PODVS_DROP_REASONS(PODVS_DROP_ENUM)
#undef PODVS_DROP_ENUM
};

inline constexpr size_t kNumDropReasons = 0
#define PODVS_DROP_COUNT(name, help) +1
    PODVS_DROP_REASONS(PODVS_DROP_COUNT)
#undef PODVS_DROP_COUNT
    ;

std::string_view drop_reason_name(DropReason reason);
std::string_view drop_reason_help(DropReason reason);

}  // namespace podvs
