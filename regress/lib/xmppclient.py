#!/usr/bin/python3
"""xmppclient.py: a small XMPP c2s client for the tests (stdlib only).

It connects to the address given, never resolves a name, logs in with
SASL PLAIN (over plain TCP, or after STARTTLS with --tls), binds a
resource, then:

  send --jid alice@a.test --password pw --server 127.0.0.10 \\
       --to bob@b.test --body TEXT [--count N] [--wait-error SECONDS]
      sends a chat message (N of them, bodies "TEXT 1".."TEXT N" when
      N > 1; with --chatstate STATE instead of --body, a XEP-0085
      notification without a body; --subject TEXT adds a subject, its
      CR and LF as character references; --lang TAG sets xml:lang, its
      CR and LF as character references too; --payload XML adds XML as
      it is, after the body), makes sure the server has taken them (an iq round trip),
      and with --wait-error waits for an error reply and prints it as
      "error TYPE CONDITION TEXT" (TEXT, with its whitespace
      collapsed, only when the error has one); exit 0 when it came, prints
      "noerror" and exits 1 when it did not.

  recv --jid bob@b.test --password pw --server 127.0.0.11 \\
       --count N --timeout S
      goes online (presence), prints each chat/normal message received
      as "message FROM BODY" (FROM as the server gave it, a full JID
      usually; newlines in BODY as \\n; then "thread THREAD" and "lang
      TAG" when the message has them), message errors as
      "error TYPE CONDITION TEXT" (not counted); exits 0 when N
      messages arrived, 1 on timeout.

Common options: --port (5222), --resource, --tls [--ca FILE] (STARTTLS,
verified against FILE when given), --login-timeout (10 s),
--ready-file FILE (created once logged in and, for recv, online: the
background helpers in peers.sh wait for it), -v (the XML exchanged, on
stderr).  Exit 2 on any other failure (connection, authentication,
stream error), with the reason on stderr.
"""

import argparse
import base64
import os
import socket
import ssl
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS_CLIENT = "jabber:client"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_PING = "urn:xmpp:ping"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"


def q(ns, tag):
    return "{%s}%s" % (ns, tag)


class Failure(Exception):
    """Anything but a timeout: exit 2."""


class Timeout(Exception):
    pass


class Conn:
    def __init__(self, host, port, domain, timeout, verbose):
        self.domain = domain
        self.verbose = verbose
        try:
            self.sock = socket.create_connection((host, port), timeout)
        except OSError as e:
            raise Failure("cannot connect to %s port %d: %s" % (host, port, e))
        self.queue = []     # complete top-level elements not yet taken
        self.closed = False

    def log(self, direction, data):
        if self.verbose:
            sys.stderr.write("%s %s\n" % (direction, data))
            sys.stderr.flush()

    def send(self, data):
        self.log(">>", data)
        try:
            self.sock.sendall(data.encode("utf-8"))
        except OSError as e:
            raise Failure("send: %s" % e)

    def start_stream(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.root = None
        self.send("<?xml version='1.0'?><stream:stream xmlns='%s' "
                  "xmlns:stream='%s' to=%s version='1.0'>"
                  % (NS_CLIENT, NS_STREAM, quoteattr(self.domain)))

    def _feed(self, data):
        self.log("<<", data.decode("utf-8", "replace"))
        try:
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                    if self.depth == 1:
                        self.root = el
                else:
                    if self.depth == 2:
                        self.queue.append(el)
                        self.root.remove(el)
                    elif self.depth == 1:
                        self.closed = True
                    self.depth -= 1
        except ET.ParseError as e:
            raise Failure("XML from the server: %s" % e)

    def element(self, deadline):
        """The next top-level element, or Timeout at deadline."""
        while not self.queue:
            if self.closed:
                raise Failure("the server closed the stream")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout()
            except OSError as e:
                raise Failure("recv: %s" % e)
            if not data:
                raise Failure("the server closed the connection")
            self._feed(data)
        el = self.queue.pop(0)
        if el.tag == q(NS_STREAM, "error"):
            cond = [c.tag.split("}")[-1] for c in el
                    if c.tag.split("}")[-1] != "text"]
            raise Failure("stream error: %s %s"
                          % (" ".join(cond), el.findtext("{*}text") or ""))
        return el

    def starttls(self, ca):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if ca:
            ctx.load_verify_locations(ca)
            ctx.check_hostname = True
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        try:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=self.domain)
        except (ssl.SSLError, OSError) as e:
            raise Failure("TLS handshake: %s" % e)

    def close(self):
        try:
            if not self.closed:
                self.send("</stream:stream>")
                deadline = time.monotonic() + 2
                while not self.closed:
                    try:
                        self.element(deadline)
                    except (Timeout, Failure):
                        break
        finally:
            self.sock.close()


def body_line(s):
    return (s or "").replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def error_line(el):
    err = el.find(q(NS_CLIENT, "error"))
    if err is None:
        return "error unknown undefined-condition"
    cond = "undefined-condition"
    text = ""
    for c in err:
        if c.tag == q(NS_STANZAS, "text"):
            text = c.text or ""
        elif c.tag.startswith("{%s}" % NS_STANZAS):
            cond = c.tag.split("}")[1]
    line = "error %s %s" % (err.get("type", "unknown"), cond)
    text = " ".join(text.split())
    return line + " " + text if text else line


class Client:
    def __init__(self, args):
        self.args = args
        local, _, domain = args.jid.partition("@")
        domain = domain.split("/")[0]
        if not local or not domain:
            raise Failure("--jid must be user@domain")
        self.user, self.domain = local, domain
        self.pending = []       # stanzas that arrived while waiting
        self.c = Conn(args.server, args.port, domain, args.login_timeout,
                      args.verbose)

    def features(self, deadline):
        el = self.c.element(deadline)
        if el.tag != q(NS_STREAM, "features"):
            raise Failure("expected stream features, got %s" % el.tag)
        return el

    def login(self):
        a = self.args
        deadline = time.monotonic() + a.login_timeout
        c = self.c
        c.start_stream()
        f = self.features(deadline)
        if a.tls:
            if f.find(q(NS_TLS, "starttls")) is None:
                raise Failure("the server offers no STARTTLS")
            c.send("<starttls xmlns='%s'/>" % NS_TLS)
            el = c.element(deadline)
            if el.tag != q(NS_TLS, "proceed"):
                raise Failure("STARTTLS refused: %s" % el.tag)
            c.starttls(a.ca)
            c.start_stream()
            f = self.features(deadline)
        mechs = [m.text for m in f.iter(q(NS_SASL, "mechanism"))]
        if "PLAIN" not in mechs:
            raise Failure("no SASL PLAIN offered (offered: %s)"
                          % " ".join(mechs))
        cred = base64.b64encode(("\0%s\0%s" % (self.user, a.password))
                                .encode("utf-8")).decode("ascii")
        c.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
               % (NS_SASL, cred))
        el = c.element(deadline)
        if el.tag != q(NS_SASL, "success"):
            cond = [x.tag.split("}")[-1] for x in el
                    if x.tag != q(NS_SASL, "text")]
            raise Failure("authentication failed: %s %s"
                          % (" ".join(cond), el.findtext(q(NS_SASL, "text"))
                             or ""))
        c.start_stream()
        f = self.features(deadline)
        if f.find(q(NS_BIND, "bind")) is None:
            raise Failure("no resource binding offered")
        res = self.iq("set", "<bind xmlns='%s'><resource>%s</resource></bind>"
                      % (NS_BIND, escape(a.resource)), deadline)
        self.jid = res.findtext("{%s}bind/{%s}jid" % (NS_BIND, NS_BIND))
        sess = f.find(q(NS_SESSION, "session"))
        if sess is not None and sess.find(q(NS_SESSION, "optional")) is None:
            self.iq("set", "<session xmlns='%s'/>" % NS_SESSION, deadline)

    def iq(self, typ, payload, deadline, to=None):
        """Send an iq, return the result; stanzas meanwhile are kept."""
        iid = uuid.uuid4().hex
        self.c.send("<iq type='%s' id='%s'%s>%s</iq>"
                    % (typ, iid, " to=%s" % quoteattr(to) if to else "",
                       payload))
        while True:
            el = self.c.element(deadline)
            if el.tag == q(NS_CLIENT, "iq") and el.get("id") == iid:
                if el.get("type") != "result":
                    raise Failure("iq %s: %s" % (payload[:40], error_line(el)))
                return el
            self.pending.append(el)

    def sync(self, deadline):
        """A ping to our server: everything sent before is processed."""
        self.iq("get", "<ping xmlns='%s'/>" % NS_PING, deadline,
                to=self.domain)

    def next_stanza(self, deadline):
        while True:
            el = self.pending.pop(0) if self.pending \
                else self.c.element(deadline)
            if el.tag == q(NS_CLIENT, "iq") and \
                    el.get("type") in ("get", "set"):
                self.answer_iq(el)
                continue
            return el

    def answer_iq(self, el):
        attrs = " id=%s" % quoteattr(el.get("id", ""))
        if el.get("from"):
            attrs += " to=%s" % quoteattr(el.get("from"))
        if el.find(q(NS_PING, "ping")) is not None:
            self.c.send("<iq type='result'%s/>" % attrs)
        else:
            self.c.send("<iq type='error'%s><error type='cancel'>"
                        "<service-unavailable xmlns='%s'/></error></iq>"
                        % (attrs, NS_STANZAS))


def ready(args):
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % os.getpid())


def do_send(args):
    cl = Client(args)
    cl.login()
    ready(args)
    ids = set()
    for i in range(1, args.count + 1):
        mid = uuid.uuid4().hex
        ids.add(mid)
        if args.chatstate:
            payload = "<%s xmlns='%s'/>" % (args.chatstate, NS_CHATSTATES)
        else:
            body = (args.body if args.count == 1
                    else "%s %d" % (args.body, i))
            payload = "<body>%s</body>" % escape(body)
        thread = ("<thread>%s</thread>" % escape(args.thread)
                  if args.thread else "")
        if args.subject is not None:
            payload += "<subject>%s</subject>" % escape(
                args.subject, {"\r": "&#13;", "\n": "&#10;"})
        payload += args.payload or ""
        lang = ""
        if args.lang is not None:
            lang = " xml:lang=%s" % quoteattr(
                args.lang, {"\r": "&#13;", "\n": "&#10;"})
        cl.c.send("<message type='chat' id='%s' to=%s%s>%s%s</message>"
                  % (mid, quoteattr(args.to), lang, payload, thread))
    cl.sync(time.monotonic() + args.login_timeout)
    rc = 0
    if args.wait_error is not None:
        deadline = time.monotonic() + args.wait_error
        rc = 1
        try:
            while True:
                el = cl.next_stanza(deadline)
                if el.tag == q(NS_CLIENT, "message") and \
                        el.get("type") == "error" and \
                        (el.get("id") in ids or not el.get("id")):
                    print(error_line(el), flush=True)
                    rc = 0
                    break
        except Timeout:
            print("noerror", flush=True)
    cl.c.close()
    return rc


def do_recv(args):
    cl = Client(args)
    cl.login()
    deadline = time.monotonic() + args.login_timeout
    cl.c.send("<presence/>")
    cl.sync(deadline)
    ready(args)
    deadline = time.monotonic() + args.timeout
    n = 0
    try:
        while n < args.count:
            el = cl.next_stanza(deadline)
            if el.tag != q(NS_CLIENT, "message"):
                continue
            if el.get("type") == "error":
                print(error_line(el), flush=True)
                continue
            body = el.find(q(NS_CLIENT, "body"))
            if body is None:
                continue
            print("message %s %s" % (el.get("from", ""), body_line(body.text)),
                  flush=True)
            thread = el.find(q(NS_CLIENT, "thread"))
            if thread is not None:
                print("thread %s" % body_line(thread.text), flush=True)
            lang = el.get("{http://www.w3.org/XML/1998/namespace}lang")
            if lang is not None:
                print("lang %s" % body_line(lang), flush=True)
            n += 1
    except Timeout:
        sys.stderr.write("xmppclient: %d of %d messages after %g s\n"
                         % (n, args.count, args.timeout))
        cl.c.close()
        return 1
    cl.c.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ready-file", dest="ready_file_top")
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("send", "recv"):
        s = sub.add_parser(mode)
        s.add_argument("--ready-file")
        s.add_argument("--jid", required=True)
        s.add_argument("--password", required=True)
        s.add_argument("--server", required=True, help="address, not a name")
        s.add_argument("--port", type=int, default=5222)
        s.add_argument("--resource", default="test")
        s.add_argument("--tls", action="store_true")
        s.add_argument("--ca")
        s.add_argument("--login-timeout", type=float, default=10)
        s.add_argument("-v", "--verbose", action="store_true")
        s.add_argument("--count", type=int, default=1)
        if mode == "send":
            s.add_argument("--to", required=True)
            g = s.add_mutually_exclusive_group(required=True)
            g.add_argument("--body")
            g.add_argument("--chatstate", metavar="STATE",
                           choices=("active", "composing", "paused",
                                    "inactive", "gone"))
            s.add_argument("--thread")
            s.add_argument("--lang")
            s.add_argument("--subject",
                           help="CR and LF go as character references")
            s.add_argument("--payload", metavar="XML",
                           help="added to the message as it is")
            s.add_argument("--wait-error", type=float, metavar="SECONDS")
        else:
            s.add_argument("--timeout", type=float, default=10)
    args = p.parse_args()
    # --ready-file may come before or after the mode
    args.ready_file = args.ready_file or args.ready_file_top
    try:
        return do_send(args) if args.mode == "send" else do_recv(args)
    except Timeout:
        sys.stderr.write("xmppclient: timed out logging in\n")
        return 2
    except Failure as e:
        sys.stderr.write("xmppclient: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
