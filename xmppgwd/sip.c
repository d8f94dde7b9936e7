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
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

struct sip_txn {
	TAILQ_ENTRY(sip_txn)	 entry;
	uint32_t		 id;		/* policy's */
	char			 branch[40];
	time_t			 deadline;
};

static struct {
	int			 fd;
	int			 state;		/* SIP_DOWN, _CONNECTING, _UP */
	struct event		 ev_read, ev_write, ev_retry, ev_timer;
	struct xbuf		 out;
	size_t			 out_off;
	char			*in;
	size_t			 inlen;
	unsigned int		 backoff;
	struct sockaddr_storage	 proxy;
	char			 local[64];	/* our address:port, for Via */
	TAILQ_HEAD(, sip_txn)	 txns;
	unsigned int		 ntxns;
} sp;

/* a connection from the proxy (or anyone) to our SIP listener */
struct sip_peer {
	TAILQ_ENTRY(sip_peer)	 entry;
	uint32_t		 id;
	int			 fd;
	int			 trusted;
	char			 addr[64];
	struct event		 ev_read, ev_write;
	struct xbuf		 out;
	size_t			 out_off;
	char			*in;
	size_t			 inlen;
};

/* a MESSAGE from the proxy, waiting for policy's verdict */
struct sip_stxn {
	TAILQ_ENTRY(sip_stxn)	 entry;
	uint32_t		 id;
	uint32_t		 peer;
	char			*head;	/* Via lines, From, To, Call-ID, CSeq */
};

struct sip_listener {
	TAILQ_ENTRY(sip_listener) entry;
	struct event		 ev;
	int			 fd;
};

static TAILQ_HEAD(, sip_peer)	 sip_peers = TAILQ_HEAD_INITIALIZER(sip_peers);
static TAILQ_HEAD(, sip_stxn)	 sip_stxns = TAILQ_HEAD_INITIALIZER(sip_stxns);
static TAILQ_HEAD(, sip_listener) sip_listeners =
    TAILQ_HEAD_INITIALIZER(sip_listeners);
static uint32_t			 sip_next_id = 1;
static unsigned int		 sip_npeers;

#define SIP_MAX_PEERS	64

#define SIP_DOWN	0
#define SIP_CONNECTING	1
#define SIP_UP		2

static void	sip_init(void);
static void	sip_configure(struct xgw_config *, struct xgw_config *);
static void	sip_start(void);
static int	sip_dispatch(struct imsgev *, struct imsg *);
static void	sip_peer_down(enum privsep_procid, unsigned int);
static void	sip_connect(int, short, void *);
static void	sip_connected(int, short, void *);
static void	sip_readable(int, short, void *);
static void	sip_writable(int, short, void *);
static void	sip_tick(int, short, void *);
static void	sip_down(const char *);
static void	sip_result(uint32_t, int, const char *);
static void	sip_send(struct imsg *);
static void	sip_input(void);
static void	sip_response(struct sipmsg *);
static void	sip_reply(struct sipmsg *, int, const char *);
static void	sip_listen(struct xgw_config *);
static void	sip_accept(int, short, void *);
static void	sip_peer_read(int, short, void *);
static void	sip_peer_write(int, short, void *);
static void	sip_peer_close(struct sip_peer *);
static void	sip_peer_request(struct sip_peer *, struct sipmsg *);
static void	sip_peer_respond(struct sip_peer *, const char *, int,
		    const char *);
static char	*sip_response_head(struct sipmsg *);
static void	sip_answer(struct imsg *);

const struct proc_role sip_role = {
	.title = "sip",
	.id = PROC_SIP,
	.init = sip_init,
	.configure = sip_configure,
	.start = sip_start,
	.dispatch = sip_dispatch,
	.peer_down = sip_peer_down,
};

static void
sip_init(void)
{
	struct timeval	 tv = { 1, 0 };

	sp.fd = -1;
	TAILQ_INIT(&sp.txns);
	xbuf_init(&sp.out);
	evtimer_set(&sp.ev_retry, sip_connect, NULL);
	evtimer_set(&sp.ev_timer, sip_tick, NULL);
	evtimer_add(&sp.ev_timer, &tv);
}

/*
 * The proxy must be an address in this version: names would need the
 * dialback process's resolver (see BUGS in xmppgwd(8)).
 */
static int
sip_proxy_addr(struct xgw_config *conf, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, conf->sip.proxy, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(conf->sip.proxy_port);
		return (0);
	}
	if (inet_pton(AF_INET6, conf->sip.proxy, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(conf->sip.proxy_port);
		return (0);
	}
	return (-1);
}

static void
sip_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct sockaddr_storage	 ss;

	if (proc_conf != NULL)
		sip_listen(new);
	if (!new->sip.configured) {
		if (sp.state != SIP_DOWN)
			sip_down("the sip block was removed");
		return;
	}
	if (sip_proxy_addr(new, &ss) == -1) {
		log_warnx("sip: proxy %s is not an IP address; SIP relay off",
		    new->sip.proxy);
		memset(&sp.proxy, 0, sizeof(sp.proxy));
		if (sp.state != SIP_DOWN)
			sip_down("the proxy changed");
		return;
	}
	if (new->sip.proxy_transport == XPORT_TLS)
		log_warnx("sip: TLS to the proxy is not supported in this "
		    "version; using TCP");
	if (memcmp(&ss, &sp.proxy, sizeof(ss)) != 0) {
		sp.proxy = ss;
		if (sp.state != SIP_DOWN)
			sip_down("the proxy changed");
	}
}

static void
sip_start(void)
{
	struct timeval	 tv = { 0, 0 };

	sip_listen(proc_conf);
	if (sp.proxy.ss_family != 0)
		evtimer_add(&sp.ev_retry, &tv);
}

static void
sip_connect(int fd, short event, void *arg)
{
	socklen_t	 len;
	int		 s;

	if (sp.proxy.ss_family == 0 || sp.state != SIP_DOWN)
		return;
	len = sp.proxy.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if ((s = socket(sp.proxy.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sip: socket");
		sip_down("socket");
		return;
	}
	if (connect(s, (struct sockaddr *)&sp.proxy, len) == -1 &&
	    errno != EINPROGRESS) {
		close(s);
		sip_down(strerror(errno));
		return;
	}
	sp.fd = s;
	sp.state = SIP_CONNECTING;
	event_set(&sp.ev_write, s, EV_WRITE, sip_connected, NULL);
	event_add(&sp.ev_write, NULL);
}

static void
sip_connected(int fd, short event, void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		sip_down(strerror(err));
		return;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		sip_down(strerror(errno));
		return;
	}
	config_sockaddr(&ss, sp.local, sizeof(sp.local));
	sp.state = SIP_UP;
	sp.backoff = 0;
	event_set(&sp.ev_read, fd, EV_READ | EV_PERSIST, sip_readable, NULL);
	event_add(&sp.ev_read, NULL);
	event_set(&sp.ev_write, fd, EV_WRITE, sip_writable, NULL);
	if (sp.out.len > sp.out_off)
		event_add(&sp.ev_write, NULL);
	log_info("sip: connected to the proxy %s",
	    config_sockaddr(&sp.proxy, (char [64]){ 0 }, 64));
}

/*
 * The connection is gone (or never came): every transaction on it fails
 * with 503 now, and a new connection is tried after a growing delay.
 */
static void
sip_down(const char *why)
{
	struct timeval	 tv = { 0, 0 };
	struct sip_txn	*t;

	/* once when it goes, not at every retry */
	if (sp.state == SIP_UP || sp.backoff == 0)
		log_warnx("sip: proxy %s unreachable: %s",
		    config_sockaddr(&sp.proxy, (char [64]){ 0 }, 64), why);
	if (sp.fd != -1) {
		if (sp.state == SIP_UP)
			event_del(&sp.ev_read);
		event_del(&sp.ev_write);
		close(sp.fd);
		sp.fd = -1;
	}
	sp.state = SIP_DOWN;
	sp.out.len = sp.out_off = 0;
	free(sp.in);
	sp.in = NULL;
	sp.inlen = 0;
	while ((t = TAILQ_FIRST(&sp.txns)) != NULL) {
		TAILQ_REMOVE(&sp.txns, t, entry);
		sp.ntxns--;
		sip_result(t->id, 503, "SIP proxy unreachable");
		free(t);
	}
	if (sp.proxy.ss_family == 0)
		return;
	sp.backoff = sp.backoff ? sp.backoff * 2 : 1;
	if (sp.backoff > SIP_BACKOFF_MAX)
		sp.backoff = SIP_BACKOFF_MAX;
	tv.tv_sec = sp.backoff;
	evtimer_del(&sp.ev_retry);
	evtimer_add(&sp.ev_retry, &tv);
}

static void
sip_writable(int fd, short event, void *arg)
{
	ssize_t	 n;

	while (sp.out_off < sp.out.len) {
		n = write(fd, sp.out.data + sp.out_off,
		    sp.out.len - sp.out_off);
		if (n == -1) {
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

static void
sip_readable(int fd, short event, void *arg)
{
	char	 buf[16384], *p;
	ssize_t	 n;

	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			sip_down(strerror(errno));
		return;
	}
	if (n == 0) {
		sip_down("the proxy closed the connection");
		return;
	}
	if (sp.inlen + n > 2 * SIP_MAX_MESSAGE) {
		sip_down("too much unparsed input from the proxy");
		return;
	}
	if ((p = realloc(sp.in, sp.inlen + n)) == NULL)
		fatal("%s: realloc", __func__);
	memcpy(p + sp.inlen, buf, n);
	sp.in = p;
	sp.inlen += n;
	sip_input();
}

static void
sip_input(void)
{
	struct sipmsg	 m;
	char		 err[128];
	size_t		 used;
	int		 r, code;

	while (sp.inlen > 0 && sp.state == SIP_UP) {
		r = sipmsg_parse(&m, sp.in, sp.inlen, &used, &code, err,
		    sizeof(err));
		if (r == 0) {
			/* keepalive CRLFs (RFC 5626) are consumed, too */
			memmove(sp.in, sp.in + used, sp.inlen - used);
			sp.inlen -= used;
			return;
		}
		if (r == -1) {
			/* framing is lost: nothing after this can be trusted */
			sip_down(err);
			return;
		}
		if (m.request)
			sip_reply(&m, 501, "Not Implemented");
		else
			sip_response(&m);
		sipmsg_free(&m);
		memmove(sp.in, sp.in + used, sp.inlen - used);
		sp.inlen -= used;
	}
}

/* a final response ends its transaction; the top Via names it */
static void
sip_response(struct sipmsg *m)
{
	struct sip_txn	*t;
	char		 branch[64];

	if (m->nvia == 0 || sipmsg_param(m->via[0], "branch", branch,
	    sizeof(branch)) == -1)
		return;
	TAILQ_FOREACH(t, &sp.txns, entry)
		if (strcmp(t->branch, branch) == 0 &&
		    strcmp(m->cseq_method, "MESSAGE") == 0)
			break;
	if (t == NULL) {
		log_info("sip: response %d for no transaction of ours ignored",
		    m->status);
		return;
	}
	if (m->status < 200)
		return;
	TAILQ_REMOVE(&sp.txns, t, entry);
	sp.ntxns--;
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
	    m->from, m->to, arc4random(), m->call_id, m->cseq,
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
	time_t		 now = time(NULL);

	TAILQ_FOREACH_SAFE(t, &sp.txns, entry, tt) {
		if (t->deadline > now)
			continue;
		TAILQ_REMOVE(&sp.txns, t, entry);
		sp.ntxns--;
		sip_result(t->id, 408, "Request Timeout");
		free(t);
	}
	evtimer_add(&sp.ev_timer, &tv);
}

/* one header line, with the value's CR and LF (none expected) dropped */
static void
sip_header(struct xbuf *b, const char *name, const char *value)
{
	const char	*p;

	xbuf_printf(b, "%s: ", name);
	for (p = value; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			xbuf_add(b, p, 1);
	xbuf_add(b, "\r\n", 2);
}

/* A message from a partner's user to one of ours: a SIP MESSAGE. */
static void
sip_send(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct stanza		 s;
	struct sip_txn		*t;
	struct xbuf		 b;
	char			 from[2048], to[2048], bare[JID_MAX], *p;
	uint32_t		 id;
	size_t			 blen;

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
	/* the request goes to the user's address of record */
	(void)strlcpy(bare, s.to, sizeof(bare));
	if ((p = strchr(bare, '/')) != NULL)
		*p = '\0';
	if (map_jid_to_sip(s.from, from, sizeof(from)) == -1 ||
	    map_jid_to_sip(bare, to, sizeof(to)) == -1) {
		sip_result(id, 400, "address cannot be mapped");
		goto done;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("%s: calloc", __func__);
	t->id = id;
	snprintf(t->branch, sizeof(t->branch), "z9hG4bK%08x%08x",
	    arc4random(), arc4random());
	t->deadline = time(NULL) + SIP_TIMER_F;
	TAILQ_INSERT_TAIL(&sp.txns, t, entry);
	sp.ntxns++;

	blen = s.body ? strlen(s.body) : 0;
	xbuf_init(&b);
	xbuf_printf(&b, "MESSAGE %s SIP/2.0\r\n", to);
	xbuf_printf(&b, "Via: SIP/2.0/TCP %s;branch=%s\r\n", sp.local,
	    t->branch);
	xbuf_printf(&b, "Max-Forwards: 70\r\n");
	xbuf_printf(&b, "From: <%s>;tag=%08x\r\n", from, arc4random());
	xbuf_printf(&b, "To: <%s>\r\n", to);
	xbuf_printf(&b, "Call-ID: %08x%08x@xmppgwd\r\n", arc4random(),
	    arc4random());
	xbuf_printf(&b, "CSeq: 1 MESSAGE\r\n");
	if (s.subject != NULL)
		sip_header(&b, "Subject", s.subject);
	if (s.lang[0] != '\0')
		sip_header(&b, "Content-Language", s.lang);
	xbuf_printf(&b, "Content-Type: text/plain;charset=UTF-8\r\n");
	xbuf_printf(&b, "Content-Length: %zu\r\n\r\n", blen);
	if (blen)
		xbuf_add(&b, s.body, blen);
	if (b.error)
		fatalx("%s: out of memory", __func__);
	xbuf_add(&sp.out, b.data, b.len);
	xbuf_free(&b);
	event_add(&sp.ev_write, NULL);
	log_debug("sip: MESSAGE %s -> %s (%zu bytes)", from, to, blen);
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
		TAILQ_REMOVE(&sp.txns, t, entry);
		sp.ntxns--;
		free(t);
	}
	/* what we asked policy is answered here, not left hanging */
	while ((st = TAILQ_FIRST(&sip_stxns)) != NULL) {
		TAILQ_REMOVE(&sip_stxns, st, entry);
		TAILQ_FOREACH(pe, &sip_peers, entry)
			if (pe->id == st->peer)
				sip_peer_respond(pe, st->head, 503,
				    "Service Unavailable");
		free(st->head);
		free(st);
	}
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
		free(sl);
	}
	TAILQ_FOREACH(l, &conf->sip.listens, entry) {
		if (l->fd == -1)
			continue;
		if (l->transport == XPORT_TLS) {
			log_warnx("sip: TLS listeners are not supported in "
			    "this version; not listening on %s",
			    config_sockaddr(&l->ss, (char [64]){ 0 }, 64));
			continue;
		}
		if ((sl = calloc(1, sizeof(*sl))) == NULL)
			fatal("%s: calloc", __func__);
		sl->fd = l->fd;
		event_set(&sl->ev, sl->fd, EV_READ | EV_PERSIST, sip_accept,
		    sl);
		event_add(&sl->ev, NULL);
		TAILQ_INSERT_TAIL(&sip_listeners, sl, entry);
	}
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
	struct sip_peer		*pe;
	int			 s;

	if ((s = accept4(fd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (sip_npeers >= SIP_MAX_PEERS) {
		log_warnx("sip: too many connections, refusing one");
		close(s);
		return;
	}
	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		fatal("%s: calloc", __func__);
	pe->id = sip_next_id++;
	pe->fd = s;
	pe->trusted = sip_trusted(&ss);
	config_sockaddr(&ss, pe->addr, sizeof(pe->addr));
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

	while (pe->out_off < pe->out.len) {
		if ((n = write(fd, pe->out.data + pe->out_off,
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

static void
sip_peer_read(int fd, short event, void *arg)
{
	struct sip_peer	*pe = arg;
	struct sipmsg	 m;
	char		 buf[16384], err[128], *p;
	size_t		 used;
	ssize_t		 n;
	int		 r, code;

	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			sip_peer_close(pe);
		return;
	}
	if (n == 0 || pe->inlen + n > 2 * SIP_MAX_MESSAGE) {
		sip_peer_close(pe);
		return;
	}
	if ((p = realloc(pe->in, pe->inlen + n)) == NULL)
		fatal("%s: realloc", __func__);
	memcpy(p + pe->inlen, buf, n);
	pe->in = p;
	pe->inlen += n;
	while (pe->inlen > 0) {
		r = sipmsg_parse(&m, pe->in, pe->inlen, &used, &code, err,
		    sizeof(err));
		if (r == 0) {
			memmove(pe->in, pe->in + used, pe->inlen - used);
			pe->inlen -= used;
			return;
		}
		if (r == -1) {
			/* no framing left to answer in: say it and close */
			log_info("sip: from %s: %s", pe->addr, err);
			/* best effort: the connection ends either way */
			snprintf(buf, sizeof(buf), "SIP/2.0 %d %s\r\n"
			    "Content-Length: 0\r\n\r\n", code,
			    map_sip_reason(code));
			if (write(pe->fd, buf, strlen(buf)) == -1)
				log_debug("sip: %s: %s", pe->addr,
				    strerror(errno));
			sip_peer_close(pe);
			return;
		}
		if (m.request)
			sip_peer_request(pe, &m);
		sipmsg_free(&m);
		memmove(pe->in, pe->in + used, pe->inlen - used);
		pe->inlen -= used;
	}
}

/* the lines a response copies from its request (RFC 3261 8.2.6.2) */
static char *
sip_response_head(struct sipmsg *m)
{
	struct xbuf	 b;
	size_t		 i;

	xbuf_init(&b);
	for (i = 0; i < m->nvia; i++)
		xbuf_printf(&b, "Via: %s\r\n", m->via[i]);
	xbuf_printf(&b, "From: %s\r\nTo: %s%s\r\nCall-ID: %s\r\n"
	    "CSeq: %u %s\r\n", m->from, m->to,
	    strstr(m->to, "tag=") ? "" : ";tag=gw", m->call_id, m->cseq,
	    m->cseq_method);
	xbuf_add(&b, "", 1);
	if (b.error)
		fatalx("%s: out of memory", __func__);
	return (b.data);
}

static void
sip_peer_respond(struct sip_peer *pe, const char *head, int code,
    const char *reason)
{
	xbuf_printf(&pe->out, "SIP/2.0 %d %s\r\n%sContent-Length: 0\r\n\r\n",
	    code, reason, head);
	event_add(&pe->ev_write, NULL);
}

/* A request from the proxy: a MESSAGE for a partner's user, or not. */
static void
sip_peer_request(struct sip_peer *pe, struct sipmsg *m)
{
	struct sip_stxn	*st;
	struct stanza	 s;
	struct imsgev	*iev;
	struct ibuf	*b;
	char		*head, uri[1024], mt[64], d[XGW_NAME_MAX];

	if (strcmp(m->method, "ACK") == 0)
		return;
	head = sip_response_head(m);
	if (!pe->trusted) {
		sip_peer_respond(pe, head, 403, "Forbidden");
		goto done;
	}
	if (strcmp(m->method, "OPTIONS") == 0) {
		sip_peer_respond(pe, head, 200, "OK");
		goto done;
	}
	if (strcmp(m->method, "MESSAGE") != 0) {
		sip_peer_respond(pe, head, 501, "Not Implemented");
		goto done;
	}
	if (m->content_type == NULL ||
	    sipmsg_media_type(m->content_type, mt, sizeof(mt)) == -1 ||
	    strcmp(mt, "text/plain") != 0) {
		sip_peer_respond(pe, head, 415, "Unsupported Media Type");
		goto done;
	}
	memset(&s, 0, sizeof(s));
	s.kind = STANZA_MESSAGE;
	(void)strlcpy(s.type, "chat", sizeof(s.type));
	if (sipmsg_addr_uri(m->from, uri, sizeof(uri)) == -1 ||
	    map_sip_to_jid(uri, s.from, sizeof(s.from)) == -1 ||
	    jid_domain(s.from, d, sizeof(d)) == NULL ||
	    !domain_is_local(proc_conf, d)) {
		sip_peer_respond(pe, head, 403, "Forbidden");
		goto done;
	}
	if (sipmsg_addr_uri(m->to, uri, sizeof(uri)) == -1 ||
	    map_sip_to_jid(uri, s.to, sizeof(s.to)) == -1 ||
	    jid_domain(s.to, d, sizeof(d)) == NULL ||
	    partner_find(proc_conf, d) == NULL) {
		sip_peer_respond(pe, head, 404, "Not Found");
		goto done;
	}
	if ((s.body = strndup(m->body ? m->body : "", m->bodylen)) == NULL)
		fatal("%s: strndup", __func__);
	if (m->subject != NULL && (s.subject = strdup(m->subject)) == NULL)
		fatal("%s: strdup", __func__);
	if (m->content_language != NULL)
		(void)strlcpy(s.lang, m->content_language, sizeof(s.lang));
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s: calloc", __func__);
	st->id = sip_next_id++;
	st->peer = pe->id;
	st->head = head;
	head = NULL;
	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_SIP_MESSAGE_IN, 0, 0, 1024))
	    == NULL || imsg_add_u32(b, st->id) == -1 ||
	    stanza_encode(b, &s) == -1) {
		sip_peer_respond(pe, st->head, 503, "Service Unavailable");
		free(st->head);
		free(st);
	} else {
		imsg_close(&iev->ibuf, b);
		imsgev_add(iev);
		TAILQ_INSERT_TAIL(&sip_stxns, st, entry);
	}
	stanza_clear(&s);
 done:
	free(head);
}

/* policy's verdict on a MESSAGE from the proxy */
static void
sip_answer(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct sip_stxn		*st;
	struct sip_peer		*pe;
	uint32_t		 id, code;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &id) == -1 || imsg_read_u32(&c, &code) == -1 ||
	    code < 200 || code > 699 || imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	TAILQ_FOREACH(st, &sip_stxns, entry)
		if (st->id == id)
			break;
	if (st == NULL)
		return;
	TAILQ_REMOVE(&sip_stxns, st, entry);
	TAILQ_FOREACH(pe, &sip_peers, entry)
		if (pe->id == st->peer)
			sip_peer_respond(pe, st->head, code,
			    map_sip_reason(code));
	free(st->head);
	free(st);
}
