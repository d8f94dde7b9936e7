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
 * The sip process: the relay to the enterprise SIP proxy.  Messages from
 * partners' users arrive from policy as typed stanzas and leave as SIP
 * MESSAGE requests (RFC 3428, RFC 7572) on one TCP connection to the
 * proxy; each is a non-INVITE client transaction whose final response
 * (or timer F) goes back to policy, which answers the XMPP sender.
 * While the proxy cannot be reached, messages fail at once with 503
 * rather than waiting: the connection is retried with backoff.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "stanza.h"
#include "sipmsg.h"
#include "map.h"
#include "xml.h"

#define SIP_T1_MS		500
#define SIP_TIMER_F		(64 * SIP_T1_MS / 1000)	/* seconds */
#define SIP_BACKOFF_MAX		30
#define SIP_MAX_PENDING		10000
#define SIP_CONNECT_TIMEOUT	10	/* s for TCP connect and TLS handshake */
#define SIP_STABLE		5	/* s up before a drop resets the backoff */
#define SIP_THREAD_MAX		256	/* longest Call-ID carried as <thread/> */
#define SIP_OUT_MAX		(16 * 1024 * 1024) /* bytes queued to the proxy */
#define SIP_PEER_OUT_MAX	(1024 * 1024)	/* ... to a peer */
#define SIP_UNTRUSTED_TTL	10	/* s an untrusted peer may stay */
/* what a MESSAGE may carry, and all we do (OPTIONS, RFC 3261 11.2) */
#define SIP_ACCEPT	"Accept: text/plain;charset=UTF-8\r\n" \
			"Accept-Encoding: identity\r\n"
#define SIP_CAPABILITIES "Allow: MESSAGE, OPTIONS\r\n" SIP_ACCEPT

struct sip_txn {
	TAILQ_ENTRY(sip_txn)	 entry;		/* by deadline */
	RB_ENTRY(sip_txn)	 node;		/* by branch */
	uint32_t		 id;		/* policy's */
	char			 branch[40];
	time_t			 deadline;
};

/* the connection to the proxy */
static struct {
	int			 fd;
	int			 state;		/* SIP_DOWN ... SIP_UP */
	int			 started;	/* sip_start has run */
	struct tls		*tls;		/* NULL over TCP */
	struct tls_config	*tls_cfg;	/* NULL: the proxy is TCP */
	int			 write_on_read;	/* tls_write wants input */
	struct event		 ev_read, ev_write, ev_retry, ev_timer;
	struct xbuf		 out;
	size_t			 out_off;
	char			*in;
	size_t			 inlen;
	unsigned int		 backoff;
	time_t			 deadline;	/* of connect and handshake */
	time_t			 up_since;
	char			 name[XGW_NAME_MAX];	/* as configured */
	int			 is_name;	/* not an address literal */
	struct sockaddr_storage	 addrs[XGW_SIP_ADDRS_MAX];
	unsigned int		 naddrs;
	unsigned int		 cur;		/* the address tried now */
	char			 local[64];	/* our address:port, for Via */
	TAILQ_HEAD(, sip_txn)	 txns;
	unsigned int		 ntxns;
} sp;
/* a connection from the proxy (or anyone) to our SIP listener */
struct sip_peer {
	TAILQ_ENTRY(sip_peer)	 entry;
	uint32_t		 id;
	int			 fd;
	struct tls		*tls;		/* on a tls listener */
	struct tls_srv		*srv;		/* accepted with it */
	int			 handshaking;
	int			 write_on_read;	/* tls_write wants input */
	int			 dead;		/* closed by the next tick */
	time_t			 deadline;	/* of the handshake */
	int			 trusted;
	char			 addr[64];
	struct event		 ev_read, ev_write;
	struct xbuf		 out;
	size_t			 out_off;
	char			*in;
	size_t			 inlen;
};

/*
 * A MESSAGE from the proxy, waiting for policy's verdict: a non-INVITE
 * server transaction in the Trying state (RFC 3261 17.2.2).  A copy of
 * the request that arrives meanwhile (a stateless proxy forwarding a
 * retransmission) matches it by key and is absorbed, not relayed again.
 * Over TCP and TLS timer J is 0: the transaction ends with its final
 * response.
 */
struct sip_stxn {
	RB_ENTRY(sip_stxn)	 entry;		/* by id */
	RB_ENTRY(sip_stxn)	 bykey;
	uint32_t		 id;
	uint32_t		 peer;	/* the response goes on its connection */
	char			*key;	/* RFC 3261 17.2.3 */
	char			*head;	/* Via lines, From, To, Call-ID, CSeq */
};

struct sip_listener {
	TAILQ_ENTRY(sip_listener) entry;
	struct event		 ev;
	struct event		 pause;		/* out of descriptors */
	int			 fd;
	int			 tls;
};

static TAILQ_HEAD(, sip_peer)	 sip_peers = TAILQ_HEAD_INITIALIZER(sip_peers);
/* responses and policy's verdicts are matched in O(log n) */
static int
txn_cmp(struct sip_txn *a, struct sip_txn *b)
{
	return (strcmp(a->branch, b->branch));
}

static int
stxn_cmp(struct sip_stxn *a, struct sip_stxn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static int
stxn_key_cmp(struct sip_stxn *a, struct sip_stxn *b)
{
	return (strcmp(a->key, b->key));
}

static RB_HEAD(txn_tree, sip_txn) txn_tree = RB_INITIALIZER(&txn_tree);
static RB_HEAD(stxn_tree, sip_stxn) sip_stxns = RB_INITIALIZER(&sip_stxns);
RB_PROTOTYPE(txn_tree, sip_txn, node, txn_cmp)
static RB_HEAD(stxn_keys, sip_stxn) sip_stxn_keys =
    RB_INITIALIZER(&sip_stxn_keys);
RB_PROTOTYPE(stxn_tree, sip_stxn, entry, stxn_cmp)
RB_PROTOTYPE(stxn_keys, sip_stxn, bykey, stxn_key_cmp)
RB_GENERATE(txn_tree, sip_txn, node, txn_cmp)
RB_GENERATE(stxn_tree, sip_stxn, entry, stxn_cmp)
RB_GENERATE(stxn_keys, sip_stxn, bykey, stxn_key_cmp)
static TAILQ_HEAD(, sip_listener) sip_listeners =
    TAILQ_HEAD_INITIALIZER(sip_listeners);
static uint32_t			 sip_next_id = 1;
static uint32_t			 sip_cseq = 1;	/* of our MESSAGEs */
static unsigned int		 sip_npeers;
static struct tls_srv		*sip_srv;	/* of the tls listeners */

#define SIP_MAX_PEERS	64

#define SIP_DOWN	0
#define SIP_CONNECTING	1	/* TCP */
#define SIP_HANDSHAKE	2	/* TLS */
#define SIP_UP		3

static void	sip_init(void);
static void	sip_configure(struct xgw_config *, struct xgw_config *);
static void	sip_start(void);
static int	sip_dispatch(struct imsgev *, struct imsg *);
static void	sip_peer_down(enum privsep_procid, unsigned int);
static void	sip_connect(int, short, void *);
static void	sip_connected(int, short, void *);
static void	sip_handshake(int, short, void *);
static void	sip_up(void);
static const char *sip_tls_error(void);
static const char *sip_proxy_name(void);
static void	sip_close(void);
static void	sip_readable(int, short, void *);
static void	sip_writable(int, short, void *);
static void	sip_tick(int, short, void *);
static void	sip_down(const char *);
static void	sip_result(uint32_t, int, const char *);
static void	txn_remove(struct sip_txn *);
static void	sip_send(struct imsg *);
static void	sip_input(void);
static void	sip_response(struct sipmsg *);
static void	sip_reply(struct sipmsg *, int, const char *);
static void	sip_listen(struct xgw_config *);
static void	sip_accept(int, short, void *);
static void	sip_accept_resume(int, short, void *);
static void	sip_peer_read(int, short, void *);
static void	sip_peer_write(int, short, void *);
static void	sip_peer_close(struct sip_peer *);
static void	sip_peer_handshake(struct sip_peer *);
static int	sip_peer_input(struct sip_peer *, const char *, size_t);
static struct tls_srv *sip_server(struct xgw_config *);
static void	sip_peer_request(struct sip_peer *, struct sipmsg *);
static void	sip_answered(int);
static void	sip_peer_unframed(struct sip_peer *, int, const char *);
static void	sip_refuse(struct sip_peer *, struct sipmsg *, const char *,
		    int, const char *, const char *, const char *);
static void	sip_peer_respond(struct sip_peer *, const char *, int,
		    const char *, const char *);
static char	*sip_required(struct sipmsg *);
static int	sip_body_ok(struct sipmsg *);
static char	*sip_response_head(struct sipmsg *);
static uint32_t	 sip_random(void);
static void	sip_answer(struct imsg *);
static char	*sip_stxn_key(struct sipmsg *);
static void	sip_stxn_free(struct sip_stxn *);

const struct proc_role sip_role = {
	.title = "sip",
	.id = PROC_SIP,
	.init = sip_init,
	.configure = sip_configure,
	.start = sip_start,
	.dispatch = sip_dispatch,
	.peer_down = sip_peer_down,
	.paced = 1,
};

static void
sip_init(void)
{
	struct timeval	 tv = { 1, 0 };

	if (tls_init() == -1)
		fatalx("%s: tls_init", __func__);
	sp.fd = -1;
	TAILQ_INIT(&sp.txns);
	xbuf_init(&sp.out);
	evtimer_set(&sp.ev_retry, sip_connect, NULL);
	evtimer_set(&sp.ev_timer, sip_tick, NULL);
	evtimer_add(&sp.ev_timer, &tv);
}

static int
sip_file_differs(struct xgw_file *a, struct xgw_file *b)
{
	return (a->len != b->len ||
	    (a->len > 0 && memcmp(a->data, b->data, a->len) != 0));
}

/* Whether the connection to the proxy must be made anew for new. */
static int
sip_proxy_changed(struct xgw_config *old, struct xgw_config *new)
{
	struct xgw_sip	*o, *n = &new->sip;

	if (old == NULL)
		return (1);
	o = &old->sip;
	return (o->configured != n->configured ||
	    strcmp(o->proxy, n->proxy) != 0 ||
	    o->proxy_port != n->proxy_port ||
	    o->proxy_transport != n->proxy_transport ||
	    o->proxy_naddrs != n->proxy_naddrs ||
	    memcmp(o->proxy_addrs, n->proxy_addrs, sizeof(o->proxy_addrs))
	    != 0 || sip_file_differs(&old->ca, &new->ca) ||
	    sip_file_differs(&o->ca, &n->ca) ||
	    sip_file_differs(&o->cert, &n->cert) ||
	    sip_file_differs(&o->key, &n->key));
}

/*
 * TLS 1.2 and 1.3; the proxy's certificate is checked against the sip
 * block's CA, else the global one (both sent only to us), and its name
 * against the proxy as configured (an address literal against the
 * certificate's IP addresses).  The client certificate, if any, is for
 * proxies that require mutual TLS.
 */
static struct tls_config *
sip_tls_config(struct xgw_config *conf)
{
	struct tls_config	*cfg;
	struct xgw_file		*ca;

	ca = conf->sip.ca.len > 0 ? &conf->sip.ca : &conf->ca;
	if ((cfg = tls_config_new()) == NULL)
		fatal("%s: tls_config_new", __func__);
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_ca_mem(cfg, ca->data, ca->len) == -1 ||
	    (conf->sip.cert.len > 0 && tls_config_set_keypair_mem(cfg,
	    conf->sip.cert.data, conf->sip.cert.len, conf->sip.key.data,
	    conf->sip.key.len) == -1)) {
		log_warnx("sip: TLS configuration for the proxy %s: %s",
		    conf->sip.proxy, tls_config_error(cfg));
		tls_config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

static void
sip_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct timeval	 tv = { 0, 0 };

	if (proc_conf != NULL)
		sip_listen(new);
	if (!sip_proxy_changed(old, new))
		return;
	if (sp.state != SIP_DOWN) {
		log_info("sip: closing the connection to the proxy %s: %s",
		    sip_proxy_name(), new->sip.configured ?
		    "the proxy changed" : "the sip block was removed");
		sip_close();
	}
	evtimer_del(&sp.ev_retry);
	if (sp.tls_cfg != NULL)
		tls_config_free(sp.tls_cfg);
	sp.tls_cfg = NULL;
	sp.naddrs = sp.cur = sp.backoff = 0;
	if (!new->sip.configured)
		return;
	(void)strlcpy(sp.name, new->sip.proxy, sizeof(sp.name));
	sp.is_name = config_sip_is_name(&new->sip);
	if (new->sip.proxy_transport == XPORT_TLS &&
	    (sp.tls_cfg = sip_tls_config(new)) == NULL)
		return;		/* said why; unreachable until fixed */
	/* none when the name did not resolve: the parent said so */
	sp.naddrs = new->sip.proxy_naddrs;
	memcpy(sp.addrs, new->sip.proxy_addrs, sizeof(sp.addrs));
	if (sp.started && sp.naddrs > 0)
		evtimer_add(&sp.ev_retry, &tv);
}

static void
sip_start(void)
{
	struct timeval	 tv = { 0, 0 };

	sip_listen(proc_conf);
	sp.started = 1;
	if (sp.naddrs > 0)
		evtimer_add(&sp.ev_retry, &tv);
}

/* "sip.contoso.example (192.0.2.10:5061)", for the log */
static const char *
sip_proxy_name(void)
{
	static char	 buf[XGW_NAME_MAX + 80];
	char		 addr[64];

	if (sp.cur >= sp.naddrs)
		return (sp.name);
	config_sockaddr(&sp.addrs[sp.cur], addr, sizeof(addr));
	if (sp.is_name)
		snprintf(buf, sizeof(buf), "%s (%s)", sp.name, addr);
	else
		(void)strlcpy(buf, addr, sizeof(buf));
	return (buf);
}

static void
sip_connect(int fd, short event, void *arg)
{
	struct sockaddr_storage	*ss;
	socklen_t		 len;
	int			 s;

	if (sp.naddrs == 0 || sp.state != SIP_DOWN)
		return;
	ss = &sp.addrs[sp.cur];
	len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if ((s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sip: socket");
		sip_down("socket");
		return;
	}
	sock_nodelay(s);
	if (connect(s, (struct sockaddr *)ss, len) == -1 &&
	    errno != EINPROGRESS) {
		close(s);
		sip_down(strerror(errno));
		return;
	}
	sp.fd = s;
	sp.state = SIP_CONNECTING;
	sp.deadline = time(NULL) + SIP_CONNECT_TIMEOUT;
	event_set(&sp.ev_write, s, EV_WRITE, sip_connected, NULL);
	event_add(&sp.ev_write, NULL);
}

static void
sip_connected(int fd, short event, void *arg)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		sip_down(strerror(err));
		return;
	}
	if (sp.tls_cfg == NULL) {
		sip_up();
		return;
	}
	/* the name checked is the configured one, never an address's */
	if ((sp.tls = tls_client()) == NULL) {
		sip_down("tls_client failed");
		return;
	}
	if (tls_configure(sp.tls, sp.tls_cfg) == -1 ||
	    tls_connect_socket(sp.tls, fd, sp.name) == -1) {
		sip_down(sip_tls_error());
		return;
	}
	sp.state = SIP_HANDSHAKE;
	event_set(&sp.ev_read, fd, EV_READ, sip_handshake, NULL);
	event_set(&sp.ev_write, fd, EV_WRITE, sip_handshake, NULL);
	sip_handshake(fd, 0, NULL);
}

/* A failed handshake (a certificate that does not verify) is "down". */
static void
sip_handshake(int fd, short event, void *arg)
{
	char	 why[512];
	int	 r;

	if ((r = tls_handshake(sp.tls)) == TLS_WANT_POLLIN) {
		event_add(&sp.ev_read, NULL);
		return;
	}
	if (r == TLS_WANT_POLLOUT) {
		event_add(&sp.ev_write, NULL);
		return;
	}
	if (r == -1) {
		snprintf(why, sizeof(why), "TLS handshake: %s",
		    sip_tls_error());
		sip_down(why);
		return;
	}
	event_del(&sp.ev_read);
	event_del(&sp.ev_write);
	sip_up();
}

static void
sip_up(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(sp.fd, (struct sockaddr *)&ss, &len) == -1) {
		sip_down(strerror(errno));
		return;
	}
	config_sockaddr(&ss, sp.local, sizeof(sp.local));
	sp.state = SIP_UP;
	sp.up_since = time(NULL);
	event_set(&sp.ev_read, sp.fd, EV_READ | EV_PERSIST, sip_readable,
	    NULL);
	event_add(&sp.ev_read, NULL);
	event_set(&sp.ev_write, sp.fd, EV_WRITE, sip_writable, NULL);
	if (sp.out.len > sp.out_off)
		event_add(&sp.ev_write, NULL);
	if (sp.tls != NULL)
		log_info("sip: connected to the proxy %s over %s",
		    sip_proxy_name(), tls_conn_version(sp.tls));
	else
		log_info("sip: connected to the proxy %s", sip_proxy_name());
}

/*
 * Close the connection (up or being made): every transaction on it
 * fails with 503 now.
 */
static void
sip_close(void)
{
	struct sip_txn	*t;

	if (sp.fd != -1) {
		/* ev_read is set from the handshake on */
		if (sp.state != SIP_CONNECTING)
			event_del(&sp.ev_read);
		event_del(&sp.ev_write);
		if (sp.tls != NULL) {
			/* best effort: the socket is non-blocking */
			(void)tls_close(sp.tls);
			tls_free(sp.tls);
			sp.tls = NULL;
		}
		close(sp.fd);
		sp.fd = -1;
	}
	sp.state = SIP_DOWN;
	sp.write_on_read = 0;
	sp.out.len = sp.out_off = 0;
	free(sp.in);
	sp.in = NULL;
	sp.inlen = 0;
	while ((t = TAILQ_FIRST(&sp.txns)) != NULL) {
		txn_remove(t);
		sip_result(t->id, 503, "SIP proxy unreachable");
		free(t);
	}
}

/*
 * The connection is gone (or never came): the next address is tried at
 * once, and after the last a new round starts after a growing delay.
 * A connection that dies young (a proxy that refuses our certificate
 * after a TLS 1.3 handshake) does not reset the delay.
 */
static void
sip_down(const char *why)
{
	struct timeval	 tv = { 0, 0 };
	int		 was_up = sp.state == SIP_UP;

	if (was_up && time(NULL) - sp.up_since >= SIP_STABLE)
		sp.backoff = 0;
	/* once when it goes or in the first round, not at every retry */
	if (sp.backoff == 0)
		log_warnx("sip: proxy %s unreachable: %s", sip_proxy_name(),
		    why);
	sip_close();
	if (sp.naddrs == 0)
		return;
	evtimer_del(&sp.ev_retry);
	if (!was_up && sp.cur + 1 < sp.naddrs) {
		sp.cur++;
		evtimer_add(&sp.ev_retry, &tv);
		return;
	}
	sp.cur = 0;
	sp.backoff = sp.backoff ? sp.backoff * 2 : 1;
	if (sp.backoff > SIP_BACKOFF_MAX)
		sp.backoff = SIP_BACKOFF_MAX;
	tv.tv_sec = sp.backoff;
	evtimer_add(&sp.ev_retry, &tv);
}

static void
sip_writable(int fd, short event, void *arg)
{
	char	 why[512];
	ssize_t	 n;

	while (sp.out_off < sp.out.len) {
		if (sp.tls != NULL) {
			n = tls_write(sp.tls, sp.out.data + sp.out_off,
			    sp.out.len - sp.out_off);
			/* waiting for input: sip_readable writes again */
			if (n == TLS_WANT_POLLIN) {
				sp.write_on_read = 1;
				return;
			}
			if (n == TLS_WANT_POLLOUT) {
				event_add(&sp.ev_write, NULL);
				return;
			}
			if (n == -1) {
				snprintf(why, sizeof(why), "TLS: %s",
				    sip_tls_error());
				sip_down(why);
				return;
			}
		} else if ((n = write(fd, sp.out.data + sp.out_off,
		    sp.out.len - sp.out_off)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				event_add(&sp.ev_write, NULL);
				return;
			}
			sip_down(strerror(errno));
			return;
		}
		sp.out_off += n;
	}
	sp.out.len = sp.out_off = 0;
}

/* One read; 0 when nothing more is to be read now, -1 when down. */
static int
sip_read_once(int fd, char *buf, size_t len, ssize_t *n)
{
	char	 why[512];

	if (sp.tls != NULL) {
		*n = tls_read(sp.tls, buf, len);
		if (*n == TLS_WANT_POLLIN)
			return (0);
		if (*n == TLS_WANT_POLLOUT) {
			event_add(&sp.ev_write, NULL);
			return (0);
		}
		if (*n == -1) {
			/* e.g. the proxy's alert that it wants our cert */
			snprintf(why, sizeof(why), "TLS: %s",
			    sip_tls_error());
			sip_down(why);
			return (-1);
		}
	} else if ((*n = read(fd, buf, len)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return (0);
		sip_down(strerror(errno));
		return (-1);
	}
	if (*n == 0) {
		sip_down("the proxy closed the connection");
		return (-1);
	}
	return (1);
}

/* libtls's reason, never NULL */
static const char *
sip_tls_error(void)
{
	const char	*e;

	if (sp.tls == NULL || (e = tls_error(sp.tls)) == NULL)
		return ("unknown error");
	return (e);
}

/* TLS may hold several records: read until none is left (bounded). */
static void
sip_readable(int fd, short event, void *arg)
{
	char		 buf[16384], *p;
	ssize_t		 n;
	int		 loops;

	if (sp.write_on_read) {
		sp.write_on_read = 0;
		sip_writable(fd, EV_WRITE, NULL);
		if (sp.state != SIP_UP)
			return;
	}
	for (loops = 0; loops < PROC_READS && sp.state == SIP_UP; loops++) {
		if (sip_read_once(fd, buf, sizeof(buf), &n) <= 0)
			return;
		if (sp.inlen + n > 2 * SIP_MAX_MESSAGE) {
			sip_down("too much unparsed input from the proxy");
			return;
		}
		if ((p = realloc(sp.in, sp.inlen + n)) == NULL)
			fatal("%s: realloc", __func__);
		memcpy(p + sp.inlen, buf, n);
		sp.in = p;
		sp.inlen += n;
		proc_input();
		sip_input();
		/* a short read took all there was */
		if (sp.tls == NULL && n < (ssize_t)sizeof(buf))
			return;
	}
}

static void
sip_input(void)
{
	struct sipmsg	 m;
	char		 err[128];
	size_t		 used, off = 0;
	int		 r, code;

	while (off < sp.inlen && sp.state == SIP_UP) {
		r = sipmsg_parse(&m, sp.in + off, sp.inlen - off, &used, &code,
		    err, sizeof(err));
		if (r == -1) {
			/* framing is lost: nothing after this can be trusted */
			sip_down(err);
			return;
		}
		/* keepalive CRLFs (RFC 5626) are consumed, too */
		off += used;
		if (r == 0)
			break;
		if (m.request) {
			sip_reply(&m, 501, "Not Implemented");
			if (strcmp(m.method, "MESSAGE") == 0)
				sip_answered(501);
		} else
			sip_response(&m);
		sipmsg_free(&m);
	}
	/* once per read, not per message; a closed connection kept nothing */
	if (sp.state == SIP_UP && off > 0) {
		memmove(sp.in, sp.in + off, sp.inlen - off);
		sp.inlen -= off;
	}
}

static void
txn_remove(struct sip_txn *t)
{
	TAILQ_REMOVE(&sp.txns, t, entry);
	RB_REMOVE(txn_tree, &txn_tree, t);
	sp.ntxns--;
}

/* a final response ends its transaction; the top Via names it */
static void
sip_response(struct sipmsg *m)
{
	struct sip_txn	*t, key;
	char		 branch[64];

	if (m->nvia == 0 || sipmsg_param(m->via[0], "branch", branch,
	    sizeof(branch)) == -1)
		return;
	if (strlcpy(key.branch, branch, sizeof(key.branch)) >=
	    sizeof(key.branch))
		t = NULL;	/* longer than any of ours */
	else
		t = RB_FIND(txn_tree, &txn_tree, &key);
	if (t == NULL || strcmp(m->cseq_method, "MESSAGE") != 0) {
		log_info("sip: response %d for no transaction of ours ignored",
		    m->status);
		return;
	}
	if (m->status < 200)
		return;
	txn_remove(t);
	sip_result(t->id, m->status, m->reason);
	free(t);
}

static void
sip_reply(struct sipmsg *m, int code, const char *reason)
{
	size_t	 i;

	if (strcmp(m->method, "ACK") == 0)
		return;
	xbuf_printf(&sp.out, "SIP/2.0 %d %s\r\n", code, reason);
	for (i = 0; i < m->nvia; i++)
		xbuf_printf(&sp.out, "Via: %s\r\n", m->via[i]);
	xbuf_printf(&sp.out, "From: %s\r\nTo: %s;tag=gw%08x\r\n"
	    "Call-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
	    m->from, m->to, sip_random(), m->call_id, m->cseq,
	    m->cseq_method);
	event_add(&sp.ev_write, NULL);
}

static void
sip_result(uint32_t id, int code, const char *reason)
{
	struct imsgev	*iev;
	struct ibuf	*b;

	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL)
		return;		/* policy restarted and answered them */
	if ((b = imsg_create(&iev->ibuf, IMSG_SIP_RESULT, id, 0, 128)) == NULL ||
	    imsg_add_u32(b, code) == -1 ||
	    imsg_add_string(b, reason ? reason : "") == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

/* Timer F: a transaction without a final response times out (408). */
static void
sip_tick(int fd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	struct sip_txn	*t, *tt;
	struct sip_peer	*pe, *pe2;
	time_t		 now = time(NULL);

	if ((sp.state == SIP_CONNECTING || sp.state == SIP_HANDSHAKE) &&
	    now >= sp.deadline)
		sip_down(sp.state == SIP_CONNECTING ? "connect timed out" :
		    "TLS handshake timed out");
	TAILQ_FOREACH_SAFE(pe, &sip_peers, entry, pe2) {
		if (pe->dead)
			sip_peer_close(pe);
		else if (pe->handshaking && pe->deadline <= now) {
			log_info("sip: TLS handshake from %s: timed out",
			    pe->addr);
			sip_peer_close(pe);
		} else if (!pe->trusted && pe->deadline <= now) {
			/* its requests were answered 403; make room */
			log_info("sip: closing the connection from %s, which "
			    "is not trusted", pe->addr);
			sip_peer_close(pe);
		}
	}
	/* all have the same timeout: the first not due ends the pass */
	TAILQ_FOREACH_SAFE(t, &sp.txns, entry, tt) {
		if (t->deadline > now)
			break;
		txn_remove(t);
		sip_result(t->id, 408, "Request Timeout");
		free(t);
	}
	evtimer_add(&sp.ev_timer, &tv);
}

/* A message from a partner's user to one of ours: a SIP MESSAGE. */
static void
sip_send(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct stanza		 s;
	struct map_message	 m;
	struct sip_txn		*t;
	char			 branch[sizeof(t->branch)], callid[32];
	uint32_t		 id, rnd[5];
	size_t			 i;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &id) == -1 || stanza_decode(&c, &s) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (sp.state != SIP_UP) {
		sip_result(id, 503, "SIP proxy unreachable");
		goto done;
	}
	if (sp.ntxns >= SIP_MAX_PENDING) {
		sip_result(id, 503, "too many messages in flight");
		goto done;
	}
	if (sp.out.len - sp.out_off > SIP_OUT_MAX) {
		sip_result(id, 503, "the SIP proxy is not reading");
		goto done;
	}
	for (i = 0; i < nitems(rnd); i++)
		rnd[i] = sip_random();
	/* z9hG4bK%08x%08x and %08x%08x@xmppgwd */
	memcpy(branch, "z9hG4bK", 7);
	(void)u32_hex(branch + 7, rnd[0]);
	(void)u32_hex(branch + 15, rnd[1]);
	(void)u32_hex(callid, rnd[2]);
	(void)u32_hex(callid + 8, rnd[3]);
	memcpy(callid + 16, "@xmppgwd", sizeof("@xmppgwd"));
	memset(&m, 0, sizeof(m));
	m.from = s.from;
	m.to = s.to;
	m.thread = s.thread;
	m.subject = s.subject;
	m.lang = s.lang;
	m.body = s.body;
	m.transport = sp.tls != NULL ? "TLS" : "TCP";
	m.sent_by = sp.local;
	m.branch = branch;
	m.callid = callid;
	m.tag = rnd[4];
	/* requests that share a Call-ID need growing sequence numbers */
	m.cseq = sip_cseq;
	if (map_message(&sp.out, &m) == -1) {
		sip_result(id, 400, "address cannot be mapped");
		goto done;
	}
	if (sp.out.error)
		fatalx("%s: out of memory", __func__);
	if (++sip_cseq >= 1U << 31)
		sip_cseq = 1;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("%s: calloc", __func__);
	t->id = id;
	(void)strlcpy(t->branch, branch, sizeof(t->branch));
	t->deadline = time(NULL) + SIP_TIMER_F;
	TAILQ_INSERT_TAIL(&sp.txns, t, entry);
	if (RB_INSERT(txn_tree, &txn_tree, t) != NULL)
		fatalx("%s: branch %s reused", __func__, t->branch);
	sp.ntxns++;
	event_add(&sp.ev_write, NULL);
	log_debug("sip: MESSAGE from %s to %s (%zu bytes)", s.from, s.to,
	    s.body != NULL ? strlen(s.body) : 0);
 done:
	stanza_clear(&s);
}

static int
sip_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	if (iev->procid != PROC_POLICY)
		return (-1);
	switch (imsg_get_type(imsg)) {
	case IMSG_SIP_SEND:
		sip_send(imsg);
		return (0);
	case IMSG_SIP_ANSWER:
		sip_answer(imsg);
		return (0);
	default:
		return (-1);
	}
}

static void
sip_peer_down(enum privsep_procid id, unsigned int instance)
{
	struct sip_txn	*t;

	struct sip_stxn	*st;
	struct sip_peer	*pe;

	/* policy answers its senders itself; forget what it asked */
	if (id != PROC_POLICY)
		return;
	while ((t = TAILQ_FIRST(&sp.txns)) != NULL) {
		txn_remove(t);
		free(t);
	}
	/* what we asked policy is answered here, not left hanging */
	while ((st = RB_ROOT(&sip_stxns)) != NULL) {
		TAILQ_FOREACH(pe, &sip_peers, entry)
			if (pe->id == st->peer)
				sip_peer_respond(pe, st->head, 503,
				    "Service Unavailable", NULL);
		sip_stxn_free(st);
	}
}

/*
 * The server side of the tls listeners: the sip block's certificate and
 * key.  The proxy is not asked for a certificate: trusted says who may
 * send us SIP.  NULL if there is no tls listener (or it cannot be).
 */
static struct tls_srv *
sip_server(struct xgw_config *conf)
{
	struct xgw_listen	*l;
	struct tls_config	*cfg;
	struct tls		*srv;

	TAILQ_FOREACH(l, &conf->sip.listens, entry)
		if (l->transport == XPORT_TLS)
			break;
	if (l == NULL || conf->sip.cert.len == 0)
		return (NULL);
	if ((cfg = tls_config_new()) == NULL)
		fatal("%s: tls_config_new", __func__);
	if ((srv = tls_server()) == NULL)
		fatal("%s: tls_server", __func__);
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_keypair_mem(cfg, conf->sip.cert.data,
	    conf->sip.cert.len, conf->sip.key.data, conf->sip.key.len) == -1) {
		log_warnx("sip: TLS listener: %s", tls_config_error(cfg) ?
		    tls_config_error(cfg) : "unknown error");
		goto fail;
	}
	if (tls_configure(srv, cfg) == -1) {
		log_warnx("sip: TLS listener: %s", tls_error(srv) ?
		    tls_error(srv) : "unknown error");
		goto fail;
	}
	tls_config_free(cfg);
	return (tls_srv_new(srv));
 fail:
	tls_free(srv);
	tls_config_free(cfg);
	return (NULL);
}

/* (Re)arm the SIP listeners on the sockets the parent bound. */
static void
sip_listen(struct xgw_config *conf)
{
	struct sip_listener	*sl;
	struct xgw_listen	*l;

	while ((sl = TAILQ_FIRST(&sip_listeners)) != NULL) {
		TAILQ_REMOVE(&sip_listeners, sl, entry);
		event_del(&sl->ev);
		evtimer_del(&sl->pause);
		free(sl);
	}
	/* connections accepted before keep the old one until they close */
	tls_srv_retire(sip_srv);
	sip_srv = sip_server(conf);
	TAILQ_FOREACH(l, &conf->sip.listens, entry) {
		if (l->fd == -1)
			continue;
		if (l->transport == XPORT_TLS && sip_srv == NULL) {
			log_warnx("sip: no TLS server configuration; not "
			    "listening on %s",
			    config_sockaddr(&l->ss, (char [64]){ 0 }, 64));
			continue;
		}
		if ((sl = calloc(1, sizeof(*sl))) == NULL)
			fatal("%s: calloc", __func__);
		sl->fd = l->fd;
		sl->tls = l->transport == XPORT_TLS;
		event_set(&sl->ev, sl->fd, EV_READ | EV_PERSIST, sip_accept,
		    sl);
		event_add(&sl->ev, NULL);
		evtimer_set(&sl->pause, sip_accept_resume, sl);
		TAILQ_INSERT_TAIL(&sip_listeners, sl, entry);
	}
}

static void
sip_accept_resume(int fd, short event, void *arg)
{
	struct sip_listener	*sl = arg;

	event_add(&sl->ev, NULL);
}

static int
sip_trusted(struct sockaddr_storage *ss)
{
	struct xgw_trusted	*t;
	const uint8_t		*a, *b;
	size_t			 len;
	int			 bits, i;

	TAILQ_FOREACH(t, &proc_conf->sip.trusted, entry) {
		if (t->ss.ss_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET) {
			a = (const uint8_t *)&((struct sockaddr_in *)ss)->
			    sin_addr;
			b = (const uint8_t *)&((struct sockaddr_in *)&t->ss)->
			    sin_addr;
			len = 4;
		} else {
			a = (const uint8_t *)&((struct sockaddr_in6 *)ss)->
			    sin6_addr;
			b = (const uint8_t *)&((struct sockaddr_in6 *)&t->ss)->
			    sin6_addr;
			len = 16;
		}
		for (bits = t->prefixlen, i = 0; bits > 0 && (size_t)i < len;
		    bits -= 8, i++) {
			uint8_t	 mask = bits >= 8 ? 0xff :
			    (uint8_t)(0xff << (8 - bits));

			if ((a[i] & mask) != (b[i] & mask))
				break;
		}
		if (bits <= 0 || (size_t)i == len)
			return (1);
	}
	return (0);
}

static void
sip_accept(int fd, short event, void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct sip_listener	*sl = arg;
	struct sip_peer		*pe;
	int			 s;

	if ((s = accept4(fd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		/* do not spin on a full descriptor table */
		if (errno == EMFILE || errno == ENFILE) {
			struct timeval	 tv = { 1, 0 };

			log_warnx("sip: out of descriptors, pausing");
			event_del(&sl->ev);
			evtimer_add(&sl->pause, &tv);
		}
		return;
	}
	if (sip_npeers >= SIP_MAX_PEERS) {
		log_warnx("sip: too many connections, refusing one");
		close(s);
		return;
	}
	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		fatal("%s: calloc", __func__);
	sock_nodelay(s);
	pe->id = sip_next_id++;
	pe->fd = s;
	pe->trusted = sip_trusted(&ss);
	pe->deadline = time(NULL) + SIP_UNTRUSTED_TTL;
	config_sockaddr(&ss, pe->addr, sizeof(pe->addr));
	if (sl->tls) {
		if (sip_srv == NULL || tls_accept_socket(tls_srv_ctx(sip_srv),
		    &pe->tls, s) == -1) {
			log_warnx("sip: TLS from %s: %s", pe->addr,
			    sip_srv && tls_error(tls_srv_ctx(sip_srv)) ?
			    tls_error(tls_srv_ctx(sip_srv)) : "no TLS server");
			close(s);
			free(pe);
			return;
		}
		pe->srv = tls_srv_hold(sip_srv);
		pe->handshaking = 1;
		pe->deadline = time(NULL) + SIP_CONNECT_TIMEOUT;
	}
	xbuf_init(&pe->out);
	event_set(&pe->ev_read, s, EV_READ | EV_PERSIST, sip_peer_read, pe);
	event_add(&pe->ev_read, NULL);
	event_set(&pe->ev_write, s, EV_WRITE, sip_peer_write, pe);
	TAILQ_INSERT_TAIL(&sip_peers, pe, entry);
	sip_npeers++;
	if (!pe->trusted)
		log_info("sip: connection from %s, which is not trusted: "
		    "its requests are answered 403", pe->addr);
}

static void
sip_peer_close(struct sip_peer *pe)
{
	event_del(&pe->ev_read);
	event_del(&pe->ev_write);
	if (pe->tls != NULL) {
		/* best effort: the socket is non-blocking */
		(void)tls_close(pe->tls);
		tls_free(pe->tls);
	}
	tls_srv_drop(pe->srv);
	close(pe->fd);
	TAILQ_REMOVE(&sip_peers, pe, entry);
	sip_npeers--;
	xbuf_free(&pe->out);
	free(pe->in);
	free(pe);
}

static void
sip_peer_write(int fd, short event, void *arg)
{
	struct sip_peer	*pe = arg;
	ssize_t		 n;

	if (pe->handshaking) {
		sip_peer_handshake(pe);
		return;
	}
	while (pe->out_off < pe->out.len) {
		if (pe->tls != NULL) {
			n = tls_write(pe->tls, pe->out.data + pe->out_off,
			    pe->out.len - pe->out_off);
			if (n == TLS_WANT_POLLIN) {
				pe->write_on_read = 1;
				return;
			}
			if (n == TLS_WANT_POLLOUT) {
				event_add(&pe->ev_write, NULL);
				return;
			}
			if (n == -1) {
				sip_peer_close(pe);
				return;
			}
		} else if ((n = write(fd, pe->out.data + pe->out_off,
		    pe->out.len - pe->out_off)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				event_add(&pe->ev_write, NULL);
				return;
			}
			sip_peer_close(pe);
			return;
		}
		pe->out_off += n;
	}
	pe->out.len = pe->out_off = 0;
}

/* A handshake that fails closes the connection; no SIP was read yet. */
static void
sip_peer_handshake(struct sip_peer *pe)
{
	int	 r;

	if ((r = tls_handshake(pe->tls)) == TLS_WANT_POLLIN)
		return;		/* the persistent read event calls again */
	if (r == TLS_WANT_POLLOUT) {
		event_add(&pe->ev_write, NULL);
		return;
	}
	if (r == -1) {
		log_info("sip: TLS handshake from %s: %s", pe->addr,
		    tls_error(pe->tls) ? tls_error(pe->tls) : "failed");
		sip_peer_close(pe);
		return;
	}
	pe->handshaking = 0;
	log_debug("sip: TLS from %s: %s %s", pe->addr,
	    tls_conn_version(pe->tls), tls_conn_cipher(pe->tls));
	if (pe->out_off < pe->out.len)
		event_add(&pe->ev_write, NULL);
}

/* TLS may hold several records: read until none is left (bounded). */
static void
sip_peer_read(int fd, short event, void *arg)
{
	struct sip_peer	*pe = arg;
	char		 buf[16384];
	ssize_t		 n;
	int		 loops;

	if (pe->handshaking) {
		sip_peer_handshake(pe);
		return;
	}
	if (pe->write_on_read) {
		uint32_t	 id = pe->id;

		pe->write_on_read = 0;
		sip_peer_write(fd, EV_WRITE, pe);
		TAILQ_FOREACH(pe, &sip_peers, entry)	/* still there? */
			if (pe->id == id)
				break;
		if (pe == NULL)
			return;
	}
	for (loops = 0; loops < PROC_READS && !pe->dead; loops++) {
		if (pe->tls != NULL) {
			n = tls_read(pe->tls, buf, sizeof(buf));
			if (n == TLS_WANT_POLLIN)
				return;
			if (n == TLS_WANT_POLLOUT) {
				event_add(&pe->ev_write, NULL);
				return;
			}
		} else if ((n = read(fd, buf, sizeof(buf))) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 0 && pe->inlen > 0) {
			/* the peer may still read: half a request, 400 */
			sip_peer_unframed(pe, 400, "the connection ended in "
			    "the middle of a request");
			return;
		}
		if (n <= 0) {
			sip_peer_close(pe);
			return;
		}
		proc_input();
		if (sip_peer_input(pe, buf, n) == -1 ||
		    (pe->tls == NULL && n < (ssize_t)sizeof(buf)))
			return;
	}
}

/* Parse what arrived; -1 when pe was closed. */
static int
sip_peer_input(struct sip_peer *pe, const char *data, size_t len)
{
	struct sipmsg	 m;
	char		 err[128], *p;
	size_t		 used, off;
	int		 r, code;

	if (pe->inlen + len > 2 * SIP_MAX_MESSAGE) {
		sip_peer_close(pe);
		return (-1);
	}
	if ((p = realloc(pe->in, pe->inlen + len)) == NULL)
		fatal("%s: realloc", __func__);
	memcpy(p + pe->inlen, data, len);
	pe->in = p;
	pe->inlen += len;
	/* a peer that does not read its answers is not heard any more */
	for (off = 0; off < pe->inlen && !pe->dead; ) {
		r = sipmsg_parse(&m, pe->in + off, pe->inlen - off, &used,
		    &code, err, sizeof(err));
		if (r == 0) {
			off += used;
			break;
		}
		if (r == -1) {
			memmove(pe->in, pe->in + off, pe->inlen - off);
			pe->inlen -= off;
			sip_peer_unframed(pe, code, err);
			return (-1);
		}
		if (m.request)
			sip_peer_request(pe, &m);
		sipmsg_free(&m);
		off += used;
	}
	/* once per read, not per request */
	memmove(pe->in, pe->in + off, pe->inlen - off);
	pe->inlen -= off;
	return (0);
}

/*
 * What is left of pe's input cannot be framed as a request, so there is
 * nothing to copy into a response and no telling where the next request
 * would start: log why, say the status line (best effort) and close.
 */
static void
sip_peer_unframed(struct sip_peer *pe, int code, const char *why)
{
	char	 buf[128];

	log_info("sip: from %s: %s (%zu bytes): answered %d and closed",
	    pe->addr, why, pe->inlen, code);
	if (pe->inlen > 8 && memcmp(pe->in, "MESSAGE ", 8) == 0)
		sip_answered(code);
	snprintf(buf, sizeof(buf), "SIP/2.0 %d %s\r\nContent-Length: 0\r\n"
	    "\r\n", code, map_sip_reason(code));
	if ((pe->tls != NULL ? tls_write(pe->tls, buf, strlen(buf)) :
	    write(pe->fd, buf, strlen(buf))) < 0)
		log_debug("sip: %s: could not say %d", pe->addr, code);
	sip_peer_close(pe);
}

/*
 * Random words for tags, branches and Call-IDs, drawn a block at a time:
 * libbsd's arc4random asks getpid() on each call.
 */
static uint32_t
sip_random(void)
{
	static uint32_t	 pool[64];
	static size_t	 left;

	if (left == 0) {
		arc4random_buf(pool, sizeof(pool));
		left = nitems(pool);
	}
	left--;
	return (pool[left]);
}

/* the lines a response copies from its request (RFC 3261 8.2.6.2) */
static char *
sip_response_head(struct sipmsg *m)
{
	struct xbuf	 b;
	size_t		 i;
	char		 tag[9], num[11];

	xbuf_init(&b);
	for (i = 0; i < m->nvia; i++)
		xbuf_cat(&b, "Via: ", m->via[i], "\r\n", (char *)NULL);
	/* RFC 3261 19.3: our tag is random, 32 bits at least */
	xbuf_cat(&b, "From: ", m->from, "\r\nTo: ", m->to, (char *)NULL);
	if (strcasestr(m->to, "tag=") == NULL)	/* never a second one */
		xbuf_cat(&b, ";tag=gw", u32_hex(tag, sip_random()),
		    (char *)NULL);
	xbuf_cat(&b, "\r\nCall-ID: ", m->call_id, "\r\nCSeq: ",
	    u32_dec(num, m->cseq), " ", m->cseq_method, "\r\n", (char *)NULL);
	xbuf_add(&b, "", 1);
	if (b.error)
		fatalx("%s: out of memory", __func__);
	return (b.data);
}

/* a MESSAGE answered here, not by policy: for policy's counters */
static void
sip_answered(int code)
{
	struct imsgev	*iev;
	uint32_t	 c = code;

	if (code >= 300 && code <= 699 &&
	    (iev = proc_peer(PROC_POLICY, 0)) != NULL &&
	    imsgev_compose(iev, IMSG_SIP_ANSWERED, 0, -1, &c, sizeof(c)) == -1)
		log_warn("%s: imsg", __func__);
}

/* a MESSAGE from the proxy answered with an error: logged and counted */
static void
sip_refuse(struct sip_peer *pe, struct sipmsg *m, const char *head, int code,
    const char *reason, const char *extra, const char *why)
{
	log_info("sip: from %s: MESSAGE %s answered %d: %s", pe->addr,
	    m->call_id, code, why);
	sip_peer_respond(pe, head, code, reason, extra);
	sip_answered(code);
}

static void
sip_peer_respond(struct sip_peer *pe, const char *head, int code,
    const char *reason, const char *extra)
{
	char	 num[11];

	if (pe->dead)
		return;
	if (pe->out.len - pe->out_off > SIP_PEER_OUT_MAX) {
		log_warnx("sip: %s does not read its responses, closing",
		    pe->addr);
		pe->dead = 1;
		event_del(&pe->ev_read);
		return;
	}
	xbuf_cat(&pe->out, "SIP/2.0 ", u32_dec(num, code), " ", reason, "\r\n",
	    head, extra ? extra : "", "Content-Length: 0\r\n\r\n", (char *)NULL);
	event_add(&pe->ev_write, NULL);
}

/* A request from the proxy: a MESSAGE for a partner's user, or not. */
static void
sip_peer_request(struct sip_peer *pe, struct sipmsg *m)
{
	struct sip_stxn	*st, kst;
	struct sip_peer	*op;
	struct stanza	 s;
	struct imsgev	*iev;
	struct ibuf	*b;
	char		*head, *key = NULL, *ext, uri[1024], mt[64];
	char		 d[XGW_NAME_MAX];

	if (strcmp(m->method, "ACK") == 0)
		return;
	head = sip_response_head(m);
	if (!pe->trusted) {
		sip_peer_respond(pe, head, 403, "Forbidden", NULL);
		if (strcmp(m->method, "MESSAGE") == 0)
			sip_answered(403);
		goto done;
	}
	if (strcmp(m->method, "OPTIONS") != 0 &&
	    strcmp(m->method, "MESSAGE") != 0) {
		sip_peer_respond(pe, head, 501, "Not Implemented", NULL);
		goto done;
	}
	/* RFC 3261 8.2.2.3: we support no extension */
	if ((ext = sip_required(m)) != NULL) {
		sip_peer_respond(pe, head, 420, "Bad Extension", ext);
		free(ext);
		if (strcmp(m->method, "MESSAGE") == 0)
			sip_answered(420);
		goto done;
	}
	if (strcmp(m->method, "OPTIONS") == 0) {
		sip_peer_respond(pe, head, 200, "OK", SIP_CAPABILITIES);
		goto done;
	}
	key = sip_stxn_key(m);
	kst.key = key;
	if ((st = RB_FIND(stxn_keys, &sip_stxn_keys, &kst)) != NULL) {
		/* a retransmission: the original's answer is for both */
		log_debug("sip: MESSAGE %s from %s again: its transaction is "
		    "pending", m->call_id, pe->addr);
		TAILQ_FOREACH(op, &sip_peers, entry)
			if (op->id == st->peer)
				break;
		if (op == NULL || op->dead)
			st->peer = pe->id;
		goto done;
	}
	if (m->content_type == NULL ||
	    sipmsg_media_type(m->content_type, mt, sizeof(mt)) == -1 ||
	    strcmp(mt, "text/plain") != 0 || !sip_body_ok(m)) {
		/* RFC 3261 21.4.13: say what is accepted */
		sip_refuse(pe, m, head, 415, "Unsupported Media Type",
		    SIP_ACCEPT, "not text/plain in UTF-8");
		goto done;
	}
	/* a NUL would cut the body short; nothing is relayed in part */
	if (m->bodylen > 0 && memchr(m->body, '\0', m->bodylen) != NULL) {
		sip_refuse(pe, m, head, 400, "NUL in Body", NULL,
		    "a NUL in the body");
		goto done;
	}
	stanza_init(&s);
	s.kind = STANZA_MESSAGE;
	(void)strlcpy(s.type, "chat", sizeof(s.type));
	if (sipmsg_addr_uri(m->from, uri, sizeof(uri)) == -1) {
		sip_refuse(pe, m, head, 400, "Malformed From", NULL,
		    "the From address cannot be read");
		goto done;
	}
	if (map_sip_to_jid(uri, s.from, sizeof(s.from)) == -1 ||
	    jid_domain(s.from, d, sizeof(d)) == NULL) {
		sip_refuse(pe, m, head, 403, "Forbidden", NULL,
		    "the From address has no XMPP form (RFC 7247)");
		goto done;
	}
	if (!domain_is_local(proc_conf, d)) {
		sip_refuse(pe, m, head, 403, "Forbidden", NULL,
		    "the From address is not of a local domain");
		goto done;
	}
	if (sipmsg_addr_uri(m->to, uri, sizeof(uri)) == -1) {
		sip_refuse(pe, m, head, 400, "Malformed To", NULL,
		    "the To address cannot be read");
		goto done;
	}
	if (map_sip_to_jid(uri, s.to, sizeof(s.to)) == -1 ||
	    jid_domain(s.to, d, sizeof(d)) == NULL) {
		sip_refuse(pe, m, head, 404, "Not Found", NULL,
		    "the To address has no XMPP form (RFC 7247)");
		goto done;
	}
	if (partner_find(proc_conf, d) == NULL) {
		sip_refuse(pe, m, head, 404, "Not Found", NULL,
		    "the To address is not of a partner's domain");
		goto done;
	}
	if ((s.body = strndup(m->body ? m->body : "", m->bodylen)) == NULL)
		fatal("%s: strndup", __func__);
	if (m->subject != NULL && (s.subject = strdup(m->subject)) == NULL)
		fatal("%s: strdup", __func__);
	/* RFC 7572: the Call-ID is the thread */
	if (strlen(m->call_id) <= SIP_THREAD_MAX &&
	    (s.thread = strdup(m->call_id)) == NULL)
		fatal("%s: strdup", __func__);
	/* one tag, or none: "en, fr" has no xml:lang form */
	if (m->content_language != NULL && map_lang_ok(m->content_language) &&
	    strlcpy(s.lang, m->content_language, sizeof(s.lang)) >=
	    sizeof(s.lang))
		s.lang[0] = '\0';
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s: calloc", __func__);
	st->id = sip_next_id++;
	st->peer = pe->id;
	st->head = head;
	st->key = key;
	head = key = NULL;
	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_SIP_MESSAGE_IN, 0, 0, 1024))
	    == NULL || imsg_add_u32(b, st->id) == -1 ||
	    stanza_encode(b, &s) == -1) {
		sip_peer_respond(pe, st->head, 503, "Service Unavailable",
		    NULL);
		free(st->key);
		free(st->head);
		free(st);
	} else {
		imsg_close(&iev->ibuf, b);
		imsgev_add(iev);
		if (RB_INSERT(stxn_tree, &sip_stxns, st) != NULL)
			fatalx("%s: id %u reused", __func__, st->id);
		if (RB_INSERT(stxn_keys, &sip_stxn_keys, st) != NULL)
			fatalx("%s: key %s reused", __func__, st->key);
	}
	stanza_clear(&s);
 done:
	free(key);
	free(head);
}

/*
 * "Unsupported: ...\r\n" naming the option tags of the Require headers
 * (all of them: we support none), or NULL when there is none.
 */
static char *
sip_required(struct sipmsg *m)
{
	struct xbuf	 b;
	size_t		 i;

	xbuf_init(&b);
	for (i = 0; i < m->nheaders; i++) {
		if (strcasecmp(m->headers[i].name, "Require") != 0 ||
		    m->headers[i].value[0] == '\0')
			continue;
		xbuf_printf(&b, "%s%s", b.len ? ", " : "Unsupported: ",
		    m->headers[i].value);
	}
	if (b.len == 0) {
		xbuf_free(&b);
		return (NULL);
	}
	xbuf_add(&b, "\r\n", 3);
	if (b.error)
		fatalx("%s: out of memory", __func__);
	return (b.data);
}

/*
 * A text/plain body we can read as it is: UTF-8 (or US-ASCII, a subset)
 * and no Content-Encoding but identity (RFC 3261 8.2.3).  Any other
 * charset would be garbled, not converted.
 */
static int
sip_body_ok(struct sipmsg *m)
{
	char	 cs[32];
	size_t	 i;

	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, "Content-Encoding") == 0 &&
		    strcasecmp(m->headers[i].value, "identity") != 0)
			return (0);
	if (sipmsg_param(m->content_type, "charset", cs, sizeof(cs)) == -1)
		return (strcasestr(m->content_type, "charset") == NULL);
	return (strcasecmp(cs, "UTF-8") == 0 ||
	    strcasecmp(cs, "US-ASCII") == 0);
}

/*
 * What identifies a request's server transaction (RFC 3261 17.2.3):
 * the top Via's branch and sent-by and the method when the branch has
 * the RFC 3261 magic cookie; otherwise (RFC 2543 peers) the
 * Request-URI, From, To, Call-ID, CSeq and the whole top Via.
 */
static char *
sip_stxn_key(struct sipmsg *m)
{
	struct xbuf	 b;
	char		 branch[256], num[11];
	const char	*v = m->via[0], *sb;
	size_t		 n;

	/* "SIP/2.0/TCP host:port;branch=...": sent-by is the second word */
	sb = v + strcspn(v, " \t");
	sb += strspn(sb, " \t");
	n = strcspn(sb, " \t;");
	xbuf_init(&b);
	if (sipmsg_param(v, "branch", branch, sizeof(branch)) == 0 &&
	    strncmp(branch, "z9hG4bK", 7) == 0) {
		xbuf_cat(&b, branch, " ", (char *)NULL);
		xbuf_add(&b, sb, n);
		xbuf_cat(&b, " ", m->method, (char *)NULL);
	} else
		xbuf_cat(&b, m->uri, "\n", m->from, "\n", m->to, "\n",
		    m->call_id, "\n", u32_dec(num, m->cseq), "\n", v,
		    (char *)NULL);
	if (b.error)
		fatalx("%s: out of memory", __func__);
	return (b.data);
}

static void
sip_stxn_free(struct sip_stxn *st)
{
	RB_REMOVE(stxn_tree, &sip_stxns, st);
	RB_REMOVE(stxn_keys, &sip_stxn_keys, st);
	free(st->key);
	free(st->head);
	free(st);
}

/* policy's verdict on a MESSAGE from the proxy */
static void
sip_answer(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct sip_stxn		*st, key;
	struct sip_peer		*pe;
	uint32_t		 id, code;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &id) == -1 || imsg_read_u32(&c, &code) == -1 ||
	    code < 200 || code > 699 || imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	key.id = id;
	if ((st = RB_FIND(stxn_tree, &sip_stxns, &key)) == NULL)
		return;
	TAILQ_FOREACH(pe, &sip_peers, entry)
		if (pe->id == st->peer)
			sip_peer_respond(pe, st->head, code,
			    map_sip_reason(code), NULL);
	sip_stxn_free(st);
}
