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
 * xmppgwd: main() and the privileged parent.  The parent parses the
 * configuration, binds the sockets, reads the files, spawns the children
 * by fork and re-exec, hands each its channels and configuration, and
 * supervises them.  After start it speaks to nothing but its children.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "xml.h"

struct child {
	enum privsep_procid	 id;
	unsigned int		 instance;
	pid_t			 pid;		/* 0: not running */
	time_t			 started;
	unsigned int		 restarts;
	time_t			 restart_at[XGW_RESTART_MAX];
	struct imsgev		 iev;
	uint32_t		 acked;		/* last IMSG_CFG_DONE seq */
	int			 serving;	/* IMSG_CTL_START sent */
};

static struct child	*children;
static unsigned int	 nchildren;
static struct xgw_config *conf;
static const char	*conffile = XMPPGWD_CONF;
static int		 debug, verbose;
static uid_t		 run_uid;
static gid_t		 run_gid;
static int		 control_fd = -1;
static uint32_t		 cfg_seq;	/* of the latest distribution */
static uint32_t		 generation;
static time_t		 loaded_at, parent_started;
static int		 all_serving, quitting;
static struct {
	int		 pending;
	int		 from_ctl;
	uint32_t	 peerid;
	char		*warnings;
} reload;

static struct event	 ev_sigterm, ev_sigint, ev_sighup, ev_sigchld;
static struct event	 ev_sigpipe;
static struct event	 ev_resolve;

/* what the lookup process of the SIP proxy's name sends back */
struct sip_lookup_answer {
	uint32_t		 naddrs;
	struct sockaddr_storage	 addrs[XGW_SIP_ADDRS_MAX];
	char			 err[XGW_NAME_MAX + 256];
};
static struct {
	pid_t				 pid;	/* 0: none running */
	int				 fd;
	struct event			 ev;
	struct event			 timeout;
	struct sip_lookup_answer	 ans;
	size_t				 len;
	int				 warned;
	char				 name[XGW_NAME_MAX];
	in_port_t			 port;
} lookup = { .fd = -1 };

static __attribute__((__noreturn__)) void usage(void);
static void	parent_mkparents(const char *);
static void	parent_setup_dirs(void);
static void	parent_bind(struct xgw_listen *, const char *);
static void	parent_bind_all(struct xgw_config *);
static int	parent_control_init(const char *);
static void	parent_sig(int, short, void *);
static void	parent_reap(void);
static void	parent_shutdown(int);
static void	parent_configure(void);
static void	parent_check_done(void);
static void	parent_reload(uint32_t, int);
static void	parent_sip_resolve(struct xgw_config *, struct xgw_config *);
static void	parent_sip_retry(int, short, void *);
static void	parent_sip_keep(struct xgw_config *, struct xgw_config *);
static void	parent_lookup_start(struct xgw_sip *);
static __attribute__((__noreturn__)) void parent_lookup_child(
		    struct xgw_sip *, int);
static void	parent_lookup_read(int, short, void *);
static void	parent_lookup_stop(int);
static void	parent_lookup_done(struct sip_lookup_answer *);
static void	parent_lookup_timeout(int, short, void *);
static int	parent_conf_changed(struct xgw_config *, struct xgw_config *,
		    const char **);
static void	parent_dispatch_child(int, short, void *);
static void	parent_ctl_status(struct child *, uint32_t);
static void	parent_ctl_verbose(struct child *, struct imsg *);
static void	parent_ctl_reply(uint32_t, int, const char *);
static void	child_spawn(struct child *);
static void	child_connect(struct child *, struct child *);
static void	child_connect_all(struct child *);
static void	child_lost(struct child *, int);
static const struct proc_role *role_byname(const char *);

static __attribute__((__noreturn__)) void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file]\n",
	    __progname);
	exit(1);
}

static const struct proc_role *
role_byname(const char *name)
{
	switch (proc_byname(name)) {
	case PROC_TLS:
		return (&tls_role);
	case PROC_DIALBACK:
		return (&dialback_role);
	case PROC_POLICY:
		return (&policy_role);
	case PROC_SIP:
		return (&sip_role);
	default:
		return (NULL);
	}
}

int
main(int argc, char *argv[], char *envp[])
{
	struct event_base	*base;
	const struct proc_role	*role = NULL;
	const char		*errstr;
	struct passwd		*pw;
	unsigned int		 i, instance = 0;
	int			 ch, opts = 0;
	char			 xmlinfo[160];

	setproctitle_init(argc, argv, envp);
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "D:df:I:nP:v")) != -1) {
		switch (ch) {
		case 'D':
			if (cmdline_symset(optarg) < 0)
				log_warnx("could not parse macro definition %s",
				    optarg);
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'I':
			instance = strtonum(optarg, 0, XGW_PREFORK_MAX - 1,
			    &errstr);
			if (errstr != NULL)
				fatalx("instance is %s: %s", errstr, optarg);
			break;
		case 'n':
			opts |= XGW_OPT_NOACTION;
			break;
		case 'P':
			if ((role = role_byname(optarg)) == NULL)
				fatalx("unknown process %s", optarg);
			break;
		case 'v':
			verbose++;
			opts |= XGW_OPT_VERBOSE;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc > 0)
		usage();

	if (role != NULL) {
		/* a child, re-exec'd by the parent */
		log_init(debug, LOG_DAEMON);
		log_setverbose(verbose);
		proc_child(role, instance);
	}

	if ((conf = parse_config(conffile, opts)) == NULL)
		exit(1);
	if (opts & XGW_OPT_NOACTION) {
		if (opts & XGW_OPT_VERBOSE)
			print_config(stdout, conf);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}

	if (geteuid() != 0)
		fatalx("need root privileges");
	/* reloads re-read it after daemon(3) has changed to / */
	if ((conffile = realpath(conffile, NULL)) == NULL)
		fatal("realpath");
	if ((pw = getpwnam(conf->user)) == NULL)
		fatalx("unknown user %s: create it (make install does)",
		    conf->user);
	run_uid = pw->pw_uid;
	run_gid = pw->pw_gid;
	if (run_uid == 0 || run_gid == 0)
		fatalx("user %s must not be root or in group root",
		    conf->user);
	parent_setup_dirs();
	/* first: a running instance is the likeliest reason binds fail */
	control_fd = parent_control_init(conf->socket);
	parent_bind_all(conf);

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	setproctitle("parent");
	log_procinit("parent");
	parent_started = loaded_at = time(NULL);
	generation = 1;

	nchildren = conf->prefork + 3;
	if ((children = calloc(nchildren, sizeof(*children))) == NULL)
		fatal("calloc");
	for (i = 0; i < conf->prefork; i++) {
		children[i].id = PROC_TLS;
		children[i].instance = i;
	}
	children[i++].id = PROC_DIALBACK;
	children[i++].id = PROC_POLICY;
	children[i++].id = PROC_SIP;

	base = event_init();
	signal_set(&ev_sigterm, SIGTERM, parent_sig, NULL);
	signal_set(&ev_sigint, SIGINT, parent_sig, NULL);
	signal_set(&ev_sighup, SIGHUP, parent_sig, NULL);
	signal_set(&ev_sigchld, SIGCHLD, parent_sig, NULL);
	signal_set(&ev_sigpipe, SIGPIPE, parent_sig, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sighup, NULL);
	signal_add(&ev_sigchld, NULL);
	signal_add(&ev_sigpipe, NULL);
	evtimer_set(&ev_resolve, parent_sip_retry, NULL);
	evtimer_set(&lookup.timeout, parent_lookup_timeout, NULL);
	parent_sip_resolve(conf, NULL);

	for (i = 0; i < nchildren; i++)
		child_spawn(&children[i]);
	for (i = 0; i < nchildren; i++)
		child_connect_all(&children[i]);
	parent_configure();
	log_info("startup: %u processes, configuration %s", nchildren,
	    conffile);
	/* the tls processes parse what partners send with it */
	if (xml_expat_check(xmlinfo, sizeof(xmlinfo)) == 0)
		log_info("startup: %s", xmlinfo);
	else
		log_warnx("startup: %s: upgrade libexpat1 for its security "
		    "fixes", xmlinfo);

	proc_loop(base, 0);
	parent_shutdown(0);
	return (0);
}

/*
 * The chroot directory must be root's and not writable by anyone else
 * (a writable chroot lets the confined process plant files); the state
 * directory belongs to the unprivileged user.  Create them if missing.
 */
/* mkdir -p of the directories above path, root's and 0755 */
static void
parent_mkparents(const char *path)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("path too long: %s", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", buf);
		*p = '/';
	}
}

static void
parent_setup_dirs(void)
{
	struct stat	 st;

	parent_mkparents(conf->chroot);
	parent_mkparents(conf->statedir);
	if (mkdir(conf->chroot, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->chroot);
	if (stat(conf->chroot, &st) == -1)
		fatal("stat %s", conf->chroot);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("chroot %s must be a directory owned by root and "
		    "writable by nobody else", conf->chroot);

	if (mkdir(conf->statedir, 0700) == -1) {
		if (errno != EEXIST)
			fatal("mkdir %s", conf->statedir);
	} else if (chown(conf->statedir, run_uid, run_gid) == -1)
		fatal("chown %s", conf->statedir);
	if (stat(conf->statedir, &st) == -1)
		fatal("stat %s", conf->statedir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != run_uid)
		fatalx("state directory %s must be a directory owned by %s",
		    conf->statedir, conf->user);
}

static void
parent_bind(struct xgw_listen *l, const char *what)
{
	char		 addr[128];
	socklen_t	 len;
	int		 fd, on = 1;

	config_sockaddr(&l->ss, addr, sizeof(addr));
	if ((fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		fatal("%s listen on %s: socket", what, addr);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		fatal("%s listen on %s: SO_REUSEADDR", what, addr);
	if (l->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("%s listen on %s: IPV6_V6ONLY", what, addr);
	len = l->ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (bind(fd, (struct sockaddr *)&l->ss, len) == -1)
		fatal("%s listen on %s", what, addr);
	if (listen(fd, 128) == -1)
		fatal("%s listen on %s: listen", what, addr);
	l->fd = fd;
}

static void
parent_bind_all(struct xgw_config *c)
{
	struct xgw_listen	*l;

	TAILQ_FOREACH(l, &c->listens, entry)
		parent_bind(l, "s2s");
	TAILQ_FOREACH(l, &c->sip.listens, entry)
		parent_bind(l, "sip");
}

static int
parent_control_init(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old_umask;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("control socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("control socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("control socket %s is in use: is xmppgwd running "
		    "already?", path);
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("control socket");
	old_umask = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	(void)umask(old_umask);
	/* anyone in the daemon's group may ask; only root may change */
	if (chmod(path, 0660) == -1 || chown(path, 0, run_gid) == -1)
		fatal("chmod/chown %s", path);
	if (listen(fd, 16) == -1)
		fatal("listen %s", path);
	return (fd);
}

static void
parent_sig(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("received signal %d, stopping", sig);
		parent_shutdown(0);
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading configuration");
		parent_reload(0, 0);
		break;
	case SIGCHLD:
		parent_reap();
		break;
	default:
		break;
	}
}

static void
parent_reap(void)
{
	struct child	*c;
	unsigned int	 i;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == lookup.pid) {
			/* its answer (or EOF) is read from the pipe */
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				log_warnx("sip proxy lookup process (pid %d) "
				    "failed", pid);
			lookup.pid = 0;
			continue;
		}
		for (i = 0, c = NULL; i < nchildren; i++)
			if (children[i].pid == pid)
				c = &children[i];
		if (c == NULL)
			continue;
		child_lost(c, status);
	}
}

/*
 * A child died.  Restart it with the current configuration unless one
 * process keeps dying: XGW_RESTART_MAX restarts within
 * XGW_RESTART_WINDOW seconds stop the daemon, as a crash loop would
 * otherwise hide behind the restarts.
 */
static void
child_lost(struct child *c, int status)
{
	time_t		 now = time(NULL);
	unsigned int	 i, recent = 0;

	if (WIFSIGNALED(status))
		log_warnx("lost child: %s[%u] (pid %d) killed by signal %d%s",
		    proc_title(c->id), c->instance, c->pid,
		    WTERMSIG(status), WTERMSIG(status) == SIGSYS ?
		    " (a system call its seccomp filter forbids: the "
		    "kernel's audit log names it)" : "");
	else
		log_warnx("lost child: %s[%u] (pid %d) exited with status %d",
		    proc_title(c->id), c->instance, c->pid,
		    WEXITSTATUS(status));
	c->pid = 0;
	if (c->iev.up)
		imsgev_clear(&c->iev);
	if (quitting)
		return;

	for (i = 0; i < XGW_RESTART_MAX; i++)
		if (c->restart_at[i] != 0 &&
		    now - c->restart_at[i] < XGW_RESTART_WINDOW)
			recent++;
	if (recent >= XGW_RESTART_MAX) {
		log_warnx("too many restarts of %s: %u within %d seconds, "
		    "stopping", proc_title(c->id), recent,
		    XGW_RESTART_WINDOW);
		parent_shutdown(1);
	}
	c->restart_at[c->restarts % XGW_RESTART_MAX] = now;
	c->restarts++;
	c->serving = 0;
	child_spawn(c);
	child_connect_all(c);
	config_set(&c->iev, conf, c->id, cfg_seq);
	log_info("restarted %s[%u] as pid %d", proc_title(c->id),
	    c->instance, c->pid);
}

static void
child_spawn(struct child *c)
{
	struct privsep_setup	 ps;
	char			*argv[16], inst[16], title[CTL_ROLE_MAX];
	int			 sp[2], argc = 0, i;
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("%s: socketpair", __func__);
	switch ((pid = fork())) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		/* fd 3 is the channel; nothing else survives the exec */
		if (sp[1] == PROC_PARENT_FD) {
			if (fcntl(sp[1], F_SETFD, 0) == -1)
				_exit(1);
		} else if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(1);
		closefrom(PROC_PARENT_FD + 1);
		snprintf(inst, sizeof(inst), "%u", c->instance);
		(void)strlcpy(title, proc_title(c->id), sizeof(title));
		argv[argc++] = "xmppgwd";
		argv[argc++] = "-P";
		argv[argc++] = title;
		argv[argc++] = "-I";
		argv[argc++] = inst;
		if (debug)
			argv[argc++] = "-d";
		for (i = 0; i < verbose && i < 4; i++)
			argv[argc++] = "-v";
		argv[argc] = NULL;
		/* the same binary as ours, even if the file was replaced */
		execv("/proc/self/exe", argv);
		fprintf(stderr, "xmppgwd: exec /proc/self/exe: %s\n",
		    strerror(errno));
		_exit(1);
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	c->pid = pid;
	c->started = time(NULL);
	c->acked = 0;
	imsgev_init(&c->iev, sp[0], c->id, c->instance,
	    parent_dispatch_child, c);
	/* sockets go down this channel, never up it */
	imsgbuf_allow_fdpass(&c->iev.ibuf);

	memset(&ps, 0, sizeof(ps));
	ps.uid = run_uid;
	ps.gid = run_gid;
	ps.prefork = conf->prefork;
	ps.verbose = log_getverbose();
	/* policy lives in its state directory, the others in an empty one */
	(void)strlcpy(ps.chroot, c->id == PROC_POLICY ? conf->statedir :
	    conf->chroot, sizeof(ps.chroot));
	if (imsgev_compose(&c->iev, IMSG_PRIVSEP, 0, -1, &ps, sizeof(ps))
	    == -1)
		fatal("%s: compose", __func__);
	if (c->id == PROC_POLICY) {
		int	fd;

		if ((fd = dup(control_fd)) == -1)
			fatal("%s: dup", __func__);
		if (imsgev_compose(&c->iev, IMSG_CFG_CONTROL, 0, fd, NULL, 0)
		    == -1)
			fatal("%s: compose", __func__);
	}
}

/* Give a and b a socketpair to talk over. */
static void
child_connect(struct child *a, struct child *b)
{
	struct privsep_fd	 pf;
	int			 sp[2];

	if (a->id == PROC_TLS && b->id == PROC_TLS)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("%s: socketpair", __func__);
	pf.procid = b->id;
	pf.instance = b->instance;
	if (imsgev_compose(&a->iev, IMSG_PROCFD, 0, sp[0], &pf, sizeof(pf))
	    == -1)
		fatal("%s: compose", __func__);
	pf.procid = a->id;
	pf.instance = a->instance;
	if (imsgev_compose(&b->iev, IMSG_PROCFD, 0, sp[1], &pf, sizeof(pf))
	    == -1)
		fatal("%s: compose", __func__);
}

/*
 * At start each pair is connected once (a before b); after a restart
 * the new process is connected to every running sibling.
 */
static void
child_connect_all(struct child *c)
{
	unsigned int	 i;

	for (i = 0; i < nchildren; i++) {
		if (&children[i] == c || children[i].pid == 0)
			continue;
		if (!all_serving && cfg_seq == 0 && &children[i] < c)
			continue;
		child_connect(c, &children[i]);
	}
}

/* Distribute the current configuration to every child. */
static void
parent_configure(void)
{
	unsigned int	 i;

	cfg_seq++;
	for (i = 0; i < nchildren; i++)
		if (children[i].pid != 0)
			config_set(&children[i].iev, conf, children[i].id,
			    cfg_seq);
}

/* The done barrier: every running child runs the latest config. */
static void
parent_check_done(void)
{
	unsigned int	 i;
	char		*msg;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid == 0 || children[i].acked != cfg_seq)
			return;
	for (i = 0; i < nchildren; i++) {
		if (children[i].serving)
			continue;
		imsgev_compose(&children[i].iev, IMSG_CTL_START, 0, -1,
		    NULL, 0);
		children[i].serving = 1;
	}
	if (!all_serving)
		log_info("all processes configured, serving");
	all_serving = 1;
	if (!reload.pending)
		return;
	generation++;
	loaded_at = time(NULL);
	log_info("reload: configuration generation %u loaded", generation);
	if (reload.from_ctl) {
		if (asprintf(&msg, "configuration generation %u loaded%s%s",
		    generation, reload.warnings ? "\n" : "",
		    reload.warnings ? reload.warnings : "") == -1)
			fatal("asprintf");
		parent_ctl_reply(reload.peerid, IMSG_CTL_OK, msg);
		free(msg);
	}
	free(reload.warnings);
	memset(&reload, 0, sizeof(reload));
}

/*
 * Re-read the configuration.  A configuration with errors, or one that
 * changes what only a restart can change, is refused and the running one
 * stays; the reason goes to the log and to xmppgwctl.
 */
static void
parent_reload(uint32_t peerid, int from_ctl)
{
	struct xgw_config	*nconf;
	struct xgw_listen	*lo, *ln;
	const char		*why;
	char			*msgs = NULL, *reply, *line, *next;

	if (reload.pending) {
		log_warnx("reload: a reload is already in progress");
		if (from_ctl)
			parent_ctl_reply(peerid, IMSG_CTL_FAIL,
			    "a reload is already in progress");
		return;
	}
	config_msg_capture(&msgs);
	nconf = parse_config(conffile, 0);
	config_msg_capture(NULL);
	for (line = msgs; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_warnx("reload: %s", line);
		if (next != NULL)
			next[-1] = '\n';
	}
	if (nconf != NULL && parent_conf_changed(conf, nconf, &why)) {
		config_free(nconf);
		nconf = NULL;
		log_warnx("reload: %s", why);
		if (asprintf(&reply, "%s%s\n", msgs ? msgs : "", why) == -1)
			fatal("asprintf");
		free(msgs);
		msgs = reply;
	}
	if (nconf == NULL) {
		log_warnx("reload: configuration file %s refused, "
		    "keeping the running configuration", conffile);
		if (from_ctl) {
			if (asprintf(&reply, "configuration file %s refused, "
			    "keeping generation %u:\n%s", conffile, generation,
			    msgs ? msgs : "") == -1)
				fatal("asprintf");
			parent_ctl_reply(peerid, IMSG_CTL_FAIL, reply);
			free(reply);
		}
		free(msgs);
		return;
	}

	parent_sip_resolve(nconf, conf);

	/* the bound sockets stay; the addresses are the same */
	for (lo = TAILQ_FIRST(&conf->listens), ln = TAILQ_FIRST(&nconf->listens);
	    lo != NULL && ln != NULL; lo = TAILQ_NEXT(lo, entry),
	    ln = TAILQ_NEXT(ln, entry)) {
		ln->fd = lo->fd;
		lo->fd = -1;
	}
	for (lo = TAILQ_FIRST(&conf->sip.listens),
	    ln = TAILQ_FIRST(&nconf->sip.listens); lo != NULL && ln != NULL;
	    lo = TAILQ_NEXT(lo, entry), ln = TAILQ_NEXT(ln, entry)) {
		ln->fd = lo->fd;
		lo->fd = -1;
	}
	config_free(conf);
	conf = nconf;
	reload.pending = 1;
	reload.from_ctl = from_ctl;
	reload.peerid = peerid;
	reload.warnings = msgs;
	parent_configure();
}

/*
 * The SIP proxy of c (an address, or a name to look up).  A name is
 * looked up by parent_lookup_start, in a process of its own, so that a
 * slow DNS never holds up the parent; its answer arrives in
 * parent_lookup_done.  Until then a proxy that is the same as in old
 * (the running configuration) keeps the addresses it had, so a reload
 * does not drop a working connection; a new one has none, and messages
 * for local users fail with 503 meanwhile.
 */
static void
parent_sip_resolve(struct xgw_config *c, struct xgw_config *old)
{
	char	 err[XGW_NAME_MAX + 256];

	/* the same name in flight: its answer goes to the running conf */
	if (lookup.fd != -1 && c->sip.configured &&
	    config_sip_is_name(&c->sip) &&
	    strcmp(lookup.name, c->sip.proxy) == 0 &&
	    lookup.port == c->sip.proxy_port) {
		parent_sip_keep(c, old);
		return;
	}
	evtimer_del(&ev_resolve);
	parent_lookup_stop(1);
	lookup.warned = 0;
	if (!c->sip.configured)
		return;
	if (!config_sip_is_name(&c->sip)) {
		/* an address: nothing to look up, nothing that can block */
		if (config_sip_resolve(&c->sip, err, sizeof(err)) == 0)
			log_warnx("%s:%d: %s", c->sip.proxy_file,
			    c->sip.proxy_line, err);
		return;
	}
	parent_sip_keep(c, old);
	parent_lookup_start(&c->sip);
}

/* the same proxy as in old: the addresses it had stay meanwhile */
static void
parent_sip_keep(struct xgw_config *c, struct xgw_config *old)
{
	if (old != NULL && old->sip.configured && old->sip.proxy_naddrs > 0 &&
	    strcmp(old->sip.proxy, c->sip.proxy) == 0 &&
	    old->sip.proxy_port == c->sip.proxy_port) {
		memcpy(c->sip.proxy_addrs, old->sip.proxy_addrs,
		    sizeof(c->sip.proxy_addrs));
		c->sip.proxy_naddrs = old->sip.proxy_naddrs;
	}
}

static void
parent_sip_retry(int fd, short event, void *arg)
{
	if (lookup.fd == -1 && conf->sip.configured &&
	    config_sip_is_name(&conf->sip))
		parent_lookup_start(&conf->sip);
}

/*
 * Fork the lookup: getaddrinfo(3) as the host has it configured
 * (/etc/hosts, DNS), as the unprivileged user, the answer on a pipe.
 */
static void
parent_lookup_start(struct xgw_sip *sip)
{
	struct timeval	 tv = { XGW_SIP_RESOLVE_RETRY, 0 };
	struct timeval	 limit = { XGW_SIP_LOOKUP_TIMEOUT, 0 };
	sigset_t	 all, old;
	int		 p[2];
	pid_t		 pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("sip proxy \"%s\": lookup: pipe", sip->proxy);
		evtimer_add(&ev_resolve, &tv);
		return;
	}
	/* no signal may reach our handlers in the child */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		parent_lookup_child(sip, p[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1) {
		log_warn("sip proxy \"%s\": lookup: fork", sip->proxy);
		close(p[0]);
		evtimer_add(&ev_resolve, &tv);
		return;
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	lookup.pid = pid;
	lookup.fd = p[0];
	lookup.len = 0;
	(void)strlcpy(lookup.name, sip->proxy, sizeof(lookup.name));
	lookup.port = sip->proxy_port;
	event_set(&lookup.ev, lookup.fd, EV_READ | EV_PERSIST,
	    parent_lookup_read, NULL);
	event_add(&lookup.ev, NULL);
	evtimer_add(&lookup.timeout, &limit);
}

static void
parent_lookup_child(struct xgw_sip *sip, int fd)
{
	struct sip_lookup_answer	 a;
	struct sigaction		 sa;
	sigset_t			 none;
	size_t				 off;
	ssize_t				 n;
	int				 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(fd, 3) == -1)
		_exit(1);
	closefrom(4);
	/* keys and secrets are in this memory: no ptrace, no core */
	if (setgroups(1, &run_gid) == -1 ||
	    setresgid(run_gid, run_gid, run_gid) == -1 ||
	    setresuid(run_uid, run_uid, run_uid) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		_exit(1);
	memset(&a, 0, sizeof(a));
	a.naddrs = config_sip_resolve(sip, a.err, sizeof(a.err));
	memcpy(a.addrs, sip->proxy_addrs, sizeof(a.addrs));
	for (off = 0; off < sizeof(a); off += n)
		if ((n = write(3, (char *)&a + off, sizeof(a) - off)) <= 0)
			_exit(1);
	_exit(0);
}

static void
parent_lookup_read(int fd, short event, void *arg)
{
	struct sip_lookup_answer	 a;
	ssize_t				 n;
	uint32_t			 i;

	n = read(fd, (char *)&lookup.ans + lookup.len,
	    sizeof(lookup.ans) - lookup.len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && (lookup.len += n) < sizeof(lookup.ans))
		return;
	memset(&a, 0, sizeof(a));
	if (lookup.len == sizeof(lookup.ans) &&
	    lookup.ans.naddrs <= XGW_SIP_ADDRS_MAX) {
		a = lookup.ans;
		a.err[sizeof(a.err) - 1] = '\0';
		for (i = 0; i < a.naddrs; i++)
			if (a.addrs[i].ss_family != AF_INET &&
			    a.addrs[i].ss_family != AF_INET6)
				a.naddrs = 0;
	}
	if (a.naddrs == 0 && a.err[0] == '\0')
		(void)snprintf(a.err, sizeof(a.err), "sip proxy \"%s\": the "
		    "lookup process failed", lookup.name);
	/* it has said all it will: SIGCHLD reaps it */
	parent_lookup_stop(0);
	parent_lookup_done(&a);
}

/* A lookup that takes longer than a resolver ever should is stopped. */
static void
parent_lookup_timeout(int fd, short event, void *arg)
{
	struct sip_lookup_answer	 a;

	memset(&a, 0, sizeof(a));
	(void)snprintf(a.err, sizeof(a.err), "sip proxy \"%s\": the lookup "
	    "took more than %d s", lookup.name, XGW_SIP_LOOKUP_TIMEOUT);
	parent_lookup_stop(1);
	parent_lookup_done(&a);
}

static void
parent_lookup_stop(int kill_it)
{
	if (lookup.fd != -1) {
		event_del(&lookup.ev);
		evtimer_del(&lookup.timeout);
		close(lookup.fd);
		lookup.fd = -1;
	}
	if (kill_it && lookup.pid != 0)
		(void)kill(lookup.pid, SIGTERM);
	lookup.pid = 0;
}

/*
 * The answer, for the running configuration (a new lookup cancels the
 * one before).  A name that does not resolve is a warning, not an
 * error: DNS down for a moment must not keep the gateway from starting
 * or a reload from applying.  The lookup is tried again every
 * XGW_SIP_RESOLVE_RETRY seconds while there is no address.
 */
static void
parent_lookup_done(struct sip_lookup_answer *a)
{
	struct timeval	 tv = { XGW_SIP_RESOLVE_RETRY, 0 };
	struct xgw_sip	*sip = &conf->sip;

	if (a->naddrs > 0) {
		lookup.warned = 0;
		if (a->naddrs == sip->proxy_naddrs &&
		    memcmp(a->addrs, sip->proxy_addrs, sizeof(a->addrs)) == 0)
			return;
		memcpy(sip->proxy_addrs, a->addrs, sizeof(sip->proxy_addrs));
		sip->proxy_naddrs = a->naddrs;
		log_info("sip proxy \"%s\" resolves now (%u addresses)",
		    sip->proxy, sip->proxy_naddrs);
		parent_configure();
		return;
	}
	if (sip->proxy_naddrs > 0) {
		log_warnx("%s:%d: warning: %s; the addresses it had are kept",
		    sip->proxy_file, sip->proxy_line, a->err);
		return;
	}
	if (!lookup.warned)
		log_warnx("%s:%d: warning: %s; SIP messages fail with 503 "
		    "until it resolves, tried again every %d s",
		    sip->proxy_file, sip->proxy_line, a->err,
		    XGW_SIP_RESOLVE_RETRY);
	else
		log_debug("%s", a->err);
	lookup.warned = 1;
	evtimer_add(&ev_resolve, &tv);
}

static int
parent_listens_differ(struct xgw_listens *a, struct xgw_listens *b)
{
	struct xgw_listen	*la, *lb;

	for (la = TAILQ_FIRST(a), lb = TAILQ_FIRST(b);
	    la != NULL && lb != NULL;
	    la = TAILQ_NEXT(la, entry), lb = TAILQ_NEXT(lb, entry))
		if (la->transport != lb->transport ||
		    memcmp(&la->ss, &lb->ss, sizeof(la->ss)) != 0)
			return (1);
	return (la != NULL || lb != NULL);
}

static int
parent_conf_changed(struct xgw_config *o, struct xgw_config *n,
    const char **why)
{
	*why = NULL;
	if (strcmp(o->user, n->user) != 0)
		*why = "user";
	else if (strcmp(o->chroot, n->chroot) != 0)
		*why = "chroot";
	else if (strcmp(o->statedir, n->statedir) != 0)
		*why = "state directory";
	else if (strcmp(o->socket, n->socket) != 0)
		*why = "socket";
	else if (o->prefork != n->prefork)
		*why = "prefork";
	else if (parent_listens_differ(&o->listens, &n->listens))
		*why = "listen on";
	else if (parent_listens_differ(&o->sip.listens, &n->sip.listens))
		*why = "sip listen on";
	if (*why == NULL)
		return (0);
	if (strcmp(*why, "user") == 0)
		*why = "user changed: restart xmppgwd to apply";
	else if (strcmp(*why, "chroot") == 0)
		*why = "chroot changed: restart xmppgwd to apply";
	else if (strcmp(*why, "state directory") == 0)
		*why = "state directory changed: restart xmppgwd to apply";
	else if (strcmp(*why, "socket") == 0)
		*why = "socket changed: restart xmppgwd to apply";
	else if (strcmp(*why, "prefork") == 0)
		*why = "prefork changed: restart xmppgwd to apply";
	else if (strcmp(*why, "listen on") == 0)
		*why = "listen on addresses changed: restart xmppgwd to apply";
	else
		*why = "sip listen on addresses changed: restart xmppgwd to "
		    "apply";
	return (1);
}

static void
parent_shutdown(int status)
{
	unsigned int	 i, alive, tries;
	pid_t		 pid;

	quitting = 1;
	parent_lookup_stop(1);
	for (i = 0; i < nchildren; i++)
		if (children[i].pid != 0)
			kill(children[i].pid, SIGTERM);
	/* give them 5 seconds to finish, then make sure */
	for (tries = 0; tries < 50; tries++) {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			for (i = 0; i < nchildren; i++)
				if (children[i].pid == pid)
					children[i].pid = 0;
		for (i = alive = 0; i < nchildren; i++)
			if (children[i].pid != 0)
				alive++;
		if (alive == 0)
			break;
		usleep(100000);
	}
	for (i = 0; i < nchildren; i++)
		if (children[i].pid != 0) {
			log_warnx("%s[%u] (pid %d) did not stop, killing it",
			    proc_title(children[i].id), children[i].instance,
			    children[i].pid);
			kill(children[i].pid, SIGKILL);
			waitpid(children[i].pid, NULL, 0);
		}
	if (conf != NULL)
		(void)unlink(conf->socket);
	log_info("stopped");
	exit(status);
}

static void
parent_dispatch_child(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct child	*c = iev->data;
	struct imsg	 imsg;
	uint32_t	 seq;
	int		 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1 || n == 0) {
			/* it died; SIGCHLD brings the restart */
			imsgev_clear(iev);
			return;
		}
	}
	if ((event & EV_WRITE) && imsgbuf_write(&iev->ibuf) == -1) {
		imsgev_clear(iev);
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: bad message from %s", __func__,
			    proc_title(c->id));
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_CFG_DONE:
			if (imsg_get_data(&imsg, &seq, sizeof(seq)) == -1)
				imsg_fatal_size(&imsg, __func__);
			c->acked = seq;
			parent_check_done();
			break;
		case IMSG_CTL_STATUS:
		case IMSG_CTL_RELOAD:
		case IMSG_CTL_VERBOSE:
			/* only policy serves the control socket */
			if (c->id != PROC_POLICY)
				fatalx("%s: control request from %s",
				    __func__, proc_title(c->id));
			if (imsg_get_type(&imsg) == IMSG_CTL_STATUS)
				parent_ctl_status(c, imsg_get_id(&imsg));
			else if (imsg_get_type(&imsg) == IMSG_CTL_RELOAD)
				parent_reload(imsg_get_id(&imsg), 1);
			else
				parent_ctl_verbose(c, &imsg);
			break;
		default:
			fatalx("%s: unexpected imsg %u from %s", __func__,
			    imsg_get_type(&imsg), proc_title(c->id));
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

static struct child *
parent_policy(void)
{
	unsigned int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].id == PROC_POLICY && children[i].iev.up)
			return (&children[i]);
	return (NULL);
}

static void
parent_ctl_reply(uint32_t peerid, int type, const char *msg)
{
	struct child	*p;

	if ((p = parent_policy()) == NULL)
		return;		/* the client went with policy */
	imsgev_compose(&p->iev, type, peerid, -1, msg, strlen(msg));
}

static void
parent_ctl_status(struct child *p, uint32_t peerid)
{
	struct ctl_proc		 cp;
	struct ctl_confinfo	 ci;
	struct xgw_partner	*pa;
	struct xgw_domain	*d;
	unsigned int		 i;

	memset(&cp, 0, sizeof(cp));
	(void)strlcpy(cp.role, "parent", sizeof(cp.role));
	cp.pid = getpid();
	cp.started = parent_started;
	imsgev_compose(&p->iev, IMSG_CTL_PROC, peerid, -1, &cp, sizeof(cp));
	for (i = 0; i < nchildren; i++) {
		memset(&cp, 0, sizeof(cp));
		(void)strlcpy(cp.role, proc_title(children[i].id),
		    sizeof(cp.role));
		cp.instance = children[i].instance;
		cp.pid = children[i].pid;
		cp.started = children[i].started;
		cp.restarts = children[i].restarts;
		imsgev_compose(&p->iev, IMSG_CTL_PROC, peerid, -1, &cp,
		    sizeof(cp));
	}
	memset(&ci, 0, sizeof(ci));
	(void)strlcpy(ci.file, conffile, sizeof(ci.file));
	ci.generation = generation;
	ci.loaded = loaded_at;
	TAILQ_FOREACH(pa, &conf->partners, entry)
		ci.partners++;
	TAILQ_FOREACH(d, &conf->domains, entry)
		ci.domains++;
	imsgev_compose(&p->iev, IMSG_CTL_CONFINFO, peerid, -1, &ci,
	    sizeof(ci));
	imsgev_compose(&p->iev, IMSG_CTL_END, peerid, -1, NULL, 0);
}

static void
parent_ctl_verbose(struct child *p, struct imsg *imsg)
{
	uint32_t	 v;
	unsigned int	 i;

	if (imsg_get_data(imsg, &v, sizeof(v)) == -1)
		imsg_fatal_size(imsg, __func__);
	log_setverbose(v);
	for (i = 0; i < nchildren; i++)
		if (children[i].iev.up)
			imsgev_compose(&children[i].iev, IMSG_CTL_VERBOSE, 0,
			    -1, &v, sizeof(v));
	log_info("logging is now %s", v ? "verbose" : "brief");
	parent_ctl_reply(imsg_get_id(imsg), IMSG_CTL_OK,
	    v ? "logging verbose" : "logging brief");
}
