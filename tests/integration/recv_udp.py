#!/usr/bin/env python3
"""Receives UDP datagrams on a port (run inside a pod's namespace) and prints how many arrived
with the payload pattern vhost_offload_pod sends (byte i is i & 0xff), then exits.

usage: recv_udp.py PORT COUNT LENGTH TIMEOUT_S
"""
import socket
import sys
import time


def main():
    port, count, length, timeout = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                    float(sys.argv[4]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    expected = bytes(i & 0xFF for i in range(length))
    good = 0
    deadline = time.monotonic() + timeout
    while good < count and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        good += data == expected
    print(good)


if __name__ == "__main__":
    main()
