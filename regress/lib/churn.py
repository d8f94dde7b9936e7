#!/usr/bin/python3
"""churn.py: open and drop s2s connections before authentication.

  churn.py HOST PORT COUNT [CERT KEY]

Connection i (0 <= i < COUNT) does, by i mod 3 (mod 4 with CERT): half
a stream header, then closes; a whole header, waits for the features,
then closes; a whole header, STARTTLS, half a TLS-protected header,
then closes; with CERT and KEY, STARTTLS with that client certificate,
SASL EXTERNAL, the header after <success/>, its features, then closes.
Each connection gets 5 s.  Prints "N connections" and exits 0; exits 1 when
a connection cannot be made at all.
"""

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


def one(host, port, kind, ctx):
    s = socket.create_connection((host, port), 5)
    s.settimeout(5)
    try:
        if kind == 0:
            s.sendall(HDR[:len(HDR) // 2])
            return
        s.sendall(HDR)
        if not read_until(s, b"</stream:features>") or kind == 1:
            return
        s.sendall(STARTTLS)
        if not read_until(s, b"<proceed"):
            return
        t = ctx.wrap_socket(s, server_hostname="gw.test")
        if kind == 2:
            t.sendall(HDR[:len(HDR) // 2])
        else:
            t.sendall(HDR)
            if read_until(t, b"</stream:features>"):
                t.sendall(AUTH)
                if read_until(t, b"<success"):
                    t.sendall(HDR)
                    read_until(t, b"<stream:features/>")
        t.close()
    except (OSError, ssl.SSLError):
        pass
    finally:
        s.close()


def main():
    if len(sys.argv) not in (4, 6):
        sys.stderr.write("usage: churn.py HOST PORT COUNT [CERT KEY]\n")
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
