"""What perf/bench.py reads from the kernel about the measured window: the switch thread's
run-queue wait and involuntary context switches (/proc/PID/task/TID/schedstat and status) and the
steal time of the measured cores (/proc/stat). The parsers take text, so they can be tested on
recorded files; take() reads the files once, delta() turns two readings into the evidence that
perf/bench_validity.py judges.
"""
import os
import time


def parse_schedstat(text):
    """/proc/.../schedstat: time on the CPU and time waiting in the run queue, both in ns."""
    run_ns, wait_ns, _timeslices = (int(x) for x in text.split()[:3])
    return run_ns, wait_ns


def parse_involuntary(status_text):
    for line in status_text.splitlines():
        if line.startswith("nonvoluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise ValueError("no nonvoluntary_ctxt_switches in status")


def parse_cpu_lines(stat_text, cpus):
    """/proc/stat: (steal, total) jiffies summed over the given CPUs."""
    steal = total = 0
    wanted = {f"cpu{c}" for c in cpus}
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] in wanted:
            # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
            # already counted in user and nice.
            values = [int(x) for x in fields[1:9]]
            steal += values[7]
            total += sum(values)
    return steal, total


def thread_cpu_ticks(stat_text):
    """utime + stime of /proc/.../task/TID/stat (the command may hold spaces and parentheses)."""
    fields = text_after_comm(stat_text).split()
    return int(fields[11]) + int(fields[12])


def text_after_comm(stat_text):
    return stat_text[stat_text.rindex(")") + 2:]


def read(path):
    with open(path) as f:
        return f.read()


def switch_thread(pid, cpu):
    """The thread of process `pid` that polls on `cpu`: of the threads allowed on that CPU alone,
    the one that has used the most CPU time. None when there is no such thread."""
    best, best_ticks = None, -1
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if os.sched_getaffinity(int(tid)) != {cpu}:
                continue
            ticks = thread_cpu_ticks(read(f"/proc/{pid}/task/{tid}/stat"))
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        if ticks > best_ticks:
            best, best_ticks = int(tid), ticks
    return best


def take(pid, tid, cpus):
    """One reading of everything delta() needs; thread fields are None without a thread."""
    sample = {"t": time.monotonic(), "cpu": parse_cpu_lines(read("/proc/stat"), cpus),
              "sched": None, "involuntary": None}
    if tid is not None:
        try:
            sample["sched"] = parse_schedstat(read(f"/proc/{pid}/task/{tid}/schedstat"))
            sample["involuntary"] = parse_involuntary(read(f"/proc/{pid}/task/{tid}/status"))
        except OSError:
            pass
    return sample


def delta(before, after):
    """The window's evidence between two readings (bench_validity.py's names)."""
    seconds = after["t"] - before["t"]
    out = {"window_s": seconds, "switch_runq_wait_pct": None, "switch_involuntary_per_s": None,
           "steal_pct": None}
    steal = after["cpu"][0] - before["cpu"][0]
    total = after["cpu"][1] - before["cpu"][1]
    if total > 0:
        out["steal_pct"] = 100.0 * steal / total
    if before["sched"] and after["sched"] and seconds > 0:
        out["switch_runq_wait_pct"] = 100.0 * (after["sched"][1] - before["sched"][1]) / (seconds * 1e9)
    if before["involuntary"] is not None and after["involuntary"] is not None and seconds > 0:
        out["switch_involuntary_per_s"] = (after["involuntary"] - before["involuntary"]) / seconds
    return out


def parse_cpuinfo(text, cpus):
    """CPU model and current MHz of the given CPUs, from /proc/cpuinfo."""
    model, mhz, cpu = None, {}, None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            cpu = int(value)
        elif key == "model name":
            model = model or value
        elif key == "cpu MHz" and cpu in cpus:
            mhz[cpu] = float(value)
    return model, mhz


def machine(cpus):
    """What a result must name: the CPU, its clock, the kernel, the date and how loaded the
    machine was when the run began."""
    model, mhz = parse_cpuinfo(read("/proc/cpuinfo"), cpus)
    return {"cpu_model": model, "cpu_mhz": mhz, "cpus": os.cpu_count(),
            "kernel": os.uname().release,
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "loadavg_at_start": read("/proc/loadavg").split()[:3]}
