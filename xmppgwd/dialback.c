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
 * The dialback process: holds the dialback secret and, in later versions,
 * does XEP-0185 key generation and DNS with libunbound.  This version
 * receives the secret and the resolver settings and holds them.
 */

#include <sys/types.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

static void	dialback_init(void);
static void	dialback_configure(struct xgw_config *, struct xgw_config *);
static void	dialback_start(void);
static int	dialback_dispatch(struct imsgev *, struct imsg *);
static void	dialback_peer_down(enum privsep_procid, unsigned int);

const struct proc_role dialback_role = {
	.title = "dialback",
	.id = PROC_DIALBACK,
	.init = dialback_init,
	.configure = dialback_configure,
	.start = dialback_start,
	.dispatch = dialback_dispatch,
	.peer_down = dialback_peer_down,
};

static void
dialback_init(void)
{
	log_debug("%s: instance %u", __func__, proc_instance);
}

static void
dialback_configure(struct xgw_config *old, struct xgw_config *new)
{
	if (new->secret.len == 0)
		log_debug("%s: no dialback secret configured", __func__);
	else
		log_debug("%s: dialback secret of %zu bytes", __func__,
		    new->secret.len);
}

static void
dialback_start(void)
{
	log_debug("%s: serving", __func__);
}

static int
dialback_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	return (-1);
}

static void
dialback_peer_down(enum privsep_procid id, unsigned int instance)
{
	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
}
