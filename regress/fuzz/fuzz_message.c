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
 * libFuzzer target for XMPP -> SIP request building (map_message() in
 * xmppgwd/map.c, what the sip process sends for a partner's <message/>).
 * The input is the stanza's from, to, thread, subject, language and body,
 * separated by NUL bytes (a missing field is absent).  Fields are what
 * the XML layer can hand over: UTF-8 without control characters other
 * than TAB, CR and LF; other inputs are skipped.  Asserted:
 *
 * - a refused message writes nothing;
 * - our SIP parser reads the request back whole (when it is within the
 *   parser's limits: 64 KiB, a Request-URI of 511 bytes): one MESSAGE, exactly
 *   the headers Via, Max-Forwards, From, To, Call-ID, CSeq, [Subject],
 *   [Content-Language], Content-Type, Content-Length in that order, so
 *   nothing from the stanza added, removed or ended a header;
 * - To is the bare 'to' as mapped, From the full 'from' as mapped with
 *   its tag, Subject the subject without control characters (and the
 *   white space the parser trims), Content-Language present exactly when
 *   the language is one tag, the body byte for byte.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "sipmsg.h"
#include "xml.h"
#include "fuzz.h"

#define NFIELDS	6

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* UTF-8, no control characters but TAB, CR and LF (and DEL, as XML) */
static int
field_ok(const unsigned char *p)
{
	size_t	 n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t' && *p != '\r' &&
			    *p != '\n')
				return (0);
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return (0);
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return (0);
		p += n + 1;
	}
	return (1);
}

/* what the subject must read as: controls but TAB dropped, SP/TAB trimmed */
static void
expect_subject(const char *s, char *out)
{
	const unsigned char	*p;
	char			*o = out, *end;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 0x20 || *p == '\t') && *p != 0x7f)
			*o++ = *p;
	*o = '\0';
	for (end = o; end > out && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	for (o = out; *o == ' ' || *o == '\t'; o++)
		;
	memmove(out, o, strlen(o) + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *fixed[] = { "Via", "Max-Forwards", "From", "To",
	    "Call-ID", "CSeq" };
	const char		*f[NFIELDS] = { NULL }, *names[10];
	struct map_message	 m;
	struct sipmsg		 sm;
	struct xbuf		 b;
	char			*in, *p, *subj, uri[2048], bare[2048];
	char			 want[2100], err[128];
	size_t			 used, i, n, nf = 0;
	int			 code, r;

	if ((in = malloc(size + 1)) == NULL)
		return (0);
	memcpy(in, data, size);
	in[size] = '\0';
	for (p = in; nf < NFIELDS && p <= in + size; p += strlen(p) + 1)
		f[nf++] = p;
	for (i = 0; i < nf; i++)
		if (!field_ok((const unsigned char *)f[i]))
			goto out;
	if (f[0] == NULL || f[1] == NULL)
		goto out;

	memset(&m, 0, sizeof(m));
	m.from = f[0];
	m.to = f[1];
	m.thread = f[2];
	m.subject = f[3];
	m.lang = f[4];
	m.body = f[5];
	m.transport = "TLS";
	m.sent_by = "gw.test:5061";
	m.branch = "z9hG4bKfuzz";
	m.callid = "fuzz@xmppgwd";
	m.tag = 0xdeadbeef;
	m.cseq = 1;
	xbuf_init(&b);
	r = map_message(&b, &m);
	CHECK(!b.error);
	if (r == -1) {
		CHECK(b.len == 0);
		goto done;
	}
	CHECK(r == 0);
	/* the addresses as mapped, bare for the recipient */
	n = strcspn(m.to, "/");
	CHECK(n < sizeof(bare));
	memcpy(bare, m.to, n);
	bare[n] = '\0';
	CHECK(map_jid_to_sip(bare, uri, sizeof(uri)) == 0);
	/* more than our parser takes (414, 413); a proxy may take it */
	if (b.len >= SIP_MAX_MESSAGE || strlen(uri) >= sizeof(sm.uri))
		goto done;
	r = sipmsg_parse(&sm, b.data, b.len, &used, &code, err, sizeof(err));
	if (r != 1)
		fprintf(stderr, "%d %d %s: %.*s\n", r, code, err, (int)b.len,
		    b.data);
	CHECK(r == 1);
	CHECK(used == b.len);
	CHECK(sm.request && strcmp(sm.method, "MESSAGE") == 0);

	n = 0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		names[n++] = fixed[i];
	if (m.subject != NULL)
		names[n++] = "Subject";
	if (m.lang != NULL && map_lang_ok(m.lang))
		names[n++] = "Content-Language";
	names[n++] = "Content-Type";
	names[n++] = "Content-Length";
	CHECK(sm.nheaders == n);
	for (i = 0; i < n; i++)
		CHECK(strcmp(sm.headers[i].name, names[i]) == 0);

	snprintf(want, sizeof(want), "<%s>", uri);
	CHECK(strcmp(sm.to, want) == 0);
	CHECK(strcmp(sm.uri, uri) == 0);
	CHECK(map_jid_to_sip(m.from, uri, sizeof(uri)) == 0);
	snprintf(want, sizeof(want), "<%s>;tag=deadbeef", uri);
	CHECK(strcmp(sm.from, want) == 0);

	if (m.subject != NULL) {
		CHECK((subj = malloc(strlen(m.subject) + 1)) != NULL);
		expect_subject(m.subject, subj);
		CHECK(sm.subject != NULL && strcmp(sm.subject, subj) == 0);
		free(subj);
	}
	if (m.lang != NULL && map_lang_ok(m.lang))
		CHECK(sm.content_language != NULL &&
		    strcmp(sm.content_language, m.lang) == 0);
	n = m.body != NULL ? strlen(m.body) : 0;
	CHECK(sm.bodylen == n);
	CHECK(n == 0 || memcmp(sm.body, m.body, n) == 0);
	sipmsg_free(&sm);
 done:
	xbuf_free(&b);
 out:
	free(in);
	return (0);
}
