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
 * A libtls server context shared by the connections it accepted.  A
 * connection's context points back at it (the SNI callback reads its
 * certificates during the handshake), so a reload cannot free it: the
 * new configuration retires it, and the last connection frees it.
 */

#include <stdlib.h>

#include <tls.h>

#include "xmppgwd.h"
#include "log.h"

struct tls_srv {
	struct tls	*ctx;
	unsigned int	 refs;		/* connections accepted with it */
	int		 retired;	/* no longer the current one */
};

struct tls_srv *
tls_srv_new(struct tls *ctx)
{
	struct tls_srv	*ts;

	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		fatal("%s: calloc", __func__);
	ts->ctx = ctx;
	return (ts);
}

struct tls *
tls_srv_ctx(struct tls_srv *ts)
{
	return (ts->ctx);
}

/* a connection accepted with ts keeps it until tls_srv_drop */
struct tls_srv *
tls_srv_hold(struct tls_srv *ts)
{
	ts->refs++;
	return (ts);
}

static void
tls_srv_free(struct tls_srv *ts)
{
	tls_free(ts->ctx);
	free(ts);
}

void
tls_srv_drop(struct tls_srv *ts)
{
	if (ts == NULL)
		return;
	if (ts->refs == 0)
		fatalx("%s: not held", __func__);
	if (--ts->refs == 0 && ts->retired)
		tls_srv_free(ts);
}

void
tls_srv_retire(struct tls_srv *ts)
{
	if (ts == NULL)
		return;
	ts->retired = 1;
	if (ts->refs == 0)
		tls_srv_free(ts);
}
