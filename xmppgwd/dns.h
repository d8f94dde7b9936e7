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
 * Asynchronous DNS for s2s connections, on libunbound, in the dialback
 * process's event loop: RFC 6120 section 3.2 (SRV _xmpp-server._tcp,
 * priority and weight order, fallback to the domain's A/AAAA on port
 * 5269) and a partner's proxy override.
 */

#ifndef DNS_H
#define DNS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_TARGETS		8	/* SRV records followed */
#define DNS_MAX_ADDRS		16	/* addresses returned */

struct xgw_config;
struct dns_ctx;

/*
 * The answer: error is NULL, how says where the addresses came from (SRV
 * and its targets, the fallback to the domain, the proxy), and addrs/n
 * hold addresses with their ports in the order to try them; or error
 * says what failed (for a log line and an XMPP error text), how is NULL
 * and n is 0.
 */
typedef void	(*dns_cb)(void *, const char *, const char *,
		    const struct sockaddr_storage *, size_t);

/* resolvers, resolver options and hosts entries from the config */
struct dns_ctx	*dns_new(const struct xgw_config *, char *, size_t);
void		 dns_free(struct dns_ctx *);	/* cancels, no callbacks */
/*
 * Where to connect for s2s to domain.  With proxy non-empty, the proxy
 * (IP literal or name) and proxy_port are used instead of SRV.  The
 * callback runs later from the event loop, never from inside this call.
 * Returns 0, or -1 if the query could not be started.
 */
int		 dns_s2s_lookup(struct dns_ctx *, const char *, const char *,
		    uint16_t, dns_cb, void *);

/* pure, for tests: order SRV records per RFC 2782 */
struct dns_srv {
	uint16_t	 priority;
	uint16_t	 weight;
	uint16_t	 port;
	char		 target[256];
};
void		 dns_srv_order(struct dns_srv *, size_t, uint32_t (*)(uint32_t));

#endif /* DNS_H */
