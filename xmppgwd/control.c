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
 * The control socket, served by the policy process.  Requests about the
 * processes and the configuration go to the parent and its answers come
 * back here, matched to the client by the imsg peerid, and a status
 * answer gets policy's message counters; the partner table and the
 * authorisations are answered here.  A client that sends something
 * malformed, or does not read its answers, is disconnected; nothing a
 * client sends can stop the daemon.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "stanza.h"

#define CONTROL_MAXCONN		32
#define CONTROL_MAXQUEUE	1024	/* messages queued to one client */
#define CONTROL_CHECKS_MAX	8	/* check partner at once */

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct imsgev		 iev;
	uint32_t		 id;
	uid_t			 uid;
	uint32_t		 waiting;	/* tls instances to answer */
	int			 status;	/* a status answer is coming */
	int			 checking;	/* check partner: tls answers */
	unsigned int		 check_tls;	/* that tls instance */
};

static TAILQ_HEAD(, ctl_conn) ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static unsigned int	 ctl_nconns;
static uint32_t		 ctl_nextid = 1;
static int		 ctl_fd = -1;
static struct event	 ctl_ev, ctl_pause;

static void	control_accept(int, short, void *);
static void	control_resume(int, short, void *);
static void	control_dispatch(int, short, void *);
static void	control_close(struct ctl_conn *);
static void	control_fail(struct ctl_conn *, const char *);
static int	control_need_root(struct ctl_conn *, const char *);
static void	control_show_partners(struct ctl_conn *);
static void	control_show_streams(struct ctl_conn *);
static int	control_auth(struct ctl_conn *, struct imsg *);
static int	control_check(struct ctl_conn *, struct imsg *);
static struct ctl_conn *control_find(uint32_t);

void
control_listen(int fd)
{
	if (ctl_fd != -1) {
		event_del(&ctl_ev);
		close(ctl_fd);
	}
	ctl_fd = fd;
	event_set(&ctl_ev, ctl_fd, EV_READ | EV_PERSIST, control_accept, NULL);
	event_add(&ctl_ev, NULL);
	evtimer_set(&ctl_pause, control_resume, NULL);
}

static void
control_resume(int fd, short event, void *arg)
{
	event_add(&ctl_ev, NULL);
}

static void
control_accept(int fd, short event, void *arg)
{
	struct ctl_conn	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	struct timeval	 tv = { 1, 0 };
	int		 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* do not spin on a full descriptor table */
			event_del(&ctl_ev);
			evtimer_add(&ctl_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("%s: accept", __func__);
		return;
	}
	if (ctl_nconns >= CONTROL_MAXCONN) {
		log_warnx("%s: too many control connections", __func__);
		close(s);
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		close(s);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		close(s);
		return;
	}
	c->uid = cred.uid;
	c->id = ctl_nextid++;
	if (ctl_nextid == 0)
		ctl_nextid = 1;
	imsgev_init(&c->iev, s, PROC_MAX, 0, control_dispatch, c);
	if (imsgbuf_set_maxsize(&c->iev.ibuf, XGW_CTL_MAXSIZE) == -1)
		fatal("%s: imsgbuf_set_maxsize", __func__);
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
	imsgev_add(&c->iev);
}

static void
control_close(struct ctl_conn *c)
{
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	imsgev_clear(&c->iev);
	free(c);
}

static void
control_fail(struct ctl_conn *c, const char *msg)
{
	imsgev_compose(&c->iev, IMSG_CTL_FAIL, 0, -1, msg, strlen(msg));
}

static int
control_need_root(struct ctl_conn *c, const char *what)
{
	char	 msg[128];

	if (c->uid == 0)
		return (0);
	snprintf(msg, sizeof(msg), "permission denied: %s requires root",
	    what);
	control_fail(c, msg);
	return (-1);
}

static void
control_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct ctl_conn	*c = iev->data;
	struct imsg	 imsg;
	uint32_t	 v;
	int		 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1 || n == 0) {
			control_close(c);
			return;
		}
	}
	if ((event & EV_WRITE) && imsgbuf_write(&iev->ibuf) == -1) {
		control_close(c);
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1) {
			log_warnx("%s: malformed request, disconnecting",
			    __func__);
			control_close(c);
			return;
		}
		if (n == 0)
			break;
		/* a client that asks and does not read is dropped */
		if (imsgbuf_queuelen(&c->iev.ibuf) > CONTROL_MAXQUEUE) {
			log_warnx("%s: control client not reading, "
			    "disconnecting", __func__);
			imsg_free(&imsg);
			control_close(c);
			return;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_STATUS:
			if (imsg_get_len(&imsg) != 0)
				goto bad;
			c->status = 1;
			proc_compose(PROC_PARENT, 0, IMSG_CTL_STATUS, c->id,
			    -1, NULL, 0);
			break;
		case IMSG_CTL_RELOAD:
			if (imsg_get_len(&imsg) != 0)
				goto bad;
			if (control_need_root(c, "reload") == 0)
				proc_compose(PROC_PARENT, 0, IMSG_CTL_RELOAD,
				    c->id, -1, NULL, 0);
			break;
		case IMSG_CTL_VERBOSE:
			if (imsg_get_data(&imsg, &v, sizeof(v)) == -1 || v > 4)
				goto bad;
			if (control_need_root(c, "log") == 0)
				proc_compose(PROC_PARENT, 0, IMSG_CTL_VERBOSE,
				    c->id, -1, &v, sizeof(v));
			break;
		case IMSG_CTL_SHOW_PARTNERS:
			if (imsg_get_len(&imsg) != 0)
				goto bad;
			control_show_partners(c);
			break;
		case IMSG_CTL_SHOW_STREAMS:
			if (imsg_get_len(&imsg) != 0 || c->waiting)
				goto bad;
			control_show_streams(c);
			break;
		case IMSG_CTL_AUTHORIZE:
		case IMSG_CTL_REVOKE:
		case IMSG_CTL_SHOW_AUTHS:
			if (control_auth(c, &imsg) == -1)
				goto bad;
			break;
		case IMSG_CTL_CHECK:
			if (c->checking || control_check(c, &imsg) == -1)
				goto bad;
			break;
		default:
			goto bad;
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
	return;
 bad:
	log_warnx("%s: bad request type %u from uid %u, disconnecting",
	    __func__, imsg_get_type(&imsg), (unsigned int)c->uid);
	imsg_free(&imsg);
	control_close(c);
}

static void
control_show_partners(struct ctl_conn *c)
{
	struct xgw_partner	*p;
	struct ibuf		*b;

	if (proc_conf != NULL)
		TAILQ_FOREACH(p, &proc_conf->partners, entry) {
			if ((b = imsg_create(&c->iev.ibuf, IMSG_CTL_PARTNER, 0,
			    0, 512)) == NULL || partner_encode(b, p) == -1)
				fatal("%s: imsg_create", __func__);
			imsg_close(&c->iev.ibuf, b);
		}
	imsgev_compose(&c->iev, IMSG_CTL_END, 0, -1, NULL, 0);
}

/* the client with this id, or NULL: it may have gone */
static struct ctl_conn *
control_find(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
}

/* An answer from the parent for client peerid; it may have gone. */
int
control_relay(struct imsg *imsg)
{
	struct ctl_conn	*c;

	c = control_find(imsg_get_id(imsg));
	if (c == NULL)
		return (0);
	if (imsgbuf_queuelen(&c->iev.ibuf) > CONTROL_MAXQUEUE) {
		log_warnx("%s: control client not reading, disconnecting",
		    __func__);
		control_close(c);
		return (0);
	}
	if (c->status && imsg_get_type(imsg) == IMSG_CTL_END) {
		/* the parent's part is done: the counters are ours */
		c->status = 0;
		policy_counters(&c->iev);
	}
	if (imsg_forward(&c->iev.ibuf, imsg) == -1)
		fatal("%s: imsg_forward", __func__);
	imsgev_add(&c->iev);
	return (0);
}

/*
 * authorize USER JID, revoke USER JID, show authorizations [USER]: all
 * root only.  -1: a malformed request.
 */
static int
control_auth(struct ctl_conn *c, struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	char			 user[JID_MAX], jid[JID_MAX], msg[512];
	uint32_t		 type = imsg_get_type(imsg);
	int			 rc;

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, user, sizeof(user)) == -1)
		return (-1);
	if (type == IMSG_CTL_SHOW_AUTHS) {
		if (imsg_cursor_end(&cur) == -1)
			return (-1);
		/* who has added whom is private */
		if (control_need_root(c, "show authorizations") == 0)
			policy_auth_list(&c->iev, user);
		return (0);
	}
	if (imsg_read_string(&cur, jid, sizeof(jid)) == -1 ||
	    imsg_cursor_end(&cur) == -1)
		return (-1);
	if (control_need_root(c, type == IMSG_CTL_AUTHORIZE ? "authorize" :
	    "revoke") == -1)
		return (0);
	if (type == IMSG_CTL_AUTHORIZE)
		rc = policy_authorize(user, jid, msg, sizeof(msg));
	else
		rc = policy_revoke(user, jid, msg, sizeof(msg));
	imsgev_compose(&c->iev, rc == 0 ? IMSG_CTL_OK : IMSG_CTL_FAIL, 0, -1,
	    msg, strlen(msg));
	return (0);
}

/*
 * check partner DOMAIN (root only: it connects out): a tls process opens
 * a stream to the partner and reports each step, then OK or FAIL.  At
 * most CONTROL_CHECKS_MAX at once.  -1: a malformed request.
 */
static int
control_check(struct ctl_conn *c, struct imsg *imsg)
{
	struct imsg_cursor	 cur;
	struct ctl_conn		*o;
	struct imsgev		*iev;
	struct ibuf		*b;
	char			 domain[XGW_NAME_MAX], msg[XGW_NAME_MAX + 32];
	unsigned int		 n = 0;

	imsg_cursor(imsg, &cur);
	if (imsg_read_string(&cur, domain, sizeof(domain)) == -1 ||
	    imsg_cursor_end(&cur) == -1)
		return (-1);
	if (control_need_root(c, "check") == -1)
		return (0);
	if (partner_find(proc_conf, domain) == NULL) {
		snprintf(msg, sizeof(msg), "no partner %s", domain);
		control_fail(c, msg);
		return (0);
	}
	TAILQ_FOREACH(o, &ctl_conns, entry)
		if (o->checking)
			n++;
	if (n >= CONTROL_CHECKS_MAX) {
		control_fail(c, "too many checks under way: try again");
		return (0);
	}
	c->check_tls = c->id % proc_prefork;
	if ((iev = proc_peer(PROC_TLS, c->check_tls)) == NULL) {
		control_fail(c, "the tls process is restarting: try again");
		return (0);
	}
	if ((b = imsg_create(&iev->ibuf, IMSG_CTL_CHECK, c->id, 0,
	    sizeof(domain))) == NULL || imsg_add_string(b, domain) == -1)
		fatal("%s: imsg_create", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	c->checking = 1;
	return (0);
}

/* a step or the result of a check, from the tls process doing it */
int
control_check_relay(struct imsg *imsg, unsigned int instance)
{
	struct ctl_conn	*c;

	c = control_find(imsg_get_id(imsg));
	if (c == NULL || !c->checking || c->check_tls != instance)
		return (0);
	if (imsg_get_type(imsg) != IMSG_CTL_STEP)
		c->checking = 0;
	return (control_relay(imsg));
}

/* every tls process lists its streams; END when all have answered */
static void
control_show_streams(struct ctl_conn *c)
{
	unsigned int	 i;

	for (i = 0; i < proc_prefork; i++)
		if (proc_compose(PROC_TLS, i, IMSG_CTL_SHOW_STREAMS, c->id, -1,
		    NULL, 0) != -1)
			c->waiting |= 1U << i;
	if (c->waiting == 0)
		imsgev_compose(&c->iev, IMSG_CTL_END, 0, -1, NULL, 0);
}

int
control_streams_relay(struct imsg *imsg, unsigned int instance)
{
	struct ctl_conn	*c;

	c = control_find(imsg_get_id(imsg));
	if (c == NULL || (c->waiting & (1U << instance)) == 0)
		return (0);
	if (imsg_get_type(imsg) == IMSG_CTL_END) {
		c->waiting &= ~(1U << instance);
		if (c->waiting == 0)
			imsgev_compose(&c->iev, IMSG_CTL_END, 0, -1, NULL, 0);
		return (0);
	}
	return (control_relay(imsg));
}

/* a tls process died: it will not answer */
void
control_streams_gone(unsigned int instance)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (c->checking && c->check_tls == instance) {
			c->checking = 0;
			control_fail(c, "the tls process ended during the check");
		}
		if ((c->waiting & (1U << instance)) == 0)
			continue;
		c->waiting &= ~(1U << instance);
		if (c->waiting == 0)
			imsgev_compose(&c->iev, IMSG_CTL_END, 0, -1, NULL, 0);
	}
}
