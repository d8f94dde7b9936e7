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
 * The tls process: XMPP server-to-server connections.  It accepts on
 * the listeners the parent bound, connects out to partners at the
 * addresses the dialback process resolved, runs TLS with libtls, and
 * feeds the bytes to the stream state machine (stream.c).  Stanzas go to
 * policy typed, never as bytes.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "s2s.h"
#include "stanza.h"

struct tls_listener {
	TAILQ_ENTRY(tls_listener) entry;
	struct event		 ev;
	int			 fd;
	int			 direct;	/* XEP-0368 direct TLS */
};

struct s2s_env			 s2s;

static TAILQ_HEAD(, tls_listener) s2s_listeners =
    TAILQ_HEAD_INITIALIZER(s2s_listeners);
static struct conns		 s2s_dead = TAILQ_HEAD_INITIALIZER(s2s_dead);
static struct event		 s2s_reaper, s2s_pause;
static int			 s2s_serving;

static void	s2s_init(void);
static void	s2s_configure(struct xgw_config *, struct xgw_config *);
static void	s2s_start(void);
static int	s2s_dispatch(struct imsgev *, struct imsg *);
static void	s2s_peer_down(enum privsep_procid, unsigned int);
static void	s2s_listen(struct xgw_config *);
static void	s2s_accept(int, short, void *);
static void	s2s_resume(int, short, void *);
static void	s2s_reap(int, short, void *);
static void	s2s_dns_result(struct imsg *);
static void	s2s_key_result(struct imsg *);
static void	s2s_check_result(struct imsg *);
static void	s2s_stanza_out(struct imsg *);
static void	s2s_show_streams(struct imsgev *, struct imsg *);
static void	s2s_check(struct imsg *);
static void	probe_send(uint32_t, uint32_t, const char *, const char *,
		    const char *);
static struct conn *conn_new(enum conn_dir, int);
static void	conn_read(int, short, void *);
static void	conn_read1(struct conn *);
static void	conn_handshake1(struct conn *);
static ssize_t	conn_tls_in(struct tls *, void *, size_t, void *);
static ssize_t	conn_tls_out(struct tls *, const void *, size_t, void *);
static void	conn_tls_save(void);
static void	conn_tls_rest(struct conn *);
static void	conn_writable(int, short, void *);
static void	conn_timer(int, short, void *);
static int	conn_throttled(struct conn *);
static long long conn_now_ns(void);
static void	conn_unthrottle(int, short, void *);
static void	conn_handshake(struct conn *);
static void	conn_connect_next(struct conn *);
static void	conn_connected(int, short, void *);
static struct tls_config *s2s_tls_config(void);

/* TLS input: see conn_tls_in */
#define TLS_IN_SIZE	65536

static struct {
	struct conn	*c;		/* whose bytes they are */
	size_t		 off, len;
	unsigned char	 buf[TLS_IN_SIZE];
} tls_in;

const struct proc_role tls_role = {
	.title = "tls",
	.id = PROC_TLS,
	.init = s2s_init,
	.configure = s2s_configure,
	.start = s2s_start,
	.dispatch = s2s_dispatch,
	.peer_down = s2s_peer_down,
	.paced = 1,
};

static void
s2s_init(void)
{
	TAILQ_INIT(&s2s.conns);
	s2s.nextid = 1;
	evtimer_set(&s2s_pause, s2s_resume, NULL);
	evtimer_set(&s2s_reaper, s2s_reap, NULL);
	if (tls_init() == -1)
		fatalx("%s: tls_init", __func__);
}

/* TLS 1.2 and 1.3 only; peers are checked by certid_check(), not here */
static struct tls_config *
s2s_tls_config(void)
{
	struct tls_config	*cfg;

	if ((cfg = tls_config_new()) == NULL)
		fatal("%s: tls_config_new", __func__);
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1)
		fatalx("%s: %s", __func__, tls_config_error(cfg));
	/*
	 * An untrusted certificate must not fail the handshake: the
	 * partner may still authenticate by dialback.  The chain and the
	 * name are checked after the handshake, and decide SASL EXTERNAL.
	 */
	tls_config_insecure_noverifycert(cfg);
	tls_config_insecure_noverifyname(cfg);
	return (cfg);
}

static void
s2s_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct tls_config	*srv_cfg, **cli_cfg;
	struct tls		*srv;
	struct certid_ca	*ca;
	struct xgw_domain	*d;
	struct conn		*c, *tc;
	char			 why[256];
	size_t			 n = 0, i;

	TAILQ_FOREACH(d, &new->domains, entry)
		n++;
	srv_cfg = s2s_tls_config();
	if ((cli_cfg = calloc(n, sizeof(*cli_cfg))) == NULL)
		fatal("%s: calloc", __func__);
	i = 0;
	TAILQ_FOREACH(d, &new->domains, entry) {
		/* the first is the default: Prosody sends no SNI */
		if ((i == 0 ? tls_config_set_keypair_mem(srv_cfg, d->cert.data,
		    d->cert.len, d->key.data, d->key.len) :
		    tls_config_add_keypair_mem(srv_cfg, d->cert.data,
		    d->cert.len, d->key.data, d->key.len)) == -1)
			fatalx("%s: %s: %s", __func__, d->name,
			    tls_config_error(srv_cfg));
		cli_cfg[i] = s2s_tls_config();
		if (tls_config_set_keypair_mem(cli_cfg[i], d->cert.data,
		    d->cert.len, d->key.data, d->key.len) == -1)
			fatalx("%s: %s: %s", __func__, d->name,
			    tls_config_error(cli_cfg[i]));
		i++;
	}
	/* ask for the peer's certificate, but do not insist */
	tls_config_verify_client_optional(srv_cfg);
	if ((srv = tls_server()) == NULL)
		fatal("%s: tls_server", __func__);
	if (tls_configure(srv, srv_cfg) == -1)
		fatalx("%s: %s", __func__, tls_error(srv));
	if ((ca = certid_ca_load(new->ca.data, new->ca.len, why,
	    sizeof(why))) == NULL)
		fatalx("%s: CA file: %s", __func__, why);

	/* accepted connections keep what they use; swap */
	tls_srv_retire(s2s.srv);
	if (s2s.srv_cfg != NULL)
		tls_config_free(s2s.srv_cfg);
	for (i = 0; i < s2s.ncli; i++)
		tls_config_free(s2s.cli_cfg[i]);
	free(s2s.cli_cfg);
	if (s2s.ca != NULL)
		certid_ca_free(s2s.ca);
	s2s.srv = tls_srv_new(srv);
	s2s.srv_cfg = srv_cfg;
	s2s.cli_cfg = cli_cfg;
	s2s.ncli = n;
	s2s.ca = ca;

	/* streams the new configuration no longer allows end here */
	TAILQ_FOREACH_SAFE(c, &s2s.conns, entry, tc) {
		struct db_pair	*p, *tp;
		int		 dropped = 0, left = 0;

		TAILQ_FOREACH_SAFE(p, &c->pairs, entry, tp) {
			struct xgw_partner *pp = partner_find(new, p->remote);

			if (pp != NULL && pp->dialback &&
			    domain_is_local(new, p->local)) {
				left++;
				continue;
			}
			TAILQ_REMOVE(&c->pairs, p, entry);
			free(p);
			dropped++;
		}
		if (dropped && !left && c->auth != AUTH_SASL) {
			conn_stream_error(c, "policy-violation",
			    "no longer a partner of this gateway");
			continue;
		}
		if (c->partner == NULL)
			continue;
		if ((c->partner = partner_find(new, c->remote)) == NULL ||
		    !domain_is_local(new, c->local)) {
			c->partner = NULL;
			conn_stream_error(c, "policy-violation",
			    "no longer a partner of this gateway");
		}
	}
	if (s2s_serving)
		s2s_listen(new);
	log_debug("%s: %zu local domains, CA of %zu bytes", __func__, n,
	    new->ca.len);
}

static void
s2s_start(void)
{
	s2s_serving = 1;
	s2s_listen(proc_conf);
	log_debug("%s: instance %u serving", __func__, proc_instance);
}

/* (Re)arm the listeners on the sockets of the current configuration. */
static void
s2s_listen(struct xgw_config *conf)
{
	struct tls_listener	*tl;
	struct xgw_listen	*l;

	while ((tl = TAILQ_FIRST(&s2s_listeners)) != NULL) {
		TAILQ_REMOVE(&s2s_listeners, tl, entry);
		event_del(&tl->ev);
		free(tl);
	}
	TAILQ_FOREACH(l, &conf->listens, entry) {
		if (l->fd == -1)
			continue;
		if ((tl = calloc(1, sizeof(*tl))) == NULL)
			fatal("%s: calloc", __func__);
		tl->fd = l->fd;
		tl->direct = l->transport == XPORT_TLS;
		event_set(&tl->ev, tl->fd, EV_READ | EV_PERSIST, s2s_accept,
		    tl);
		event_add(&tl->ev, NULL);
		TAILQ_INSERT_TAIL(&s2s_listeners, tl, entry);
	}
}

static void
s2s_resume(int fd, short event, void *arg)
{
	struct tls_listener	*tl;

	TAILQ_FOREACH(tl, &s2s_listeners, entry)
		event_add(&tl->ev, NULL);
}

static void
s2s_accept(int fd, short event, void *arg)
{
	struct tls_listener	*tl = arg, *t;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct timeval		 tv = { 1, 0 };
	struct conn		*c;
	unsigned int		 limit;
	int			 s;

	if ((s = accept4(fd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warnx("%s: out of descriptors, pausing", __func__);
			TAILQ_FOREACH(t, &s2s_listeners, entry)
				event_del(&t->ev);
			evtimer_add(&s2s_pause, &tv);
		}
		return;
	}
	/* the limit is shared evenly by the tls processes */
	limit = proc_conf->limits.connections / proc_prefork;
	if (limit == 0)
		limit = 1;
	if (s2s.nconns >= limit) {
		log_warnx("%s: connection limit (%u) reached, refusing %s",
		    __func__, proc_conf->limits.connections,
		    config_sockaddr(&ss, (char [64]){ 0 }, 64));
		close(s);
		return;
	}
	sock_nodelay(s);
	c = conn_new(CONN_IN, s);
	config_sockaddr(&ss, c->addr, sizeof(c->addr));
	log_debug("%s: conn %u from %s", __func__, c->id, c->addr);
	stream_accepted(c);
	if (tl->direct && !conn_dead(c))
		conn_starttls(c);
}

static struct conn *
conn_new(enum conn_dir dir, int fd)
{
	struct conn		*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s: calloc", __func__);
	c->id = s2s.nextid++;
	if (s2s.nextid == 0)
		s2s.nextid = 1;
	c->dir = dir;
	c->fd = fd;
	c->created = c->lastread = time(NULL);
	TAILQ_INIT(&c->pairs);
	TAILQ_INIT(&c->verifies);
	TAILQ_INIT(&c->queue);
	xbuf_init(&c->out);
	if ((c->xs = stream_xml_new(c)) == NULL)
		fatal("%s: xml_stream_new", __func__);
	evtimer_set(&c->ev_timer, conn_timer, c);
	evtimer_set(&c->ev_throttle, conn_unthrottle, c);
	c->rl_tokens = proc_conf->limits.read_rate;
	c->rl_last = conn_now_ns();
	if (fd != -1) {
		event_set(&c->ev_read, fd, EV_READ | EV_PERSIST, conn_read, c);
		event_add(&c->ev_read, NULL);
		event_set(&c->ev_write, fd, EV_WRITE, conn_writable, c);
	}
	TAILQ_INSERT_TAIL(&s2s.conns, c, entry);
	s2s.nconns++;
	conn_schedule(c);
	return (c);
}

struct conn *
conn_find(uint32_t id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &s2s.conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
}

struct conn *
conn_out_find(const char *local, const char *remote)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &s2s.conns, entry)
		if (c->dir == CONN_OUT && c->state != CS_CLOSING &&
		    c->probe == 0 && strcmp(c->local, local) == 0 &&
		    strcmp(c->remote, remote) == 0)
			return (c);
	return (NULL);
}

/* Open a stream to a partner: ask dialback where it is, then connect. */
struct conn *
conn_out_new(const char *local, const char *remote, struct xgw_partner *p)
{
	struct imsgev	*iev;
	struct ibuf	*b;
	struct conn	*c;

	c = conn_new(CONN_OUT, -1);
	(void)strlcpy(c->local, local, sizeof(c->local));
	(void)strlcpy(c->remote, remote, sizeof(c->remote));
	c->partner = p;
	c->state = CS_DNS;
	c->probe_at = "dns";
	if ((iev = proc_peer(PROC_DIALBACK, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_DNS_LOOKUP, c->id, 0, 300))
	    == NULL || imsg_add_string(b, remote) == -1 ||
	    imsg_add_string(b, p->proxy) == -1 ||
	    imsg_add_u32(b, p->proxy_port) == -1) {
		c->state = CS_CLOSING;
		return (c);	/* conn_close by the caller's bounce */
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	log_debug("%s: conn %u to %s for %s", __func__, c->id, remote, local);
	return (c);
}

static void
conn_connect_next(struct conn *c)
{
	struct sockaddr_storage	*ss;
	socklen_t		 len;
	int			 s;

	while (c->nextaddr < c->naddrs) {
		ss = &c->addrs[c->nextaddr++];
		config_sockaddr(ss, c->addr, sizeof(c->addr));
		len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6);
		if ((s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			log_warn("%s: socket", __func__);
			continue;
		}
		sock_nodelay(s);
		if (connect(s, (struct sockaddr *)ss, len) == -1 &&
		    errno != EINPROGRESS) {
			log_info("s2s to %s: connect %s: %s", c->remote,
			    c->addr, strerror(errno));
			conn_probe_step(c, "tcp", "failed", "connect %s: %s",
			    c->addr, strerror(errno));
			close(s);
			continue;
		}
		c->fd = s;
		c->state = CS_CONNECTING;
		event_set(&c->ev_write, s, EV_WRITE, conn_connected, c);
		event_add(&c->ev_write, NULL);
		return;
	}
	stream_bounce_queue(c, "remote-server-not-found",
	    "cannot connect to the partner's server");
	conn_close(c, "s2s to %s: no address could be reached", c->remote);
}

static void
conn_connected(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		log_info("s2s to %s: connect %s: %s", c->remote, c->addr,
		    strerror(err));
		conn_probe_step(c, "tcp", "failed", "connect %s: %s", c->addr,
		    strerror(err));
		close(fd);
		c->fd = -1;
		conn_connect_next(c);
		return;
	}
	event_set(&c->ev_read, fd, EV_READ | EV_PERSIST, conn_read, c);
	event_add(&c->ev_read, NULL);
	event_set(&c->ev_write, fd, EV_WRITE, conn_writable, c);
	log_debug("%s: conn %u connected to %s", __func__, c->id, c->addr);
	conn_probe_step(c, "tcp", "ok", "connected to %s", c->addr);
	c->probe_at = "stream";
	c->state = CS_HEADER;
	stream_connected(c);
}

int
conn_dead(struct conn *c)
{
	return (c->fd == -2);
}

/*
 * Close now; free on the next loop pass, so that a caller up the stack
 * holding the pointer can still look at conn_dead().
 */
void
conn_close(struct conn *c, const char *fmt, ...)
{
	struct timeval	 tv = { 0, 0 };
	struct queued	*q;
	va_list		 ap;
	char		*msg;

	if (conn_dead(c))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	log_info("conn %u %s %s (%s): closed: %s", c->id,
	    c->dir == CONN_IN ? "from" : "to", c->remote[0] ? c->remote : "?",
	    c->addr[0] ? c->addr : "-", msg ? msg : fmt);
	conn_probe_end(c, 0, msg ? msg : fmt);
	free(msg);
	stream_bounce_queue(c, "remote-server-not-found",
	    "the stream to the partner closed");
	while ((q = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, q, entry);
		xml_free(q->stanza);
		free(q);
	}
	stream_conn_gone(c);
	if (c->fd >= 0) {
		event_del(&c->ev_read);
		event_del(&c->ev_write);
	}
	evtimer_del(&c->ev_timer);
	evtimer_del(&c->ev_throttle);
	if (c->tls != NULL) {
		tls_free(c->tls);
		c->tls = NULL;
	}
	if (tls_in.c == c)
		tls_in.c = NULL;
	free(c->tls_pend);
	c->tls_pend = NULL;
	tls_srv_drop(c->srv);
	c->srv = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -2;
	TAILQ_REMOVE(&s2s.conns, c, entry);
	s2s.nconns--;
	TAILQ_INSERT_TAIL(&s2s_dead, c, entry);
	evtimer_add(&s2s_reaper, &tv);
}

static void
s2s_reap(int fd, short event, void *arg)
{
	struct conn		*c;
	struct db_pair		*p;
	struct db_verify	*v;

	while ((c = TAILQ_FIRST(&s2s_dead)) != NULL) {
		TAILQ_REMOVE(&s2s_dead, c, entry);
		while ((p = TAILQ_FIRST(&c->pairs)) != NULL) {
			TAILQ_REMOVE(&c->pairs, p, entry);
			explicit_bzero(p, sizeof(*p));
			free(p);
		}
		while ((v = TAILQ_FIRST(&c->verifies)) != NULL) {
			TAILQ_REMOVE(&c->verifies, v, entry);
			explicit_bzero(v, sizeof(*v));
			free(v);
		}
		xml_stream_free(c->xs);
		xbuf_free(&c->out);
		free(c->addrs);
		free(c);
	}
}

void
conn_write(struct conn *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (conn_dead(c))
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("%s: vasprintf", __func__);
	xbuf_add(&c->out, s, n);
	free(s);
	if (c->fd >= 0 && c->state != CS_HANDSHAKE)
		event_add(&c->ev_write, NULL);
}

void
conn_write_elem(struct conn *c, const struct xml_elem *e)
{
	if (conn_dead(c))
		return;
	xml_write(&c->out, e, NS_SERVER);
	if (c->fd >= 0 && c->state != CS_HANDSHAKE)
		event_add(&c->ev_write, NULL);
}

/* RFC 6120 4.9: the error, then the end of the stream, then close */
void
conn_stream_error(struct conn *c, const char *cond, const char *text)
{
	if (conn_dead(c) || c->state == CS_CLOSING)
		return;
	log_info("conn %u %s %s (%s): stream error <%s/>%s%s", c->id,
	    c->dir == CONN_IN ? "from" : "to", c->remote[0] ? c->remote : "?",
	    c->addr, cond, text ? ": " : "", text ? text : "");
	if (c->state == CS_DNS || c->state == CS_CONNECTING || c->fd < 0) {
		conn_close(c, "%s", cond);
		return;
	}
	if (c->probe) {
		char	 why[512];

		snprintf(why, sizeof(why), "stream error <%s/>%s%s", cond,
		    text ? ": " : "", text ? text : "");
		conn_probe_end(c, 0, why);
	}
	conn_write(c, "<stream:error><%s xmlns='" NS_STREAM_ERR "'/>", cond);
	if (text != NULL) {
		struct xbuf	 t;

		xbuf_init(&t);
		xbuf_escape(&t, text, strlen(text));
		conn_write(c, "<text xmlns='" NS_STREAM_ERR "'>%.*s</text>",
		    (int)t.len, t.data ? t.data : "");
		xbuf_free(&t);
	}
	conn_write(c, "</stream:error></stream:stream>");
	c->closing_error = 1;
	c->state = CS_CLOSING;
	conn_schedule(c);
}

/*
 * TLS input.  libtls takes a stream's bytes through conn_tls_in, which
 * reads the socket into one buffer of the process, up to TLS_IN_SIZE at
 * a time: OpenSSL asks for each record's 5-byte header and then for its
 * body, so the records a peer sent since the last pass cost one read(2)
 * instead of two each.  A read that got less than it asked for emptied
 * the socket: later requests in the same pass get TLS_WANT_POLLIN
 * without another read (the read event is level-triggered, so what
 * arrives later wakes the stream again).  When a stream stops with
 * bytes of the buffer unread (its reads per pass used up, or TLS done
 * with the handshake and application data behind it), conn_tls_rest
 * moves them to the stream's own tls_pend and runs its read event once
 * more, since the socket will not say that they are there.
 */
static ssize_t
conn_tls_take(unsigned char *from, size_t *off, size_t len, void *buf,
    size_t want)
{
	size_t	 n = len - *off < want ? len - *off : want;

	memcpy(buf, from + *off, n);
	*off += n;
	return ((ssize_t)n);
}

static ssize_t
conn_tls_in(struct tls *ctx, void *buf, size_t want, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if (c->tls_pend != NULL) {
		n = conn_tls_take(c->tls_pend, &c->tls_pend_off,
		    c->tls_pend_len, buf, want);
		if (c->tls_pend_off == c->tls_pend_len) {
			free(c->tls_pend);
			c->tls_pend = NULL;
		}
		return (n);
	}
	if (tls_in.c == c && tls_in.off < tls_in.len)
		return (conn_tls_take(tls_in.buf, &tls_in.off, tls_in.len,
		    buf, want));
	if (c->tls_drained)
		return (TLS_WANT_POLLIN);
	conn_tls_save();
	if ((n = read(c->fd, tls_in.buf, sizeof(tls_in.buf))) == -1)
		return (errno == EAGAIN || errno == EINTR ?
		    TLS_WANT_POLLIN : -1);
	if (n == 0)
		return (0);
	c->tls_drained = (size_t)n < sizeof(tls_in.buf);
	tls_in.c = c;
	tls_in.off = 0;
	tls_in.len = n;
	return (conn_tls_take(tls_in.buf, &tls_in.off, tls_in.len, buf,
	    want));
}

static ssize_t
conn_tls_out(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if ((n = write(c->fd, buf, len)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return (TLS_WANT_POLLOUT);
	return (n);
}

/* What is left in tls_in goes to its stream's own buffer. */
static void
conn_tls_save(void)
{
	struct conn	*o = tls_in.c;

	tls_in.c = NULL;
	if (o == NULL || tls_in.off == tls_in.len)
		return;
	/* its own is empty: conn_tls_in empties it before it reads */
	if ((o->tls_pend = malloc(tls_in.len - tls_in.off)) == NULL)
		fatal("%s: malloc", __func__);
	memcpy(o->tls_pend, tls_in.buf + tls_in.off, tls_in.len - tls_in.off);
	o->tls_pend_off = 0;
	o->tls_pend_len = tls_in.len - tls_in.off;
}

/* After a stream's turn: bytes it did not take are read next pass. */
static void
conn_tls_rest(struct conn *c)
{
	if (tls_in.c == c)
		conn_tls_save();
	if (c->tls_pend != NULL && !conn_dead(c) &&
	    event_pending(&c->ev_read, EV_READ, NULL))
		event_active(&c->ev_read, EV_READ, 1);
}

/*
 * Start TLS on this connection once the plaintext already queued (the
 * <proceed/>) is out.  Whatever the peer sent after <starttls/> was
 * discarded by the caller (xml_stream_stop).
 */
void
conn_starttls(struct conn *c)
{
	size_t	 i = 0;

	if (c->out_off < c->out.len) {
		/*
		 * Nothing is read until the handshake starts: the next bytes
		 * are the peer's ClientHello, not XML.
		 */
		c->tls_want = -1;	/* conn_writable starts it */
		event_del(&c->ev_read);
		event_add(&c->ev_write, NULL);
		return;
	}
	event_add(&c->ev_read, NULL);
	if (c->dir == CONN_IN) {
		c->srv = tls_srv_hold(s2s.srv);
		if (tls_accept_cbs(tls_srv_ctx(c->srv), &c->tls, conn_tls_in,
		    conn_tls_out, c) == -1) {
			conn_close(c, "TLS: %s", tls_error(tls_srv_ctx(c->srv)));
			return;
		}
	} else {
		struct xgw_domain	*d;

		TAILQ_FOREACH(d, &proc_conf->domains, entry) {
			if (strcmp(d->name, c->local) == 0)
				break;
			i++;
		}
		if (d == NULL || i >= s2s.ncli ||
		    (c->tls = tls_client()) == NULL ||
		    tls_configure(c->tls, s2s.cli_cfg[i]) == -1 ||
		    tls_connect_cbs(c->tls, conn_tls_in, conn_tls_out, c,
		    c->remote) == -1) {
			conn_close(c, "TLS: %s", c->tls ? tls_error(c->tls) :
			    "no client configuration");
			return;
		}
	}
	c->tls_want = 0;
	c->state = CS_HANDSHAKE;
	conn_handshake(c);
}

static void
conn_handshake(struct conn *c)
{
	c->tls_drained = 0;
	conn_handshake1(c);
	conn_tls_rest(c);
}

static void
conn_handshake1(struct conn *c)
{
	const char	*v, *ciph;
	int		 r;

	if ((r = tls_handshake(c->tls)) == TLS_WANT_POLLIN)
		return;		/* the persistent read event calls again */
	if (r == TLS_WANT_POLLOUT) {
		event_add(&c->ev_write, NULL);
		return;
	}
	if (r == -1) {
		stream_bounce_queue(c, "remote-server-not-found",
		    "TLS handshake failed");
		conn_close(c, "TLS handshake: %s", tls_error(c->tls));
		return;
	}
	c->tls_done = 1;
	if ((v = tls_conn_version(c->tls)) != NULL)
		(void)strlcpy(c->tls_version, v, sizeof(c->tls_version));
	if ((ciph = tls_conn_cipher(c->tls)) != NULL)
		(void)strlcpy(c->tls_cipher, ciph, sizeof(c->tls_cipher));
	log_debug("conn %u: %s %s", c->id, c->tls_version, c->tls_cipher);
	conn_probe_step(c, "tls", "ok", "%s %s", c->tls_version,
	    c->tls_cipher);
	stream_tls_done(c);
	if (!conn_dead(c) && c->out_off < c->out.len)
		event_add(&c->ev_write, NULL);
}

static void
conn_read(int fd, short event, void *arg)
{
	struct conn	*c = arg;

	c->tls_drained = 0;
	conn_read1(c);
	conn_tls_rest(c);
}

static void
conn_read1(struct conn *c)
{
	char		 buf[16384];
	ssize_t		 n;
	size_t		 got;

	if (c->state == CS_HANDSHAKE) {
		conn_handshake1(c);
		return;
	}
	/*
	 * Several TLS records may be buffered: read until none is left, or
	 * PROC_READS full buffers' worth in one pass.
	 */
	for (got = 0; got < PROC_READS * sizeof(buf) && !conn_dead(c);
	    got += n) {
		if (conn_throttled(c))
			return;
		if (c->tls != NULL) {
			n = tls_read(c->tls, buf, sizeof(buf));
			if (n == TLS_WANT_POLLIN)
				return;
			if (n == TLS_WANT_POLLOUT) {
				event_add(&c->ev_write, NULL);
				return;
			}
			if (n == -1) {
				conn_close(c, "TLS read: %s", tls_error(c->tls));
				return;
			}
		} else {
			n = read(c->fd, buf, sizeof(buf));
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				conn_close(c, "read: %s", strerror(errno));
				return;
			}
		}
		if (n == 0) {
			conn_close(c, "connection closed by the peer");
			return;
		}
		c->lastread = time(NULL);
		c->inbytes += n;
		c->rl_tokens -= n;
		proc_input();
		stream_input(c, buf, n);
		/*
		 * A handshake may have started, or wait for our <proceed/>
		 * to leave: it reads for itself.
		 */
		if (c->state == CS_HANDSHAKE || c->tls_want == -1 ||
		    (c->tls == NULL && n < (ssize_t)sizeof(buf)))
			return;
	}
}

/*
 * limits read-rate: a token bucket of bytes for each stream, holding at
 * most a second's worth.  A read may overdraw it; then the stream is
 * not read (its peer's TCP window fills) until the debt is paid.
 */
static int
conn_throttled(struct conn *c)
{
	struct timeval	 tv;
	long long	 rate = proc_conf->limits.read_rate, now, add, wait;

	if (rate == 0)
		return (0);
	now = conn_now_ns();
	if (now - c->rl_last >= 1000000000LL ||
	    (add = rate * (now - c->rl_last) / 1000000000LL) >=
	    rate - c->rl_tokens) {
		c->rl_tokens = rate;	/* full */
		c->rl_last = now;
	} else {
		/* the time of a fraction of a byte is not lost */
		c->rl_tokens += add;
		c->rl_last += add * 1000000000LL / rate;
	}
	if (c->rl_tokens > 0)
		return (0);
	if (!c->rl_said) {
		c->rl_said = 1;
		log_info("conn %u %s %s (%s): reading at most %lld bytes/s "
		    "(limits read-rate)", c->id, c->dir == CONN_IN ? "from" :
		    "to", c->remote[0] ? c->remote : "?", c->addr, rate);
	}
	wait = (1 - c->rl_tokens) * 1000000LL / rate + 1;	/* us */
	tv.tv_sec = wait / 1000000;
	tv.tv_usec = wait % 1000000;
	event_del(&c->ev_read);
	evtimer_add(&c->ev_throttle, &tv);
	return (1);
}

static long long
conn_now_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return (ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* The debt is paid: read again, also what TLS holds already. */
static void
conn_unthrottle(int fd, short event, void *arg)
{
	struct conn	*c = arg;

	/* a <proceed/> on its way starts TLS, which reads for itself */
	if (conn_dead(c) || c->fd < 0 || c->tls_want == -1)
		return;
	event_add(&c->ev_read, NULL);
	conn_read(c->fd, EV_READ, c);
}

static void
conn_writable(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if (c->state == CS_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	while (c->out_off < c->out.len) {
		if (c->tls != NULL) {
			n = tls_write(c->tls, c->out.data + c->out_off,
			    c->out.len - c->out_off);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				event_add(&c->ev_write, NULL);
				return;
			}
			if (n == -1) {
				conn_close(c, "TLS write: %s", tls_error(c->tls));
				return;
			}
		} else {
			n = write(fd, c->out.data + c->out_off,
			    c->out.len - c->out_off);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					event_add(&c->ev_write, NULL);
					return;
				}
				conn_close(c, "write: %s", strerror(errno));
				return;
			}
		}
		c->out_off += n;
	}
	c->out.len = c->out_off = 0;
	if (c->state == CS_CLOSING) {
		conn_close(c, c->closing_error ? "after a stream error" :
		    "stream closed");
		return;
	}
	if (c->tls_want == -1)
		conn_starttls(c);
}

/*
 * One timer per connection: until it is authenticated, the establish
 * timeout; then idle timeout and whitespace keepalives.
 */
void
conn_schedule(struct conn *c)
{
	struct timeval		 tv = { 0, 0 };
	struct xgw_timeouts	*to = &proc_conf->timeouts;

	if (conn_dead(c))
		return;
	if (c->state == CS_CLOSING)
		tv.tv_sec = 5;	/* a peer that does not read */
	else if (c->auth == AUTH_NONE)
		tv.tv_sec = to->establish;
	else if (c->partner != NULL && c->partner->keepalive &&
	    c->dir == CONN_OUT && to->keepalive < to->idle)
		tv.tv_sec = to->keepalive;
	else
		tv.tv_sec = to->idle;
	evtimer_del(&c->ev_timer);
	evtimer_add(&c->ev_timer, &tv);
}

static void
conn_timer(int fd, short event, void *arg)
{
	struct conn		*c = arg;
	struct xgw_timeouts	*to = &proc_conf->timeouts;
	time_t			 now = time(NULL);

	if (c->state == CS_CLOSING) {
		conn_close(c, "peer did not read the end of the stream");
		return;
	}
	if (c->auth == AUTH_NONE && c->dir == CONN_OUT) {
		stream_bounce_queue(c, "remote-server-timeout",
		    "the stream to the partner could not be established in time");
		conn_close(c, "not established within %u seconds",
		    to->establish);
		return;
	}
	if (c->auth == AUTH_NONE && TAILQ_EMPTY(&c->pairs)) {
		conn_stream_error(c, "connection-timeout",
		    "not authenticated in time");
		return;
	}
	if (now - c->lastread >= (time_t)to->idle && c->dir == CONN_IN) {
		conn_stream_error(c, "connection-timeout", "idle");
		return;
	}
	if (c->dir == CONN_OUT && c->partner != NULL &&
	    c->partner->keepalive && c->fd >= 0)
		conn_write(c, " ");
	else if (c->dir == CONN_OUT && now - c->lastread >= (time_t)to->idle) {
		conn_write(c, "</stream:stream>");
		c->state = CS_CLOSING;
	}
	conn_schedule(c);
}

/* dialback process: keys, checks and DNS */

void
s2s_ask_key(struct conn *c, const char *recv, const char *orig,
    const char *id)
{
	struct imsgev	*iev;
	struct ibuf	*b;

	if ((iev = proc_peer(PROC_DIALBACK, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_DB_KEY, c->id, 0, 600)) == NULL ||
	    imsg_add_string(b, recv) == -1 || imsg_add_string(b, orig) == -1 ||
	    imsg_add_string(b, id) == -1) {
		stream_db_key(c, NULL);
		return;
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

void
s2s_ask_check(struct conn *c, const char *recv, const char *orig,
    const char *id, const char *key)
{
	struct imsgev	*iev;
	struct ibuf	*b;

	if ((iev = proc_peer(PROC_DIALBACK, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_DB_CHECK, c->id, 0, 700))
	    == NULL || imsg_add_string(b, recv) == -1 ||
	    imsg_add_string(b, orig) == -1 || imsg_add_string(b, id) == -1 ||
	    imsg_add_string(b, key) == -1) {
		stream_db_checked(c, recv, orig, id, 0);
		return;
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

static void
s2s_dns_result(struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct conn		*c;
	char			 err[1024];
	uint32_t		 n, i;

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, err, sizeof(err)) == -1 ||
	    imsg_read_u32(&cur, &n) == -1 || n > 64 ||
	    cur.left != n * sizeof(struct sockaddr_storage))
		imsg_fatal_size(imsg, __func__);
	if ((c = conn_find(imsg_get_id(imsg))) == NULL ||
	    c->state != CS_DNS)
		return;
	if (n == 0) {
		stream_bounce_queue(c, "remote-server-not-found", err);
		conn_close(c, "DNS: %s", err);
		return;
	}
	if ((c->addrs = calloc(n, sizeof(*c->addrs))) == NULL)
		fatal("%s: calloc", __func__);
	for (i = 0; i < n; i++)
		if (imsg_read_bytes(&cur, &c->addrs[i], sizeof(c->addrs[i]))
		    == -1 || (c->addrs[i].ss_family != AF_INET &&
		    c->addrs[i].ss_family != AF_INET6))
			imsg_fatal_size(imsg, __func__);
	c->naddrs = n;
	if (c->probe) {
		char	 list[512] = "", a[64];

		for (i = 0; i < n; i++) {
			config_sockaddr(&c->addrs[i], a, sizeof(a));
			(void)strlcat(list, i ? ", " : "", sizeof(list));
			(void)strlcat(list, a, sizeof(list));
		}
		conn_probe_step(c, "dns", "ok", "%s: %s", err, list);
		c->probe_at = "tcp";
	}
	conn_connect_next(c);
}

static void
s2s_key_result(struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct conn		*c;
	char			 key[DIALBACK_KEY_LEN + 1];

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, key, sizeof(key)) == -1 ||
	    imsg_cursor_end(&cur) == -1)
		imsg_fatal_size(imsg, __func__);
	if ((c = conn_find(imsg_get_id(imsg))) == NULL)
		return;
	stream_db_key(c, key[0] ? key : NULL);
	explicit_bzero(key, sizeof(key));
}

static void
s2s_check_result(struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct conn		*c;
	char			 recv[XGW_NAME_MAX], orig[XGW_NAME_MAX];
	char			 id[S2S_ID_MAX + 1];
	uint32_t		 valid;

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, recv, sizeof(recv)) == -1 ||
	    imsg_read_string(&cur, orig, sizeof(orig)) == -1 ||
	    imsg_read_string(&cur, id, sizeof(id)) == -1 ||
	    imsg_read_u32(&cur, &valid) == -1 || valid > 1 ||
	    imsg_cursor_end(&cur) == -1)
		imsg_fatal_size(imsg, __func__);
	if ((c = conn_find(imsg_get_id(imsg))) == NULL)
		return;
	stream_db_checked(c, recv, orig, id, valid);
}

/* policy */

void
s2s_to_policy(struct conn *c, const struct xml_elem *e)
{
	struct stanza	 s;
	struct imsgev	*iev;
	struct ibuf	*b;

	if (stanza_from_xml(&s, e) == -1) {
		/* an attribute too long to carry: refused, not dropped */
		conn_stream_error(c, "policy-violation",
		    "stanza attributes too long");
		return;
	}
	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_STANZA_IN, c->id, 0, 1024))
	    == NULL || stanza_encode(b, &s) == -1) {
		log_warnx("conn %u: policy unreachable; stanza from %s to %s "
		    "answered with an error", c->id, s.from, s.to);
		if (strcmp(s.type, "error") != 0 &&
		    stanza_make_error(&s, "internal-server-error", NULL,
		    "the gateway is restarting a process") == 0)
			stream_deliver(&s, 0);
		stanza_clear(&s);
		return;
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	stanza_clear(&s);
}

/* the fate of a stanza policy asked about: "" written, or a condition */
void
s2s_report(uint32_t report, const char *cond)
{
	struct imsgev	*iev;
	struct ibuf	*b;

	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL)
		return;		/* policy restarted and answered it */
	if ((b = imsg_create(&iev->ibuf, IMSG_STANZA_SENT, 0, 0, 64)) == NULL ||
	    imsg_add_u32(b, report) == -1 || imsg_add_string(b, cond) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

static void
s2s_stanza_out(struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct stanza		 s;
	uint32_t		 report;

	imsg_cursor(imsg, &cur);
	if (imsg_read_u32(&cur, &report) == -1 ||
	    stanza_decode(&cur, &s) == -1 || imsg_cursor_end(&cur) == -1)
		imsg_fatal_size(imsg, __func__);
	stream_deliver(&s, report);
	stanza_clear(&s);
}

static void
s2s_show_streams(struct imsgev *iev, struct imsg *imsg)
{
	struct conn	*c;
	struct ibuf	*b;
	time_t		 now = time(NULL);

	TAILQ_FOREACH(c, &s2s.conns, entry) {
		if ((b = imsg_create(&iev->ibuf, IMSG_CTL_STREAM,
		    imsg_get_id(imsg), 0, 512)) == NULL ||
		    imsg_add_u32(b, proc_instance) == -1 ||
		    imsg_add_u32(b, c->id) == -1 ||
		    imsg_add_string(b, c->dir == CONN_IN ? "in" : "out") == -1 ||
		    imsg_add_string(b, c->local) == -1 ||
		    imsg_add_string(b, c->remote) == -1 ||
		    imsg_add_string(b, c->addr) == -1 ||
		    imsg_add_string(b, c->tls_version) == -1 ||
		    imsg_add_string(b, c->tls_cipher) == -1 ||
		    imsg_add_string(b, stream_auth_name(c->auth)) == -1 ||
		    imsg_add_string(b, stream_state_name(c)) == -1 ||
		    imsg_add_u32(b, now - c->created) == -1)
			fatal("%s: imsg", __func__);
		imsg_close(&iev->ibuf, b);
	}
	imsgev_compose(iev, IMSG_CTL_END, imsg_get_id(imsg), -1, NULL, 0);
}

/*
 * xmppgwctl check partner DOMAIN: a probe is an outbound stream, from our
 * first domain, opened only to report each step to the control client
 * (peerid) and closed once authenticated.  It carries no stanzas.
 */
static void
s2s_check(struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct xgw_partner	*p;
	struct xgw_domain	*d;
	struct conn		*c;
	char			 remote[XGW_NAME_MAX], msg[XGW_NAME_MAX + 32];

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, remote, sizeof(remote)) == -1 ||
	    imsg_cursor_end(&cur) == -1)
		imsg_fatal_size(imsg, __func__);
	/* policy checked it too, but a reload may have come between */
	if ((p = partner_find(proc_conf, remote)) == NULL ||
	    (d = TAILQ_FIRST(&proc_conf->domains)) == NULL) {
		snprintf(msg, sizeof(msg), "no partner %s", remote);
		probe_send(imsg_get_id(imsg), IMSG_CTL_FAIL, NULL, NULL, msg);
		return;
	}
	log_info("check partner %s: opening a stream from %s", remote,
	    d->name);
	c = conn_out_new(d->name, remote, p);
	c->probe = imsg_get_id(imsg);
	if (c->state == CS_CLOSING)
		conn_close(c, "the dialback process is restarting");
}

/*
 * One message to the control client: a step (IMSG_CTL_STEP: step, status
 * and text) or the result (IMSG_CTL_OK or FAIL: text alone).  Texts may
 * quote the peer: only printable ASCII leaves.
 */
static void
probe_send(uint32_t peerid, uint32_t type, const char *step,
    const char *status, const char *text)
{
	struct imsgev	*iev;
	struct ibuf	*b;
	char		 buf[1024], *q;

	if ((iev = proc_peer(PROC_POLICY, 0)) == NULL)
		return;		/* it restarted: the client is gone */
	(void)strlcpy(buf, text, sizeof(buf));
	for (q = buf; *q != '\0'; q++)
		if (*q < 0x20 || *q > 0x7e)
			*q = '?';
	if ((b = imsg_create(&iev->ibuf, type, peerid, 0, sizeof(buf) + 64))
	    == NULL)
		fatal("%s: imsg_create", __func__);
	if ((type == IMSG_CTL_STEP ? imsg_add_string(b, step) == -1 ||
	    imsg_add_string(b, status) == -1 || imsg_add_string(b, buf) :
	    imsg_add(b, buf, strlen(buf))) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

/*
 * A step of a probe, with the status "ok", "warning" (what follows may
 * still work) or "failed".
 */
void
conn_probe_step(struct conn *c, const char *step, const char *status,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 text[1024];

	if (c->probe == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	probe_send(c->probe, IMSG_CTL_STEP, step, status, text);
}

/*
 * The probe's result, once.  A failure names the step under way; a
 * success ends the stream.
 */
void
conn_probe_end(struct conn *c, int ok, const char *why)
{
	char	 msg[1024];

	if (c->probe == 0)
		return;
	if (ok) {
		snprintf(msg, sizeof(msg), "%s: reachable; %s is "
		    "authenticated to it by %s", c->remote, c->local,
		    stream_auth_name(c->auth));
		probe_send(c->probe, IMSG_CTL_OK, NULL, NULL, msg);
		c->probe = 0;
		conn_write(c, "</stream:stream>");
		c->state = CS_CLOSING;
		conn_schedule(c);
		return;
	}
	conn_probe_step(c, c->probe_at, "failed", "%s", why);
	snprintf(msg, sizeof(msg), "%s: check failed at %s", c->remote,
	    c->probe_at);
	probe_send(c->probe, IMSG_CTL_FAIL, NULL, NULL, msg);
	c->probe = 0;
}

static int
s2s_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_DNS_RESULT:
		if (iev->procid != PROC_DIALBACK)
			return (-1);
		s2s_dns_result(imsg);
		return (0);
	case IMSG_DB_KEY:
		if (iev->procid != PROC_DIALBACK)
			return (-1);
		s2s_key_result(imsg);
		return (0);
	case IMSG_DB_CHECK:
		if (iev->procid != PROC_DIALBACK)
			return (-1);
		s2s_check_result(imsg);
		return (0);
	case IMSG_STANZA_OUT:
		if (iev->procid != PROC_POLICY)
			return (-1);
		s2s_stanza_out(imsg);
		return (0);
	case IMSG_CTL_SHOW_STREAMS:
		if (iev->procid != PROC_POLICY)
			return (-1);
		s2s_show_streams(iev, imsg);
		return (0);
	case IMSG_CTL_CHECK:
		if (iev->procid != PROC_POLICY)
			return (-1);
		s2s_check(imsg);
		return (0);
	default:
		return (-1);
	}
}

/*
 * dialback restarted: what it was doing for us is lost.  The streams
 * waiting on it fail now rather than at their timeout.
 */
static void
s2s_peer_down(enum privsep_procid id, unsigned int instance)
{
	struct conn	*c, *tc;

	if (id != PROC_DIALBACK)
		return;
	TAILQ_FOREACH_SAFE(c, &s2s.conns, entry, tc) {
		if (c->state == CS_DNS) {
			stream_bounce_queue(c, "remote-server-timeout",
			    "the gateway's resolver restarted");
			conn_close(c, "dialback process restarted");
		} else if (c->state == CS_DIALBACK || !TAILQ_EMPTY(&c->pairs))
			conn_stream_error(c, "internal-server-error",
			    "dialback process restarted");
	}
}
