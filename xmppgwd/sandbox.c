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
 * Dropping privileges in a child, in the order the OpenBSD daemons use:
 * chroot and chdir while still root, then groups, gid and uid, then the
 * Linux knobs that stand in for what pledge(2) gives for free.
 *
 * Every child keeps only: its imsg channels, the sockets and buffers
 * the parent handed it, and (policy) the files of its state directory.
 * Then a seccomp filter per role (sandbox_filter) stands in for
 * pledge(2): no exec, no fork, no ptrace, no new files but policy's.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "log.h"

void
sandbox_drop(const char *dir, uid_t uid, gid_t gid)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (chroot(dir) == -1)
		fatal("%s: chroot %s", __func__, dir);
	if (chdir("/") == -1)
		fatal("%s: chdir /", __func__);

	if (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("%s: cannot drop privileges", __func__);

	/* prove it: there must be no way back */
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("%s: getres[ug]id", __func__);
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid)
		fatalx("%s: privileges not dropped", __func__);
	if (setresuid(0, 0, 0) != -1 || errno != EPERM)
		fatalx("%s: could regain root", __func__);

	/* no setuid binary or file capability can give anything back */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	/*
	 * All children share one uid: without this, a compromised tls
	 * process could ptrace the dialback process and read its secret.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	/* cleared by the uid change above; a child outlives no parent */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		fatal("%s: PR_SET_PDEATHSIG", __func__);
	if (getppid() == 1)
		fatalx("%s: parent is gone", __func__);
}

/*
 * The seccomp filter of a child, installed once its role has set up
 * and before it takes any input: what the role needs is allowed; file
 * lookups that libraries may try (OpenSSL's configuration, the time
 * zone) fail with ENOENT, as they would in the empty chroot; everything
 * else kills the process, which the parent logs and restarts, and the
 * kernel's audit log names the system call.  Only policy opens files,
 * only dialback starts threads (libunbound's resolver), nothing execs,
 * forks or traces.
 */
#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

/*
 * -DSANDBOX_DEFAULT=SECCOMP_RET_LOG: log (in the kernel's audit log)
 * what a change needs instead of killing, and instead of refusing
 * a socket domain or an ioctl.
 */
#ifndef SANDBOX_DEFAULT
#define SANDBOX_DEFAULT		SECCOMP_RET_KILL_PROCESS
#define SANDBOX_REFUSE(e)	(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#else
#define SANDBOX_REFUSE(e)	SANDBOX_DEFAULT
#endif

#ifdef SANDBOX_ARCH
/* every child */
static const int sandbox_common[] = {
#ifdef SYS_epoll_wait
	SYS_epoll_wait,
#endif
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_close,
	SYS_lseek, SYS_fcntl, SYS_pipe2, SYS_eventfd2,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_brk,
	SYS_madvise, SYS_rt_sigaction, SYS_rt_sigprocmask,
	SYS_rt_sigreturn, SYS_restart_syscall, SYS_sigaltstack,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait, SYS_ppoll,
	SYS_pselect6, SYS_nanosleep, SYS_clock_nanosleep,
	SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday,
	SYS_getpid, SYS_gettid, SYS_getppid, SYS_getuid, SYS_geteuid,
	SYS_getgid, SYS_getegid, SYS_getrandom, SYS_futex,
	SYS_sched_yield, SYS_sched_getaffinity, SYS_exit, SYS_exit_group,
	SYS_tgkill, SYS_uname, SYS_sysinfo, SYS_prlimit64, SYS_fstat,
	SYS_newfstatat,
	/* sockets: the channels, syslog, and each role's own */
	SYS_socketpair, SYS_connect, SYS_shutdown,
	SYS_sendmsg, SYS_recvmsg, SYS_sendto, SYS_recvfrom,
	SYS_getsockopt, SYS_setsockopt, SYS_getsockname, SYS_getpeername,
	SYS_accept4,
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_select
	SYS_select,
#endif
#ifdef SYS_time
	SYS_time,
#endif
#ifdef SYS_getrlimit
	SYS_getrlimit,
#endif
	-1
};

/* file lookups: "no such file", not fatal, except in policy */
static const int sandbox_files[] = {
	SYS_openat, SYS_faccessat, SYS_readlinkat, SYS_statx,
	SYS_statfs, SYS_getdents64, SYS_getcwd,
#ifdef SYS_faccessat2
	SYS_faccessat2,
#endif
#ifdef SYS_open
	SYS_open,
#endif
#ifdef SYS_stat
	SYS_stat,
#endif
#ifdef SYS_lstat
	SYS_lstat,
#endif
#ifdef SYS_access
	SYS_access,
#endif
#ifdef SYS_readlink
	SYS_readlink,
#endif
	-1
};

/* policy: SQLite in the state directory */
static const int sandbox_policy[] = {
	SYS_pread64, SYS_pwrite64, SYS_fsync, SYS_fdatasync,
	SYS_ftruncate, SYS_fallocate, SYS_unlinkat, SYS_fchmod,
	SYS_fchown,
#ifdef SYS_unlink
	SYS_unlink,
#endif
	-1
};

/* dialback: libunbound's resolver thread and its UDP ports */
static const int sandbox_dialback[] = {
	SYS_bind, SYS_set_robust_list, SYS_rseq,
	-1
};

/* socket(2) domains: no netlink, no packet sockets */
static const uint32_t sandbox_domains[] = { AF_UNIX, AF_INET, AF_INET6 };
/* ioctl(2) requests: no TIOCSTI on a terminal on stderr (-d) */
static const uint32_t sandbox_ioctls[] = { FIONREAD, FIONBIO, FIOCLEX,
    TCGETS };

#define SANDBOX_LEN	256

static void
sandbox_jump(struct sock_filter *f, size_t *n, int nr, uint32_t action)
{
	if (*n + 2 > SANDBOX_LEN)
		fatalx("%s: filter too long", __func__);
	f[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)nr, 0, 1);
	f[(*n)++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
}

/*
 * System call nr with argument arg (its low 32 bits) among v: allowed;
 * with another value: action.  Other calls pass through untouched.
 */
static void
sandbox_arg(struct sock_filter *f, size_t *n, int nr, int arg,
    const uint32_t *v, size_t nv, uint32_t action)
{
	size_t	 i;

	if (*n + nv + 4 > SANDBOX_LEN || nv > 250)
		fatalx("%s: filter too long", __func__);
	f[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)nr, 0, nv + 3);
	f[(*n)++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, args[0]) + arg * sizeof(uint64_t));
	for (i = 0; i < nv; i++)
		f[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, v[i], nv - i, 0);
	f[(*n)++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
	f[(*n)++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
}

static void
sandbox_list(struct sock_filter *f, size_t *n, const int *nr,
    uint32_t action)
{
	for (; *nr != -1; nr++)
		sandbox_jump(f, n, *nr, action);
}

void
sandbox_filter(enum privsep_procid role)
{
	struct sock_filter	 f[SANDBOX_LEN];
	struct sock_fprog	 prog;
	size_t			 n = 0;

	/* another ABI's numbers mean other calls: kill */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SANDBOX_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* the x32 ABI shares the arch: its calls have bit 30 set */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
#endif
	sandbox_list(f, &n, sandbox_common, SECCOMP_RET_ALLOW);
	sandbox_arg(f, &n, SYS_socket, 0, sandbox_domains,
	    nitems(sandbox_domains), SANDBOX_REFUSE(EAFNOSUPPORT));
	sandbox_arg(f, &n, SYS_ioctl, 1, sandbox_ioctls,
	    nitems(sandbox_ioctls), SANDBOX_REFUSE(ENOTTY));
	if (role == PROC_POLICY) {
		sandbox_list(f, &n, sandbox_policy, SECCOMP_RET_ALLOW);
		sandbox_list(f, &n, sandbox_files, SECCOMP_RET_ALLOW);
	} else
		sandbox_list(f, &n, sandbox_files, SANDBOX_REFUSE(ENOENT));
	if (role == PROC_DIALBACK) {
		sandbox_list(f, &n, sandbox_dialback, SECCOMP_RET_ALLOW);
		/* glibc falls back to clone, whose flags can be checked */
		sandbox_jump(f, &n, SYS_clone3, SANDBOX_REFUSE(ENOSYS));
		/* threads only: a clone without CLONE_THREAD is a fork */
		if (n + 5 > SANDBOX_LEN)
			fatalx("%s: filter too long", __func__);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, SYS_clone, 0, 3);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
		    BPF_ABS, offsetof(struct seccomp_data, args[0]));
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET |
		    BPF_K, CLONE_THREAD, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ALLOW);
	}
	if (n + 1 > SANDBOX_LEN)
		fatalx("%s: filter too long", __func__);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SANDBOX_DEFAULT);

	prog.len = n;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		fatal("%s: PR_SET_SECCOMP", __func__);
}
#else
void
sandbox_filter(enum privsep_procid role)
{
	log_warnx("%s: no seccomp filter for this architecture", __func__);
}
#endif
