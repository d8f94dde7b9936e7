#!/usr/bin/python3
"""rawpeer.py: a scripted raw peer (s2s or anything over TCP) for tests.

  rawpeer.py --connect HOST PORT [options] [-f SCRIPT | STEP ...]
  rawpeer.py --listen HOST PORT [--ready-file F] [options] [-f SCRIPT | STEP ...]

--connect opens a TCP connection to HOST PORT (from --bind ADDR if
given); --listen accepts one
connection (--accept-timeout, default 30 s) after creating --ready-file.
Then it runs the steps in order, from the arguments (one step each) or
from a script file (-f FILE, "-" for stdin; one step a line, blank lines
and lines starting with # ignored).  Steps:

  send TEXT            send TEXT as it is (UTF-8), after ${NAME}
                       substitution; no newline added
  send-hex HEX         send raw bytes (whitespace in HEX ignored)
  expect [-t S] REGEX  wait (S seconds, default --timeout) until REGEX
                       (Python re, DOTALL) matches the input received
                       and not yet consumed; the input up to the end of
                       the match is consumed; named groups (?P<NAME>...)
                       become variables for ${NAME}
  absent [-t S] REGEX  fail if REGEX matches the unconsumed input, after
                       reading for S seconds (default 0: what is there)
  expect-eof [-t S]    wait until the peer closes the connection
  starttls [--ca FILE] [--cert FILE --key FILE] [--sni NAME] [--fail]
           [--cork]    TLS on the socket: a client with --connect (SNI
                       only with --sni; the peer's chain verified against
                       --ca when given, its name too with --sni), a server
                       with --listen (--cert/--key required; a client
                       certificate requested and verified against --ca
                       when given).  Unconsumed plaintext is dropped.
                       --fail: the handshake must fail.  --cork (client):
                       the client's last handshake flight is held back
                       (TCP_CORK) and leaves in one segment with what the
                       next send step sends
  sleep S              pause (timing attacks only, never for readiness)
  close                close the connection
  print TEXT           print TEXT (after substitution) on stdout

Options: --timeout S (default 10), --set NAME=VALUE (a variable),
-v (trace what is sent and received on stderr).
Exit 0 when every step succeeded, 1 at the first failing step with the
reason and the input received on stderr, 2 on a usage error.
"""

import argparse
import codecs
import os
import re
import select
import shlex
import socket
import ssl
import sys
import time


class StepFailed(Exception):
    pass


class Peer:
    def __init__(self, sock, server_side, timeout, verbose):
        self.sock = sock
        self.server_side = server_side
        self.timeout = timeout
        self.verbose = verbose
        self.buf = ""           # received, not yet consumed
        self.transcript = ""    # everything received
        self.eof = False
        self.vars = {}
        self.corked = False     # starttls --cork, until the next send
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def trace(self, direction, text):
        if self.verbose:
            sys.stderr.write("%s %s\n" % (direction, text))
            sys.stderr.flush()

    def subst(self, text):
        def repl(m):
            if m.group(1) not in self.vars:
                raise StepFailed("no variable ${%s}" % m.group(1))
            return self.vars[m.group(1)]
        return re.sub(r"\$\{(\w+)\}", repl, text)

    def sendbytes(self, data):
        self.trace(">>", data.decode("utf-8", "replace"))
        try:
            self.sock.sendall(data)
            if self.corked:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
                self.corked = False
        except OSError as e:
            raise StepFailed("send: %s" % e)

    def read(self, deadline):
        """Read once, waiting until deadline at most; False on timeout."""
        if self.eof:
            return False
        left = max(deadline - time.monotonic(), 0)
        self.sock.settimeout(left if left > 0 else 0.001)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            return False
        except OSError as e:
            self.trace("<<", "(error: %s)" % e)
            self.eof = True
            return False
        if not data:
            self.trace("<<", "(end of stream)")
            self.eof = True
            return False
        text = self.decoder.decode(data)
        self.trace("<<", text)
        self.buf += text
        self.transcript += text
        return True

    def opt_timeout(self, rest):
        m = re.match(r"-t\s+([0-9.]+)\s*(.*)$", rest, re.S)
        if m:
            return float(m.group(1)), m.group(2)
        return None, rest

    def expect(self, rest):
        t, pattern = self.opt_timeout(rest)
        t = self.timeout if t is None else t
        rx = re.compile(self.subst(pattern), re.S)
        deadline = time.monotonic() + t
        while True:
            m = rx.search(self.buf)
            if m:
                self.vars.update({k: v for k, v in m.groupdict().items()
                                  if v is not None})
                self.buf = self.buf[m.end():]
                return
            if self.eof:
                raise StepFailed("connection closed before /%s/ matched"
                                 % pattern)
            if time.monotonic() >= deadline:
                raise StepFailed("no /%s/ within %g s" % (pattern, t))
            self.read(deadline)

    def absent(self, rest):
        t, pattern = self.opt_timeout(rest)
        rx = re.compile(self.subst(pattern), re.S)
        deadline = time.monotonic() + (t or 0)
        self.read(0)            # what has already arrived
        while True:
            if rx.search(self.buf):
                raise StepFailed("/%s/ received" % pattern)
            if self.eof or time.monotonic() >= deadline:
                return
            self.read(deadline)

    def expect_eof(self, rest):
        t, _ = self.opt_timeout(rest)
        t = self.timeout if t is None else t
        deadline = time.monotonic() + t
        while not self.eof:
            if time.monotonic() >= deadline:
                raise StepFailed("the connection is still open after %g s"
                                 % t)
            self.read(deadline)

    def starttls(self, rest):
        p = argparse.ArgumentParser(prog="starttls", add_help=False)
        p.add_argument("--ca")
        p.add_argument("--cert")
        p.add_argument("--key")
        p.add_argument("--sni")
        p.add_argument("--fail", action="store_true")
        p.add_argument("--cork", action="store_true")
        try:
            o = p.parse_args(shlex.split(self.subst(rest)))
        except SystemExit:
            raise StepFailed("bad starttls arguments: %s" % rest)
        if self.server_side:
            if not o.cert:
                raise StepFailed("starttls as a server needs --cert/--key")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(o.cert, o.key)
            if o.ca:
                ctx.load_verify_locations(o.ca)
                ctx.verify_mode = ssl.CERT_OPTIONAL
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = bool(o.ca and o.sni)
            if o.ca:
                ctx.load_verify_locations(o.ca)
            else:
                ctx.verify_mode = ssl.CERT_NONE
            if o.cert:
                ctx.load_cert_chain(o.cert, o.key)
        self.sock.settimeout(self.timeout)
        try:
            if self.server_side:
                self.sock = ctx.wrap_socket(self.sock, server_side=True)
            elif o.cork:
                self.sock = self.corked_handshake(ctx, o.sni)
            else:
                self.sock = ctx.wrap_socket(self.sock, server_hostname=o.sni)
        except (ssl.SSLError, OSError) as e:
            if o.fail:
                self.trace("--", "TLS handshake failed as expected: %s" % e)
                self.eof = True
                return
            raise StepFailed("TLS handshake: %s" % e)
        if o.fail:
            raise StepFailed("the TLS handshake succeeded")
        self.trace("--", "TLS %s %s, peer certificate: %s"
                   % (self.sock.version(), self.sock.cipher()[0],
                      self.sock.getpeercert() or "(none or unverified)"))
        self.buf = ""
        self.eof = False
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def corked_handshake(self, ctx, sni):
        """The handshake, with what the client sends after the server's
        first flight corked until the next send step."""
        self.sock.setblocking(False)
        tls = ctx.wrap_socket(self.sock, server_hostname=sni,
                              do_handshake_on_connect=False)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                if not self.corked:
                    # the ClientHello is out; what follows waits
                    tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    self.corked = True
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([tls], [], [], left)[0]:
                    raise ssl.SSLError("handshake timed out")
            except ssl.SSLWantWriteError:
                select.select([], [tls], [], 1)
        tls.settimeout(self.timeout)
        return tls

    def run(self, n, step):
        cmd, _, rest = step.strip().partition(" ")
        rest = rest.strip()
        if cmd == "send":
            self.sendbytes(self.subst(rest).encode("utf-8"))
        elif cmd == "send-hex":
            try:
                self.sendbytes(bytes.fromhex("".join(rest.split())))
            except ValueError:
                raise StepFailed("bad hex")
        elif cmd == "expect":
            self.expect(rest)
        elif cmd == "absent":
            self.absent(rest)
        elif cmd == "expect-eof":
            self.expect_eof(rest)
        elif cmd == "starttls":
            self.starttls(rest)
        elif cmd == "sleep":
            time.sleep(float(rest))
        elif cmd == "close":
            try:
                self.sock.close()
            finally:
                self.eof = True
        elif cmd == "print":
            print(self.subst(rest), flush=True)
        else:
            raise StepFailed("unknown step %r" % cmd)


def load_steps(args):
    if args.file:
        f = sys.stdin if args.file == "-" else open(args.file)
        lines = f.read().splitlines()
    else:
        lines = args.steps
    steps = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        steps.append(line.strip())
    return steps


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[2:]))
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--connect", nargs=2, metavar=("HOST", "PORT"))
    g.add_argument("--listen", nargs=2, metavar=("HOST", "PORT"))
    p.add_argument("--bind", metavar="ADDR")
    p.add_argument("--ready-file")
    p.add_argument("--accept-timeout", type=float, default=30)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("-f", "--file")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("steps", nargs="*")
    args = p.parse_args()
    steps = load_steps(args)

    try:
        if args.connect:
            host, port = args.connect
            sock = socket.create_connection(
                (host, int(port)), args.timeout,
                (args.bind, 0) if args.bind else None)
        else:
            host, port = args.listen
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            ls = socket.socket(fam, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((host, int(port)))
            ls.listen(1)
            if args.ready_file:
                with open(args.ready_file, "w") as f:
                    f.write("%d\n" % os.getpid())
            ls.settimeout(args.accept_timeout)
            sock, addr = ls.accept()
            ls.close()
    except OSError as e:
        sys.stderr.write("rawpeer: %s %s %s: %s\n" % (
            "connect" if args.connect else "listen/accept", host, port, e))
        return 1
    if args.connect and args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % os.getpid())

    peer = Peer(sock, bool(args.listen), args.timeout, args.verbose)
    for kv in args.set:
        k, _, v = kv.partition("=")
        peer.vars[k] = v
    for n, step in enumerate(steps, 1):
        try:
            peer.run(n, step)
        except (StepFailed, re.error) as e:
            sys.stderr.write("rawpeer: step %d (%s): %s\n"
                             % (n, step[:120], e))
            sys.stderr.write("rawpeer: unconsumed input: %r\n"
                             % peer.buf[-4000:])
            sys.stderr.write("rawpeer: everything received: %r\n"
                             % peer.transcript[-4000:])
            return 1
    try:
        peer.sock.close()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
