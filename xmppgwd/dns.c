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
 * Asynchronous s2s name resolution on libunbound.
 *
 * libunbound runs its resolver in a thread of its own (ub_ctx_async 1):
 * the dialback process must not fork, and a thread needs no file system,
 * which suits the empty chroot.  Answers come back over a pipe,
 * ub_fd(), that sits in our event loop; ub_process() then runs the
 * callbacks here, in the main thread.
 *
 * A lookup goes through at most two phases, each bounded by
 * DNS_TIMEOUT: the SRV query (skipped for a proxy or an address
 * literal), then the AAAA and A queries of every target, all in
 * parallel.  The answer is assembled in SRV order once every query of
 * the second phase has answered or timed out.  The caller's callback
 * always runs from a zero timer of its own, never from inside
 * ub_process(): the callback may free the context, and libunbound must
 * not be deleted under its own feet.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "xmppgwd.h"
#include "dns.h"
#include "log.h"

#define DNS_T_A			1
#define DNS_T_AAAA		28
#define DNS_T_SRV		33
#define DNS_C_IN		1

#define DNS_SRV_MAX		64	/* SRV records weighed together */
#define DNS_TIMEOUT		10	/* seconds, per phase */
#define DNS_SRV_PREFIX		"_xmpp-server._tcp."

#define DNS_NODATA		"NODATA"
#define DNS_TIMEDOUT		"timeout"

enum dns_phase {
	DNS_PHASE_SRV,
	DNS_PHASE_ADDR,
	DNS_PHASE_DONE
};

/* where the targets of a lookup came from, for the error text */
enum dns_source {
	DNS_SRC_SRV,		/* SRV records */
	DNS_SRC_FALLBACK,	/* the domain itself, no usable SRV answer */
	DNS_SRC_LITERAL,	/* the domain is an address literal */
	DNS_SRC_PROXY		/* the partner's proxy */
};

struct dns_lookup;

/* one libunbound query, and the addresses it brought */
struct dns_query {
	struct dns_lookup	*lk;
	int			 type;
	int			 id;		/* libunbound's */
	int			 pending;
	const char		*why;		/* why no address */
	size_t			 naddr;
	uint8_t			 addr[DNS_MAX_ADDRS][16];
};

struct dns_target {
	char			 name[XGW_NAME_MAX];
	uint16_t		 port;
	struct dns_query	 q[2];		/* AAAA first, then A */
};

struct dns_lookup {
	TAILQ_ENTRY(dns_lookup)	 entry;
	struct dns_ctx		*ctx;
	dns_cb			 cb;
	void			*arg;
	char			 domain[XGW_NAME_MAX];
	enum dns_phase		 phase;
	enum dns_source		 source;
	struct dns_query	 srv;
	struct dns_target	 t[DNS_MAX_TARGETS];
	size_t			 nt;
	size_t			 pending;	/* address queries */
	struct event		 timeout;
	struct event		 done;
	char			 error[1024];	/* "": success */
	char			 how[1024];	/* on success: where from */
	const char		*nosrv;		/* why there was no SRV */
	struct sockaddr_storage	 addrs[DNS_MAX_ADDRS];
	size_t			 naddrs;
};
TAILQ_HEAD(dns_lookups, dns_lookup);

struct dns_ctx {
	struct ub_ctx		*ub;
	struct event		 ev;
	struct dns_lookups	 lookups;
};

static void	 dns_ub_dispatch(int, short, void *);
static int	 dns_name_ok(const char *);
static int	 dns_literal(const char *, int *, uint8_t *);
static const char *dns_rcode_name(int);
static int	 dns_srv_parse(const uint8_t *, size_t, struct dns_srv *);
static void	 dns_srv_cb(void *, int, struct ub_result *);
static void	 dns_addr_cb(void *, int, struct ub_result *);
static void	 dns_how(struct dns_lookup *);
static void	 dns_fallback(struct dns_lookup *, const char *);
static int	 dns_add_target(struct dns_lookup *, const char *, uint16_t);
static void	 dns_start_addresses(struct dns_lookup *);
static void	 dns_assemble(struct dns_lookup *);
static void	 dns_finish(struct dns_lookup *);
static void	 dns_timeout(int, short, void *);
static void	 dns_deliver(int, short, void *);
static void	 dns_cancel(struct dns_lookup *);
static const char *dns_target_why(const struct dns_target *);

struct dns_ctx *
dns_new(const struct xgw_config *conf, char *errbuf, size_t errlen)
{
	struct dns_ctx		*ctx;
	struct xgw_name		*n;
	struct xgw_option	*o;
	char			 opt[XGW_OPTION_MAX + 1];
	char			 rr[XGW_NAME_MAX + XGW_OPTION_MAX + 16];
	uint8_t			 a[16];
	size_t			 len;
	int			 af, fd, r;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		snprintf(errbuf, errlen, "dns: out of memory");
		return (NULL);
	}
	TAILQ_INIT(&ctx->lookups);
	if ((ctx->ub = ub_ctx_create()) == NULL) {
		snprintf(errbuf, errlen, "dns: cannot create the resolver");
		free(ctx);
		return (NULL);
	}
	/*
	 * A thread, not a process: this process may not fork, and it
	 * must come before anything that finalizes the context.
	 */
	if ((r = ub_ctx_async(ctx->ub, 1)) != 0) {
		snprintf(errbuf, errlen, "dns: resolver thread: %s",
		    ub_strerror(r));
		goto fail;
	}
	/*
	 * The parent fills in /etc/resolv.conf's nameservers when the
	 * configuration names none.  If there are still none, libunbound
	 * keeps no forwarder and recurses itself from its root hints.
	 */
	TAILQ_FOREACH(n, &conf->resolvers, entry) {
		if ((r = ub_ctx_set_fwd(ctx->ub, n->name)) != 0) {
			snprintf(errbuf, errlen, "dns: resolver \"%s\": %s",
			    n->name, ub_strerror(r));
			goto fail;
		}
	}
	TAILQ_FOREACH(o, &conf->resolver_options, entry) {
		/* libunbound wants the unbound.conf spelling, "name:" */
		(void)strlcpy(opt, o->name, sizeof(opt));
		len = strlen(opt);
		if (len == 0 || opt[len - 1] != ':')
			(void)strlcat(opt, ":", sizeof(opt));
		if ((r = ub_ctx_set_option(ctx->ub, opt, o->value)) != 0) {
			snprintf(errbuf, errlen,
			    "dns: resolver option \"%s\" \"%s\": %s",
			    o->name, o->value, ub_strerror(r));
			goto fail;
		}
	}
	/*
	 * The hosts entries last: ub_ctx_data_add() finalizes the
	 * context, after which options and forwarders are refused.  A
	 * line of /etc/hosts we cannot use is skipped, as libc would.
	 */
	TAILQ_FOREACH(o, &conf->hosts, entry) {
		if (!dns_name_ok(o->name) || !dns_literal(o->value, &af, a) ||
		    strchr(o->value, '[') != NULL) {
			log_warnx("dns: hosts entry \"%s\" \"%s\" skipped",
			    o->name, o->value);
			continue;
		}
		len = strlen(o->name);
		(void)snprintf(rr, sizeof(rr), "%s%s IN %s %s", o->name,
		    o->name[len - 1] == '.' ? "" : ".",
		    af == AF_INET6 ? "AAAA" : "A", o->value);
		if ((r = ub_ctx_data_add(ctx->ub, rr)) != 0) {
			snprintf(errbuf, errlen, "dns: hosts entry \"%s\": %s",
			    rr, ub_strerror(r));
			goto fail;
		}
	}
	if ((fd = ub_fd(ctx->ub)) == -1) {
		snprintf(errbuf, errlen, "dns: no resolver descriptor");
		goto fail;
	}
	event_set(&ctx->ev, fd, EV_READ | EV_PERSIST, dns_ub_dispatch, ctx);
	if (event_add(&ctx->ev, NULL) == -1) {
		snprintf(errbuf, errlen, "dns: event_add failed");
		goto fail;
	}
	return (ctx);

 fail:
	ub_ctx_delete(ctx->ub);
	free(ctx);
	return (NULL);
}

void
dns_free(struct dns_ctx *ctx)
{
	struct dns_lookup	*lk;

	if (ctx == NULL)
		return;
	while ((lk = TAILQ_FIRST(&ctx->lookups)) != NULL) {
		TAILQ_REMOVE(&ctx->lookups, lk, entry);
		dns_cancel(lk);
		evtimer_del(&lk->timeout);
		evtimer_del(&lk->done);
		free(lk);
	}
	event_del(&ctx->ev);
	ub_ctx_delete(ctx->ub);
	free(ctx);
}

static void
dns_ub_dispatch(int fd, short event, void *arg)
{
	struct dns_ctx	*ctx = arg;
	int		 r;

	/*
	 * UB_PIPE: the resolver thread is gone and the pipe would stay
	 * readable.  Stop watching it; the lookups still waiting end at
	 * their timeouts, new ones fail to start.
	 */
	if ((r = ub_process(ctx->ub)) != 0) {
		log_warnx("dns: %s", ub_strerror(r));
		event_del(&ctx->ev);
	}
}

int
dns_s2s_lookup(struct dns_ctx *ctx, const char *domain, const char *proxy,
    uint16_t proxy_port, dns_cb cb, void *arg)
{
	struct dns_lookup	*lk;
	struct timeval		 tv = { DNS_TIMEOUT, 0 };
	char			 qname[sizeof(DNS_SRV_PREFIX) +
				    XGW_NAME_MAX];
	uint8_t			 a[16];
	int			 af, r;

	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		log_warn("dns: %s", __func__);
		return (-1);
	}
	lk->ctx = ctx;
	lk->cb = cb;
	lk->arg = arg;
	lk->srv.lk = lk;
	lk->srv.type = DNS_T_SRV;
	evtimer_set(&lk->timeout, dns_timeout, lk);
	evtimer_set(&lk->done, dns_deliver, lk);
	TAILQ_INSERT_TAIL(&ctx->lookups, lk, entry);
	/* the error texts quote the domain: keep it printable and short */
	if (strlcpy(lk->domain, domain, sizeof(lk->domain)) >=
	    sizeof(lk->domain) || (!dns_name_ok(domain) &&
	    !dns_literal(domain, &af, a))) {
		(void)strlcpy(lk->domain, "(invalid)", sizeof(lk->domain));
		(void)strlcpy(lk->error, "invalid domain name",
		    sizeof(lk->error));
		dns_finish(lk);
		return (0);
	}

	if (proxy != NULL && *proxy != '\0') {
		lk->source = DNS_SRC_PROXY;
		if (dns_add_target(lk, proxy,
		    proxy_port ? proxy_port : XMPP_S2S_PORT) == -1) {
			(void)snprintf(lk->error, sizeof(lk->error),
			    "invalid proxy name for %s", lk->domain);
			dns_finish(lk);
		} else
			dns_start_addresses(lk);
		return (0);
	}
	/* an address as the domain (RFC 7622 allows it) has no SRV */
	if (dns_literal(domain, &af, a)) {
		lk->source = DNS_SRC_LITERAL;
		(void)dns_add_target(lk, domain, XMPP_S2S_PORT);
		dns_start_addresses(lk);
		return (0);
	}

	lk->source = DNS_SRC_SRV;
	lk->phase = DNS_PHASE_SRV;
	(void)snprintf(qname, sizeof(qname), "%s%s", DNS_SRV_PREFIX, domain);
	if ((r = ub_resolve_async(ctx->ub, qname, DNS_T_SRV, DNS_C_IN,
	    &lk->srv, dns_srv_cb, &lk->srv.id)) != 0) {
		log_warnx("dns: SRV %s: %s", qname, ub_strerror(r));
		TAILQ_REMOVE(&ctx->lookups, lk, entry);
		free(lk);
		return (-1);
	}
	lk->srv.pending = 1;
	evtimer_add(&lk->timeout, &tv);
	return (0);
}

/*
 * A host name we are willing to look up or put in an error text: labels
 * of letters, digits, '-' and '_' (found in the wild in SRV targets),
 * at most 63 bytes each, 253 in all, an optional final dot.
 */
static int
dns_name_ok(const char *name)
{
	size_t		 len, label = 0;
	const char	*p;

	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return (0);
	for (p = name; p < name + len; p++) {
		if (*p == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return (0);
		if (++label > 63)
			return (0);
	}
	return (label > 0);
}

/* an IPv4 or IPv6 literal, the latter optionally in brackets */
static int
dns_literal(const char *s, int *af, uint8_t *a)
{
	char	 buf[INET6_ADDRSTRLEN + 2];
	size_t	 len;

	if (inet_pton(AF_INET, s, a) == 1) {
		*af = AF_INET;
		return (1);
	}
	len = strlen(s);
	if (len > 2 && s[0] == '[' && s[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*af = AF_INET6;
		return (1);
	}
	return (0);
}

static const char *
dns_rcode_name(int rcode)
{
	static const char	*names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE"
	};

	if (rcode >= 0 && (size_t)rcode < nitems(names))
		return (names[rcode]);
	return ("unknown rcode");
}

/*
 * One SRV RDATA: priority, weight, port, then the target as an
 * uncompressed wire-format name, which is what libunbound hands out.
 * Every length is checked against the RDATA, and a label we would not
 * look up makes the record unusable.
 */
static int
dns_srv_parse(const uint8_t *p, size_t len, struct dns_srv *s)
{
	size_t	 off, out = 0, wire = 1;
	uint8_t	 l, c;
	size_t	 i;

	if (len < 7)
		return (-1);
	s->priority = (uint16_t)(p[0] << 8 | p[1]);
	s->weight = (uint16_t)(p[2] << 8 | p[3]);
	s->port = (uint16_t)(p[4] << 8 | p[5]);
	off = 6;
	for (;;) {
		if (off >= len)
			return (-1);
		l = p[off++];
		if (l == 0)
			break;
		/* > 63 is a compression pointer or an extended label */
		if (l > 63 || l > len - off)
			return (-1);
		wire += 1 + l;
		if (wire > 255)
			return (-1);
		if (out > 0)
			s->target[out++] = '.';
		for (i = 0; i < l; i++) {
			c = p[off + i];
			if (!((c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return (-1);
			s->target[out++] = (char)c;
		}
		off += l;
	}
	/* the name must end the RDATA */
	if (off != len)
		return (-1);
	if (out == 0)
		s->target[out++] = '.';
	s->target[out] = '\0';
	return (0);
}

static void
dns_srv_cb(void *arg, int err, struct ub_result *res)
{
	struct dns_query	*q = arg;
	struct dns_lookup	*lk = q->lk;
	struct dns_srv		*srv = NULL;
	const char		*why = NULL;
	size_t			 i, n = 0, nrec = 0, ndot = 0;

	q->pending = 0;
	evtimer_del(&lk->timeout);
	if (err != 0)
		why = ub_strerror(err);
	else if (res->bogus) {
		/* not a failure to fall back from: someone forges answers */
		(void)snprintf(lk->error, sizeof(lk->error),
		    "SRV for %s failed DNSSEC validation", lk->domain);
		goto done;
	} else if (res->rcode != 0)
		why = dns_rcode_name(res->rcode);
	else if (!res->havedata)
		why = DNS_NODATA;
	if (why != NULL) {
		/* RFC 6120 3.2.1: a failed SRV lookup means A/AAAA, 5269 */
		dns_fallback(lk, why);
		goto done;
	}

	if ((srv = calloc(DNS_SRV_MAX, sizeof(*srv))) == NULL) {
		log_warn("dns: %s", __func__);
		(void)strlcpy(lk->error, "out of memory", sizeof(lk->error));
		goto done;
	}
	for (i = 0; res->data[i] != NULL; i++) {
		nrec++;
		if (n == DNS_SRV_MAX)
			continue;
		if (res->len[i] < 0 || dns_srv_parse((uint8_t *)res->data[i],
		    (size_t)res->len[i], &srv[n]) == -1) {
			log_debug("dns: %s: malformed SRV record skipped",
			    lk->domain);
			continue;
		}
		/* "." among other records means nothing: drop it */
		if (strcmp(srv[n].target, ".") == 0) {
			ndot++;
			continue;
		}
		/* nothing can be reached on port 0 */
		if (srv[n].port == 0) {
			log_debug("dns: %s: SRV record for %s with port 0 "
			    "skipped", lk->domain, srv[n].target);
			continue;
		}
		n++;
	}
	/* RFC 2782: a lone "." target: decidedly not available */
	if (nrec == 1 && ndot == 1) {
		(void)strlcpy(lk->error,
		    "service not offered (SRV target \".\")",
		    sizeof(lk->error));
		goto done;
	}
	if (n == 0) {
		/*
		 * The domain published SRV records, just none we can use:
		 * not a failed lookup, so no fallback to the domain.
		 */
		(void)snprintf(lk->error, sizeof(lk->error),
		    "no usable SRV record for %s", lk->domain);
		goto done;
	}
	dns_srv_order(srv, n, arc4random_uniform);
	for (i = 0; i < n && lk->nt < DNS_MAX_TARGETS; i++)
		(void)dns_add_target(lk, srv[i].target, srv[i].port);
	dns_start_addresses(lk);

 done:
	free(srv);
	if (res != NULL)
		ub_resolve_free(res);
	if (lk->phase == DNS_PHASE_SRV)
		dns_finish(lk);
}

static void
dns_fallback(struct dns_lookup *lk, const char *why)
{
	log_debug("dns: %s: no SRV (%s), trying the domain on port %d",
	    lk->domain, why, XMPP_S2S_PORT);
	lk->source = DNS_SRC_FALLBACK;
	lk->nosrv = why;
	(void)dns_add_target(lk, lk->domain, XMPP_S2S_PORT);
	dns_start_addresses(lk);
}

/* a target to resolve, or an address literal used as such */
static int
dns_add_target(struct dns_lookup *lk, const char *name, uint16_t port)
{
	struct dns_target	*t;
	uint8_t			 a[16];
	int			 af, i;

	if (lk->nt >= DNS_MAX_TARGETS)
		return (-1);
	t = &lk->t[lk->nt];
	if (!dns_literal(name, &af, a) && !dns_name_ok(name))
		return (-1);
	if (strlcpy(t->name, name, sizeof(t->name)) >= sizeof(t->name))
		return (-1);
	t->port = port;
	for (i = 0; i < 2; i++) {
		t->q[i].lk = lk;
		t->q[i].type = i == 0 ? DNS_T_AAAA : DNS_T_A;
		t->q[i].why = DNS_NODATA;
	}
	if (dns_literal(name, &af, a)) {
		i = af == AF_INET6 ? 0 : 1;
		memcpy(t->q[i].addr[0], a, af == AF_INET6 ? 16 : 4);
		t->q[i].naddr = 1;
		t->q[i].why = NULL;
	}
	lk->nt++;
	return (0);
}

static void
dns_start_addresses(struct dns_lookup *lk)
{
	struct timeval		 tv = { DNS_TIMEOUT, 0 };
	struct dns_target	*t;
	struct dns_query	*q;
	uint8_t			 a[16];
	size_t			 i;
	int			 af, j, r;

	lk->phase = DNS_PHASE_ADDR;
	for (i = 0; i < lk->nt; i++) {
		t = &lk->t[i];
		if (dns_literal(t->name, &af, a))
			continue;
		for (j = 0; j < 2; j++) {
			q = &t->q[j];
			if ((r = ub_resolve_async(lk->ctx->ub, t->name, q->type,
			    DNS_C_IN, q, dns_addr_cb, &q->id)) != 0) {
				q->why = ub_strerror(r);
				continue;
			}
			q->pending = 1;
			lk->pending++;
		}
	}
	if (lk->pending == 0) {
		dns_assemble(lk);
		return;
	}
	evtimer_del(&lk->timeout);
	evtimer_add(&lk->timeout, &tv);
}

static void
dns_addr_cb(void *arg, int err, struct ub_result *res)
{
	struct dns_query	*q = arg;
	struct dns_lookup	*lk = q->lk;
	size_t			 i, alen;

	q->pending = 0;
	lk->pending--;
	alen = q->type == DNS_T_AAAA ? 16 : 4;
	if (err != 0)
		q->why = ub_strerror(err);
	else if (res->bogus)
		q->why = "DNSSEC bogus";
	else if (res->rcode != 0)
		q->why = dns_rcode_name(res->rcode);
	else if (!res->havedata)
		q->why = DNS_NODATA;
	else {
		for (i = 0; res->data[i] != NULL &&
		    q->naddr < DNS_MAX_ADDRS; i++) {
			if (res->len[i] < 0 || (size_t)res->len[i] != alen)
				continue;
			memcpy(q->addr[q->naddr++], res->data[i], alen);
		}
		q->why = q->naddr > 0 ? NULL : "malformed answer";
	}
	if (res != NULL)
		ub_resolve_free(res);
	if (lk->pending == 0)
		dns_assemble(lk);
}

/* why a target has no address, for the error text */
static const char *
dns_target_why(const struct dns_target *t)
{
	const char	*aaaa = t->q[0].why, *a = t->q[1].why;

	/* an NXDOMAIN or a failure says more than the other's NODATA */
	if (a != NULL && strcmp(a, DNS_NODATA) != 0)
		return (a);
	if (aaaa != NULL)
		return (aaaa);
	return (a != NULL ? a : DNS_NODATA);
}

/* the addresses in SRV order, AAAA before A per target, no duplicates */
static void
dns_assemble(struct dns_lookup *lk)
{
	struct dns_target	*t;
	struct dns_query	*q;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	char			 name[XGW_NAME_MAX + 64];
	size_t			 i, k, m;
	int			 j, dup;

	for (i = 0; i < lk->nt; i++) {
		t = &lk->t[i];
		for (j = 0; j < 2; j++) {
			q = &t->q[j];
			for (k = 0; k < q->naddr; k++) {
				if (lk->naddrs == DNS_MAX_ADDRS)
					break;
				memset(&ss, 0, sizeof(ss));
				if (q->type == DNS_T_AAAA) {
					sin6 = (struct sockaddr_in6 *)&ss;
					sin6->sin6_family = AF_INET6;
					sin6->sin6_port = htons(t->port);
					memcpy(&sin6->sin6_addr, q->addr[k],
					    16);
				} else {
					sin = (struct sockaddr_in *)&ss;
					sin->sin_family = AF_INET;
					sin->sin_port = htons(t->port);
					memcpy(&sin->sin_addr, q->addr[k], 4);
				}
				/* two targets on one host: try it once */
				for (dup = 0, m = 0; m < lk->naddrs; m++)
					if (memcmp(&lk->addrs[m], &ss,
					    sizeof(ss)) == 0)
						dup = 1;
				if (!dup)
					lk->addrs[lk->naddrs++] = ss;
			}
		}
	}
	if (lk->naddrs > 0) {
		dns_how(lk);
		dns_finish(lk);
		return;
	}

	switch (lk->source) {
	case DNS_SRC_SRV:
		(void)snprintf(lk->error, sizeof(lk->error),
		    "no address for %s (SRV targets: ", lk->domain);
		for (i = 0; i < lk->nt; i++) {
			(void)snprintf(name, sizeof(name), "%s%s %s",
			    i > 0 ? ", " : "", lk->t[i].name,
			    dns_target_why(&lk->t[i]));
			(void)strlcat(lk->error, name, sizeof(lk->error));
		}
		(void)strlcat(lk->error, ")", sizeof(lk->error));
		break;
	case DNS_SRC_PROXY:
		(void)snprintf(lk->error, sizeof(lk->error),
		    "no address for %s (proxy %s: %s)", lk->domain,
		    lk->t[0].name, dns_target_why(&lk->t[0]));
		break;
	default:
		(void)snprintf(lk->error, sizeof(lk->error),
		    "no address for %s (%s)", lk->domain,
		    dns_target_why(&lk->t[0]));
		break;
	}
	dns_finish(lk);
}

/* say where the addresses came from, for xmppgwctl check partner */
static void
dns_how(struct dns_lookup *lk)
{
	char	 name[XGW_NAME_MAX + 16];
	size_t	 i;

	switch (lk->source) {
	case DNS_SRC_SRV:
		(void)snprintf(lk->how, sizeof(lk->how), "SRV %s%s:",
		    DNS_SRV_PREFIX, lk->domain);
		for (i = 0; i < lk->nt; i++) {
			(void)snprintf(name, sizeof(name), "%s %s port %u",
			    i > 0 ? "," : "", lk->t[i].name, lk->t[i].port);
			(void)strlcat(lk->how, name, sizeof(lk->how));
		}
		break;
	case DNS_SRC_FALLBACK:
		(void)snprintf(lk->how, sizeof(lk->how), "no SRV record (%s): "
		    "%s port %u", lk->nosrv, lk->domain, lk->t[0].port);
		break;
	case DNS_SRC_LITERAL:
		(void)snprintf(lk->how, sizeof(lk->how), "address literal, "
		    "port %u", lk->t[0].port);
		break;
	case DNS_SRC_PROXY:
		(void)snprintf(lk->how, sizeof(lk->how), "proxy %s port %u "
		    "(SRV not used)", lk->t[0].name, lk->t[0].port);
		break;
	}
}

/* answer known: hand it over from the event loop */
static void
dns_finish(struct dns_lookup *lk)
{
	struct timeval	 tv = { 0, 0 };

	dns_cancel(lk);
	evtimer_del(&lk->timeout);
	lk->phase = DNS_PHASE_DONE;
	if (lk->error[0] != '\0')
		lk->naddrs = 0;
	evtimer_add(&lk->done, &tv);
}

static void
dns_timeout(int fd, short event, void *arg)
{
	struct dns_lookup	*lk = arg;

	if (lk->phase == DNS_PHASE_SRV) {
		dns_cancel(lk);
		dns_fallback(lk, DNS_TIMEDOUT);
		return;
	}
	/* take what has come; the rest counts as timed out */
	dns_cancel(lk);
	dns_assemble(lk);
}

/* cancel what is outstanding; its callbacks will not run */
static void
dns_cancel(struct dns_lookup *lk)
{
	struct dns_query	*q;
	size_t			 i;
	int			 j;

	if (lk->srv.pending) {
		(void)ub_cancel(lk->ctx->ub, lk->srv.id);
		lk->srv.pending = 0;
	}
	for (i = 0; i < lk->nt; i++) {
		for (j = 0; j < 2; j++) {
			q = &lk->t[i].q[j];
			if (!q->pending)
				continue;
			(void)ub_cancel(lk->ctx->ub, q->id);
			q->pending = 0;
			q->why = DNS_TIMEDOUT;
		}
	}
	lk->pending = 0;
}

static void
dns_deliver(int fd, short event, void *arg)
{
	struct dns_lookup	*lk = arg;

	/* off the list first: the callback may call dns_free() */
	TAILQ_REMOVE(&lk->ctx->lookups, lk, entry);
	if (lk->error[0] != '\0')
		lk->cb(lk->arg, lk->error, NULL, NULL, 0);
	else
		lk->cb(lk->arg, NULL, lk->how, lk->addrs, lk->naddrs);
	free(lk);
}

/*
 * RFC 2782 ordering: by priority, lowest first; within one priority,
 * repeatedly pick a record at random with a probability proportional
 * to its weight, the weight-0 records placed first so that they keep a
 * small chance: the number drawn is in [0, sum], both ends included,
 * and the first record whose running sum reaches it wins, so the first
 * record also wins on 0.  rnd(n) returns a number in [0, n); it is
 * called once per pick while at least two records of the priority
 * remain and their weights sum to more than 0, with n = that sum + 1.
 * Records that compare equal keep their order.
 */
void
dns_srv_order(struct dns_srv *srv, size_t n, uint32_t (*rnd)(uint32_t))
{
	struct dns_srv	 tmp;
	size_t		 i, j, k, m, end;
	uint32_t	 sum, run, r;

	/* insertion sort: stable, and n is small */
	for (i = 1; i < n; i++) {
		tmp = srv[i];
		for (j = i; j > 0 && srv[j - 1].priority > tmp.priority; j--)
			srv[j] = srv[j - 1];
		srv[j] = tmp;
	}

	for (i = 0; i < n; i = end) {
		for (end = i + 1; end < n &&
		    srv[end].priority == srv[i].priority; end++)
			;
		/* weight 0 first, stably */
		for (k = i + 1; k < end; k++) {
			if (srv[k].weight != 0)
				continue;
			tmp = srv[k];
			for (j = k; j > i && srv[j - 1].weight != 0; j--)
				srv[j] = srv[j - 1];
			srv[j] = tmp;
		}
		for (k = i; k + 1 < end; k++) {
			for (sum = 0, m = k; m < end; m++)
				sum += srv[m].weight;
			if (sum == 0)
				break;	/* all weight 0: order stays */
			r = rnd(sum + 1);
			for (run = 0, m = k; m < end; m++) {
				run += srv[m].weight;
				if (run >= r)
					break;
			}
			if (m == end)	/* a bad rnd(): take the last */
				m = end - 1;
			/* move the pick to k, the rest keep their order */
			tmp = srv[m];
			for (j = m; j > k; j--)
				srv[j] = srv[j - 1];
			srv[k] = tmp;
		}
	}
}
