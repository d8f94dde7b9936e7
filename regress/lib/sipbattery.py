#!/usr/bin/python3
"""sipbattery.py: malformed INVITEs in the manner of PROTOS c07-sip.

  sipbattery.py BIND HOST PORT

PROTOS c07-sip (OUSPG, 2002) sends thousands of INVITEs, each with one
element replaced: by an overflow, a format string, an extreme integer,
nothing, a NUL, control or non-ASCII bytes, a CRLF that would start a
header of its own.  The suite itself is a Java program that speaks UDP;
this is the same idea over TCP, generated, so that the test needs
nothing outside Debian.

Each case goes on a TCP connection of its own from address BIND: one
INVITE, then the write side is shut.  Every case must be answered with a
SIP final response whose status is one of ALLOWED (a request the gateway
cannot or will not take: never 2xx, never a crash), within 5 s.  Prints
"N cases answered" and exits 0, or prints each case that was not, and
what came back, and exits 1.
"""

import socket
import sys

ALLOWED = {400, 403, 405, 413, 414, 415, 416, 420, 483, 488, 501, 505,
           513}

SDP = ("v=0\r\no=dave 1 1 IN IP4 127.0.0.30\r\ns=-\r\n"
       "c=IN IP4 127.0.0.30\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")

VALUES = [
    ("overflow-128", "a" * 128),
    ("overflow-2k", "a" * 2048),
    ("overflow-17k", "a" * 17000),
    ("overflow-70k", "a" * 70000),
    ("format", "%s%s%s%s%n%n%n%x%x"),
    ("format-long", "%99999999999s"),
    ("int-neg", "-1"),
    ("int-2^32", "4294967296"),
    ("int-huge", "99999999999999999999999999"),
    ("empty", ""),
    ("nul", "a\x00b"),
    ("control", "\x1b[2J\x07\x08"),
    ("high", "\xff\xfe\x80\xc0"),
    ("crlf", "x\r\nX-Injected: 1"),
    ("lf", "x\nX-Injected: 1"),
    ("quote", "\"unterminated"),
    ("angle", "<sip:x@y"),
    ("spaces", "   "),
]


def base(n):
    """The elements of a good INVITE, by name, in order."""
    return [
        ("method", "INVITE"),
        ("uri", "sip:carol@partner.test"),
        ("version", "SIP/2.0"),
        ("Via", "SIP/2.0/TCP 127.0.0.30:5060;branch=z9hG4bKp%d" % n),
        ("From", "\"Dave\" <sip:dave@gw.test>;tag=p%d" % n),
        ("To", "<sip:carol@partner.test>"),
        ("Call-ID", "p%d@127.0.0.30" % n),
        ("CSeq", "1 INVITE"),
        ("Contact", "<sip:dave@127.0.0.30:5060;transport=tcp>"),
        ("Max-Forwards", "70"),
        ("Content-Type", "application/sdp"),
        ("Content-Length", None),
        ("body", SDP),
    ]


def render(elems, clen=None):
    d = dict(elems)
    body = d["body"]
    head = "%s %s %s\r\n" % (d["method"], d["uri"], d["version"])
    for k, v in elems:
        if k in ("method", "uri", "version", "body"):
            continue
        if k == "Content-Length" and v is None:
            v = str(len(body.encode("latin-1")))
        if k == "Content-Length" and clen is not None:
            v = clen
        if v is not None:
            head += "%s: %s\r\n" % (k, v)
    return (head + "\r\n" + body).encode("latin-1")


def cases():
    n = 0
    names = [k for k, _ in base(0)]
    for field in names:
        for vname, value in VALUES:
            n += 1
            elems = base(n)
            if field == "Content-Length":
                # a value the body does not match would only make the
                # gateway wait for more: one it cannot take
                if vname in ("empty", "spaces", "overflow-128"):
                    continue
            elems = [(k, value if k == field else v) for k, v in elems]
            yield "%s=%s" % (field, vname), render(elems)
    # each header missing, and each twice
    for field in names[3:-1]:
        n += 1
        elems = [(k, v) for k, v in base(n) if k != field]
        if field == "Content-Length":
            continue    # without it a stream cannot be framed: 400 below
        yield "%s missing" % field, render(elems)
        n += 1
        elems = base(n)
        i = [k for k, _ in elems].index(field)
        elems.insert(i, elems[i])
        yield "%s twice" % field, render(elems)
    n += 1
    elems = [(k, v) for k, v in base(n) if k != "Content-Length"]
    yield "Content-Length missing", render(elems)
    n += 1
    yield "no blank line", render(base(n)).replace(b"\r\n\r\n", b"\r\n")
    n += 1
    yield "garbage", b"\x00\xff" * 600 + b"\r\n\r\n"
    n += 1
    yield "request line only", b"INVITE sip:carol@partner.test SIP/2.0\r\n\r\n"


def read_answer(s):
    buf = b""
    s.settimeout(5)
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    return buf


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    bind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    bad = 0
    total = 0
    for name, req in cases():
        total += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((bind, 0))
        s.connect((host, port))
        try:
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass    # the gateway answered and closed before all of it
        ans = read_answer(s)
        s.close()
        line = ans.split(b"\r\n", 1)[0]
        parts = line.split(b" ", 2)
        ok = (len(parts) >= 2 and parts[0] == b"SIP/2.0" and
              parts[1].isdigit() and int(parts[1]) in ALLOWED)
        if not ok:
            bad += 1
            print("case %s: got %r" % (name, line[:120]))
    print("%d cases answered" % (total - bad))
    print("%d cases not" % bad if bad else "all %d" % total)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
