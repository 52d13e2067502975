#!/usr/bin/env python3
"""Tests perf/bench_reference.py (the regression guard: podvs's cycles per packet against the
README run's) on recorded rows: what a run leaves as the reference, a row within the tolerance, a
row over it, rows without a figure, and the same reference read back from its file.

usage: bench_reference_test.py SOURCE_DIR
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.abspath(sys.argv.pop(1)), "perf"))

import bench_reference  # noqa: E402

MACHINE = {"date_utc": "2026-12-02 16:05 UTC", "cpu_model": "AMD EPYC", "cpus": 2,
           "cpu_mhz": {0: 2596.0, 1: 2596.0}, "kernel": "6.18.44", "loadavg_at_start": ["0.53"]}


def row(scenario, cycles, switch="podvs", invalid=()):
    return {"switch": switch, "scenario": scenario, "cycles_per_packet": cycles,
            "invalid": list(invalid)}


RESULTS = [row("64B, 1 flow", 262.0), row("64B, 1k flows", 270.4),
           row("VXLAN encap 64B", 400.0, invalid=["generator descheduled: 4.0 %"]),
           row("64B, 1 flow", 261.0, switch="ovs-dpdk"), row("1518B, 1k flows", None)]


class Make(unittest.TestCase):
    def test_only_valid_podvs_rows_with_a_figure(self):
        ref = bench_reference.make(RESULTS, MACHINE)
        self.assertEqual(ref["cycles_per_packet"], {"64B, 1 flow": 262.0, "64B, 1k flows": 270.4})
        self.assertEqual(ref["date_utc"], MACHINE["date_utc"])
        self.assertEqual(ref["machine"]["cpu_model"], "AMD EPYC")
        self.assertEqual(ref["tolerance_pct"], bench_reference.TOLERANCE_PCT)

    def test_written_and_read_back(self):
        ref = bench_reference.make(RESULTS, MACHINE)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "reference.json")
            self.assertIsNone(bench_reference.load(path))
            json.dump(ref, open(path, "w"))
            back = bench_reference.load(path)
        self.assertEqual(back["cycles_per_packet"], ref["cycles_per_packet"])
        # JSON keys are strings: read back, it is still the same machine.
        self.assertEqual(bench_reference.other_machine(back, MACHINE), "")
        slower = dict(MACHINE, cpu_mhz={0: 2596.0, 1: 2200.0})
        self.assertIn("cpu_mhz", bench_reference.other_machine(back, slower))


class Compare(unittest.TestCase):
    ref = bench_reference.make(RESULTS, MACHINE)

    def test_within_tolerance(self):
        c = bench_reference.compare("64B, 1 flow", 272.0, self.ref, tolerance_pct=5.0)
        self.assertAlmostEqual(c["change_pct"], 100 * 10 / 262)
        self.assertFalse(c["regressed"])

    def test_cheaper_is_never_flagged(self):
        self.assertFalse(bench_reference.compare("64B, 1 flow", 200.0, self.ref)["regressed"])

    def test_over_tolerance_is_flagged(self):
        c = bench_reference.compare("64B, 1 flow", 276.0, self.ref, tolerance_pct=5.0)
        self.assertTrue(c["regressed"])
        text = bench_reference.describe("64B, 1 flow", 276.0, self.ref, tolerance_pct=5.0)
        self.assertIn("reference 262", text)
        self.assertIn("+5.3 %", text)
        self.assertIn("COSTS MORE", text)

    def test_an_invalid_run_is_not_judged(self):
        reasons = ["generator descheduled: 83.9 % of its window lost in gaps (> 2 %)"]
        c = bench_reference.compare("64B, 1 flow", 1982.0, self.ref, invalid=reasons)
        self.assertFalse(c["regressed"])
        self.assertFalse(c["judged"])
        text = bench_reference.describe("64B, 1 flow", 1982.0, self.ref, invalid=reasons)
        self.assertIn("not judged", text)
        self.assertNotIn("COSTS MORE", text)

    def test_no_figure_on_either_side(self):
        self.assertIsNone(bench_reference.compare("VXLAN encap 64B", 300.0, self.ref))
        self.assertIsNone(bench_reference.compare("64B, 1 flow", None, self.ref))
        self.assertIsNone(bench_reference.compare("64B, 1 flow", 262.0, None))
        self.assertIn("no reference", bench_reference.describe("VXLAN encap 64B", 300.0, self.ref))

    def test_table_marks_each_podvs_row(self):
        now = [row("64B, 1 flow", 300.0), row("64B, 1k flows", 260.0),
               row("VXLAN encap 64B", 390.0), row("64B, 1 flow", 250.0, switch="ovs-dpdk"),
               row("64B, 100k flows", 900.0, invalid=["steal: 3 %"])]
        ref = dict(self.ref, cycles_per_packet=dict(self.ref["cycles_per_packet"],
                                                    **{"64B, 100k flows": 300.0}))
        lines = bench_reference.table(now, ref, MACHINE).splitlines()
        self.assertIn("| 64B, 1 flow | 300 | 262 | +14.5 % | COSTS MORE |", lines)
        self.assertIn("| 64B, 1k flows | 260 | 270 | -3.8 % | ok |", lines)
        self.assertIn("| 64B, 100k flows | 900 | 300 | +200.0 % | invalid row, not judged |", lines)
        self.assertIn("| VXLAN encap 64B | 390 | – | – | |", lines)
        self.assertEqual(sum("| 64B, 1 flow |" in line for line in lines), 1)  # no OVS row

    def test_other_machine_is_said(self):
        other = dict(MACHINE, cpu_model="Intel Xeon")
        self.assertEqual(bench_reference.other_machine(self.ref, MACHINE), "")
        self.assertIn("cpu_model", bench_reference.other_machine(self.ref, other))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
