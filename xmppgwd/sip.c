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
 * The sip process: in later versions the SIP relay to the enterprise
 * proxy.  This version receives the sip block and its listening sockets
 * and holds them.
 */

#include <sys/types.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"

static void	sip_init(void);
static void	sip_configure(struct xgw_config *, struct xgw_config *);
static void	sip_start(void);
static int	sip_dispatch(struct imsgev *, struct imsg *);
static void	sip_peer_down(enum privsep_procid, unsigned int);

const struct proc_role sip_role = {
	.title = "sip",
	.id = PROC_SIP,
	.init = sip_init,
	.configure = sip_configure,
	.start = sip_start,
	.dispatch = sip_dispatch,
	.peer_down = sip_peer_down,
};

static void
sip_init(void)
{
	log_debug("%s: instance %u", __func__, proc_instance);
}

static void
sip_configure(struct xgw_config *old, struct xgw_config *new)
{
	if (new->sip.configured)
		log_debug("%s: proxy %s port %u", __func__, new->sip.proxy,
		    new->sip.proxy_port);
}

static void
sip_start(void)
{
	log_debug("%s: serving", __func__);
}

static int
sip_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	return (-1);
}

static void
sip_peer_down(enum privsep_procid id, unsigned int instance)
{
	log_debug("%s: %s[%u]", __func__, proc_title(id), instance);
}
