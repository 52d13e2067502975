#!/usr/bin/env python3
"""Where a switch's cycles go: samples the switch's polling thread with `perf record -e cpu-clock
--call-graph dwarf` (a software clock: hardware counters are not available in the VMs this runs
on) while podvs-pktgen sends 64-byte frames one way through it as fast as it takes them, and
splits the thread's time into stages by the innermost stage function on each sample's stack
(STAGES). The
cycles per packet are the thread's time on its CPU (schedstat) at the core's clock, divided by
the packets it forwarded meanwhile (both read just before and after perf), so the stages add up
to the whole cost of a packet, polling overhead included, and exclude the time the thread waited
for its CPU on a loaded machine (the wall-clock figure is printed next to it).

The run is one of perf/bench.py's measurements (same switches, same generator, same evidence):
its verdict (bench_validity.py) is printed with the budget, so a budget taken on a loaded
machine says so.

usage: perf/cycle_budget.py [--switch podvs|testpmd] [--flows N] [--seconds S] [--out FILE]
Environment: as perf/bench.py (PODVS_BUILD, PODVS_PKTGEN).
Prints a Markdown table; with --out also writes the JSON (samples per symbol and per stage).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import bench
import bench_window

# Each sample goes to the innermost function on its stack (unwound with DWARF: Debian's DPDK
# libraries are stripped of their static functions but keep .eh_frame) that names a stage, so the
# vhost library's internals count for the library call they serve and a timer interrupt counts
# as kernel wherever it struck (perf report --sort parent). The pipeline's flow cache,
# anti-spoofing and counters are inlined into process_burst at -O3; perf/stage_bench.cc measures
# them one by one.
STAGES = [  # (stage, functions that name it)
    ("vhost dequeue (guest tx ring, mbuf alloc, copy)", ["rte_vhost_dequeue_burst"]),
    ("parse", ["podvs::parse_packet"]),
    ("flow cache, anti-spoof, counters, dispatch (process_burst)", ["podvs::process_burst"]),
    ("rewrite: TTL, MACs (deliver)", ["podvs::deliver", "podvs::decrement_ttl", "podvs::rewrite_l2"]),
    ("tx burst: buffering, net_vhost tx wrapper, mbuf free, tx counters (TxBuffers)",
     ["podvs::TxBuffers::transmit", "podvs::TxBuffers::flush_all", "podvs::TxBuffers::flush_port"]),
    ("vhost enqueue (copy into guest rx ring, used ring, notify)", ["rte_vhost_enqueue_burst"]),
    ("idle-port syscalls (the host tap's readv)", ["readv"]),
    ("kernel interrupts (timer, IPIs)", ["asm_sysvec_", "asm_common_interrupt", "asm_exc_"]),
    ("poll loop: Worker::poll_once/run, net_vhost rx wrapper, RCU",
     ["podvs::Worker::poll_once", "podvs::Worker::run", "podvs::Worker::apply_commands"]),
]
OTHER = "everything else (for testpmd: io forwarding, its poll loop and the PMD wrappers)"


def parse_script(text):
    """`perf script -F period,ip,sym` output: one (period, [frame symbol, leaf first]) per sample."""
    samples, period, frames = [], None, []
    for line in text.splitlines():
        if not line.strip():
            if period is not None:
                samples.append((period, frames))
            period, frames = None, []
        elif not line.startswith("\t"):  # a sample's header: its period (frames are indented by a tab)
            period, frames = int(line.split()[0]), []
        else:
            # "    7f80634782b0 rte_vhost_dequeue_burst+0x70 (/usr/lib/.../librte_vhost.so.23.0)"
            parts = line.strip().split(" ", 1)
            frames.append(parts[1].rsplit(" (", 1)[0] if len(parts) == 2 else "")
    if period is not None:
        samples.append((period, frames))
    return samples


def attribute(samples):
    """{stage: percent of the sampled time}: each sample to the innermost frame naming a stage."""
    total = sum(period for period, _ in samples) or 1
    out = {}
    for period, frames in samples:
        stage = next((stage_of(f) for f in frames if stage_of(f) != OTHER), OTHER)
        out[stage] = out.get(stage, 0.0) + 100.0 * period / total
    return out


def parse_self(text):
    """`perf report --sort dso,sym` lines "  36.45%  librte_vhost.so.23.0  [.] symbol"."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
        if m and not line.lstrip().startswith("#"):
            key = re.sub(r"\s+", " ", m.group(2))
            out[key] = out.get(key, 0.0) + float(m.group(1))
    return out


def stage_of(frame):
    for name, functions in STAGES:
        if any(f in frame for f in functions):
            return name
    return OTHER


def budget(stages):
    """The stages in STAGES order."""
    order = [name for name, _ in STAGES] + [OTHER]
    return {name: stages[name] for name in order if name in stages}


def counters(sw, tid):
    """The switch's cycles and packets so far (switch_cycles), the switch thread's time on its
    CPU (schedstat) and the time: two readings bound the window the budget divides by."""
    cycles, packets = switch_cycles(sw)
    run_ns, _ = bench.bench_evidence.parse_schedstat(
        bench.bench_evidence.read(f"/proc/{sw.pid()}/task/{tid}/schedstat"))
    return {"cycles": cycles, "packets": packets, "run_ns": run_ns, "t": time.monotonic()}


def switch_cycles(sw):
    """(TSC cycles of the worker, packets it received) so far, cumulative."""
    if isinstance(sw, bench.Podvs):
        w = sw.ctl("stats")["workers"][0]
        return w["busy_cycles"] + w["idle_cycles"], w["rx_packets"]
    # testpmd: wall time in TSC cycles and the packets its forwarding streams received.
    busy = sw.busy_counters()
    text = open(sw.log, errors="replace").read()
    rx = [int(x) for x in re.findall(r"total \w+ packets=(\d+)", text)]
    return busy[1], rx[-1] if rx else 0


def bench_hz(machine):
    """The CPU clock of the switch core (what the TSC ticks at on these VMs)."""
    return machine["cpu_mhz"][bench.SWITCH_CPU] * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--switch", choices=("podvs", "testpmd"), default="podvs")
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5, help="sampled seconds")
    ap.add_argument("--frequency", type=int, default=999, help="perf samples per second")
    ap.add_argument("--perf-data", help="keep perf's recording here (for perf annotate)")
    ap.add_argument("--out", help="write the JSON here")
    ap.add_argument("--boost", action="store_true", help="as perf/bench.py --boost")
    opts = ap.parse_args()
    bench.BOOST = opts.boost
    bench.pin_harness()
    machine = bench.bench_evidence.machine(bench.MEASURED_CPUS)
    procs = bench.Processes()
    work = tempfile.mkdtemp(prefix="podvs-budget-")
    cls = bench.Podvs if opts.switch == "podvs" else bench.Testpmd
    sw = cls(procs, work)
    machine["boost"] = opts.boost
    result = {}
    try:
        ends = sw.start()
        bench.verify_forwarding(sw, procs, work, ends, "pods")
        bench.pktgen(procs, work, ends, 64, opts.flows, 2, 1)  # warm the path
        # Long enough that perf's own start-up on a loaded machine still ends inside the window.
        duration = opts.seconds + 10
        run = {}
        started = threading.Event()
        gen = threading.Thread(target=lambda: run.update(bench.pktgen(
            procs, work, ends, 64, opts.flows, duration, 1, sw=sw, kind="max_rate",
            started=started)))
        gen.start()
        started.wait(bench_window.START_TIMEOUT_S)
        time.sleep(bench_window.MARGIN_S + 0.2)
        tid = bench.bench_evidence.switch_thread(sw.pid(), bench.SWITCH_CPU)
        data = opts.perf_data or os.path.join(work, "perf.data")
        c0 = counters(sw, tid)
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(opts.frequency),
                        "--call-graph", "dwarf,16384", "-t", str(tid), "-o", data, "--", "sleep",
                        str(opts.seconds)],
                       check=True, capture_output=True, preexec_fn=bench.unpin)
        c1 = counters(sw, tid)
        gen.join()
        report = subprocess.run(["perf", "report", "--no-children", "--stdio", "-g", "none",
                                 "-i", data, "--sort", "dso,sym", "--percent-limit", "0.3"],
                                check=True, capture_output=True, text=True,
                                preexec_fn=bench.unpin).stdout
        symbols = parse_self(report)
        chains = parse_script(subprocess.run(
            ["perf", "script", "-i", data, "-F", "period,ip,sym,dso"], check=True,
            capture_output=True, text=True, preexec_fn=bench.unpin).stdout)
        samples = len(chains)
        parents = attribute(chains)
        # cpu-clock counts nanoseconds: the samples' periods add up to the thread's time on its CPU.
        sampled_on_cpu_s = sum(period for period, _ in chains) / 1e9
        cycles, packets = c1["cycles"] - c0["cycles"], c1["packets"] - c0["packets"]
        seconds = c1["t"] - c0["t"]
        on_cpu_s = (c1["run_ns"] - c0["run_ns"]) / 1e9
        per_packet = cycles / packets if packets else None
        result = {"machine": machine, "switch": sw.name, "flows": opts.flows,
                  "sampled_s": opts.seconds, "samples": samples,
                  "cycles_per_packet": per_packet, "packets": packets, "seconds": seconds,
                  "on_cpu_s": on_cpu_s, "sampled_on_cpu_s": sampled_on_cpu_s,
                  "on_cpu_cycles_per_packet": (on_cpu_s * bench_hz(machine) / packets
                                               if packets else None),
                  "mpps": packets / seconds / 1e6,
                  "stages_pct": budget(parents), "self_pct": symbols,
                  "run": {k: run.get(k) for k in ("rx_mpps", "loss_pct", "evidence", "invalid")}}
    finally:
        sw.stop()
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    if opts.out:
        json.dump(result, open(opts.out, "w"), indent=2)
    print(markdown(result))


def markdown(r):
    """The budget in cycles of the switch thread's own CPU time per packet (its schedstat run
    time at the core's clock, over the packets forwarded meanwhile): on a loaded machine the
    wall-clock cycles also count the time the thread waited for its CPU."""
    cpp = r["on_cpu_cycles_per_packet"] or r["cycles_per_packet"]
    verdict = "valid" if not r["run"]["invalid"] else "INVALID: " + "; ".join(r["run"]["invalid"])
    lines = [f"{r['switch']}, 64 B, {r['flows']} flow(s), {r['machine']['date_utc']}: "
             f"{r['mpps']:.2f} Mpps over {r['seconds']:.2f} s, the switch thread on its CPU "
             f"{r['on_cpu_s']:.2f} s of them; {r['samples']} samples over {r['sampled_s']:g} s; "
             f"{cpp:.0f} on-CPU cycles per packet ({r['cycles_per_packet']:.0f} wall-clock); "
             f"run {verdict}" + ("; BOOSTED (switch and generator at the highest scheduling "
                                  "weight)" if r["machine"].get("boost") else ""),
             "", "| stage | share of the thread's samples | cycles/packet |", "| --- | --- | --- |"]
    for name, pct in r["stages_pct"].items():
        lines.append(f"| {name} | {pct:.1f} % | {pct / 100 * cpp:.0f} |")
    lines += ["", "| where the samples landed (library, function) | share |", "| --- | --- |"]
    for sym, pct in sorted(r["self_pct"].items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"| `{sym[:90]}` | {pct:.2f} % |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
