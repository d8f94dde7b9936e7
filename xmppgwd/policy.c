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
 * The policy process: the partner table and the control socket.  In
 * later versions it also routes stanzas between tls and sip under the
 * partner-type rules and keeps the durable state.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "stanza.h"
#include "map.h"

#define POLICY_MAX_PENDING	10000

/* a message handed to sip, waiting for its SIP final response */
struct pending {
	TAILQ_ENTRY(pending)	 entry;
	uint32_t		 id;
	struct stanza		 s;
};

/* a MESSAGE from SIP handed to tls, waiting to be written or refused */
struct relay {
	TAILQ_ENTRY(relay)	 entry;
	uint32_t		 report;
	uint32_t		 sip_id;
	unsigned int		 instance;
};

static TAILQ_HEAD(, pending) pendings = TAILQ_HEAD_INITIALIZER(pendings);
static TAILQ_HEAD(, relay) relays = TAILQ_HEAD_INITIALIZER(relays);
static unsigned int	 nrelays;
static uint32_t		 next_report = 1;
static unsigned int	 npending;
static uint32_t		 next_pending = 1;

static void	policy_init(void);
static void	policy_configure(struct xgw_config *, struct xgw_config *);
static void	policy_start(void);
static int	policy_dispatch(struct imsgev *, struct imsg *);
static void	policy_peer_down(enum privsep_procid, unsigned int);
static void	policy_stanza_in(struct imsg *);
static void	policy_send(struct stanza *);
static int	policy_to_sip(struct stanza *);
static void	policy_sip_result(struct imsg *);
static void	policy_answer(struct stanza *, const char *, const char *);
static void	policy_sip_in(struct imsg *);
static void	policy_sent(struct imsg *);
static void	policy_sip_answer(uint32_t, int);

const struct proc_role policy_role = {
	.title = "policy",
	.id = PROC_POLICY,
	.init = policy_init,
	.configure = policy_configure,
	.start = policy_start,
	.dispatch = policy_dispatch,
	.peer_down = policy_peer_down,
};

static void
policy_init(void)
{
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
 * A stanza from a partner to one of our users.  The SIP relay is not
 * there yet: every stanza that asks for something is answered with
 * service-unavailable; a ping to our domain is answered; errors and
 * results addressed to us are logged, never answered.
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
		if (policy_to_sip(&s) == 0)
			return;		/* s is the pending entry's now */
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
		TAILQ_FOREACH_SAFE(r, &relays, entry, tr) {
			if (r->instance != instance)
				continue;
			TAILQ_REMOVE(&relays, r, entry);
			nrelays--;
			policy_sip_answer(r->sip_id, 503);
			free(r);
		}
		return;
	}
	if (id != PROC_SIP)
		return;
	while ((r = TAILQ_FIRST(&relays)) != NULL) {
		TAILQ_REMOVE(&relays, r, entry);
		nrelays--;
		free(r);
	}
	/* what the sip process had in flight is answered, not lost */
	while ((p = TAILQ_FIRST(&pendings)) != NULL) {
		TAILQ_REMOVE(&pendings, p, entry);
		npending--;
		policy_answer(&p->s, "service-unavailable",
		    "the SIP relay restarted");
		stanza_clear(&p->s);
		free(p);
	}
}

/* the error reply to s, to its sender */
static void
policy_answer(struct stanza *s, const char *cond, const char *text)
{
	if (stanza_make_error(s, cond, NULL, text) == 0)
		policy_send(s);
}

/*
 * Hand a message to the sip process; its final response decides.  -1:
 * not handed over (answered already).
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
		policy_answer(s, "resource-constraint",
		    "too many messages in flight");
		return (-1);
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s: calloc", __func__);
	p->id = next_pending++;
	if (next_pending == 0)
		next_pending = 1;
	if ((iev = proc_peer(PROC_SIP, 0)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_SIP_SEND, 0, 0, 1024)) == NULL ||
	    imsg_add_u32(b, p->id) == -1 || stanza_encode(b, s) == -1) {
		free(p);
		policy_answer(s, "service-unavailable",
		    "the SIP relay is restarting");
		return (-1);
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	p->s = *s;		/* takes over the strings */
	TAILQ_INSERT_TAIL(&pendings, p, entry);
	npending++;
	return (0);
}

static void
policy_sip_result(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct pending		*p;
	char			 reason[128], text[160];
	uint32_t		 id, code;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &code) == -1 || code < 100 || code > 699 ||
	    imsg_read_string(&c, reason, sizeof(reason)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	id = imsg_get_id(imsg);
	TAILQ_FOREACH(p, &pendings, entry)
		if (p->id == id)
			break;
	if (p == NULL)
		return;
	TAILQ_REMOVE(&pendings, p, entry);
	npending--;
	if (code >= 200 && code < 300)
		log_info("policy: message from %s to %s delivered to SIP (%u)",
		    p->s.from, p->s.to, code);
	else {
		log_info("policy: message from %s to %s failed: SIP %u %s",
		    p->s.from, p->s.to, code, reason);
		snprintf(text, sizeof(text), "SIP %u %s", code, reason);
		policy_answer(&p->s, map_sip_to_xmpp_error(code), text);
	}
	stanza_clear(&p->s);
	free(p);
}

static void
policy_sip_answer(uint32_t sip_id, int code)
{
	uint32_t	 v[2];

	v[0] = sip_id;
	v[1] = code;
	proc_compose(PROC_SIP, 0, IMSG_SIP_ANSWER, 0, -1, v, sizeof(v));
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
	char			 d[XGW_NAME_MAX];
	uint32_t		 sip_id;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &sip_id) == -1 || stanza_decode(&c, &s) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	if (jid_domain(s.to, d, sizeof(d)) == NULL ||
	    partner_find(proc_conf, d) == NULL) {
		policy_sip_answer(sip_id, 404);
		goto done;
	}
	if (nrelays >= POLICY_MAX_PENDING) {
		policy_sip_answer(sip_id, 503);
		goto done;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s: calloc", __func__);
	r->report = next_report++;
	if (next_report == 0)
		next_report = 1;
	r->sip_id = sip_id;
	r->instance = domain_instance(d, proc_prefork);
	if ((iev = proc_peer(PROC_TLS, r->instance)) == NULL ||
	    (b = imsg_create(&iev->ibuf, IMSG_STANZA_OUT, 0, 0, 1024)) == NULL ||
	    imsg_add_u32(b, r->report) == -1 || stanza_encode(b, &s) == -1) {
		free(r);
		policy_sip_answer(sip_id, 503);
		goto done;
	}
	imsg_close(&iev->ibuf, b);
	imsgev_add(iev);
	TAILQ_INSERT_TAIL(&relays, r, entry);
	nrelays++;
	log_info("policy: message from %s to %s relayed from SIP", s.from,
	    s.to);
 done:
	stanza_clear(&s);
}

static void
policy_sent(struct imsg *imsg)
{
	struct imsg_cursor	 c;
	struct relay		*r;
	char			 cond[64];
	uint32_t		 report;

	imsg_cursor(imsg, &c);
	if (imsg_read_u32(&c, &report) == -1 ||
	    imsg_read_string(&c, cond, sizeof(cond)) == -1 ||
	    imsg_cursor_end(&c) == -1)
		imsg_fatal_size(imsg, __func__);
	TAILQ_FOREACH(r, &relays, entry)
		if (r->report == report)
			break;
	if (r == NULL)
		return;
	TAILQ_REMOVE(&relays, r, entry);
	nrelays--;
	policy_sip_answer(r->sip_id, cond[0] == '\0' ? 200 :
	    map_xmpp_error_to_sip(cond));
	free(r);
}
