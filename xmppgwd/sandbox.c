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
 * A per-role seccomp filter is not installed yet; see BUGS in xmppgwd(8).
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
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
