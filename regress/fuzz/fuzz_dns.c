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
 * libFuzzer target for the s2s DNS answer handling (xmppgwd/dns.c),
 * after libstrophe's resolver fuzzer, without a network: the fuzzer
 * plays libunbound.  dns.c is included here, since what reads answers
 * is static and reached only through libunbound's callbacks, and
 * ub_resolve_async(), ub_cancel() and ub_resolve_free() are replaced:
 * a query is only recorded, and the input decides which query gets
 * which answer (error, rcode, bogus, SRV RDATA or addresses, raw or
 * well formed), which lookup times out, when the event loop runs and
 * whether dns_free() comes in between or from a callback.  The random
 * numbers of the SRV ordering come from the input too.  Asserted:
 *
 * - each lookup started gets exactly one callback, from the event loop
 *   and never from inside a call; none after dns_free(); no query of a
 *   lookup is left outstanding when its callback runs, none at all
 *   after dns_free(), and no event is left behind;
 * - an answer is an error or 1..DNS_MAX_ADDRS addresses, never both;
 *   the error is printable ASCII (it goes to a log line and an XMPP
 *   error text); every address is one an answer or a literal gave,
 *   with the port of an SRV record, the proxy's or 5269, none twice;
 * - every name looked up is one dns_name_ok() takes, SRV under
 *   "_xmpp-server._tcp.";
 * - an SRV RDATA dns_srv_parse() takes is exactly priority, weight,
 *   port and one uncompressed name that dns_name_ok() takes, or ".";
 * - dns_srv_order() returns a permutation, asks rnd() exactly what its
 *   comment says it does, and orders as a plain model of RFC 2782 does
 *   with the same numbers.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "fuzz.h"

/* the SRV ordering draws its numbers from the input, not arc4random */
static uint32_t	 fuzz_uniform(uint32_t);
#define arc4random_uniform	fuzz_uniform

/* dns.c, like the daemon, is built with -Wno-unused-parameter */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"
#include "dns.c"
#pragma clang diagnostic pop

#define NLOOKUPS	3
#define STUBQ_MAX	64
#define SEEN_MAX	4096
#define ACTIONS_MAX	256
#define ORDER_MAX	16
#define RND_MAX		64

struct rd {
	const uint8_t	*p;
	size_t		 left;
};

/* a query dns.c started, as libunbound would hold it */
struct stubq {
	int			 id;
	int			 active;
	int			 type;
	void			*mydata;
	ub_callback_type	 cb;
};

struct lookup {
	int		 started;
	int		 delivered;
	int		 free_ctx;	/* dns_free() from its callback */
	uint16_t	 proxy_port;
};

/* an address or a port some answer or literal made acceptable */
struct seen {
	int			 af;
	uint8_t			 a[16];
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rd	 in;
static struct stubq	 stubq[STUBQ_MAX];
static size_t		 nstubq;
static int		 stub_calls, stub_failat, stub_results;
static struct lookup	 lookups[NLOOKUPS];
static struct dns_ctx	*fctx;
static struct event_base *base;
static int		 in_loop;
static struct seen	 seen[SEEN_MAX];
static size_t		 nseen;
static uint16_t		 ports[SEEN_MAX];
static size_t		 nports;

static const char *domains[] = {
	"partner.test", "XMPP.Example", "192.0.2.7", "[2001:db8::1]",
	"2001:db8::2", "bad domain", "", "a..b"
};
static const char *srv_names[] = {
	"xmpp1.partner.test", "xmpp2.partner.test", "partner.test", "",
	"a_b.srv.test", "192.0.2.1", "XMPP1.Partner.Test", "x-.y"
};

static uint8_t
rd_u8(struct rd *r)
{
	if (r->left == 0)
		return (0);
	r->left--;
	return (*r->p++);
}

static uint16_t
rd_u16(struct rd *r)
{
	return ((uint16_t)(rd_u8(r) << 8 | rd_u8(r)));
}

static size_t
rd_bytes(struct rd *r, uint8_t *dst, size_t n)
{
	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return (n);
}

static uint32_t
fuzz_uniform(uint32_t upper)
{
	CHECK(upper >= 2);
	return (rd_u16(&in) % upper);
}

static void
seen_addr(int af, const uint8_t *a)
{
	struct seen	 sa;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.af = af;
	memcpy(sa.a, a, af == AF_INET6 ? 16 : 4);
	for (i = 0; i < nseen; i++)
		if (memcmp(&seen[i], &sa, sizeof(sa)) == 0)
			return;
	CHECK(nseen < SEEN_MAX);
	seen[nseen++] = sa;
}

static void
seen_literal(const char *name)
{
	uint8_t	 a[16];
	int	 af;

	if (dns_literal(name, &af, a))
		seen_addr(af, a);
}

static void
seen_port(uint16_t port)
{
	size_t	 i;

	for (i = 0; i < nports; i++)
		if (ports[i] == port)
			return;
	CHECK(nports < SEEN_MAX);
	ports[nports++] = port;
}

/* libunbound, as far as dns.c uses it */

int
ub_resolve_async(struct ub_ctx *ub, const char *name, int rrtype,
    int rrclass, void *mydata, ub_callback_type cb, int *id)
{
	struct stubq	*s;

	CHECK(ub != NULL && name != NULL && cb != NULL && id != NULL);
	CHECK(rrclass == DNS_C_IN);
	if (rrtype == DNS_T_SRV) {
		CHECK(strncmp(name, DNS_SRV_PREFIX,
		    strlen(DNS_SRV_PREFIX)) == 0);
		CHECK(dns_name_ok(name + strlen(DNS_SRV_PREFIX)));
		CHECK(cb == dns_srv_cb);
	} else {
		CHECK(rrtype == DNS_T_A || rrtype == DNS_T_AAAA);
		CHECK(dns_name_ok(name));
		CHECK(cb == dns_addr_cb);
	}
	if (++stub_calls == stub_failat || nstubq == STUBQ_MAX)
		return (UB_NOMEM);
	s = &stubq[nstubq];
	s->id = *id = 1000 + (int)nstubq;
	s->active = 1;
	s->type = rrtype;
	s->mydata = mydata;
	s->cb = cb;
	nstubq++;
	return (0);
}

int
ub_cancel(struct ub_ctx *ub, int id)
{
	size_t	 i;

	CHECK(ub != NULL);
	for (i = 0; i < nstubq; i++)
		if (stubq[i].id == id) {
			/* only what is outstanding is cancelled */
			CHECK(stubq[i].active);
			stubq[i].active = 0;
			return (0);
		}
	CHECK(0);
	return (UB_NOID);
}

void
ub_resolve_free(struct ub_result *res)
{
	size_t	 i;

	if (res == NULL)
		return;
	CHECK(stub_results > 0);
	stub_results--;
	for (i = 0; res->data[i] != NULL; i++)
		free(res->data[i]);
	free(res->data);
	free(res->len);
	free(res);
}

void
ub_ctx_delete(struct ub_ctx *ub)
{
	CHECK(ub != NULL);
}

/* an SRV RDATA, well formed or raw, and what we expect of its parse */
static size_t
srv_rdata(uint8_t *p, size_t size)
{
	struct dns_srv	 s;
	const char	*name, *dot;
	size_t		 len = 0, l;
	uint8_t		 h;

	h = rd_u8(&in);
	if (h & 1) {
		len = rd_bytes(&in, p, rd_u8(&in) % size);
	} else {
		p[len++] = 0;
		p[len++] = rd_u8(&in) % 3;
		p[len++] = 0;
		p[len++] = rd_u8(&in) % 8;
		if (h & 2) {
			p[len++] = rd_u8(&in);
			p[len++] = rd_u8(&in);
		} else {
			p[len++] = XMPP_S2S_PORT >> 8;
			p[len++] = XMPP_S2S_PORT & 0xff;
		}
		name = srv_names[(h >> 2) % nitems(srv_names)];
		while (*name != '\0') {
			dot = strchr(name, '.');
			l = dot != NULL ? (size_t)(dot - name) : strlen(name);
			p[len++] = (uint8_t)l;
			memcpy(p + len, name, l);
			len += l;
			name += l + (dot != NULL);
		}
		p[len++] = 0;
		if (h & 0x80)
			p[len++] = rd_u8(&in);
	}

	memset(&s, 0, sizeof(s));
	if (dns_srv_parse(p, len, &s) == 0) {
		l = strnlen(s.target, sizeof(s.target));
		CHECK(l > 0 && l < sizeof(s.target));
		CHECK(s.priority == (p[0] << 8 | p[1]));
		CHECK(s.weight == (p[2] << 8 | p[3]));
		CHECK(s.port == (p[4] << 8 | p[5]));
		if (strcmp(s.target, ".") == 0)
			CHECK(len == 7);
		else {
			CHECK(dns_name_ok(s.target));
			CHECK(s.target[l - 1] != '.');
			CHECK(len == 6 + l + 2);
		}
		seen_port(s.port);
		seen_literal(s.target);
	}
	return (len);
}

static void
answer(size_t k)
{
	struct stubq		*s = &stubq[k];
	struct ub_result	*res = NULL;
	uint8_t			 buf[300], h;
	size_t			 i, n, alen;
	int			 err = 0;

	h = rd_u8(&in);
	s->active = 0;
	if ((h & 7) == 7) {
		err = -1 - rd_u8(&in) % 12;
		s->cb(s->mydata, err, NULL);
		return;
	}
	CHECK((res = calloc(1, sizeof(*res))) != NULL);
	stub_results++;
	res->qtype = s->type;
	res->qclass = DNS_C_IN;
	if ((h & 0x18) == 0x18)
		res->rcode = rd_u8(&in) % 12;
	res->bogus = (h & 0xe0) == 0xe0;
	n = (h & 0x20) ? rd_u8(&in) % 80 : rd_u8(&in) % 6;
	if (res->rcode != 0 || res->bogus)
		n = 0;
	CHECK((res->data = calloc(n + 1, sizeof(*res->data))) != NULL);
	CHECK((res->len = calloc(n + 1, sizeof(*res->len))) != NULL);
	alen = s->type == DNS_T_AAAA ? 16 : 4;
	for (i = 0; i < n; i++) {
		if (s->type == DNS_T_SRV)
			res->len[i] = (int)srv_rdata(buf, sizeof(buf) - 2);
		else {
			h = rd_u8(&in);
			memset(buf, 0, sizeof(buf));
			if ((h & 0xc0) == 0xc0)
				res->len[i] = (int)rd_bytes(&in, buf, h % 20);
			else {
				/* few distinct ones, so that some repeat */
				buf[0] = alen == 4 ? 192 : 0x20;
				buf[1] = alen == 4 ? 0 : 0x01;
				buf[alen - 1] = h % 4;
				res->len[i] = (int)alen;
			}
			if ((size_t)res->len[i] == alen)
				seen_addr(alen == 16 ? AF_INET6 : AF_INET,
				    buf);
		}
		CHECK((res->data[i] = malloc(res->len[i] + 1)) != NULL);
		memcpy(res->data[i], buf, res->len[i]);
	}
	res->havedata = n > 0;
	s->cb(s->mydata, 0, res);
}

static void
dns_done(void *arg, const char *err, const char *how,
    const struct sockaddr_storage *addrs, size_t n)
{
	struct lookup			*l = arg;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*a;
	size_t				 i, j, len;
	uint16_t			 port;
	int				 af, ok;

	CHECK(l >= lookups && l < lookups + NLOOKUPS);
	CHECK(l->started && !l->delivered);
	CHECK(in_loop);
	l->delivered = 1;

	/* nothing of this lookup is left with the resolver */
	for (i = 0; i < nstubq; i++)
		if (stubq[i].active)
			CHECK(((struct dns_query *)stubq[i].mydata)->lk->arg !=
			    arg);

	if (err != NULL) {
		CHECK(addrs == NULL && n == 0 && how == NULL);
		len = strlen(err);
		CHECK(len > 0 && len < 1024);
		for (i = 0; i < len; i++)
			CHECK(err[i] >= 0x20 && err[i] < 0x7f);
	} else {
		CHECK(addrs != NULL && n > 0 && n <= DNS_MAX_ADDRS);
		/* where from: printable, it goes to xmppgwctl */
		CHECK(how != NULL);
		len = strlen(how);
		CHECK(len > 0 && len < 1024);
		for (i = 0; i < len; i++)
			CHECK(how[i] >= 0x20 && how[i] < 0x7f);
		for (i = 0; i < n; i++) {
			af = addrs[i].ss_family;
			if (af == AF_INET) {
				sin = (const struct sockaddr_in *)&addrs[i];
				a = (const uint8_t *)&sin->sin_addr;
				port = ntohs(sin->sin_port);
			} else {
				CHECK(af == AF_INET6);
				sin6 = (const struct sockaddr_in6 *)&addrs[i];
				a = (const uint8_t *)&sin6->sin6_addr;
				port = ntohs(sin6->sin6_port);
			}
			for (ok = 0, j = 0; j < nseen && !ok; j++)
				ok = seen[j].af == af && memcmp(seen[j].a, a,
				    af == AF_INET6 ? 16 : 4) == 0;
			CHECK(ok);
			ok = port == XMPP_S2S_PORT || port == l->proxy_port;
			for (j = 0; j < nports && !ok; j++)
				ok = port == ports[j];
			CHECK(ok);
			for (j = 0; j < i; j++)
				CHECK(memcmp(&addrs[i], &addrs[j],
				    sizeof(addrs[i])) != 0);
		}
	}
	if (l->free_ctx && fctx != NULL) {
		dns_free(fctx);
		fctx = NULL;
	}
}

static void
run_loop(void)
{
	in_loop = 1;
	CHECK(event_loop(EVLOOP_NONBLOCK) != -1);
	in_loop = 0;
}

/* what the timer would do, if it is armed */
static void
time_out(struct lookup *l)
{
	struct dns_lookup	*lk;

	if (fctx == NULL)
		return;
	TAILQ_FOREACH(lk, &fctx->lookups, entry)
		if (lk->arg == l)
			break;
	if (lk == NULL || !evtimer_pending(&lk->timeout, NULL))
		return;
	evtimer_del(&lk->timeout);
	dns_timeout(-1, EV_TIMEOUT, lk);
}

static void
start(struct lookup *l)
{
	const char	*domain, *proxy = NULL;
	char		 dbuf[XGW_NAME_MAX + 64], pbuf[80];
	uint16_t	 port;
	uint8_t		 d, p;
	size_t		 n;

	d = rd_u8(&in);
	p = rd_u8(&in);
	port = rd_u16(&in);
	memset(l, 0, sizeof(*l));
	l->free_ctx = (p & 0x80) != 0;
	if (d % 16 < nitems(domains))
		domain = domains[d % 16];
	else if (d % 16 == nitems(domains)) {
		/* too long to quote, or a label too long */
		memset(dbuf, 'a', sizeof(dbuf) - 1);
		dbuf[d & 0x80 ? sizeof(dbuf) - 1 : 64] = '\0';
		domain = dbuf;
	} else {
		n = rd_bytes(&in, (uint8_t *)dbuf, rd_u8(&in) % 64);
		dbuf[n] = '\0';
		domain = dbuf;
	}
	switch (p % 5) {
	case 2:
		proxy = "proxy.test";
		break;
	case 3:
		proxy = "198.51.100.1";
		break;
	case 4:
		n = rd_bytes(&in, (uint8_t *)pbuf, rd_u8(&in) % 40);
		pbuf[n] = '\0';
		proxy = pbuf;
		break;
	}
	if (proxy != NULL && *proxy != '\0') {
		seen_literal(proxy);
		l->proxy_port = port != 0 ? port : XMPP_S2S_PORT;
	} else
		seen_literal(domain);
	l->started = dns_s2s_lookup(fctx, domain, proxy, port, dns_done,
	    l) == 0;
	CHECK(!l->delivered);
}

/*
 * RFC 2782 as a model: per priority, in the order given, weight 0
 * first; draw r in [0, sum] and take the first whose running sum
 * reaches it.  The numbers are those dns_srv_order() was given.
 */
static uint32_t	 rnd_val[RND_MAX], rnd_bound[RND_MAX];
static size_t	 nrnd;

static uint32_t
order_rnd(uint32_t upper)
{
	uint32_t	 r;

	CHECK(nrnd < RND_MAX);
	r = rd_u16(&in) % upper;
	rnd_bound[nrnd] = upper;
	rnd_val[nrnd++] = r;
	return (r);
}

static void
order_check(void)
{
	struct dns_srv	 srv[ORDER_MAX], in_srv[ORDER_MAX];
	size_t		 want[ORDER_MAX], grp[ORDER_MAX];
	size_t		 n, i, j, ng, nw = 0, used = 0;
	uint32_t	 sum, run, prio;
	int		 zero;

	n = rd_u8(&in) % (ORDER_MAX + 1);
	for (i = 0; i < n; i++) {
		memset(&srv[i], 0, sizeof(srv[i]));
		srv[i].priority = rd_u8(&in) % 3;
		srv[i].weight = rd_u8(&in) & 1 ? rd_u16(&in) : 0;
		(void)snprintf(srv[i].target, sizeof(srv[i].target), "%zu",
		    i);
	}
	memcpy(in_srv, srv, sizeof(srv));
	nrnd = 0;
	dns_srv_order(srv, n, order_rnd);

	for (prio = 0; prio < 3; prio++) {
		ng = 0;
		for (zero = 1; zero >= 0; zero--)
			for (i = 0; i < n; i++)
				if (in_srv[i].priority == prio &&
				    (in_srv[i].weight == 0) == zero)
					grp[ng++] = i;
		while (ng >= 2) {
			for (sum = 0, i = 0; i < ng; i++)
				sum += in_srv[grp[i]].weight;
			if (sum == 0)
				break;
			CHECK(used < nrnd);
			CHECK(rnd_bound[used] == sum + 1);
			for (run = 0, i = 0; i < ng; i++) {
				run += in_srv[grp[i]].weight;
				if (run >= rnd_val[used])
					break;
			}
			CHECK(i < ng);
			used++;
			want[nw++] = grp[i];
			memmove(grp + i, grp + i + 1,
			    (ng - i - 1) * sizeof(grp[0]));
			ng--;
		}
		for (i = 0; i < ng; i++)
			want[nw++] = grp[i];
	}
	CHECK(nw == n && used == nrnd);
	for (i = 0; i < n; i++) {
		CHECK(strtoul(srv[i].target, NULL, 10) == want[i]);
		j = want[i];
		CHECK(srv[i].priority == in_srv[j].priority &&
		    srv[i].weight == in_srv[j].weight);
	}
	/* sorted by priority, lowest first */
	for (i = 1; i < n; i++)
		CHECK(srv[i].priority >= srv[i - 1].priority);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t			 i, k, nact, nlk, act;
	uint8_t			 a;

	/* SEEN_MAX bounds what an input can name */
	if (size > SEEN_MAX)
		return (0);
	if (base == NULL) {
		base = event_init();
		/* the failures the input makes go to syslog, not stderr */
		log_setverbose(0);
	}
	in.p = data;
	in.left = size;
	nstubq = nseen = nports = 0;
	stub_calls = 0;
	memset(lookups, 0, sizeof(lookups));

	order_check();

	CHECK((fctx = calloc(1, sizeof(*fctx))) != NULL);
	TAILQ_INIT(&fctx->lookups);
	fctx->ub = (struct ub_ctx *)&fctx;	/* never looked into */
	/* as dns_new() would, but never added: there is no pipe */
	event_set(&fctx->ev, -1, EV_READ, dns_ub_dispatch, fctx);
	stub_failat = rd_u8(&in) % 32;
	nlk = 1 + rd_u8(&in) % NLOOKUPS;
	for (i = 0; i < nlk; i++)
		start(&lookups[i]);

	for (act = 0; act < ACTIONS_MAX && in.left > 0; act++) {
		a = rd_u8(&in);
		if (a % 8 <= 4) {
			for (nact = 0, i = 0; i < nstubq; i++)
				nact += stubq[i].active;
			if (nact == 0)
				continue;
			k = rd_u8(&in) % nact;
			for (i = 0; i < nstubq; i++)
				if (stubq[i].active && k-- == 0)
					break;
			answer(i);
		} else if (a % 8 == 5)
			time_out(&lookups[rd_u8(&in) % nlk]);
		else if (a == 0xff && fctx != NULL) {
			dns_free(fctx);
			fctx = NULL;
		} else
			run_loop();
	}

	/* what is still outstanding times out, twice for SRV then A */
	for (k = 0; k < 3; k++) {
		run_loop();
		for (i = 0; i < nlk; i++)
			time_out(&lookups[i]);
	}
	run_loop();

	if (fctx != NULL) {
		/* every lookup has had its answer */
		CHECK(TAILQ_EMPTY(&fctx->lookups));
		for (i = 0; i < nlk; i++)
			CHECK(lookups[i].delivered == lookups[i].started);
		free(fctx);
		fctx = NULL;
	}
	for (i = 0; i < nstubq; i++)
		CHECK(!stubq[i].active);
	CHECK(stub_results == 0);
	CHECK(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED) == 0);
	return (0);
}
