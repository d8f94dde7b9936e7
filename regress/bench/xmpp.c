/*
 * Copyright (c) 2026 The xmppgwd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * The partner's XMPP server, both ways: streams to the gateway (STARTTLS,
 * SASL EXTERNAL with the partner's certificate) that carry the load, and
 * the gateway's streams to us, negotiated the same way from the other
 * side, whose messages are the sink.  Negotiation is lock-step, so each
 * step waits for one marker; an open stream's input is cut into
 * top-level elements by a small scanner that trusts the gateway's
 * canonical output (no '<' in attribute values).
 */

#include <sys/types.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xgwbench.h"

#define NS_STARTTLS	"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define STREAM_HEAD	"<?xml version='1.0'?><stream:stream " \
			"xmlns='jabber:server' " \
			"xmlns:stream='http://etherx.jabber.org/streams' "

/* a stream we open to the gateway */
enum { XL_FEAT1, XL_PROCEED, XL_FEAT2, XL_SUCCESS, XL_FEAT3, XL_OPEN };
/* a stream the gateway opens to us */
enum { XS_HDR1, XS_STARTTLS, XS_HDR2, XS_AUTH, XS_HDR3, XS_OPEN };

static struct tls_config	*cli_cfg[MAXDOMAINS];
static struct tls		*srv;
static int			 rr;
static char			 pad[4096];

static void
certpath(char *buf, size_t len, const char *name, const char *ext)
{
	if ((size_t)snprintf(buf, len, "%s/%s.%s", opt.certdir, name, ext) >=
	    len)
		fatalx_("path too long");
}

static struct tls_config *
tls_cfg(int dom)
{
	struct tls_config	*cfg;
	char			 crt[1024], key[1024], ca[1024];

	if ((cfg = tls_config_new()) == NULL)
		fatalx_("tls_config_new");
	certpath(crt, sizeof(crt), opt.domains[dom], "crt");
	certpath(key, sizeof(key), opt.domains[dom], "key");
	certpath(ca, sizeof(ca), "ca", "crt");
	if (tls_config_set_keypair_file(cfg, crt, key) == -1 ||
	    tls_config_set_ca_file(cfg, ca) == -1)
		fatalx_("%s: %s", crt, tls_config_error(cfg));
	return (cfg);
}

static void
xload_open(enum conn_kind kind, int dom)
{
	struct conn	*c;

	c = conn_add(kind, tcp_connect(opt.gw_addr, opt.gw_xport,
	    opt.partner_addr));
	c->dom = dom;
	c->state = XL_FEAT1;
	buf_printf(&c->out, STREAM_HEAD "from='%s' to='%s' version='1.0'>",
	    opt.domains[c->dom], opt.local_domain);
}

void
xmpp_init(void)
{
	struct tls_config	*cfg;
	char			 crt[1024], key[1024];
	int			 i;

	memset(pad, 'x', sizeof(pad));
	if (tls_init() == -1)
		fatalx_("tls_init");
	for (i = 0; i < opt.ndomains; i++)
		cli_cfg[i] = tls_cfg(i);
	/* the gateway names the partner with SNI: one certificate each */
	cfg = tls_cfg(0);
	for (i = 1; i < opt.ndomains; i++) {
		certpath(crt, sizeof(crt), opt.domains[i], "crt");
		certpath(key, sizeof(key), opt.domains[i], "key");
		if (tls_config_add_keypair_file(cfg, crt, key) == -1)
			fatalx_("%s: %s", crt, tls_config_error(cfg));
	}
	if ((srv = tls_server()) == NULL || tls_configure(srv, cfg) == -1)
		fatalx_("tls server: %s", srv ? tls_error(srv) : "?");
	for (i = 0; i < opt.streams; i++)
		xload_open(K_XLOAD, i % opt.ndomains);
}

/* n more streams, negotiated like the others, that carry nothing */
void
xmpp_idle_open(int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		xload_open(K_XIDLE, i % opt.ndomains);
}

int
xmpp_idle_ready(void)
{
	return (conn_count(K_XIDLE, XL_OPEN));
}

int
xmpp_ready(void)
{
	return (conn_count(K_XLOAD, XL_OPEN) == opt.streams);
}

static char *
find(struct conn *c, const char *marker)
{
	return (memmem(c->in.data + c->in.off, c->in.len - c->in.off, marker,
	    strlen(marker)));
}

/* the end of a stream header, or NULL while it is incomplete */
static char *
header_end(struct conn *c)
{
	char	*h, *e;

	if ((h = find(c, "<stream:stream")) == NULL)
		return (NULL);
	e = memchr(h, '>', c->in.data + c->in.len - h);
	return (e);
}

static void
attr_copy(const char *h, const char *end, const char *name, char *dst,
    size_t len)
{
	char		 pat[32];
	const char	*p, *q;
	size_t		 n;

	dst[0] = '\0';
	snprintf(pat, sizeof(pat), " %s=", name);
	if ((p = memmem(h, end - h, pat, strlen(pat))) == NULL)
		return;
	p += strlen(pat);
	if (p >= end || (*p != '\'' && *p != '"'))
		return;
	if ((q = memchr(p + 1, *p, end - p - 1)) == NULL)
		return;
	n = q - p - 1;
	if (n >= len)
		n = len - 1;
	memcpy(dst, p + 1, n);
	dst[n] = '\0';
}

static void
drop_input(struct conn *c)
{
	c->in.off = c->in.len = 0;
}

static int
stream_error(struct conn *c)
{
	char	*e;

	if ((e = find(c, "<stream:error")) == NULL &&
	    (e = find(c, "</stream:stream>")) == NULL)
		return (0);
	fprintf(stderr, "xgwbench: the gateway ended a stream: %.*s\n",
	    (int)(c->in.data + c->in.len - e > 400 ? 400 :
	    c->in.data + c->in.len - e), e);
	conn_kill(c, "stream error");
	return (1);
}

static void
xload_input(struct conn *c)
{
	if (stream_error(c))
		return;
	switch (c->state) {
	case XL_FEAT1:
		if (find(c, "</stream:features>") == NULL)
			return;
		drop_input(c);
		buf_printf(&c->out, "<starttls xmlns='" NS_STARTTLS "'/>");
		c->state = XL_PROCEED;
		break;
	case XL_PROCEED:
		if (find(c, "<proceed") == NULL)
			return;
		if (conn_starttls_client(c, cli_cfg[c->dom],
		    opt.local_domain) == -1)
			conn_kill(c, "TLS setup failed");
		c->state = XL_FEAT2;
		break;
	case XL_FEAT2:
		if (find(c, "</stream:features>") == NULL)
			return;
		if (find(c, "<mechanism>EXTERNAL</mechanism>") == NULL) {
			conn_kill(c, "the gateway offers no SASL EXTERNAL");
			return;
		}
		drop_input(c);
		buf_printf(&c->out, "<auth xmlns='" NS_SASL "' "
		    "mechanism='EXTERNAL'>=</auth>");
		c->state = XL_SUCCESS;
		break;
	case XL_SUCCESS:
		if (find(c, "<failure") != NULL) {
			conn_kill(c, "SASL EXTERNAL refused");
			return;
		}
		if (find(c, "<success") == NULL)
			return;
		drop_input(c);
		buf_printf(&c->out, STREAM_HEAD "from='%s' to='%s' "
		    "version='1.0'>", opt.domains[c->dom], opt.local_domain);
		c->state = XL_FEAT3;
		break;
	case XL_FEAT3:
		if (find(c, "<stream:features/>") == NULL &&
		    find(c, "</stream:features>") == NULL)
			return;
		drop_input(c);
		c->state = XL_OPEN;
		break;
	default:
		/* whitespace keepalives and nothing else is expected */
		drop_input(c);
		break;
	}
}

/* header, then features: the answer to a header from the gateway */
static int
xsink_header(struct conn *c, const char *features)
{
	char	*e, id[17];

	if ((e = header_end(c)) == NULL)
		return (0);
	attr_copy(c->in.data + c->in.off, e, "from", c->peer_from,
	    sizeof(c->peer_from));
	attr_copy(c->in.data + c->in.off, e, "to", c->peer_to,
	    sizeof(c->peer_to));
	buf_consume(&c->in, e + 1 - (c->in.data + c->in.off));
	snprintf(id, sizeof(id), "%08x%08x", arc4random(), arc4random());
	buf_printf(&c->out, STREAM_HEAD "from='%s' to='%s' id='%s' "
	    "version='1.0'><stream:features>%s</stream:features>",
	    c->peer_to, c->peer_from, id, features);
	return (1);
}

/* parse "RUN SEQ TS" */
static int
body_parse(const char *p, const char *end, unsigned int *run, uint32_t *seq,
    uint64_t *ts)
{
	char	 tmp[80];
	size_t	 n = end - p;

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return (sscanf(tmp, "%u %u %" SCNu64, run, seq, ts) == 3 ? 0 : -1);
}

/* one complete top-level element of a gateway's stream */
static void
xsink_element(struct conn *c, const char *e, size_t len)
{
	const char	*end = e + len, *tag, *b, *be;
	unsigned int	 run, seq;
	uint64_t	 ts;
	char		 idattr[64];

	if (len < 9 || memcmp(e, "<message", 8) != 0)
		return;
	if ((tag = memchr(e, '>', len)) == NULL)
		return;
	if (memmem(e, tag - e, "type='error'", 12) != NULL) {
		attr_copy(e, tag, "id", idattr, sizeof(idattr));
		if (sscanf(idattr, "b%u-%u", &run, &seq) == 2)
			record_error(run, seq);
		else
			fprintf(stderr, "xgwbench: error stanza: %.*s\n",
			    (int)len, e);
		return;
	}
	if ((b = memmem(tag, end - tag, "<body>", 6)) == NULL ||
	    (be = memmem(b, end - b, "</body>", 7)) == NULL ||
	    body_parse(b + 6, be, &run, &seq, &ts) == -1) {
		fprintf(stderr, "xgwbench: unexpected stanza: %.*s\n",
		    (int)(len > 300 ? 300 : len), e);
		return;
	}
	record_delivery(run, seq, ts);
}

/*
 * Cut the input into top-level elements.  c->scan and c->estart are
 * offsets from c->in.off.
 */
static void
xsink_scan(struct conn *c)
{
	char	*d = c->in.data + c->in.off, *q;
	size_t	 len = c->in.len - c->in.off, p = c->scan, done;
	char	 quote;

	while (p < len) {
		if (d[p] != '<') {
			if (c->depth == 0) {
				p++;
				continue;
			}
			if ((q = memchr(d + p, '<', len - p)) == NULL) {
				p = len;
				break;
			}
			p = q - d;
		}
		/* a tag: find its end outside quotes */
		quote = 0;
		for (q = d + p + 1; q < d + len; q++) {
			if (quote) {
				if (*q == quote)
					quote = 0;
			} else if (*q == '\'' || *q == '"')
				quote = *q;
			else if (*q == '>')
				break;
		}
		if (q >= d + len)
			break;
		if (c->depth == 0)
			c->estart = p;
		if (d[p + 1] == '/') {
			if (c->depth == 0) {
				conn_kill(c, "the gateway closed its stream");
				return;
			}
			if (--c->depth == 0)
				xsink_element(c, d + c->estart,
				    q + 1 - (d + c->estart));
		} else if (d[p + 1] == '?' || d[p + 1] == '!') {
			/* nothing of ours */
		} else if (q[-1] == '/') {
			if (c->depth == 0)
				xsink_element(c, d + p, q + 1 - (d + p));
		} else
			c->depth++;
		p = q + 1 - d;
	}
	done = c->depth == 0 ? p : c->estart;
	if (c->depth == 0 && p < len)
		done = p;
	buf_consume(&c->in, done);
	c->scan = p - done;
	c->estart = c->depth ? c->estart - done : 0;
}

static void
xsink_input(struct conn *c)
{
	switch (c->state) {
	case XS_HDR1:
		if (xsink_header(c, "<starttls xmlns='" NS_STARTTLS "'>"
		    "<required/></starttls>"))
			c->state = XS_STARTTLS;
		break;
	case XS_STARTTLS:
		if (find(c, "<starttls") == NULL)
			return;
		drop_input(c);
		buf_printf(&c->out, "<proceed xmlns='" NS_STARTTLS "'/>");
		/* a few bytes into an empty socket buffer: written at once */
		while (c->out.len > c->out.off) {
			ssize_t n = write(c->fd, c->out.data + c->out.off,
			    c->out.len - c->out.off);
			if (n <= 0) {
				conn_kill(c, "cannot write <proceed/>");
				return;
			}
			buf_consume(&c->out, n);
		}
		if (conn_starttls_server(c, srv) == -1)
			conn_kill(c, tls_error(srv));
		c->state = XS_HDR2;
		break;
	case XS_HDR2:
		if (xsink_header(c, "<mechanisms xmlns='" NS_SASL "'>"
		    "<mechanism>EXTERNAL</mechanism></mechanisms>"))
			c->state = XS_AUTH;
		break;
	case XS_AUTH:
		if (find(c, "</auth>") == NULL)
			return;
		drop_input(c);
		buf_printf(&c->out, "<success xmlns='" NS_SASL "'/>");
		c->state = XS_HDR3;
		break;
	case XS_HDR3:
		if (xsink_header(c, "")) {
			c->state = XS_OPEN;
			c->scan = c->depth = 0;
			xsink_scan(c);
		}
		break;
	default:
		xsink_scan(c);
		break;
	}
}

void
xmpp_input(struct conn *c)
{
	if (c->kind == K_XLOAD || c->kind == K_XIDLE)
		xload_input(c);
	else
		xsink_input(c);
}

void
xmpp_tls_done(struct conn *c)
{
	if (c->kind == K_XLOAD || c->kind == K_XIDLE)
		buf_printf(&c->out, STREAM_HEAD "from='%s' to='%s' "
		    "version='1.0'>", opt.domains[c->dom], opt.local_domain);
	/* the sink waits for the gateway's header */
}

/* one message from a partner's user to a local user */
void
xmpp_send(uint32_t seq)
{
	struct conn	*c;
	char		 body[64];
	int		 n;

	if ((c = conn_next(K_XLOAD, XL_OPEN, &rr)) == NULL)
		fatalx_("no open stream to the gateway");
	n = snprintf(body, sizeof(body), "%u %u %" PRIu64 " ", cur->id, seq,
	    cur->t_sent[seq]);
	buf_printf(&c->out, "<message type='chat' from='alice@%s/bench' "
	    "to='bob@%s' id='b%u-%u'><body>%s%.*s</body></message>",
	    opt.domains[c->dom], opt.local_domain, cur->id, seq, body,
	    (int)(opt.bodylen > (size_t)n ? opt.bodylen - n : 0), pad);
}
