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
 * wakecost: what a process wakeup costs on this machine, in CPU time
 * charged to the process (the measure "make bench" uses for the
 * gateway).  First one process sleeps a millisecond at a time (a wakeup
 * by timer); then it also writes a byte to a socket pair before each
 * sleep, which wakes a second process waiting in epoll (a wakeup by
 * another process; the waker pays a little too, not measured apart:
 * it is small against the noise of the timer figure).  On bare metal
 * each costs a few microseconds; on some VMs a timer or a cross-CPU
 * wakeup costs tens, and then wakeups, not the work per message, set
 * the gateway's cost at moderate rates.
 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WAKES	2000

static double
cpu_us(int who)
{
	struct rusage	 ru;

	if (getrusage(who, &ru) == -1)
		err(1, "getrusage");
	return ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int
main(void)
{
	struct timespec		 ms = { 0, 1000000 };
	struct epoll_event	 ev = { .events = EPOLLIN }, out;
	double			 timer;
	int			 sv[2], ep, i, status;
	char			 c = 'x';
	pid_t			 pid;

	for (i = 0; i < WAKES; i++)
		(void)nanosleep(&ms, NULL);
	timer = cpu_us(RUSAGE_SELF) / WAKES;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if ((ep = epoll_create1(0)) == -1 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == -1)
			err(1, "epoll");
		for (i = 0; i < WAKES; i++)
			if (epoll_wait(ep, &out, 1, -1) != 1 ||
			    read(sv[1], &c, 1) != 1)
				err(1, "reader");
		_exit(0);
	}
	for (i = 0; i < WAKES; i++) {
		if (write(sv[0], &c, 1) != 1)
			err(1, "write");
		(void)nanosleep(&ms, NULL);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "reader failed");
	printf("CPU per wakeup: %.1f us by a timer, %.1f us by another "
	    "process\n", timer, cpu_us(RUSAGE_CHILDREN) / WAKES);
	return (0);
}
