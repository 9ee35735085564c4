"""Gratuitous ARP for one IP from one interface, on a fixed wall-clock schedule (the lab's split-brain fault).

Run inside a node's network namespace:
  python3 garp.py --iface eth0 --ip 198.18.0.100 --mac 02:76:77:00:00:03 --period-ms 4000 --offset-ms 2000 --start-ms EPOCH_MS

Sends, at start + offset + k * period (k = 0, 1, ...), what MetalLB's speaker sends on a failover: an ARP request and
an ARP reply, both broadcast, sender and target protocol address the IP, target hardware address broadcast (the
kernel takes either as gratuitous and overrides a neighbour entry it already holds). Two of these processes with the
same start and period, offsets half a period apart, flip a listener's entry every half period. A common start in
wall-clock time keeps the two in phase though they are started one after the other.

Prints one JSON line {"ready": true} once the raw socket is bound, then one {"sent": EPOCH_MS} per round. With
--count N it stops after N rounds; otherwise it runs until SIGTERM/SIGINT (or, with --watch-stdin, until stdin reaches
EOF: the parent holding the pipe is gone).
"""
import argparse
import json
import select
import signal
import socket
import struct
import sys
import time

BROADCAST = b"\xff" * 6
ETH_P_ARP = 0x0806


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC %r" % text)
    return bytes(int(p, 16) for p in parts)


def arp_frame(op, mac, ip):
    """Ethernet broadcast + ARP (Ethernet/IPv4) with sender = target = ip; padded to the 60-byte minimum."""
    eth = BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac, ip, BROADCAST, ip)
    frame = eth + arp
    return frame + b"\x00" * (60 - len(frame))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--ip", required=True)
    p.add_argument("--mac", required=True)
    p.add_argument("--period-ms", type=int, default=4000)
    p.add_argument("--offset-ms", type=int, default=0)
    p.add_argument("--start-ms", type=int, default=0, help="epoch ms of round 0 (default: now)")
    p.add_argument("--count", type=int, default=0, help="rounds to send, 0: until stopped")
    p.add_argument("--watch-stdin", action="store_true", help="stop when stdin reaches EOF (stdin a pipe from the parent)")
    a = p.parse_args()
    if a.period_ms < 100:
        p.error("--period-ms must be at least 100")

    mac = mac_bytes(a.mac)
    ip = socket.inet_aton(a.ip)
    frames = [arp_frame(1, mac, ip), arp_frame(2, mac, ip)]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((a.iface, 0))

    # Raising from the handler ends a select() at once (a handler that returns would let Python resume the wait).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print(json.dumps({"ready": True}), flush=True)

    start = (a.start_ms or int(time.time() * 1000)) + a.offset_ms
    k = 0
    # The first round still ahead (a late start skips the rounds already past instead of sending them in a burst).
    now = time.time() * 1000
    if a.start_ms and now > start:
        k = int((now - start) // a.period_ms) + 1
    sent = 0
    while a.count == 0 or sent < a.count:
        due = start + k * a.period_ms
        wait = max(0.0, (due - time.time() * 1000) / 1000)
        # With --watch-stdin, EOF on stdin ends the wait: the parent (the lab harness) is gone, and the fault with it.
        r, _, _ = select.select([sys.stdin] if a.watch_stdin else [], [], [], wait)
        if r and not sys.stdin.buffer.read1(4096):
            break
        if time.time() * 1000 < due:
            continue
        for f in frames:
            sock.send(f)
        sent += 1
        k += 1
        print(json.dumps({"sent": int(time.time() * 1000)}), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
