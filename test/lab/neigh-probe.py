"""TCP connects to one address, each bracketed by reads of the neighbour entry it went to (the lab's split-brain test).

Run inside the client's network namespace:
  python3 neigh-probe.py --host 198.18.0.100 --port 80 --count 40 --timeout-ms 500 --gap-ms 150

Per connect, one JSON line: the MAC of the host's complete entry in /proc/net/arp right before and right after (null:
no complete entry), whether the connect succeeded, the error when not ("timeout", or the errno name), and the epoch ms
it started and how long it took. A connect whose two reads differ straddled a neighbour change: the caller skips it.
The socket is closed right after the handshake (nothing is sent).
"""
import argparse
import errno
import json
import socket
import time


def neighbour_mac(ip):
    with open("/proc/net/arp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if len(fields) >= 6 and fields[0] == ip and fields[2] != "0x0" and fields[3] != "00:00:00:00:00:00":
                return fields[3].lower()
    return None


def connect(host, port, timeout_s):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    try:
        s.connect((host, port))
        return True, None
    except socket.timeout:
        return False, "timeout"
    except OSError as e:
        return False, errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--timeout-ms", type=int, default=500)
    p.add_argument("--gap-ms", type=int, default=100)
    a = p.parse_args()
    for _ in range(a.count):
        before = neighbour_mac(a.host)
        t0 = time.time()
        ok, error = connect(a.host, a.port, a.timeout_ms / 1000)
        ms = (time.time() - t0) * 1000
        after = neighbour_mac(a.host)
        print(json.dumps({"at": int(t0 * 1000), "ms": round(ms, 1), "ok": ok, "error": error, "macBefore": before, "macAfter": after}), flush=True)
        time.sleep(a.gap_ms / 1000)


if __name__ == "__main__":
    main()
