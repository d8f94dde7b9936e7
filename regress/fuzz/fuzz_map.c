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
 * libFuzzer target for the RFC 7247 address mappings (xmppgwd/map.c)
 * and the JID helpers sip.c and policy.c apply to what they give
 * (xmppgwd/stanza.c).  The input, as a string, is a SIP URI, a JID and
 * a <thread/>.  Asserted:
 *
 * - every output fits exactly: what succeeds into a buffer of strlen + 1
 *   gives the same and fails into one byte less, leaving "" (a
 *   truncated address is refused, never returned); a failure leaves "";
 * - a URI made from a JID is "sip:" user "@" host [";gr=" resource],
 *   user and resource RFC 3261 characters or %HH, the host lower case:
 *   nothing that could end the header line or the <uri> it is written
 *   in, and our SIP parser reads it back unchanged from "<uri>";
 * - a JID made from a URI is UTF-8 without controls, its localpart
 *   (1..1023 bytes) holds none of the characters XEP-0106 escapes
 *   (backslash aside, which map.c escapes only where it reads as an
 *   escape), and jid_domain() finds the URI's host in it, lower case,
 *   which is what sip.c routes on; jid_bare() takes it;
 * - the round trip map.c promises: the URI made from that JID maps to
 *   the same JID again, and is itself a fixed point;
 * - every character of that JID is an XML 1.0 Char: xbuf_escape()
 *   drops any other, so another address would go out than was mapped;
 * - a thread gives a Call-ID of RFC 3261 word characters with at most
 *   one inner '@': the thread itself if that is what it is, else "t-"
 *   and 32 hex digits, the same each time;
 * - the error maps give a condition of RFC 6120 for every code, and a
 *   code with a reason phrase for every condition.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmppgwd.h"
#include "map.h"
#include "sipmsg.h"
#include "stanza.h"
#include "fuzz.h"

#define BIG		8192	/* more than any mapped address */
#define PART_MAX	1023	/* RFC 7622 */

#define CHECKS(x, s) do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: %s\n\"%s\"\n", __FILE__,	\
		    __LINE__, #x, (s));					\
		abort();						\
	}								\
} while (0)

typedef int	(*map_fn)(const char *, char *, size_t);

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
is_alnum(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

static int
is_hex_upper(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
}

/* RFC 3261: unreserved / user-unreserved, as map.c may write them raw */
static int
uri_user_char(unsigned char c)
{
	return (is_alnum(c) || (c != '\0' && strchr("-_.!~*'()&=+$,", c)));
}

/* RFC 3261: paramchar */
static int
uri_param_char(unsigned char c)
{
	return (is_alnum(c) ||
	    (c != '\0' && strchr("-_.!~*'()[]/:&+$", c)));
}

/* s[0..len) of ok() characters and %HH, not empty */
static void
check_escaped(const char *s, size_t len, int (*ok)(unsigned char))
{
	size_t	 i;

	CHECKS(len > 0, s);
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			CHECKS(i + 2 < len, s);
			CHECKS(is_hex_upper((unsigned char)s[i + 1]) &&
			    is_hex_upper((unsigned char)s[i + 2]), s);
			CHECKS(s[i + 1] != '0' || s[i + 2] != '0', s);
			i += 2;
		} else
			CHECKS(ok((unsigned char)s[i]), s);
	}
}

/* lower-case LDH labels, the last not starting with a digit */
static void
check_host(const char *s, size_t len)
{
	size_t	 i, start = 0;

	CHECKS(len > 0 && len <= 253, s);
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			CHECKS((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-', s);
			continue;
		}
		CHECKS(i > start && i - start <= 63, s);
		CHECKS(s[start] != '-' && s[i - 1] != '-', s);
		start = i + 1;
	}
}

/*
 * The one bit of parsing the fuzzer does itself: the host of a URI
 * that map_sip_to_jid() took, lower case.
 */
static void
uri_host(const char *uri, char *host, size_t len)
{
	const char	*h, *e;
	size_t		 i, n;

	h = strchr(uri, '@');
	CHECK(h != NULL);
	h++;
	e = strchr(h, ';');
	n = e != NULL ? (size_t)(e - h) : strlen(h);
	CHECK(n < len);
	for (i = 0; i < n; i++)
		host[i] = (h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i];
	host[n] = '\0';
}

/* what map_jid_to_sip() gives, piece by piece */
static void
check_uri(const char *uri)
{
	const char	*u, *at, *semi;
	char		 back[BIG + 2], got[BIG];
	size_t		 len = strlen(uri);

	CHECKS(strncmp(uri, "sip:", 4) == 0, uri);
	u = uri + 4;
	CHECKS((at = strchr(u, '@')) != NULL, uri);
	check_escaped(u, at - u, uri_user_char);
	semi = strchr(at, ';');
	check_host(at + 1, (semi != NULL ? semi : uri + len) - (at + 1));
	if (semi != NULL) {
		CHECKS(strncmp(semi, ";gr=", 4) == 0, uri);
		check_escaped(semi + 4, strlen(semi + 4), uri_param_char);
	}

	/* as sip.c writes it: "From: <uri>;tag=..." */
	(void)snprintf(back, sizeof(back), "<%s>", uri);
	CHECKS(sipmsg_addr_uri(back, got, sizeof(got)) == 0, uri);
	CHECKS(strcmp(got, uri) == 0, uri);
}

/*
 * Well-formed UTF-8, every code point an XML 1.0 Char (less tab, CR
 * and LF) and none a C1 control: what goes into a from= or to=.
 */
static void
check_text(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, k;
	uint32_t		 cp;

	for (i = 0; p[i] != '\0'; i += n) {
		if (p[i] < 0x80) {
			CHECKS(p[i] >= 0x20 && p[i] != 0x7f, s);
			n = 1;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4;
		else
			CHECKS(0, s);
		cp = p[i] & (0x7f >> n);
		for (k = 1; k < n; k++) {
			CHECKS((p[i + k] & 0xc0) == 0x80, s);
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		CHECKS((n == 2 && cp >= 0xa0) || (n == 3 && cp >= 0x800) ||
		    (n == 4 && cp >= 0x10000 && cp <= 0x10ffff), s);
		CHECKS(cp < 0xd800 || cp > 0xdfff, s);
		CHECKS(cp != 0xfffe && cp != 0xffff, s);
	}
}

/* what map_sip_to_jid() gives for uri */
static void
check_jid(const char *jid, const char *uri)
{
	char		 host[BIG], dom[XGW_NAME_MAX], bare[JID_MAX];
	char		 want[JID_MAX];
	const char	*at, *slash, *end;
	size_t		 i, loclen;

	check_text(jid);
	uri_host(uri, host, sizeof(host));
	CHECKS((at = strchr(jid, '@')) != NULL, jid);
	slash = strchr(jid, '/');
	CHECKS(slash == NULL || slash > at, jid);
	loclen = at - jid;
	CHECKS(loclen > 0 && loclen <= PART_MAX, jid);
	for (i = 0; i < loclen; i++)
		CHECKS(strchr(" \"&'/:<>@", jid[i]) == NULL, jid);
	end = slash != NULL ? slash : jid + strlen(jid);
	CHECKS((size_t)(end - at - 1) == strlen(host) &&
	    memcmp(at + 1, host, end - at - 1) == 0, jid);
	if (slash != NULL)
		CHECKS(strlen(slash + 1) > 0 &&
		    strlen(slash + 1) <= PART_MAX, jid);

	/* what sip.c routes and policy.c keys on */
	CHECKS(jid_domain(jid, dom, sizeof(dom)) != NULL, jid);
	CHECKS(strcmp(dom, host) == 0, jid);
	CHECKS(jid_bare(jid, bare, sizeof(bare)) != NULL, jid);
	for (i = 0; i < loclen; i++)
		want[i] = (jid[i] >= 'A' && jid[i] <= 'Z') ? jid[i] + 32 :
		    jid[i];
	(void)snprintf(want + loclen, sizeof(want) - loclen, "@%s", host);
	CHECKS(strcmp(bare, want) == 0, jid);
}

/*
 * fn(in) into BIG bytes; on success the output fits exactly, on
 * failure it is "".  Every buffer is as long as said, for ASan.
 */
static int
map_fit(map_fn fn, const char *in, char *out)
{
	char	*p;
	size_t	 len;
	int	 r;

	out[0] = 'X';
	r = fn(in, out, BIG);
	CHECK(r == 0 || r == -1);
	if (r == -1) {
		CHECK(out[0] == '\0');
		return (-1);
	}
	len = strnlen(out, BIG);
	CHECK(len > 0 && len < BIG);
	CHECK((p = malloc(len + 1)) != NULL);
	CHECK(fn(in, p, len + 1) == 0);
	CHECK(strcmp(p, out) == 0);
	free(p);
	CHECK((p = malloc(len)) != NULL);
	CHECK(fn(in, p, len) == -1);
	CHECK(p[0] == '\0');
	free(p);
	CHECK(fn(in, NULL, 0) == -1);
	return (0);
}

/* sip -> jid -> sip -> jid: the same JID, and a fixed point */
static void
roundtrip(const char *uri)
{
	char	 jid[BIG], back[BIG], jid2[BIG], back2[BIG];

	if (map_fit(map_sip_to_jid, uri, jid) == -1)
		return;
	check_jid(jid, uri);
	CHECKS(map_fit(map_jid_to_sip, jid, back) == 0, jid);
	check_uri(back);
	CHECKS(map_fit(map_sip_to_jid, back, jid2) == 0, back);
	CHECKS(strcmp(jid, jid2) == 0, back);
	CHECK(map_fit(map_jid_to_sip, jid2, back2) == 0);
	CHECKS(strcmp(back, back2) == 0, back2);
}

static int
callid_char(unsigned char c)
{
	return (is_alnum(c) || (c != '\0' && strchr("-.!%*_+`'~", c)));
}

static void
thread(const char *t)
{
	char		 out[MAP_CALLID_TOKEN + 1];
	char		 again[MAP_CALLID_TOKEN + 1];
	char		*p;
	const char	*at;
	size_t		 i, len, tlen = strlen(t);

	if (map_thread_to_callid(t, out, sizeof(out)) == -1) {
		/* no room is the only failure, and there is room */
		CHECK(0);
	}
	len = strlen(out);
	CHECK(len > 0 && len <= MAP_CALLID_TOKEN);
	at = strchr(out, '@');
	CHECK(at == NULL || (at > out && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL));
	for (i = 0; i < len; i++)
		CHECK(out + i == at || callid_char((unsigned char)out[i]));
	if (strcmp(out, t) != 0) {
		CHECK(len == 34 && strncmp(out, "t-", 2) == 0);
		for (i = 2; i < len; i++)
			CHECK((out[i] >= '0' && out[i] <= '9') ||
			    (out[i] >= 'a' && out[i] <= 'f'));
		/* a plain token would have been taken as it is */
		if (tlen > 0 && tlen <= MAP_CALLID_TOKEN) {
			for (i = 0; i < tlen; i++)
				if (!callid_char((unsigned char)t[i]) &&
				    t[i] != '@')
					break;
			at = strchr(t, '@');
			CHECK(i < tlen || (at != NULL && (at == t ||
			    at[1] == '\0' || strchr(at + 1, '@') != NULL)));
		}
	}
	CHECK(map_thread_to_callid(t, again, sizeof(again)) == 0);
	CHECK(strcmp(again, out) == 0);
	CHECK((p = malloc(len + 1)) != NULL);
	CHECK(map_thread_to_callid(t, p, len + 1) == 0);
	CHECK(strcmp(p, out) == 0);
	free(p);
	CHECK((p = malloc(len)) != NULL);
	CHECK(map_thread_to_callid(t, p, len) == -1);
	free(p);
}

static void
errors(const char *s, const uint8_t *data, size_t size)
{
	const char	*cond, *reason;
	int		 code;

	code = size >= 2 ? (int16_t)(data[0] << 8 | data[1]) : 0;
	CHECK((cond = map_sip_to_xmpp_error(code)) != NULL);
	CHECK(stanza_error_type(cond) != NULL);
	code = map_xmpp_error_to_sip(s);
	CHECK(code >= 300 && code <= 699);
	CHECK((reason = map_sip_reason(code)) != NULL);
	CHECK(strcmp(reason, "Unknown") != 0);
	if (stanza_error_type(s) == NULL)
		CHECK(code == 500);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, uri[BIG];

	if (size > BIG)
		return (0);
	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';

	/* as a SIP URI: from a From, To or the operator's authorise */
	roundtrip(s);

	/* as a JID: the URI it gives, and the round trip from there */
	if (map_fit(map_jid_to_sip, s, uri) == 0) {
		check_uri(uri);
		roundtrip(uri);
	}

	thread(s);
	errors(s, data, size);
	free(s);
	return (0);
}
