#!/usr/bin/env python3
"""Sends N requests to moatd's API, each on a new connection, with garbage in them: mutated and
random paths and query strings, odd methods, random bodies (bytes, broken JSON, JSON with bad
rule words), wrong Content-Length, bad chunking, oversized headers, and some bytes that are not
HTTP at all. Seeded: the same run every time. Prints one JSON object: how many were sent and
answered, the count of each status, and of each status by kind of request: "http" (well
formed, garbage in the path, query, headers or body), "badlength" (a Content-Length that is not
the body's), "badchunks", "bigheader" (a header of 8 to 40 KB), "badline" (no method, or a control
character in it), "raw" (not HTTP). Eight at a time.

    garbage.py HOST PORT N TOKEN

No path segment it makes is all digits, so a DELETE can never name a real rule id."""
import concurrent.futures
import json
import random
import socket
import sys

ROUTES = ["/api/v1/health", "/api/v1/status", "/api/v1/top", "/api/v1/hosts/198.51.100.5",
          "/api/v1/attacks", "/api/v1/history", "/api/v1/mitigations", "/api/v1/scrubber/rules",
          "/api/v1/bgp/routes", "/api/v1/bgp/peers", "/api/v1/exporters", "/api/v1/traffic",
          "/api/v1/config/check", "/api/v1/reload", "/metrics", "/", "/app.js",
          "/api/v1/attacks/1700000000-1/evidence.pcap"]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "BREW", "G\x01T", ""]
JUNK = "abcXYZ-_.~%/:?&=#;[]{}\"' \\\t\x7f\xff" + "".join(chr(c) for c in range(0x20, 0x7f))


def junk(r, n):
    s = "".join(r.choice(JUNK) for _ in range(n))
    return s if not s.isdigit() else s + "x"


def seg(r):
    return r.choice(["%00", "%", "%zz", "..", ".", "", "%2e%2e", "\u00e9", "a" * r.randint(60, 300),
                     "198.51.100.999", "::ffff:1.2.3.4", "0x1", "-1x", junk(r, r.randint(1, 20))])


def path(r):
    k = r.random()
    if k < 0.4:  # a real route, mutated
        p = r.choice(ROUTES).split("/")
        i = r.randrange(len(p))
        p[i] = seg(r)
        p = "/".join(p)
    elif k < 0.6:
        p = r.choice(ROUTES) + "/" + seg(r)
    elif k < 0.8:
        p = "/" + "/".join(seg(r) for _ in range(r.randint(1, 8)))
    else:
        p = r.choice(ROUTES)
    if r.random() < 0.4:
        p += "?" + "&".join("%s=%s" % (junk(r, r.randint(0, 8)), junk(r, r.randint(0, 8)))
                            for _ in range(r.randint(1, 5)))
    return p


def body(r):
    k = r.random()
    if k < 0.25:
        return b""
    if k < 0.5:
        return bytes(r.randrange(256) for _ in range(r.randint(1, 3000)))
    if k < 0.75:
        return json.dumps({"rule": junk(r, r.randint(0, 80))}).encode()[: r.randint(1, 100)]
    if k < 0.9:
        return json.dumps({r.choice(["rule", "announce", "x"]): r.choice(
            [None, 1, [], {}, junk(r, 30), "198.51.100.5 proto udp sport 99999 drop"])}).encode()
    return b"{" * r.randint(1, 5000)


def request(r, host, token):
    k = r.random()
    kind = "http"
    if k < 0.08:  # not HTTP at all
        return "raw", bytes(r.randrange(256) for _ in range(r.randint(1, 500)))
    m = r.choice(METHODS)
    if m in ("", "G\x01T"):
        kind = "badline"
    b = body(r)
    lines = ["%s %s HTTP/1.%d" % (m, path(r), r.choice([0, 1, 1, 1])), "Host: %s" % host]
    if r.random() < 0.5:
        lines.append("Authorization: Bearer %s" % r.choice([token, token + "x", "", junk(r, 20)]))
    if k < 0.15:
        kind = "badlength"
        lines.append("Content-Length: %d" % (len(b) + r.choice([-1, 5, 1000])))
    elif k < 0.2:
        kind = "badchunks"
        lines.append("Transfer-Encoding: chunked")
        b = b"%x\r\n" % (len(b) + 7) + b + b"\r\nzz\r\n"
    elif k < 0.25:
        kind = "bigheader"
        lines.append("X-Big: " + "h" * r.randint(8000, 40000))
    elif b or m == "POST":
        lines.append("Content-Length: %d" % len(b))
    if r.random() < 0.1:
        lines.append(junk(r, 30))
    lines.append("Connection: close")
    return kind, ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + b


def send(host, port, kind, req):
    """The status of the answer, or "none" (closed without one, or nothing within the time)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    # a well formed request is answered at once; the others may be waited on (a body that never
    # comes), then the client gives up
    s.settimeout(3.0 if kind == "http" else 0.5)
    got = b""
    try:
        s.connect((host, port))
        s.sendall(req)
        while len(got) < 16:
            c = s.recv(4096)
            if not c:
                break
            got += c
    except OSError:
        pass
    finally:
        s.close()
    return got[9:12].decode("latin-1") if got.startswith(b"HTTP/1.") else "none"


def main():
    host, port, n, token = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    r = random.Random(20240601)
    reqs = [request(r, host, token) for _ in range(n)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda kr: send(host, port, kr[0], kr[1]), reqs))
    st = {}
    kinds = {}
    answered = 0
    for (kind, _), code in zip(reqs, codes):
        answered += code != "none"
        st[code] = st.get(code, 0) + 1
        kk = kinds.setdefault(kind, {})
        kk[code] = kk.get(code, 0) + 1
    print(json.dumps({"sent": n, "answered": answered, "statuses": st, "kinds": kinds},
                     sort_keys=True))


if __name__ == "__main__":
    main()
