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
 * libFuzzer target for the XMPP stream parser (xmppgwd/xml.c).
 *
 * Input: byte 0 seeds the chunking (how the bytes arrive is as hostile
 * as what they are: CVE-2023-52425), byte 1 picks the limits, the rest
 * is the stream.  Every element delivered is checked against the limits,
 * written canonically and parsed again inside a stream header: that must
 * succeed and give the same tree, or a partner could read something else
 * than we did (stanza smuggling).  STARTTLS-like elements stop and
 * restart the stream mid-input.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"
#include "fuzz.h"

#define HDR	"<stream:stream " \
		"xmlns:stream='http://etherx.jabber.org/streams' " \
		"xmlns='jabber:server' xmlns:db='jabber:server:dialback'>"
#define MAXRESETS	4
#define ESCAPE_MAX	256

struct fz {
	struct xml_stream	*xs;
	struct xml_limits	 lim;
	int			 restart;	/* stopped: reset after feed */
	int			 gone;		/* freed from a callback */
};

struct reparse {
	struct xml_elem		*elem;
	int			 nelem;
	int			 nopen;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct xml_limits limit_sets[] = {
	{ 64, 3, 2 },
	{ 512, 8, 8 },
	{ 4096, 32, 64 },
	{ 65536, 32, 64 },
};
static const size_t chunk_max[] = { 1, 2, 7, 64, 1024, 65536 };

static uint32_t
rnd(uint32_t *st)
{
	uint32_t	 x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (*st = x);
}

static int
name_ok(const char *s)
{
	return (*s != '\0' && strchr(s, '\x01') == NULL &&
	    strchr(s, ':') == NULL);
}

static void
check_tree(const struct xml_elem *e, const struct xml_limits *lim,
    unsigned int depth)
{
	const struct xml_elem	*c;
	size_t			 i;

	CHECK(depth <= lim->depth);
	CHECK(e->nattrs <= lim->attrs);
	CHECK(name_ok(e->name));
	CHECK(strchr(e->ns, '\x01') == NULL);
	CHECK(e->textlen == 0 || (e->text != NULL &&
	    strlen(e->text) == e->textlen));
	for (i = 0; i < e->nattrs; i++) {
		CHECK(name_ok(e->attrs[i].name));
		CHECK(strchr(e->attrs[i].ns, '\x01') == NULL);
		CHECK(e->attrs[i].value != NULL);
	}
	TAILQ_FOREACH(c, &e->children, entry) {
		CHECK(c->parent == e);
		check_tree(c, lim, depth + 1);
	}
}

static int
tree_eq(const struct xml_elem *a, const struct xml_elem *b)
{
	const struct xml_elem	*ca, *cb;
	size_t			 i;

	if (strcmp(a->ns, b->ns) != 0 || strcmp(a->name, b->name) != 0 ||
	    a->nattrs != b->nattrs || a->textlen != b->textlen)
		return (0);
	if (a->textlen > 0 && memcmp(a->text, b->text, a->textlen) != 0)
		return (0);
	for (i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].ns, b->attrs[i].ns) != 0 ||
		    strcmp(a->attrs[i].name, b->attrs[i].name) != 0 ||
		    strcmp(a->attrs[i].value, b->attrs[i].value) != 0)
			return (0);
	cb = TAILQ_FIRST(&b->children);
	TAILQ_FOREACH(ca, &a->children, entry) {
		if (cb == NULL || !tree_eq(ca, cb))
			return (0);
		cb = TAILQ_NEXT(cb, entry);
	}
	return (cb == NULL);
}

static void
re_open(void *arg, struct xml_elem *e)
{
	struct reparse	*r = arg;

	r->nopen++;
}

static void
re_element(void *arg, struct xml_elem *e)
{
	struct reparse	*r = arg;

	if (r->nelem++ == 0)
		r->elem = e;
	else
		xml_free(e);
}

static const struct xml_stream_cb re_cb = { re_open, re_element, NULL };

/* what we would send parses, at once, into what we received */
static void
roundtrip(const struct xml_elem *e, const struct xml_limits *lim)
{
	struct xml_limits	 big;
	struct xml_stream	*xs;
	struct reparse		 r;
	struct xbuf		 b, b2;

	xbuf_init(&b);
	xbuf_add(&b, HDR, strlen(HDR));
	xml_write(&b, e, NS_SERVER);
	CHECK(!b.error);

	/* escaping and declarations may grow the element */
	big.stanza_size = 8 * b.len + 1024;
	big.depth = lim->depth;
	big.attrs = 2 * lim->attrs + 4;
	memset(&r, 0, sizeof(r));
	CHECK((xs = xml_stream_new(&re_cb, &r, &big)) != NULL);
	if (xml_stream_feed(xs, b.data, b.len) != 0) {
		fprintf(stderr, "reparse: %s\n%s\n", xml_stream_errstr(xs),
		    b.data);
		abort();
	}
	CHECK(r.nopen == 1);
	CHECK(r.nelem == 1);
	CHECK(tree_eq(e, r.elem));

	/* and writing is a fixed point */
	xbuf_init(&b2);
	xbuf_add(&b2, HDR, strlen(HDR));
	xml_write(&b2, r.elem, NS_SERVER);
	CHECK(!b2.error);
	CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);

	xml_free(r.elem);
	xml_stream_free(xs);
	xbuf_free(&b);
	xbuf_free(&b2);
}

static void
fz_open(void *arg, struct xml_elem *e)
{
	struct fz	*f = arg;

	CHECK(xml_is(e, NS_STREAMS, "stream"));
	CHECK(TAILQ_EMPTY(&e->children));
	check_tree(e, &f->lim, 1);
}

static void
fz_element(void *arg, struct xml_elem *e)
{
	struct fz	*f = arg;

	CHECK(e->parent == NULL);
	check_tree(e, &f->lim, 2);
	roundtrip(e, &f->lim);
	if (xml_is(e, NULL, "starttls") || xml_is(e, NULL, "proceed") ||
	    xml_is(e, NULL, "success")) {
		xml_stream_stop(f->xs);
		f->restart = 1;
	} else if (xml_is(e, NULL, "restart")) {
		xml_stream_reset(f->xs);
	} else if (xml_is(e, NULL, "bye")) {
		xml_stream_free(f->xs);
		f->gone = 1;
	}
	xml_free(e);
}

static void
fz_close(void *arg)
{
}

static const struct xml_stream_cb fz_cb = { fz_open, fz_element, fz_close };

/* any bytes, escaped, are text a partner accepts */
static void
escape_check(const uint8_t *data, size_t len)
{
	struct xml_stream	*xs;
	struct reparse		 r;
	struct xbuf		 b, again;
	size_t			 off, n;

	if (len > ESCAPE_MAX)
		len = ESCAPE_MAX;
	xbuf_init(&b);
	xbuf_add(&b, HDR "<m a='", strlen(HDR "<m a='"));
	xbuf_escape(&b, (const char *)data, len);
	xbuf_add(&b, "'>", 2);
	off = b.len;
	xbuf_escape(&b, (const char *)data, len);
	xbuf_add(&b, "</m>", 4);
	CHECK(!b.error);

	memset(&r, 0, sizeof(r));
	CHECK((xs = xml_stream_new(&re_cb, &r, NULL)) != NULL);
	CHECK(xml_stream_feed(xs, b.data, b.len) == 0);
	CHECK(r.nelem == 1);

	/* what survived escaping passes through unchanged */
	xbuf_init(&again);
	xbuf_escape(&again, r.elem->text, r.elem->textlen);
	xbuf_escape(&again, r.elem->attrs[0].value,
	    strlen(r.elem->attrs[0].value));
	CHECK(!again.error);
	n = b.len - off - 4;
	CHECK(again.len == 2 * n);
	CHECK(n == 0 || (memcmp(again.data, b.data + off, n) == 0 &&
	    memcmp(again.data + n, b.data + off, n) == 0));

	xml_free(r.elem);
	xml_stream_free(xs);
	xbuf_free(&b);
	xbuf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	 f;
	enum xml_error	 err;
	uint32_t	 st;
	size_t		 n, max;
	int		 resets = 0;

	if (size < 2)
		return (0);
	st = 0x9e3779b9u ^ (data[0] * 0x01000193u);
	max = chunk_max[data[0] % (sizeof(chunk_max) / sizeof(chunk_max[0]))];
	memset(&f, 0, sizeof(f));
	f.lim = limit_sets[data[1] % (sizeof(limit_sets) /
	    sizeof(limit_sets[0]))];
	data += 2;
	size -= 2;

	escape_check(data, size);

	CHECK((f.xs = xml_stream_new(&fz_cb, &f, &f.lim)) != NULL);
	while (size > 0) {
		n = 1 + rnd(&st) % max;
		if (n > size)
			n = size;
		if (xml_stream_feed(f.xs, data, n) == -1) {
			err = xml_stream_error(f.xs);
			CHECK(err != XMLE_NONE);
			CHECK(strcmp(xml_stream_errstr(f.xs), "no error") != 0);
			/* sticky */
			CHECK(xml_stream_feed(f.xs, data, n) == -1);
			CHECK(xml_stream_error(f.xs) == err);
			if (resets++ == MAXRESETS)
				break;
			xml_stream_reset(f.xs);
		}
		if (f.gone)
			return (0);
		if (f.restart) {
			/* the rest of that read is gone, as after STARTTLS */
			CHECK(xml_stream_error(f.xs) == XMLE_NONE);
			xml_stream_reset(f.xs);
			f.restart = 0;
		}
		data += n;
		size -= n;
	}
	xml_stream_free(f.xs);
	return (0);
}
