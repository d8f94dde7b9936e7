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
 * The policy process: the partner table, the control socket, the
 * routing of messages between tls and sip under the partner-type rules
 * and the local users' access list, the durable authorisations (store.c)
 * and the message counters.
 */

#include <sys/types.h>
#include <sys/tree.h>

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "stanza.h"
#include "map.h"
#include "store.h"

#define POLICY_MAX_PENDING	10000
#define POLICY_MAX_CAUSES	32
#define POLICY_LIST_MAX		10000	/* authorisations in one listing */
#define POLICY_USER_AUTHS_MAX	10000	/* recorded by messages, per user */

/*
 * A message handed to sip, waiting for its SIP final response: what an
 * error reply to it takes (stanza_make_error() sends back no payload),
 * about 200 bytes where the whole stanza took 6.6 KB.
 */
struct pending {
	RB_ENTRY(pending)	 entry;
	uint32_t		 id;
	enum stanza_kind	 kind;
	char			 lang[sizeof(((struct stanza *)0)->lang)];
	char			*thread;
	const char		*from, *to, *sid;	/* in addr */
	char			 addr[];
};

/* a MESSAGE from SIP handed to tls, waiting to be written or refused */
struct relay {
	RB_ENTRY(relay)		 entry;
	uint32_t		 report;
	uint32_t		 sip_id;
	unsigned int		 instance;
};

/* both looked up by their id for every SIP result and write report */
static int
pending_cmp(struct pending *a, struct pending *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static int
relay_cmp(struct relay *a, struct relay *b)
{
	return (a->report < b->report ? -1 : a->report > b->report);
}

static RB_HEAD(pendings, pending) pendings = RB_INITIALIZER(&pendings);
static RB_HEAD(relays, relay) relays = RB_INITIALIZER(&relays);
RB_PROTOTYPE(pendings, pending, entry, pending_cmp)
RB_PROTOTYPE(relays, relay, entry, relay_cmp)
RB_GENERATE(pendings, pending, entry, pending_cmp)
RB_GENERATE(relays, relay, entry, relay_cmp)
static unsigned int	 nrelays;
static uint32_t		 next_report = 1;
static unsigned int	 npending;
static uint32_t		 next_pending = 1;
static int		 store_ok;

static struct ctl_counters	 counters;
static struct ctl_cause		 causes[POLICY_MAX_CAUSES];
static unsigned int		 ncauses;

static void	policy_init(void);
static void	policy_configure(struct xgw_config *, struct xgw_config *);
static void	policy_start(void);
static int	policy_dispatch(struct imsgev *, struct imsg *);
static void	policy_peer_down(enum privsep_procid, unsigned int);
static void	policy_stanza_in(struct imsg *);
static void	policy_send(struct stanza *);
static int	policy_message_in(struct stanza *);
static int	policy_canonical_to(struct stanza *, const char *);
static int	policy_to_sip(struct stanza *);
static void	policy_sip_result(struct imsg *);
static void	policy_answer(struct stanza *, const char *, const char *);
static struct pending *pending_new(const struct stanza *);
static void	pending_free(struct pending *);
static void	pending_answer(struct pending *, const char *, const char *);
static void	policy_sip_in(struct imsg *);
static void	policy_sent(struct imsg *);
static void	policy_sip_answer(uint32_t, int);
static void	policy_failed(enum ctl_dir, const char *);
static void	policy_sip_answered(struct imsg *);
static int	policy_user_allowed(const char *);
static void	policy_refuse(struct stanza *, const char *, const char *,
		    const char *);

const struct proc_role policy_role = {
	.title = "policy",
	.id = PROC_POLICY,
	.init = policy_init,
	.configure = policy_configure,
	.start = policy_start,
	.dispatch = policy_dispatch,
	.peer_down = policy_peer_down,
	.paced = 1,
};

static void
policy_init(void)
{
	counters.since = time(NULL);
	/* the state directory is our root */
	if (store_open(STORE_FILE) == 0)
		store_ok = 1;
	else
		log_warnx("policy: the authorization store %s in the state "
		    "directory cannot be used: messages from public "
		    "unverified partners are refused", STORE_FILE);
	log_debug("%s: started", __func__);
}

static void
policy_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct xgw_partner	*p;
	unsigned int		 n = 0;

	TAILQ_FOREACH(p, &new->partners, entry)
		n++;
	log_debug("%s: %u partners", __func__, n);
}

static void
policy_start(void)
{
	log_debug("%s: serving", __func__);
}

static int
policy_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	int	 fd;

	if (iev->procid == PROC_TLS) {
		switch (imsg_get_type(imsg)) {
		case IMSG_STANZA_IN:
			policy_stanza_in(imsg);
			return (0);
		case IMSG_STANZA_SENT:
			policy_sent(imsg);
			return (0);
		case IMSG_CTL_STREAM:
		case IMSG_CTL_END:
			return (control_streams_relay(imsg, iev->instance));
		case IMSG_CTL_STEP:
		case IMSG_CTL_OK:
		case IMSG_CTL_FAIL:
			return (control_check_relay(imsg, iev->instance));
		default:
			return (-1);
		}
	}
	if (iev->procid == PROC_SIP) {
		switch (imsg_get_type(imsg)) {
		case IMSG_SIP_RESULT:
			policy_sip_result(imsg);
			return (0);
		case IMSG_SIP_MESSAGE_IN:
			policy_sip_in(imsg);
			return (0);
		case IMSG_SIP_ANSWERED:
			policy_sip_answered(imsg);
			return (0);
		default:
			return (-1);
		}
	}
	if (iev->procid != PROC_PARENT)
		return (-1);
	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_CONTROL:
		if ((fd = imsg_get_fd(imsg)) == -1 || imsg_get_len(imsg) != 0)
			imsg_fatal_size(imsg, __func__);
		control_listen(fd);
		return (0);
	case IMSG_CTL_PROC:
	case IMSG_CTL_CONFINFO:
	case IMSG_CTL_OK:
	case IMSG_CTL_FAIL:
	case IMSG_CTL_END:
		return (control_relay(imsg));
	default:
		return (-1);
	}
}

/* to the tls process that owns the outbound streams to that domain */
static void
policy_send(struct stanza *s)
{
	char		 d[XGW_NAME_MAX];
	struct imsgev	*iev;
	struct ibuf	*b;

	if (jid_domain(s->to, d, sizeof(d)) == NULL ||
	    (iev = proc_peer(PROC_TLS, domain_instance(d, proc_prefork)))
	    == NULL) {
		log_warnx("policy: stanza to %s lost: no tls process for it",
		    s->to);
		return;
	}
	if ((b = imsg_create(&iev->ibuf, IMSG_STANZA_OUT, 0, 0, 1024)) == NULL ||
	    imsg_add_u32(b, 0) == -1 || stanza_encode(b, s) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
}

/*
 * A stanza from a partner to one of our users.  Messages go to SIP
 * under the rules (policy_message_in); a ping to our domain is
 * answered; errors and results addressed to us are logged and counted,
 * never answered; everything else is answered service-unavailable.
 */
static void
policy_stanza_in(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct stanza		 s;
	char			 d[XGW_NAME_MAX];

	imsg_cursor(imsg, &c);
	if (stanza_decode(&c, &s) == -1 || imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (strcmp(s.type, "error") == 0) {
		counters.partner_errors++;
		log_info("policy: error <%s/> from %s to %s%s%s",
		    s.err_cond[0] ? s.err_cond : "undefined-condition", s.from,
		    s.to, s.err_text ? ": " : "", s.err_text ? s.err_text : "");
		goto done;
	}
	if (s.kind == STANZA_IQ && strcmp(s.type, "result") == 0) {
		log_debug("policy: iq result from %s to %s", s.from, s.to);
		goto done;
	}
	if (s.kind == STANZA_IQ && s.ping && jid_domain(s.to, d, sizeof(d)) &&
	    strcmp(d, s.to) == 0) {
		/* XEP-0199: a ping to our domain */
		char	 tmp[JID_MAX];

		memcpy(tmp, s.from, sizeof(tmp));
		memcpy(s.from, s.to, sizeof(s.from));
		memcpy(s.to, tmp, sizeof(s.to));
		(void)strlcpy(s.type, "result", sizeof(s.type));
		s.ping = 0;
		policy_send(&s);
		goto done;
	}
	if (s.kind == STANZA_PRESENCE && (s.type[0] == '\0' ||
	    strcmp(s.type, "unavailable") == 0)) {
		log_info("policy: presence from %s to %s not relayed: no SIP "
		    "presence relay in this version", s.from, s.to);
		goto done;
	}
	if (s.kind == STANZA_MESSAGE && strcmp(s.type, "groupchat") != 0 &&
	    proc_conf->sip.configured) {
		if (policy_message_in(&s) == 0)
			return;		/* s was cleared */
		goto done;
	}
	log_info("policy: %s from %s to %s answered service-unavailable: "
	    "no SIP relay for it", s.kind == STANZA_MESSAGE ?
	    "message" : s.kind == STANZA_IQ ? "iq" : "presence", s.from, s.to);
	policy_answer(&s, "service-unavailable",
	    "this gateway cannot deliver this to SIP users");
 done:
	stanza_clear(&s);
}

static void
policy_peer_down(enum privsep_procid id, unsigned int instance)
{
	struct pending	*p;

	struct relay	*r, *tr;

	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
	if (id == PROC_TLS) {
		control_streams_gone(instance);
		/* what that tls process had queued for SIP senders */
		RB_FOREACH_SAFE(r, relays, &relays, tr) {
			if (r->instance != instance)
				continue;
			RB_REMOVE(relays, &relays, r);
			nrelays--;
			policy_failed(CTL_SIP_TO_XMPP, "service-unavailable");
			policy_sip_answer(r->sip_id, 503);
			free(r);
		}
		return;
	}
	if (id != PROC_SIP)
		return;
	/* their SIP transactions died with sip: nobody can be told */
	while ((r = RB_ROOT(&relays)) != NULL) {
		RB_REMOVE(relays, &relays, r);
		nrelays--;
		policy_failed(CTL_SIP_TO_XMPP, "service-unavailable");
		free(r);
	}
	/* what the sip process had in flight is answered, not lost */
	while ((p = RB_ROOT(&pendings)) != NULL) {
		RB_REMOVE(pendings, &pendings, p);
		npending--;
		policy_failed(CTL_XMPP_TO_SIP, "service-unavailable");
		pending_answer(p, "service-unavailable",
		    "the SIP relay restarted");
		pending_free(p);
	}
}

/* the error reply to s, to its sender */
static void
policy_answer(struct stanza *s, const char *cond, const char *text)
{
	if (stanza_make_error(s, cond, NULL, text) == 0)
		policy_send(s);
}

/* The entry for s, with no id yet; NULL when out of memory. */
static struct pending *
pending_new(const struct stanza *s)
{
	struct pending	*p;
	size_t		 fl, tl, il;
	char		*a;

	fl = strlen(s->from) + 1;
	tl = strlen(s->to) + 1;
	il = strlen(s->id) + 1;
	if ((p = malloc(sizeof(*p) + fl + tl + il)) == NULL)
		return (NULL);
	p->id = 0;
	p->kind = s->kind;
	(void)strlcpy(p->lang, s->lang, sizeof(p->lang));
	p->thread = NULL;
	a = p->addr;
	p->from = memcpy(a, s->from, fl);
	p->to = memcpy(a + fl, s->to, tl);
	p->sid = memcpy(a + fl + tl, s->id, il);
	return (p);
}

static void
pending_free(struct pending *p)
{
	free(p->thread);
	free(p);
}

/* the error reply to the message p stands for, to its sender */
static void
pending_answer(struct pending *p, const char *cond, const char *text)
{
	struct stanza	 s;

	stanza_init(&s);
	s.kind = p->kind;
	(void)strlcpy(s.from, p->from, sizeof(s.from));
	(void)strlcpy(s.to, p->to, sizeof(s.to));
	(void)strlcpy(s.id, p->sid, sizeof(s.id));
	(void)strlcpy(s.lang, p->lang, sizeof(s.lang));
	s.thread = p->thread;
	p->thread = NULL;
	policy_answer(&s, cond, text);
	stanza_clear(&s);
}

/*
 * A message from a partner's user to one of ours, under the rules: the
 * local user must be allowed XMPP (domain users), and a user of a
 * public unverified partner must have been added by the local user.
 * 0: handed to sip (s cleared, its pending entry kept), -1: answered.
 */
static int
policy_message_in(struct stanza *s)
{
	struct xgw_partner	*p;
	char			 fd[XGW_NAME_MAX], from[JID_MAX], to[JID_MAX];
	int			 rc;

	counters.received[CTL_XMPP_TO_SIP]++;
	if (jid_domain(s->from, fd, sizeof(fd)) == NULL ||
	    (p = partner_find(proc_conf, fd)) == NULL ||
	    jid_bare(s->from, from, sizeof(from)) == NULL) {
		policy_refuse(s, "not-allowed", "the sender is not a user of "
		    "a partner", "sender unknown");
		return (-1);
	}
	/* as for a user who does not exist (RFC 6121 8.5.2) */
	if (jid_bare(s->to, to, sizeof(to)) == NULL) {
		policy_refuse(s, "service-unavailable", NULL,
		    "the recipient is not a user's address");
		return (-1);
	}
	if (!policy_user_allowed(to)) {
		policy_refuse(s, "service-unavailable", NULL,
		    "the recipient may not use XMPP (domain users)");
		return (-1);
	}
	/*
	 * A SIP MESSAGE carries text: a chat state or receipt alone
	 * (XEP-0085, XEP-0184) would reach the SIP user as an empty
	 * message.  The sender is told, and XEP-0085 senders stop on an
	 * error; the log says it at debug level only, as clients send
	 * these all the time.
	 */
	if (s->body == NULL && s->subject == NULL) {
		counters.refused[CTL_XMPP_TO_SIP]++;
		log_debug("policy: message from %s to %s refused: no body",
		    s->from, s->to);
		policy_answer(s, "service-unavailable", "a message without "
		    "a body cannot be relayed to SIP");
		return (-1);
	}
	if (p->type == PTYPE_PUBLIC_UNVERIFIED) {
		if (!store_ok || (rc = store_auth_has(to, from)) == -1) {
			policy_failed(CTL_XMPP_TO_SIP, "internal-server-error");
			log_warnx("policy: message from %s to %s refused: the "
			    "authorization store cannot be read", s->from,
			    s->to);
			policy_answer(s, "internal-server-error",
			    "authorization store unavailable");
			return (-1);
		}
		if (rc == 0) {
			policy_refuse(s, "subscription-required", "the "
			    "recipient has not added you as a contact",
			    "not authorized by the recipient (partner type "
			    "public unverified)");
			return (-1);
		}
	}
	/* SIP gets the address the rules were checked against */
	if (policy_canonical_to(s, to) == -1) {
		policy_refuse(s, "jid-malformed", NULL, "recipient too long");
		return (-1);
	}
	return (policy_to_sip(s));
}

/* s->to := bare (canonical, as checked) and the resource s->to had */
static int
policy_canonical_to(struct stanza *s, const char *bare)
{
	char		 buf[JID_MAX];
	const char	*res;

	res = strchr(s->to, '/');
	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", bare, res ? res : "")
	    >= sizeof(buf))
		return (-1);
	memcpy(s->to, buf, sizeof(s->to));
	return (0);
}

/*
 * Hand a message to the sip process; its final response decides.  0:
 * handed over, s cleared and what an error reply takes kept in a pending
 * entry; -1: not handed over (answered already).
 */
static int
policy_to_sip(struct stanza *s)
{
	struct pending	*p;
	struct imsgev	*iev;
	struct ibuf	*b;

	if (npending >= POLICY_MAX_PENDING) {
		log_warnx("policy: %u messages waiting for SIP; message from "
		    "%s refused", npending, s->from);
		policy_failed(CTL_XMPP_TO_SIP, "resource-constraint");
		policy_answer(s, "resource-constraint",
		    "too many messages in flight");
		return (-1);
	}
	if ((p = pending_new(s)) == NULL)
		fatal("%s: malloc", __func__);
	do {			/* after a wrap, skip ids still in flight */
		p->id = next_pending++;
		if (next_pending == 0)
			next_pending = 1;
	} while (RB_FIND(pendings, &pendings, p) != NULL);
	if ((iev = proc_peer(PROC_SIP, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_SIP_SEND, 0, 0, 1024)) == NULL ||
	    imsg_add_u32(b, p->id) == -1 || stanza_encode(b, s) == -1) {
		pending_free(p);
		policy_failed(CTL_XMPP_TO_SIP, "service-unavailable");
		policy_answer(s, "service-unavailable",
		    "the SIP relay is restarting");
		return (-1);
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	p->thread = s->thread;	/* taken over */
	s->thread = NULL;
	stanza_clear(s);
	if (RB_INSERT(pendings, &pendings, p) != NULL)
		fatalx("%s: pending id %u reused", __func__, p->id);
	npending++;
	return (0);
}

static void
policy_sip_result(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct pending		*p, key;
	char			 reason[128], text[160];
	uint32_t		 code;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &code) == -1 || code < 100 || code > 699 ||
	    imsg_read_string(&c, reason, sizeof(reason)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	key.id = imsg_get_id(imsg);
	if ((p = RB_FIND(pendings, &pendings, &key)) == NULL)
		return;
	RB_REMOVE(pendings, &pendings, p);
	npending--;
	if (code >= 200 && code < 300) {
		counters.delivered[CTL_XMPP_TO_SIP]++;
		log_debug("policy: message from %s to %s delivered to SIP (%u)",
		    p->from, p->to, code);
	} else {
		policy_failed(CTL_XMPP_TO_SIP, map_sip_to_xmpp_error(code));
		log_info("policy: message from %s to %s failed: SIP %u %s",
		    p->from, p->to, code, reason);
		snprintf(text, sizeof(text), "SIP %u %s", code, reason);
		pending_answer(p, map_sip_to_xmpp_error(code), text);
	}
	pending_free(p);
}

static void
policy_sip_answer(uint32_t sip_id, int code)
{
	struct imsgev	*iev;
	uint32_t	 v[2];

	v[0] = sip_id;
	v[1] = code;
	if ((iev = proc_peer(PROC_SIP, 0)) == NULL)
		return;		/* sip restarted: its transactions went */
	if (imsg_compose(&iev->ibuf, IMSG_SIP_ANSWER, 0, 0, -1, v, sizeof(v))
	    == -1)
		fatal("%s: imsg_compose", __func__);
	imsgev_add(iev);
}

/*
 * A MESSAGE from one of our SIP users to a partner's user.  The SIP
 * transaction is answered once tls has written the stanza to an
 * authenticated stream (200) or could not (the mapped failure).
 */
static void
policy_sip_in(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct stanza		 s;
	struct relay		*r;
	struct imsgev		*iev;
	struct ibuf		*b;
	char			 d[XGW_NAME_MAX], from[JID_MAX], to[JID_MAX];
	struct xgw_partner	*p;
	uint32_t		 sip_id;
	int			 rc, n = 0;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &sip_id) == -1 || stanza_decode(&c, &s) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	counters.received[CTL_SIP_TO_XMPP]++;
	if (jid_bare(s.from, from, sizeof(from)) == NULL ||
	    !policy_user_allowed(from)) {
		counters.refused[CTL_SIP_TO_XMPP]++;
		log_info("policy: message from %s to %s refused: the sender "
		    "may not use XMPP (domain users)", s.from, s.to);
		policy_sip_answer(sip_id, 403);
		goto done;
	}
	if (jid_domain(s.to, d, sizeof(d)) == NULL ||
	    (p = partner_find(proc_conf, d)) == NULL ||
	    jid_bare(s.to, to, sizeof(to)) == NULL) {
		counters.refused[CTL_SIP_TO_XMPP]++;
		log_info("policy: message from %s to %s refused: not a user "
		    "at a partner domain", s.from, s.to);
		policy_sip_answer(sip_id, 404);
		goto done;
	}
	if (nrelays >= POLICY_MAX_PENDING) {
		policy_failed(CTL_SIP_TO_XMPP, "resource-constraint");
		policy_sip_answer(sip_id, 503);
		goto done;
	}
	/*
	 * The local user has added this contact: durable before relaying.
	 * Only where the rules ask for it, and at most so many per user.
	 */
	if (p->type == PTYPE_PUBLIC_UNVERIFIED) {
		rc = store_ok ? store_auth_has(from, to) : -1;
		if (rc == 0 && (n = store_auth_count_user(from)) >= 0 &&
		    n >= POLICY_USER_AUTHS_MAX) {
			log_warnx("policy: authorization %s -> %s not stored: "
			    "%s has %d already", from, to, from, n);
		} else if (rc == 0 && n >= 0 &&
		    (rc = store_auth_add(from, to, "message")) == 1)
			log_info("policy: authorization %s -> %s added (first "
			    "message)", from, to);
		if (rc == -1 || n == -1)
			log_warnx("policy: authorization %s -> %s not stored: "
			    "the authorization store cannot be used", from,
			    to);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s: calloc", __func__);
	do {
		r->report = next_report++;
		if (next_report == 0)
			next_report = 1;
	} while (RB_FIND(relays, &relays, r) != NULL);
	r->sip_id = sip_id;
	r->instance = domain_instance(d, proc_prefork);
	if ((iev = proc_peer(PROC_TLS, r->instance)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_STANZA_OUT, 0, 0, 1024)) == NULL ||
	    imsg_add_u32(b, r->report) == -1 || stanza_encode(b, &s) == -1) {
		free(r);
		policy_failed(CTL_SIP_TO_XMPP, "service-unavailable");
		policy_sip_answer(sip_id, 503);
		goto done;
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	if (RB_INSERT(relays, &relays, r) != NULL)
		fatalx("%s: report %u reused", __func__, r->report);
	nrelays++;
	log_debug("policy: message from %s to %s relayed from SIP", s.from,
	    s.to);
 done:
	stanza_clear(&s);
}

static void
policy_sent(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct relay		*r, key;
	char			 cond[64];
	uint32_t		 report;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &report) == -1 ||
	    imsg_read_string(&c, cond, sizeof(cond)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	key.report = report;
	if ((r = RB_FIND(relays, &relays, &key)) == NULL)
		return;
	RB_REMOVE(relays, &relays, r);
	nrelays--;
	if (cond[0] == '\0')
		counters.delivered[CTL_SIP_TO_XMPP]++;
	else
		policy_failed(CTL_SIP_TO_XMPP, cond);
	policy_sip_answer(r->sip_id, cond[0] == '\0' ? 200 :
	    map_xmpp_error_to_sip(cond));
	free(r);
}

/* well-formed UTF-8, no overlong forms, surrogates or C0 controls */
static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 c, n, i;

	while (*p != '\0') {
		if (*p < 0x20)
			return (0);
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, c = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, c = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, c = *p & 0x07;
		else
			return (0);
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (0);
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return (0);
		p += n + 1;
	}
	return (1);
}

/*
 * A MESSAGE that sip answered itself, never seen here: counted like the
 * ones policy answers.  A 403 (a peer not trusted, a sender not local)
 * or 404 (no partner domain) is a refusal; anything else a failure.
 */
static void
policy_sip_answered(struct imsg *imsg)
{
	uint32_t	 code;

	if (imsg_get_data(imsg, &code, sizeof(code)) == -1 ||
	    code < 300 || code > 699)
		imsg_fatal_size(imsg, __func__);
	counters.received[CTL_SIP_TO_XMPP]++;
	if (code == 403 || code == 404)
		counters.refused[CTL_SIP_TO_XMPP]++;
	else
		policy_failed(CTL_SIP_TO_XMPP, map_sip_to_xmpp_error(code));
}

/* a failed message, by the RFC 6120 condition that tells why */
static void
policy_failed(enum ctl_dir dir, const char *cond)
{
	unsigned int	 i;

	counters.failed[dir]++;
	if (cond == NULL || *cond == '\0')
		cond = "undefined-condition";
	for (i = 0; i < ncauses; i++)
		if (causes[i].dir == dir && strcmp(causes[i].cause, cond) == 0)
			break;
	if (i == ncauses) {
		if (ncauses == POLICY_MAX_CAUSES)
			return;		/* counted in failed[] only */
		causes[i].dir = dir;
		(void)strlcpy(causes[i].cause, cond, sizeof(causes[i].cause));
		ncauses++;
	}
	causes[i].count++;
}

/*
 * May this local user (a bare address) use XMPP federation?  The users
 * patterns of the local domain decide; no patterns: everybody.
 */
static int
policy_user_allowed(const char *bare)
{
	struct xgw_domain	*d;
	struct xgw_name		*n;
	char			 user[1024];
	const char		*at;

	if ((at = strchr(bare, '@')) == NULL ||
	    (size_t)(at - bare) >= sizeof(user))
		return (0);
	TAILQ_FOREACH(d, &proc_conf->domains, entry)
		if (strcmp(d->name, at + 1) == 0)
			break;
	if (d == NULL)
		return (0);
	if (TAILQ_EMPTY(&d->users))
		return (1);
	memcpy(user, bare, at - bare);
	user[at - bare] = '\0';
	TAILQ_FOREACH(n, &d->users, entry)
		if (fnmatch(n->name, user, FNM_CASEFOLD | FNM_NOESCAPE) == 0)
			return (1);
	return (0);
}

/* a message from a partner refused by policy: the sender learns why */
static void
policy_refuse(struct stanza *s, const char *cond, const char *text,
    const char *why)
{
	counters.refused[CTL_XMPP_TO_SIP]++;
	log_info("policy: message from %s to %s refused: %s", s->from, s->to,
	    why);
	policy_answer(s, cond, text);
}

/* the counters, before the END of a status answer */
void
policy_counters(struct imsgev *iev)
{
	unsigned int	 i;
	int		 n;

	counters.in_flight[CTL_XMPP_TO_SIP] = npending;
	counters.in_flight[CTL_SIP_TO_XMPP] = nrelays;
	n = store_ok ? store_auth_count() : -1;
	counters.authorizations = n < 0 ? 0 : n;
	imsgev_compose(iev, IMSG_CTL_COUNTERS, 0, -1, &counters,
	    sizeof(counters));
	for (i = 0; i < ncauses; i++)
		imsgev_compose(iev, IMSG_CTL_CAUSE, 0, -1, &causes[i],
		    sizeof(causes[i]));
}

/*
 * The two addresses of an operator's authorisation, checked and made
 * canonical: a local user of one of our domains and a bare JID
 * elsewhere.  -1 with the reason in msg.
 */
static int
policy_auth_args(const char *user, const char *jid, char *lu, char *rj,
    char *msg, size_t len)
{
	char	 d[XGW_NAME_MAX], mapped[JID_MAX];

	if (!utf8_valid(user) || (jid != NULL && !utf8_valid(jid))) {
		snprintf(msg, len, "addresses must be UTF-8");
		return (-1);
	}
	/* a SIP URI names the user as the message path does */
	if (strncasecmp(user, "sip:", 4) == 0 ||
	    strncasecmp(user, "sips:", 5) == 0) {
		if (map_sip_to_jid(user, mapped, sizeof(mapped)) == -1 ||
		    strchr(mapped, '/') != NULL) {
			snprintf(msg, len, "%s: not the SIP URI of a user",
			    user);
			return (-1);
		}
		user = mapped;
	}
	if (jid_bare(user, lu, JID_MAX) == NULL || strchr(user, '/') != NULL) {
		snprintf(msg, len, "%s: not the address of a user "
		    "(user@domain)", user);
		return (-1);
	}
	if (jid_domain(lu, d, sizeof(d)) == NULL ||
	    !domain_is_local(proc_conf, d)) {
		snprintf(msg, len, "%s: %s is not a local domain", user, d);
		return (-1);
	}
	if (rj == NULL)
		return (0);
	if (strncasecmp(jid, "xmpp:", 5) == 0)
		jid += 5;
	if (jid_bare(jid, rj, JID_MAX) == NULL || strchr(jid, '/') != NULL) {
		snprintf(msg, len, "%s: not a bare JID (user@domain)", jid);
		return (-1);
	}
	if (jid_domain(rj, d, sizeof(d)) == NULL ||
	    domain_is_local(proc_conf, d)) {
		snprintf(msg, len, "%s: a local user, not a remote contact",
		    jid);
		return (-1);
	}
	return (0);
}

/* xmppgwctl authorize: committed before the answer */
int
policy_authorize(const char *user, const char *jid, char *msg, size_t len)
{
	char	 lu[JID_MAX], rj[JID_MAX], d[XGW_NAME_MAX];
	int	 rc;

	if (policy_auth_args(user, jid, lu, rj, msg, len) == -1)
		return (-1);
	if (!store_ok || (rc = store_auth_add(lu, rj, "operator")) == -1) {
		snprintf(msg, len, "the authorization store cannot be "
		    "written; see the log");
		return (-1);
	}
	log_info("policy: authorization %s -> %s %s by the operator", lu,
	    rj, rc ? "added" : "confirmed");
	snprintf(msg, len, "%s may receive messages from %s%s%s", lu, rj,
	    rc ? "" : " (already authorized)",
	    jid_domain(rj, d, sizeof(d)) != NULL &&
	    partner_find(proc_conf, d) == NULL ?
	    " (note: not a configured partner domain)" : "");
	return (0);
}

/* xmppgwctl revoke */
int
policy_revoke(const char *user, const char *jid, char *msg, size_t len)
{
	char	 lu[JID_MAX], rj[JID_MAX];
	int	 rc;

	if (policy_auth_args(user, jid, lu, rj, msg, len) == -1)
		return (-1);
	if (!store_ok || (rc = store_auth_del(lu, rj)) == -1) {
		snprintf(msg, len, "the authorization store cannot be "
		    "written; see the log");
		return (-1);
	}
	if (rc == 0) {
		snprintf(msg, len, "no authorization of %s for %s", rj, lu);
		return (-1);
	}
	log_info("policy: authorization %s -> %s revoked by the operator",
	    lu, rj);
	snprintf(msg, len, "authorization of %s for %s revoked", rj, lu);
	return (0);
}

struct auth_listing {
	struct imsgev	*iev;
	unsigned int	 n;
};

static void
policy_auth_one(const struct store_auth *a, void *arg)
{
	struct auth_listing	*l = arg;
	struct ibuf		*b;
	int64_t			 created = a->created;

	if (++l->n > POLICY_LIST_MAX)
		return;
	if ((b = imsg_create(&l->iev->ibuf, IMSG_CTL_AUTH, 0, 0, 256)) ==
	    NULL || imsg_add_string(b, a->local) == -1 ||
	    imsg_add_string(b, a->remote) == -1 ||
	    imsg_add(b, &created, sizeof(created)) == -1 ||
	    imsg_add_string(b, a->source) == -1)
		fatal("%s: imsg", __func__);
	imsg_close(&l->iev->ibuf, b);
}

/* xmppgwctl show authorizations [user]: the listing, then END or FAIL */
void
policy_auth_list(struct imsgev *iev, const char *user)
{
	struct auth_listing	 l = { iev, 0 };
	char			 lu[JID_MAX], msg[256];

	if (*user != '\0' &&
	    policy_auth_args(user, NULL, lu, NULL, msg, sizeof(msg)) == -1)
		goto fail;
	/* one more than shown, to know that there are more */
	if (!store_ok || store_auth_list(*user ? lu : NULL,
	    POLICY_LIST_MAX + 1, policy_auth_one, &l) == -1) {
		snprintf(msg, sizeof(msg), "the authorization store cannot "
		    "be read; see the log");
		goto fail;
	}
	if (l.n > POLICY_LIST_MAX) {
		snprintf(msg, sizeof(msg), "more than %u authorizations, only "
		    "the first listed: name a user", POLICY_LIST_MAX);
		goto fail;
	}
	imsgev_compose(iev, IMSG_CTL_END, 0, -1, NULL, 0);
	return;
 fail:
	imsgev_compose(iev, IMSG_CTL_FAIL, 0, -1, msg, strlen(msg));
}
