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
 * Unit tests of the RFC 2782 SRV ordering in xmppgwd/dns.c,
 * dns_srv_order(), with a scripted random function: the numbers it
 * returns are fixed per test, and the bounds dns.c asks for are
 * recorded and checked, so a change in how the selection walks the
 * records shows up here.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "xmppgwd.h"
#include "dns.h"

#define SCRIPT_MAX	16

static uint32_t	 script[SCRIPT_MAX];	/* what rnd() returns */
static size_t	 nscript;
static uint32_t	 bounds[SCRIPT_MAX];	/* what it was asked for */
static size_t	 ncalls;

static void
script_set(const uint32_t *v, size_t n)
{
	ATF_REQUIRE(n <= SCRIPT_MAX);
	memcpy(script, v, n * sizeof(*v));
	nscript = n;
	ncalls = 0;
}

static uint32_t
rnd(uint32_t upper)
{
	uint32_t	 r;

	ATF_REQUIRE_MSG(ncalls < nscript, "rnd(%u): call %zu, only %zu "
	    "scripted", upper, ncalls + 1, nscript);
	r = script[ncalls];
	ATF_REQUIRE_MSG(r < upper, "scripted %u out of range for rnd(%u)",
	    r, upper);
	bounds[ncalls++] = upper;
	return (r);
}

/* a record named by its target, for the order checks */
static void
rec(struct dns_srv *s, const char *target, uint16_t prio, uint16_t weight)
{
	memset(s, 0, sizeof(*s));
	(void)strlcpy(s->target, target, sizeof(s->target));
	s->priority = prio;
	s->weight = weight;
	s->port = 5269;
}

/* the targets in order, "a b c", to compare in one go */
static const char *
order(const struct dns_srv *s, size_t n)
{
	static char	 buf[1024];
	size_t		 i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)strlcat(buf, " ", sizeof(buf));
		(void)strlcat(buf, s[i].target, sizeof(buf));
	}
	return (buf);
}

ATF_TC(priorities_sorted);
ATF_TC_HEAD(priorities_sorted, tc)
{
	atf_tc_set_md_var(tc, "descr", "lowest priority first; with "
	    "weights 0 the random function is never asked");
}
ATF_TC_BODY(priorities_sorted, tc)
{
	struct dns_srv	 s[5];

	rec(&s[0], "p30", 30, 0);
	rec(&s[1], "p10a", 10, 0);
	rec(&s[2], "p65535", 65535, 0);
	rec(&s[3], "p0", 0, 0);
	rec(&s[4], "p10b", 10, 0);
	script_set(NULL, 0);
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "p0 p10a p10b p30 p65535");
	ATF_CHECK_EQ(ncalls, 0);
}

ATF_TC(priorities_sorted_with_weights);
ATF_TC_HEAD(priorities_sorted_with_weights, tc)
{
	atf_tc_set_md_var(tc, "descr", "a weight never lifts a record "
	    "above a lower priority; each priority is weighed on its own");
}
ATF_TC_BODY(priorities_sorted_with_weights, tc)
{
	struct dns_srv	 s[5];
	/* priority 1: sum 3, pick "b" (2 >= 2); "a" alone; priority 2 */
	const uint32_t	 v[] = { 2, 60 };

	rec(&s[0], "c", 2, 100);
	rec(&s[1], "a", 1, 1);
	rec(&s[2], "d", 2, 1);
	rec(&s[3], "b", 1, 2);
	rec(&s[4], "e", 3, 65535);
	script_set(v, nitems(v));
	dns_srv_order(s, nitems(s), rnd);
	/* priority 2: sum 101, 60 <= 100 picks "c" */
	ATF_CHECK_STREQ(order(s, nitems(s)), "b a c d e");
	ATF_REQUIRE_EQ(ncalls, 2);
	ATF_CHECK_EQ(bounds[0], 4);
	ATF_CHECK_EQ(bounds[1], 102);
}

ATF_TC(weighted_selection);
ATF_TC_HEAD(weighted_selection, tc)
{
	atf_tc_set_md_var(tc, "descr", "the record whose running weight "
	    "sum first reaches the random number is taken, then the rest "
	    "are weighed again");
}
ATF_TC_BODY(weighted_selection, tc)
{
	struct dns_srv	 s[3];
	/* running sums 10, 30, 60 */
	const uint32_t	 v1[] = { 35, 0 };	/* c, then a */
	const uint32_t	 v2[] = { 60, 30 };	/* c, then b */
	const uint32_t	 v3[] = { 10, 21 };	/* a (10 >= 10), c */
	const uint32_t	 v4[] = { 11, 0 };	/* b (30 >= 11), a */

	rec(&s[0], "a", 5, 10);
	rec(&s[1], "b", 5, 20);
	rec(&s[2], "c", 5, 30);
	script_set(v1, nitems(v1));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "c a b");
	ATF_REQUIRE_EQ(ncalls, 2);
	ATF_CHECK_EQ(bounds[0], 61);
	ATF_CHECK_EQ(bounds[1], 31);	/* a and b left: 10 + 20 + 1 */

	rec(&s[0], "a", 5, 10);
	rec(&s[1], "b", 5, 20);
	rec(&s[2], "c", 5, 30);
	script_set(v2, nitems(v2));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "c b a");

	rec(&s[0], "a", 5, 10);
	rec(&s[1], "b", 5, 20);
	rec(&s[2], "c", 5, 30);
	script_set(v3, nitems(v3));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "a c b");
	ATF_CHECK_EQ(bounds[1], 51);	/* b and c left */

	rec(&s[0], "a", 5, 10);
	rec(&s[1], "b", 5, 20);
	rec(&s[2], "c", 5, 30);
	script_set(v4, nitems(v4));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "b a c");
	ATF_CHECK_EQ(bounds[1], 41);	/* a and c left */
}

ATF_TC(zero_weights);
ATF_TC_HEAD(zero_weights, tc)
{
	atf_tc_set_md_var(tc, "descr", "weight-0 records are put first "
	    "and win only a random 0; all-zero keeps the order");
}
ATF_TC_BODY(zero_weights, tc)
{
	struct dns_srv	 s[4];
	/* zeros first: z1 z2 x y, running sums 0 0 5 10 */
	const uint32_t	 v1[] = { 0, 0, 6 };	/* z1, z2, y, x */
	const uint32_t	 v2[] = { 1, 5 };	/* x, then y; z1 z2 */

	rec(&s[0], "z1", 1, 0);
	rec(&s[1], "x", 1, 5);
	rec(&s[2], "z2", 1, 0);
	rec(&s[3], "y", 1, 5);
	script_set(v1, nitems(v1));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "z1 z2 y x");
	ATF_REQUIRE_EQ(ncalls, 3);
	ATF_CHECK_EQ(bounds[0], 11);
	ATF_CHECK_EQ(bounds[1], 11);
	ATF_CHECK_EQ(bounds[2], 11);

	rec(&s[0], "z1", 1, 0);
	rec(&s[1], "x", 1, 5);
	rec(&s[2], "z2", 1, 0);
	rec(&s[3], "y", 1, 5);
	script_set(v2, nitems(v2));
	dns_srv_order(s, nitems(s), rnd);
	/* after x and y only zeros are left: no more calls */
	ATF_CHECK_STREQ(order(s, nitems(s)), "x y z1 z2");
	ATF_CHECK_EQ(ncalls, 2);
	ATF_CHECK_EQ(bounds[1], 6);

	rec(&s[0], "z1", 1, 0);
	rec(&s[1], "z2", 1, 0);
	rec(&s[2], "z3", 1, 0);
	script_set(NULL, 0);
	dns_srv_order(s, 3, rnd);
	ATF_CHECK_STREQ(order(s, 3), "z1 z2 z3");
	ATF_CHECK_EQ(ncalls, 0);
}

ATF_TC(single_record);
ATF_TC_HEAD(single_record, tc)
{
	atf_tc_set_md_var(tc, "descr", "one record (or none) stays as it "
	    "is, no random number drawn");
}
ATF_TC_BODY(single_record, tc)
{
	struct dns_srv	 s[1];

	rec(&s[0], "only", 7, 100);
	s[0].port = 5300;
	script_set(NULL, 0);
	dns_srv_order(s, 1, rnd);
	ATF_CHECK_STREQ(s[0].target, "only");
	ATF_CHECK_EQ(s[0].priority, 7);
	ATF_CHECK_EQ(s[0].weight, 100);
	ATF_CHECK_EQ(s[0].port, 5300);
	dns_srv_order(s, 0, rnd);
	ATF_CHECK_EQ(ncalls, 0);
}

ATF_TC(stable_when_equal);
ATF_TC_HEAD(stable_when_equal, tc)
{
	atf_tc_set_md_var(tc, "descr", "records equal in priority and "
	    "weight keep their order when rnd() always says 0");
}
ATF_TC_BODY(stable_when_equal, tc)
{
	struct dns_srv	 s[5];
	const uint32_t	 v[] = { 0, 0, 0, 0 };
	size_t		 i;
	char		 name[8];

	for (i = 0; i < nitems(s); i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		rec(&s[i], name, 10, 1);
	}
	script_set(v, nitems(v));
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "r0 r1 r2 r3 r4");
	ATF_REQUIRE_EQ(ncalls, 4);
	ATF_CHECK_EQ(bounds[0], 6);
	ATF_CHECK_EQ(bounds[3], 3);

	for (i = 0; i < nitems(s); i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		rec(&s[i], name, 10, 0);
	}
	script_set(NULL, 0);
	dns_srv_order(s, nitems(s), rnd);
	ATF_CHECK_STREQ(order(s, nitems(s)), "r0 r1 r2 r3 r4");
}

/*
 * arc4random_uniform(), counting what comes first.  RFC 2782 draws the
 * number from [0, sum], both ends included, which is how a weight-0
 * record keeps its small chance: the first record also wins on 0.  So
 * weights 1, 2, 7 come first with 2/11, 2/11 and 7/11.
 */
ATF_TC(weights_distribution);
ATF_TC_HEAD(weights_distribution, tc)
{
	atf_tc_set_md_var(tc, "descr", "with arc4random_uniform, weights "
	    "1, 2 and 7 come first 2/11, 2/11 and 7/11 of the time (bounds "
	    "beyond 6 standard deviations)");
}
ATF_TC_BODY(weights_distribution, tc)
{
	struct dns_srv	 s[3];
	unsigned int	 first[3] = { 0, 0, 0 };
	const unsigned int runs = 20000;
	unsigned int	 i;

	for (i = 0; i < runs; i++) {
		rec(&s[0], "0", 1, 1);
		rec(&s[1], "1", 1, 2);
		rec(&s[2], "2", 1, 7);
		dns_srv_order(s, nitems(s), arc4random_uniform);
		first[s[0].target[0] - '0']++;
	}
	/* 18.2 %, 18.2 %, 63.6 %; one standard deviation is 0.34 % */
	ATF_CHECK_MSG(first[0] > runs * 160 / 1000 &&
	    first[0] < runs * 204 / 1000,
	    "weight 1 first %u times in %u", first[0], runs);
	ATF_CHECK_MSG(first[1] > runs * 160 / 1000 &&
	    first[1] < runs * 204 / 1000,
	    "weight 2 first %u times in %u", first[1], runs);
	ATF_CHECK_MSG(first[2] > runs * 614 / 1000 &&
	    first[2] < runs * 658 / 1000,
	    "weight 7 first %u times in %u", first[2], runs);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, priorities_sorted);
	ATF_TP_ADD_TC(tp, priorities_sorted_with_weights);
	ATF_TP_ADD_TC(tp, weighted_selection);
	ATF_TP_ADD_TC(tp, zero_weights);
	ATF_TP_ADD_TC(tp, single_record);
	ATF_TP_ADD_TC(tp, stable_when_equal);
	ATF_TP_ADD_TC(tp, weights_distribution);
	return (atf_no_error());
}
