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
 * xgwbench: drives xmppgwd from both sides and measures it.
 *
 * As the partner's XMPP server it opens authenticated s2s streams to the
 * gateway (STARTTLS, SASL EXTERNAL) and accepts the gateway's outbound
 * streams; as the enterprise SIP proxy it accepts the gateway's SIP
 * connection and answers every MESSAGE 200 at once, and it sends
 * MESSAGEs to the gateway's SIP listener.  Each message carries its run,
 * its sequence number and its send time (CLOCK_MONOTONIC, ns); the far
 * end records the latency.  The gateway's CPU time and context switches
 * are read from /proc of its parent and children before and after each
 * run.
 *
 * usage: xgwbench [options] run ...
 *	run: x2s|s2x:RATE|max:COUNT[:warm] | idle:STREAMS
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xgwbench.h"

#define MAXCONN		1100	/* idle:N takes at most 1000 */
#define MAXIDLE		1000
#define BATCH		256	/* messages composed per loop pass, at most */
#define GRACE_NS	(5ULL * 1000000000ULL)

struct opts	 opt = {
	.gw_addr = "127.0.0.20", .gw_xport = 5269, .gw_sport = 5060,
	.partner_addr = "127.0.0.10", .partner_port = 5269,
	.proxy_addr = "127.0.0.30", .proxy_port = 5060,
	.local_domain = "gw.test", .certdir = "certs",
	.streams = 8, .sipconns = 1, .window = 2000, .timeout = 60,
	.bodylen = 100, .gwpidfile = NULL,
};
struct run	*cur;

static struct conn	*conns[MAXCONN];
static int		 nconns;
static int		 gw_children;

#define MAXPROC		16

/* one process of the gateway */
struct pcpu {
	int		 pid;
	char		 role[16];	/* parent, tls, policy, ... */
	uint64_t	 run_ns;	/* on a CPU, /proc/PID/schedstat */
	uint64_t	 vcsw, ivcsw;	/* context switches: it slept, it
					 * was preempted */
};

struct cpu {
	uint64_t	 ns;		/* run_ns of all processes */
	int		 nproc;
	uint64_t	 pidsum;
	uint64_t	 rss_kib;	/* VmRSS, all processes */
	struct pcpu	 p[MAXPROC];
};

struct result {
	const char	*dir;
	char		 offered[16];
	uint32_t	 sent, delivered, errors, ok2xx, missing, dups;
	double		 rate;
	double		 p50, p99, t50, t99;	/* ms */
	double		 gw_us, tool_us;
	int		 nproc;
	int		 bad;
	struct pcpu	 p[MAXPROC];	/* each process over the run */
};

/* idle:N */
struct idle_result {
	int		 n;
	int		 up;		/* streams that came up */
	double		 secs;		/* until the last one was up */
	double		 cpu_ms;	/* the gateway's, per stream */
	uint64_t	 rss0, rss1;	/* KiB, before and with them */
	int		 bad;
};

static void	usage(void) __attribute__((__noreturn__));
static uint64_t	proc_rss(const char *);
static int	proc_stat(const char *, struct pcpu *);
static void	gw_cpu_delta(const struct cpu *, const struct cpu *,
		    struct pcpu *);

void
fatalx_(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "xgwbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
}

static void
buf_reserve(struct buf *b, size_t n)
{
	size_t	 ncap;
	char	*p;

	if (b->len + n <= b->cap)
		return;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + n <= b->cap)
			return;
	}
	ncap = b->cap ? b->cap : 65536;
	while (ncap < b->len + n)
		ncap *= 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		fatalx_("out of memory");
	b->data = p;
	b->cap = ncap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	buf_reserve(b, 512);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx_("vsnprintf");
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, n + 1);
		va_start(ap, fmt);
		(void)vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

struct conn *
conn_add(enum conn_kind kind, int fd)
{
	struct conn	*c;

	if (nconns >= MAXCONN)
		fatalx_("too many connections");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatalx_("out of memory");
	c->kind = kind;
	c->fd = fd;
	conns[nconns++] = c;
	return (c);
}

void
conn_kill(struct conn *c, const char *why)
{
	static const char *names[] = { "s2s listener", "gateway's s2s stream",
	    "s2s stream to the gateway", "SIP listener",
	    "gateway's SIP connection", "SIP connection to the gateway",
	    "idle s2s stream to the gateway" };

	if (c->dead)
		return;
	fprintf(stderr, "xgwbench: %s closed: %s\n", names[c->kind], why);
	c->dead = 1;
}

static void
conn_free(struct conn *c)
{
	if (c->tls != NULL) {
		tls_close(c->tls);
		tls_free(c->tls);
	}
	close(c->fd);
	free(c->in.data);
	free(c->out.data);
	free(c);
}

int
conn_starttls_client(struct conn *c, struct tls_config *cfg,
    const char *name)
{
	if ((c->tls = tls_client()) == NULL ||
	    tls_configure(c->tls, cfg) == -1 ||
	    tls_connect_socket(c->tls, c->fd, name) == -1)
		return (-1);
	c->handshaking = 1;
	c->want_out = 1;	/* poll says when the first step can go */
	c->in.off = c->in.len = 0;
	return (0);
}

int
conn_starttls_server(struct conn *c, struct tls *srv)
{
	if (tls_accept_socket(srv, &c->tls, c->fd) == -1)
		return (-1);
	c->handshaking = 1;
	c->want_out = 1;	/* poll says when the first step can go */
	c->in.off = c->in.len = 0;
	return (0);
}

static int
sockaddr_make(const char *addr, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return (inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -1);
}

int
tcp_connect(const char *addr, int port, const char *from)
{
	struct sockaddr_in	 sin;
	int			 s, one = 1, tries = 0;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatalx_("socket: %s", strerror(errno));
	if (from != NULL) {
		if (sockaddr_make(from, 0, &sin) == -1 ||
		    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			fatalx_("bind %s: %s", from, strerror(errno));
	}
	if (sockaddr_make(addr, port, &sin) == -1)
		fatalx_("bad address %s", addr);
	/* the gateway's parent may not have bound its listeners yet */
	while (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != ECONNREFUSED || ++tries > 500)
			fatalx_("connect %s:%d: %s", addr, port,
			    strerror(errno));
		usleep(20000);
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1)
		fatalx_("fcntl: %s", strerror(errno));
	return (s);
}

int
tcp_listen(const char *addr, int port)
{
	struct sockaddr_in	 sin;
	int			 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		fatalx_("socket: %s", strerror(errno));
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sockaddr_make(addr, port, &sin) == -1)
		fatalx_("bad address %s", addr);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 64) == -1)
		fatalx_("listen %s:%d: %s", addr, port, strerror(errno));
	return (s);
}

/* write what is buffered; a short write waits for POLLOUT */
static void
conn_flush(struct conn *c)
{
	ssize_t	 n;

	while (!c->dead && !c->handshaking && c->out.off < c->out.len) {
		if (c->tls != NULL) {
			n = tls_write(c->tls, c->out.data + c->out.off,
			    c->out.len - c->out.off);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				return;
			if (n == -1) {
				conn_kill(c, tls_error(c->tls));
				return;
			}
		} else {
			n = write(c->fd, c->out.data + c->out.off,
			    c->out.len - c->out.off);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				conn_kill(c, strerror(errno));
				return;
			}
		}
		buf_consume(&c->out, n);
	}
}

/* read all there is; 0 when something arrived */
static int
conn_fill(struct conn *c)
{
	ssize_t	 n;
	int	 got = 0, i;

	for (i = 0; i < 64 && !c->dead && !c->handshaking; i++) {
		buf_reserve(&c->in, 65536);
		if (c->tls != NULL) {
			n = tls_read(c->tls, c->in.data + c->in.len,
			    c->in.cap - c->in.len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				break;
			if (n == -1) {
				conn_kill(c, tls_error(c->tls));
				break;
			}
		} else {
			n = read(c->fd, c->in.data + c->in.len,
			    c->in.cap - c->in.len);
			if (n == -1) {
				if (errno != EAGAIN && errno != EINTR)
					conn_kill(c, strerror(errno));
				break;
			}
		}
		if (n == 0) {
			conn_kill(c, "end of file");
			break;
		}
		c->in.len += n;
		got = 1;
	}
	/*
	 * -q: ACK at once what the gateway sends, which a real partner's
	 * kernel does not; shows what delayed ACKs cost a sender that
	 * leaves Nagle on
	 */
	if (got && opt.quickack && (c->kind == K_XSINK || c->kind == K_SSINK))
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &got,
		    sizeof(got));
	return (got ? 0 : -1);
}

static void
conn_input(struct conn *c)
{
	if (c->kind == K_XSINK || c->kind == K_XLOAD || c->kind == K_XIDLE)
		xmpp_input(c);
	else
		sip_input(c);
}

static void
conn_handshake(struct conn *c)
{
	int	 r;

	r = tls_handshake(c->tls);
	c->want_out = r == TLS_WANT_POLLOUT;
	if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
		return;
	if (r == -1) {
		conn_kill(c, tls_error(c->tls));
		return;
	}
	c->handshaking = 0;
	xmpp_tls_done(c);
}

static void
conn_accept(struct conn *l)
{
	int	 s, one = 1;

	while ((s = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		conn_add(l->kind == K_XLISTEN ? K_XSINK : K_SSINK, s);
	}
}

/* one pass of the event loop */
static void
loop_once(int timeout_ms)
{
	static struct pollfd	 pfd[MAXCONN];
	struct conn	*c;
	int		 i, n;

	for (i = 0; i < nconns; i++) {
		c = conns[i];
		pfd[i].fd = c->fd;
		pfd[i].events = POLLIN;
		if ((c->handshaking && c->want_out) ||
		    (!c->handshaking && c->out.off < c->out.len))
			pfd[i].events |= POLLOUT;
		pfd[i].revents = 0;
	}
	n = nconns;
	if (poll(pfd, n, timeout_ms) == -1 && errno != EINTR)
		fatalx_("poll: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		c = conns[i];
		if (pfd[i].revents == 0 || c->dead)
			continue;
		if (c->kind == K_XLISTEN || c->kind == K_SLISTEN) {
			conn_accept(c);
			continue;
		}
		if (c->handshaking)
			conn_handshake(c);
		if (!c->handshaking && conn_fill(c) == 0)
			conn_input(c);
	}
	for (i = 0; i < nconns; i++)
		conn_flush(conns[i]);
	for (i = 0; i < nconns; i++) {
		if (!conns[i]->dead)
			continue;
		conn_free(conns[i]);
		conns[i--] = conns[--nconns];
	}
}

/* live connections of a kind (in a state, unless state is -1) */
int
conn_count(enum conn_kind kind, int state)
{
	int	 i, n = 0;

	for (i = 0; i < nconns; i++)
		if (conns[i]->kind == kind && !conns[i]->dead &&
		    (state == -1 || (!conns[i]->handshaking &&
		    conns[i]->state == state)))
			n++;
	return (n);
}

struct conn *
conn_next(enum conn_kind kind, int ready_state, int *rr)
{
	int	 i, j;

	for (j = 0; j < nconns; j++) {
		i = (*rr + j) % nconns;
		if (conns[i]->kind == kind && !conns[i]->dead &&
		    !conns[i]->handshaking && conns[i]->state == ready_state) {
			*rr = i + 1;
			return (conns[i]);
		}
	}
	return (NULL);
}

/*
 * Mark message seq of run id with bit, once: -1 (and counted) if it is
 * not a message of the current run that was sent, or was marked so
 * already.
 */
static int
record_mark(unsigned int id, uint32_t seq, uint8_t bit)
{
	if (cur == NULL || id != cur->id || seq >= cur->count ||
	    !(cur->mark[seq] & 0x80)) {
		if (cur != NULL)
			cur->stale++;
		return (-1);
	}
	if (cur->mark[seq] & bit) {
		cur->dups++;
		return (-1);
	}
	cur->mark[seq] |= bit;
	return (0);
}

/* the far end saw message seq of run id */
void
record_delivery(unsigned int id, uint32_t seq, uint64_t ts)
{
	uint64_t	 now = now_ns();

	if (record_mark(id, seq, M_DELIVERED) == -1)
		return;
	cur->delivered++;
	cur->lat[seq] = now - ts;
	cur->t_last = now;
}

void
record_error(unsigned int id, uint32_t seq)
{
	if (record_mark(id, seq, M_ERROR) == -1)
		return;
	cur->errors++;
	cur->t_last = now_ns();
}

/* S2X: the gateway's final response to MESSAGE seq */
void
record_final(unsigned int id, uint32_t seq, int code)
{
	uint64_t	 now = now_ns();

	if (record_mark(id, seq, M_FINAL) == -1)
		return;
	cur->finals++;
	cur->lat_txn[seq] = now - cur->t_sent[seq];
	if (code >= 200 && code < 300)
		cur->ok2xx++;
	else {
		cur->mark[seq] |= M_ERROR;
		cur->errors++;
	}
	cur->t_last = now;
}

/*
 * The CPU time of xmppgwd: its parent and every process whose parent it
 * is, each process's time on a CPU (/proc/PID/schedstat, ns: the same
 * total as utime + stime of /proc/PID/stat, without their rounding to
 * clock ticks) and its context switches.
 */
static void
gw_cpu(struct cpu *cpu)
{
	DIR		*d;
	struct dirent	*de;
	struct pcpu	*pc;
	char		 path[300], buf[1024], *p;
	int		 pid, ppid, fd;
	ssize_t		 n;

	memset(cpu, 0, sizeof(*cpu));
	if ((d = opendir("/proc")) == NULL)
		fatalx_("opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "/proc/%s/stat",
		    de->d_name) >= sizeof(path) ||
		    (fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		pid = atoi(buf);
		/* the command name may hold anything: skip past its ')' */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %d", &ppid) != 1)
			continue;
		if (pid != opt.gwpid && ppid != opt.gwpid)
			continue;
		if (cpu->nproc == MAXPROC)
			fatalx_("xmppgwd has more than %d processes", MAXPROC);
		pc = &cpu->p[cpu->nproc];
		pc->pid = pid;
		if (proc_stat(de->d_name, pc) == -1)
			continue;	/* it just exited */
		cpu->ns += pc->run_ns;
		cpu->nproc++;
		cpu->pidsum += pid;
		cpu->rss_kib += proc_rss(de->d_name);
	}
	closedir(d);
}

/*
 * Role (from the command line xmppgwd sets: "xmppgwd: ROLE ..."; the
 * parent's is its own), time on a CPU and context switches of PID.
 */
static int
proc_stat(const char *pid, struct pcpu *pc)
{
	FILE		*f;
	char		 path[300], line[256];
	unsigned long long v;
	ssize_t		 n;
	int		 fd;

	(void)strlcpy(pc->role, "parent", sizeof(pc->role));
	if ((size_t)snprintf(path, sizeof(path), "/proc/%s/cmdline", pid) <
	    sizeof(path) && (fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n > 0) {
			line[n] = '\0';
			if (sscanf(line, "xmppgwd: %15[a-z]", pc->role) != 1)
				(void)strlcpy(pc->role, "parent",
				    sizeof(pc->role));
		}
	}
	if ((size_t)snprintf(path, sizeof(path), "/proc/%s/schedstat", pid) >=
	    sizeof(path) || (f = fopen(path, "r")) == NULL)
		return (-1);
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return (-1);
	pc->run_ns = v;
	if ((size_t)snprintf(path, sizeof(path), "/proc/%s/status", pid) >=
	    sizeof(path) || (f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
			pc->vcsw = v;
		else if (sscanf(line, "nonvoluntary_ctxt_switches: %llu",
		    &v) == 1)
			pc->ivcsw = v;
	}
	fclose(f);
	return (0);
}

/* each process's share of c1 - c0, by pid, in the order of c1 */
static void
gw_cpu_delta(const struct cpu *c0, const struct cpu *c1, struct pcpu *d)
{
	int	 i, j;

	memset(d, 0, MAXPROC * sizeof(*d));
	for (i = 0; i < c1->nproc; i++) {
		d[i] = c1->p[i];
		for (j = 0; j < c0->nproc; j++)
			if (c0->p[j].pid == c1->p[i].pid)
				break;
		if (j == c0->nproc)
			continue;	/* new: all of it is this run's */
		d[i].run_ns -= c0->p[j].run_ns;
		d[i].vcsw -= c0->p[j].vcsw;
		d[i].ivcsw -= c0->p[j].ivcsw;
	}
}

/* VmRSS of /proc/PID/status, KiB; 0 if it cannot be read */
static uint64_t
proc_rss(const char *pid)
{
	FILE		*f;
	char		 path[300], line[256];
	uint64_t	 kib = 0;

	if ((size_t)snprintf(path, sizeof(path), "/proc/%s/status", pid) >=
	    sizeof(path) || (f = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return (kib);
}

static uint64_t
tool_cpu_us(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* p50 and p99 in ms of the values of the marked messages */
static void
percentiles(uint64_t *v, struct run *r, uint8_t want, double *p50,
    double *p99)
{
	uint64_t	*a;
	uint32_t	 i, n = 0;

	*p50 = *p99 = -1;
	if ((a = calloc(r->count ? r->count : 1, sizeof(*a))) == NULL)
		fatalx_("out of memory");
	for (i = 0; i < r->sent; i++)
		if ((r->mark[i] & want) == want && !(r->mark[i] & M_ERROR))
			a[n++] = v[i];
	if (n > 0) {
		qsort(a, n, sizeof(*a), cmp_u64);
		*p50 = a[(n - 1) * 50 / 100] / 1e6;
		*p99 = a[(n - 1) * 99 / 100] / 1e6;
	}
	free(a);
}

static int
run_complete(struct run *r, uint64_t now)
{
	if (r->sent < r->count)
		return (0);
	if (r->dir == D_X2S)
		return (r->delivered + r->errors >= r->count);
	if (r->finals < r->count)
		return (0);
	if (r->delivered >= r->ok2xx)
		return (1);
	/* every 200 came; the stanzas it vouches for may still be on the way */
	return (now - r->t_last > GRACE_NS);
}

static uint32_t
run_inflight(struct run *r)
{
	if (r->dir == D_X2S)
		return (r->sent - r->delivered - r->errors);
	return (r->sent - r->finals);
}

/* compose what the rate and the window allow */
static int
run_generate(struct run *r, uint64_t now)
{
	uint64_t	 due;
	uint32_t	 n, room, inflight, i;

	if (r->sent >= r->count)
		return (100);
	inflight = run_inflight(r);
	room = inflight < opt.window ? opt.window - inflight : 0;
	n = room;
	if (r->rate != 0) {
		due = (now - r->t_start) * r->rate / 1000000000ULL + 1;
		if (due > r->count)
			due = r->count;
		n = due > r->sent ? due - r->sent : 0;
		if (n > room)
			n = room;
	}
	if (n > r->count - r->sent)
		n = r->count - r->sent;
	if (n > BATCH)
		n = BATCH;
	for (i = 0; i < n; i++) {
		r->mark[r->sent] = 0x80;
		r->t_sent[r->sent] = now_ns();
		if (r->dir == D_X2S)
			xmpp_send(r->sent);
		else
			sip_send(r->sent);
		r->sent++;
	}
	if (r->rate != 0)
		return (1);
	return (n == BATCH ? 0 : room == 0 ? 100 : 0);
}

static void
run_one(struct run *r, struct result *res)
{
	struct cpu	 c0, c1;
	uint64_t	 u0, u1, now, deadline;
	uint32_t	 missing, i;
	double		 secs;
	int		 timeout;

	if ((r->mark = calloc(r->count, 1)) == NULL ||
	    (r->t_sent = calloc(r->count, sizeof(uint64_t))) == NULL ||
	    (r->lat = calloc(r->count, sizeof(uint64_t))) == NULL ||
	    (r->lat_txn = calloc(r->count, sizeof(uint64_t))) == NULL)
		fatalx_("out of memory");
	cur = r;
	gw_cpu(&c0);
	u0 = tool_cpu_us();
	r->t_start = now_ns();
	deadline = r->t_start + (uint64_t)opt.timeout * 1000000000ULL;
	for (;;) {
		now = now_ns();
		if (run_complete(r, now) || now > deadline)
			break;
		timeout = run_generate(r, now);
		for (i = 0; i < (uint32_t)nconns; i++)
			conn_flush(conns[i]);
		loop_once(timeout);
		if (conn_count(K_SSINK, -1) == 0 || conn_count(K_XLOAD, -1) <
		    opt.streams || conn_count(K_SLOAD, -1) < opt.sipconns)
			fatalx_("a connection to or from the gateway was lost");
	}
	u1 = tool_cpu_us();
	gw_cpu(&c1);
	cur = NULL;

	/* sent, and neither delivered nor answered with an error */
	missing = 0;
	for (i = 0; i < r->sent; i++) {
		if (r->dir == D_X2S && !(r->mark[i] & (M_DELIVERED | M_ERROR)))
			missing++;
		if (r->dir == D_S2X && (!(r->mark[i] & M_FINAL) ||
		    ((r->mark[i] & (M_FINAL | M_ERROR)) == M_FINAL &&
		    !(r->mark[i] & M_DELIVERED))))
			missing++;
	}
	if (r->sent < r->count)
		fprintf(stderr, "xgwbench: the run timed out after %d s with "
		    "%u of %u messages sent\n", opt.timeout, r->sent,
		    r->count);
	secs = (r->t_last > r->t_start ? r->t_last - r->t_start : 1) / 1e9;
	memset(res, 0, sizeof(*res));
	res->dir = r->dir == D_X2S ? "XMPP->SIP" : "SIP->XMPP";
	if (r->rate)
		snprintf(res->offered, sizeof(res->offered), "%u/s", r->rate);
	else
		snprintf(res->offered, sizeof(res->offered), "max(w%u)",
		    opt.window);
	res->sent = r->sent;
	res->delivered = r->delivered;
	res->errors = r->errors;
	res->ok2xx = r->ok2xx;
	res->missing = missing;
	res->dups = r->dups;
	res->rate = (r->dir == D_X2S ? r->delivered : r->ok2xx) / secs;
	percentiles(r->lat, r, M_DELIVERED, &res->p50, &res->p99);
	res->t50 = res->t99 = -1;
	if (r->dir == D_S2X)
		percentiles(r->lat_txn, r, M_FINAL, &res->t50, &res->t99);
	res->gw_us = r->sent ? (double)(c1.ns - c0.ns) / 1e3 / r->sent : 0;
	gw_cpu_delta(&c0, &c1, res->p);
	res->tool_us = r->sent ? (double)(u1 - u0) / r->sent : 0;
	res->nproc = c1.nproc;
	/* every peer accepts everything: an error is the gateway's refusal */
	res->bad = missing != 0 || r->dups != 0 || r->errors != 0 ||
	    r->sent < r->count || c0.pidsum != c1.pidsum ||
	    c1.nproc != gw_children;
	if (c0.pidsum != c1.pidsum || c1.nproc != gw_children)
		fprintf(stderr, "xgwbench: the gateway's processes changed "
		    "during the run (%d -> %d)\n", c0.nproc, c1.nproc);
	if (r->stale)
		fprintf(stderr, "xgwbench: %u messages of earlier runs "
		    "arrived late\n", r->stale);
	free(r->mark);
	free(r->t_sent);
	free(r->lat);
	free(r->lat_txn);
}

/*
 * idle:N: open N more s2s streams to the gateway at once, each negotiated
 * like the load streams (TCP, STARTTLS, SASL EXTERNAL).  Measures how
 * fast they come up and the gateway's CPU time for each, then, with
 * every one of them up and idle, the gateway's resident memory against
 * that before they were opened.  Then closes them.
 */
static void
run_idle(int n, struct idle_result *res)
{
	struct cpu	 c0, c1;
	uint64_t	 t0, deadline;
	int		 i;

	memset(res, 0, sizeof(*res));
	res->n = n;
	gw_cpu(&c0);
	t0 = now_ns();
	deadline = t0 + (uint64_t)opt.timeout * 1000000000ULL;
	xmpp_idle_open(n);
	while ((res->up = xmpp_idle_ready()) < n &&
	    conn_count(K_XIDLE, -1) == n && now_ns() < deadline)
		loop_once(100);
	res->secs = (now_ns() - t0) / 1e9;
	gw_cpu(&c1);
	res->cpu_ms = (double)(c1.ns - c0.ns) / 1e6 / n;
	res->rss0 = c0.rss_kib;
	res->rss1 = c1.rss_kib;
	res->bad = res->up < n || c0.pidsum != c1.pidsum ||
	    c1.nproc != gw_children;
	if (res->up < n)
		fprintf(stderr, "xgwbench: %d of %d idle streams came up\n",
		    res->up, n);
	for (i = 0; i < nconns; i++)
		if (conns[i]->kind == K_XIDLE)
			conns[i]->dead = 1;
	loop_once(0);
}

static void
print_idle(const struct idle_result *res)
{
	printf("s2s stream setup: %d streams opened at once (TCP, STARTTLS, "
	    "SASL EXTERNAL), %d up in %.2f s: %.0f streams/s, %.1f ms of "
	    "gateway CPU each%s\n", res->n, res->up, res->secs,
	    res->up / res->secs, res->cpu_ms, res->bad ? "  FAILED" : "");
	printf("idle authenticated s2s streams: gateway resident memory "
	    "%" PRIu64 " KiB, %" PRIu64 " KiB with %d more: %.1f KiB per "
	    "stream\n", res->rss0, res->rss1, res->up, res->up ?
	    ((double)res->rss1 - (double)res->rss0) / res->up : 0);
	fflush(stdout);
}

/* -g @FILE: the gateway was started after us; its pid is there now */
static void
gw_readpid(void)
{
	FILE	*f;

	if ((f = fopen(opt.gwpidfile, "r")) == NULL ||
	    fscanf(f, "%d", &opt.gwpid) != 1 || opt.gwpid <= 0)
		fatalx_("no pid in %s", opt.gwpidfile);
	fclose(f);
}

static void
print_ms(double v)
{
	if (v < 0)
		printf(" %7s", "-");
	else
		printf(" %7.2f", v);
}

static void
print_table(struct result *res, int n)
{
	int	 i, j;

	printf("%-9s %-9s %7s %7s %6s %7s %8s %7s %7s %7s %7s %8s %8s\n",
	    "direction", "offered", "sent", "deliv", "errors", "missing",
	    "msg/s", "p50 ms", "p99 ms", "200p50", "200p99", "gw us/m",
	    "tool us/m");
	for (i = 0; i < n; i++) {
		printf("%-9s %-9s %7u %7u %6u %7u %8.0f", res[i].dir,
		    res[i].offered, res[i].sent, res[i].delivered,
		    res[i].errors, res[i].missing, res[i].rate);
		print_ms(res[i].p50);
		print_ms(res[i].p99);
		print_ms(res[i].t50);
		print_ms(res[i].t99);
		printf(" %8.1f %8.1f%s\n", res[i].gw_us, res[i].tool_us,
		    res[i].bad ? "  FAILED" : "");
	}
	printf("each process, per message: us of CPU / times it slept "
	    "(woken later) / times it was preempted\n");
	for (i = 0; i < n; i++) {
		printf("%-9s %-9s", res[i].dir, res[i].offered);
		for (j = 0; j < res[i].nproc && res[i].sent > 0; j++)
			printf("  %s %.1f/%.3f/%.3f", res[i].p[j].role,
			    res[i].p[j].run_ns / 1e3 / res[i].sent,
			    (double)res[i].p[j].vcsw / res[i].sent,
			    (double)res[i].p[j].ivcsw / res[i].sent);
		printf("\n");
	}
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: xgwbench -g gwpid|@pidfile -P nprocs [-b bodylen] "
	    "[-C certdir] [-c sipconns]\n\t[-D domain,...] [-n streams] [-q] "
	    "[-T timeout] [-w window] run ...\n"
	    "run: x2s|s2x:RATE|max:COUNT[:warm] | idle:STREAMS\n");
	exit(2);
}

static void
parse_domains(char *s)
{
	char	*d;

	opt.ndomains = 0;
	while ((d = strsep(&s, ",")) != NULL) {
		if (*d == '\0')
			continue;
		if (opt.ndomains == MAXDOMAINS)
			fatalx_("too many domains");
		opt.domains[opt.ndomains++] = d;
	}
}

static int
parse_run(const char *arg, struct run *r, int *warm)
{
	char	*spec, *dir, *rate, *count, *w;

	memset(r, 0, sizeof(*r));
	if ((spec = strdup(arg)) == NULL)
		fatalx_("out of memory");
	dir = strsep(&spec, ":");
	rate = strsep(&spec, ":");
	count = strsep(&spec, ":");
	w = strsep(&spec, ":");
	if (dir == NULL || rate == NULL || count == NULL ||
	    (strcmp(dir, "x2s") != 0 && strcmp(dir, "s2x") != 0)) {
		free(spec);
		return (-1);
	}
	r->dir = strcmp(dir, "x2s") == 0 ? D_X2S : D_S2X;
	r->rate = strcmp(rate, "max") == 0 ? 0 : strtoul(rate, NULL, 10);
	r->count = strtoul(count, NULL, 10);
	*warm = w != NULL && strcmp(w, "warm") == 0;
	free(spec);
	return (r->count == 0 ? -1 : 0);
}

/* connect both ways and wait until every stream is authenticated */
static void
setup(void)
{
	struct cpu	 c;
	uint64_t	 deadline;
	int		 i;

	conn_add(K_XLISTEN, tcp_listen(opt.partner_addr, opt.partner_port));
	conn_add(K_SLISTEN, tcp_listen(opt.proxy_addr, opt.proxy_port));
	/* the gateway connects to its proxy as soon as its sip process runs */
	deadline = now_ns() + 60ULL * 1000000000ULL;
	while (conn_count(K_SSINK, -1) == 0) {
		if (now_ns() > deadline)
			fatalx_("the gateway did not connect to the SIP proxy");
		loop_once(100);
	}
	if (opt.gwpidfile != NULL)
		gw_readpid();
	/* every process of the gateway is there before any is measured */
	for (;;) {
		gw_cpu(&c);
		if (c.nproc == gw_children)
			break;
		if (now_ns() > deadline)
			fatalx_("xmppgwd (pid %d) has %d processes, not %d",
			    opt.gwpid, c.nproc, gw_children);
		loop_once(50);
	}
	xmpp_init();
	for (i = 0; i < opt.sipconns; i++)
		conn_add(K_SLOAD, tcp_connect(opt.gw_addr, opt.gw_sport,
		    opt.proxy_addr));
	deadline = now_ns() + 30ULL * 1000000000ULL;
	while (!xmpp_ready() || !sip_ready()) {
		if (now_ns() > deadline)
			fatalx_("the s2s streams to the gateway did not come "
			    "up");
		loop_once(100);
	}
}

int
main(int argc, char *argv[])
{
	struct result		*res;
	struct run		 r;
	struct idle_result	 idle;
	struct rlimit		 rl;
	int			 ch, i, n, nres = 0, warm, bad = 0;

	while ((ch = getopt(argc, argv, "b:C:c:D:g:n:P:qT:w:")) != -1) {
		switch (ch) {
		case 'b':
			opt.bodylen = strtoul(optarg, NULL, 10);
			break;
		case 'C':
			opt.certdir = optarg;
			break;
		case 'c':
			opt.sipconns = atoi(optarg);
			break;
		case 'D':
			parse_domains(optarg);
			break;
		case 'g':
			if (optarg[0] == '@')
				opt.gwpidfile = optarg + 1;
			else
				opt.gwpid = atoi(optarg);
			break;
		case 'n':
			opt.streams = atoi(optarg);
			break;
		case 'P':
			gw_children = atoi(optarg);
			break;
		case 'q':
			opt.quickack = 1;
			break;
		case 'T':
			opt.timeout = atoi(optarg);
			break;
		case 'w':
			opt.window = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (opt.gwpid <= 0 && opt.gwpidfile == NULL) || gw_children <= 0 ||
	    opt.ndomains == 0 || opt.streams < 1 || opt.sipconns < 1 ||
	    opt.window < 1 || opt.bodylen < 40 || opt.bodylen > 4000)
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* idle:N needs a descriptor for each stream */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MAXCONN + 16) {
		rl.rlim_cur = rl.rlim_max < MAXCONN + 16 ? rl.rlim_max :
		    MAXCONN + 16;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&idle, 0, sizeof(idle));
	if ((res = calloc(argc, sizeof(*res))) == NULL)
		fatalx_("out of memory");
	setup();
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "idle:", 5) == 0) {
			n = atoi(argv[i] + 5);
			if (n < 1 || n > MAXIDLE)
				usage();
			run_idle(n, &idle);
			bad |= idle.bad;
			continue;
		}
		if (parse_run(argv[i], &r, &warm) == -1)
			usage();
		r.id = i + 1;
		run_one(&r, &res[nres]);
		if (res[nres].bad) {
			bad = 1;
			fprintf(stderr, "xgwbench: run %s FAILED: %u of %u sent "
			    "messages missing, %u duplicated, %u errors\n",
			    argv[i], res[nres].missing, res[nres].sent,
			    res[nres].dups, res[nres].errors);
		}
		if (!warm || res[nres].bad)
			nres++;
	}
	print_table(res, nres);
	if (idle.n > 0)
		print_idle(&idle);
	return (bad);
}
