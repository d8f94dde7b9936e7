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
 * What every child process shares: dropping privileges on the parent's
 * word, the channels to the parent and to the siblings, the generic
 * dispatch loop, and the configuration barrier.  The role-specific part
 * is a struct proc_role.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

struct xgw_config	*proc_conf;
unsigned int		 proc_instance;
unsigned int		 proc_prefork;

static const struct proc_role	*proc_self;
static struct imsgev		 proc_parent;
static struct imsgev		*proc_peers[PROC_MAX];
static unsigned int		 proc_ninstances[PROC_MAX];
static int			 proc_started;
static struct event		 proc_ev_sigterm, proc_ev_sigint;
static struct event		 proc_ev_sighup, proc_ev_sigpipe;

static const char *proc_titles[PROC_MAX] = {
	"parent", "tls", "dialback", "policy", "sip"
};

static void	proc_privsep(void);
static void	proc_dispatch(int, short, void *);
static void	proc_dispatch_parent(struct imsgev *, struct imsg *);
static void	proc_set_peer(struct imsg *);
static void	proc_peer_lost(struct imsgev *);
static void	proc_sig(int, short, void *);

const char *
proc_title(enum privsep_procid id)
{
	if (id >= PROC_MAX)
		return ("unknown");
	return (proc_titles[id]);
}

enum privsep_procid
proc_byname(const char *name)
{
	int	 i;

	for (i = PROC_TLS; i < PROC_MAX; i++)
		if (strcmp(name, proc_titles[i]) == 0)
			return (i);
	return (PROC_MAX);
}

void
imsg_fatal_size(struct imsg *imsg, const char *where)
{
	fatalx("%s: imsg type %u: wrong length %zu", where,
	    imsg_get_type(imsg), imsg_get_len(imsg));
}

/*
 * A child starts here after the re-exec, still root, with only fd 3
 * open.  Nothing untrusted reaches it before the privilege drop: the
 * first message from the parent says how to drop.
 */
void
proc_child(const struct proc_role *role, unsigned int instance)
{
	proc_self = role;
	proc_instance = instance;
	log_procinit(role->title);
	setproctitle("%s", role->title);
	/* re-exec'd through /proc/self/exe: keep our name for ps and pkill */
	(void)prctl(PR_SET_NAME, "xmppgwd", 0, 0, 0);

	if (imsgbuf_init(&proc_parent.ibuf, PROC_PARENT_FD) == -1 ||
	    imsgbuf_set_maxsize(&proc_parent.ibuf, XGW_IMSG_MAXSIZE) == -1)
		fatal("%s: imsgbuf_init", __func__);
	imsgbuf_allow_fdpass(&proc_parent.ibuf);
	proc_privsep();

	event_init();
	signal_set(&proc_ev_sigterm, SIGTERM, proc_sig, NULL);
	signal_set(&proc_ev_sigint, SIGINT, proc_sig, NULL);
	signal_set(&proc_ev_sighup, SIGHUP, proc_sig, NULL);
	signal_set(&proc_ev_sigpipe, SIGPIPE, proc_sig, NULL);
	signal_add(&proc_ev_sigterm, NULL);
	signal_add(&proc_ev_sigint, NULL);
	signal_add(&proc_ev_sighup, NULL);
	signal_add(&proc_ev_sigpipe, NULL);

	if (fcntl(PROC_PARENT_FD, F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	proc_parent.procid = PROC_PARENT;
	proc_parent.handler = proc_dispatch;
	proc_parent.up = 1;
	role->init();
	/* messages that arrived with the setup are already buffered */
	proc_dispatch(PROC_PARENT_FD, 0, &proc_parent);

	event_dispatch();
	if (role->shutdown != NULL)
		role->shutdown();
	log_debug("%s: exiting", __func__);
	exit(0);
}

/* Read IMSG_PRIVSEP (blocking: nothing else can happen yet) and drop. */
static void
proc_privsep(void)
{
	struct privsep_setup	 ps;
	struct imsg		 imsg;
	unsigned int		 i, n;
	int			 r;

	for (;;) {
		if ((r = imsgbuf_get(&proc_parent.ibuf, &imsg)) == -1)
			fatal("%s: imsgbuf_get", __func__);
		if (r == 1)
			break;
		if ((r = imsgbuf_read(&proc_parent.ibuf)) == -1)
			fatal("%s: imsgbuf_read", __func__);
		if (r == 0)
			fatalx("%s: parent closed the channel", __func__);
	}
	if (imsg_get_type(&imsg) != IMSG_PRIVSEP)
		fatalx("%s: expected IMSG_PRIVSEP, got %u", __func__,
		    imsg_get_type(&imsg));
	if (imsg_get_data(&imsg, &ps, sizeof(ps)) == -1)
		imsg_fatal_size(&imsg, __func__);
	imsg_free(&imsg);
	if (memchr(ps.chroot, '\0', sizeof(ps.chroot)) == NULL ||
	    ps.prefork < 1 || ps.prefork > XGW_PREFORK_MAX ||
	    ps.uid == 0 || ps.gid == 0)
		fatalx("%s: bad setup from the parent", __func__);

	sandbox_drop(ps.chroot, ps.uid, ps.gid);
	log_setverbose(ps.verbose);
	proc_prefork = ps.prefork;

	for (i = PROC_TLS; i < PROC_MAX; i++) {
		n = (i == PROC_TLS) ? ps.prefork : 1;
		if (i == proc_self->id && i == PROC_TLS)
			n = 0;		/* tls processes do not talk */
		proc_ninstances[i] = n;
		if (n && (proc_peers[i] = calloc(n, sizeof(struct imsgev)))
		    == NULL)
			fatal("%s: calloc", __func__);
	}
}

void
imsgev_init(struct imsgev *iev, int fd, enum privsep_procid procid,
    unsigned int instance, void (*handler)(int, short, void *), void *data)
{
	if (imsgbuf_init(&iev->ibuf, fd) == -1 ||
	    imsgbuf_set_maxsize(&iev->ibuf, XGW_IMSG_MAXSIZE) == -1)
		fatal("%s: imsgbuf_init", __func__);
	iev->procid = procid;
	iev->instance = instance;
	iev->handler = handler;
	iev->data = data;
	iev->events = 0;
	iev->lazy_set = 0;
	iev->up = 1;
}

/*
 * Re-arm a channel: always readable, writable while output is queued.
 * Composing only queues; the event loop flushes everything queued in
 * one pass with as few system calls as possible.
 */
void
imsgev_add(struct imsgev *iev)
{
	short	 events = EV_READ;

	if (!iev->up)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		events |= EV_WRITE;
	/* armed as wanted already: no system call per message */
	if (iev->events == events && event_pending(&iev->ev, events, NULL))
		return;
	if (iev->events != 0)
		event_del(&iev->ev);
	iev->events = events;
	event_set(&iev->ev, iev->ibuf.fd, events, iev->handler, iev);
	event_add(&iev->ev, NULL);
}

static void
imsgev_lazy(int fd, short event, void *arg)
{
	imsgev_add(arg);
}

/*
 * For what changes nothing for anybody waiting (a SIP 2xx, a stanza
 * written): it leaves with the next message that cannot wait, or after
 * IMSGEV_LAZY_US, so that at moderate rates one wakeup of the peer
 * carries several instead of one each.
 */
void
imsgev_add_lazy(struct imsgev *iev)
{
	struct timeval	 tv = { 0, IMSGEV_LAZY_US };

	if (!iev->up || ((iev->events & EV_WRITE) &&
	    event_pending(&iev->ev, EV_WRITE, NULL)))
		return;
	if (!iev->lazy_set) {
		evtimer_set(&iev->lazy, imsgev_lazy, iev);
		iev->lazy_set = 1;
	}
	if (!evtimer_pending(&iev->lazy, NULL))
		evtimer_add(&iev->lazy, &tv);
}

void
imsgev_clear(struct imsgev *iev)
{
	if (iev->lazy_set)
		evtimer_del(&iev->lazy);
	iev->lazy_set = 0;
	if (iev->events != 0)
		event_del(&iev->ev);
	iev->events = 0;
	if (iev->ibuf.fd != -1)
		close(iev->ibuf.fd);
	imsgbuf_clear(&iev->ibuf);
	iev->ibuf.fd = -1;
	iev->up = 0;
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (!iev->up) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	if (imsg_compose(&iev->ibuf, type, peerid, 0, fd, data, len) == -1)
		return (-1);
	imsgev_add(iev);
	return (0);
}

int
imsgev_composev(struct imsgev *iev, uint32_t type, uint32_t peerid, int fd,
    const struct iovec *iov, int iovcnt)
{
	if (!iev->up) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	if (imsg_composev(&iev->ibuf, type, peerid, 0, fd, iov, iovcnt) == -1)
		return (-1);
	imsgev_add(iev);
	return (0);
}

struct imsgev *
proc_peer(enum privsep_procid id, unsigned int instance)
{
	if (id == PROC_PARENT)
		return (&proc_parent);
	if (id >= PROC_MAX || instance >= proc_ninstances[id] ||
	    !proc_peers[id][instance].up)
		return (NULL);
	return (&proc_peers[id][instance]);
}

int
proc_compose(enum privsep_procid id, unsigned int instance, uint32_t type,
    uint32_t peerid, int fd, const void *data, size_t len)
{
	struct imsgev	*iev;

	if ((iev = proc_peer(id, instance)) == NULL) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	return (imsgev_compose(iev, type, peerid, fd, data, len));
}

static void
proc_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsgbuf	*ibuf = &iev->ibuf;
	struct imsg	 imsg;
	int		 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(ibuf)) == -1 || n == 0) {
			if (iev->procid == PROC_PARENT) {
				if (n == -1)
					log_warn("%s: parent channel", __func__);
				event_loopexit(NULL);
				return;
			}
			if (n == -1)
				log_warn("%s: %s channel", __func__,
				    proc_title(iev->procid));
			proc_peer_lost(iev);
			return;
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(ibuf) == -1) {
			if (iev->procid == PROC_PARENT) {
				event_loopexit(NULL);
				return;
			}
			proc_peer_lost(iev);
			return;
		}
	}
	for (;;) {
		if ((n = imsgbuf_get(ibuf, &imsg)) == -1)
			fatal("%s: bad message from %s", __func__,
			    proc_title(iev->procid));
		if (n == 0)
			break;
		if (iev->procid == PROC_PARENT)
			proc_dispatch_parent(iev, &imsg);
		else if (proc_self->dispatch(iev, &imsg) == -1)
			fatalx("%s: unexpected imsg %u from %s", __func__,
			    imsg_get_type(&imsg), proc_title(iev->procid));
		imsg_free(&imsg);
		if (!iev->up)
			return;
	}
	imsgev_add(iev);
}

static void
proc_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct xgw_config	*newconf = NULL;
	uint32_t		 seq, v;

	switch (imsg_get_type(imsg)) {
	case IMSG_PROCFD:
		proc_set_peer(imsg);
		return;
	case IMSG_CTL_START:
		if (!proc_started && proc_self->start != NULL)
			proc_self->start();
		proc_started = 1;
		return;
	case IMSG_CTL_VERBOSE:
		if (imsg_get_data(imsg, &v, sizeof(v)) == -1)
			imsg_fatal_size(imsg, __func__);
		log_setverbose(v);
		return;
	default:
		break;
	}
	if (config_get(imsg, &newconf, &seq)) {
		if (newconf == NULL)
			return;
		proc_self->configure(proc_conf, newconf);
		config_free(proc_conf);
		proc_conf = newconf;
		imsgev_compose(iev, IMSG_CFG_DONE, 0, -1, &seq, sizeof(seq));
		return;
	}
	if (proc_self->dispatch(iev, imsg) == -1)
		fatalx("%s: unexpected imsg %u from the parent", __func__,
		    imsg_get_type(imsg));
}

/* A (new) channel to a sibling; the old one, if any, is gone. */
static void
proc_set_peer(struct imsg *imsg)
{
	struct privsep_fd	 pf;
	struct imsgev		*iev;
	int			 fd;

	if (imsg_get_data(imsg, &pf, sizeof(pf)) == -1)
		imsg_fatal_size(imsg, __func__);
	if ((fd = imsg_get_fd(imsg)) == -1)
		fatalx("%s: no descriptor", __func__);
	if (pf.procid <= PROC_PARENT || pf.procid >= PROC_MAX ||
	    pf.instance >= proc_ninstances[pf.procid])
		fatalx("%s: bad peer %u/%u", __func__, pf.procid,
		    pf.instance);
	iev = &proc_peers[pf.procid][pf.instance];
	if (iev->up)
		imsgev_clear(iev);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	imsgev_init(iev, fd, pf.procid, pf.instance, proc_dispatch, NULL);
	imsgev_add(iev);
	log_debug("%s: channel to %s[%u] up", __func__,
	    proc_title(pf.procid), pf.instance);
}

static void
proc_peer_lost(struct imsgev *iev)
{
	log_debug("%s: channel to %s[%u] closed", __func__,
	    proc_title(iev->procid), iev->instance);
	imsgev_clear(iev);
	if (proc_self->peer_down != NULL)
		proc_self->peer_down(iev->procid, iev->instance);
}

static void
proc_sig(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		event_loopexit(NULL);
		break;
	default:
		/* SIGHUP is the parent's business; SIGPIPE is ignored */
		break;
	}
}

/*
 * Stanzas and SIP messages are written once per event loop pass: waiting
 * for more (Nagle) would hold a small one behind the peer's delayed ACK.
 */
void
sock_nodelay(int s)
{
	int	 one = 1;

	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("%s: TCP_NODELAY", __func__);
}
