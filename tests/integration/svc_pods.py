#!/usr/bin/env python3
"""Servers and clients for the Services integration tests (services.sh, services_nodes.sh).

server NAME --tcp PORT... --stream PORT... --udp PORT...
    Answers every TCP connection on a --tcp port with "NAME PORT PEER_IP\\n" and closes it; on a
    --stream port sends that line, then about 2 MB/s until the peer goes; answers every datagram
    on a --udp port with "NAME PORT PEER_IP". Runs until killed.
ask IP PORT [--src IP] [--sport P]     one TCP connection: prints the answer line, or the error
many IP PORT N                         N TCP connections one after another: prints JSON
                                       {"names": {NAME: count}, "peers": {...}, "errors": {...},
                                       "failed_source_ports": [...], "order": ["NAME:SOURCE_PORT",
                                       ...]}; stops at the third error
udp IP PORT [--sport P] [--src IP]     one datagram: prints "FROM_IP:FROM_PORT ANSWER", "refused"
                                       or "timeout"
refused IP PORT                        one TCP connect: prints "refused SECONDS", "connected"
                                       or the error
stream IP PORT FILE SECONDS            one long download: writes the answer line to FILE.name,
                                       then "SECONDS_SINCE_START BYTES" to FILE every 0.2 s;
                                       ends with "end BYTES OK|ERROR" after SECONDS (or error)
"""
import argparse
import json
import socket
import sys
import threading
import time


def serve_tcp(name, port, stream):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(512)

    def answer(conn, peer):
        try:
            conn.sendall(f"{name} {port} {peer[0]}\n".encode())
            if stream:
                chunk = b"x" * 65536
                while True:
                    conn.sendall(chunk)
                    time.sleep(0.03)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        conn, peer = srv.accept()
        if stream:
            threading.Thread(target=answer, args=(conn, peer), daemon=True).start()
        else:
            answer(conn, peer)


def serve_udp(name, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(f"{name} {port} {peer[0]}".encode(), peer)


def server(args):
    threads = [threading.Thread(target=serve_tcp, args=(args.name, p, False)) for p in args.tcp]
    threads += [threading.Thread(target=serve_tcp, args=(args.name, p, True)) for p in args.stream]
    threads += [threading.Thread(target=serve_udp, args=(args.name, p)) for p in args.udp]
    for t in threads:
        t.daemon = True
        t.start()
    print("listening", flush=True)
    while True:
        time.sleep(3600)


def ask_once(ip, port, src=None, timeout=3.0, sport=0, ports=None, used=None):
    s = socket.socket()
    try:
        s.settimeout(timeout)
        if src or sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src or "0.0.0.0", sport))
        # Else connect() picks the port, as real clients' do (per destination, not globally).
        s.connect((ip, port))
        if used is not None:  # the caller wants the source port connect() picked
            used.append(s.getsockname()[1])
        data = b""
        while b"\n" not in data:  # a --stream port sends more after the line
            more = s.recv(4096)
            if not more:
                break
            data += more
        return data.split(b"\n", 1)[0].decode()
    except OSError:
        if ports is not None:  # the caller wants to know which source port failed
            ports.append(s.getsockname()[1])
        raise
    finally:
        s.close()


def ask(args):
    try:
        print(ask_once(args.ip, args.port, args.src, sport=args.sport))
    except OSError as e:
        print(f"error {type(e).__name__} {e}")
        return 1
    return 0


def many(args):
    names, peers, errors, failed_ports, order = {}, {}, {}, [], []
    for i in range(args.n):
        ports, used = [], []
        try:
            line = ask_once(args.ip, args.port, timeout=2.0, ports=ports, used=used).split()
            order.append(f"{line[0]}:{used[0]}")
            names[line[0]] = names.get(line[0], 0) + 1
            peers[line[2]] = peers.get(line[2], 0) + 1
        except (OSError, IndexError) as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            failed_ports += ports
            if sum(errors.values()) == 3:  # broken, not unlucky: say so now, not in minutes
                errors[f"gave_up_after_{i + 1}"] = 1
                break
    print(json.dumps({"names": names, "peers": peers, "errors": errors,
                      "failed_source_ports": failed_ports, "order": order}))


def udp(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.src or "0.0.0.0", args.sport))
    s.settimeout(args.timeout)
    if args.connect:  # a connected socket learns ICMP errors (ConnectionRefusedError)
        s.connect((args.ip, args.port))
        s.send(b"ping")
    else:
        s.sendto(b"ping", (args.ip, args.port))
    try:
        data, peer = s.recvfrom(2048)
        print(f"{peer[0]}:{peer[1]} {data.decode()}")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")


def refused(args):
    s = socket.socket()
    s.settimeout(5)
    start = time.monotonic()
    try:
        s.connect((args.ip, args.port))
        print("connected")
    except ConnectionRefusedError:
        print(f"refused {time.monotonic() - start:.3f}")
    except OSError as e:
        print(f"error {type(e).__name__} {e} after {time.monotonic() - start:.3f}s")


def stream(args):
    total, status = 0, "OK"
    with open(args.file, "w", buffering=1) as out:
        try:
            s = socket.create_connection((args.ip, args.port), timeout=5)
            buf = b""
            while b"\n" not in buf:
                more = s.recv(65536)
                if not more:
                    raise ConnectionError("closed before the name line")
                buf += more
            line, rest = buf.split(b"\n", 1)
            with open(args.file + ".name", "w") as f:
                f.write(line.decode() + "\n")
            total = len(rest)
            start = last = time.monotonic()
            while time.monotonic() - start < args.seconds:
                more = s.recv(65536)
                if not more:
                    raise ConnectionError("the server closed the connection")
                total += len(more)
                if time.monotonic() - last >= 0.2:
                    last = time.monotonic()
                    out.write(f"{last - start:.1f} {total}\n")
            s.close()
        except OSError as e:
            status = f"ERROR {type(e).__name__} {e}"
        out.write(f"end {total} {status}\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("server")
    a.add_argument("name")
    a.add_argument("--tcp", type=int, nargs="*", default=[])
    a.add_argument("--stream", type=int, nargs="*", default=[])
    a.add_argument("--udp", type=int, nargs="*", default=[])
    a = sub.add_parser("ask")
    a.add_argument("ip")
    a.add_argument("port", type=int)
    a.add_argument("--src")
    a.add_argument("--sport", type=int, default=0)
    a = sub.add_parser("many")
    a.add_argument("ip")
    a.add_argument("port", type=int)
    a.add_argument("n", type=int)
    a = sub.add_parser("udp")
    a.add_argument("ip")
    a.add_argument("port", type=int)
    a.add_argument("--sport", type=int, default=0)
    a.add_argument("--src")
    a.add_argument("--connect", action="store_true")
    a.add_argument("--timeout", type=float, default=2.0)
    a = sub.add_parser("refused")
    a.add_argument("ip")
    a.add_argument("port", type=int)
    a = sub.add_parser("stream")
    a.add_argument("ip")
    a.add_argument("port", type=int)
    a.add_argument("file")
    a.add_argument("seconds", type=float)
    args = p.parse_args()
    return {"server": server, "ask": ask, "many": many, "udp": udp, "refused": refused,
            "stream": stream}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
