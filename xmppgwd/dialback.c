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
 * The dialback process: the only holder of the dialback secret.  It
 * makes XEP-0185 keys for the tls processes and checks keys other
 * servers present to us, and it resolves where partners' servers are
 * (dns.c, libunbound).  It has no network but DNS.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "auth.h"
#include "dns.h"

#define DB_ID_MAX	(128 + 1)	/* S2S_ID_MAX in s2s.h, + NUL */

struct dns_req {
	TAILQ_ENTRY(dns_req)	 entry;
	unsigned int		 instance;	/* the tls process asking */
	uint32_t		 peerid;	/* its connection */
};

static TAILQ_HEAD(, dns_req) db_reqs = TAILQ_HEAD_INITIALIZER(db_reqs);

static struct dns_ctx	*db_dns;
static char		 db_dns_why[256];

static void	dialback_init(void);
static void	dialback_configure(struct xgw_config *, struct xgw_config *);
static int	dialback_dispatch(struct imsgev *, struct imsg *);
static void	dialback_key_req(struct imsgev *, struct imsg *);
static void	dialback_check_req(struct imsgev *, struct imsg *);
static void	dialback_dns_req(struct imsgev *, struct imsg *);
static void	dialback_dns_done(void *, const char *, const char *,
		    const struct sockaddr_storage *, size_t);
static void	dialback_dns_reply(unsigned int, uint32_t, const char *,
		    const struct sockaddr_storage *, size_t);

const struct proc_role dialback_role = {
	.title = "dialback",
	.id = PROC_DIALBACK,
	.init = dialback_init,
	.configure = dialback_configure,
	.dispatch = dialback_dispatch,
};

static void
dialback_init(void)
{
	log_debug("%s: started", __func__);
}

static void
dialback_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct dns_req	*r;

	/* dns_free() cancels without callbacks: answer what is pending */
	while ((r = TAILQ_FIRST(&db_reqs)) != NULL) {
		TAILQ_REMOVE(&db_reqs, r, entry);
		dialback_dns_reply(r->instance, r->peerid,
		    "the resolver was reconfigured; try again", NULL, 0);
		free(r);
	}
	if (db_dns != NULL)
		dns_free(db_dns);
	if ((db_dns = dns_new(new, db_dns_why, sizeof(db_dns_why))) == NULL)
		log_warnx("resolver: %s", db_dns_why);
	if (new->secret.len == 0)
		log_debug("%s: no dialback secret configured", __func__);
}

static int
dialback_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	if (iev->procid != PROC_TLS)
		return (-1);
	switch (imsg_get_type(imsg)) {
	case IMSG_DB_KEY:
		dialback_key_req(iev, imsg);
		return (0);
	case IMSG_DB_CHECK:
		dialback_check_req(iev, imsg);
		return (0);
	case IMSG_DNS_LOOKUP:
		dialback_dns_req(iev, imsg);
		return (0);
	default:
		return (-1);
	}
}

/* Originating server: the key we send in <db:result/>. */
static void
dialback_key_req(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct ibuf		*b;
	char			 recv[XGW_NAME_MAX], orig[XGW_NAME_MAX];
	char			 id[DB_ID_MAX], key[DIALBACK_KEY_LEN + 1];

	imsg_cursor(imsg, &c);
	if (imsg_read_string(&c, recv, sizeof(recv)) == -1 ||
	    imsg_read_string(&c, orig, sizeof(orig)) == -1 ||
	    imsg_read_string(&c, id, sizeof(id)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (proc_conf == NULL || proc_conf->secret.len == 0 ||
	    dialback_key(proc_conf->secret.data, proc_conf->secret.len,
	    recv, orig, id, key) == -1) {
		log_warnx("%s: no key for %s -> %s: %s", __func__, orig, recv,
		    proc_conf && proc_conf->secret.len ? "bad input" :
		    "no dialback secret configured");
		key[0] = '\0';
	}
	if ((b = imsg_create(&iev->ibuf, IMSG_DB_KEY, imsg_get_id(imsg), 0,
	    sizeof(key) + 4)) == NULL || imsg_add_string(b, key) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	explicit_bzero(key, sizeof(key));
}

/* Authoritative server: did we make this key?  Constant-time compare. */
static void
dialback_check_req(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct ibuf		*b;
	char			 recv[XGW_NAME_MAX], orig[XGW_NAME_MAX];
	char			 id[DB_ID_MAX], key[DIALBACK_KEY_LEN * 4 + 1];
	char			 ours[DIALBACK_KEY_LEN + 1];
	uint32_t		 valid = 0;

	imsg_cursor(imsg, &c);
	if (imsg_read_string(&c, recv, sizeof(recv)) == -1 ||
	    imsg_read_string(&c, orig, sizeof(orig)) == -1 ||
	    imsg_read_string(&c, id, sizeof(id)) == -1 ||
	    imsg_read_string(&c, key, sizeof(key)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (proc_conf != NULL && proc_conf->secret.len > 0 &&
	    dialback_key(proc_conf->secret.data, proc_conf->secret.len,
	    recv, orig, id, ours) == 0)
		valid = dialback_key_equal(ours, key);
	if ((b = imsg_create(&iev->ibuf, IMSG_DB_CHECK, imsg_get_id(imsg), 0,
	    1024)) == NULL || imsg_add_string(b, recv) == -1 ||
	    imsg_add_string(b, orig) == -1 || imsg_add_string(b, id) == -1 ||
	    imsg_add_u32(b, valid) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	explicit_bzero(ours, sizeof(ours));
	explicit_bzero(key, sizeof(key));
}

/* text: without addresses the error, with them where they came from */
static void
dialback_dns_reply(unsigned int instance, uint32_t peerid, const char *text,
    const struct sockaddr_storage *addrs, size_t n)
{
	struct imsgev	*iev;
	struct ibuf	*b;
	size_t		 i;
	char		 msg[1024];

	if ((iev = proc_peer(PROC_TLS, instance)) == NULL)
		return;		/* it restarted; the connection is gone */
	/* the reader's buffer is 1024 bytes: a long list of names is cut */
	(void)strlcpy(msg, text ? text : "", sizeof(msg));
	if ((b = imsg_create(&iev->ibuf, IMSG_DNS_RESULT, peerid, 0,
	    sizeof(msg) + n * sizeof(*addrs))) == NULL ||
	    imsg_add_string(b, msg) == -1 ||
	    imsg_add_u32(b, n) == -1)
		fatal("%s: imsg", __func__);
	for (i = 0; i < n; i++)
		if (imsg_add(b, &addrs[i], sizeof(addrs[i])) == -1)
			fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

static void
dialback_dns_req(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct dns_req		*r;
	char			 domain[XGW_NAME_MAX], proxy[XGW_NAME_MAX];
	char			 err[300];
	uint32_t		 port;

	imsg_cursor(imsg, &c);
	if (imsg_read_string(&c, domain, sizeof(domain)) == -1 ||
	    imsg_read_string(&c, proxy, sizeof(proxy)) == -1 ||
	    imsg_read_u32(&c, &port) == -1 || port > 65535 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (db_dns == NULL) {
		snprintf(err, sizeof(err), "resolver not available: %s",
		    db_dns_why);
		dialback_dns_reply(iev->instance, imsg_get_id(imsg), err,
		    NULL, 0);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s: calloc", __func__);
	r->instance = iev->instance;
	r->peerid = imsg_get_id(imsg);
	TAILQ_INSERT_TAIL(&db_reqs, r, entry);
	if (dns_s2s_lookup(db_dns, domain, proxy, port, dialback_dns_done, r)
	    == -1) {
		TAILQ_REMOVE(&db_reqs, r, entry);
		free(r);
		dialback_dns_reply(iev->instance, imsg_get_id(imsg),
		    "the DNS query could not be started", NULL, 0);
	}
}

static void
dialback_dns_done(void *arg, const char *err, const char *how,
    const struct sockaddr_storage *addrs, size_t n)
{
	struct dns_req	*r = arg;

	TAILQ_REMOVE(&db_reqs, r, entry);
	dialback_dns_reply(r->instance, r->peerid, err ? err : how, addrs, n);
	free(r);
}
