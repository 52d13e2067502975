#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus: the golden frames of the unit tests, one file each.
usage: make_seeds.py DIR. Byte 0 of each seed picks the ingress port (0 host, 1 pod A, 2 pod B)."""
import os
import struct
import sys

GW = bytes.fromhex("0a58a9fe0101")
POD_A = bytes.fromhex("0a580af40002")
HOST = bytes.fromhex("0a580af40001")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, l4, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, ttl, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    udp = struct.pack("!HHHH", 5000, 6000, 26, 0) + bytes(18)
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 2, 65535, 0, 0)
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + bytes(18)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + POD_A + bytes([10, 244, 0, 2]) + bytes(6) + bytes([169, 254, 1, 1])
    seeds = {
        "udp_a_to_b": b"\x01" + GW + POD_A + b"\x08\x00" + ip4("10.244.0.2", "10.244.0.3", 17, udp),
        "tcp_a_to_host": b"\x01" + GW + POD_A + b"\x08\x00" + ip4("10.244.0.2", "10.244.0.1", 6, tcp),
        "icmp_host_to_a": b"\x00" + GW + HOST + b"\x08\x00" + ip4("10.244.0.1", "10.244.0.2", 1, icmp),
        "arp_for_gateway": b"\x01" + b"\xff" * 6 + POD_A + b"\x08\x06" + arp,
        "tcp_a_to_service": b"\x01" + GW + POD_A + b"\x08\x00" + ip4("10.244.0.2", "10.96.0.10", 6, tcp),
        "udp_a_to_service": b"\x01" + GW + POD_A + b"\x08\x00" + ip4("10.244.0.2", "10.96.0.10", 17,
                                                                     struct.pack("!HHHH", 5000, 80, 26, 0) + bytes(18)),
        "ttl_one": b"\x01" + GW + POD_A + b"\x08\x00" + ip4("10.244.0.2", "10.244.0.3", 17, udp, ttl=1),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
