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
 * libFuzzer target for the SIP parser (xmppgwd/sipmsg.c), after
 * Kamailio's fuzz_parse_msg: the input is a TCP stream, parsed message
 * after message as the sip process does.  Each message must keep the
 * promises the gateway relies on (one From/To/Call-ID/CSeq/
 * Content-Length, CSeq method equal to the request method, framing that
 * does not depend on what follows, every string inside m->buf), and
 * every header value goes through the helpers.  The raw input also goes
 * through the helpers, for the quoting logic.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipmsg.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *params[] = { "tag", "branch", "gr", "q", "expires" };
static const size_t outlens[] = { 1, 2, 8, 512 };

/* a string that lives in [buf, end) with its NUL */
static void
inside(const struct sipmsg *m, const char *s, const char *end)
{
	CHECK(s != NULL);
	CHECK(s >= m->buf && s < end);
	CHECK(memchr(s, '\0', end - s) != NULL);
}

static void
value_ok(const char *v)
{
	size_t	 len = strlen(v), i;

	for (i = 0; i < len; i++)
		CHECK((unsigned char)v[i] >= 0x20 || v[i] == '\t');
	if (len > 0) {
		CHECK(v[0] != ' ' && v[0] != '\t');
		CHECK(v[len - 1] != ' ' && v[len - 1] != '\t');
	}
}

static void
helpers(const char *v)
{
	char		 out[512];
	size_t		 i, j, n;

	for (i = 0; i < sizeof(outlens) / sizeof(outlens[0]); i++) {
		for (j = 0; j < sizeof(params) / sizeof(params[0]); j++)
			if (sipmsg_param(v, params[j], out, outlens[i]) == 0)
				CHECK(strlen(out) < outlens[i]);
		if (sipmsg_addr_uri(v, out, outlens[i]) == 0) {
			n = strlen(out);
			CHECK(n > 0 && n < outlens[i]);
			CHECK(strpbrk(out, " <>\"") == NULL);
			CHECK(strchr(out, ':') != NULL);
		}
		if (sipmsg_media_type(v, out, outlens[i]) == 0) {
			n = strlen(out);
			CHECK(n < outlens[i] && strchr(out, '/') != NULL);
			for (; n > 0; n--)
				CHECK(out[n - 1] < 'A' || out[n - 1] > 'Z');
		}
	}
}

static void
check_msg(const struct sipmsg *m, const char *in, size_t used)
{
	static const char *one[] = {
		"From", "To", "Call-ID", "CSeq", "Content-Length"
	};
	const char	*end;
	size_t		 i, j, count;

	CHECK(m->buf != NULL && m->body != NULL);
	CHECK(used >= m->bodylen);
	/* the body is the last thing in buf, copied as it came */
	CHECK(m->body[m->bodylen] == '\0');
	CHECK(memcmp(m->body, in + used - m->bodylen, m->bodylen) == 0);
	end = m->body;
	CHECK(end >= m->buf);

	inside(m, m->from, end);
	inside(m, m->to, end);
	inside(m, m->call_id, end);
	CHECK(m->from[0] != '\0' && m->to[0] != '\0' && m->call_id[0] != '\0');
	CHECK(m->cseq_method[0] != '\0' && m->cseq <= 0x7fffffffU);
	CHECK(m->max_forwards >= -1 && m->max_forwards <= 255);
	if (m->request) {
		CHECK(m->method[0] != '\0' && m->uri[0] != '\0');
		CHECK(strchr(m->uri, ' ') == NULL);
		CHECK(strcmp(m->method, m->cseq_method) == 0);
		CHECK(m->nvia >= 1);
	} else
		CHECK(m->status >= 100 && m->status <= 699);
	CHECK(m->nvia <= SIP_MAX_VIA);
	for (i = 0; i < m->nvia; i++) {
		inside(m, m->via[i], end);
		CHECK(m->via[i][0] != '\0');
		value_ok(m->via[i]);
		helpers(m->via[i]);
	}
	if (m->content_type != NULL)
		inside(m, m->content_type, end);
	if (m->content_language != NULL)
		inside(m, m->content_language, end);
	if (m->subject != NULL)
		inside(m, m->subject, end);

	CHECK(m->nheaders <= SIP_MAX_HEADERS);
	for (i = 0; i < m->nheaders; i++) {
		inside(m, m->headers[i].name, end);
		inside(m, m->headers[i].value, end);
		CHECK(m->headers[i].name[0] != '\0');
		value_ok(m->headers[i].value);
		helpers(m->headers[i].value);
	}
	for (j = 0; j < sizeof(one) / sizeof(one[0]); j++) {
		for (i = count = 0; i < m->nheaders; i++)
			if (strcasecmp(m->headers[i].name, one[j]) == 0)
				count++;
		CHECK(count == 1);
		CHECK(sipmsg_header(m, one[j]) != NULL);
	}
	CHECK(sipmsg_header(m, "f") == m->from);
	CHECK(sipmsg_header(m, "TO") == m->to);
	CHECK(sipmsg_header(m, "i") == m->call_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipmsg	 m, m2;
	const char	*in = (const char *)data;
	char		 err[128], *s;
	size_t		 off = 0, used, used2;
	int		 r, code;

	while (off < size) {
		r = sipmsg_parse(&m, in + off, size - off, &used, &code, err,
		    sizeof(err));
		if (r == -1) {
			CHECK(m.buf == NULL && m.nheaders == 0);
			CHECK(code == 400 || code == 413 || code == 414 ||
			    code == 501 || code == 505);
			CHECK(err[0] != '\0');
			break;
		}
		if (r == 0) {
			CHECK(m.buf == NULL);
			CHECK(size - off < SIP_MAX_MESSAGE);
			CHECK(used <= size - off);
			break;
		}
		CHECK(r == 1);
		CHECK(used > 0 && used <= size - off && used < SIP_MAX_MESSAGE);
		check_msg(&m, in + off, used);

		/* framing does not depend on what follows, nor on less */
		CHECK(sipmsg_parse(&m2, in + off, used, &used2, &code, err,
		    sizeof(err)) == 1);
		CHECK(used2 == used && m2.nheaders == m.nheaders &&
		    m2.bodylen == m.bodylen);
		sipmsg_free(&m2);
		CHECK(sipmsg_parse(&m2, in + off, used - 1, &used2, &code,
		    err, sizeof(err)) == 0);
		CHECK(m2.buf == NULL);

		sipmsg_free(&m);
		CHECK(m.buf == NULL);
		off += used;
	}

	/* the helpers on arbitrary text, as a header value could be */
	if (size < 4096) {
		if ((s = malloc(size + 1)) == NULL)
			return (0);
		memcpy(s, data, size);
		s[size] = '\0';
		helpers(s);
		free(s);
	}
	return (0);
}
