#!/usr/bin/env python3
"""Benchmarks podvs against the limit (dpdk-testpmd io forwarding) and OVS-DPDK, in one run on
the same cores: podvs-pktgen plays two DPDK pods on vhost-user, each switch forwards between
them with the same semantics (route on the destination IP, rewrite MACs, decrement TTL), and
every scenario is repeated and reported as min/median/max.

The VXLAN scenarios put the generator on both sides of the overlay: "encap" sends from a pod to
a pod of a remote node (the switch routes, encapsulates and sends on its uplink, where pktgen
plays the remote node's VTEP and answers its ARP), "decap" sends VXLAN from that remote VTEP to
the switch's uplink (the switch decapsulates and routes to the pod). podvs runs with a net_vhost
uplink; OVS-DPDK with a VXLAN tunnel port on an integration bridge and userspace tunnelling over
an underlay bridge that owns the vhost-user uplink. testpmd-io cannot encapsulate or
decapsulate: it has no VXLAN rows. Frame sizes are the inner frame's (the uplink frames are 50
bytes longer; the uplink MTU is 1600 on both switches so that 1518-byte inner frames fit).

usage: perf/bench.py [--quick] [--switches podvs,testpmd,ovs] [--out DIR]
Writes DIR/results.json, DIR/results.md (printed at the end) and DIR/throughput.png.
Everything it starts is stopped by PID; it leaves no hugepage files or sockets behind.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("PODVS_BUILD", os.path.join(TOP, "build"))
GATEWAY_MAC = "0a:58:a9:fe:01:01"
# The VXLAN scenarios' underlay: the switch is node 192.168.50.1 and owns pod CIDR 10.244.0.0/24;
# pktgen plays the remote node 192.168.50.2 (pod CIDR 10.244.1.0/24) on the switch's uplink.
NODE_IP = "192.168.50.1"
UNDERLAY_LEN = 24
REMOTE_NODE_IP = "192.168.50.2"
REMOTE_VTEP_MAC = "02:00:00:00:50:02"
REMOTE_POD_CIDR = "10.244.1.0/24"
REMOTE_POD_IP = "10.244.1.2"
VXLAN_PORT = 4789
VNI = 1
UPLINK_MTU = 1600  # 1518-byte inner frames + 50 bytes of VXLAN fit
CPUS = os.cpu_count()
SWITCH_CPU = CPUS - 1  # the switch's one worker core
GEN_CPU = 0            # the generator's core (and every control thread)


class Processes:
    """Starts processes and always stops them again, by PID."""

    def __init__(self):
        self.procs = []

    def start(self, args, log, **kw):
        p = subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            os.killpg(p.pid, sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


class Podvs:
    name = "podvs"

    def __init__(self, procs, work):
        self.procs, self.work = procs, work
        self.sock = os.path.join(work, "podvsd.sock")
        self.proc = None
        self.mode = "pods"

    def ctl(self, *args):
        return json.loads(run([os.path.join(BUILD, "podvsctl"), "--socket", self.sock, "--json", *args]) or "null")

    modes = ("pods", "vxlan")

    def start(self, mode="pods"):
        log = os.path.join(self.work, "podvsd.log")
        self.mode = mode
        # Every start is a fresh node: no pods restored from an earlier repetition.
        for d in ("state", "vhost"):
            shutil.rmtree(os.path.join(self.work, d), ignore_errors=True)
        overlay = []
        if mode == "vxlan":
            # The uplink is a net_vhost port in client mode: pktgen's virtio_user serves the
            # socket, as it does the pods' sockets.
            overlay = ["--uplink-device",
                       f"net_vhost0,iface={os.path.join(self.work, 'uplink.sock')},client=1,queues=1",
                       "--node-ip", f"{NODE_IP}/{UNDERLAY_LEN}", "--uplink-mtu", str(UPLINK_MTU),
                       "--vxlan-port", str(VXLAN_PORT), "--vxlan-vni", str(VNI),
                       "--pod-cidr", "10.244.0.0/24", "--cluster-cidr", "10.244.0.0/16"]
        self.proc = self.procs.start(
            [os.path.join(BUILD, "podvsd"), "--socket", self.sock, "--state-dir",
             os.path.join(self.work, "state"), "--file-prefix", "bench_podvs", "--host-port",
             "pvbench0", "--vhost-dir", os.path.join(self.work, "vhost"), "--metrics-listen", "",
             "--workers", str(SWITCH_CPU), "--main-cpu", str(GEN_CPU), *overlay], log)
        wait_for(lambda: os.path.exists(self.sock) and "ready:" in open(log).read(), 30, "podvsd")
        if mode == "vxlan":
            return self.start_vxlan()
        a = self.ctl("pod", "add", "--id", "bench-a", "--kind", "vhost-user")
        b = self.ctl("pod", "add", "--id", "bench-b", "--kind", "vhost-user")
        return {"tx_socket": a["socket_path"], "rx_socket": b["socket_path"],
                "tx_mac": a["mac"], "rx_mac": b["mac"], "dst_mac": GATEWAY_MAC,
                "src_ip": a["ip"], "dst_ip": b["ip"]}

    def start_vxlan(self):
        pod = self.ctl("pod", "add", "--id", "bench-a", "--kind", "vhost-user")
        self.ctl("node", "add", "--name", "remote", "--pod-cidr", REMOTE_POD_CIDR,
                 "--node-ip", REMOTE_NODE_IP, "--vtep-mac", REMOTE_VTEP_MAC)
        vtep_mac = self.ctl("status")["vtep_mac"]
        return vxlan_ends(pod["socket_path"], os.path.join(self.work, "uplink.sock"), pod["mac"],
                          pod["ip"], vtep_mac)

    def diagnose(self):
        """Where packets went, for a forwarding check that failed."""
        ports = self.ctl("port", "list")
        nodes = self.ctl("node", "list") if self.mode == "vxlan" else None
        return json.dumps({"ports": ports, "nodes": nodes})[-3000:]

    def clear(self):
        self.ctl("stats", "--clear")

    def cycles_per_packet(self):
        w = self.ctl("stats")["workers"][0]
        return w["cycles_per_packet"] or None

    def stop(self):
        if self.proc:
            self.procs.stop(self.proc)


class Testpmd:
    name = "testpmd-io"

    modes = ("pods",)  # io forwarding cannot encapsulate or decapsulate

    def __init__(self, procs, work):
        self.procs, self.work, self.proc = procs, work, None

    def start(self, mode="pods"):
        a, b = os.path.join(self.work, "tp-a.sock"), os.path.join(self.work, "tp-b.sock")
        self.proc = self.procs.start(
            ["dpdk-testpmd", f"--lcores=0@{GEN_CPU},1@{SWITCH_CPU}", "--no-pci", "--in-memory",
             "--file-prefix=bench_tp", "--log-level=4",
             f"--vdev=net_vhost0,iface={a},client=1,queues=1",
             f"--vdev=net_vhost1,iface={b},client=1,queues=1", "--",
             "--forward-mode=io", "--auto-start", "--stats-period=3600", "--nb-cores=1",
             "--total-num-mbufs=16384"], os.path.join(self.work, "testpmd.log"))
        # io forwarding changes nothing: the generator addresses the receiver directly.
        return {"tx_socket": a, "rx_socket": b, "tx_mac": "02:00:00:00:00:0a",
                "rx_mac": "02:00:00:00:00:0b", "dst_mac": "02:00:00:00:00:0b",
                "src_ip": "10.244.0.2", "dst_ip": "10.244.0.3"}

    def diagnose(self):
        return "testpmd-io keeps no per-port drop reasons"

    def clear(self):
        pass

    def cycles_per_packet(self):
        return None

    def stop(self):
        if self.proc:
            self.procs.stop(self.proc, signal.SIGINT)


class Ovs:
    """OVS-DPDK started privately: its own database, run dir and DPDK file prefix."""
    name = "ovs-dpdk"

    def __init__(self, procs, work):
        self.procs, self.work = procs, work
        self.dir = os.path.join(work, "ovs")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_SYSCONFDIR=self.dir)
        self.db = self.vswitchd = None

    def vsctl(self, *args):
        return run(["ovs-vsctl", "--db=unix:" + os.path.join(self.dir, "db.sock"), "--timeout=30", *args], env=self.env)

    def appctl(self, *args):
        return run(["ovs-appctl", "--target=" + os.path.join(self.dir, "ovs-vswitchd.ctl"), *args], env=self.env)

    modes = ("pods", "vxlan")
    # Bridge names are also kernel tap names: distinct ones, so that a stale tap is surely ours.
    INT_BR, PHY_BR = "pvb-int", "pvb-phy"
    VTEP_MAC = "02:00:00:00:50:01"  # the underlay bridge's MAC, OVS's VTEP MAC
    POD_MAC = "0a:58:0a:f4:00:02"

    def ofctl(self, bridge, *args):
        return run(["ovs-ofctl", *args[:1], "unix:" + os.path.join(self.dir, bridge + ".mgmt"), *args[1:]],
                   env=self.env)

    def start(self, mode="pods"):
        # Every start is a fresh OVS: a new database, no state from an earlier repetition.
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        conf = os.path.join(self.dir, "conf.db")
        run(["ovsdb-tool", "create", conf, "/usr/share/openvswitch/vswitch.ovsschema"])
        self.db = self.procs.start(
            ["ovsdb-server", conf, "--remote=punix:" + os.path.join(self.dir, "db.sock"),
             "--pidfile=" + os.path.join(self.dir, "ovsdb.pid"), "--unixctl=" + os.path.join(self.dir, "ovsdb.ctl")],
            os.path.join(self.dir, "ovsdb.log"), env=self.env)
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "db.sock")), 10, "ovsdb-server")
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   f"other_config:dpdk-lcore-mask={1 << GEN_CPU:#x}",
                   f"other_config:pmd-cpu-mask={1 << SWITCH_CPU:#x}",
                   "other_config:dpdk-socket-mem=512",
                   'other_config:dpdk-extra="--no-pci --in-memory --file-prefix=bench_ovs"')
        self.vswitchd = self.procs.start(
            ["/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk", "unix:" + os.path.join(self.dir, "db.sock"),
             "--pidfile=" + os.path.join(self.dir, "ovs-vswitchd.pid"),
             "--unixctl=" + os.path.join(self.dir, "ovs-vswitchd.ctl"),
             "--log-file=" + os.path.join(self.dir, "ovs-vswitchd.log")],
            os.path.join(self.dir, "ovs-vswitchd.out"), env=self.env)
        wait_for(lambda: "true" in self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized"), 60, "OVS DPDK init")
        if mode == "vxlan":
            return self.start_vxlan()
        a, b = os.path.join(self.work, "ovs-a.sock"), os.path.join(self.work, "ovs-b.sock")
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        self.vsctl("add-port", "br0", "va", "--", "set", "Interface", "va", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={a}", "ofport_request=1")
        self.vsctl("add-port", "br0", "vb", "--", "set", "Interface", "vb", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={b}", "ofport_request=2")
        # The same forwarding semantics as podvs: route on the destination IP, rewrite both MACs,
        # decrement the TTL.
        run(["ovs-ofctl", "del-flows", "unix:" + os.path.join(self.dir, "br0.mgmt")], env=self.env)
        run(["ovs-ofctl", "add-flow", "unix:" + os.path.join(self.dir, "br0.mgmt"),
             "priority=10,ip,nw_dst=10.244.0.3,actions=mod_dl_src:" + GATEWAY_MAC +
             ",mod_dl_dst:0a:58:0a:f4:00:03,dec_ttl,output:2"], env=self.env)
        return {"tx_socket": a, "rx_socket": b, "tx_mac": "0a:58:0a:f4:00:02",
                "rx_mac": "0a:58:0a:f4:00:03", "dst_mac": GATEWAY_MAC,
                "src_ip": "10.244.0.2", "dst_ip": "10.244.0.3"}

    def start_vxlan(self):
        """OVS userspace tunnelling, as its documentation sets it up: the pod and a VXLAN port on an
        integration bridge; an underlay bridge owning the uplink, with the tunnel endpoint's
        address on the bridge's own (tap) interface, a route and the remote VTEP's neighbour entry."""
        pod, uplink = os.path.join(self.work, "ovs-a.sock"), os.path.join(self.work, "ovs-ul.sock")
        ib, pb = self.INT_BR, self.PHY_BR
        self.vsctl("add-br", ib, "--", "set", "bridge", ib, "datapath_type=netdev")
        self.vsctl("add-port", ib, "va", "--", "set", "Interface", "va", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={pod}", "ofport_request=1")
        self.vsctl("add-port", ib, "vx0", "--", "set", "Interface", "vx0", "type=vxlan",
                   "options:remote_ip=flow", f"options:key={VNI}", f"options:dst_port={VXLAN_PORT}",
                   "ofport_request=2")
        self.vsctl("add-br", pb, "--", "set", "bridge", pb, "datapath_type=netdev",
                   f"other_config:hwaddr={self.VTEP_MAC}")
        self.vsctl("add-port", pb, "ul", "--", "set", "Interface", "ul", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={uplink}", f"mtu_request={UPLINK_MTU}", "ofport_request=1")
        # The tunnel endpoint address lives on the underlay bridge's tap (OVS reads it from the
        # kernel); nothing of the host should talk on that tap.
        run(["sysctl", "-qw", f"net.ipv6.conf.{pb}.disable_ipv6=1"])
        run(["ip", "addr", "add", f"{NODE_IP}/{UNDERLAY_LEN}", "dev", pb])
        run(["ip", "link", "set", pb, "up"])
        subnet = f"{NODE_IP.rsplit('.', 1)[0]}.0/{UNDERLAY_LEN}"
        try:
            wait_for(lambda: subnet in self.appctl("ovs/route/show"), 5, "OVS to learn the underlay route")
        except RuntimeError:
            self.appctl("ovs/route/add", subnet, pb)
        self.appctl("tnl/arp/set", pb, REMOTE_NODE_IP, REMOTE_VTEP_MAC)
        # Underlay bridge: the uplink and the bridge's own port (where tunnels end) only.
        self.ofctl(pb, "del-flows")
        self.ofctl(pb, "add-flow", "priority=10,in_port=LOCAL,actions=output:1")
        self.ofctl(pb, "add-flow", "priority=10,in_port=1,actions=LOCAL")
        # Integration bridge, podvs's semantics: to a remote node's pod, route (set the tunnel
        # destination), decrement the TTL, inner MACs from our VTEP to theirs; from the tunnel
        # (our VNI, to our VTEP MAC), route to the pod with the gateway MAC as source.
        self.ofctl(ib, "del-flows")
        self.ofctl(ib, "add-flow", f"priority=10,in_port=1,ip,nw_dst={REMOTE_POD_CIDR},actions="
                   f"set_field:{REMOTE_NODE_IP}->tun_dst,mod_dl_src:{self.VTEP_MAC},"
                   f"mod_dl_dst:{REMOTE_VTEP_MAC},dec_ttl,output:2")
        self.ofctl(ib, "add-flow", f"priority=10,in_port=2,tun_id={VNI},ip,dl_dst={self.VTEP_MAC},"
                   f"nw_dst=10.244.0.2,actions=mod_dl_src:{GATEWAY_MAC},mod_dl_dst:{self.POD_MAC},"
                   "dec_ttl,output:1")
        return vxlan_ends(pod, uplink, self.POD_MAC, "10.244.0.2", self.VTEP_MAC)

    def diagnose(self):
        out = [self.appctl("dpif-netdev/pmd-stats-show"), self.appctl("tnl/ports/show"),
               self.appctl("tnl/neigh/show"), self.appctl("dpctl/dump-flows")]
        return "\n".join(out)[-3000:]

    def clear(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def cycles_per_packet(self):
        for line in self.appctl("dpif-netdev/pmd-stats-show").splitlines():
            if "avg processing cycles per packet" in line:
                return float(line.split(":")[1].split()[0])
        return None

    def stop(self):
        if self.vswitchd:
            try:
                self.appctl("exit", "--cleanup")
                self.vswitchd.wait(20)
            except Exception:
                pass
            if self.vswitchd in self.procs.procs:
                self.procs.stop(self.vswitchd)
        if self.db:
            self.procs.stop(self.db)
        # exit --cleanup removes the bridges' taps; if OVS died first they stay behind.
        for tap in (self.INT_BR, self.PHY_BR):
            if os.path.exists(os.path.join("/sys/class/net", tap)):
                subprocess.run(["ip", "link", "del", tap], check=False, capture_output=True)


def vxlan_ends(pod_socket, uplink_socket, pod_mac, pod_ip, vtep_mac):
    """The generator's ends for the two VXLAN directions through a switch whose pod is
    (pod_socket, pod_mac, pod_ip) and whose uplink has VTEP MAC vtep_mac; pktgen plays the remote
    node on the uplink and answers the switch's ARP for it."""
    arp = ["--answer-arp", f"{REMOTE_NODE_IP},{REMOTE_VTEP_MAC}", "--vxlan-port", str(VXLAN_PORT),
           "--vni", str(VNI)]
    encap = {"tx_socket": pod_socket, "rx_socket": uplink_socket, "tx_mac": pod_mac,
             "rx_mac": REMOTE_VTEP_MAC, "dst_mac": GATEWAY_MAC, "src_ip": pod_ip,
             "dst_ip": REMOTE_POD_IP, "args": ["--vxlan-rx", *arp]}
    decap = {"tx_socket": uplink_socket, "rx_socket": pod_socket, "tx_mac": REMOTE_VTEP_MAC,
             "rx_mac": pod_mac, "dst_mac": vtep_mac, "src_ip": REMOTE_POD_IP, "dst_ip": pod_ip,
             "args": ["--vxlan-tx", "--outer-src-mac", REMOTE_VTEP_MAC, "--outer-dst-mac", vtep_mac,
                      "--outer-src-ip", REMOTE_NODE_IP, "--outer-dst-ip", NODE_IP, *arp]}
    return {"encap": encap, "decap": decap}


def pktgen(procs, work, ends, size, flows, duration, warmup, rate=0.0, tcp=False):
    """One generator run against a started switch; returns its JSON report."""
    args = [os.path.join(BUILD, "perf", "podvs-pktgen"), f"--lcores=0@{GEN_CPU}", "--no-pci",
            "--in-memory", "--single-file-segments", "--file-prefix=bench_gen", "--log-level=3",
            "--", "--server", "--tx-socket", ends["tx_socket"], "--rx-socket", ends["rx_socket"],
            "--tx-mac", ends["tx_mac"], "--rx-mac", ends["rx_mac"], "--src-mac", ends["tx_mac"],
            "--dst-mac", ends["dst_mac"], "--src-ip", ends["src_ip"], "--dst-ip", ends["dst_ip"],
            "--size", str(size), "--flows", str(flows), "--rate", str(rate),
            "--duration", str(duration), "--warmup", str(warmup), "--wait-link", "30", "--json"]
    if tcp:
        args.append("--tcp")
    args += ends.get("args", [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + warmup + 60,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError("podvs-pktgen failed: " + out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def no_drop_rate(procs, work, ends, ceiling, seconds, warmup, steps):
    """Highest rate with zero loss over `seconds`: binary search below the best measured rate."""
    low, high = 0.0, ceiling
    for _ in range(steps):
        rate = (low + high) / 2
        r = pktgen(procs, work, ends, 64, 1, seconds, warmup, rate=rate)
        if r["rx_packets"] > 0 and r["loss"] == 0:
            low = rate
        else:
            high = rate
    return low


SCENARIOS = [  # label, frame size (inner with VXLAN), flows, TCP-flagged, path
    ("64B, 1 flow", 64, 1, False, "pods"), ("64B, 1k flows", 64, 1000, False, "pods"),
    ("64B, 100k flows", 64, 100000, False, "pods"), ("64B TCP, 1k flows", 64, 1000, True, "pods"),
    ("512B, 1k flows", 512, 1000, False, "pods"), ("1518B, 1k flows", 1518, 1000, False, "pods"),
    ("VXLAN encap 64B", 64, 1000, False, "encap"), ("VXLAN encap 1518B", 1518, 1000, False, "encap"),
    ("VXLAN decap 64B", 64, 1000, False, "decap"), ("VXLAN decap 1518B", 1518, 1000, False, "decap")]
# How a switch is started for a path: pod to pod, or with an uplink for both VXLAN directions.
MODE = {"pods": "pods", "encap": "vxlan", "decap": "vxlan"}
VERIFY_RATE_MPPS = 0.1
VERIFY_ATTEMPTS = 4  # a switch that lost the remote VTEP's ARP asks again within ~10 s
VERIFY_MAX_LOSS_PCT = 1.0


def path_ends(ends, path):
    return ends if path == "pods" else ends[path]


def verify_forwarding(sw, procs, work, ends, path):
    """Numbers count only from a switch that forwards: at a low rate nearly everything must
    arrive (and, with VXLAN, arrive encapsulated). The first attempts may lose packets while the
    switch resolves the remote VTEP."""
    for attempt in range(VERIFY_ATTEMPTS):
        r = pktgen(procs, work, ends, 64, 1, 1, 1, rate=VERIFY_RATE_MPPS)
        ok = (r["rx_packets"] > 0 and r["loss_pct"] <= VERIFY_MAX_LOSS_PCT
              and r.get("rx_not_vxlan", 0) == 0)
        if ok:
            return
        print(f"{sw.name:12} {path}: forwarding check {attempt + 1} failed (rx {r['rx_packets']}"
              f" of {r['tx_packets']}, not VXLAN {r.get('rx_not_vxlan', 0)})", flush=True)
        time.sleep(3)
    raise RuntimeError(f"{sw.name} does not forward on the {path} path: {json.dumps(r)}\n"
                       + sw.diagnose())


def run_switch_once(sw, procs, work, duration, warmup, scenarios):
    """Runs every scenario once on one switch, starting it once per mode its scenarios need:
    one repetition of that switch. Scenarios the switch cannot run are left out."""
    out = {}
    for mode in dict.fromkeys(MODE[s[4]] for s in scenarios):
        if mode not in sw.modes:
            print(f"{sw.name:12} skips the {mode} scenarios (it cannot encapsulate)", flush=True)
            continue
        try:
            ends = sw.start(mode)
            for path in dict.fromkeys(s[4] for s in scenarios if MODE[s[4]] == mode):
                verify_forwarding(sw, procs, work, path_ends(ends, path), path)
                pktgen(procs, work, path_ends(ends, path), 64, 1, 2, 1)  # warm the path once
            for label, size, flows, tcp, path in scenarios:
                if MODE[path] != mode:
                    continue
                sw.clear()
                r = pktgen(procs, work, path_ends(ends, path), size, flows, duration, warmup, tcp=tcp)
                r["cycles_per_packet"] = sw.cycles_per_packet()
                out[label] = r
                print(f"{sw.name:12} {label:18} {r['rx_mpps']:.2f} Mpps (loss {r['loss_pct']:.2f} %)",
                      flush=True)
        finally:
            sw.stop()
    return out


def latency_and_ndr(sw, procs, work, row, duration, warmup, ndr_seconds, ndr_steps):
    """Latency at half the measured 64B/1-flow rate and the no-drop rate, on a fresh start."""
    try:
        ends = sw.start()
        verify_forwarding(sw, procs, work, ends, "pods")
        pktgen(procs, work, ends, 64, 1, 2, 1)
        lat = pktgen(procs, work, ends, 64, 1, duration, warmup, rate=row["mpps_median"] / 2)
        row["latency_us_at_half_rate"] = {k: lat["latency_us"].get(k) for k in ("p50", "p99", "p99_9")}
        row["ndr_mpps"] = no_drop_rate(procs, work, ends, row["mpps_max"], ndr_seconds, warmup, ndr_steps)
    finally:
        sw.stop()


def control_plane(pods):
    """Pod add to first forwarded packet and pods attached per second (perf/attach_latency.sh)."""
    out = subprocess.run(["bash", os.path.join(TOP, "perf", "attach_latency.sh"), str(pods), "20"],
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, PODVSD=os.path.join(BUILD, "podvsd"),
                                  PODVSCTL=os.path.join(BUILD, "podvsctl")))
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise RuntimeError("attach_latency.sh failed: " + (out.stdout + out.stderr)[-2000:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs, 1 repetition (smoke test)")
    ap.add_argument("--switches", default="podvs,testpmd,ovs")
    ap.add_argument("--scenarios", default="", help="labels to run, separated by semicolons (default: all)")
    ap.add_argument("--no-control-plane", action="store_true", help="skip the pod attach measurement")
    ap.add_argument("--out", default=os.path.join(TOP, "perf", "results"))
    opts = ap.parse_args()
    reps, duration, warmup = (1, 3, 1) if opts.quick else (3, 10, 2)
    ndr_seconds, ndr_steps = (2, 3) if opts.quick else (10, 6)
    wanted = set(filter(None, opts.scenarios.split(";")))
    scenarios = [s for s in SCENARIOS if not wanted or s[0] in wanted]
    switches = {"podvs": Podvs, "testpmd": Testpmd, "ovs": Ovs}
    os.makedirs(opts.out, exist_ok=True)
    results = []
    procs = Processes()
    work = tempfile.mkdtemp(prefix="podvs-bench-")
    runs = {}  # (switch, scenario) -> [report per repetition]
    try:
        # Repetitions alternate between switches, so that the drift of a shared VM over the run
        # lands on every switch alike instead of on whichever ran last.
        for _ in range(reps):
            for key in opts.switches.split(","):
                sw = switches[key](procs, work)
                once = run_switch_once(sw, procs, work, duration, warmup, scenarios)
                for label, r in once.items():
                    runs.setdefault((sw.name, label), []).append(r)
        for key in opts.switches.split(","):
            sw = switches[key](procs, work)
            for label, size, flows, tcp, path in scenarios:
                rs = runs.get((sw.name, label))
                if not rs:
                    continue  # a path this switch cannot take (testpmd-io and VXLAN)
                mpps = [r["rx_mpps"] for r in rs]
                cycles = [r["cycles_per_packet"] for r in rs if r["cycles_per_packet"]]
                row = {"switch": sw.name, "scenario": label, "size": size, "flows": flows, "tcp": tcp,
                       "path": path,
                       "mpps_min": min(mpps), "mpps_median": statistics.median(mpps),
                       "mpps_max": max(mpps), "loss": rs[-1].get("loss"),
                       "cycles_per_packet": statistics.median(cycles) if cycles else None, "runs": rs}
                if size == 64 and flows == 1 and path == "pods":
                    latency_and_ndr(sw, procs, work, row, duration, warmup, ndr_seconds, ndr_steps)
                results.append(row)
        cp = None if opts.no_control_plane else control_plane(20 if opts.quick else 100)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    json.dump({"machine": {"cpus": CPUS, "kernel": os.uname().release}, "results": results,
               "control_plane": cp},
              open(os.path.join(opts.out, "results.json"), "w"), indent=2)
    md = table(results) + control_plane_table(cp)
    open(os.path.join(opts.out, "results.md"), "w").write(md)
    plot(results, os.path.join(opts.out, "throughput.png"))
    print(md)


def control_plane_table(cp):
    if not cp:
        return ""
    return ("\n| podvs control plane (%d kernel pods, at most 20 attached) | p50 | p99 | max |\n"
            "| --- | --- | --- | --- |\n" % cp["pods"] +
            "| pod add (API call), ms | %.1f | %.1f | %.1f |\n" % tuple(cp["add_ms"]) +
            "| pod add to first forwarded packet, ms | %.1f | %.1f | %.1f |\n" % tuple(cp["attach_ms"]) +
            "\n%.1f pods attached per second (each cycle also deletes one pod)\n" % cp["pods_per_second"])


def table(results):
    by = {(r["scenario"], r["switch"]): r for r in results}
    lines = ["| scenario | podvs Mpps (min/med/max) | testpmd-io Mpps | OVS-DPDK Mpps | podvs/testpmd | podvs/OVS | cycles/pkt podvs / OVS |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    extra = []
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        p, t, o = (by.get((scenario, s)) for s in ("podvs", "testpmd-io", "ovs-dpdk"))
        f = lambda r: f"{r['mpps_min']:.2f}/{r['mpps_median']:.2f}/{r['mpps_max']:.2f}" if r else "-"
        ratio = lambda a, b: f"{a['mpps_median'] / b['mpps_median']:.2f}" if a and b and b["mpps_median"] else "-"
        cyc = lambda r: f"{r['cycles_per_packet']:.0f}" if r and r.get("cycles_per_packet") else "-"
        lines.append(f"| {scenario} | {f(p)} | {f(t)} | {f(o)} | {ratio(p, t)} | {ratio(p, o)} | {cyc(p)} / {cyc(o)} |")
        for r in (p, t, o):
            if r and "ndr_mpps" in r:
                lat = r["latency_us_at_half_rate"]
                extra.append(f"| {r['switch']} | {r['ndr_mpps']:.2f} | {lat['p50']:.1f} / {lat['p99']:.1f} / {lat['p99_9']:.1f} |")
    if any(r.get("path", "pods") != "pods" for r in results):
        lines += ["", "VXLAN rows: inner frame sizes; testpmd-io cannot encapsulate or decapsulate ('-'). "
                  "Encap: pod to a remote node's pod (route, encapsulate, out the uplink); decap: "
                  "from the remote VTEP on the uplink to the pod."]
    if extra:
        lines += ["", "| 64B, 1 flow | no-drop rate (Mpps, 10 s) | latency at half rate p50 / p99 / p99.9 (us) |",
                  "| --- | --- | --- |"] + extra
    return "\n".join(lines) + "\n"


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Debian's python3-matplotlib belongs to /usr/bin/python3, which may not be the python3
        # on PATH: let it draw from the saved results.
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            subprocess.run(["/usr/bin/python3", __file__, "--plot", os.path.join(os.path.dirname(path), "results.json"), path], check=False)
        else:
            print("matplotlib missing (apt-get install python3-matplotlib): no plot", file=sys.stderr)
        return
    scenarios = list(dict.fromkeys(r["scenario"] for r in results))
    names = list(dict.fromkeys(r["switch"] for r in results))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        vals = [next((r["mpps_median"] for r in results if r["switch"] == n and r["scenario"] == s), 0) for s in scenarios]
        ax.bar([x + i * width for x in range(len(scenarios))], vals, width, label=n)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(scenarios))], scenarios)
    ax.set_ylabel("Mpps (median)")
    ax.set_title("vhost-user pods (and VXLAN to a remote node), one switch core")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--plot":
        plot(json.load(open(sys.argv[2]))["results"], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
