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
 * Unit tests of the parser's keyword table (xmppgwd/parse.y): the lexer
 * finds keywords with bsearch, so the table must be sorted, and it must
 * hold exactly the words of the grammar.  The grammar itself is tested
 * through xmppgwd -n in regress/config.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "xmppgwd.h"

/* Every keyword of xmppgwd.conf(5), in any order. */
static const char *grammar_words[] = {
	"user", "prefork", "chroot", "state", "directory", "socket", "ca",
	"file", "dialback", "secret", "resolver", "option", "listen", "on",
	"port", "tls", "limits", "connections", "per-partner", "stanza-size",
	"timeouts", "establish", "idle", "keepalive", "subscription-refresh",
	"domain", "certificate", "key", "sip", "proxy", "tcp", "trusted",
	"partner", "description", "additional", "domains", "type",
	"federated", "public", "verified", "unverified", "required",
	"optional", "not", "supported", "sasl", "yes", "no", "include",
	"users", "all", "read-rate",
};

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keywords *)e)->k_name));
}

static const struct keywords *
kw_find(const char *word)
{
	const struct keywords	*kw;
	size_t			 n;

	kw = parse_keywords(&n);
	return (bsearch(word, kw, n, sizeof(kw[0]), kw_cmp));
}

ATF_TC(keywords_sorted);
ATF_TC_HEAD(keywords_sorted, tc)
{
	atf_tc_set_md_var(tc, "descr", "the keyword table is sorted by "
	    "strcmp and holds no name twice");
}
ATF_TC_BODY(keywords_sorted, tc)
{
	const struct keywords	*kw;
	size_t			 n, i;

	kw = parse_keywords(&n);
	ATF_REQUIRE(kw != NULL);
	ATF_REQUIRE(n > 0);
	for (i = 0; i < n; i++) {
		ATF_REQUIRE(kw[i].k_name != NULL);
		ATF_CHECK_MSG(*kw[i].k_name != '\0', "entry %zu is empty", i);
		if (i > 0)
			ATF_CHECK_MSG(strcmp(kw[i - 1].k_name,
			    kw[i].k_name) < 0, "\"%s\" before \"%s\"",
			    kw[i - 1].k_name, kw[i].k_name);
	}
}

ATF_TC(keywords_tokens);
ATF_TC_HEAD(keywords_tokens, tc)
{
	atf_tc_set_md_var(tc, "descr", "each keyword has a token of its "
	    "own, above the character tokens");
}
ATF_TC_BODY(keywords_tokens, tc)
{
	const struct keywords	*kw;
	size_t			 n, i, j;

	kw = parse_keywords(&n);
	for (i = 0; i < n; i++) {
		ATF_CHECK_MSG(kw[i].k_val > 255, "\"%s\": token %d",
		    kw[i].k_name, kw[i].k_val);
		for (j = 0; j < i; j++)
			ATF_CHECK_MSG(kw[i].k_val != kw[j].k_val,
			    "\"%s\" and \"%s\" share token %d", kw[i].k_name,
			    kw[j].k_name, kw[i].k_val);
	}
}

ATF_TC(keywords_lookup);
ATF_TC_HEAD(keywords_lookup, tc)
{
	atf_tc_set_md_var(tc, "descr", "bsearch through parse_keywords finds "
	    "every entry, and nothing that is not a keyword");
}
ATF_TC_BODY(keywords_lookup, tc)
{
	const struct keywords	*kw, *found;
	size_t			 n, i;
	static const char	*notkw[] = {
		"", "a", "zzz", "Partner", "PARTNER", "partners", "domainx",
		"per", "per-", "perpartner", "stanza", "subscription", "tlsx",
		"127.0.0.1", "contoso.example", "-", "{", "=",
	};

	kw = parse_keywords(&n);
	for (i = 0; i < n; i++) {
		found = kw_find(kw[i].k_name);
		ATF_CHECK_MSG(found == &kw[i], "\"%s\" not found by bsearch",
		    kw[i].k_name);
	}
	for (i = 0; i < nitems(notkw); i++)
		ATF_CHECK_MSG(kw_find(notkw[i]) == NULL,
		    "\"%s\" found as a keyword", notkw[i]);
}

ATF_TC(keywords_grammar);
ATF_TC_HEAD(keywords_grammar, tc)
{
	atf_tc_set_md_var(tc, "descr", "the table holds exactly the words "
	    "of the grammar");
}
ATF_TC_BODY(keywords_grammar, tc)
{
	size_t	 n, i;

	(void)parse_keywords(&n);
	for (i = 0; i < nitems(grammar_words); i++)
		ATF_CHECK_MSG(kw_find(grammar_words[i]) != NULL,
		    "\"%s\" is not a keyword", grammar_words[i]);
	ATF_CHECK_EQ(n, nitems(grammar_words));
}

ATF_TC(symset);
ATF_TC_HEAD(symset, tc)
{
	atf_tc_set_md_var(tc, "descr", "cmdline_symset takes name=value with "
	    "a name of letters, digits and _");
}
ATF_TC_BODY(symset, tc)
{
	char	 ok1[] = "certs=/tmp/certs", ok2[] = "a_1=", ok3[] = "x=a=b";
	char	 bad1[] = "novalue", bad2[] = "=value", bad3[] = "a-b=c";
	char	 bad4[] = "a b=c";

	ATF_CHECK_EQ(cmdline_symset(ok1), 0);
	ATF_CHECK_EQ(cmdline_symset(ok2), 0);
	ATF_CHECK_EQ(cmdline_symset(ok3), 0);
	ATF_CHECK_EQ(cmdline_symset(bad1), -1);
	ATF_CHECK_EQ(cmdline_symset(bad2), -1);
	ATF_CHECK_EQ(cmdline_symset(bad3), -1);
	ATF_CHECK_EQ(cmdline_symset(bad4), -1);
}

ATF_TC(parse_refused);
ATF_TC_HEAD(parse_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "parse_config returns NULL for a "
	    "missing file, an empty one and one with a syntax error");
}
ATF_TC_BODY(parse_refused, tc)
{
	FILE	*fp;

	ATF_CHECK(parse_config("no-such-file.conf", XGW_OPT_NOACTION) ==
	    NULL);

	ATF_REQUIRE((fp = fopen("empty.conf", "w")) != NULL);
	fclose(fp);
	ATF_CHECK(parse_config("empty.conf", XGW_OPT_NOACTION) == NULL);

	ATF_REQUIRE((fp = fopen("bad.conf", "w")) != NULL);
	fprintf(fp, "listen on 127.0.0.1\nfrobnicate 3\n");
	fclose(fp);
	ATF_CHECK(parse_config("bad.conf", XGW_OPT_NOACTION) == NULL);
	/* the parser's state does not leak into the next parse */
	ATF_CHECK(parse_config("bad.conf", XGW_OPT_NOACTION) == NULL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, keywords_sorted);
	ATF_TP_ADD_TC(tp, keywords_tokens);
	ATF_TP_ADD_TC(tp, keywords_lookup);
	ATF_TP_ADD_TC(tp, keywords_grammar);
	ATF_TP_ADD_TC(tp, symset);
	ATF_TP_ADD_TC(tp, parse_refused);
	return (atf_no_error());
}
