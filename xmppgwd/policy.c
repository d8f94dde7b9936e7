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

#include <string.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "stanza.h"

static void	policy_init(void);
static void	policy_configure(struct xgw_config *, struct xgw_config *);
static void	policy_start(void);
static int	policy_dispatch(struct imsgev *, struct imsg *);
static void	policy_peer_down(enum privsep_procid, unsigned int);
static void	policy_stanza_in(struct imsg *);
static void	policy_send(struct stanza *);

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
		case IMSG_CTL_STREAM:
		case IMSG_CTL_END:
			return (control_streams_relay(imsg));
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
	    stanza_encode(b, s) == -1)
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
	log_info("policy: %s from %s to %s answered service-unavailable: "
	    "no SIP relay in this version", s.kind == STANZA_MESSAGE ?
	    "message" : s.kind == STANZA_IQ ? "iq" : "presence", s.from, s.to);
	if (stanza_make_error(&s, "service-unavailable", NULL,
	    "this gateway cannot deliver to SIP users yet") == 0)
		policy_send(&s);
 done:
	stanza_clear(&s);
}

static void
policy_peer_down(enum privsep_procid id, unsigned int instance)
{
	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
}
