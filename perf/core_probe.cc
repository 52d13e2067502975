// podvs-core-probe: how far apart the generator's and the switch's CPUs are, for the bench's
// evidence. Two threads, one pinned to each CPU, bounce one cache line; the round trip in
// nanoseconds is what every packet's descriptors and buffers pay between the two cores.
//
// Why: on a VM the host places the two vCPUs where it likes and may move them. The same switch,
// same build, same scenario measured 11.5 and 17.6 Mpps on this bench minutes apart
// (2026-12-02), with every other piece of evidence alike; when the vCPUs share a last-level
// cache a cache line crosses in tens of nanoseconds, between dies or sockets in hundreds. The
// bench runs this before a switch starts and after it stops (never while a switch polls the
// CPU: the probe would measure the poll loop), so that runs under different placements can be
// told apart.
//
//   podvs-core-probe CPU_A CPU_B [ROUND_TRIPS]    prints {"round_trip_ns": MEDIAN, ...} (JSON)
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

struct alignas(64) Line {
  std::atomic<uint64_t> value{0};
};

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// A's side of `count` round trips from round `first` on: A writes an odd value, B (answer())
// the next even one.
void bounce(Line& line, long first, long count) {
  for (long i = first; i < first + count; ++i) {
    line.value.store(uint64_t(2 * i + 1), std::memory_order_release);
    while (line.value.load(std::memory_order_acquire) != uint64_t(2 * i + 2)) {
    }
  }
}

void answer(Line& line, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    while (line.value.load(std::memory_order_acquire) != uint64_t(2 * i + 1)) {
    }
    line.value.store(uint64_t(2 * i + 2), std::memory_order_release);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s CPU_A CPU_B [ROUND_TRIPS]\n", argv[0]);
    return 2;
  }
  const int cpu_a = std::atoi(argv[1]), cpu_b = std::atoi(argv[2]);
  const long count = argc == 4 ? std::atol(argv[3]) : 20000;
  if (count < 1) {
    std::fprintf(stderr, "ROUND_TRIPS must be at least 1\n");
    return 2;
  }
  // One warm-up (B starting and moving to its CPU is not a round trip), then several short
  // samples and their median: a sample the scheduler interrupted is an outlier, not the placement.
  constexpr int kSamples = 9;
  const long warmup = 1000;
  static Line line;
  std::atomic<bool> b_pinned{false};
  std::thread b([&] {
    b_pinned = pin(cpu_b);
    answer(line, warmup + kSamples * count);
  });
  const bool a_pinned = pin(cpu_a);
  bounce(line, 0, warmup);
  std::vector<double> samples;
  for (int i = 0; i < kSamples; ++i) {
    const auto start = std::chrono::steady_clock::now();
    bounce(line, warmup + i * count, count);
    const auto end = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double, std::nano>(end - start).count() /
                      double(count));
  }
  b.join();
  if (!a_pinned || !b_pinned) {
    std::fprintf(stderr, "cannot pin to CPUs %d and %d\n", cpu_a, cpu_b);
    return 1;
  }
  std::sort(samples.begin(), samples.end());
  std::printf("{\"round_trip_ns\": %.1f, \"min_ns\": %.1f, \"max_ns\": %.1f, \"cpus\": [%d, %d]}\n",
              samples[samples.size() / 2], samples.front(), samples.back(), cpu_a, cpu_b);
  return 0;
}
