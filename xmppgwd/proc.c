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
#include <limits.h>
#include <poll.h>
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

static TAILQ_HEAD(, imsgev)	 imsgev_flushq =
				    TAILQ_HEAD_INITIALIZER(imsgev_flushq);
static const struct proc_role	*proc_self;
static struct imsgev		 proc_parent;
static struct imsgev		*proc_peers[PROC_MAX];
static unsigned int		 proc_ninstances[PROC_MAX];
static int			 proc_started;
static int			 proc_input_seen;
static struct timespec		 proc_input_at;
static struct timespec		 proc_zero;	/* the clock's origin */
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
static long long ts_ns(const struct timespec *, const struct timespec *);
static int	proc_nap(long long, long long);
static int	proc_answer(uint32_t);

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
	struct event_base	*base;

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

	base = event_init();
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
	/* from here on, only the system calls the role needs */
	sandbox_filter(role->id);
	/* messages that arrived with the setup are already buffered */
	proc_dispatch(PROC_PARENT_FD, 0, &proc_parent);

	proc_loop(base, role->paced ? PROC_PACE_US : 0);
	if (role->shutdown != NULL)
		role->shutdown();
	log_debug("%s: exiting", __func__);
	exit(0);
}

/*
 * The event loop of every process.  After each pass over what woke it,
 * the output it queued for the other processes leaves at once, usually
 * in one write per channel (imsgev_flush).
 *
 * Under load the children are paced: on a VM a wakeup costs several
 * times the work for a message, so a wakeup should carry a batch.  A
 * process calls proc_input when it takes input, from the network or
 * from a sibling.  When a pass that took input began less than pace_us
 * after the process started to wait, and was short, the process sends
 * what the pass produced and naps (proc_nap): until its next mark, the
 * next multiple of pace_us on the monotonic clock, or until a sibling
 * sends it work to pass on, whichever comes first; then it takes
 * everything that arrived meanwhile in one pass.  So a message waits
 * for the mark only in the process it enters by (tls from XMPP, sip
 * from SIP), at most pace_us, and each process it then crosses is
 * woken by the one before.  Answers about work done (a stanza written,
 * a SIP final response) do not end a nap: a channel that lately
 * carried only answers is not watched while the process naps, and they
 * are taken with the next batch.  A nap that work ended is followed by
 * one that ends at the mark after next, since the work comes at its own
 * rate.  Work ends two naps in a row at most, then one per quarter
 * interval: that bounds the passes when XMPP and SIP both carry load
 * and the batches of each direction wake the processes of the other.
 *
 * A process whose nap found nothing waiting naps again only once input
 * comes within half an interval of its waiting.  An idle process
 * answers at once.  A pass that took half the interval or more carried
 * a batch already and is not followed by a nap, so that a loaded
 * process keeps its full capacity.  The parent and dialback are not
 * paced (0).
 */
void
proc_loop(struct event_base *base, long pace_us)
{
	struct timespec	 start, now;
	long long	 waited, busy, mark, period = pace_us * 1000LL;
	int		 napped = 0, fruitless = 0, worked = 0;

	for (;;) {
		imsgev_flush();
		proc_input_seen = 0;
		if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
			fatal("%s: clock_gettime", __func__);
		if (event_base_loop(base, EVLOOP_ONCE) != 0 ||
		    event_base_got_exit(base))
			break;
		if (pace_us == 0)
			continue;
		if (napped) {
			/* was input waiting when the nap ended? */
			fruitless = !proc_input_seen ||
			    ts_ns(&proc_input_at, &start) >= period / 8;
			napped = 0;
		}
		if (!proc_input_seen)
			continue;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			fatal("%s: clock_gettime", __func__);
		waited = ts_ns(&now, &start);
		busy = ts_ns(&now, &proc_input_at);
		/* a pass that long carried a batch already: no nap */
		if (waited >= period || busy >= period / 2)
			continue;
		/* the last nap found nothing: nap only if input comes fast */
		if (fruitless && ts_ns(&proc_input_at, &start) >= period / 2)
			continue;
		/*
		 * What the pass queued leaves before the nap: to the other
		 * processes now, on sockets in one pass over what is ready
		 * (which may read more: that output leaves too).
		 */
		imsgev_flush();
		if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) != 0 ||
		    event_base_got_exit(base))
			break;
		/*
		 * What that pass read from the network came after the mark:
		 * it waits for the next one, as it would have unread, and
		 * does not wake a sibling a second time.  A process woken
		 * by work passes on what it has.
		 */
		if (worked)
			imsgev_flush();
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			fatal("%s: clock_gettime", __func__);
		if (ts_ns(&now, &start) >= period)
			continue;
		mark = (ts_ns(&now, &proc_zero) / period + 1 + worked) * period;
		worked = proc_nap(mark, period);
		napped = 1;
	}
}

/*
 * Nap until mark (ns on the monotonic clock), or until a sibling whose
 * channel carries work writes to it.  Work ends naps at most twice in a
 * row, then once a quarter interval (a virtual scheduling of the early
 * ends: tat is when the next is due).  Returns 1 if work ended the nap.
 */
static int
proc_nap(long long mark, long long period)
{
	static long long tat;
	struct pollfd	 pfd[PROC_MAX + XGW_PREFORK_MAX];
	struct timespec	 now, ts;
	struct imsgev	*iev;
	long long	 t;
	unsigned int	 i, j, n = 0;
	int		 r, worked = 0;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		fatal("%s: clock_gettime", __func__);
	t = ts_ns(&now, &proc_zero);
	if (t >= mark)
		return (0);
	/* the parent's channel ends a nap (a reload, a shutdown) */
	pfd[n].fd = proc_parent.ibuf.fd;
	pfd[n++].events = POLLIN;
	for (i = PROC_TLS; i < PROC_MAX; i++)
		for (j = 0; j < proc_ninstances[i]; j++) {
			iev = &proc_peers[i][j];
			if (!iev->up || n == nitems(pfd) ||
			    (t - iev->answer_ns < 2 * period &&
			    t - iev->work_ns >= 2 * period))
				continue;
			pfd[n].fd = iev->ibuf.fd;
			pfd[n++].events = POLLIN;
		}
	ts.tv_sec = (mark - t) / 1000000000LL;
	ts.tv_nsec = (mark - t) % 1000000000LL;
	/* a signal ends the nap early; it is handled next pass */
	if ((r = ppoll(pfd, n, &ts, NULL)) == -1 && errno != EINTR)
		fatal("%s: ppoll", __func__);
	for (i = 1; r > 0 && i < n; i++)
		if (pfd[i].revents != 0)
			worked = 1;
	if (worked) {
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			fatal("%s: clock_gettime", __func__);
		t = ts_ns(&now, &proc_zero);
		if (t < tat - period / 4) {
			ts.tv_sec = (tat - period / 4 - t) / 1000000000LL;
			ts.tv_nsec = (tat - period / 4 - t) % 1000000000LL;
			(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
			t = tat - period / 4;
		}
		tat = (tat > t ? tat : t) + period / 4;
	}
	return (worked);
}

/*
 * Messages that answer for work done, which can wait for the next pass;
 * all others carry work to pass on, or are rare.
 */
static int
proc_answer(uint32_t type)
{
	switch (type) {
	case IMSG_STANZA_SENT:
	case IMSG_SIP_RESULT:
	case IMSG_SIP_ANSWER:
	case IMSG_SIP_ANSWERED:
		return (1);
	default:
		return (0);
	}
}

/* b - a in ns */
static long long
ts_ns(const struct timespec *b, const struct timespec *a)
{
	return ((b->tv_sec - a->tv_sec) * 1000000000LL +
	    (b->tv_nsec - a->tv_nsec));
}

/* The pass took input: see proc_loop. */
void
proc_input(void)
{
	if (proc_input_seen)
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &proc_input_at) == -1)
		fatal("%s: clock_gettime", __func__);
	proc_input_seen = 1;
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
	iev->armed = 0;
	iev->flushing = 0;
	iev->up = 1;
	iev->work_ns = iev->answer_ns = LLONG_MIN / 2;
}

static void
imsgev_arm(struct imsgev *iev)
{
	if (iev->armed)
		return;
	event_set(&iev->ev, iev->ibuf.fd, EV_READ | EV_PERSIST, iev->handler,
	    iev);
	event_set(&iev->wev, iev->ibuf.fd, EV_WRITE, iev->handler, iev);
	event_add(&iev->ev, NULL);
	iev->armed = 1;
}

/*
 * After the handler or a compose: the channel stays readable, and what
 * is queued leaves at the end of the pass (imsgev_flush), together with
 * whatever else the pass queues for it.  No system call per message.
 */
void
imsgev_add(struct imsgev *iev)
{
	if (!iev->up)
		return;
	imsgev_arm(iev);
	if (imsgbuf_queuelen(&iev->ibuf) == 0 || iev->flushing ||
	    event_pending(&iev->wev, EV_WRITE, NULL))
		return;
	TAILQ_INSERT_TAIL(&imsgev_flushq, iev, flush_entry);
	iev->flushing = 1;
}

/*
 * Write what the pass queued, in as few writes per channel as it takes
 * (usually one).  A channel whose peer does not take it all, or whose
 * write fails, waits for writable: its handler then writes the rest or
 * sees the error and cleans up.
 */
void
imsgev_flush(void)
{
	struct imsgev	*iev;
	uint32_t	 left;
	int		 rc;

	while ((iev = TAILQ_FIRST(&imsgev_flushq)) != NULL) {
		TAILQ_REMOVE(&imsgev_flushq, iev, flush_entry);
		iev->flushing = 0;
		/* a write takes at most so many messages: on while it gains */
		do {
			left = imsgbuf_queuelen(&iev->ibuf);
			rc = imsgbuf_write(&iev->ibuf);
		} while (rc != -1 && imsgbuf_queuelen(&iev->ibuf) > 0 &&
		    imsgbuf_queuelen(&iev->ibuf) < left);
		if (rc == -1 || imsgbuf_queuelen(&iev->ibuf) > 0)
			event_add(&iev->wev, NULL);
	}
}

void
imsgev_clear(struct imsgev *iev)
{
	if (iev->armed) {
		event_del(&iev->ev);
		event_del(&iev->wev);
	}
	iev->armed = 0;
	if (iev->flushing)
		TAILQ_REMOVE(&imsgev_flushq, iev, flush_entry);
	iev->flushing = 0;
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
	size_t		 got = 0;
	int		 n, reads = 0;

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
	/* a paced process takes what is there, not one read per pass */
 again:
	if (event & EV_READ) {
		got = ibuf->rlen;
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
		got = ibuf->rlen - got;
		if (got > 0 && iev->procid != PROC_PARENT)
			proc_input();
	}
	for (;;) {
		if ((n = imsgbuf_get(ibuf, &imsg)) == -1)
			fatal("%s: bad message from %s", __func__,
			    proc_title(iev->procid));
		if (n == 0)
			break;
		if (iev->procid != PROC_PARENT) {
			if (proc_answer(imsg_get_type(&imsg)))
				iev->answer_ns = ts_ns(&proc_input_at,
				    &proc_zero);
			else
				iev->work_ns = ts_ns(&proc_input_at,
				    &proc_zero);
		}
		if (iev->procid == PROC_PARENT)
			proc_dispatch_parent(iev, &imsg);
		else if (proc_self->dispatch(iev, &imsg) == -1)
			fatalx("%s: unexpected imsg %u from %s", __func__,
			    imsg_get_type(&imsg), proc_title(iev->procid));
		imsg_free(&imsg);
		if (!iev->up)
			return;
	}
	if (got > 0 && ++reads < PROC_READS)
		goto again;
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
	/*
	 * The new channel can come before the old one's end is read: what
	 * waited on the dead sibling is answered now all the same.
	 */
	if (iev->up)
		proc_peer_lost(iev);
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
