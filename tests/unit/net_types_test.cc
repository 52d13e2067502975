#include "base/net_types.h"

#include <gtest/gtest.h>

namespace podvs {
namespace {

TEST(NetTypes, Ipv4RoundTrip) {
  EXPECT_EQ(parse_ipv4("10.244.0.1"), 0x0af40001u);
  EXPECT_EQ(ipv4_str(0x0af40001u), "10.244.0.1");
  EXPECT_FALSE(parse_ipv4("10.244.0"));
  EXPECT_FALSE(parse_ipv4("10.244.0.256"));
  EXPECT_FALSE(parse_ipv4(""));
}

TEST(NetTypes, PrefixParsingRejectsHostBits) {
  const auto p = Ipv4Prefix::parse("10.244.0.0/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->network, 0x0af40000u);
  EXPECT_EQ(p->length, 24);
  EXPECT_EQ(p->broadcast(), 0x0af400ffu);
  EXPECT_TRUE(p->contains(0x0af40042u));
  EXPECT_FALSE(p->contains(0x0af40142u));
  EXPECT_EQ(p->str(), "10.244.0.0/24");
  EXPECT_FALSE(Ipv4Prefix::parse("10.244.0.1/24"));
  EXPECT_FALSE(Ipv4Prefix::parse("10.244.0.0/33"));
  EXPECT_FALSE(Ipv4Prefix::parse("10.244.0.0/"));
  EXPECT_FALSE(Ipv4Prefix::parse("10.244.0.0"));
  EXPECT_EQ(Ipv4Prefix::parse("0.0.0.0/0")->mask(), 0u);
}

TEST(NetTypes, MacFromIpAndParsing) {
  EXPECT_EQ(MacAddr::from_ipv4(0x0af40002u).str(), "0a:58:0a:f4:00:02");
  EXPECT_EQ(MacAddr::parse("0A:58:0a:f4:00:02"), MacAddr::from_ipv4(0x0af40002u));
  EXPECT_FALSE(MacAddr::parse("0a:58:0a:f4:00"));
  EXPECT_FALSE(MacAddr::parse("0a-58-0a-f4-00-02"));
  EXPECT_FALSE(MacAddr::parse("0a:58:0a:f4:00:zz"));
}

}  // namespace
}  // namespace podvs
