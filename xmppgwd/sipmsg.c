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
 * SIP message parser for stream transports (RFC 3261 sections 7, 20
 * and 25).  Strict on purpose: whatever two parsers could read in two
 * ways (a header given twice, a name spelled with white space before the
 * colon, a bare CR or LF, a NUL) is refused, so that the gateway and the
 * proxy behind it always agree on who sent what (CVE-2018-14767,
 * CVE-2020-28361, GHSA-8j9p-hpfg-5cg3).
 *
 * Framing: the input may begin with CRLFs (RFC 5626 keepalives); they are
 * skipped and counted in *used.  When nothing but keepalives is there the
 * answer is 0 with *used set to the CRLFs the caller may drop.  All limits
 * count from the start of the buffer, keepalives included, so that 0 is
 * never the answer for SIP_MAX_MESSAGE bytes or more.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipmsg.h"

#define NAME_ROOM	24	/* more than the longest canonical name */

enum hfield {
	HF_OTHER,
	HF_FROM,
	HF_TO,
	HF_CALLID,
	HF_CSEQ,
	HF_CLEN,
	HF_CTYPE,
	HF_CLANG,
	HF_SUBJECT,
	HF_MAXFWD,
	HF_VIA,
	HF_COUNT
};

struct hdrdef {
	const char	*name;
	size_t		 len;		/* of name */
	char		 compact;
	enum hfield	 field;
};

#define HDR(name, compact, field)	\
	{ name, sizeof(name) - 1, compact, field }

/*
 * Compact forms from the IANA SIP header registry, not only the ten of
 * RFC 3261: "o" is Event, which the presence code looks up.
 */
static const struct hdrdef hdrdefs[] = {
	HDR("Accept",		0,	HF_OTHER),
	HDR("Accept-Contact",	'a',	HF_OTHER),
	HDR("Accept-Encoding",	0,	HF_OTHER),
	HDR("Accept-Language",	0,	HF_OTHER),
	HDR("Alert-Info",	0,	HF_OTHER),
	HDR("Allow",		0,	HF_OTHER),
	HDR("Allow-Events",	'u',	HF_OTHER),
	HDR("Authentication-Info", 0,	HF_OTHER),
	HDR("Authorization",	0,	HF_OTHER),
	HDR("CSeq",		0,	HF_CSEQ),
	HDR("Call-ID",		'i',	HF_CALLID),
	HDR("Call-Info",	0,	HF_OTHER),
	HDR("Contact",		'm',	HF_OTHER),
	HDR("Content-Disposition", 0,	HF_OTHER),
	HDR("Content-Encoding",	'e',	HF_OTHER),
	HDR("Content-Language",	0,	HF_CLANG),
	HDR("Content-Length",	'l',	HF_CLEN),
	HDR("Content-Type",	'c',	HF_CTYPE),
	HDR("Date",		0,	HF_OTHER),
	HDR("Error-Info",	0,	HF_OTHER),
	HDR("Event",		'o',	HF_OTHER),
	HDR("Expires",		0,	HF_OTHER),
	HDR("From",		'f',	HF_FROM),
	HDR("Identity",		'y',	HF_OTHER),
	HDR("Identity-Info",	'n',	HF_OTHER),
	HDR("In-Reply-To",	0,	HF_OTHER),
	HDR("MIME-Version",	0,	HF_OTHER),
	HDR("Max-Forwards",	0,	HF_MAXFWD),
	HDR("Min-Expires",	0,	HF_OTHER),
	HDR("Organization",	0,	HF_OTHER),
	HDR("Priority",		0,	HF_OTHER),
	HDR("Proxy-Authenticate", 0,	HF_OTHER),
	HDR("Proxy-Authorization", 0,	HF_OTHER),
	HDR("Proxy-Require",	0,	HF_OTHER),
	HDR("Record-Route",	0,	HF_OTHER),
	HDR("Refer-To",		'r',	HF_OTHER),
	HDR("Referred-By",	'b',	HF_OTHER),
	HDR("Reject-Contact",	'j',	HF_OTHER),
	HDR("Reply-To",		0,	HF_OTHER),
	HDR("Request-Disposition", 'd',	HF_OTHER),
	HDR("Require",		0,	HF_OTHER),
	HDR("Retry-After",	0,	HF_OTHER),
	HDR("Route",		0,	HF_OTHER),
	HDR("Server",		0,	HF_OTHER),
	HDR("Session-Expires",	'x',	HF_OTHER),
	HDR("Subject",		's',	HF_SUBJECT),
	HDR("Subscription-State", 0,	HF_OTHER),
	HDR("Supported",	'k',	HF_OTHER),
	HDR("Timestamp",	0,	HF_OTHER),
	HDR("To",		't',	HF_TO),
	HDR("Unsupported",	0,	HF_OTHER),
	HDR("User-Agent",	0,	HF_OTHER),
	HDR("Via",		'v',	HF_VIA),
	HDR("WWW-Authenticate",	0,	HF_OTHER),
	HDR("Warning",		0,	HF_OTHER),
};

struct pstate {
	struct sipmsg	*m;
	const char	*p;		/* the message, keepalives skipped */
	size_t		 n;
	int		*code;
	char		*err;
	size_t		 errlen;
	size_t		 clen;
	size_t		 aoff;		/* bump allocation in m->buf */
	size_t		 asize;
	int		 seen[HF_COUNT];
};

static int	 is_token(unsigned char);
static size_t	 line_end(const char *, size_t, size_t);
static int	 is_wsp(unsigned char);
static int	 is_ctl(unsigned char);
static size_t	 span_words(const char *, size_t);
static size_t	 span_above_cr(const char *, size_t);
static size_t	 span_no_ctl(const char *, size_t);
static int	 lower(int);
static const struct hdrdef *hdr_lookup(const char *, size_t);
static int	 perr(struct pstate *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static char	*aput(struct pstate *, const char *, size_t);
static int	 parse_start(struct pstate *, const char *, size_t);
static int	 parse_headers(struct pstate *, size_t);
static int	 parse_header(struct pstate *, const struct hdrdef *,
		    const char *);
static int	 parse_cseq(struct pstate *, const char *);
static int	 parse_number(const char *, size_t, uint64_t, uint64_t *);
static int	 split_via(struct pstate *, const char *);
static const char *skip_quoted(const char *);
static const char *skip_wsp(const char *);
static size_t	 scheme_len(const char *, size_t);

/* RFC 3261 token: alphanumerics and - . ! % * _ + ` ' ~ */
static const unsigned char token_chars[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1,
	['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1
};

static int
is_token(unsigned char c)
{
	return (token_chars[c]);
}

/*
 * The CR that ends the line starting at from: the header section, which
 * ends in an empty line, has one.
 */
static size_t
line_end(const char *p, size_t from, size_t hdrlen)
{
	return ((const char *)memchr(p + from, '\r', hdrlen - from) - p);
}

static int
is_wsp(unsigned char c)
{
	return (c == ' ' || c == '\t');
}

static int
is_ctl(unsigned char c)
{
	return ((c < 0x20 && c != '\t') || c == 0x7f);
}

/*
 * Eight bytes at a time: the length of the leading words of p[0..len)
 * that hold no control character (no byte below 0x20, none 0x7f), so
 * that a scan looks at single bytes only from the first word that
 * holds one.  A byte below n, for n <= 128, sets its top bit in
 * (w - n * ONES) & ~w & HIGHS.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL
#define BELOW(w, n)	(((w) - (n) * ONES) & ~(w) & HIGHS)

static size_t
span_words(const char *p, size_t len)
{
	uint64_t	 w;
	size_t		 i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		if (BELOW(w, 0x20) != 0 || BELOW(w ^ (0x7f * ONES), 1) != 0)
			break;
	}
	return (i);
}

/* the length of the run of p[0..len) with no byte at or below CR */
static size_t
span_above_cr(const char *p, size_t len)
{
	size_t	 i = span_words(p, len);

	while (i < len && (unsigned char)p[i] > '\r')
		i++;
	return (i);
}

/* the length of the run of p[0..len) with no control character */
static size_t
span_no_ctl(const char *p, size_t len)
{
	size_t	 i = span_words(p, len);

	while (i < len && !is_ctl((unsigned char)p[i]))
		i++;
	return (i);
}

/* ASCII only: the locale must not change what a header name is */
static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

#define NDEFS	(sizeof(hdrdefs) / sizeof(hdrdefs[0]))

/*
 * Names are looked up among those of their first letter: head[] and
 * next[] chain them (index + 1, 0 ends), compact[] has the one-letter
 * forms.  Built at the first call.
 */
static const struct hdrdef *
hdr_lookup(const char *name, size_t len)
{
	static unsigned char	 head[26], next[NDEFS], compact[26];
	static int		 ready;
	const struct hdrdef	*d;
	size_t			 i;
	int			 c;

	if (!ready) {
		for (i = NDEFS; i-- > 0; ) {
			c = lower((unsigned char)hdrdefs[i].name[0]) - 'a';
			next[i] = head[c];
			head[c] = i + 1;
			if (hdrdefs[i].compact != 0)
				compact[hdrdefs[i].compact - 'a'] = i + 1;
		}
		ready = 1;
	}
	c = lower((unsigned char)name[0]);
	if (c < 'a' || c > 'z')
		return (NULL);
	c -= 'a';
	if (len == 1)
		return (compact[c] != 0 ? &hdrdefs[compact[c] - 1] : NULL);
	for (i = head[c]; i != 0; i = next[i - 1]) {
		d = &hdrdefs[i - 1];
		if (d->len == len && strncasecmp(d->name, name, len) == 0)
			return (d);
	}
	return (NULL);
}

static int
perr(struct pstate *ps, int code, const char *fmt, ...)
{
	va_list	 ap;

	*ps->code = code;
	if (ps->err != NULL && ps->errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* copy s[0..len) and a NUL into m->buf; sized in advance, checked anyway */
static char *
aput(struct pstate *ps, const char *s, size_t len)
{
	char	*d;

	if (len >= ps->asize - ps->aoff)
		return (NULL);
	d = ps->m->buf + ps->aoff;
	memcpy(d, s, len);
	d[len] = '\0';
	ps->aoff += len + 1;
	return (d);
}

int
sipmsg_parse(struct sipmsg *m, const char *buf, size_t len, size_t *used,
    int *code, char *err, size_t errlen)
{
	struct pstate	 ps;
	size_t		 skip, i, lim, hdrlen, bodyroom, clen;
	int		 r;

	memset(m, 0, sizeof(*m));
	m->max_forwards = -1;
	*used = 0;
	*code = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&ps, 0, sizeof(ps));
	ps.m = m;
	ps.code = code;
	ps.err = err;
	ps.errlen = errlen;

	for (skip = 0; skip + 1 < len && buf[skip] == '\r' &&
	    buf[skip + 1] == '\n'; skip += 2)
		;
	ps.p = buf + skip;
	ps.n = len - skip;
	if (skip >= SIP_MAX_MESSAGE - 1 || (len >= SIP_MAX_MESSAGE &&
	    (ps.n == 0 || (ps.n == 1 && ps.p[0] == '\r'))))
		return (perr(&ps, 413, "too many keepalives"));
	/* on 0 the keepalives may go: they are not part of what follows */
	*used = skip;
	if (ps.n == 0 || (ps.n == 1 && ps.p[0] == '\r'))
		return (0);

	/*
	 * Find the empty line, refusing on the way what can never become
	 * valid: a whole message, keepalives included, must stay below
	 * SIP_MAX_MESSAGE, so the header section may take at most lim bytes.
	 */
	lim = SIP_MAX_MESSAGE - 1 - skip;
	hdrlen = 0;
	for (i = 0; i < ps.n && i < lim; i++) {
		/* every byte above CR needs no look */
		i += span_above_cr(ps.p + i, (ps.n < lim ? ps.n : lim) - i);
		if (i == ps.n || i == lim)
			break;
		if (ps.p[i] == '\0')
			return (perr(&ps, 400, "NUL in header section"));
		if (ps.p[i] == '\r' && i + 1 < ps.n && ps.p[i + 1] != '\n')
			return (perr(&ps, 400, "bare CR in header section"));
		if (ps.p[i] == '\n' && (i == 0 || ps.p[i - 1] != '\r'))
			return (perr(&ps, 400, "bare LF in header section"));
		if (ps.p[i] == '\n' && i >= 3 && ps.p[i - 2] == '\n') {
			hdrlen = i + 1;
			break;
		}
	}
	if (hdrlen == 0) {
		if (ps.n >= lim)
			return (perr(&ps, 413, "header section too long"));
		return (0);
	}

	/*
	 * One allocation holds every string: header names (canonical ones
	 * may be longer than what was sent), values, the Via elements
	 * again, then the body, which cannot be longer than what is there.
	 */
	bodyroom = ps.n - hdrlen;
	if (bodyroom > SIP_MAX_MESSAGE)
		bodyroom = SIP_MAX_MESSAGE;
	ps.asize = 2 * hdrlen + SIP_MAX_HEADERS * NAME_ROOM + bodyroom + 2;
	if ((m->buf = malloc(ps.asize)) == NULL) {
		r = perr(&ps, 500, "out of memory");
		goto fail;
	}

	if ((r = parse_headers(&ps, hdrlen)) != 1)
		goto fail;
	clen = ps.clen;
	if (clen >= SIP_MAX_MESSAGE - skip - hdrlen) {
		r = perr(&ps, 413, "Content-Length %zu too large", clen);
		goto fail;
	}
	if (clen > ps.n - hdrlen) {
		r = 0;
		goto fail;
	}
	if ((m->body = aput(&ps, ps.p + hdrlen, clen)) == NULL) {
		r = perr(&ps, 500, "body does not fit");
		goto fail;
	}
	m->bodylen = clen;
	*used = skip + hdrlen + clen;
	return (1);

 fail:
	/* neither 0 nor -1 leaves anything for the caller to free */
	free(m->buf);
	memset(m, 0, sizeof(*m));
	m->max_forwards = -1;
	return (r);
}

void
sipmsg_free(struct sipmsg *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
	m->max_forwards = -1;
}

/* the start line: s[0..len) without its CRLF */
static int
parse_start(struct pstate *ps, const char *s, size_t len)
{
	struct sipmsg	*m = ps->m;
	const char	*e = s + len, *t, *v;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)s[i]))
			return (perr(ps, 400, "control character in start "
			    "line"));

	if (len >= 4 && strncasecmp(s, "SIP/", 4) == 0) {
		m->request = 0;
		if (len < 8 || strncasecmp(s, "SIP/2.0 ", 8) != 0)
			return (perr(ps, 505, "SIP version not supported"));
		t = s + 8;
		if (e - t < 4 || t[0] < '1' || t[0] > '6' ||
		    t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9' ||
		    t[3] != ' ')
			return (perr(ps, 400, "malformed status line"));
		m->status = (t[0] - '0') * 100 + (t[1] - '0') * 10 +
		    (t[2] - '0');
		t += 4;
		/* the reason phrase is for humans: a long one is cut */
		i = e - t;
		if (i >= sizeof(m->reason))
			i = sizeof(m->reason) - 1;
		memcpy(m->reason, t, i);
		m->reason[i] = '\0';
		return (1);
	}

	m->request = 1;
	for (t = s; t < e && is_token((unsigned char)*t); t++)
		;
	if (t == s || t == e || *t != ' ')
		return (perr(ps, 400, "malformed request line"));
	if ((size_t)(t - s) >= sizeof(m->method))
		return (perr(ps, 501, "method too long"));
	memcpy(m->method, s, t - s);
	m->method[t - s] = '\0';

	/* Request-URI: a scheme, a colon and no white space */
	v = ++t;
	while (t < e && *t != ' ')
		t++;
	if (t == v || t == e)
		return (perr(ps, 400, "malformed request line"));
	if ((size_t)(t - v) >= sizeof(m->uri))
		return (perr(ps, 414, "Request-URI too long"));
	if (scheme_len(v, t - v) == 0)
		return (perr(ps, 400, "malformed Request-URI"));
	memcpy(m->uri, v, t - v);
	m->uri[t - v] = '\0';

	t++;
	if (e - t == 7 && strncasecmp(t, "SIP/2.0", 7) == 0)
		return (1);
	if (e - t >= 4 && strncasecmp(t, "SIP/", 4) == 0 &&
	    memchr(t, ' ', e - t) == NULL)
		return (perr(ps, 505, "SIP version not supported"));
	return (perr(ps, 400, "malformed request line"));
}

/*
 * The header section p[0..hdrlen) ends with CRLF CRLF and holds no NUL,
 * bare CR or bare LF: every line ends with CRLF.
 */
static int
parse_headers(struct pstate *ps, size_t hdrlen)
{
	static const enum hfield need[] = {
		HF_FROM, HF_TO, HF_CALLID, HF_CSEQ, HF_CLEN
	};
	struct sipmsg		*m = ps->m;
	const struct hdrdef	*def;
	const char		*p = ps->p, *name;
	size_t			 pos, e, i, nlen, vstart, w;
	char			*d;
	int			 r;

	e = line_end(p, 0, hdrlen);
	if ((r = parse_start(ps, p, e)) != 1)
		return (r);
	pos = e + 2;

	while (pos < hdrlen && p[pos] != '\r') {
		if (is_wsp((unsigned char)p[pos]))
			return (perr(ps, 400, "continuation line without a "
			    "header"));
		if (m->nheaders >= SIP_MAX_HEADERS)
			return (perr(ps, 400, "too many headers"));
		e = line_end(p, pos, hdrlen);
		for (i = pos; i < e && is_token((unsigned char)p[i]); i++)
			;
		nlen = i - pos;
		/* white space before the colon is legal (HCOLON) */
		while (i < e && is_wsp((unsigned char)p[i]))
			i++;
		if (nlen == 0 || i == e || p[i] != ':')
			return (perr(ps, 400, "malformed header line"));
		i++;

		def = hdr_lookup(p + pos, nlen);
		if ((name = aput(ps, def != NULL ? def->name : p + pos,
		    def != NULL ? def->len : nlen)) == NULL)
			return (perr(ps, 500, "headers do not fit"));

		/*
		 * The value, unfolded: each CRLF with the white space
		 * around it becomes one SP, leading and trailing white
		 * space goes.  It is built in place at the arena's end.
		 */
		vstart = ps->aoff;
		w = 0;
		for (;;) {
			while (i < e && is_wsp((unsigned char)p[i]))
				i++;
			if (span_no_ctl(p + i, e - i) < e - i)
				return (perr(ps, 400, "control "
				    "character in %s header", name));
			if (e > i && vstart + w + (e - i) >= ps->asize)
				return (perr(ps, 500, "headers do not fit"));
			memcpy(m->buf + vstart + w, p + i, e - i);
			w += e - i;
			i = e;
			pos = e + 2;
			if (!is_wsp((unsigned char)p[pos]))
				break;
			while (w > 0 && is_wsp((unsigned char)
			    m->buf[vstart + w - 1]))
				w--;
			if (w > 0) {
				if (vstart + w + 1 >= ps->asize)
					return (perr(ps, 500, "headers do "
					    "not fit"));
				m->buf[vstart + w++] = ' ';
			}
			i = pos;
			e = line_end(p, pos, hdrlen);
		}
		while (w > 0 && is_wsp((unsigned char)m->buf[vstart + w - 1]))
			w--;
		d = m->buf + vstart;
		d[w] = '\0';
		ps->aoff += w + 1;

		m->headers[m->nheaders].name = name;
		m->headers[m->nheaders].value = d;
		m->nheaders++;
		if (def != NULL && (r = parse_header(ps, def, d)) != 1)
			return (r);
	}

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ps->seen[need[i]])
			continue;
		for (def = hdrdefs; def->field != need[i]; def++)
			;
		return (perr(ps, 400, "missing %s header", def->name));
	}
	if (m->request && m->nvia == 0)
		return (perr(ps, 400, "missing Via header"));
	if (m->request && strcmp(m->cseq_method, m->method) != 0)
		return (perr(ps, 400, "CSeq method %s does not match %s",
		    m->cseq_method, m->method));
	return (1);
}

/* digits only, no sign, no white space; *out capped at max + 1 */
static int
parse_number(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		n = n * 10 + (s[i] - '0');
		if (n > max)
			n = max + 1;
	}
	*out = n;
	return (0);
}

static int
parse_header(struct pstate *ps, const struct hdrdef *def, const char *v)
{
	struct sipmsg	*m = ps->m;
	uint64_t	 n;

	/*
	 * One value for what decides identity, ordering and framing;
	 * duplicates are where two parsers disagree.
	 */
	if (def->field != HF_OTHER && def->field != HF_VIA &&
	    def->field != HF_CLANG) {
		if (ps->seen[def->field])
			return (perr(ps, 400, "duplicate %s header",
			    def->name));
	}
	ps->seen[def->field] = 1;

	switch (def->field) {
	case HF_FROM:
	case HF_TO:
	case HF_CALLID:
		if (*v == '\0')
			return (perr(ps, 400, "empty %s header", def->name));
		if (def->field == HF_CALLID && strpbrk(v, " \t") != NULL)
			return (perr(ps, 400, "malformed Call-ID header"));
		if (def->field == HF_FROM)
			m->from = v;
		else if (def->field == HF_TO)
			m->to = v;
		else
			m->call_id = v;
		break;
	case HF_CSEQ:
		return (parse_cseq(ps, v));
	case HF_CLEN:
		if (parse_number(v, strlen(v), SIP_MAX_MESSAGE, &n) == -1)
			return (perr(ps, 400, "malformed Content-Length"));
		if (n >= SIP_MAX_MESSAGE)
			return (perr(ps, 413, "Content-Length too large"));
		ps->clen = n;
		break;
	case HF_CTYPE:
		m->content_type = v;
		break;
	case HF_CLANG:
		if (m->content_language == NULL)
			m->content_language = v;
		break;
	case HF_SUBJECT:
		m->subject = v;
		break;
	case HF_MAXFWD:
		if (parse_number(v, strlen(v), 255, &n) == -1 || n > 255)
			return (perr(ps, 400, "malformed Max-Forwards"));
		m->max_forwards = (int)n;
		break;
	case HF_VIA:
		return (split_via(ps, v));
	default:
		break;
	}
	return (1);
}

/* CSeq = 1*DIGIT LWS Method, the number below 2^31 */
static int
parse_cseq(struct pstate *ps, const char *v)
{
	struct sipmsg	*m = ps->m;
	const char	*t;
	uint64_t	 n;
	size_t		 len;

	for (t = v; *t >= '0' && *t <= '9'; t++)
		;
	if (t == v || !is_wsp((unsigned char)*t) ||
	    parse_number(v, t - v, 0x7fffffff, &n) == -1 || n > 0x7fffffff)
		return (perr(ps, 400, "malformed CSeq header"));
	m->cseq = (uint32_t)n;
	t = skip_wsp(t);
	for (len = 0; is_token((unsigned char)t[len]); len++)
		;
	if (len == 0 || t[len] != '\0' || len >= sizeof(m->cseq_method))
		return (perr(ps, 400, "malformed CSeq header"));
	memcpy(m->cseq_method, t, len);
	m->cseq_method[len] = '\0';
	return (1);
}

/* the length of "scheme" in "scheme:rest" (rest non-empty), else 0 */
static size_t
scheme_len(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			continue;
		if (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '-' || s[i] == '.'))
			continue;
		break;
	}
	if (i == 0 || i + 1 >= len || s[i] != ':')
		return (0);
	return (i);
}

static const char *
skip_wsp(const char *s)
{
	while (is_wsp((unsigned char)*s))
		s++;
	return (s);
}

/* s points at an opening quote: the byte after the closing one, or NULL */
static const char *
skip_quoted(const char *s)
{
	for (s++; *s != '\0'; s++) {
		if (*s == '\\') {
			if (*++s == '\0')
				return (NULL);
		} else if (*s == '"')
			return (s + 1);
	}
	return (NULL);
}

/* Via values are comma lists; commas in quotes or <> do not split */
static int
split_via(struct pstate *ps, const char *v)
{
	struct sipmsg	*m = ps->m;
	const char	*s = v, *t, *e;
	int		 ang = 0;

	for (t = v;; ) {
		if (*t == '"') {
			if ((t = skip_quoted(t)) == NULL)
				return (perr(ps, 400, "unterminated quoted "
				    "string in Via header"));
			continue;
		}
		if (*t == '<')
			ang = 1;
		else if (*t == '>')
			ang = 0;
		if (*t != '\0' && (*t != ',' || ang)) {
			t++;
			continue;
		}
		s = skip_wsp(s);
		for (e = t; e > s && is_wsp((unsigned char)e[-1]); e--)
			;
		if (e == s)
			return (perr(ps, 400, "empty Via value"));
		if (m->nvia >= SIP_MAX_VIA)
			return (perr(ps, 400, "too many Via values"));
		if ((m->via[m->nvia] = aput(ps, s, e - s)) == NULL)
			return (perr(ps, 500, "headers do not fit"));
		m->nvia++;
		if (*t == '\0')
			break;
		s = ++t;
	}
	return (1);
}

const char *
sipmsg_header(const struct sipmsg *m, const char *name)
{
	const struct hdrdef	*def;
	const char		*want;
	size_t			 i;

	def = hdr_lookup(name, strlen(name));
	want = def != NULL ? def->name : name;
	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, want) == 0)
			return (m->headers[i].value);
	return (NULL);
}

int
sipmsg_param(const char *value, const char *name, char *out, size_t len)
{
	const char	*t, *n, *v, *ve;
	size_t		 nlen, vlen;
	int		 ang = 0, quoted;

	if (value == NULL || name == NULL || out == NULL || len == 0)
		return (-1);
	for (t = value; *t != '\0'; ) {
		if (*t == '"') {
			if ((t = skip_quoted(t)) == NULL)
				return (-1);
			continue;
		}
		if (*t == '<')
			ang = 1;
		else if (*t == '>')
			ang = 0;
		/* a comma ends the first element of a list */
		if (!ang && *t == ',')
			return (-1);
		if (ang || *t != ';') {
			t++;
			continue;
		}

		n = skip_wsp(t + 1);
		for (nlen = 0; is_token((unsigned char)n[nlen]); nlen++)
			;
		t = skip_wsp(n + nlen);
		v = ve = t;
		quoted = 0;
		if (*t == '=') {
			v = skip_wsp(t + 1);
			if (*v == '"') {
				if ((t = skip_quoted(v)) == NULL)
					return (-1);
				v++;
				ve = t - 1;
				quoted = 1;
			} else {
				for (ve = v; *ve != '\0' && *ve != ';' &&
				    *ve != ',' && *ve != '"' && *ve != '<' &&
				    !is_wsp((unsigned char)*ve); ve++)
					;
				t = ve;
			}
		}
		if (nlen == 0 || strlen(name) != nlen ||
		    strncasecmp(n, name, nlen) != 0)
			continue;
		/* a quoted value is given unquoted and unescaped */
		for (vlen = 0; v < ve; v++) {
			if (quoted && *v == '\\')
				v++;
			if (vlen + 1 >= len)
				return (-1);
			out[vlen++] = *v;
		}
		out[vlen] = '\0';
		return (0);
	}
	return (-1);
}

int
sipmsg_addr_uri(const char *value, char *out, size_t len)
{
	const char	*t, *u, *e;
	size_t		 i;

	if (value == NULL || out == NULL || len == 0)
		return (-1);
	t = skip_wsp(value);
	if (*t == '"') {
		/* name-addr with a quoted display name: <uri> must follow */
		if ((t = skip_quoted(t)) == NULL)
			return (-1);
		t = skip_wsp(t);
		if (*t != '<')
			return (-1);
	} else {
		/* a token display name, or no display name at all */
		for (e = t; is_token((unsigned char)*e) ||
		    is_wsp((unsigned char)*e); e++)
			;
		if (*e == '<')
			t = e;
	}
	if (*t == '<') {
		u = ++t;
		if ((e = strchr(u, '>')) == NULL)
			return (-1);
		t = skip_wsp(e + 1);
		if (*t != '\0' && *t != ';')
			return (-1);
	} else {
		/* addr-spec: what follows ';' are header parameters */
		u = t;
		for (e = u; *e != '\0' && *e != ';' && *e != ',' &&
		    !is_wsp((unsigned char)*e); e++)
			;
		if (*skip_wsp(e) != '\0' && *skip_wsp(e) != ';')
			return (-1);
	}
	for (i = 0; u + i < e; i++)
		if (is_ctl((unsigned char)u[i]) || u[i] == ' ' ||
		    u[i] == '<' || u[i] == '>' || u[i] == '"')
			return (-1);
	if (scheme_len(u, e - u) == 0)
		return (-1);
	if ((size_t)(e - u) >= len)
		return (-1);
	memcpy(out, u, e - u);
	out[e - u] = '\0';
	return (0);
}

int
sipmsg_media_type(const char *value, char *out, size_t len)
{
	const char	*t, *s;
	size_t		 i, tl, sl;

	if (value == NULL || out == NULL || len == 0)
		return (-1);
	t = skip_wsp(value);
	for (tl = 0; is_token((unsigned char)t[tl]); tl++)
		;
	if (tl == 0 || t[tl] != '/')
		return (-1);
	s = t + tl + 1;
	for (sl = 0; is_token((unsigned char)s[sl]); sl++)
		;
	if (sl == 0)
		return (-1);
	if (*skip_wsp(s + sl) != '\0' && *skip_wsp(s + sl) != ';')
		return (-1);
	if (tl + 1 + sl >= len)
		return (-1);
	for (i = 0; i < tl + 1 + sl; i++)
		out[i] = lower((unsigned char)t[i]);
	out[i] = '\0';
	return (0);
}
