#include "vswitch/anti_spoof.h"

#include <gtest/gtest.h>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"
#include "vswitch/packet_parse.h"

namespace podvs::test {
namespace {

bool allowed(uint16_t port, const char* src_mac, const char* src_ip) {
  auto table = make_table();
  rte_mbuf* m = to_mbuf(test_pool(), PacketBuilder()
                                         .eth(src_mac, kGwMac)
                                         .ipv4(src_ip, "10.244.0.3", IPPROTO_UDP)
                                         .udp(1, 2)
                                         .bytes());
  const ParsedPacket p = parse_packet(m, port);
  const bool ok = source_allowed(table->port(port), p.eth, p.ip);
  rte_pktmbuf_free(m);
  return ok;
}

TEST(AntiSpoof, PodsOwnAddressesPass) { EXPECT_TRUE(allowed(kPodAPort, kPodAMac, "10.244.0.2")); }

TEST(AntiSpoof, ForeignIpIsRejected) { EXPECT_FALSE(allowed(kPodAPort, kPodAMac, "10.244.0.3")); }

TEST(AntiSpoof, ForeignMacIsRejected) { EXPECT_FALSE(allowed(kPodAPort, kPodBMac, "10.244.0.2")); }

TEST(AntiSpoof, HostMaySendFromAnyAddress) {
  EXPECT_TRUE(allowed(kHostPort, "02:00:00:00:00:99", "192.0.2.7"));
}

TEST(AntiSpoof, UnknownPortSendsNothing) { EXPECT_FALSE(allowed(9, kPodAMac, "10.244.0.2")); }

}  // namespace
}  // namespace podvs::test
