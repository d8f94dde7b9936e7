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
 * Unit tests of the pure partner logic (xmppgwd/partner.c): the verdict
 * on each of the 18 combinations of TLS, SASL and dialback settings,
 * the names of the enumerations, and the domain name check.
 */

#include <string.h>

#include <atf-c.h>

#include "xmppgwd.h"

#define R	NEG_REQUIRED
#define O	NEG_OPTIONAL
#define N	NEG_NOT_SUPPORTED

/*
 * The whole matrix, written out rather than computed: a change to the
 * rules must change this table too.
 */
static const struct {
	enum xgw_neg		 tls;
	enum xgw_neg		 sasl;
	int			 dialback;
	enum xgw_verdict	 verdict;
} matrix[] = {
	{ R, R, 1, NEGV_WARN },		/* dialback never runs */
	{ R, R, 0, NEGV_OK },
	{ R, O, 1, NEGV_OK },
	{ R, O, 0, NEGV_OK },
	{ R, N, 1, NEGV_OK },
	{ R, N, 0, NEGV_INVALID },	/* nothing authenticates */
	{ O, R, 1, NEGV_WARN },		/* SASL without TLS cannot run */
	{ O, R, 0, NEGV_WARN },
	{ O, O, 1, NEGV_WARN },
	{ O, O, 0, NEGV_WARN },
	{ O, N, 1, NEGV_OK },
	{ O, N, 0, NEGV_INVALID },
	{ N, R, 1, NEGV_WARN },		/* SASL never runs */
	{ N, R, 0, NEGV_INVALID },
	{ N, O, 1, NEGV_WARN },
	{ N, O, 0, NEGV_INVALID },
	{ N, N, 1, NEGV_OK },
	{ N, N, 0, NEGV_INVALID },
};

static const char *
verdict_name(enum xgw_verdict v)
{
	switch (v) {
	case NEGV_OK:
		return ("ok");
	case NEGV_WARN:
		return ("warn");
	case NEGV_INVALID:
		return ("invalid");
	}
	return ("?");
}

ATF_TC(negotiation_matrix);
ATF_TC_HEAD(negotiation_matrix, tc)
{
	atf_tc_set_md_var(tc, "descr", "each of the 18 combinations of tls, "
	    "sasl and dialback gets its verdict, with a reason unless ok");
}
ATF_TC_BODY(negotiation_matrix, tc)
{
	enum xgw_verdict	 v;
	const char		*why;
	size_t			 i;

	ATF_REQUIRE_EQ(nitems(matrix), 18);
	for (i = 0; i < nitems(matrix); i++) {
		why = "unset";
		v = partner_check_negotiation(matrix[i].tls, matrix[i].sasl,
		    matrix[i].dialback, &why);
		ATF_CHECK_MSG(v == matrix[i].verdict,
		    "tls %s sasl %s dialback %s: %s, expected %s",
		    partner_neg_name(matrix[i].tls),
		    partner_neg_name(matrix[i].sasl),
		    matrix[i].dialback ? "yes" : "no", verdict_name(v),
		    verdict_name(matrix[i].verdict));
		if (v == NEGV_OK)
			ATF_CHECK_MSG(why == NULL, "row %zu: a reason for ok",
			    i);
		else
			ATF_CHECK_MSG(why != NULL && *why != '\0',
			    "row %zu: no reason", i);
	}
}

ATF_TC(negotiation_counts);
ATF_TC_HEAD(negotiation_counts, tc)
{
	atf_tc_set_md_var(tc, "descr", "all 18 combinations: exactly 5 are "
	    "invalid, those where TLS or SASL is not supported and dialback "
	    "is off; 7 warn; 6 are ok");
}
ATF_TC_BODY(negotiation_counts, tc)
{
	enum xgw_neg	 tls, sasl;
	enum xgw_verdict v;
	int		 dialback, invalid = 0, warn = 0, ok = 0, expect;

	for (tls = NEG_REQUIRED; tls <= NEG_NOT_SUPPORTED; tls++)
	for (sasl = NEG_REQUIRED; sasl <= NEG_NOT_SUPPORTED; sasl++)
	for (dialback = 0; dialback <= 1; dialback++) {
		v = partner_check_negotiation(tls, sasl, dialback, NULL);
		expect = !dialback &&
		    (tls == NEG_NOT_SUPPORTED || sasl == NEG_NOT_SUPPORTED);
		ATF_CHECK_MSG((v == NEGV_INVALID) == expect,
		    "tls %s sasl %s dialback %d: %s", partner_neg_name(tls),
		    partner_neg_name(sasl), dialback, verdict_name(v));
		switch (v) {
		case NEGV_INVALID:
			invalid++;
			break;
		case NEGV_WARN:
			warn++;
			break;
		case NEGV_OK:
			ok++;
			break;
		}
	}
	ATF_CHECK_EQ(invalid, 5);
	ATF_CHECK_EQ(warn, 7);
	ATF_CHECK_EQ(ok, 6);
}

ATF_TC(negotiation_why_null);
ATF_TC_HEAD(negotiation_why_null, tc)
{
	atf_tc_set_md_var(tc, "descr", "the reason pointer may be NULL");
}
ATF_TC_BODY(negotiation_why_null, tc)
{
	ATF_CHECK_EQ(partner_check_negotiation(N, N, 0, NULL), NEGV_INVALID);
	ATF_CHECK_EQ(partner_check_negotiation(R, R, 1, NULL), NEGV_WARN);
	ATF_CHECK_EQ(partner_check_negotiation(R, O, 1, NULL), NEGV_OK);
}

ATF_TC(names);
ATF_TC_HEAD(names, tc)
{
	atf_tc_set_md_var(tc, "descr", "the names of the enumerations are "
	    "the words of the configuration grammar");
}
ATF_TC_BODY(names, tc)
{
	ATF_CHECK_STREQ(partner_neg_name(NEG_REQUIRED), "required");
	ATF_CHECK_STREQ(partner_neg_name(NEG_OPTIONAL), "optional");
	ATF_CHECK_STREQ(partner_neg_name(NEG_NOT_SUPPORTED), "not supported");
	ATF_CHECK_STREQ(partner_type_name(PTYPE_FEDERATED), "federated");
	ATF_CHECK_STREQ(partner_type_name(PTYPE_PUBLIC_VERIFIED),
	    "public verified");
	ATF_CHECK_STREQ(partner_type_name(PTYPE_PUBLIC_UNVERIFIED),
	    "public unverified");
}

ATF_TC(domain_valid);
ATF_TC_HEAD(domain_valid, tc)
{
	atf_tc_set_md_var(tc, "descr", "domain_name_valid accepts LDH "
	    "names up to 253 characters with labels up to 63");
}
ATF_TC_BODY(domain_valid, tc)
{
	static const char *good[] = {
		"a",
		"example",
		"contoso.example",
		"chat.fabrikam.example",
		"Contoso.EXAMPLE",
		"a-b.example",
		"a--b.example",
		"xn--bcher-kva.example",
		"1a.example",
		"123.example",
		"example.123a",
		"0.a",
	};
	char	 name[300];
	size_t	 i;

	for (i = 0; i < nitems(good); i++)
		ATF_CHECK_MSG(domain_name_valid(good[i]), "\"%s\" refused",
		    good[i]);

	/* a label of 63 characters */
	memset(name, 'a', 63);
	(void)strlcpy(name + 63, ".example", sizeof(name) - 63);
	ATF_CHECK_MSG(domain_name_valid(name), "63-character label refused");

	/* 253 characters: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	memset(name, 'b', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	ATF_CHECK_MSG(domain_name_valid(name), "253-character name refused");
}

ATF_TC(domain_invalid);
ATF_TC_HEAD(domain_invalid, tc)
{
	atf_tc_set_md_var(tc, "descr", "domain_name_valid refuses empty "
	    "labels, bad characters, hyphens at a label's ends, trailing "
	    "dots, IP addresses and names that are too long");
}
ATF_TC_BODY(domain_invalid, tc)
{
	static const char *bad[] = {
		"",
		".",
		".example",
		"example.",
		"contoso.example.",
		"a..example",
		"-a.example",
		"a-.example",
		"a.-example",
		"a.example-",
		"under_score.example",
		"Bad_Name",
		"sp ace.example",
		"tab\t.example",
		"b\303\274cher.example",
		"slash/.example",
		"at@example",
		"192.0.2.1",
		"10",
		"1.2.3.4.5",
		"::1",
		"[::1]",
		"example.com:5269",
	};
	char	 name[300];
	size_t	 i;

	for (i = 0; i < nitems(bad); i++)
		ATF_CHECK_MSG(!domain_name_valid(bad[i]), "\"%s\" accepted",
		    bad[i]);

	/* a label of 64 characters */
	memset(name, 'a', 64);
	(void)strlcpy(name + 64, ".example", sizeof(name) - 64);
	ATF_CHECK_MSG(!domain_name_valid(name), "64-character label accepted");

	/* 254 characters */
	memset(name, 'b', 254);
	name[63] = name[127] = name[191] = '.';
	name[254] = '\0';
	ATF_CHECK_MSG(!domain_name_valid(name), "254-character name accepted");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, negotiation_matrix);
	ATF_TP_ADD_TC(tp, negotiation_counts);
	ATF_TP_ADD_TC(tp, negotiation_why_null);
	ATF_TP_ADD_TC(tp, names);
	ATF_TP_ADD_TC(tp, domain_valid);
	ATF_TP_ADD_TC(tp, domain_invalid);
	return (atf_no_error());
}
