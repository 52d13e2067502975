// podvs-pktgen's ARP responder (--answer-arp IP,MAC): the generator stands in for a remote VTEP
// on a switch's uplink, and a switch resolves that VTEP's address with ARP before it encapsulates
// to it (podvs's neighbour table, OVS's tunnel neighbour cache). pktgen answers requests for IP
// and announces IP with one gratuitous ARP when the links come up, as a host does.
#pragma once

#include <rte_ether.h>

#include <cstdint>

namespace podvs::pktgen {

// Ethernet 14 + ARP 28; a frame on the wire is padded to 60 bytes without FCS.
inline constexpr uint32_t kArpLen = 42;
inline constexpr uint32_t kArpFrameLen = 60;

struct ArpAnswer {
  uint32_t ip = 0;  // host byte order
  rte_ether_addr mac{};
};

inline bool is_arp(const uint8_t* frame, uint32_t len) {
  return len >= 14 && frame[12] == (RTE_ETHER_TYPE_ARP >> 8) &&
         frame[13] == (RTE_ETHER_TYPE_ARP & 0xff);
}

// When `frame` is an Ethernet/IPv4 ARP request for `answer.ip`, rewrites it in place into the
// reply (RFC 826: to the requester, from answer.mac) and returns true; else leaves it alone.
bool arp_request_to_reply(uint8_t* frame, uint32_t len, const ArpAnswer& answer);

// Writes a gratuitous ARP request (sender and target address answer.ip, to broadcast),
// kArpFrameLen bytes with zero padding.
void make_gratuitous_arp(uint8_t* frame, const ArpAnswer& answer);

}  // namespace podvs::pktgen
