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
 * s2s authentication primitives, pure and unit-tested: XEP-0185
 * dialback keys, and the checks that decide whether a peer's certificate
 * proves its domain (chain to the configured CA, identity per RFC 9525:
 * DNS-ID, SRV-ID, XmppAddr; never the CN).
 */

#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#define DIALBACK_KEY_LEN	64	/* hex HMAC-SHA256 */

/*
 * key = hex(HMAC-SHA256(hex(SHA-256(secret)),
 *     receiving ' ' originating ' ' streamid)), lower case.  0 or -1.
 */
int		 dialback_key(const uint8_t *, size_t, const char *,
		    const char *, const char *, char [DIALBACK_KEY_LEN + 1]);
/* constant time; 1 if equal */
int		 dialback_key_equal(const char *, const char *);

struct certid_ca;

enum certid_result {
	CERTID_OK,		/* chains to the CA and names the domain */
	CERTID_CHAIN,		/* does not chain (expired, untrusted, ...) */
	CERTID_NAME,		/* chains, but is not for this domain */
	CERTID_ERROR		/* no certificate, unparsable, no memory */
};

struct certid_ca *certid_ca_load(const uint8_t *, size_t, char *, size_t);
void		 certid_ca_free(struct certid_ca *);
/*
 * Check a peer's chain (PEM, leaf first, as tls_peer_cert_chain_pem()
 * gives it) for a domain.  The reason for anything but CERTID_OK goes
 * to why, fit for a log line.  serverAuth is required if the
 * certificate restricts its purposes; clientAuth is neither needed nor
 * enough (public CAs dropped clientAuth in 2026).
 */
enum certid_result certid_check(struct certid_ca *, const uint8_t *, size_t,
		    const char *, char *, size_t);
/* does a DNS-ID pattern (maybe "*.example.com") match a domain? */
int		 certid_name_match(const char *, const char *);

#endif /* AUTH_H */
