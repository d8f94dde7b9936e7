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
 * Unit tests of xmppgwd/map.c: the RFC 7247 address mapping both ways
 * (XEP-0106 and %-escaping, GRUU, what is refused), the round trip over
 * generated addresses, both error tables row by row and the reason
 * phrases.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "map.h"
#include "sipmsg.h"
#include "xml.h"

#define BUFLEN	4096

static void
j2s_ok(const char *jid, const char *want)
{
	char	 buf[BUFLEN];

	ATF_REQUIRE_EQ_MSG(map_jid_to_sip(jid, buf, sizeof(buf)), 0,
	    "map_jid_to_sip(\"%s\") refused", jid);
	ATF_CHECK_STREQ_MSG(buf, want, "map_jid_to_sip(\"%s\")", jid);
}

static void
j2s_fail(const char *jid)
{
	char	 buf[BUFLEN];

	ATF_CHECK_EQ_MSG(map_jid_to_sip(jid, buf, sizeof(buf)), -1,
	    "map_jid_to_sip(\"%s\") gave \"%s\"", jid, buf);
}

static void
s2j_ok(const char *uri, const char *want)
{
	char	 buf[BUFLEN];

	ATF_REQUIRE_EQ_MSG(map_sip_to_jid(uri, buf, sizeof(buf)), 0,
	    "map_sip_to_jid(\"%s\") refused", uri);
	ATF_CHECK_STREQ_MSG(buf, want, "map_sip_to_jid(\"%s\")", uri);
}

static void
s2j_fail(const char *uri)
{
	char	 buf[BUFLEN];

	memset(buf, 'x', sizeof(buf));
	ATF_CHECK_EQ_MSG(map_sip_to_jid(uri, buf, sizeof(buf)), -1,
	    "map_sip_to_jid(\"%s\") gave \"%s\"", uri, buf);
	/* nothing partial is left behind */
	ATF_CHECK_MSG(buf[0] == '\0', "map_sip_to_jid(\"%.40s...\") left "
	    "\"%.40s...\"", uri, buf);
}

/* "<pre>" + n times c + "<post>", in one of two static buffers */
static const char *
rep(const char *pre, char c, size_t n, const char *post)
{
	static char	 bufs[2][BUFLEN];
	static int	 which;
	char		*buf;
	size_t		 l;

	/* two, so that a test can pass rep() for input and expectation */
	buf = bufs[which];
	which = !which;
	l = strlen(pre);
	ATF_REQUIRE(l + n + strlen(post) < BUFLEN);
	memcpy(buf, pre, l);
	memset(buf + l, c, n);
	(void)strlcpy(buf + l + n, post, BUFLEN - l - n);
	return (buf);
}

ATF_TC_WITHOUT_HEAD(jid_to_sip_basic);
ATF_TC_BODY(jid_to_sip_basic, tc)
{
	char	 buf[16];

	j2s_ok("juliet@example.com", "sip:juliet@example.com");
	/* the domain is lower-cased, the localpart kept as it is */
	j2s_ok("Juliet@Example.COM", "sip:Juliet@example.com");
	j2s_ok("a@localhost", "sip:a@localhost");
	j2s_ok("a@x-1.example", "sip:a@x-1.example");
	/* UTF-8 travels %-escaped byte by byte */
	j2s_ok("j\xc3\xb6rg@example.com", "sip:j%C3%B6rg@example.com");
	j2s_ok("\xf0\x9f\x98\x80@example.com",
	    "sip:%F0%9F%98%80@example.com");
	/* unreserved and user-unreserved minus ; ? / stay as they are */
	j2s_ok("a-b_c.d!e~f*g'h(i)@x.org", "sip:a-b_c.d!e~f*g'h(i)@x.org");
	j2s_ok("a&b=c+d$e,f@x.org", "sip:a&b=c+d$e,f@x.org");
	/* "sip:a@b.c" is 9 bytes and its NUL */
	ATF_CHECK_EQ(map_jid_to_sip("a@b.c", buf, 10), 0);
	ATF_CHECK_STREQ(buf, "sip:a@b.c");
	ATF_CHECK_EQ(map_jid_to_sip("a@b.c", buf, 9), -1);
	ATF_CHECK_STREQ(buf, "");
	ATF_CHECK_EQ(map_jid_to_sip("a@b.c", buf, 0), -1);
	ATF_CHECK_EQ(map_jid_to_sip(NULL, buf, sizeof(buf)), -1);
}

ATF_TC_WITHOUT_HEAD(jid_to_sip_resource_as_gruu);
ATF_TC_BODY(jid_to_sip_resource_as_gruu, tc)
{
	j2s_ok("juliet@example.com/yn0cl4bnw0yr3vym",
	    "sip:juliet@example.com;gr=yn0cl4bnw0yr3vym");
	/* the resource starts at the first '/', and may hold '@' and '/' */
	j2s_ok("a@x.org/r/s@t", "sip:a@x.org;gr=r/s%40t");
	/* param-unreserved stays, ; = ? and space are escaped */
	j2s_ok("a@x.org/[]:&+$", "sip:a@x.org;gr=[]:&+$");
	j2s_ok("a@x.org/a;b=c?d e", "sip:a@x.org;gr=a%3Bb%3Dc%3Fd%20e");
	j2s_ok("a@x.org/%", "sip:a@x.org;gr=%25");
	/* XEP-0106 is for the localpart only */
	j2s_ok("a@x.org/\\20", "sip:a@x.org;gr=%5C20");
	j2s_ok("a@x.org/caf\xc3\xa9", "sip:a@x.org;gr=caf%C3%A9");
	j2s_fail("a@x.org/");
	j2s_ok(rep("a@x.org/", 'r', 1023, ""),
	    rep("sip:a@x.org;gr=", 'r', 1023, ""));
	j2s_fail(rep("a@x.org/", 'r', 1024, ""));
}

ATF_TC_WITHOUT_HEAD(jid_to_sip_escapes);
ATF_TC_BODY(jid_to_sip_escapes, tc)
{
	/* XEP-0106 unescaped first, then %-escaped for SIP */
	j2s_ok("a\\20b@x.org", "sip:a%20b@x.org");
	j2s_ok("a\\40b@x.org", "sip:a%40b@x.org");
	j2s_ok("a\\2fb@x.org", "sip:a%2Fb@x.org");
	j2s_ok("c\\3a\\5cnet@x.org", "sip:c%3A%5Cnet@x.org");
	j2s_ok("\\22\\26\\27\\3c\\3e@x.org", "sip:%22&'%3C%3E@x.org");
	/* characters ; ? / would be ambiguous in the URI */
	j2s_ok("a;b@x.org", "sip:a%3Bb@x.org");
	j2s_ok("a?b@x.org", "sip:a%3Fb@x.org");
	j2s_ok("a%b@x.org", "sip:a%25b@x.org");
	j2s_ok("a b@x.org", "sip:a%20b@x.org");
	j2s_ok("a#b\"c<d>e[f]g:h`i^j{k}l|m@x.org",
	    "sip:a%23b%22c%3Cd%3Ee%5Bf%5Dg%3Ah%60i%5Ej%7Bk%7Dl%7Cm@x.org");
	/* other backslashes are ordinary characters */
	j2s_ok("c\\3a\\net@x.org", "sip:c%3A%5Cnet@x.org");
	j2s_ok("a\\zz@x.org", "sip:a%5Czz@x.org");
	j2s_ok("a\\2F@x.org", "sip:a%5C2F@x.org");
	j2s_ok("a\\@x.org", "sip:a%5C@x.org");
	j2s_ok("a\\2@x.org", "sip:a%5C2@x.org");
	/* one pass: \5c40 is a backslash and "40" */
	j2s_ok("a\\5c40@x.org", "sip:a%5C40@x.org");
}

ATF_TC_WITHOUT_HEAD(jid_to_sip_refuses);
ATF_TC_BODY(jid_to_sip_refuses, tc)
{
	j2s_fail("");
	j2s_fail("example.com");
	j2s_fail("example.com/r@x");
	j2s_fail("@example.com");
	j2s_fail("a@");
	j2s_fail("a@/r");
	j2s_fail("a@-x.org");
	j2s_fail("a@x-.org");
	j2s_fail("a@x..org");
	j2s_fail("a@.x.org");
	j2s_fail("a@x.org.");
	j2s_fail("a@x_y.org");
	j2s_fail("a@b@x.org");
	j2s_fail("a@1.2.3.4");
	j2s_fail("a@[::1]");
	j2s_fail("a@x.org:5269");
	j2s_fail("a@ex\xc3\xa4mple.org");	/* U-labels are not mapped */
	j2s_fail(rep("a@", 'x', 64, ".org"));
	j2s_ok(rep("a@", 'x', 63, ".org"), rep("sip:a@", 'x', 63, ".org"));
	j2s_fail(rep("a@", 'x', 250, ".org"));
	/* controls and broken UTF-8, anywhere */
	j2s_fail("a\tb@x.org");
	j2s_fail("a@x.org/r\r\n");
	j2s_fail("a\x7f@x.org");
	j2s_fail("a\xc2\x80@x.org");		/* C1 */
	j2s_fail("a@x.org/\xc2\x9f");
	j2s_fail("a\xff@x.org");
	j2s_fail("a\xc3@x.org");		/* cut short */
	j2s_fail("a\xc0\xaf@x.org");		/* overlong */
	j2s_fail("a\xed\xa0\x80@x.org");	/* surrogate */
	j2s_fail("a\xf4\x90\x80\x80@x.org");	/* past U+10FFFF */
	/* lengths */
	j2s_ok(rep("", 'a', 1023, "@x.org"), rep("sip:", 'a', 1023, "@x.org"));
	j2s_fail(rep("", 'a', 1024, "@x.org"));
}

ATF_TC_WITHOUT_HEAD(sip_to_jid_basic);
ATF_TC_BODY(sip_to_jid_basic, tc)
{
	char	 buf[16];

	s2j_ok("sip:juliet@example.com", "juliet@example.com");
	s2j_ok("sips:juliet@example.com", "juliet@example.com");
	/* the scheme is case-insensitive, the user part case-sensitive */
	s2j_ok("SIP:Juliet@EXAMPLE.com", "Juliet@example.com");
	s2j_ok("SiPs:Juliet@Example.Com", "Juliet@example.com");
	s2j_ok("sip:a%41%62@x.org", "aAb@x.org");
	s2j_ok("sip:j%C3%B6rg@example.com", "j\xc3\xb6rg@example.com");
	s2j_ok("sip:j%c3%b6rg@example.com", "j\xc3\xb6rg@example.com");
	s2j_ok("sip:+1-212-555-1212@x.org", "+1-212-555-1212@x.org");
	s2j_ok("sip:a-b_c.d!e~f*g(h)=i+j$k,l@x.org",
	    "a-b_c.d!e~f*g(h)=i+j$k,l@x.org");
	/* "a@b.c" is 5 bytes and its NUL */
	ATF_CHECK_EQ(map_sip_to_jid("sip:a@b.c", buf, 6), 0);
	ATF_CHECK_STREQ(buf, "a@b.c");
	ATF_CHECK_EQ(map_sip_to_jid("sip:a@b.c", buf, 5), -1);
	ATF_CHECK_EQ(map_sip_to_jid("sip:a@b.c;gr=x", buf, 7), -1);
	ATF_CHECK_EQ(map_sip_to_jid("sip:a@b.c", buf, 0), -1);
	ATF_CHECK_EQ(map_sip_to_jid(NULL, buf, sizeof(buf)), -1);
}

ATF_TC_WITHOUT_HEAD(sip_to_jid_gruu_and_params_dropped);
ATF_TC_BODY(sip_to_jid_gruu_and_params_dropped, tc)
{
	s2j_ok("sip:juliet@example.com;gr=yn0cl4bnw0yr3vym",
	    "juliet@example.com/yn0cl4bnw0yr3vym");
	s2j_ok("sip:j@x.org;transport=tls;gr=abc;lr", "j@x.org/abc");
	s2j_ok("sip:j@x.org;maddr=192.0.2.1;user=phone", "j@x.org");
	s2j_ok("sip:j@x.org;GR=abc", "j@x.org/abc");
	s2j_ok("sip:j@x.org;gruu=abc", "j@x.org");
	/* a bare ";gr" names no instance */
	s2j_ok("sip:j@x.org;gr", "j@x.org");
	s2j_ok("sip:j@x.org;gr=a%2Fb%20c%3Bd%40e", "j@x.org/a/b c;d@e");
	s2j_ok("sip:j@x.org;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	    "j@x.org/urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
	s2j_ok("sip:j@x.org;gr=caf%C3%A9", "j@x.org/caf\xc3\xa9");
	/* the case of a resource is kept */
	s2j_ok("sip:j@x.org;gr=ABC", "j@x.org/ABC");
	/* RFC 3261's own example: ';' raw inside the user part */
	s2j_ok("sip:alice;day=tuesday@atlanta.com",
	    "alice;day=tuesday@atlanta.com");
	s2j_fail("sip:j@x.org;gr=a;gr=b");
	s2j_fail("sip:j@x.org;gr=a;gr");
	s2j_fail("sip:j@x.org;gr=");
	s2j_fail("sip:j@x.org;gr=%0D");
	s2j_fail("sip:j@x.org;gr=%00");
	s2j_fail("sip:j@x.org;gr=%C3");
	s2j_fail("sip:j@x.org;gr=a\"b");
	s2j_fail("sip:j@x.org;");
	s2j_fail("sip:j@x.org;;lr");
	s2j_fail("sip:j@x.org;=x");
	s2j_fail("sip:j@x.org;lr=a=b");
	s2j_ok(rep("sip:j@x.org;gr=", 'r', 1023, ""),
	    rep("j@x.org/", 'r', 1023, ""));
	s2j_fail(rep("sip:j@x.org;gr=", 'r', 1024, ""));
}

ATF_TC_WITHOUT_HEAD(sip_to_jid_xep0106_escapes);
ATF_TC_BODY(sip_to_jid_xep0106_escapes, tc)
{
	char	 want[BUFLEN], *p;
	size_t	 i;

	s2j_ok("sip:a%20b@x.org", "a\\20b@x.org");
	s2j_ok("sip:%22%26%27%2F%3A%3C%3E%40@x.org",
	    "\\22\\26\\27\\2f\\3a\\3c\\3e\\40@x.org");
	/* the same characters where SIP allows them raw */
	s2j_ok("sip:a&b'c/d@x.org", "a\\26b\\27c\\2fd@x.org");
	/* leading and trailing space are escaped like any other */
	s2j_ok("sip:%20a%20@x.org", "\\20a\\20@x.org");
	/* a backslash is escaped only where it would read as an escape */
	s2j_ok("sip:c%3A%5Cnet@x.org", "c\\3a\\net@x.org");
	s2j_ok("sip:c%3A%5Ccool%20stuff@x.org", "c\\3a\\cool\\20stuff@x.org");
	s2j_ok("sip:c%3A%5C5commas@x.org", "c\\3a\\5c5commas@x.org");
	s2j_ok("sip:a%5C5cb@x.org", "a\\5c5cb@x.org");
	s2j_ok("sip:a%5C20b@x.org", "a\\5c20b@x.org");
	s2j_ok("sip:a%5C2Fb@x.org", "a\\2Fb@x.org");
	s2j_ok("sip:a%5C@x.org", "a\\@x.org");
	s2j_ok("sip:%5C%5C@x.org", "\\\\@x.org");
	/* characters a localpart holds as they are */
	s2j_ok("sip:a%3Bb%3Fc%25d%23e@x.org", "a;b?c%d#e@x.org");
	/* escaping must not push the localpart past 1023 bytes */
	s2j_ok(rep("sip:", 'a', 1023, "@x.org"), rep("", 'a', 1023, "@x.org"));
	s2j_fail(rep("sip:", 'a', 1024, "@x.org"));
	s2j_fail(rep("sip:a", '&', 341, "@x.org"));
	for (i = 0, p = want; i < 341; i++, p += 3)
		memcpy(p, "\\26", 3);
	(void)strlcpy(p, "@x.org", sizeof(want) - (p - want));
	s2j_ok(rep("sip:", '&', 341, "@x.org"), want);
}

ATF_TC_WITHOUT_HEAD(sip_to_jid_refuses);
ATF_TC_BODY(sip_to_jid_refuses, tc)
{
	/* no XMPP domain */
	s2j_fail("sip:a@192.0.2.1");
	s2j_fail("sip:a@[2001:db8::1]");
	s2j_fail("sip:a@x.org.");
	s2j_fail("sip:a@-x.org");
	s2j_fail("sip:a@x_y.org");
	s2j_fail("sip:a@");
	s2j_fail("sip:a@;gr=x");
	/* a port, headers */
	s2j_fail("sip:a@x.org:5060");
	s2j_fail("sip:a@x.org:5060;gr=x");
	s2j_fail("sip:a@x.org?subject=hi");
	s2j_fail("sip:a@x.org;gr=x?subject=hi");
	s2j_fail("sip:a?b@x.org");
	/* bad escapes */
	s2j_fail("sip:a%2@x.org");
	s2j_fail("sip:a%@x.org");
	s2j_fail("sip:a%zz@x.org");
	s2j_fail("sip:a%g0@x.org");
	s2j_fail("sip:a%00b@x.org");
	s2j_fail("sip:a%0Ab@x.org");
	s2j_fail("sip:a%7Fb@x.org");
	s2j_fail("sip:a%FFb@x.org");
	s2j_fail("sip:a%C3@x.org");
	s2j_fail("sip:a%C0%AF@x.org");
	s2j_fail("sip:a%C2%85@x.org");
	/* noncharacters: U+FFFE and U+FFFF are no XML, the others no name */
	s2j_fail("sip:a%EF%BF%BFdmin@x.org");
	s2j_fail("sip:a%EF%BF%BEdmin@x.org");
	s2j_fail("sip:a%EF%B7%90@x.org");
	s2j_fail("sip:a%F0%9F%BF%BF@x.org");
	s2j_fail("sip:admin@x.org;gr=%EF%BF%BE");
	/* escaped by XEP-0106 past the length of a localpart */
	s2j_fail(rep("sip:", '&', 342, "@x.org"));
	/* no user, or something else where it should be */
	s2j_fail("sip:x.org");
	s2j_fail("sip:@x.org");
	s2j_fail("sip:x.org;gr=a");
	s2j_fail("sip:a:secret@x.org");
	s2j_fail("sip:a\\b@x.org");
	s2j_fail("sip:a\"b@x.org");
	s2j_fail("sip:a<b@x.org");
	/* not a SIP URI, or not one at all */
	s2j_fail("");
	s2j_fail("sip:");
	s2j_fail("sip");
	s2j_fail("tel:+12125551212");
	s2j_fail("xmpp:a@x.org");
	s2j_fail("sipx:a@x.org");
	s2j_fail(" sip:a@x.org");
	s2j_fail("<sip:a@x.org>");
	/* raw bytes a URI cannot hold */
	s2j_fail("sip:a b@x.org");
	s2j_fail("sip:a@x.org\r\n");
	s2j_fail("sip:j\xc3\xb6rg@x.org");
	s2j_fail("sip:a@x.org;gr=\xc3\xa9");
}

/*
 * The round trip: for a JID made from a SIP URI, the URI made from
 * that JID gives the same JID again, and is a fixed point itself.
 */
static void
roundtrip(const char *uri)
{
	char	 jid[BUFLEN], back[BUFLEN], jid2[BUFLEN], back2[BUFLEN];

	ATF_REQUIRE_EQ_MSG(map_sip_to_jid(uri, jid, sizeof(jid)), 0,
	    "map_sip_to_jid(\"%s\") refused", uri);
	ATF_REQUIRE_EQ_MSG(map_jid_to_sip(jid, back, sizeof(back)), 0,
	    "map_jid_to_sip(\"%s\") refused (from \"%s\")", jid, uri);
	ATF_REQUIRE_EQ_MSG(map_sip_to_jid(back, jid2, sizeof(jid2)), 0,
	    "map_sip_to_jid(\"%s\") refused (from \"%s\")", back, uri);
	ATF_CHECK_STREQ_MSG(jid, jid2, "%s -> %s -> %s -> %s", uri, jid,
	    back, jid2);
	ATF_REQUIRE_EQ(map_jid_to_sip(jid2, back2, sizeof(back2)), 0);
	ATF_CHECK_STREQ_MSG(back, back2, "%s not a fixed point", back);
}

ATF_TC_WITHOUT_HEAD(roundtrip_property);
ATF_TC_BODY(roundtrip_property, tc)
{
	static const char *const	 more[] = {
		"%C3%A9", "%E2%82%AC", "%F0%9F%98%80", "caf%C3%A9",
		"a%5C5cb", "a%5C20b", "%5C40", "a%5C", "%5C", "%5C%5C",
		"%5C5c5c", "c%3A%5Cnet", "a%5C2Fb", "a%5Czz", "%20%20",
		"%5C%20", "%5C%5C40"
	};
	static const char *const	 hosts[] = {
		"x.org", "EXAMPLE.com", "a-b.c-d.example"
	};
	char				 u[BUFLEN], r[BUFLEN];
	size_t				 i, h, n = 0;
	int				 c;

	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		for (c = 0x20; c < 0x7f; c++) {
			/* alone, and between letters, %-escaped */
			(void)snprintf(u, sizeof(u), "sip:%%%02X@%s", c,
			    hosts[h]);
			roundtrip(u);
			(void)snprintf(u, sizeof(u), "sip:a%%%02Xb@%s;gr=a"
			    "%%%02Xb", c, hosts[h], c);
			roundtrip(u);
			(void)snprintf(u, sizeof(u), "sip:%%%02X@%s;gr=%%%02X",
			    c, hosts[h], c);
			roundtrip(u);
			n += 3;
			/* and raw, where SIP allows it */
			if (isalnum(c) || strchr("-_.!~*'()&=+$,/", c) !=
			    NULL) {
				(void)snprintf(u, sizeof(u), "sip:%c@%s", c,
				    hosts[h]);
				roundtrip(u);
				(void)snprintf(u, sizeof(u), "sip:x%cy@%s", c,
				    hosts[h]);
				roundtrip(u);
				n += 2;
			}
			if (isalnum(c) || strchr("-_.!~*'()[]/:&+$", c) !=
			    NULL) {
				(void)snprintf(u, sizeof(u), "sip:a@%s;gr=%c",
				    hosts[h], c);
				roundtrip(u);
				n++;
			}
		}
		for (i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
			(void)snprintf(u, sizeof(u), "sips:%s@%s;gr=%s;lr",
			    more[i], hosts[h], more[i]);
			roundtrip(u);
			(void)snprintf(r, sizeof(r), "sip:x%sy@%s", more[i],
			    hosts[h]);
			roundtrip(r);
			n += 2;
		}
	}
	/* a raw ';' before the '@' is part of the user */
	roundtrip("sip:alice;day=tuesday@x.org");
	ATF_CHECK(n > 1000);
}

ATF_TC_WITHOUT_HEAD(error_tables_xmpp_to_sip);
ATF_TC_BODY(error_tables_xmpp_to_sip, tc)
{
	static const struct {
		const char	*cond;
		int		 code;
	} t[] = {
		{ "bad-request", 400 },
		{ "conflict", 400 },
		{ "feature-not-implemented", 501 },
		{ "forbidden", 403 },
		{ "gone", 410 },
		{ "internal-server-error", 500 },
		{ "item-not-found", 404 },
		{ "jid-malformed", 400 },
		{ "not-acceptable", 406 },
		{ "not-allowed", 405 },
		{ "not-authorized", 401 },
		{ "policy-violation", 403 },
		{ "recipient-unavailable", 480 },
		{ "redirect", 302 },
		{ "registration-required", 400 },
		{ "remote-server-not-found", 404 },
		{ "remote-server-timeout", 408 },
		{ "resource-constraint", 500 },
		{ "service-unavailable", 503 },
		{ "subscription-required", 400 },
		{ "undefined-condition", 400 },
		{ "unexpected-request", 491 },
		/* unknown conditions */
		{ "", 500 },
		{ "payment-required", 500 },
		{ "Bad-Request", 500 },
		{ "bad-request ", 500 },
		{ "host-unknown", 500 }
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ATF_CHECK_EQ_MSG(map_xmpp_error_to_sip(t[i].cond), t[i].code,
		    "%s: got %d, want %d", t[i].cond,
		    map_xmpp_error_to_sip(t[i].cond), t[i].code);
	ATF_CHECK_EQ(map_xmpp_error_to_sip(NULL), 500);
}

ATF_TC_WITHOUT_HEAD(error_tables_sip_to_xmpp);
ATF_TC_BODY(error_tables_sip_to_xmpp, tc)
{
	static const struct {
		int		 code;
		const char	*cond;
	} t[] = {
		{ 300, "redirect" },
		{ 301, "gone" },
		{ 302, "redirect" },
		{ 305, "redirect" },
		{ 380, "not-acceptable" },
		{ 400, "bad-request" },
		{ 401, "not-authorized" },
		{ 402, "bad-request" },
		{ 403, "forbidden" },
		{ 404, "item-not-found" },
		{ 405, "not-allowed" },
		{ 406, "not-acceptable" },
		{ 407, "registration-required" },
		{ 408, "remote-server-timeout" },
		{ 410, "gone" },
		{ 413, "policy-violation" },
		{ 414, "policy-violation" },
		{ 415, "bad-request" },
		{ 416, "bad-request" },
		{ 420, "bad-request" },
		{ 421, "bad-request" },
		{ 423, "bad-request" },
		{ 480, "recipient-unavailable" },
		{ 481, "item-not-found" },
		{ 482, "not-acceptable" },
		{ 483, "not-acceptable" },
		{ 484, "item-not-found" },
		{ 485, "item-not-found" },
		{ 486, "recipient-unavailable" },
		{ 487, "service-unavailable" },
		{ 488, "not-acceptable" },
		{ 491, "unexpected-request" },
		{ 493, "bad-request" },
		{ 500, "internal-server-error" },
		{ 501, "feature-not-implemented" },
		{ 502, "remote-server-not-found" },
		{ 503, "service-unavailable" },
		{ 504, "remote-server-timeout" },
		{ 505, "not-acceptable" },
		{ 513, "policy-violation" },
		{ 600, "service-unavailable" },
		{ 603, "service-unavailable" },
		{ 604, "item-not-found" },
		{ 606, "not-acceptable" },
		/* not in the table: the x00 of the class (RFC 3261 8.1.3.2) */
		{ 303, "redirect" },
		{ 399, "redirect" },
		{ 409, "bad-request" },
		{ 412, "bad-request" },
		{ 422, "bad-request" },
		{ 489, "bad-request" },
		{ 499, "bad-request" },
		{ 506, "internal-server-error" },
		{ 580, "internal-server-error" },
		{ 599, "internal-server-error" },
		{ 601, "service-unavailable" },
		{ 607, "service-unavailable" },
		{ 699, "service-unavailable" },
		/* no error at all: still a condition, never NULL */
		{ 100, "undefined-condition" },
		{ 200, "undefined-condition" },
		{ 299, "undefined-condition" },
		{ 700, "undefined-condition" },
		{ 0, "undefined-condition" },
		{ -404, "undefined-condition" }
	};
	size_t		 i;
	const char	*got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = map_sip_to_xmpp_error(t[i].code);
		ATF_REQUIRE_MSG(got != NULL, "%d: NULL", t[i].code);
		ATF_CHECK_STREQ_MSG(got, t[i].cond, "%d", t[i].code);
	}
}

ATF_TC_WITHOUT_HEAD(reason_phrases);
ATF_TC_BODY(reason_phrases, tc)
{
	static const struct {
		int		 code;
		const char	*reason;
	} t[] = {
		{ 100, "Trying" },
		{ 180, "Ringing" },
		{ 183, "Session Progress" },
		{ 200, "OK" },
		{ 202, "Accepted" },
		{ 301, "Moved Permanently" },
		{ 302, "Moved Temporarily" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 410, "Gone" },
		{ 415, "Unsupported Media Type" },
		{ 480, "Temporarily Unavailable" },
		{ 481, "Call/Transaction Does Not Exist" },
		{ 486, "Busy Here" },
		{ 487, "Request Terminated" },
		{ 488, "Not Acceptable Here" },
		{ 491, "Request Pending" },
		{ 500, "Server Internal Error" },
		{ 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 504, "Server Time-out" },
		{ 513, "Message Too Large" },
		{ 600, "Busy Everywhere" },
		{ 603, "Decline" },
		{ 604, "Does Not Exist Anywhere" },
		{ 606, "Not Acceptable" },
		{ 0, "Unknown" },
		{ 299, "Unknown" },
		{ 499, "Unknown" },
		{ 999, "Unknown" },
		{ -1, "Unknown" }
	};
	size_t	 i;
	int	 c;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ATF_CHECK_STREQ_MSG(map_sip_reason(t[i].code), t[i].reason,
		    "%d", t[i].code);
	/* every code the error mapping can produce has a phrase */
	for (c = 300; c < 700; c++)
		if (map_xmpp_error_to_sip(map_sip_to_xmpp_error(c)) != 0)
			ATF_CHECK_MSG(strcmp(map_sip_reason(
			    map_xmpp_error_to_sip(map_sip_to_xmpp_error(c))),
			    "Unknown") != 0, "%d", c);
}

static void
thread_is(const char *thread, const char *want)
{
	char	 buf[BUFLEN];

	ATF_REQUIRE_EQ_MSG(map_thread_to_callid(thread, buf, sizeof(buf)), 0,
	    "map_thread_to_callid(\"%s\") refused", thread);
	ATF_CHECK_STREQ_MSG(buf, want, "map_thread_to_callid(\"%s\")",
	    thread);
}

/* a Call-ID: word [ "@" word ], word of RFC 3261 characters */
static int
callid_valid(const char *s)
{
	const char	*set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			    "WXYZ0123456789-.!%*_+`'~()<>:\\\"/[]?{}@";

	return (*s != '\0' && strspn(s, set) == strlen(s) &&
	    (strchr(s, '@') == NULL || strchr(s, '@') == strrchr(s, '@')));
}

ATF_TC_WITHOUT_HEAD(thread_to_callid);
ATF_TC_BODY(thread_to_callid, tc)
{
	char	 a[BUFLEN], b[BUFLEN], big[MAP_CALLID_TOKEN + 2];
	const char *odd[] = { "has space", "<xml>", "a@b@c", "@lead",
		    "trail@", "\xc3\xa9t\xc3\xa9", "semi;colon", "" };
	size_t	 i;

	/* tokens, and one inner '@', are kept: they come back unchanged */
	thread_is("e0ffe42b28561960c6b1", "e0ffe42b28561960c6b1");
	thread_is("abc-DEF.1!%*_+`'~", "abc-DEF.1!%*_+`'~");
	thread_is("conv7@client.example", "conv7@client.example");
	memset(big, 'x', MAP_CALLID_TOKEN);
	big[MAP_CALLID_TOKEN] = '\0';
	thread_is(big, big);
	/* anything else: a stable, valid Call-ID of its own */
	big[MAP_CALLID_TOKEN] = 'x';
	big[MAP_CALLID_TOKEN + 1] = '\0';
	for (i = 0; i < (sizeof(odd) / sizeof(odd[0])) + 1; i++) {
		const char *t = i < (sizeof(odd) / sizeof(odd[0])) ? odd[i] : big;

		ATF_REQUIRE_EQ(map_thread_to_callid(t, a, sizeof(a)), 0);
		ATF_REQUIRE_EQ(map_thread_to_callid(t, b, sizeof(b)), 0);
		ATF_CHECK_STREQ(a, b);
		ATF_CHECK_EQ_MSG(strlen(a), 34, "\"%s\" -> \"%s\"", t, a);
		ATF_CHECK_MSG(strncmp(a, "t-", 2) == 0 && callid_valid(a),
		    "\"%s\" -> \"%s\"", t, a);
	}
	/* different threads, different Call-IDs */
	ATF_REQUIRE_EQ(map_thread_to_callid("a b", a, sizeof(a)), 0);
	ATF_REQUIRE_EQ(map_thread_to_callid("b a", b, sizeof(b)), 0);
	ATF_CHECK(strcmp(a, b) != 0);
	/* no room: refused, never truncated */
	ATF_CHECK_EQ(map_thread_to_callid("abcdef", a, 6), -1);
	ATF_CHECK_EQ(map_thread_to_callid("a b", a, 34), -1);
}

ATF_TC_WITHOUT_HEAD(lang_tags);
ATF_TC_BODY(lang_tags, tc)
{
	const char *good[] = { "en", "de-CH", "zh-Hant-TW", "sr-Latn-RS",
		    "es-419", "x-klingon", "abcdefgh-12345678" };
	const char *bad[] = { "", "-", "en-", "-en", "en--us", "en_US",
		    "en, fr", "en\r\nX-Injected: 1", "en US", "1en",
		    "abcdefghi", "en-123456789", "\xc3\xa9n", "en;q=1" };
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_MSG(map_lang_ok(good[i]), "\"%s\" refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(!map_lang_ok(bad[i]), "\"%s\" taken", bad[i]);
}

static struct map_message
message_base(void)
{
	struct map_message	 m;

	memset(&m, 0, sizeof(m));
	m.from = "alice@partner.test/phone";
	m.to = "bob@gw.test/laptop";
	m.transport = "TCP";
	m.sent_by = "127.0.0.20:5060";
	m.branch = "z9hG4bKb1";
	m.callid = "c1@xmppgwd";
	m.tag = 42;
	m.cseq = 7;
	return (m);
}

ATF_TC_WITHOUT_HEAD(message_request);
ATF_TC_BODY(message_request, tc)
{
	struct map_message	 m = message_base();
	struct xbuf		 b;
	char			 res[2500], to[2600];
	const char		*want =
	    "MESSAGE sip:bob@gw.test SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.20:5060;branch=z9hG4bKb1\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:alice@partner.test;gr=phone>;tag=0000002a\r\n"
	    "To: <sip:bob@gw.test>\r\n"
	    "Call-ID: t1\r\n"
	    "CSeq: 7 MESSAGE\r\n"
	    "Subject: hi\r\n"
	    "Content-Language: de-CH\r\n"
	    "Content-Type: text/plain;charset=UTF-8\r\n"
	    "Content-Length: 6\r\n\r\n"
	    "hello\n";

	m.thread = "t1";
	m.subject = "hi";
	m.lang = "de-CH";
	m.body = "hello\n";
	xbuf_init(&b);
	ATF_REQUIRE(map_message(&b, &m) == 0);
	ATF_REQUIRE(!b.error);
	ATF_CHECK_MSG(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
	    "got \"%.*s\"", (int)b.len, b.data);
	xbuf_free(&b);

	/* no thread, subject, language or body */
	m = message_base();
	xbuf_init(&b);
	ATF_REQUIRE(map_message(&b, &m) == 0);
	ATF_CHECK(memmem(b.data, b.len, "Call-ID: c1@xmppgwd\r\n", 21) != NULL);
	ATF_CHECK(memmem(b.data, b.len, "Subject", 7) == NULL);
	ATF_CHECK(memmem(b.data, b.len, "Content-Language", 16) == NULL);
	ATF_CHECK(b.len > 21 &&
	    memcmp(b.data + b.len - 21, "Content-Length: 0\r\n\r\n", 21) == 0);
	xbuf_free(&b);

	/* a resource of the recipient's is not part of the Request-URI */
	memset(res, 'r', sizeof(res) - 1);
	res[sizeof(res) - 1] = '\0';
	snprintf(to, sizeof(to), "bob@gw.test/%s", res);
	m.to = to;
	xbuf_init(&b);
	ATF_REQUIRE(map_message(&b, &m) == 0);
	ATF_CHECK(b.len > 32 &&
	    memcmp(b.data, "MESSAGE sip:bob@gw.test SIP/2.0\r\n", 33) == 0);
	xbuf_free(&b);

	/* an address that cannot be mapped: nothing written */
	m.from = "partner.test";
	xbuf_init(&b);
	ATF_CHECK(map_message(&b, &m) == -1);
	ATF_CHECK(b.len == 0);
	xbuf_free(&b);
}

ATF_TC_WITHOUT_HEAD(message_request_injection);
ATF_TC_BODY(message_request_injection, tc)
{
	const char *names[] = { "Via", "Max-Forwards", "From", "To",
		    "Call-ID", "CSeq", "Subject", "Content-Type",
		    "Content-Length" };
	struct map_message	 m = message_base();
	struct sipmsg		 sm;
	struct xbuf		 b;
	char			 err[128];
	size_t			 used, i;
	int			 code;

	/* every way a value from the stanza could end a header line, and
	 * DEL, which XML carries and a SIP header may not */
	m.subject = "a\r\nTo: <sip:evil@example>\r\n\r\nMESSAGE x\n\r\x7f" "b";
	m.lang = "en\r\nX-Injected: 1";
	m.thread = "t\r\nCall-ID: evil";
	m.body = "\r\n\r\nMESSAGE sip:evil@example SIP/2.0\r\n"
	    "Content-Length: 0\r\n\r\n";
	xbuf_init(&b);
	ATF_REQUIRE(map_message(&b, &m) == 0);
	ATF_REQUIRE_MSG(sipmsg_parse(&sm, b.data, b.len, &used, &code, err,
	    sizeof(err)) == 1, "%d %s: %.*s", code, err, (int)b.len, b.data);
	ATF_CHECK_MSG(used == b.len, "%zu of %zu bytes read", used, b.len);
	ATF_CHECK(sm.request && strcmp(sm.method, "MESSAGE") == 0);
	ATF_REQUIRE_MSG(sm.nheaders == sizeof(names) / sizeof(names[0]),
	    "%zu headers", sm.nheaders);
	for (i = 0; i < sm.nheaders; i++)
		ATF_CHECK_MSG(strcmp(sm.headers[i].name, names[i]) == 0,
		    "header %zu is %s", i, sm.headers[i].name);
	ATF_CHECK_STREQ(sm.to, "<sip:bob@gw.test>");
	ATF_CHECK_STREQ(sm.subject,
	    "aTo: <sip:evil@example>MESSAGE xb");
	ATF_CHECK(strncmp(sm.call_id, "t-", 2) == 0);
	ATF_CHECK(sm.bodylen == strlen(m.body) &&
	    memcmp(sm.body, m.body, sm.bodylen) == 0);
	sipmsg_free(&sm);
	xbuf_free(&b);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, jid_to_sip_basic);
	ATF_TP_ADD_TC(tp, jid_to_sip_resource_as_gruu);
	ATF_TP_ADD_TC(tp, jid_to_sip_escapes);
	ATF_TP_ADD_TC(tp, jid_to_sip_refuses);
	ATF_TP_ADD_TC(tp, sip_to_jid_basic);
	ATF_TP_ADD_TC(tp, sip_to_jid_gruu_and_params_dropped);
	ATF_TP_ADD_TC(tp, sip_to_jid_xep0106_escapes);
	ATF_TP_ADD_TC(tp, sip_to_jid_refuses);
	ATF_TP_ADD_TC(tp, roundtrip_property);
	ATF_TP_ADD_TC(tp, error_tables_xmpp_to_sip);
	ATF_TP_ADD_TC(tp, error_tables_sip_to_xmpp);
	ATF_TP_ADD_TC(tp, reason_phrases);
	ATF_TP_ADD_TC(tp, thread_to_callid);
	ATF_TP_ADD_TC(tp, lang_tags);
	ATF_TP_ADD_TC(tp, message_request);
	ATF_TP_ADD_TC(tp, message_request_injection);

	return (atf_no_error());
}
