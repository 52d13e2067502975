#include "vswitch/flow_cache.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace podvs::test {
namespace {

FlowKey key(uint32_t n) {
  FlowKey k;
  k.src_ip = n;
  k.dst_ip = 0x0300f40a;
  k.proto = 17;
  k.in_port = 1;
  return k;
}

ForwardAction action(uint16_t port) {
  ForwardAction a;
  a.out_port = port;
  return a;
}

TEST(FlowCache, MissThenHit) {
  FlowCache cache(256);
  cache.sync(1);
  const FlowKey k = key(7);
  const uint32_t h = FlowCache::hash(k);
  EXPECT_EQ(cache.lookup(k, h), nullptr);
  cache.insert(k, h, action(3));
  ASSERT_NE(cache.lookup(k, h), nullptr);
  EXPECT_EQ(cache.lookup(k, h)->out_port, 3);
}

TEST(FlowCache, KeyDiffersInAnyFieldMisses) {
  FlowCache cache(256);
  cache.sync(1);
  FlowKey k = key(7);
  cache.insert(k, FlowCache::hash(k), action(3));
  FlowKey other = k;
  other.in_port = 2;
  EXPECT_EQ(cache.lookup(other, FlowCache::hash(other)), nullptr);
  other = k;
  other.dst_port = 1;
  EXPECT_EQ(cache.lookup(other, FlowCache::hash(other)), nullptr);
}

TEST(FlowCache, NewTableVersionInvalidatesEverything) {
  FlowCache cache(4096);  // 2048 sets: these 50 keys never put three in one set
  cache.sync(1);
  for (uint32_t i = 0; i < 50; ++i) cache.insert(key(i), FlowCache::hash(key(i)), action(1));
  cache.sync(1);  // same version: entries stay
  for (uint32_t i = 0; i < 50; ++i)
    EXPECT_NE(cache.lookup(key(i), FlowCache::hash(key(i))), nullptr);
  cache.sync(2);
  for (uint32_t i = 0; i < 50; ++i)
    EXPECT_EQ(cache.lookup(key(i), FlowCache::hash(key(i))), nullptr);
}

TEST(FlowCache, TwoFlowsInOneSetBothStay) {
  FlowCache cache(2);  // one set of two ways: every key collides
  cache.sync(1);
  cache.insert(key(1), FlowCache::hash(key(1)), action(1));
  cache.insert(key(2), FlowCache::hash(key(2)), action(2));
  EXPECT_EQ(cache.lookup(key(1), FlowCache::hash(key(1)))->out_port, 1);
  EXPECT_EQ(cache.lookup(key(2), FlowCache::hash(key(2)))->out_port, 2);
  cache.insert(key(3), FlowCache::hash(key(3)), action(3));  // evicts one of them
  EXPECT_EQ(cache.lookup(key(3), FlowCache::hash(key(3)))->out_port, 3);
  const bool one = cache.lookup(key(1), FlowCache::hash(key(1))) != nullptr;
  const bool two = cache.lookup(key(2), FlowCache::hash(key(2))) != nullptr;
  EXPECT_TRUE(one != two);
}

TEST(FlowCache, SizeMustBeAPowerOfTwo) {
  EXPECT_THROW(FlowCache(1000), std::invalid_argument);
  EXPECT_NO_THROW(FlowCache(1024));
}

}  // namespace
}  // namespace podvs::test
