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
 * The tls process: s2s listeners and, in later versions, XMPP streams.
 * This version receives the listening sockets, certificates, keys and the
 * CA bundle and holds them; it does not accept streams yet.
 */

#include <sys/types.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

static void	tls_init(void);
static void	tls_configure(struct xgw_config *, struct xgw_config *);
static void	tls_start(void);
static int	tls_dispatch(struct imsgev *, struct imsg *);
static void	tls_peer_down(enum privsep_procid, unsigned int);

const struct proc_role tls_role = {
	.title = "tls",
	.id = PROC_TLS,
	.init = tls_init,
	.configure = tls_configure,
	.start = tls_start,
	.dispatch = tls_dispatch,
	.peer_down = tls_peer_down,
};

static void
tls_init(void)
{
	log_debug("%s: instance %u", __func__, proc_instance);
}

static void
tls_configure(struct xgw_config *old, struct xgw_config *new)
{
	struct xgw_domain	*d;
	struct xgw_listen	*l;
	unsigned int		 nd = 0, nl = 0;

	TAILQ_FOREACH(d, &new->domains, entry)
		if (d->cert.len > 0 && d->key.len > 0)
			nd++;
	TAILQ_FOREACH(l, &new->listens, entry)
		if (l->fd != -1)
			nl++;
	log_debug("%s: %u domains with certificate and key, %u listeners, "
	    "CA bundle of %zu bytes", __func__, nd, nl, new->ca.len);
}

static void
tls_start(void)
{
	log_debug("%s: instance %u serving", __func__, proc_instance);
}

static int
tls_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	return (-1);
}

static void
tls_peer_down(enum privsep_procid id, unsigned int instance)
{
	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
}
