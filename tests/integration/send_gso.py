#!/usr/bin/env python3
"""Sends one TCP super-frame out of a pod's interface with a virtio-net header asking for TSO and
a partial checksum, as a pod's kernel hands a TCP stream to an interface with TSO (run inside the
pod's namespace). The packet socket's PACKET_VNET_HDR makes the kernel take the header as it
comes from a guest, so the frame reaches podvs's tap whole, with that header.

usage: send_gso.py IFNAME SRC_MAC SRC_IP DST_IP PAYLOAD MSS
The TCP stream starts at sequence number 1000; payload byte i is i & 0xff
(tests/tools/vhost_offload_pod.cc checks both).
"""
import socket
import struct
import sys

GATEWAY_MAC = bytes.fromhex("0a58a9fe0101")
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_TCPV4 = 1


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    return ~fold(sum(struct.unpack("!%dH" % (len(data) // 2), data))) & 0xFFFF


def main():
    ifname, src_mac, src_ip, dst_ip = sys.argv[1:5]
    payload_len, mss = int(sys.argv[5]), int(sys.argv[6])
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    payload = bytes(i & 0xFF for i in range(payload_len))
    tcp_len = 20 + payload_len
    # The partial checksum's field holds the folded pseudo-header sum, as Linux leaves it.
    pseudo = fold(sum(struct.unpack("!4H", src + dst)) + 6 + tcp_len)
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1000, 1, 5 << 4, 0x18, 65535, pseudo, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    frame = GATEWAY_MAC + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00" + ip + tcp + payload
    vnet = struct.pack("=BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
                       14 + 20 + 20, mss, 14 + 20, 16)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, 0))
    s.send(vnet + frame)


if __name__ == "__main__":
    main()
