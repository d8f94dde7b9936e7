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
 * Pure partner-settings logic: names of the enumerations and the
 * validation of the TLS x SASL x dialback negotiation settings, after the
 * matrix Microsoft published for the Lync Server 2013 XMPP gateway.
 */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xmppgwd.h"

const char *
partner_type_name(enum xgw_ptype t)
{
	switch (t) {
	case PTYPE_FEDERATED:
		return ("federated");
	case PTYPE_PUBLIC_VERIFIED:
		return ("public verified");
	case PTYPE_PUBLIC_UNVERIFIED:
		return ("public unverified");
	}
	return ("unknown");
}

const char *
partner_neg_name(enum xgw_neg n)
{
	switch (n) {
	case NEG_REQUIRED:
		return ("required");
	case NEG_OPTIONAL:
		return ("optional");
	case NEG_NOT_SUPPORTED:
		return ("not supported");
	}
	return ("unknown");
}

/*
 * Of the 18 combinations, 5 leave no way to authenticate the partner
 * and are refused; 7 work but do not do what they seem to say and are
 * accepted with a warning.  SASL EXTERNAL needs TLS: it authenticates
 * with the certificate presented in the TLS handshake.
 */
enum xgw_verdict
partner_check_negotiation(enum xgw_neg tls, enum xgw_neg sasl, int dialback,
    const char **why)
{
	const char	*dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;

	if (!dialback && tls == NEG_NOT_SUPPORTED) {
		*why = "no way to authenticate the partner: SASL needs TLS, "
		    "which is not supported, and dialback is off; "
		    "set \"dialback yes\" or allow TLS and SASL";
		return (NEGV_INVALID);
	}
	if (!dialback && sasl == NEG_NOT_SUPPORTED) {
		*why = "no way to authenticate the partner: SASL is not "
		    "supported and dialback is off; "
		    "set \"dialback yes\" or \"sasl optional\"";
		return (NEGV_INVALID);
	}
	if (tls == NEG_NOT_SUPPORTED && sasl != NEG_NOT_SUPPORTED) {
		*why = "SASL needs TLS, which is not supported: SASL will "
		    "never run and only dialback over TCP authenticates; "
		    "set \"sasl not supported\"";
		return (NEGV_WARN);
	}
	if (tls == NEG_OPTIONAL && sasl != NEG_NOT_SUPPORTED) {
		*why = "SASL needs TLS, which is only optional: if the "
		    "partner does not encrypt, SASL cannot run";
		return (NEGV_WARN);
	}
	if (tls == NEG_REQUIRED && sasl == NEG_REQUIRED && dialback) {
		*why = "with TLS and SASL both required dialback will never "
		    "run; set \"dialback no\" or \"sasl optional\"";
		return (NEGV_WARN);
	}
	return (NEGV_OK);
}

/*
 * A DNS domain name as XMPP uses it for a server: LDH labels of 1 to 63
 * characters, not starting or ending with '-', at most 253 characters,
 * no trailing dot.  IP address literals are not accepted as domains.
 */
int
domain_name_valid(const char *name)
{
	size_t		 len, label = 0;
	const char	*p;
	int		 alldigits = 1;

	len = strlen(name);
	if (len == 0 || len > 253)
		return (0);
	for (p = name; *p != '\0'; p++) {
		unsigned char c = *p;

		if (c == '.') {
			if (label == 0 || p[-1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (!isascii(c) || !(isalnum(c) || c == '-'))
			return (0);
		if (c == '-' && label == 0)
			return (0);
		if (!isdigit(c))
			alldigits = 0;
		if (++label > 63)
			return (0);
	}
	if (label == 0 || p[-1] == '-')
		return (0);
	/* "192.0.2.1" is an address, not a domain */
	if (alldigits)
		return (0);
	return (1);
}

/*
 * The partner record as it travels on imsg: from the parent to the
 * children, and from policy to xmppgwctl.  The decoder checks every
 * field: the sender is a sibling or the daemon, but a bad record must
 * not become a bad partner.
 */
int
partner_encode(struct ibuf *b, const struct xgw_partner *p)
{
	struct xgw_name	*n;
	uint32_t	 count = 0;

	TAILQ_FOREACH(n, &p->domains, entry)
		count++;
	if (imsg_add_string(b, p->name) == -1 ||
	    imsg_add_string(b, p->descr) == -1 ||
	    imsg_add_u32(b, p->type) == -1 ||
	    imsg_add_u32(b, p->tls) == -1 ||
	    imsg_add_u32(b, p->sasl) == -1 ||
	    imsg_add_u32(b, p->dialback) == -1 ||
	    imsg_add_u32(b, p->keepalive) == -1 ||
	    imsg_add_u32(b, p->connections) == -1 ||
	    imsg_add_string(b, p->proxy) == -1 ||
	    imsg_add_u32(b, p->proxy_port) == -1 ||
	    imsg_add_u32(b, count) == -1)
		return (-1);
	TAILQ_FOREACH(n, &p->domains, entry)
		if (imsg_add_string(b, n->name) == -1)
			return (-1);
	return (0);
}

int
partner_decode(struct imsg_cursor *c, struct xgw_partner *p)
{
	struct xgw_name	*n;
	uint32_t	 type, tls, sasl, db, ka, conns, port, count, i;

	memset(p, 0, sizeof(*p));
	TAILQ_INIT(&p->domains);
	if (imsg_read_string(c, p->name, sizeof(p->name)) == -1 ||
	    imsg_read_string(c, p->descr, sizeof(p->descr)) == -1 ||
	    imsg_read_u32(c, &type) == -1 ||
	    imsg_read_u32(c, &tls) == -1 ||
	    imsg_read_u32(c, &sasl) == -1 ||
	    imsg_read_u32(c, &db) == -1 ||
	    imsg_read_u32(c, &ka) == -1 ||
	    imsg_read_u32(c, &conns) == -1 ||
	    imsg_read_string(c, p->proxy, sizeof(p->proxy)) == -1 ||
	    imsg_read_u32(c, &port) == -1 ||
	    imsg_read_u32(c, &count) == -1)
		goto bad;
	if (type > PTYPE_PUBLIC_UNVERIFIED || tls > NEG_NOT_SUPPORTED ||
	    sasl > NEG_NOT_SUPPORTED || db > 1 || ka > 1 || port > 65535 ||
	    count > XGW_DOMAINS_MAX || !domain_name_valid(p->name))
		goto bad;
	p->type = type;
	p->tls = tls;
	p->sasl = sasl;
	p->dialback = db;
	p->keepalive = ka;
	p->connections = conns;
	p->proxy_port = port;
	for (i = 0; i < count; i++) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&p->domains, n, entry);
		if (imsg_read_string(c, n->name, sizeof(n->name)) == -1 ||
		    !domain_name_valid(n->name))
			goto bad;
	}
	return (0);
 bad:
	errno = EBADMSG;
 fail:
	partner_free_domains(p);
	return (-1);
}

void
partner_free_domains(struct xgw_partner *p)
{
	struct xgw_name	*n;

	while ((n = TAILQ_FIRST(&p->domains)) != NULL) {
		TAILQ_REMOVE(&p->domains, n, entry);
		free(n);
	}
}

/* is domain the partner's primary domain or one of its additional ones? */
int
partner_has_domain(const struct xgw_partner *p, const char *domain)
{
	const struct xgw_name	*n;

	if (strcmp(p->name, domain) == 0)
		return (1);
	TAILQ_FOREACH(n, &p->domains, entry)
		if (strcmp(n->name, domain) == 0)
			return (1);
	return (0);
}

/* the partner that a domain (primary or additional) belongs to */
struct xgw_partner *
partner_find(struct xgw_config *conf, const char *domain)
{
	struct xgw_partner	*p;

	if (conf == NULL)
		return (NULL);
	TAILQ_FOREACH(p, &conf->partners, entry)
		if (partner_has_domain(p, domain))
			return (p);
	return (NULL);
}

int
domain_is_local(struct xgw_config *conf, const char *domain)
{
	struct xgw_domain	*d;

	if (conf == NULL)
		return (0);
	TAILQ_FOREACH(d, &conf->domains, entry)
		if (strcmp(d->name, domain) == 0)
			return (1);
	return (0);
}

/*
 * Which tls process owns the outbound streams to a domain: the same for
 * every sender, so one domain gets one stream (FNV-1a).
 */
unsigned int
domain_instance(const char *domain, unsigned int prefork)
{
	uint32_t	 h = 2166136261U;

	for (; *domain != '\0'; domain++) {
		h ^= (unsigned char)*domain;
		h *= 16777619U;
	}
	return (prefork ? h % prefork : 0);
}
