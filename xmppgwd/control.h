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
 * Message types between the xmppgwd processes and on the control socket,
 * and the payloads xmppgwctl shares with the daemon.  The daemon and the
 * control tool come from the same build; nothing here is versioned.
 */

#ifndef CONTROL_H
#define CONTROL_H

#include <stdint.h>

enum imsg_type {
	IMSG_NONE,

	/* xmppgwctl <-> policy (and policy <-> parent on its behalf) */
	IMSG_CTL_STATUS,		/* request */
	IMSG_CTL_RELOAD,		/* request */
	IMSG_CTL_VERBOSE,		/* request: u32 level */
	IMSG_CTL_SHOW_PARTNERS,		/* request */
	IMSG_CTL_PROC,			/* reply: struct ctl_proc */
	IMSG_CTL_CONFINFO,		/* reply: struct ctl_confinfo */
	IMSG_CTL_PARTNER,		/* reply: encoded partner */
	IMSG_CTL_OK,			/* final reply: message string */
	IMSG_CTL_FAIL,			/* final reply: message string */
	IMSG_CTL_END,			/* final reply of a listing */
	IMSG_CTL_AUTHORIZE,		/* request: user, jid (strings) */
	IMSG_CTL_REVOKE,		/* request: user, jid (strings) */
	IMSG_CTL_SHOW_AUTHS,		/* request: user ("" = all) */
	IMSG_CTL_AUTH,			/* reply: local, remote, created, source */
	IMSG_CTL_COUNTERS,		/* reply to status: struct ctl_counters */
	IMSG_CTL_CAUSE,			/* reply to status: struct ctl_cause */
	IMSG_CTL_CHECK,			/* request: partner domain (to tls) */
	IMSG_CTL_STEP,			/* reply to check: step, status, text */

	/* parent -> child: process setup */
	IMSG_PRIVSEP,			/* struct privsep_setup */
	IMSG_PROCFD,			/* struct privsep_fd + a socket */
	IMSG_CTL_START,			/* configuration complete: serve */

	/* parent -> child: configuration (config.c) */
	IMSG_CFG_GLOBAL,
	IMSG_CFG_FILE,			/* a chunk of a file's contents */
	IMSG_CFG_RESOLVER,
	IMSG_CFG_DOMAIN,
	IMSG_CFG_LISTEN,		/* + the bound socket */
	IMSG_CFG_PARTNER,
	IMSG_CFG_SIP,
	IMSG_CFG_SIP_LISTEN,		/* + the bound socket */
	IMSG_CFG_SIP_TRUSTED,
	IMSG_CFG_CONTROL,		/* + the control socket, to policy */
	IMSG_CFG_DONE,			/* both ways: u32 sequence */

	/* tls <-> dialback */
	IMSG_DB_KEY,			/* key for (recv, orig, id) */
	IMSG_DB_CHECK,			/* is this key right? */
	IMSG_DNS_LOOKUP,		/* where is this domain's s2s? */
	IMSG_DNS_RESULT,		/* text, u32 n, n addresses: the text
					   is the error, or where they came
					   from */

	/* tls <-> policy */
	IMSG_STANZA_IN,			/* a stanza from a partner */
	IMSG_STANZA_OUT,		/* u32 report + a stanza to a partner */
	IMSG_STANZA_SENT,		/* u32 report, condition ("" = sent) */
	IMSG_CTL_SHOW_STREAMS,		/* policy -> each tls */
	IMSG_CTL_STREAM,		/* tls -> policy -> xmppgwctl */

	/* policy <-> sip */
	IMSG_SIP_SEND,			/* u32 id + stanza: send as MESSAGE */
	IMSG_SIP_RESULT,		/* u32 id, u32 code, reason */
	IMSG_SIP_MESSAGE_IN,		/* sip -> policy: u32 id + stanza */
	IMSG_SIP_ANSWER,		/* policy -> sip: u32 id, u32 code */
	IMSG_SIP_ANSWERED,		/* sip -> policy: u32 code sip gave */

	IMSG_MAX
};

#define CTL_ROLE_MAX	16

struct ctl_proc {
	char		 role[CTL_ROLE_MAX];
	uint32_t	 instance;
	int32_t		 pid;
	int64_t		 started;	/* time(3) of the current process */
	uint32_t	 restarts;
};

struct ctl_confinfo {
	char		 file[4096];
	uint32_t	 generation;
	int64_t		 loaded;	/* time(3) */
	uint32_t	 partners;
	uint32_t	 domains;
};

/* messages through the gateway, since policy started */
enum ctl_dir {
	CTL_XMPP_TO_SIP,
	CTL_SIP_TO_XMPP,
	CTL_NDIRS
};

struct ctl_counters {
	int64_t		 since;		/* time(3) policy started */
	uint64_t	 received[CTL_NDIRS];
	uint64_t	 delivered[CTL_NDIRS];
	uint64_t	 refused[CTL_NDIRS];	/* by policy */
	uint64_t	 failed[CTL_NDIRS];	/* by cause: IMSG_CTL_CAUSE */
	uint64_t	 partner_errors;	/* error stanzas from partners */
	uint32_t	 in_flight[CTL_NDIRS];
	uint32_t	 authorizations;
};

#define CTL_CAUSE_MAX	48

struct ctl_cause {
	uint32_t	 dir;		/* enum ctl_dir */
	char		 cause[CTL_CAUSE_MAX];	/* an RFC 6120 condition */
	uint64_t	 count;
};

#endif /* CONTROL_H */
