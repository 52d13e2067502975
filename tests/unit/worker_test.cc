// The poll loop over real DPDK ports (net_ring): rx burst → pipeline → tx burst, the command
// queue, per-port counters and tx-queue-full drops.
#include "pmd/worker.h"

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include <algorithm>

#include "pmd/rxq_scheduler.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"

namespace podvs::test {
namespace {

// A lazy queue's rest in these tests: long enough that no sanitizer or loaded machine runs two
// poll iterations further apart (the default, 50 us, is not).
constexpr uint32_t kRestUs = 200000;

struct RingPort {
  rte_ring* rx = nullptr;  // the test feeds the port through it
  rte_ring* tx = nullptr;  // what the port sent
  uint16_t id = 0;
};

int g_ring_seq = 0;

RingPort make_port(unsigned tx_ring_size = 1024) {
  RingPort p;
  const std::string n = std::to_string(g_ring_seq++);
  p.rx = rte_ring_create(("rx" + n).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  p.tx = rte_ring_create(("tx" + n).c_str(), tx_ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  const int id = rte_eth_from_rings(("ring" + n).c_str(), &p.rx, 1, &p.tx, 1, 0);
  EXPECT_GE(id, 0);
  p.id = static_cast<uint16_t>(id);
  rte_eth_conf conf{};
  EXPECT_EQ(rte_eth_dev_configure(p.id, 1, 1, &conf), 0);
  EXPECT_EQ(rte_eth_rx_queue_setup(p.id, 0, 1024, 0, nullptr, test_pool()), 0);
  EXPECT_EQ(rte_eth_tx_queue_setup(p.id, 0, 1024, 0, nullptr), 0);
  EXPECT_EQ(rte_eth_dev_start(p.id), 0);
  return p;
}

std::vector<std::vector<uint8_t>> drain(rte_ring* ring) {
  std::vector<std::vector<uint8_t>> out;
  void* obj = nullptr;
  while (rte_ring_dequeue(ring, &obj) == 0) {
    out.push_back(from_mbuf(static_cast<rte_mbuf*>(obj)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  return out;
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = make_port();
    a_ = make_port();
    b_ = make_port(64);  // 63 usable slots: overflows within two bursts
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rte_rcu_qsbr_get_memsize(1), 64));
    ASSERT_EQ(rte_rcu_qsbr_init(qsbr_, 1), 0);
    tables_ = std::make_unique<ForwardingTableHandle>(qsbr_);
    tables_->publish(make_table(1, a_.id, b_.id, host_.id));
    worker_ =
        std::make_unique<Worker>(0, *tables_, qsbr_, WorkerOptions{256, 0, 0, 0, {}, kRestUs});
    in_use_before_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_);
    worker_.reset();
    tables_.reset();
    rte_free(qsbr_);
    for (RingPort* p : {&host_, &a_, &b_}) {
      rte_eth_dev_stop(p->id);
      rte_eth_dev_close(p->id);
      rte_ring_free(p->rx);
      rte_ring_free(p->tx);
    }
  }

  void feed(const RingPort& p, const std::vector<uint8_t>& frame, int copies = 1) {
    for (int i = 0; i < copies; ++i)
      ASSERT_EQ(rte_ring_enqueue(p.rx, to_mbuf(test_pool(), frame)), 0);
  }
  void settle() {
    while (worker_->poll_once()) {
    }
  }
  std::vector<uint8_t> a_to_b() {
    return PacketBuilder()
        .eth(kPodAMac, kGwMac)
        .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
        .udp(7, 9)
        .bytes();
  }

  RingPort host_, a_, b_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<ForwardingTableHandle> tables_;
  std::unique_ptr<Worker> worker_;
  unsigned in_use_before_ = 0;
};

TEST_F(WorkerTest, ForwardsBetweenRealPortsOnceTheQueueIsAssigned) {
  feed(a_, a_to_b());
  settle();
  EXPECT_TRUE(drain(b_.tx).empty()) << "no rx queue assigned yet";
  const uint64_t seq =
      worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  settle();
  EXPECT_TRUE(worker_->applied(seq));
  EXPECT_EQ(worker_->rx_queue_count(), 1u);
  const auto out = drain(b_.tx);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], PacketBuilder()
                        .eth(kGwMac, kPodBMac)
                        .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP, 63)
                        .udp(7, 9)
                        .bytes());
  const WorkerCounters& c = worker_->counters();
  EXPECT_EQ(c.rx_packets.get(), 1u);
  EXPECT_EQ(c.tx_packets.get(), 1u);
  EXPECT_EQ(c.ports[b_.id].tx_packets.get(), 1u);
  EXPECT_GT(c.busy_cycles.get(), 0u);
  EXPECT_GT(c.ports[a_.id].rx_cycles.get(), 0u);
}

TEST_F(WorkerTest, RemovedQueueIsNoLongerPolled) {
  worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  const uint64_t seq =
      worker_->post(WorkerCommand::Kind::remove_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  worker_->poll_once();
  EXPECT_TRUE(worker_->applied(seq));
  feed(a_, a_to_b());
  settle();
  EXPECT_TRUE(drain(b_.tx).empty());
  worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  settle();
  EXPECT_EQ(drain(b_.tx).size(), 1u);
}

TEST_F(WorkerTest, IdleLazyQueueRestsABusyOneIsPolledEveryIteration) {
  worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, /*lazy=*/true, PortIo::of_ethdev(a_.id)});
  const uint64_t before_empty_poll = rte_rdtsc();
  worker_->poll_once();  // applies the command; the queue is empty: it rests kRestUs
  feed(a_, a_to_b());
  worker_->poll_once();
  EXPECT_TRUE(drain(b_.tx).empty()) << "an idle lazy queue is not polled right away";
  const uint64_t give_up = rte_rdtsc() + 10 * rte_get_tsc_hz();
  std::vector<std::vector<uint8_t>> out;
  while (out.empty() && rte_rdtsc() < give_up) {
    worker_->poll_once();
    out = drain(b_.tx);
  }
  ASSERT_EQ(out.size(), 1u) << "the lazy queue must be polled again";
  // Never before its rest is over (a lower bound, so no timing flakiness).
  EXPECT_GE(rte_rdtsc() - before_empty_poll, rte_get_tsc_hz() * kRestUs / 1000000);
  // Busy: packets waiting at every poll are taken at every poll.
  for (int i = 0; i < 5; ++i) {
    feed(a_, a_to_b());
    worker_->poll_once();
    EXPECT_EQ(drain(b_.tx).size(), 1u) << "iteration " << i;
  }
}

// An idle tap costs a syscall per poll: the longer it stays idle, the longer it rests (doubling
// up to the maximum), and a packet brings it back to the shortest rest at once.
TEST_F(WorkerTest, IdleLazyQueueRestsLongerTheLongerItIsIdle) {
  constexpr uint32_t kMinUs = 50, kMaxUs = 400;
  Worker w(0, *tables_, qsbr_,
           WorkerOptions{256, 0, 0, 0, {}, kMinUs, kDefaultPortCapacity, kMaxUs});
  const RxQueue q{a_.id, 0, /*lazy=*/true, PortIo::of_ethdev(a_.id)};
  w.post(WorkerCommand::Kind::add_rxq, q);
  const uint64_t min = rte_get_tsc_hz() * kMinUs / 1000000;
  const uint64_t max = rte_get_tsc_hz() * kMaxUs / 1000000;
  w.poll_once();  // applies the command and finds the queue empty
  EXPECT_EQ(w.next_rest(q), 2 * min);
  const uint64_t give_up = rte_rdtsc() + 10 * rte_get_tsc_hz();
  std::vector<uint64_t> rests{2 * min};
  while (w.next_rest(q) != max && rte_rdtsc() < give_up) {
    w.poll_once();
    if (w.next_rest(q) != rests.back()) rests.push_back(w.next_rest(q));
  }
  EXPECT_EQ(rests, (std::vector<uint64_t>{2 * min, 4 * min, max}));
  feed(a_, a_to_b());
  while (drain(b_.tx).empty() && rte_rdtsc() < give_up) w.poll_once();
  EXPECT_EQ(w.next_rest(q), min) << "a queue that delivered rests the least again";
  w.poll_once();  // empty again
  EXPECT_EQ(w.next_rest(q), 2 * min);
}

TEST_F(WorkerTest, FullTxQueueDropsAreCountedAndFreed) {
  worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  feed(a_, a_to_b(), 100);
  settle();
  const auto out = drain(b_.tx);
  EXPECT_EQ(out.size(), 63u);
  EXPECT_EQ(
      worker_->counters().ports[b_.id].drops[static_cast<size_t>(DropReason::tx_queue_full)].get(),
      37u);
}

TEST_F(WorkerTest, NewTableInvalidatesTheFlowCache) {
  worker_->post(WorkerCommand::Kind::add_rxq, {a_.id, 0, false, PortIo::of_ethdev(a_.id)});
  feed(a_, a_to_b());
  settle();
  ASSERT_EQ(drain(b_.tx).size(), 1u);
  // Pod B moves to the host port's place: the cached decision must not survive.
  tables_->publish(make_table(2, a_.id, host_.id, b_.id));
  feed(a_, a_to_b());
  settle();
  EXPECT_TRUE(drain(b_.tx).empty());
  EXPECT_EQ(drain(host_.tx).size(), 1u);
}

// Tx buffers are sparse: more output ports than slots in one iteration flush everything early
// instead of failing, and every packet reaches its port once.
TEST_F(WorkerTest, TxBuffersFlushAllWhenMoreOutputPortsThanSlots) {
  constexpr PortId kFirst = 100;
  constexpr uint16_t kPorts = kTxSlots + 6;
  std::vector<PortEntry> ports(kDefaultPortCapacity);
  for (PortId p = kFirst; p < kFirst + kPorts; ++p) {
    ports[p].in_use = true;
    ports[p].io = PortIo::of_ethdev(a_.id);  // every one of them is ring a's tx
  }
  const ForwardingTable table(9, {*Ipv4Prefix::parse("10.244.0.0/24"), 0, 0, {}}, std::move(ports),
                              kNoPort, {});
  TxBuffers tx;
  WorkerCounters counters;
  std::vector<uint8_t> frame = a_to_b();
  for (PortId p = kFirst; p < kFirst + kPorts; ++p) {
    frame.back() = static_cast<uint8_t>(p);  // which port the frame was pushed for
    const bool must_flush = tx.push(p, to_mbuf(test_pool(), frame));
    EXPECT_EQ(must_flush, p == kFirst + kTxSlots - 1) << "port " << p;
    if (must_flush) {
      tx.flush_port(p, table, 0, counters);
      EXPECT_EQ(rte_ring_count(a_.tx), kTxSlots) << "the last free slot flushes every port";
      EXPECT_EQ(tx.pending(kFirst), 0);
    }
  }
  EXPECT_EQ(tx.pending(kFirst + kTxSlots), 1);
  tx.flush_all(table, 0, counters);
  const auto out = drain(a_.tx);
  ASSERT_EQ(out.size(), kPorts);
  for (uint16_t i = 0; i < kPorts; ++i) {
    EXPECT_EQ(out[i].back(), static_cast<uint8_t>(kFirst + i)) << "in push order";
    EXPECT_EQ(counters.ports[kFirst + i].tx_packets.get(), 1u);
  }
  EXPECT_EQ(counters.tx_packets.get(), kPorts);
}

// A run of packets to one port (a burst's plain packets, handed over at its end) fills the
// port's buffer, transmits it each time it is full, and keeps the rest, in order.
TEST_F(WorkerTest, TxBuffersPushRunTransmitsEachFullBufferInOrder) {
  std::vector<PortEntry> ports(kDefaultPortCapacity);
  ports[b_.id].in_use = true;
  ports[b_.id].io = PortIo::of_ethdev(a_.id);
  const ForwardingTable table(9, {*Ipv4Prefix::parse("10.244.0.0/24"), 0, 0, {}}, std::move(ports),
                              kNoPort, {});
  TxBuffers tx;
  WorkerCounters counters;
  std::vector<uint8_t> frame = a_to_b();
  constexpr uint16_t kRun = 40;
  std::vector<rte_mbuf*> run;
  for (uint16_t i = 0; i < kRun; ++i) {
    frame.back() = static_cast<uint8_t>(i);
    run.push_back(to_mbuf(test_pool(), frame));
  }
  tx.push_run(b_.id, run.data(), 30, table, 0, counters);
  EXPECT_EQ(rte_ring_count(a_.tx), 0u) << "30 packets do not fill a buffer";
  tx.push_run(b_.id, run.data() + 30, kRun - 30, table, 0, counters);
  EXPECT_EQ(rte_ring_count(a_.tx), kBurstSize) << "the full buffer went out";
  EXPECT_EQ(tx.pending(b_.id), kRun - kBurstSize);
  tx.flush_all(table, 0, counters);
  const auto out = drain(a_.tx);
  ASSERT_EQ(out.size(), kRun);
  for (uint16_t i = 0; i < kRun; ++i) EXPECT_EQ(out[i].back(), i) << "in push order";
  EXPECT_EQ(counters.ports[b_.id].tx_packets.get(), kRun);
}

// One queue per port, as for single-queue ports.
std::vector<RxqLoad> own_ports(const std::vector<uint64_t>& cycles) {
  std::vector<RxqLoad> queues;
  for (size_t i = 0; i < cycles.size(); ++i)
    queues.push_back({cycles[i], static_cast<uint32_t>(i)});
  return queues;
}

TEST(RxqScheduler, PlanPutsHeaviestQueuesOnDifferentWorkers) {
  // Two heavy queues must not share a worker; light ones fill in behind them.
  const auto plan = plan_rxq_assignment(own_ports({10, 1000, 5, 900, 0}), 2);
  EXPECT_NE(plan[1], plan[3]);
  EXPECT_EQ(plan[1], 0u);
  EXPECT_EQ(plan[3], 1u);
  EXPECT_EQ(plan[0], 1u);  // 900 < 1000: the lighter worker takes the next one
  const auto idle = plan_rxq_assignment(own_ports({0, 0, 0, 0}), 2);
  EXPECT_EQ(std::count(idle.begin(), idle.end(), 0u), 2);  // idle queues spread by count
  EXPECT_EQ(plan_rxq_assignment(own_ports({7, 8}), 1), (std::vector<size_t>{0, 0}));
}

TEST(RxqScheduler, PlanSpreadsOnePortsQueuesOverWorkers) {
  // Port 7's two queues weigh less than port 1's, but still go to different workers: by load
  // alone both would land on the worker port 1 does not use.
  const auto plan = plan_rxq_assignment({{1000, 1}, {10, 7}, {10, 7}}, 2);
  EXPECT_NE(plan[1], plan[2]);
  // More queues than workers: one each first, then by load again.
  const auto three = plan_rxq_assignment({{30, 4}, {20, 4}, {10, 4}}, 2);
  EXPECT_EQ(three, (std::vector<size_t>{0, 1, 1}));
}

TEST(RxqScheduler, PicksLeastCyclesThenFewestQueues) {
  EXPECT_EQ(pick_worker({{100, 1}, {50, 3}, {50, 2}}), 2u);
  EXPECT_EQ(pick_worker({{0, 0}, {0, 0}}), 0u);
  EXPECT_EQ(pick_worker({{10, 0}}), 0u);
}

TEST(RxqScheduler, PicksAWorkerWithoutTheSamePortsQueueFirst) {
  // Worker 0 is idle but already polls a queue of the port: the busier worker 1 gets the next.
  EXPECT_EQ(pick_worker({{0, 1, 1}, {500, 3, 0}}), 1u);
  // Every worker has one: load decides again.
  EXPECT_EQ(pick_worker({{0, 1, 1}, {500, 3, 1}}), 0u);
}

}  // namespace
}  // namespace podvs::test
