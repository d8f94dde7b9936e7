#!/usr/bin/python3
"""churn.py: open and drop connections, for memory tests.

  churn.py HOST PORT COUNT [CERT KEY]
  churn.py --sip TRUSTED UNTRUSTED HOST PORT COUNT
  churn.py --preauth HOST PORT COUNT BYTES
  churn.py --idle HOST PORT COUNT CERT KEY READY-FILE

s2s (the first form): connection i (0 <= i < COUNT) does, by i mod 3
(mod 4 with CERT): half a stream header, then closes; a whole header,
waits for the features, then closes; a whole header, STARTTLS, half a
TLS-protected header, then closes; with CERT and KEY, STARTTLS with
that client certificate, SASL EXTERNAL, the header after <success/>,
its features, then closes.

SIP (--sip): connection i, by i mod 4: from address UNTRUSTED, an
OPTIONS, waits for the 403; from TRUSTED, half a request; from TRUSTED,
a request with two From headers, waits for the 400; from TRUSTED, an
OPTIONS, waits for the 200.  Each then closes.

Each connection gets 5 s.  Prints "N connections" and exits 0; exits 1
when a connection cannot be made at all.

--preauth: COUNT connections at once, none authenticated.  Each sends a
stream header and waits for the features; then each sends an unclosed
<message> holding BYTES bytes of empty elements (what makes the largest
tree per byte); then each sends 2 KiB of text, which takes a stream still
open over the 16 KiB allowed before authentication.  Every stream must
end with <policy-violation/>: prints "N policy-violation" and exits 0,
or says which did not (within 10 s) and exits 1.

--idle: COUNT streams, one after the other, each authenticated (STARTTLS
with the client certificate CERT and KEY, SASL EXTERNAL, the header after
<success/> and its features); then writes READY-FILE and holds them all,
idle, until it is killed.  Exits 1 if a stream does not come up.
"""

import signal
import socket
import ssl
import sys

HDR = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       b"xmlns:stream='http://etherx.jabber.org/streams' "
       b"xmlns:db='jabber:server:dialback' from='partner.test' "
       b"to='gw.test' version='1.0'>")
STARTTLS = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
AUTH = (b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
        b"mechanism='EXTERNAL'>=</auth>")


def read_until(s, mark):
    buf = b""
    while mark not in buf:
        d = s.recv(4096)
        if not d:
            return False
        buf += d
    return True


def sip_request(n, extra=""):
    return ("OPTIONS sip:gw.test SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKc%d\r\n"
            "From: <sip:x@gw.test>;tag=1\r\n%s"
            "To: <sip:gw.test>\r\nCall-ID: c%d\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (n, extra, n)).encode()


def one_sip(host, port, i, trusted, untrusted):
    kind = i % 4
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.bind((untrusted if kind == 0 else trusted, 0))
        s.connect((host, port))
        if kind == 1:
            s.sendall(sip_request(i)[:60])
            return
        s.sendall(sip_request(i, "f: <sip:y@gw.test>;tag=2\r\n"
                              if kind == 2 else ""))
        read_until(s, b"\r\n\r\n")
    except socket.timeout:
        pass
    finally:
        s.close()


def authenticated(s, ctx):
    """STARTTLS and SASL EXTERNAL on s, up to the features after
    <success/>: the TLS socket, or None where a step failed."""
    s.sendall(HDR)
    if not read_until(s, b"</stream:features>"):
        return None
    s.sendall(STARTTLS)
    if not read_until(s, b"<proceed"):
        return None
    t = ctx.wrap_socket(s, server_hostname="gw.test")
    for send, mark in ((HDR, b"</stream:features>"), (AUTH, b"<success"),
                       (HDR, b"<stream:features/>")):
        t.sendall(send)
        if not read_until(t, mark):
            return None
    return t


def one(host, port, kind, ctx):
    s = socket.create_connection((host, port), 5)
    s.settimeout(5)
    try:
        if kind == 0:
            s.sendall(HDR[:len(HDR) // 2])
            return
        if kind == 3:
            t = authenticated(s, ctx)
            if t is not None:
                t.close()
            return
        s.sendall(HDR)
        if not read_until(s, b"</stream:features>") or kind == 1:
            return
        s.sendall(STARTTLS)
        if not read_until(s, b"<proceed"):
            return
        t = ctx.wrap_socket(s, server_hostname="gw.test")
        t.sendall(HDR[:len(HDR) // 2])
        t.close()
    except (OSError, ssl.SSLError):
        pass
    finally:
        s.close()


def preauth(host, port, count, nbytes):
    socks = []
    for i in range(count):
        s = socket.create_connection((host, port), 5)
        s.settimeout(10)
        s.sendall(HDR)
        if not read_until(s, b"</stream:features>"):
            sys.stderr.write("connection %d: no features\n" % i)
            return 1
        socks.append(s)
    # all trees are built before any stream is pushed over its budget
    stanza = (b"<message from='a@partner.test' to='b@gw.test'>" +
              b"<a/>" * (nbytes // 4))
    for phase in (stanza, b" " * 2048):
        for s in socks:
            try:
                s.sendall(phase)
            except OSError:
                pass    # the gateway has ended it already
    ended = 0
    for i, s in enumerate(socks):
        try:
            if read_until(s, b"<policy-violation"):
                ended += 1
            else:
                sys.stderr.write("connection %d: closed without "
                                 "<policy-violation/>\n" % i)
        except OSError as e:
            sys.stderr.write("connection %d: %s\n" % (i, e))
        s.close()
    print("%d policy-violation" % ended)
    return 0 if ended == count else 1


def idle(host, port, count, cert, key, ready):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    held = []
    for i in range(count):
        s = socket.create_connection((host, port), 5)
        s.settimeout(10)
        t = authenticated(s, ctx)
        if t is None:
            sys.stderr.write("stream %d: not authenticated\n" % i)
            return 1
        held.append(t)
    with open(ready, "w") as f:
        f.write("%d\n" % len(held))
    while True:
        signal.pause()


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "--idle":
        return idle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                    sys.argv[5], sys.argv[6], sys.argv[7])
    if len(sys.argv) == 6 and sys.argv[1] == "--preauth":
        return preauth(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                       int(sys.argv[5]))
    if len(sys.argv) == 7 and sys.argv[1] == "--sip":
        trusted, untrusted, host = sys.argv[2:5]
        port, count = int(sys.argv[5]), int(sys.argv[6])
        for i in range(count):
            try:
                one_sip(host, port, i, trusted, untrusted)
            except OSError as e:
                sys.stderr.write("connection %d: %s\n" % (i, e))
                return 1
        print("%d connections" % count)
        return 0
    if len(sys.argv) not in (4, 6):
        sys.stderr.write("usage: churn.py HOST PORT COUNT [CERT KEY]\n"
                         "       churn.py --sip TRUSTED UNTRUSTED HOST "
                         "PORT COUNT\n"
                         "       churn.py --preauth HOST PORT COUNT BYTES\n"
                         "       churn.py --idle HOST PORT COUNT CERT KEY "
                         "READY-FILE\n")
        return 2
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    kinds = 3
    if len(sys.argv) == 6:
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        kinds = 4
    for i in range(count):
        try:
            one(host, port, i % kinds, ctx)
        except OSError as e:
            sys.stderr.write("connection %d: %s\n" % (i, e))
            return 1
    print("%d connections" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
