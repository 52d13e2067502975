#!/usr/bin/env python3
"""Tests perf/bench_validity.py (the rules that mark a benchmark measurement invalid) on recorded
evidence, one case per reason and a valid one, perf/bench_evidence.py's parsers on recorded /proc
text, and how perf/cycle_budget.py splits recorded perf call chains into stages.

usage: bench_validity_test.py SOURCE_DIR
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.abspath(sys.argv.pop(1)), "perf"))

import bench_evidence  # noqa: E402
import bench_validity  # noqa: E402
import cycle_budget  # noqa: E402

# Recorded from a quiet run's 64 B, 1 flow podvs row (every rule passes).
QUIET_MAX_RATE = {
    "kind": "max_rate",
    "generator_idle_pct": 31.4,
    "generator_stalled_pct": 0.0,
    "switch_busy_pct": 99.6,
    "switch_runq_wait_pct": 0.02,
    "switch_involuntary_per_s": 1.2,
    "steal_pct": 0.0,
    "loss_pct": 0.41,
}


def with_(base, **changes):
    evidence = dict(base)
    evidence.update(changes)
    return evidence


class Judge(unittest.TestCase):
    def only_reason(self, evidence, start):
        reasons = bench_validity.judge(evidence)
        self.assertEqual(len(reasons), 1, reasons)
        self.assertTrue(reasons[0].startswith(start), reasons[0])

    def test_a_quiet_max_rate_row_is_valid(self):
        self.assertEqual(bench_validity.judge(QUIET_MAX_RATE), [])

    def test_a_generator_without_headroom_is_the_bottleneck(self):
        # testpmd-io on a busy machine: the generator never waited for the switch.
        self.only_reason(with_(QUIET_MAX_RATE, generator_idle_pct=1.7), "generator-bound")
        # The threshold itself still counts as headroom.
        self.assertEqual(bench_validity.judge(with_(QUIET_MAX_RATE, generator_idle_pct=5.0)), [])

    def test_a_descheduled_generator(self):
        # Recorded while other helpers compiled: 34 % of the generator's window lost.
        self.only_reason(with_(QUIET_MAX_RATE, generator_stalled_pct=34.05),
                         "generator descheduled")

    def test_a_switch_core_not_busy_at_max_rate(self):
        self.only_reason(with_(QUIET_MAX_RATE, switch_busy_pct=88.0), "switch not the bottleneck")

    def test_busy_share_matters_only_at_max_rate(self):
        paced = with_(QUIET_MAX_RATE, kind="paced", switch_busy_pct=40.0)
        self.assertEqual(bench_validity.judge(paced), [])

    def test_run_queue_wait(self):
        self.only_reason(with_(QUIET_MAX_RATE, switch_runq_wait_pct=7.5), "run-queue wait:")

    def test_involuntary_switches(self):
        self.only_reason(with_(QUIET_MAX_RATE, switch_involuntary_per_s=250.0),
                         "involuntary switches:")

    def test_steal(self):
        self.only_reason(with_(QUIET_MAX_RATE, steal_pct=3.1), "steal:")

    def test_a_no_drop_rate_that_drops(self):
        ndr = with_(QUIET_MAX_RATE, kind="ndr", switch_busy_pct=70.0, loss_pct=0.5)
        self.only_reason(ndr, "not a no-drop rate")
        self.assertEqual(bench_validity.judge(with_(ndr, loss_pct=0.1)), [])

    def test_loss_at_max_rate_is_not_a_reason(self):
        self.assertEqual(bench_validity.judge(with_(QUIET_MAX_RATE, loss_pct=30.0)), [])

    def test_missing_evidence_is_invalid(self):
        evidence = dict(QUIET_MAX_RATE)
        del evidence["steal_pct"]
        self.only_reason(evidence, "no evidence of steal time")
        self.only_reason(with_(QUIET_MAX_RATE, switch_busy_pct=None),
                         "no evidence of the switch core's busy share")

    def test_every_reason_at_once(self):
        noisy = {"kind": "max_rate", "generator_idle_pct": 0.5, "generator_stalled_pct": 9.0,
                 "switch_busy_pct": 60.0, "switch_runq_wait_pct": 12.0,
                 "switch_involuntary_per_s": 900.0, "steal_pct": 4.0, "loss_pct": 0.0}
        self.assertEqual(len(bench_validity.judge(noisy)), 6)

    def test_a_window_that_could_not_be_sampled(self):
        # The switch's counters were read too slowly on a loaded machine: its figures are gone.
        evidence = with_(QUIET_MAX_RATE, switch_busy_pct=None, switch_runq_wait_pct=None,
                         switch_involuntary_per_s=None, steal_pct=None,
                         window_error="reading the switch took 1.40 s, too long for a 3 s window")
        reasons = bench_validity.judge(evidence)
        self.assertTrue(reasons[0].startswith("window not sampled: reading the switch took"), reasons)
        self.assertEqual(len(reasons), 5)

    def test_unknown_kind(self):
        self.only_reason(with_(QUIET_MAX_RATE, kind="burst"), "unknown measurement kind")

    def test_a_row_is_valid_only_when_every_repetition_is(self):
        runs = [[], bench_validity.judge(with_(QUIET_MAX_RATE, steal_pct=3.0)),
                bench_validity.judge(with_(QUIET_MAX_RATE, steal_pct=5.0))]
        summary = bench_validity.summarize(runs)
        self.assertEqual(len(summary), 1)
        self.assertIn("(2 of 3 runs)", summary[0])
        self.assertEqual(bench_validity.summarize([[], []]), [])

    def test_repetitions_the_machine_spoiled_are_set_aside(self):
        spoiled = bench_validity.judge(with_(QUIET_MAX_RATE, generator_stalled_pct=3.0))
        runs = [[], spoiled, [], [], spoiled]
        self.assertEqual(bench_validity.valid_repetitions(runs), ([0, 2, 3], []))

    def test_too_few_valid_repetitions_make_the_row_invalid(self):
        spoiled = bench_validity.judge(with_(QUIET_MAX_RATE, steal_pct=3.0))
        used, reasons = bench_validity.valid_repetitions([[], spoiled, [], spoiled, spoiled])
        self.assertEqual(used, [0, 1, 2, 3, 4])
        self.assertEqual(len(reasons), 1)
        self.assertIn("(3 of 5 runs)", reasons[0])

    def test_fewer_repetitions_than_the_minimum_must_all_be_valid(self):
        spoiled = bench_validity.judge(with_(QUIET_MAX_RATE, steal_pct=3.0))
        self.assertEqual(bench_validity.valid_repetitions([[], []]), ([0, 1], []))
        self.assertEqual(bench_validity.valid_repetitions([[], spoiled])[0], [0, 1])
        self.assertTrue(bench_validity.valid_repetitions([[], spoiled])[1])
        self.assertEqual(bench_validity.valid_repetitions([]), ([], ["no repetition was run"]))

    def test_small_receive_bursts_mean_the_switch_kept_up(self):
        self.only_reason(with_(QUIET_MAX_RATE, switch_rx_burst_avg=19.5),
                         "switch not saturated: its receive bursts held 19.5")
        self.assertEqual(bench_validity.judge(with_(QUIET_MAX_RATE, switch_rx_burst_avg=31.8)), [])

    def test_cpus_the_host_moved_apart(self):
        self.only_reason(with_(QUIET_MAX_RATE, core_round_trip_ns_before=90.0,
                               core_round_trip_ns_after=443.2),
                         "CPUs apart: a cache line took 443 ns between the measured CPUs after")
        self.only_reason(with_(QUIET_MAX_RATE, core_round_trip_ns_before=446.9,
                               core_round_trip_ns_after=106.9), "CPUs apart")
        close = with_(QUIET_MAX_RATE, core_round_trip_ns_before=83.0, core_round_trip_ns_after=134.3)
        self.assertEqual(bench_validity.judge(close), [])
        self.assertEqual(bench_validity.judge(with_(close, kind="paced")), [])

    def test_a_reason_counts_once_per_repetition(self):
        apart = bench_validity.judge(with_(QUIET_MAX_RATE, core_round_trip_ns_before=447.0,
                                           core_round_trip_ns_after=443.0))
        self.assertEqual(len(apart), 2)
        summary = bench_validity.summarize([apart, apart, []])
        self.assertEqual(len(summary), 1)
        self.assertIn("(2 of 3 runs)", summary[0])

    def test_a_placement_probe_that_failed(self):
        self.only_reason(with_(QUIET_MAX_RATE, core_round_trip_ns_before=None,
                               core_round_trip_ns_after=90.0),
                         "no evidence of where the measured CPUs were before")

    def test_burst_size_matters_only_at_max_rate_and_where_counted(self):
        paced = with_(QUIET_MAX_RATE, kind="paced", switch_rx_burst_avg=2.0)
        self.assertEqual(bench_validity.judge(paced), [])
        self.assertEqual(bench_validity.judge(with_(QUIET_MAX_RATE, switch_rx_burst_avg=None)), [])


class Evidence(unittest.TestCase):
    STAT_BEFORE = ("cpu  1000 0 500 8000 0 0 0 40 0 0\n"
                   "cpu0 500 0 250 4000 0 0 0 10 0 0\n"
                   "cpu1 500 0 250 4000 0 0 0 30 0 0\n")
    STAT_AFTER = ("cpu  1300 0 600 8100 0 0 0 50 0 0\n"
                  "cpu0 600 0 300 4050 0 0 0 10 0 0\n"
                  "cpu1 700 0 300 4050 0 0 0 40 0 0\n")

    def test_steal_of_the_measured_cores_only(self):
        self.assertEqual(bench_evidence.parse_cpu_lines(self.STAT_BEFORE, [1]), (30, 4780))
        before = {"t": 10.0, "cpu": bench_evidence.parse_cpu_lines(self.STAT_BEFORE, [0, 1]),
                  "sched": (0, 1_000_000_000), "involuntary": 5}
        after = {"t": 12.0, "cpu": bench_evidence.parse_cpu_lines(self.STAT_AFTER, [0, 1]),
                 "sched": (2_000_000_000, 1_040_000_000), "involuntary": 405}
        d = bench_evidence.delta(before, after)
        self.assertAlmostEqual(d["steal_pct"], 100.0 * 10 / 510)
        self.assertAlmostEqual(d["switch_runq_wait_pct"], 2.0)
        self.assertAlmostEqual(d["switch_involuntary_per_s"], 200.0)
        self.assertAlmostEqual(d["window_s"], 2.0)

    def test_no_thread_means_no_thread_evidence(self):
        s = {"t": 0.0, "cpu": (0, 100), "sched": None, "involuntary": None}
        d = bench_evidence.delta(s, dict(s, t=1.0, cpu=(0, 200)))
        self.assertIsNone(d["switch_runq_wait_pct"])
        self.assertIsNone(d["switch_involuntary_per_s"])
        self.assertEqual(d["steal_pct"], 0.0)

    def test_proc_files(self):
        self.assertEqual(bench_evidence.parse_schedstat("123456 7890 42\n"), (123456, 7890))
        status = "Name:\tlcore-worker-1\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t17\n"
        self.assertEqual(bench_evidence.parse_involuntary(status), 17)
        stat = ("4242 (pmd-c01/id:8) R 1 4242 4242 0 -1 4194368 10 0 0 0 "
                "700 25 0 0 20 0 9 0 100 0 0")
        self.assertEqual(bench_evidence.thread_cpu_ticks(stat), 725)

    def test_the_live_machine_reads(self):
        # The readers on this process's own thread: real files, plausible values.
        pid = os.getpid()
        before = bench_evidence.take(pid, pid, [0])
        after = bench_evidence.take(pid, pid, [0])
        d = bench_evidence.delta(before, after)
        self.assertGreaterEqual(d["switch_runq_wait_pct"], 0.0)
        self.assertGreaterEqual(d["switch_involuntary_per_s"], 0.0)


class CycleBudget(unittest.TestCase):
    # `perf script -F period,ip,sym,dso` of podvsd's worker (2026-12-02), three samples: inside
    # the vhost library's internals under a dequeue, in process_burst, and a timer interrupt that
    # struck during an enqueue.
    SCRIPT = """   1001001 
\t           7ef15 [unknown] (/usr/lib/x86_64-linux-gnu/librte_vhost.so.23.0)
\t    7f80634782b0 rte_vhost_dequeue_burst+0x70 (/usr/lib/x86_64-linux-gnu/librte_vhost.so.23.0)
\t           04232 [unknown] (/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_net_vhost.so.23.0)
\t          120700 podvs::Worker::poll_once()+0xb0 (/work/build/podvsd)
\t          120b20 podvs::Worker::run()+0x30 (/work/build/podvsd)

   2002002 
\t          125700 podvs::process_burst(unsigned short, rte_mbuf**, unsigned short, podvs::BurstContext&)+0xa0 (/work/build/podvsd)
\t          120700 podvs::Worker::poll_once()+0xb0 (/work/build/podvsd)

   1001001 
\tffffffff81000c82 asm_sysvec_apic_timer_interrupt+0x1a ([kernel.kallsyms])
\t           8ca26 [unknown] (/usr/lib/x86_64-linux-gnu/librte_vhost.so.23.0)
\t    7f8063479818 rte_vhost_enqueue_burst+0x38 (/usr/lib/x86_64-linux-gnu/librte_vhost.so.23.0)
\t          124d00 podvs::TxBuffers::transmit(unsigned short)+0x60 (/work/build/podvsd)
"""

    def test_each_sample_goes_to_its_innermost_stage(self):
        samples = cycle_budget.parse_script(self.SCRIPT)
        self.assertEqual([period for period, _ in samples], [1001001, 2002002, 1001001])
        stages = cycle_budget.budget(cycle_budget.attribute(samples))
        names = list(stages)
        self.assertTrue(names[0].startswith("vhost dequeue"), names)
        self.assertAlmostEqual(stages[names[0]], 25.0)
        burst = next(n for n in names if "process_burst" in n)
        self.assertAlmostEqual(stages[burst], 50.0)
        kernel = next(n for n in names if n.startswith("kernel"))
        self.assertAlmostEqual(stages[kernel], 25.0)
        self.assertFalse(any(n.startswith("vhost enqueue") for n in names))

    def test_a_sample_outside_every_stage(self):
        samples = cycle_budget.parse_script("   5 \n\t 1234 pkt_burst_io_forward+0x1 (/usr/bin/dpdk-testpmd)\n")
        self.assertEqual(cycle_budget.attribute(samples), {cycle_budget.OTHER: 100.0})


if __name__ == "__main__":
    unittest.main(verbosity=1)
