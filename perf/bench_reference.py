"""The regression guard: each podvs row's cycles per packet next to the figure of the run the
README's table came from. That run (perf/bench.py, which writes DIR/readme_table.md) also writes
DIR/reference.json from the same valid rows; perf/results/reference.json is the README's. A later
run reads it before it writes anything and flags a row whose packets now cost more than
TOLERANCE_PCT above the reference, so a change that costs cycles shows the day it is made.

Cycles per packet, not Mpps: they are the worker's own busy TSC cycles over the packets it
forwarded (podvsctl stats), so the generator's speed and the other core's load move them far
less than a rate. Pure apart from load(): tests/bench_reference_test.py checks it on recorded rows.
"""
import json
import os

# More than the run-to-run spread of one row's cycles per packet on a quiet machine (the 64 B,
# 1 flow row measured 262 and 270 by two harnesses on the same day: 3 %), less than the cost of
# one stage of the 64 B path (parse, flow cache or rewrite: 10-15 of ~260 cycles, 4-6 %).
TOLERANCE_PCT = 5.0
MACHINE_KEYS = ("cpu_model", "cpus", "cpu_mhz", "kernel")


def _machine(machine):
    """The machine's identity as reference.json stores it: JSON keys are strings, and the clock is
    compared to the MHz (/proc/cpuinfo's figure moves in the decimals)."""
    m = json.loads(json.dumps({k: machine.get(k) for k in MACHINE_KEYS}))
    if m.get("cpu_mhz"):
        m["cpu_mhz"] = {cpu: round(mhz) for cpu, mhz in m["cpu_mhz"].items()}
    return m


def make(results, machine):
    """The reference a run leaves behind: the median cycles per packet of every valid podvs row
    (the rows its README table shows), with the date and the machine."""
    rows = {r["scenario"]: round(r["cycles_per_packet"], 1) for r in results
            if r["switch"] == "podvs" and not r["invalid"] and r.get("cycles_per_packet")}
    return {"date_utc": machine["date_utc"],
            "source": (f"perf/bench.py, {machine.get('repetitions', '?')} repetition(s) of "
                       f"{machine.get('duration_s', '?')} s, valid podvs rows, median cycles per "
                       "packet"),
            "machine": _machine(machine),
            "tolerance_pct": TOLERANCE_PCT,
            "cycles_per_packet": rows}


def load(path):
    """The reference at `path`, or None when there is none."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def compare(scenario, cycles, reference, tolerance_pct=TOLERANCE_PCT, invalid=()):
    """One row against the reference: None when either side has no figure, else a dict with the
    reference's figure, the change in percent and whether it exceeds the tolerance. An invalid
    row (bench_validity.py's reasons in `invalid`) is never judged: a worker that lost its core
    counts the time it waited as busy cycles."""
    ref = (reference or {}).get("cycles_per_packet", {}).get(scenario)
    if not ref or not cycles:
        return None
    change = 100.0 * (cycles - ref) / ref
    return {"reference": ref, "change_pct": change, "judged": not invalid,
            "regressed": not invalid and change > tolerance_pct}


def describe(scenario, cycles, reference, tolerance_pct=TOLERANCE_PCT, invalid=()):
    """A row's cycles per packet and how they compare, in words for the run's output."""
    if not cycles:
        return "cycles/pkt ?"
    c = compare(scenario, cycles, reference, tolerance_pct, invalid)
    if c is None:
        return f"cycles/pkt {cycles:.0f} (no reference)"
    text = (f"cycles/pkt {cycles:.0f} (reference {c['reference']:.0f} of "
            f"{reference['date_utc']}: {c['change_pct']:+.1f} %")
    if not c["judged"]:
        return text + ", not judged: the run is invalid)"
    text += ")"
    if c["regressed"]:
        text += f" COSTS MORE: over the {tolerance_pct:g} % tolerance"
    return text


def other_machine(reference, machine):
    """Why the reference's figures may not apply here (another CPU, clock or kernel), or ""."""
    if not reference:
        return ""
    theirs, ours = _machine(reference.get("machine", {})), _machine(machine)
    differs = [k for k in MACHINE_KEYS if theirs.get(k) != ours.get(k)]
    return ("the reference was measured on another machine (" + ", ".join(differs) + " differ)"
            if differs else "")


def table(results, reference, machine, tolerance_pct=TOLERANCE_PCT):
    """The podvs rows' cycles per packet against the reference, for results.md."""
    if not reference:
        return "\nNo reference (perf/results/reference.json): cycles per packet not compared.\n"
    lines = ["", f"Cycles per packet against the reference of {reference['date_utc']} "
             f"(tolerance {tolerance_pct:g} %)" + (": " + other_machine(reference, machine)
                                                   if other_machine(reference, machine) else "")
             + ":", "", "| scenario | podvs cycles/pkt | reference | change | |",
             "| --- | --- | --- | --- | --- |"]
    for r in results:
        if r["switch"] != "podvs":
            continue
        cycles = r.get("cycles_per_packet")
        c = compare(r["scenario"], cycles, reference, tolerance_pct, r["invalid"])
        now = f"{cycles:.0f}" if cycles else "?"
        if c is None:
            lines.append(f"| {r['scenario']} | {now} | – | – | |")
        else:
            verdict = ("invalid row, not judged" if not c["judged"]
                       else "COSTS MORE" if c["regressed"] else "ok")
            lines.append(f"| {r['scenario']} | {now} | {c['reference']:.0f} | "
                         f"{c['change_pct']:+.1f} % | {verdict} |")
    return "\n".join(lines) + "\n"
