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
 * sandbox_filter(): each case forks, installs a role's seccomp filter in
 * the child and makes one system call; the parent looks at how the
 * child ended.  Allowed calls work, file lookups fail with ENOENT outside
 * policy, and exec, fork and file creation kill the process (SIGSYS).
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "xmppgwd.h"

/* run fn in a child under role's filter; its wait(2) status */
static int
sandboxed(enum privsep_procid role, int (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1)
		atf_tc_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			_exit(90);
		sandbox_filter(role);
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) == -1)
		atf_tc_fail("waitpid: %s", strerror(errno));
	return (status);
}

static void
expect_exit(int status, int code)
{
	ATF_REQUIRE_MSG(WIFEXITED(status), "killed by signal %d",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ATF_REQUIRE_EQ_MSG(WEXITSTATUS(status), code, "exit %d, expected %d",
	    WEXITSTATUS(status), code);
}

static void
expect_sigsys(int status)
{
	ATF_REQUIRE_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "not killed by SIGSYS: %s %d", WIFEXITED(status) ? "exit" :
	    "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
	    WTERMSIG(status));
}

/* fn under every role's filter exits code, or with -1 dies of SIGSYS */
static void
every_role(int (*fn)(void), int code)
{
	enum privsep_procid	 r;

	for (r = PROC_TLS; r < PROC_MAX; r++)
		if (code == -1)
			expect_sigsys(sandboxed(r, fn));
		else
			expect_exit(sandboxed(r, fn), code);
}

static int
do_pipe_io(void)
{
	int	 p[2];
	char	 c = 'x';

	if (pipe2(p, O_CLOEXEC) == -1 || write(p[1], &c, 1) != 1 ||
	    read(p[0], &c, 1) != 1 || c != 'x')
		return (1);
	return (getpid() > 0 ? 0 : 2);
}

static int
do_open(void)
{
	int	 fd;

	/* it exists: only the filter can say it does not */
	if ((fd = open("/etc/passwd", O_RDONLY)) != -1)
		return (10);
	return (errno == ENOENT ? 0 : 11);
}

static int
do_exec(void)
{
	char *const argv[] = { "true", NULL };

	execv("/bin/true", argv);
	return (20);
}

static int
do_fork(void)
{
	pid_t	 pid;

	if ((pid = fork()) == 0)
		_exit(0);
	return (30);
}

static void *
thread_main(void *arg)
{
	return (arg);
}

static int
do_thread(void)
{
	pthread_t	 t;
	void		*r;

	static int	 token;

	if (pthread_create(&t, NULL, thread_main, &token) != 0 ||
	    pthread_join(t, &r) != 0 || r != &token)
		return (40);
	return (0);
}

static int
do_socket(void)
{
	int	 s, n = 0;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 || close(s) == -1)
		return (60);
	if ((s = socket(AF_INET6, SOCK_DGRAM, 0)) == -1 || close(s) == -1)
		return (61);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    ioctl(s, FIONREAD, &n) == -1)
		return (62);
	/*
	 * A request off the list (as TIOCSTI, typing into a terminal, is)
	 * is refused, though this one works on a socket without the filter.
	 */
	n = 0;
	if (ioctl(s, FIOASYNC, &n) != -1 || errno != ENOTTY || close(s) == -1)
		return (63);
	if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EAFNOSUPPORT)
		return (64);
	return (0);
}

static char	 policy_file[64];

static int
do_create(void)
{
	int	 fd;

	if ((fd = open(policy_file, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, "x", 1) != 1 || fsync(fd) == -1 ||
	    ftruncate(fd, 0) == -1 || close(fd) == -1 ||
	    unlink(policy_file) == -1)
		return (50);
	return (0);
}

ATF_TC_WITHOUT_HEAD(every_role_does_its_io);
ATF_TC_BODY(every_role_does_its_io, tc)
{
	every_role(do_pipe_io, 0);
}

ATF_TC_WITHOUT_HEAD(files_refused_outside_policy);
ATF_TC_BODY(files_refused_outside_policy, tc)
{
	expect_exit(sandboxed(PROC_TLS, do_open), 0);
	expect_exit(sandboxed(PROC_SIP, do_open), 0);
	expect_exit(sandboxed(PROC_DIALBACK, do_open), 0);
	/* policy opens: the open succeeds, so fd != -1 */
	expect_exit(sandboxed(PROC_POLICY, do_open), 10);
	snprintf(policy_file, sizeof(policy_file), "sandbox.%d", getpid());
	expect_exit(sandboxed(PROC_POLICY, do_create), 0);
}

ATF_TC_WITHOUT_HEAD(socket_domains_and_ioctls);
ATF_TC_BODY(socket_domains_and_ioctls, tc)
{
	every_role(do_socket, 0);
}

ATF_TC_WITHOUT_HEAD(exec_kills);
ATF_TC_BODY(exec_kills, tc)
{
	every_role(do_exec, -1);
}

ATF_TC_WITHOUT_HEAD(fork_kills_threads_only_in_dialback);
ATF_TC_BODY(fork_kills_threads_only_in_dialback, tc)
{
	every_role(do_fork, -1);
	expect_exit(sandboxed(PROC_DIALBACK, do_thread), 0);
	expect_sigsys(sandboxed(PROC_TLS, do_thread));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, every_role_does_its_io);
	ATF_TP_ADD_TC(tp, files_refused_outside_policy);
	ATF_TP_ADD_TC(tp, socket_domains_and_ioctls);
	ATF_TP_ADD_TC(tp, exec_kills);
	ATF_TP_ADD_TC(tp, fork_kills_threads_only_in_dialback);
	return (atf_no_error());
}
