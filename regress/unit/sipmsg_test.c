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
 * Unit tests of the SIP message parser (xmppgwd/sipmsg.c): framing on a
 * stream, the one-of-each identity headers in every spelling (the
 * header smuggling of CVE-2020-28361 and the duplicated From of
 * GHSA-8j9p-hpfg-5cg3), limits, and the value helpers.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "sipmsg.h"

/* RFC 3428 section 4, over TCP */
#define RFC3428								\
	"MESSAGE sip:user2@domain.com SIP/2.0\r\n"			\
	"Via: SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse\r\n" \
	"Max-Forwards: 70\r\n"						\
	"From: sip:user1@domain.com;tag=49583\r\n"			\
	"To: sip:user2@domain.com\r\n"					\
	"Call-ID: asd88asd77a@1.2.3.4\r\n"				\
	"CSeq: 1 MESSAGE\r\n"						\
	"Content-Type: text/plain\r\n"					\
	"Content-Length: 18\r\n"					\
	"\r\n"								\
	"Watson, come here."

#define RESPONSE							\
	"SIP/2.0 200 OK\r\n"						\
	"Via: SIP/2.0/TCP gw.example.net;branch=z9hG4bKgw1\r\n"	\
	"From: <sip:alice@example.net>;tag=a1\r\n"			\
	"To: <sip:bob@example.com>;tag=b2\r\n"				\
	"Call-ID: c1@gw.example.net\r\n"				\
	"CSeq: 7 MESSAGE\r\n"						\
	"Content-Length: 0\r\n"						\
	"\r\n"

/* the lines of a valid request, for tests that drop or add some */
static const char *base[] = {
	"Via: SIP/2.0/TCP pc.example.com;branch=z9hG4bK1",
	"Max-Forwards: 70",
	"From: <sip:u1@example.com>;tag=1",
	"To: <sip:u2@example.com>",
	"Call-ID: a@b",
	"CSeq: 1 MESSAGE",
	"Content-Type: text/plain",
	"Content-Length: 5",
};

struct res {
	struct sipmsg	 m;
	size_t		 used;
	int		 code;
	char		 err[128];
	int		 r;
};

static int
parse(struct res *x, const char *buf, size_t len)
{
	x->r = sipmsg_parse(&x->m, buf, len, &x->used, &x->code, x->err,
	    sizeof(x->err));
	if (x->r == -1)
		ATF_CHECK_MSG(x->m.buf == NULL, "buf left after -1");
	return (x->r);
}

static int
parses(struct res *x, const char *s)
{
	return (parse(x, s, strlen(s)));
}

/*
 * A MESSAGE from base[] without the headers that start with omit (NULL:
 * none), with extra (header lines, CRLF-terminated) before the last one.
 */
static char *
mkmsg(const char *omit, const char *extra)
{
	char	*s, *t;
	size_t	 i, n = sizeof(base) / sizeof(base[0]);

	ATF_REQUIRE((s = strdup("MESSAGE sip:u2@example.com SIP/2.0\r\n"))
	    != NULL);
	for (i = 0; i < n; i++) {
		if (i == n - 1 && extra != NULL) {
			ATF_REQUIRE(asprintf(&t, "%s%s", s, extra) != -1);
			free(s);
			s = t;
		}
		if (omit != NULL && strncmp(base[i], omit, strlen(omit)) == 0)
			continue;
		ATF_REQUIRE(asprintf(&t, "%s%s\r\n", s, base[i]) != -1);
		free(s);
		s = t;
	}
	ATF_REQUIRE(asprintf(&t, "%s\r\nhello", s) != -1);
	free(s);
	return (t);
}

static void
expect_fail(const char *s, size_t len, int code, const char *errpart)
{
	struct res	 x;

	ATF_CHECK_EQ_MSG(parse(&x, s, len), -1, "accepted: %.*s", (int)len,
	    s);
	ATF_CHECK_EQ_MSG(x.code, code, "code %d for: %.60s (%s)", x.code, s,
	    x.err);
	if (errpart != NULL)
		ATF_CHECK_MSG(strstr(x.err, errpart) != NULL,
		    "err \"%s\" lacks \"%s\"", x.err, errpart);
}

static void
expect_fail_s(const char *s, int code, const char *errpart)
{
	expect_fail(s, strlen(s), code, errpart);
}

static void
expect_extra_fails(const char *omit, const char *extra, int code,
    const char *errpart)
{
	char	*s = mkmsg(omit, extra);

	expect_fail_s(s, code, errpart);
	free(s);
}

ATF_TC_WITHOUT_HEAD(message_request_parsed);
ATF_TC_BODY(message_request_parsed, tc)
{
	struct res	 x;

	ATF_REQUIRE_EQ(parses(&x, RFC3428), 1);
	ATF_CHECK_EQ(x.used, strlen(RFC3428));
	ATF_CHECK_EQ(x.m.request, 1);
	ATF_CHECK_STREQ(x.m.method, "MESSAGE");
	ATF_CHECK_STREQ(x.m.uri, "sip:user2@domain.com");
	ATF_CHECK_STREQ(x.m.from, "sip:user1@domain.com;tag=49583");
	ATF_CHECK_STREQ(x.m.to, "sip:user2@domain.com");
	ATF_CHECK_STREQ(x.m.call_id, "asd88asd77a@1.2.3.4");
	ATF_CHECK_EQ(x.m.cseq, 1);
	ATF_CHECK_STREQ(x.m.cseq_method, "MESSAGE");
	ATF_REQUIRE_EQ(x.m.nvia, 1);
	ATF_CHECK_STREQ(x.m.via[0],
	    "SIP/2.0/TCP user1pc.domain.com;branch=z9hG4bK776sgdkse");
	ATF_CHECK_STREQ(x.m.content_type, "text/plain");
	ATF_CHECK(x.m.content_language == NULL);
	ATF_CHECK(x.m.subject == NULL);
	ATF_CHECK_EQ(x.m.max_forwards, 70);
	ATF_REQUIRE_EQ(x.m.nheaders, 8);
	ATF_CHECK_STREQ(x.m.headers[7].name, "Content-Length");
	ATF_CHECK_STREQ(x.m.headers[7].value, "18");
	ATF_CHECK_EQ(x.m.bodylen, 18);
	ATF_CHECK_STREQ(x.m.body, "Watson, come here.");
	sipmsg_free(&x.m);
	ATF_CHECK(x.m.buf == NULL && x.m.from == NULL && x.m.nheaders == 0);
}

ATF_TC_WITHOUT_HEAD(response_parsed);
ATF_TC_BODY(response_parsed, tc)
{
	struct res	 x;

	ATF_REQUIRE_EQ(parses(&x, RESPONSE), 1);
	ATF_CHECK_EQ(x.used, strlen(RESPONSE));
	ATF_CHECK_EQ(x.m.request, 0);
	ATF_CHECK_EQ(x.m.status, 200);
	ATF_CHECK_STREQ(x.m.reason, "OK");
	ATF_CHECK_EQ(x.m.cseq, 7);
	ATF_CHECK_STREQ(x.m.cseq_method, "MESSAGE");
	ATF_CHECK_EQ(x.m.max_forwards, -1);
	ATF_CHECK_EQ(x.m.bodylen, 0);
	ATF_CHECK(x.m.body != NULL && x.m.body[0] == '\0');
	sipmsg_free(&x.m);

	/* an empty reason phrase is legal, a missing SP is not */
	ATF_REQUIRE_EQ(parses(&x, "SIP/2.0 404 \r\nVia: SIP/2.0/TCP h\r\n"
	    "f: <sip:a@b>\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 2 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), 1);
	ATF_CHECK_EQ(x.m.status, 404);
	ATF_CHECK_STREQ(x.m.reason, "");
	sipmsg_free(&x.m);
	expect_fail_s("SIP/2.0 404\r\nf: a\r\n\r\n", 400, "status line");
	expect_fail_s("SIP/2.0 099 Low\r\nf: a\r\n\r\n", 400, "status");
	expect_fail_s("SIP/2.0 700 High\r\nf: a\r\n\r\n", 400, "status");
	expect_fail_s("SIP/2.0 2x0 Odd\r\nf: a\r\n\r\n", 400, "status");
}

ATF_TC_WITHOUT_HEAD(compact_forms_and_folding);
ATF_TC_BODY(compact_forms_and_folding, tc)
{
	struct res	 x;
	const char	*s =
	    "MESSAGE sip:b@example.com SIP/2.0\r\n"
	    "v: SIP/2.0/TCP h1;branch=z9hG4bKa\r\n"
	    "f: \"Alice\"\r\n"
	    " \t <sip:a@example.net>;tag=9 \r\n"
	    "t:sip:b@example.com\r\n"
	    "i: 1@h1\r\n"
	    "CSEQ:\t3 \r\n\tMESSAGE\r\n"
	    "c: Text/Plain; charset=UTF-8\r\n"
	    "s: first line  \r\n   second line\r\n"
	    "k: path\r\n"
	    "o: presence\r\n"
	    "X-Custom-Thing: kept\r\n"
	    "content-LANGUAGE: fr\r\n"
	    "l: 2\r\n"
	    "\r\n"
	    "hi";

	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_CHECK_STREQ(x.m.from, "\"Alice\" <sip:a@example.net>;tag=9");
	ATF_CHECK_STREQ(x.m.to, "sip:b@example.com");
	ATF_CHECK_STREQ(x.m.call_id, "1@h1");
	ATF_CHECK_EQ(x.m.cseq, 3);
	ATF_CHECK_STREQ(x.m.cseq_method, "MESSAGE");
	ATF_CHECK_STREQ(x.m.content_type, "Text/Plain; charset=UTF-8");
	ATF_CHECK_STREQ(x.m.subject, "first line second line");
	ATF_CHECK_STREQ(x.m.content_language, "fr");
	ATF_CHECK_STREQ(x.m.body, "hi");
	/* canonical names stored for known headers, original for others */
	ATF_CHECK_STREQ(x.m.headers[0].name, "Via");
	ATF_CHECK_STREQ(x.m.headers[1].name, "From");
	ATF_CHECK_STREQ(x.m.headers[4].name, "CSeq");
	ATF_CHECK_STREQ(x.m.headers[7].name, "Supported");
	ATF_CHECK_STREQ(x.m.headers[8].name, "Event");
	ATF_CHECK_STREQ(x.m.headers[9].name, "X-Custom-Thing");
	ATF_CHECK_STREQ(x.m.headers[10].name, "Content-Language");
	ATF_CHECK_STREQ(x.m.headers[11].name, "Content-Length");
	/* lookups in any spelling */
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "call-id"), "1@h1");
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "I"), "1@h1");
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "Event"), "presence");
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "x-custom-thing"), "kept");
	ATF_CHECK(sipmsg_header(&x.m, "Contact") == NULL);
	ATF_CHECK(sipmsg_header(&x.m, "m") == NULL);
	sipmsg_free(&x.m);

	/* a fold cannot start the header section */
	expect_fail_s("MESSAGE sip:b@e SIP/2.0\r\n x: y\r\n\r\n", 400,
	    "continuation");
}

ATF_TC_WITHOUT_HEAD(duplicate_from_in_every_spelling);
ATF_TC_BODY(duplicate_from_in_every_spelling, tc)
{
	static const char *dup[] = {
		"From: <sip:evil@example.org>\r\n",
		"from: <sip:evil@example.org>\r\n",
		"FROM: <sip:evil@example.org>\r\n",
		"f: <sip:evil@example.org>\r\n",
		"F: <sip:evil@example.org>\r\n",
		"From : <sip:evil@example.org>\r\n",
		"From\t:<sip:evil@example.org>\r\n",
		"f  \t : <sip:evil@example.org>\r\n",
		"fRoM:\r\n <sip:evil@example.org>\r\n ;tag=2\r\n",
	};
	struct res	 x;
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof(dup) / sizeof(dup[0]); i++)
		expect_extra_fails(NULL, dup[i], 400, "duplicate From");
	/* look-alikes are other headers, not a second From */
	s = mkmsg(NULL, "X-From: <sip:evil@example.org>\r\n");
	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_CHECK_STREQ(x.m.from, "<sip:u1@example.com>;tag=1");
	sipmsg_free(&x.m);
	free(s);
}

ATF_TC_WITHOUT_HEAD(duplicate_to_callid_cseq_content_length);
ATF_TC_BODY(duplicate_to_callid_cseq_content_length, tc)
{
	static const struct {
		const char	*extra, *err;
	} t[] = {
		{ "To: <sip:x@y>\r\n",		"duplicate To" },
		{ "t : <sip:x@y>\r\n",		"duplicate To" },
		{ "Call-ID: other\r\n",		"duplicate Call-ID" },
		{ "i: other\r\n",		"duplicate Call-ID" },
		{ "CALL-id\t: other\r\n",	"duplicate Call-ID" },
		{ "CSeq: 2 MESSAGE\r\n",	"duplicate CSeq" },
		{ "cseq : 1 MESSAGE\r\n",	"duplicate CSeq" },
		{ "Content-Length: 5\r\n",	"duplicate Content-Length" },
		{ "l: 5\r\n",			"duplicate Content-Length" },
		{ "L : 0\r\n",			"duplicate Content-Length" },
		{ "c: text/html\r\n",		"duplicate Content-Type" },
		{ "Max-Forwards: 1\r\n",	"duplicate Max-Forwards" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_extra_fails(NULL, t[i].extra, 400, t[i].err);
}

ATF_TC_WITHOUT_HEAD(missing_content_length_400);
ATF_TC_BODY(missing_content_length_400, tc)
{
	struct res	 x;
	char		*s;

	/* without framing nothing after the headers could be trusted */
	expect_extra_fails("Content-Length", NULL, 400,
	    "missing Content-Length");
	expect_extra_fails("From", NULL, 400, "missing From");
	expect_extra_fails("To", NULL, 400, "missing To");
	expect_extra_fails("Call-ID", NULL, 400, "missing Call-ID");
	expect_extra_fails("CSeq", NULL, 400, "missing CSeq");
	expect_extra_fails("Via", NULL, 400, "missing Via");
	expect_extra_fails("From", "From:   \r\n", 400, "empty From");
	expect_extra_fails("Content-Length", "Content-Length: +5\r\n", 400,
	    "Content-Length");
	expect_extra_fails("Content-Length", "Content-Length: 5 5\r\n", 400,
	    "Content-Length");
	expect_extra_fails("Content-Length", "Content-Length:\r\n", 400,
	    "Content-Length");
	expect_extra_fails("Call-ID", "Call-ID: a b\r\n", 400, "Call-ID");

	/* the base message is fine, so the cases above fail for the cause */
	s = mkmsg(NULL, NULL);
	ATF_CHECK_EQ(parses(&x, s), 1);
	sipmsg_free(&x.m);
	free(s);
}

ATF_TC_WITHOUT_HEAD(cseq_method_mismatch_400);
ATF_TC_BODY(cseq_method_mismatch_400, tc)
{
	struct res	 x;
	char		*s;

	expect_extra_fails("CSeq", "CSeq: 1 INVITE\r\n", 400,
	    "does not match");
	/* methods are case-sensitive (RFC 3261 7.1) */
	expect_extra_fails("CSeq", "CSeq: 1 message\r\n", 400,
	    "does not match");
	expect_extra_fails("CSeq", "CSeq: 2147483648 MESSAGE\r\n", 400,
	    "CSeq");
	expect_extra_fails("CSeq", "CSeq: 99999999999999999999 MESSAGE\r\n",
	    400, "CSeq");
	expect_extra_fails("CSeq", "CSeq: MESSAGE\r\n", 400, "CSeq");
	expect_extra_fails("CSeq", "CSeq: 1\r\n", 400, "CSeq");
	expect_extra_fails("CSeq", "CSeq: -1 MESSAGE\r\n", 400, "CSeq");
	expect_extra_fails("CSeq", "CSeq: 1 MESSAGE x\r\n", 400, "CSeq");

	s = mkmsg("CSeq", "CSeq: 2147483647 MESSAGE\r\n");
	ATF_REQUIRE_EQ(parses(&x, s), 1);
	ATF_CHECK_EQ(x.m.cseq, 2147483647U);
	sipmsg_free(&x.m);
	free(s);
}

ATF_TC_WITHOUT_HEAD(via_split_on_commas);
ATF_TC_BODY(via_split_on_commas, tc)
{
	struct res	 x;
	char		*s, extra[2048];
	char		 branch[64];
	size_t		 i;

	s = mkmsg(NULL, "Via: SIP/2.0/TCP b;branch=z9hG4bK2 , "
	    "SIP/2.0/UDP c;x=\"a, b\";branch=z9hG4bK3,SIP/2.0/TLS d\r\n"
	    "v: SIP/2.0/TCP e;branch=z9hG4bK5\r\n");
	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_REQUIRE_EQ(x.m.nvia, 5);
	ATF_CHECK_STREQ(x.m.via[0], "SIP/2.0/TCP pc.example.com;"
	    "branch=z9hG4bK1");
	ATF_CHECK_STREQ(x.m.via[1], "SIP/2.0/TCP b;branch=z9hG4bK2");
	ATF_CHECK_STREQ(x.m.via[2], "SIP/2.0/UDP c;x=\"a, b\";"
	    "branch=z9hG4bK3");
	ATF_CHECK_STREQ(x.m.via[3], "SIP/2.0/TLS d");
	ATF_CHECK_STREQ(x.m.via[4], "SIP/2.0/TCP e;branch=z9hG4bK5");
	ATF_REQUIRE_EQ(sipmsg_param(x.m.via[2], "branch", branch,
	    sizeof(branch)), 0);
	ATF_CHECK_STREQ(branch, "z9hG4bK3");
	ATF_CHECK_EQ(sipmsg_param(x.m.via[3], "branch", branch,
	    sizeof(branch)), -1);
	sipmsg_free(&x.m);
	free(s);

	expect_extra_fails(NULL, "Via: SIP/2.0/TCP a,,SIP/2.0/TCP b\r\n",
	    400, "empty Via");
	expect_extra_fails(NULL, "Via: SIP/2.0/TCP a,\r\n", 400, "empty Via");
	expect_extra_fails(NULL, "Via: SIP/2.0/TCP a;x=\"open\r\n", 400,
	    "unterminated");

	/* one more than SIP_MAX_VIA */
	extra[0] = '\0';
	for (i = 1; i < SIP_MAX_VIA; i++)
		(void)strlcat(extra, "Via: SIP/2.0/TCP h\r\n", sizeof(extra));
	s = mkmsg(NULL, extra);
	ATF_CHECK_EQ(parses(&x, s), 1);
	ATF_CHECK_EQ(x.m.nvia, SIP_MAX_VIA);
	sipmsg_free(&x.m);
	free(s);
	(void)strlcat(extra, "Via: SIP/2.0/TCP h\r\n", sizeof(extra));
	expect_extra_fails(NULL, extra, 400, "too many Via");
}

ATF_TC_WITHOUT_HEAD(too_many_headers_400);
ATF_TC_BODY(too_many_headers_400, tc)
{
	struct res	 x;
	char		*s, extra[4096], line[32];
	size_t		 i, n = sizeof(base) / sizeof(base[0]);

	extra[0] = '\0';
	for (i = n; i < SIP_MAX_HEADERS; i++) {
		(void)snprintf(line, sizeof(line), "X-H%zu: %zu\r\n", i, i);
		(void)strlcat(extra, line, sizeof(extra));
	}
	s = mkmsg(NULL, extra);
	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_CHECK_EQ(x.m.nheaders, SIP_MAX_HEADERS);
	ATF_CHECK_STREQ(x.m.headers[SIP_MAX_HEADERS - 1].name,
	    "Content-Length");
	sipmsg_free(&x.m);
	free(s);

	(void)strlcat(extra, "X-One-Too-Many: 1\r\n", sizeof(extra));
	expect_extra_fails(NULL, extra, 400, "too many headers");
}

/* a message of exactly total bytes, the body filling what is left */
static char *
sized_msg(size_t total, size_t *len)
{
	char	 head[256], *s;
	size_t	 hl, bl, digits;

	for (digits = 1, bl = total; bl >= 10; bl /= 10)
		digits++;
	hl = snprintf(head, sizeof(head), "MESSAGE sip:a@b SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP h\r\nf: <sip:c@d>\r\nt: <sip:a@b>\r\n"
	    "i: 1\r\nCSeq: 1 MESSAGE\r\nl: %0*d\r\n\r\n", (int)digits, 0);
	ATF_REQUIRE(hl < total);
	bl = total - hl;
	hl = snprintf(head, sizeof(head), "MESSAGE sip:a@b SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP h\r\nf: <sip:c@d>\r\nt: <sip:a@b>\r\n"
	    "i: 1\r\nCSeq: 1 MESSAGE\r\nl: %0*zu\r\n\r\n", (int)digits, bl);
	ATF_REQUIRE(hl + bl == total);
	ATF_REQUIRE((s = malloc(total)) != NULL);
	memcpy(s, head, hl);
	memset(s + hl, 'x', bl);
	*len = total;
	return (s);
}

ATF_TC_WITHOUT_HEAD(oversize_413);
ATF_TC_BODY(oversize_413, tc)
{
	struct res	 x;
	char		*s, *big;
	size_t		 len, i;

	/* SIP_MAX_MESSAGE - 1 bytes is the largest message */
	s = sized_msg(SIP_MAX_MESSAGE - 1, &len);
	ATF_REQUIRE_EQ_MSG(parse(&x, s, len), 1, "%s", x.err);
	ATF_CHECK_EQ(x.used, len);
	ATF_CHECK_EQ(x.m.bodylen, len - (strstr(s, "\r\n\r\n") + 4 - s));
	ATF_CHECK_EQ(strlen(x.m.body), x.m.bodylen);
	sipmsg_free(&x.m);
	free(s);

	s = sized_msg(SIP_MAX_MESSAGE, &len);
	expect_fail(s, len, 413, "Content-Length");
	/* refused at the headers already, before the body is in */
	expect_fail(s, len - 1000, 413, "Content-Length");
	free(s);

	/* a header section that never ends: 413, never "need more" */
	ATF_REQUIRE((big = malloc(SIP_MAX_MESSAGE + 10)) != NULL);
	memcpy(big, "MESSAGE sip:a@b SIP/2.0\r\nX: ", 28);
	for (i = 28; i < SIP_MAX_MESSAGE + 10; i++)
		big[i] = (i % 80 == 0) ? '\r' : (i % 80 == 1) ? '\n' :
		    (i % 80 == 2) ? 'Y' : (i % 80 == 3) ? ':' : 'a';
	expect_fail(big, SIP_MAX_MESSAGE, 413, "header section");
	expect_fail(big, SIP_MAX_MESSAGE + 10, 413, "header section");
	ATF_CHECK_EQ(parse(&x, big, SIP_MAX_MESSAGE - 100), 0);
	free(big);
}

ATF_TC_WITHOUT_HEAD(huge_content_length_413);
ATF_TC_BODY(huge_content_length_413, tc)
{
	/* the OpenSIPS CVE-2023-28097 shapes: no wrap, no waiting */
	expect_extra_fails("Content-Length",
	    "Content-Length: 99999999999999999999999999999999\r\n", 413,
	    "Content-Length");
	expect_extra_fails("Content-Length", "l: 4294967296\r\n", 413,
	    "Content-Length");
	expect_extra_fails("Content-Length", "l: 18446744073709551621\r\n",
	    413, "Content-Length");
	expect_extra_fails("Content-Length", "l: 65536\r\n", 413,
	    "Content-Length");
	expect_extra_fails("Content-Length", "l: -1\r\n", 400,
	    "Content-Length");
	expect_extra_fails("Content-Length", "l: 0x10\r\n", 400,
	    "Content-Length");
}

ATF_TC_WITHOUT_HEAD(partial_returns_0_at_every_cut);
ATF_TC_BODY(partial_returns_0_at_every_cut, tc)
{
	struct res	 x;
	const char	*s = RFC3428;
	char		*folded;
	size_t		 len = strlen(s), i;

	for (i = 0; i < len; i++) {
		ATF_CHECK_EQ_MSG(parse(&x, s, i), 0, "cut at %zu: %d %s", i,
		    x.r, x.err);
		ATF_CHECK(x.m.buf == NULL);
	}
	ATF_REQUIRE_EQ(parse(&x, s, len), 1);
	ATF_CHECK_EQ(x.used, len);
	sipmsg_free(&x.m);

	/* the same with folds, compact forms and a CR at a cut */
	folded = mkmsg(NULL, "Subject: a\r\n b\r\n\tc\r\nX: \r\n y\r\n");
	len = strlen(folded);
	for (i = 0; i < len; i++)
		ATF_CHECK_EQ_MSG(parse(&x, folded, i), 0, "cut at %zu: %s",
		    i, x.err);
	ATF_REQUIRE_EQ(parse(&x, folded, len), 1);
	ATF_CHECK_EQ(x.used, len);
	ATF_CHECK_STREQ(x.m.subject, "a b c");
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "X"), "y");
	sipmsg_free(&x.m);
	free(folded);
}

ATF_TC_WITHOUT_HEAD(two_messages_in_one_buffer);
ATF_TC_BODY(two_messages_in_one_buffer, tc)
{
	struct res	 x;
	char		 buf[2048];
	size_t		 l1, l2;

	l1 = strlen(RFC3428);
	l2 = strlen(RESPONSE);
	(void)snprintf(buf, sizeof(buf), "%s%s%s", RFC3428, RESPONSE,
	    "SIP/2.0 1");
	ATF_REQUIRE_EQ(parse(&x, buf, strlen(buf)), 1);
	ATF_CHECK_EQ(x.used, l1);
	ATF_CHECK_STREQ(x.m.body, "Watson, come here.");
	sipmsg_free(&x.m);
	ATF_REQUIRE_EQ(parse(&x, buf + l1, strlen(buf) - l1), 1);
	ATF_CHECK_EQ(x.used, l2);
	ATF_CHECK_EQ(x.m.status, 200);
	sipmsg_free(&x.m);
	ATF_CHECK_EQ(parse(&x, buf + l1 + l2, strlen(buf) - l1 - l2), 0);
}

ATF_TC_WITHOUT_HEAD(nul_in_headers_400);
ATF_TC_BODY(nul_in_headers_400, tc)
{
	struct res	 x;
	char		*s, *nb;
	size_t		 len, i, hl;

	s = mkmsg(NULL, NULL);
	len = strlen(s);
	hl = strstr(s, "\r\n\r\n") - s + 4;
	/* a NUL anywhere in the header section, even the final CRLFs */
	for (i = 0; i < hl; i++) {
		ATF_REQUIRE((nb = malloc(len)) != NULL);
		memcpy(nb, s, len);
		nb[i] = '\0';
		expect_fail(nb, len, 400, NULL);
		free(nb);
	}
	/* the body is the caller's business, but comes NUL-terminated */
	s[hl + 1] = '\0';
	ATF_REQUIRE_EQ(parse(&x, s, len), 1);
	ATF_CHECK_EQ(x.m.bodylen, 5);
	ATF_CHECK(memcmp(x.m.body, "h\0llo", 6) == 0);
	sipmsg_free(&x.m);
	free(s);
}

ATF_TC_WITHOUT_HEAD(bare_lf_and_cr_400);
ATF_TC_BODY(bare_lf_and_cr_400, tc)
{
	/*
	 * RFC 3261 says CRLF; a proxy reading bare LF as a line end would
	 * see headers we did not (smuggling), so both are refused.
	 */
	expect_fail_s("MESSAGE sip:a@b SIP/2.0\n\n", 400, "bare LF");
	expect_fail_s("MESSAGE sip:a@b SIP/2.0\r\nf: a\nt: b\r\n\r\n", 400,
	    "bare LF");
	expect_fail_s("MESSAGE sip:a@b SIP/2.0\r\nf: a\rt: b\r\n\r\n", 400,
	    "bare CR");
	expect_fail_s("MESSAGE sip:a@b SIP/2.0\r\nf: a\r\n\n", 400,
	    "bare LF");
	expect_fail_s("\nMESSAGE sip:a@b SIP/2.0\r\n\r\n", 400, "bare LF");
	expect_extra_fails(NULL, "X: a\001b\r\n", 400, "control character");
	expect_extra_fails(NULL, "X: a\177b\r\n", 400, "control character");
}

/*
 * The scans look at eight bytes at a time: a control character in a
 * value is refused at every offset from the word boundaries, and what
 * is not one (TAB, SP, DEL's neighbour, bytes above 0x7f) is kept as
 * it came, at every offset too.
 */
ATF_TC_WITHOUT_HEAD(control_characters_at_every_offset);
ATF_TC_BODY(control_characters_at_every_offset, tc)
{
	static const unsigned char ok[] = { '\t', ' ', '~', 0x80, 0xff };
	struct res	 x;
	char		 line[64], val[24], *s;
	size_t		 off;
	unsigned int	 c, k;

	for (off = 0; off < 20; off++) {
		for (c = 1; c < 0x80; c++) {
			if (c == '\t' || c == '\r' || c == '\n' ||
			    (c >= 0x20 && c != 0x7f))
				continue;
			memset(val, 'v', 20);
			val[off] = (char)c;
			val[20] = '\0';
			snprintf(line, sizeof(line), "X-Long-Name: %s\r\n", val);
			s = mkmsg(NULL, line);
			expect_fail_s(s, 400, "control character");
			free(s);
		}
		/* the first and the last go as white space would */
		if (off == 0 || off == 19)
			continue;
		for (k = 0; k < sizeof(ok); k++) {
			memset(val, 'v', 20);
			val[off] = (char)ok[k];
			val[20] = '\0';
			snprintf(line, sizeof(line), "X-Long-Name: %s\r\n", val);
			s = mkmsg(NULL, line);
			ATF_CHECK_EQ_MSG(parses(&x, s), 1, "0x%02x at %zu: %s",
			    ok[k], off, x.err);
			if (x.r == 1) {
				ATF_CHECK_STREQ(sipmsg_header(&x.m,
				    "X-Long-Name"), val);
				sipmsg_free(&x.m);
			}
			free(s);
		}
	}
}

ATF_TC_WITHOUT_HEAD(bad_version_505);
ATF_TC_BODY(bad_version_505, tc)
{
	struct res	 x;

	expect_fail_s("MESSAGE sip:a@b SIP/3.0\r\n\r\n", 505, "version");
	expect_fail_s("MESSAGE sip:a@b SIP/1.0\r\n\r\n", 505, "version");
	expect_fail_s("SIP/1.0 200 OK\r\n\r\n", 505, "version");
	expect_fail_s("MESSAGE sip:a@b HTTP/1.1\r\n\r\n", 400, "request line");
	expect_fail_s("GET / HTTP/1.1\r\n\r\n", 400, NULL);
	expect_fail_s("MESSAGE sip:a@b SIP/2.0 \r\n\r\n", 400, NULL);
	expect_fail_s("MESSAGE  sip:a@b SIP/2.0\r\n\r\n", 400, "request line");
	expect_fail_s("MESSAGE nouri SIP/2.0\r\n\r\n", 400, "Request-URI");
	expect_fail_s("MESS@GE sip:a@b SIP/2.0\r\n\r\n", 400, "request line");
	/* the version is case-insensitive (RFC 3261 7.1) */
	ATF_CHECK_EQ(parses(&x, "MESSAGE sip:a@b sip/2.0\r\n"
	    "v: SIP/2.0/TCP h\r\nf: <sip:a@b>\r\nt: <sip:a@b>\r\ni: x\r\n"
	    "CSeq: 1 MESSAGE\r\nl: 0\r\n\r\n"), 1);
	sipmsg_free(&x.m);
}

ATF_TC_WITHOUT_HEAD(leading_crlf_skipped);
ATF_TC_BODY(leading_crlf_skipped, tc)
{
	struct res	 x;
	char		 buf[1024];

	/* RFC 5626 keepalives: nothing to parse, but droppable */
	ATF_CHECK_EQ(parses(&x, "\r\n\r\n"), 0);
	ATF_CHECK_EQ(x.used, 4);
	ATF_CHECK_EQ(parses(&x, "\r\n\r"), 0);
	ATF_CHECK_EQ(x.used, 2);
	ATF_CHECK_EQ(parses(&x, "\r\nMESS"), 0);
	ATF_CHECK_EQ(x.used, 2);

	(void)snprintf(buf, sizeof(buf), "\r\n\r\n\r\n%s", RFC3428);
	ATF_REQUIRE_EQ(parses(&x, buf), 1);
	ATF_CHECK_EQ(x.used, strlen(buf));
	ATF_CHECK_STREQ(x.m.method, "MESSAGE");
	sipmsg_free(&x.m);
}

ATF_TC_WITHOUT_HEAD(param_and_addr_uri_helpers);
ATF_TC_BODY(param_and_addr_uri_helpers, tc)
{
	char		 out[128];
	const char	*v;

	v = "\"Bob; <the> \\\"boss\\\"\" <sip:bob@example.com;transport=tcp>"
	    " ;tag=a8;Expires=60;lr;q=\"x;y\"";
	ATF_REQUIRE_EQ(sipmsg_addr_uri(v, out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "sip:bob@example.com;transport=tcp");
	ATF_REQUIRE_EQ(sipmsg_param(v, "tag", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "a8");
	ATF_REQUIRE_EQ(sipmsg_param(v, "expires", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "60");
	ATF_REQUIRE_EQ(sipmsg_param(v, "LR", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "");
	ATF_REQUIRE_EQ(sipmsg_param(v, "q", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "x;y");
	/* URI parameters are not header parameters */
	ATF_CHECK_EQ(sipmsg_param(v, "transport", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_param(v, "boss", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_param(v, "ta", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_param(v, "tag", out, 2), -1);
	ATF_CHECK_EQ(sipmsg_param(v, "tag", out, 3), 0);

	/* addr-spec: what follows ';' belongs to the header */
	v = "sip:alice@example.net;tag=49583";
	ATF_REQUIRE_EQ(sipmsg_addr_uri(v, out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "sip:alice@example.net");
	ATF_REQUIRE_EQ(sipmsg_param(v, "tag", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "49583");

	ATF_REQUIRE_EQ(sipmsg_addr_uri("Alice Smith <sips:a@b>", out,
	    sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "sips:a@b");
	ATF_REQUIRE_EQ(sipmsg_addr_uri("<sip:a@b>;tag=1", out, sizeof(out)),
	    0);
	ATF_CHECK_STREQ(out, "sip:a@b");
	ATF_CHECK_EQ(sipmsg_addr_uri("<sip:a@b>;tag=1", out, 7), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("<sip:a@b>;tag=1", out, 8), 0);

	/* refused: unterminated, no URI, two identities, no scheme */
	ATF_CHECK_EQ(sipmsg_addr_uri("\"Bob <sip:a@b>", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("\"Bob\" sip:a@b", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("<sip:a@b", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("<>", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("sip:a@b, sip:c@d", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("<sip:a@b> <sip:c@d>", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("a@b", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("<sip:a b@c>", out, sizeof(out)), -1);
	/* found by fuzz_sip: a stray '>' is not part of an addr-spec */
	ATF_CHECK_EQ(sipmsg_addr_uri("p:a@b>;tag=x", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_addr_uri("", out, sizeof(out)), -1);

	/* the OpenSIPS CVE-2023-28098 PoC shape, and unterminated quotes */
	v = "Digest a a=\"\",real";
	ATF_CHECK_EQ(sipmsg_param(v, "real", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_param("<sip:a>;x=\"open", "x", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_param("<sip:a>;x=\"a\\", "x", out, sizeof(out)),
	    -1);
	/* a comma ends the first list element */
	ATF_CHECK_EQ(sipmsg_param("<sip:a>, <sip:b>;tag=2", "tag", out,
	    sizeof(out)), -1);
}

ATF_TC_WITHOUT_HEAD(media_type_helper);
ATF_TC_BODY(media_type_helper, tc)
{
	char	 out[64];

	ATF_REQUIRE_EQ(sipmsg_media_type("Text/Plain; charset=UTF-8", out,
	    sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "text/plain");
	ATF_REQUIRE_EQ(sipmsg_media_type(" application/PIDF+xml ", out,
	    sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "application/pidf+xml");
	ATF_CHECK_EQ(sipmsg_media_type("text/plain", out, 10), -1);
	ATF_CHECK_EQ(sipmsg_media_type("text/plain", out, 11), 0);
	ATF_CHECK_EQ(sipmsg_media_type("text", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_media_type("text/", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_media_type("/plain", out, sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_media_type("text/plain text/html", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(sipmsg_media_type("text / plain", out, sizeof(out)),
	    -1);
}

ATF_TC_WITHOUT_HEAD(free_after_error_nothing_leaks);
ATF_TC_BODY(free_after_error_nothing_leaks, tc)
{
	static const char *bad[] = {
		"From: x\r\n",			/* fails after the arena */
		"CSeq: 1 MESSAGE\r\n",
		"Via: SIP/2.0/TCP a,,b\r\n",
		"X: \001\r\n",
		"l: 99999999999\r\n",
	};
	struct res	 x;
	char		*s;
	size_t		 i;

	/* run under valgrind or ASan: every -1 and 0 leaves nothing */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = mkmsg(NULL, bad[i]);
		ATF_CHECK_EQ(parses(&x, s), -1);
		ATF_CHECK(x.m.buf == NULL && x.m.nheaders == 0 &&
		    x.m.from == NULL && x.m.nvia == 0);
		sipmsg_free(&x.m);	/* harmless after an error */
		free(s);
	}
	s = mkmsg(NULL, NULL);
	ATF_CHECK_EQ(parse(&x, s, strlen(s) - 1), 0);
	ATF_CHECK(x.m.buf == NULL);
	free(s);
}

ATF_TC_WITHOUT_HEAD(max_forwards_range);
ATF_TC_BODY(max_forwards_range, tc)
{
	struct res	 x;
	char		*s;

	s = mkmsg("Max-Forwards", "Max-Forwards: 0\r\n");
	ATF_REQUIRE_EQ(parses(&x, s), 1);
	ATF_CHECK_EQ(x.m.max_forwards, 0);
	sipmsg_free(&x.m);
	free(s);
	s = mkmsg("Max-Forwards", "Max-Forwards: 255\r\n");
	ATF_REQUIRE_EQ(parses(&x, s), 1);
	ATF_CHECK_EQ(x.m.max_forwards, 255);
	sipmsg_free(&x.m);
	free(s);
	expect_extra_fails("Max-Forwards", "Max-Forwards: 256\r\n", 400,
	    "Max-Forwards");
	expect_extra_fails("Max-Forwards", "Max-Forwards: -1\r\n", 400,
	    "Max-Forwards");
	expect_extra_fails("Max-Forwards", "Max-Forwards:\r\n", 400,
	    "Max-Forwards");
}

ATF_TC_WITHOUT_HEAD(malformed_header_lines_400);
ATF_TC_BODY(malformed_header_lines_400, tc)
{
	struct res	 x;
	char		*s;

	/* a space inside the name is not white space before the colon */
	expect_extra_fails(NULL, "X From: a\r\n", 400, "malformed header");
	expect_extra_fails(NULL, "NoColon\r\n", 400, "malformed header");
	expect_extra_fails(NULL, ": value\r\n", 400, "malformed header");
	expect_extra_fails(NULL, "Fr\"om: a\r\n", 400, "malformed header");
	/* every token character names a header (RFC 3261 25.1), no other */
	s = mkmsg(NULL, "aZ09-.!%*_+`'~: v\r\n");
	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "AZ09-.!%*_+`'~"), "v");
	sipmsg_free(&x.m);
	free(s);
	expect_extra_fails(NULL, "X@: a\r\n", 400, "malformed header");
	expect_extra_fails(NULL, "X(: a\r\n", 400, "malformed header");
	expect_extra_fails(NULL, "X/: a\r\n", 400, "malformed header");
	expect_extra_fails(NULL, "X\200: a\r\n", 400, "malformed header");
	/* a control character in a folded line, after a copied one */
	expect_extra_fails(NULL, "X: a\r\n b\001\r\n", 400,
	    "control character");
	/* Digest PoC shapes in a header parse and stay opaque */
	s = mkmsg(NULL, "Authorization: Digest a a=\"\",real\r\n"
	    "Proxy-Authorization: Digest username=\"open\r\n");
	ATF_REQUIRE_EQ_MSG(parses(&x, s), 1, "%s", x.err);
	ATF_CHECK_STREQ(sipmsg_header(&x.m, "authorization"),
	    "Digest a a=\"\",real");
	sipmsg_free(&x.m);
	free(s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, message_request_parsed);
	ATF_TP_ADD_TC(tp, response_parsed);
	ATF_TP_ADD_TC(tp, compact_forms_and_folding);
	ATF_TP_ADD_TC(tp, duplicate_from_in_every_spelling);
	ATF_TP_ADD_TC(tp, duplicate_to_callid_cseq_content_length);
	ATF_TP_ADD_TC(tp, missing_content_length_400);
	ATF_TP_ADD_TC(tp, cseq_method_mismatch_400);
	ATF_TP_ADD_TC(tp, via_split_on_commas);
	ATF_TP_ADD_TC(tp, too_many_headers_400);
	ATF_TP_ADD_TC(tp, oversize_413);
	ATF_TP_ADD_TC(tp, huge_content_length_413);
	ATF_TP_ADD_TC(tp, partial_returns_0_at_every_cut);
	ATF_TP_ADD_TC(tp, two_messages_in_one_buffer);
	ATF_TP_ADD_TC(tp, nul_in_headers_400);
	ATF_TP_ADD_TC(tp, bare_lf_and_cr_400);
	ATF_TP_ADD_TC(tp, control_characters_at_every_offset);
	ATF_TP_ADD_TC(tp, bad_version_505);
	ATF_TP_ADD_TC(tp, leading_crlf_skipped);
	ATF_TP_ADD_TC(tp, param_and_addr_uri_helpers);
	ATF_TP_ADD_TC(tp, media_type_helper);
	ATF_TP_ADD_TC(tp, free_after_error_nothing_leaks);
	ATF_TP_ADD_TC(tp, max_forwards_range);
	ATF_TP_ADD_TC(tp, malformed_header_lines_400);
	return (atf_no_error());
}
