#!/usr/bin/env python3
"""Replays a pcap (moat-gen's: Ethernet, microsecond or nanosecond) onto an interface, paced to
its timestamps, as tcpreplay would: every frame gets DST_MAC (the next hop's) and the interface's
own MAC as its source, so a router forwards it. Only frames toward PREFIX... (IPv4 or IPv6
destinations) are sent; the rest of the capture (traffic the protected side sends) is skipped.

    replay.py PCAP IFACE DST_MAC PREFIX...

Prints "sent N of M frames in S s (P pps)" at the end; SIGINT/SIGTERM stop it early."""
import ipaddress
import signal
import socket
import struct
import sys
import time


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    path, iface, dmac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", ""))
    nets = [ipaddress.ip_network(p) for p in sys.argv[4:]]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    smac = s.getsockname()[4][:6]
    hdr = dmac + smac
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    f = open(path, "rb")
    g = f.read(24)
    magic = g[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        print("%s: not a pcap" % path, file=sys.stderr)
        return 2
    div = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    rec = struct.Struct(end + "IIII")
    # (address length, mask, network) as integers: a cheap test per frame
    want = [(4 if n.version == 4 else 16, int(n.netmask), int(n.network_address)) for n in nets]
    sent = total = 0
    t0 = None
    start = time.monotonic()
    while not stop:
        h = f.read(16)
        if len(h) < 16:
            break
        sec, frac, incl, _ = rec.unpack(h)
        frame = f.read(incl)
        if len(frame) < incl or incl < 34:
            continue
        total += 1
        et = frame[12:14]
        if et == b"\x08\x00":
            dst = int.from_bytes(frame[30:34], "big")
            alen = 4
        elif et == b"\x86\xdd" and incl >= 54:
            dst = int.from_bytes(frame[38:54], "big")
            alen = 16
        else:
            continue
        if not any(a == alen and dst & m == net for a, m, net in want):
            continue
        ts = sec + frac / div
        if t0 is None:
            t0 = ts
        ahead = (ts - t0) - (time.monotonic() - start)
        if ahead > 0.002:
            time.sleep(ahead)
        try:
            s.send(hdr + frame[12:])
            sent += 1
        except OSError:
            pass
    el = time.monotonic() - start
    print("sent %d of %d frames in %.1f s (%.0f pps)" % (sent, total, el, sent / el if el else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
