// The connection state all workers share (conn_state.h): the conntrack table against a model (a
// std::map) while two workers take turns, and every shared table (and the flow-cache notices)
// under several threads at once: inserts, lookups, updates, removals and expiry from all of them.
// The threads check the table's promises: a lookup finds the entry of the tuple it asked for
// (never one being reused), one live entry per tuple whoever creates it, no entry lost or freed
// twice. scripts/test.sh also runs this binary under ThreadSanitizer (build-tsan), which checks
// the memory ordering.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "vswitch/conn_state.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;  // the TSC of these tests: a second is 1000

// The RCU the workers of a test report to, thread id = worker index.
class Rcu {
 public:
  explicit Rcu(uint32_t threads) {
    const size_t size = rte_rcu_qsbr_get_memsize(threads);
    memory_.reset(static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, size)));
    if (memory_ == nullptr || rte_rcu_qsbr_init(memory_.get(), threads) != 0) std::abort();
    for (uint32_t t = 0; t < threads; ++t) rte_rcu_qsbr_thread_register(memory_.get(), t);
  }
  rte_rcu_qsbr* get() const { return memory_.get(); }

 private:
  struct Free {
    void operator()(rte_rcu_qsbr* q) const { std::free(q); }
  };
  std::unique_ptr<rte_rcu_qsbr, Free> memory_;
};

ConnTuple udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
  return {rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), rte_cpu_to_be_16(sport),
          rte_cpu_to_be_16(dport), IPPROTO_UDP};
}

ConnTimeouts short_udp() {
  ConnTimeouts t;
  t.udp_unreplied = 1;
  t.udp_replied = 2;
  return t;
}

// --- The model: what the table must answer, one operation at a time ---------------------------

struct TupleLess {
  bool operator()(const ConnTuple& a, const ConnTuple& b) const {
    return std::tie(a.src_ip, a.dst_ip, a.src_port, a.dst_port, a.proto) <
           std::tie(b.src_ip, b.dst_ip, b.src_port, b.dst_port, b.proto);
  }
};
struct ModelEntry {
  ConnTuple reply;
  uint64_t last_seen;
  bool replied;
};
using Model = std::map<ConnTuple, ModelEntry, TupleLess>;

class ConnTableModelTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kPerWorker = 16;
  static constexpr uint32_t kWorkers = 2;

  ConnTableModelTest() {
    for (uint32_t w = 0; w < kWorkers; ++w) rte_rcu_qsbr_thread_online(rcu_.get(), w);
  }
  ~ConnTableModelTest() override {
    for (uint32_t w = 0; w < kWorkers; ++w) rte_rcu_qsbr_thread_offline(rcu_.get(), w);
  }

  uint64_t timeout(const ModelEntry& e) const { return (e.replied ? 2 : 1) * kHz; }
  bool expired(const ModelEntry& e) const {
    return now_ > e.last_seen && now_ - e.last_seen > timeout(e);
  }
  // The model entry holding `t` in either direction: its original tuple, and the direction.
  Model::iterator holder(const ConnTuple& t, ConnDir& dir) {
    for (auto it = model_.begin(); it != model_.end(); ++it) {
      if (it->first == t) {
        dir = ConnDir::original;
        return it;
      }
      if (it->second.reply == t) {
        dir = ConnDir::reply;
        return it;
      }
    }
    return model_.end();
  }

  Rcu rcu_{kWorkers};
  ConnTable table_{kPerWorker, kWorkers, kHz, rcu_.get(), short_udp()};
  std::array<ConnTrack, kWorkers> views_{ConnTrack(table_, 0), ConnTrack(table_, 1)};
  Model model_;  // by original tuple
  uint64_t now_ = 1;
};

TEST_F(ConnTableModelTest, TwoWorkersTakingTurnsAgreeWithAMap) {
  std::mt19937 rng(15);
  // Few tuples, so that creations collide with live and expired holders; replies of some
  // tuples are originals of others (a port moved by SNAT meeting a plain connection).
  const auto tuple_of = [](uint32_t i) {
    return udp(0x0a000001, static_cast<uint16_t>(1000 + i % 24), 0x0a000002, 53);
  };
  const auto reply_of = [&](uint32_t i, uint32_t salt) {
    return salt % 4 == 0 ? reversed(tuple_of(i + 1))
                         : udp(0x0a000002, 53, 0x0a0000fe, static_cast<uint16_t>(40000 + i));
  };
  unsigned created = 0, refused_full = 0, found = 0;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t w = rng() % kWorkers;
    ConnTrack& view = views_[w];
    const uint32_t i = rng() % 32;
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3: {  // create
        const ConnTuple orig = tuple_of(i);
        const ConnTuple reply = reply_of(i, rng());
        ConnDir dir;
        bool blocked = false;
        for (const ConnTuple& t : {orig, reply}) {
          auto it = holder(t, dir);
          if (it == model_.end()) continue;
          if (expired(it->second))
            model_.erase(it);
          else
            blocked = true;
        }
        ConnEntry* e = view.create(orig, reply, NatSpec{}, now_);
        if (blocked) {
          ASSERT_EQ(e, nullptr) << "step " << step;
        } else if (e == nullptr) {
          // The only other reason: this worker's share is in use (live, or waiting for its grace
          // period or for its owner's sweep).
          ASSERT_EQ(view.size(), kPerWorker) << "step " << step;
          ++refused_full;
        } else {
          ASSERT_EQ(e->tuple(ConnDir::original), orig);
          ASSERT_EQ(e->tuple(ConnDir::reply), reply);
          model_[orig] = {reply, now_, false};
          ++created;
        }
        break;
      }
      case 4:
      case 5:
      case 6: {  // a packet: lookup, and update what was found
        const ConnTuple t = rng() % 2 ? tuple_of(i) : reply_of(i, 1);
        ConnDir dir = ConnDir::original;
        auto it = holder(t, dir);
        if (it != model_.end() && expired(it->second)) {
          model_.erase(it);
          it = model_.end();
        }
        const ConnLookup got = view.lookup(t, now_);
        if (it == model_.end()) {
          ASSERT_EQ(got.entry, nullptr) << "step " << step;
          break;
        }
        ASSERT_NE(got.entry, nullptr) << "step " << step;
        ASSERT_EQ(got.dir, dir);
        ASSERT_EQ(got.entry->tuple(dir), t);
        view.update(got.entry, dir, 0, now_);
        it->second.last_seen = now_;
        if (dir == ConnDir::reply) it->second.replied = true;
        ++found;
        break;
      }
      case 7: {  // one worker removes what another found
        if (model_.empty()) break;
        auto it = std::next(model_.begin(), rng() % model_.size());
        const ConnLookup got = views_[1 - w].lookup(it->first, now_);
        if (expired(it->second)) {
          ASSERT_EQ(got.entry, nullptr);
        } else {
          ASSERT_NE(got.entry, nullptr);
          view.remove(got.entry);
        }
        model_.erase(it);
        break;
      }
      case 8:  // aging
        view.expire(now_, 8);
        break;
      case 9:  // time goes by
        now_ += rng() % 600;
        break;
    }
    // Both workers end their loop iteration: grace periods pass.
    for (uint32_t q = 0; q < kWorkers; ++q) rte_rcu_qsbr_quiescent(rcu_.get(), q);
  }
  // Every outcome happened many times, or the test proved little.
  EXPECT_GT(created, 1000u);
  EXPECT_GT(found, 1000u);
  EXPECT_GT(refused_full, 10u);
}

// A full share refuses, as a worker's own table did, and gets its entries back only after the
// other worker has passed a quiescent state.
TEST_F(ConnTableModelTest, RemovedEntriesComeBackAfterAGracePeriod) {
  ConnTrack& w0 = views_[0];
  ConnTrack& w1 = views_[1];
  std::vector<ConnEntry*> entries;
  for (uint16_t p = 0; p < kPerWorker; ++p) {
    const ConnTuple t = udp(1, p, 2, 53);
    entries.push_back(w0.create(t, reversed(t), NatSpec{}, now_));
    ASSERT_NE(entries.back(), nullptr);
  }
  const ConnTuple extra = udp(1, 999, 2, 53);
  EXPECT_EQ(w0.create(extra, reversed(extra), NatSpec{}, now_), nullptr);  // full
  EXPECT_NE(w1.create(extra, reversed(extra), NatSpec{}, now_), nullptr);  // its own share
  // Worker 1 finds worker 0's entry by its reply and removes it; worker 0 takes it back once
  // worker 1 has been quiescent.
  const ConnTuple first = udp(1, 0, 2, 53);
  const ConnLookup got = w1.lookup(reversed(first), now_);
  ASSERT_EQ(got.entry, entries[0]);
  w1.remove(got.entry);
  EXPECT_EQ(w1.lookup(first, now_).entry, nullptr);
  const ConnTuple again = udp(1, 1000, 2, 53);
  w0.expire(now_, kPerWorker);  // the sweep takes the retired entry into its grace period
  EXPECT_EQ(w0.create(again, reversed(again), NatSpec{}, now_), nullptr);
  rte_rcu_qsbr_quiescent(rcu_.get(), 0);
  EXPECT_EQ(w0.create(again, reversed(again), NatSpec{}, now_), nullptr);  // worker 1 may read
  rte_rcu_qsbr_quiescent(rcu_.get(), 1);
  EXPECT_NE(w0.create(again, reversed(again), NatSpec{}, now_), nullptr);
}

TEST(ConnTable, RefusesAShareWithoutRcu) {
  EXPECT_THROW(ConnTable(16, 2, kHz, nullptr), std::invalid_argument);
  EXPECT_THROW(ConnTable(ConnTable::kMaxCapacity / 2 + 1, 2, kHz, nullptr), std::invalid_argument);
}

// --- Threads at once ---------------------------------------------------------------------------

class SharedConnThreadsTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kThreads = 4;
  static constexpr uint32_t kPerWorker = 256;
  static constexpr int kIterations = 4000;

  // Runs `body(worker, iteration)` on kThreads threads, each an online RCU reader reporting a
  // quiescent state after every iteration, as a worker's poll loop does.
  template <typename Body>
  void run_workers(Body body) {
    std::vector<std::thread> threads;
    for (uint32_t w = 0; w < kThreads; ++w)
      threads.emplace_back([this, w, &body] {
        rte_rcu_qsbr_thread_online(rcu_.get(), w);
        for (int i = 0; i < kIterations; ++i) {
          body(w, i);
          rte_rcu_qsbr_quiescent(rcu_.get(), w);
        }
        rte_rcu_qsbr_thread_offline(rcu_.get(), w);
      });
    for (std::thread& t : threads) t.join();
  }

  Rcu rcu_{kThreads};
  std::atomic<uint64_t> clock_{1};  // the tests' TSC: every thread moves it on
};

TEST_F(SharedConnThreadsTest, ConcurrentCreateLookupRemoveAndExpiry) {
  ConnTable table(kPerWorker, kThreads, kHz, rcu_.get(), short_udp());
  std::atomic<uint64_t> wrong{0}, created{0}, found{0}, refused{0};
  // Tuples in a pool all threads create, find, update and remove (ports 0..511 of one client);
  // each one's reply is its reversed tuple.
  constexpr uint32_t kPool = 512;
  run_workers([&](uint32_t w, int i) {
    ConnTrack view(table, w);
    std::minstd_rand rng(w * 7919 + static_cast<uint32_t>(i));
    const uint64_t now = clock_.fetch_add(1, std::memory_order_relaxed);
    for (int k = 0; k < 4; ++k) {
      const ConnTuple t = udp(0x0a000001, static_cast<uint16_t>(rng() % kPool), 0x0a000002, 53);
      const ConnTuple asked = rng() % 2 ? t : reversed(t);
      const ConnLookup got = view.lookup(asked, now);
      if (got.entry == nullptr) {
        if (view.create(t, reversed(t), NatSpec{}, now) != nullptr)
          created.fetch_add(1, std::memory_order_relaxed);
        else
          refused.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      found.fetch_add(1, std::memory_order_relaxed);
      // The entry is the one asked for, whole: not another tuple's, not half re-made.
      if (got.entry->tuple(got.dir) != asked ||
          got.entry->tuple(opposite(got.dir)) != reversed(asked))
        wrong.fetch_add(1, std::memory_order_relaxed);
      view.update(got.entry, got.dir, 0, now);
      if (rng() % 8 == 0) view.remove(got.entry);
    }
    view.expire(now, 16);
  });
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(created.load(), 1000u);
  EXPECT_GT(found.load(), 1000u);

  // No tuple has two live entries: each is found once, and removing it leaves none.
  const uint64_t later = clock_.load();
  ConnTrack view(table, 0);
  for (uint32_t p = 0; p < kPool; ++p) {
    const ConnTuple t = udp(0x0a000001, static_cast<uint16_t>(p), 0x0a000002, 53);
    const ConnLookup got = view.lookup(t, later);
    if (got.entry == nullptr) continue;
    view.remove(got.entry);
    EXPECT_EQ(view.lookup(t, later).entry, nullptr) << "port " << p;
    EXPECT_EQ(view.lookup(reversed(t), later).entry, nullptr) << "port " << p;
  }
  // Every entry comes back to its owner, once: nothing leaked, nothing freed twice (a free list
  // longer than the share would make size() wrap).
  for (uint32_t w = 0; w < kThreads; ++w) rte_rcu_qsbr_thread_online(rcu_.get(), w);
  for (int sweep = 0; sweep < 2; ++sweep)
    for (uint32_t w = 0; w < kThreads; ++w) {
      ConnTrack(table, w).expire(later + 100 * kHz, kPerWorker);
      for (uint32_t q = 0; q < kThreads; ++q) rte_rcu_qsbr_quiescent(rcu_.get(), q);
    }
  for (uint32_t w = 0; w < kThreads; ++w) {
    ConnTrack owner(table, w);
    owner.expire(later + 100 * kHz, 1);
    EXPECT_EQ(owner.size(), 0u) << "worker " << w;
    rte_rcu_qsbr_thread_offline(rcu_.get(), w);
  }
  EXPECT_TRUE(table.empty());
}

// ClientIP affinity: whichever thread remembers last, every thread then reads one whole entry
// (a backend's address with its own port, never half of each).
TEST_F(SharedConnThreadsTest, AffinityIsOneTableForAllWorkers) {
  AffinityTable affinity(1024);
  std::atomic<uint64_t> torn{0};
  const auto port_of = [](rte_be32_t ip) { return static_cast<rte_be16_t>(ip & 0xffff); };
  run_workers([&](uint32_t w, int i) {
    const uint64_t now = clock_.fetch_add(1, std::memory_order_relaxed);
    const auto client = static_cast<rte_be32_t>(i % 64);
    if (const auto a = affinity.lookup(client, 1, now)) {
      if (a->backend_port() != port_of(a->backend_ip())) torn.fetch_add(1);
    } else {
      const auto backend = static_cast<rte_be32_t>(0x0a000000 + w * 0x10000 + i);
      affinity.remember(client, 1, backend, port_of(backend), now, 50);
    }
    affinity.expire(now, 8);
  });
  EXPECT_EQ(torn.load(), 0u);
  // One worker's choice is every worker's: remembered once, found by all.
  affinity.remember(7777, 2, 0x0a0a0a0a, port_of(0x0a0a0a0a), clock_.load(), 1000000);
  std::atomic<uint64_t> agreed{0};
  run_workers([&](uint32_t, int) {
    const auto a = affinity.lookup(7777, 2, clock_.load(std::memory_order_relaxed));
    if (a && a->backend_ip() == 0x0a0a0a0a) agreed.fetch_add(1);
  });
  EXPECT_EQ(agreed.load(), uint64_t{kThreads} * kIterations);
}

// Fragments: a first fragment's translation, recorded by one thread, is what the others find for
// the later fragments (whole, or not at all while another datagram takes the slot).
TEST_F(SharedConnThreadsTest, FragmentsFollowTheirFirstWhicheverThreadSeesThem) {
  FragmentMap fragments(64, 1000);
  std::atomic<uint64_t> torn{0}, hits{0};
  run_workers([&](uint32_t w, int i) {
    const uint64_t now = clock_.fetch_add(1, std::memory_order_relaxed);
    rte_ipv4_hdr ip{};
    ip.src_addr = 0x01010101;
    ip.dst_addr = 0x02020202;
    ip.next_proto_id = IPPROTO_UDP;
    ip.packet_id = static_cast<rte_be16_t>(i % 128);
    if ((i + w) % 2 == 0) {
      const rte_be32_t to = 0x0a000000 + ip.packet_id;
      fragments.remember(&ip, {to, to + 1}, now);
    } else if (const auto to = fragments.find(&ip, now)) {
      hits.fetch_add(1);
      if (to->src != 0x0a000000u + ip.packet_id || to->dst != to->src + 1) torn.fetch_add(1);
    }
  });
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
}

// Flow-cache notices: what the other workers announce reaches the worker, each once; when its
// inbox overflowed, the worker is told to forget its whole cache instead.
TEST_F(SharedConnThreadsTest, TrackedFlowNoticesReachTheWorkerOrMakeItForgetAll) {
  TrackedFlowNotices notices(kThreads);
  std::vector<uint32_t> seen(kThreads * kIterations, 0);
  std::atomic<uint64_t> forgets{0};
  const auto take = [&] {
    notices.take(
        0, [&](const FlowKey& key) { ++seen[key.src_ip]; }, [&] { forgets.fetch_add(1); });
  };
  run_workers([&](uint32_t w, int i) {
    if (w == 0) return take();
    FlowKey key;
    key.src_ip = w * kIterations + static_cast<uint32_t>(i);
    notices.announce(w, key);
  });
  take();  // what came after worker 0's last turn
  uint64_t received = 0;
  for (uint32_t count : seen) {
    EXPECT_LE(count, 1u);
    received += count;
  }
  for (int i = 0; i < kIterations; ++i) EXPECT_EQ(seen[i], 0u);  // never to the announcer
  if (forgets.load() == 0) {
    EXPECT_EQ(received, uint64_t{kThreads - 1} * kIterations);
  }
}

}  // namespace
}  // namespace podvs::test
