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

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

static void	policy_init(void);
static void	policy_configure(struct xgw_config *, struct xgw_config *);
static void	policy_start(void);
static int	policy_dispatch(struct imsgev *, struct imsg *);
static void	policy_peer_down(enum privsep_procid, unsigned int);

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

static void
policy_peer_down(enum privsep_procid id, unsigned int instance)
{
	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
}
