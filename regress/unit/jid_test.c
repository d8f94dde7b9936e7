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
 * Unit tests of the JID helpers in xmppgwd/stanza.c that routing and
 * the partner-type rules depend on: the domain of a JID (an '@' in the
 * resource does not make one, RFC 7622) and the canonical bare JID that
 * authorisations are stored under.
 */

#include <string.h>

#include <atf-c.h>

#include "xmppgwd.h"
#include "stanza.h"

static void
domain_is(const char *jid, const char *want)
{
	char		 buf[XGW_NAME_MAX];
	const char	*got;

	got = jid_domain(jid, buf, sizeof(buf));
	if (want == NULL)
		ATF_CHECK_MSG(got == NULL, "jid_domain(\"%s\") = \"%s\"", jid,
		    got);
	else if (got == NULL)
		ATF_CHECK_MSG(0, "jid_domain(\"%s\") refused", jid);
	else
		ATF_CHECK_STREQ_MSG(got, want, "jid_domain(\"%s\")", jid);
}

static void
bare_is(const char *jid, const char *want)
{
	char		 buf[JID_MAX];
	const char	*got;

	got = jid_bare(jid, buf, sizeof(buf));
	if (want == NULL)
		ATF_CHECK_MSG(got == NULL, "jid_bare(\"%s\") = \"%s\"", jid,
		    got);
	else if (got == NULL)
		ATF_CHECK_MSG(0, "jid_bare(\"%s\") refused", jid);
	else
		ATF_CHECK_STREQ_MSG(got, want, "jid_bare(\"%s\")", jid);
}

ATF_TC_WITHOUT_HEAD(domain);
ATF_TC_BODY(domain, tc)
{
	domain_is("alice@Example.COM/res", "example.com");
	domain_is("example.com", "example.com");
	domain_is("example.com/res", "example.com");
	domain_is("alice@example.com", "example.com");
	/* the '@' of a resource is not the localpart's */
	domain_is("partner.test/x@victim.test", "partner.test");
	domain_is("a@partner.test/x@victim.test", "partner.test");
	domain_is("", NULL);
	domain_is("alice@", NULL);
	domain_is("alice@/res", NULL);
	domain_is("alice@bad domain", NULL);
}

ATF_TC_WITHOUT_HEAD(bare);
ATF_TC_BODY(bare, tc)
{
	bare_is("Alice@Example.COM/Phone", "alice@example.com");
	bare_is("alice@example.com", "alice@example.com");
	bare_is("a.b-c_d+e@x.example", "a.b-c_d+e@x.example");
	/* XEP-0106 escapes stay as they are */
	bare_is("john\\20doe@x.example", "john\\20doe@x.example");
	/* no localpart, or one that no JID can have */
	bare_is("example.com", NULL);
	bare_is("@example.com", NULL);
	bare_is("example.com/a@b.example", NULL);
	bare_is("a b@example.com", NULL);
	bare_is("a:b@example.com", NULL);
	bare_is("a<b@example.com", NULL);
	bare_is("a\"b@example.com", NULL);
	bare_is("a\tb@example.com", NULL);
	bare_is("alice@", NULL);
}

ATF_TC_WITHOUT_HEAD(bare_too_long);
ATF_TC_BODY(bare_too_long, tc)
{
	char	 jid[1100 + 16], buf[JID_MAX];

	memset(jid, 'a', 1023);
	strcpy(jid + 1023, "@x.example");
	ATF_CHECK(jid_bare(jid, buf, sizeof(buf)) != NULL);
	memset(jid, 'a', 1024);
	strcpy(jid + 1024, "@x.example");
	ATF_CHECK(jid_bare(jid, buf, sizeof(buf)) == NULL);
	/* never more than the buffer */
	ATF_CHECK(jid_bare("alice@example.com", buf, 17) == NULL);
	ATF_CHECK(jid_bare("alice@example.com", buf, 18) != NULL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, domain);
	ATF_TP_ADD_TC(tp, bare);
	ATF_TP_ADD_TC(tp, bare_too_long);
	return (atf_no_error());
}
