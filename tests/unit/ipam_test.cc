#include "control/daemon/ipam.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace podvs {
namespace {

Ipv4Prefix prefix(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4 ip(const char* text) { return *parse_ipv4(text); }

TEST(Ipam, ExhaustsA24WithoutNetworkBroadcastReservedOrDuplicates) {
  Ipam ipam(prefix("10.244.0.0/24"), {ip("10.244.0.1")});
  EXPECT_EQ(ipam.capacity(), 253u);
  std::set<Ipv4> handed_out;
  for (int i = 0; i < 253; ++i) {
    auto got = ipam.allocate();
    ASSERT_TRUE(got) << "allocation " << i;
    EXPECT_NE(*got, ip("10.244.0.0"));
    EXPECT_NE(*got, ip("10.244.0.255"));
    EXPECT_NE(*got, ip("10.244.0.1"));
    EXPECT_TRUE(ipam.cidr().contains(*got));
    EXPECT_TRUE(handed_out.insert(*got).second) << ipv4_str(*got) << " handed out twice";
  }
  EXPECT_EQ(ipam.used(), 253u);
  EXPECT_FALSE(ipam.allocate());
  EXPECT_FALSE(ipam.in_use(ip("10.244.0.1")));
}

TEST(Ipam, FreedAddressIsNotReusedUntilWrapAround) {
  Ipam ipam(prefix("10.0.0.0/29"), {});  // 6 usable: .1 .. .6
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.1"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.2"));
  EXPECT_TRUE(ipam.release(ip("10.0.0.1")));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.3"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.4"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.5"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.6"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.1"));  // wrapped around
  EXPECT_FALSE(ipam.allocate());
}

TEST(Ipam, RoundRobinSkipsReservedAndInUseAcrossWordBoundaries) {
  Ipam ipam(prefix("10.0.0.0/23"), {ip("10.0.0.64"), ip("10.0.0.65")});
  for (Ipv4 a = ip("10.0.0.1"); a <= ip("10.0.0.130"); ++a) {
    if (a != ip("10.0.0.64") && a != ip("10.0.0.65")) {
      ASSERT_TRUE(ipam.reserve(a));
    }
  }
  ipam.set_cursor(ip("10.0.0.60"));
  EXPECT_EQ(*ipam.allocate(), ip("10.0.0.131"));
}

TEST(Ipam, ReserveRejectsWhatCannotBeInUse) {
  Ipam ipam(prefix("10.244.0.0/24"), {ip("10.244.0.1")});
  EXPECT_FALSE(ipam.reserve(ip("10.245.0.7")));    // outside
  EXPECT_FALSE(ipam.reserve(ip("10.244.0.0")));    // network
  EXPECT_FALSE(ipam.reserve(ip("10.244.0.255")));  // broadcast
  EXPECT_FALSE(ipam.reserve(ip("10.244.0.1")));    // reserved
  EXPECT_TRUE(ipam.reserve(ip("10.244.0.7")));
  EXPECT_FALSE(ipam.reserve(ip("10.244.0.7")));  // already in use
  EXPECT_TRUE(ipam.in_use(ip("10.244.0.7")));
  EXPECT_EQ(ipam.used(), 1u);
}

TEST(Ipam, ReleaseOnlyWhatIsInUse) {
  Ipam ipam(prefix("10.244.0.0/24"), {ip("10.244.0.1")});
  EXPECT_FALSE(ipam.release(ip("10.244.0.9")));    // never handed out
  EXPECT_FALSE(ipam.release(ip("10.244.0.1")));    // reserved
  EXPECT_FALSE(ipam.release(ip("10.244.0.0")));    // network
  EXPECT_FALSE(ipam.release(ip("10.244.0.255")));  // broadcast
  EXPECT_FALSE(ipam.release(ip("192.168.0.1")));   // outside
  ASSERT_TRUE(ipam.reserve(ip("10.244.0.9")));
  EXPECT_TRUE(ipam.release(ip("10.244.0.9")));
  EXPECT_FALSE(ipam.release(ip("10.244.0.9")));
  EXPECT_FALSE(ipam.in_use(ip("10.244.0.9")));
  EXPECT_EQ(ipam.used(), 0u);
  EXPECT_FALSE(ipam.reserve(ip("10.244.0.1")));  // still reserved after the failed release
}

TEST(Ipam, ReservedListIgnoresDuplicatesAndAddressesOutsideTheRange) {
  Ipam ipam(prefix("10.244.0.0/24"),
            {ip("10.244.0.1"), ip("10.244.0.1"), ip("10.244.0.0"), ip("192.168.1.1")});
  EXPECT_EQ(ipam.capacity(), 253u);
}

TEST(Ipam, CursorPersistsTheRoundRobinAcrossRestarts) {
  Ipam before(prefix("10.244.0.0/24"), {});
  before.allocate();
  before.allocate();
  const Ipv4 third = *before.allocate();
  before.release(third);
  EXPECT_EQ(before.cursor(), third);

  Ipam after(prefix("10.244.0.0/24"), {});
  after.reserve(ip("10.244.0.1"));
  after.reserve(ip("10.244.0.2"));
  after.set_cursor(before.cursor());
  EXPECT_EQ(*after.allocate(), ip("10.244.0.4"));
  EXPECT_THROW(after.set_cursor(ip("10.245.0.1")), std::runtime_error);
}

TEST(Ipam, CursorStartsAtTheNetworkAddress) {
  Ipam ipam(prefix("10.244.0.0/24"), {});
  EXPECT_EQ(ipam.cursor(), ip("10.244.0.0"));
  ipam.set_cursor(ip("10.244.0.255"));  // wraps to the first usable address
  EXPECT_EQ(*ipam.allocate(), ip("10.244.0.1"));
}

TEST(Ipam, Slash30HasTwoAddresses) {
  Ipam ipam(prefix("192.168.7.4/30"), {});
  EXPECT_EQ(ipam.capacity(), 2u);
  EXPECT_EQ(*ipam.allocate(), ip("192.168.7.5"));
  EXPECT_EQ(*ipam.allocate(), ip("192.168.7.6"));
  EXPECT_FALSE(ipam.allocate());
}

TEST(Ipam, RejectsPrefixesOutsideSlash8ToSlash30) {
  EXPECT_THROW(Ipam(prefix("10.0.0.0/31"), {}), std::runtime_error);
  EXPECT_THROW(Ipam(prefix("10.0.0.0/32"), {}), std::runtime_error);
  EXPECT_THROW(Ipam(prefix("0.0.0.0/7"), {}), std::runtime_error);
  try {
    Ipam(prefix("10.0.0.0/31"), {});
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("10.0.0.0/31"), std::string::npos) << e.what();
  }
  Ipam big(prefix("10.0.0.0/8"), {});
  EXPECT_EQ(big.capacity(), (1u << 24) - 2);
  EXPECT_EQ(*big.allocate(), ip("10.0.0.1"));
}

}  // namespace
}  // namespace podvs
