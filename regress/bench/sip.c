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
 * The enterprise SIP proxy, both ways: it answers every MESSAGE the
 * gateway sends 200 at once (the sink of XMPP->SIP), and it sends
 * MESSAGEs to the gateway's listener, pipelined on TCP (the load of
 * SIP->XMPP), matching each final response by its Call-ID.  The parser
 * knows only what the gateway writes: one message after another, each
 * with a Content-Length.
 */

#include <sys/types.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xgwbench.h"

#define MAXVIA		8

struct span {
	const char	*p;
	size_t		 n;
};

struct sipmsg {
	struct span	 first;
	struct span	 via[MAXVIA];
	int		 nvia;
	struct span	 from, to, callid, cseq;
	const char	*body;
	size_t		 bodylen;
};

static int	 rr;
static char	 pad[4096];

static int
hdr_is(const struct span *name, const char *lng, const char *cmp)
{
	return ((name->n == strlen(lng) &&
	    strncasecmp(name->p, lng, name->n) == 0) ||
	    (cmp != NULL && name->n == 1 && tolower((unsigned char)name->p[0]) == *cmp));
}

/*
 * The message at the head of the input: its length, 0 while it is
 * incomplete, -1 if it cannot be framed.
 */
static ssize_t
sip_frame(struct conn *c, struct sipmsg *m)
{
	const char	*d = c->in.data + c->in.off, *e, *l, *nl, *colon;
	size_t		 len = c->in.len - c->in.off, clen = 0;
	struct span	 name, val;
	int		 have_clen = 0;

	memset(m, 0, sizeof(*m));
	/* keepalive CRLFs between messages */
	while (len >= 2 && d[0] == '\r' && d[1] == '\n') {
		buf_consume(&c->in, 2);
		d += 2;
		len -= 2;
	}
	if ((e = memmem(d, len, "\r\n\r\n", 4)) == NULL)
		return (len > 65536 ? -1 : 0);
	for (l = d; l < e + 2; l = nl + 2) {
		nl = memmem(l, e + 2 - l, "\r\n", 2);
		if (l == d) {
			m->first.p = l;
			m->first.n = nl - l;
			continue;
		}
		if ((colon = memchr(l, ':', nl - l)) == NULL)
			return (-1);
		name.p = l;
		name.n = colon - l;
		while (name.n > 0 && name.p[name.n - 1] == ' ')
			name.n--;
		val.p = colon + 1;
		while (val.p < nl && (*val.p == ' ' || *val.p == '\t'))
			val.p++;
		val.n = nl - val.p;
		if (hdr_is(&name, "via", "v")) {
			if (m->nvia < MAXVIA)
				m->via[m->nvia++] = val;
		} else if (hdr_is(&name, "from", "f"))
			m->from = val;
		else if (hdr_is(&name, "to", "t"))
			m->to = val;
		else if (hdr_is(&name, "call-id", "i"))
			m->callid = val;
		else if (hdr_is(&name, "cseq", NULL))
			m->cseq = val;
		else if (hdr_is(&name, "content-length", "l")) {
			clen = strtoul(val.p, NULL, 10);
			have_clen = 1;
		}
	}
	if (!have_clen || clen > 65536)
		return (-1);
	if ((size_t)(e + 4 - d) + clen > len)
		return (0);
	m->body = e + 4;
	m->bodylen = clen;
	return (e + 4 - d + clen);
}

/* a MESSAGE from the gateway: 200 at once, and the body's latency */
static void
ssink_request(struct conn *c, struct sipmsg *m)
{
	unsigned int	 run, seq;
	uint64_t	 ts;
	char		 tmp[80];
	size_t		 n;
	int		 i;

	buf_printf(&c->out, "SIP/2.0 200 OK\r\n");
	for (i = 0; i < m->nvia; i++)
		buf_printf(&c->out, "Via: %.*s\r\n", (int)m->via[i].n,
		    m->via[i].p);
	buf_printf(&c->out, "From: %.*s\r\nTo: %.*s;tag=bench\r\n"
	    "Call-ID: %.*s\r\nCSeq: %.*s\r\nContent-Length: 0\r\n\r\n",
	    (int)m->from.n, m->from.p, (int)m->to.n, m->to.p,
	    (int)m->callid.n, m->callid.p, (int)m->cseq.n, m->cseq.p);
	if (m->first.n < 8 || memcmp(m->first.p, "MESSAGE ", 8) != 0)
		return;
	n = m->bodylen < sizeof(tmp) - 1 ? m->bodylen : sizeof(tmp) - 1;
	memcpy(tmp, m->body, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%u %u %" SCNu64, &run, &seq, &ts) == 3)
		record_delivery(run, seq, ts);
	else
		fprintf(stderr, "xgwbench: MESSAGE with body '%s'\n", tmp);
}

/* a response from the gateway to one of our MESSAGEs */
static void
sload_response(struct sipmsg *m)
{
	unsigned int	 run, seq;
	char		 tmp[64];
	int		 code;

	if (m->first.n < 12 || memcmp(m->first.p, "SIP/2.0 ", 8) != 0)
		return;		/* a request: not expected here */
	code = atoi(m->first.p + 8);
	if (code < 200)
		return;
	snprintf(tmp, sizeof(tmp), "%.*s", (int)m->callid.n, m->callid.p);
	if (sscanf(tmp, "%u-%u@bench", &run, &seq) != 2) {
		fprintf(stderr, "xgwbench: response for Call-ID '%s'\n", tmp);
		return;
	}
	if (code >= 300)
		fprintf(stderr, "xgwbench: MESSAGE %u-%u: %.*s\n", run, seq,
		    (int)m->first.n, m->first.p);
	record_final(run, seq, code);
}

void
sip_input(struct conn *c)
{
	struct sipmsg	 m;
	ssize_t		 n;

	while (!c->dead && c->in.len > c->in.off) {
		if ((n = sip_frame(c, &m)) == -1) {
			conn_kill(c, "SIP framing lost");
			return;
		}
		if (n == 0)
			return;
		if (c->kind == K_SSINK)
			ssink_request(c, &m);
		else
			sload_response(&m);
		buf_consume(&c->in, n);
	}
}

int
sip_ready(void)
{
	return (conn_count(K_SLOAD, -1) == opt.sipconns);
}

/* one MESSAGE from a local user to a partner's user */
void
sip_send(uint32_t seq)
{
	struct conn	*c;
	const char	*dom = opt.domains[seq % opt.ndomains];
	char		 body[64];
	int		 n;
	size_t		 blen;

	if (pad[0] == '\0')
		memset(pad, 'x', sizeof(pad));
	if ((c = conn_next(K_SLOAD, 0, &rr)) == NULL)
		fatalx_("no SIP connection to the gateway");
	n = snprintf(body, sizeof(body), "%u %u %" PRIu64 " ", cur->id, seq,
	    cur->t_sent[seq]);
	blen = opt.bodylen > (size_t)n ? opt.bodylen : (size_t)n;
	buf_printf(&c->out, "MESSAGE sip:bob@%s SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK-%u-%u\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@%s>;tag=%u\r\n"
	    "To: <sip:bob@%s>\r\n"
	    "Call-ID: %u-%u@bench\r\n"
	    "CSeq: 1 MESSAGE\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n%s%.*s",
	    dom, opt.proxy_addr, opt.proxy_port, cur->id, seq,
	    opt.local_domain, seq, dom, cur->id, seq, blen, body,
	    (int)(blen - n), pad);
}
