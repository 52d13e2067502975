#!/usr/bin/env python3
"""Sends hand-made Ethernet frames out of an interface (run inside a pod's namespace).

usage: send_frames.py IFNAME KIND COUNT SRC_MAC SRC_IP DST_IP
KIND: spoofed_ip | spoofed_mac | truncated_ipv4 | bad_ihl | bad_total_length | header_only | ipv6
(Frames shorter than an Ethernet header cannot be sent through the kernel; unit tests cover them.)
Frames go to the gateway MAC, as the pod's kernel would send them.
"""
import socket
import struct
import sys

GATEWAY_MAC = bytes.fromhex("0a58a9fe0101")


def mac(text):
    return bytes.fromhex(text.replace(":", ""))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(src_ip, dst_ip, ihl_words=5, total_length=None):
    payload = struct.pack("!HHHH", 40000, 9, 8 + 16, 0) + b"podvs-test-frame"
    length = 20 + len(payload) if total_length is None else total_length
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl_words, 0, length, 1, 0, 64, 17, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def frame(kind, src_mac, src_ip, dst_ip):
    eth = GATEWAY_MAC + src_mac + b"\x08\x00"
    if kind == "spoofed_ip":
        return eth + ipv4_udp("10.99.99.99", dst_ip)
    if kind == "spoofed_mac":
        return GATEWAY_MAC + mac("02:00:00:00:be:ef") + b"\x08\x00" + ipv4_udp(src_ip, dst_ip)
    if kind == "truncated_ipv4":
        return eth + ipv4_udp(src_ip, dst_ip)[:12]
    if kind == "bad_ihl":
        return eth + ipv4_udp(src_ip, dst_ip, ihl_words=3)
    if kind == "bad_total_length":
        return eth + ipv4_udp(src_ip, dst_ip, total_length=1400)
    if kind == "header_only":
        return eth
    if kind == "ipv6":
        return GATEWAY_MAC + src_mac + b"\x86\xdd" + bytes(40)
    raise SystemExit("unknown kind " + kind)


def main():
    ifname, kind, count, src_mac, src_ip, dst_ip = sys.argv[1:7]
    data = frame(kind, mac(src_mac), src_ip, dst_ip)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((ifname, 0))
        for _ in range(int(count)):
            s.send(data)


if __name__ == "__main__":
    main()
