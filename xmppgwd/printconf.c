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
 * xmppgwd -nv: the configuration as parsed, in canonical form.  Every
 * value is printed, defaults included, in a fixed order, so that the
 * output parses again to the same output; the regression tests rely on
 * it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "xmppgwd.h"

static void	 print_string(FILE *, const char *);
static const char *print_host(const struct sockaddr_storage *, char *,
		    size_t);
static in_port_t print_port(const struct sockaddr_storage *);
static const char *print_transport(enum xgw_transport);
static const char *print_yesno(int);
static void	 print_globals(FILE *, struct xgw_config *);
static void	 print_listen(FILE *, const char *, struct xgw_listen *, int);
static void	 print_sip(FILE *, struct xgw_sip *);
static void	 print_partner(FILE *, struct xgw_partner *);

/* Quoted, with the two characters the lexer unescapes escaped. */
static void
print_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static const char *
print_host(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	socklen_t	 sslen;

	sslen = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (getnameinfo((const struct sockaddr *)ss, sslen, buf, len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		(void)strlcpy(buf, "?", len);
	return (buf);
}

static in_port_t
print_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
}

static const char *
print_transport(enum xgw_transport t)
{
	return (t == XPORT_TLS ? "tls" : "tcp");
}

static const char *
print_yesno(int v)
{
	return (v ? "yes" : "no");
}

static void
print_globals(FILE *fp, struct xgw_config *conf)
{
	struct xgw_name		*n;
	struct xgw_option	*o;

	fprintf(fp, "user ");
	print_string(fp, conf->user);
	fprintf(fp, "\nprefork %u\nchroot ", conf->prefork);
	print_string(fp, conf->chroot);
	fprintf(fp, "\nstate directory ");
	print_string(fp, conf->statedir);
	fprintf(fp, "\nsocket ");
	print_string(fp, conf->socket);
	fprintf(fp, "\nca file ");
	print_string(fp, conf->ca.path);
	fprintf(fp, "\n");
	if (conf->secret.path[0] != '\0') {
		fprintf(fp, "dialback secret file ");
		print_string(fp, conf->secret.path);
		fprintf(fp, "\n");
	}
	TAILQ_FOREACH(n, &conf->resolvers, entry)
		fprintf(fp, "resolver %s\n", n->name);
	TAILQ_FOREACH(o, &conf->resolver_options, entry) {
		fprintf(fp, "resolver option ");
		print_string(fp, o->name);
		fprintf(fp, " ");
		print_string(fp, o->value);
		fprintf(fp, "\n");
	}

	fprintf(fp, "\nlimits { connections %u per-partner %u "
	    "stanza-size %u read-rate %u }\n", conf->limits.connections,
	    conf->limits.per_partner, conf->limits.stanza_size,
	    conf->limits.read_rate);
	fprintf(fp, "timeouts { establish %u idle %u keepalive %u "
	    "subscription-refresh %u }\n", conf->timeouts.establish,
	    conf->timeouts.idle, conf->timeouts.keepalive,
	    conf->timeouts.subscription_refresh);
}

/* sip listeners always name their transport, s2s ones only "tls" */
static void
print_listen(FILE *fp, const char *indent, struct xgw_listen *l, int sip)
{
	char	 host[NI_MAXHOST];

	fprintf(fp, "%slisten on %s port %u", indent,
	    print_host(&l->ss, host, sizeof(host)), print_port(&l->ss));
	if (sip)
		fprintf(fp, " %s", print_transport(l->transport));
	else if (l->transport == XPORT_TLS)
		fprintf(fp, " tls");
	fprintf(fp, "\n");
}

static void
print_sip(FILE *fp, struct xgw_sip *sip)
{
	struct xgw_listen	*l;
	struct xgw_trusted	*t;
	char			 host[NI_MAXHOST];

	fprintf(fp, "sip {\n\tproxy ");
	print_string(fp, sip->proxy);
	fprintf(fp, " port %u %s\n", sip->proxy_port,
	    print_transport(sip->proxy_transport));
	if (sip->ca.path[0] != '\0') {
		fprintf(fp, "\tca file ");
		print_string(fp, sip->ca.path);
		fprintf(fp, "\n");
	}
	if (sip->cert.path[0] != '\0') {
		fprintf(fp, "\tcertificate ");
		print_string(fp, sip->cert.path);
		fprintf(fp, "\n");
	}
	if (sip->key.path[0] != '\0') {
		fprintf(fp, "\tkey ");
		print_string(fp, sip->key.path);
		fprintf(fp, "\n");
	}
	TAILQ_FOREACH(l, &sip->listens, entry)
		print_listen(fp, "\t", l, 1);
	TAILQ_FOREACH(t, &sip->trusted, entry)
		fprintf(fp, "\ttrusted %s/%d\n",
		    print_host(&t->ss, host, sizeof(host)), t->prefixlen);
	fprintf(fp, "}\n");
}

static void
print_partner(FILE *fp, struct xgw_partner *p)
{
	struct xgw_name	*n;

	fprintf(fp, "partner ");
	print_string(fp, p->name);
	fprintf(fp, " {\n");
	if (p->descr[0] != '\0') {
		fprintf(fp, "\tdescription ");
		print_string(fp, p->descr);
		fprintf(fp, "\n");
	}
	if (!TAILQ_EMPTY(&p->domains)) {
		fprintf(fp, "\tadditional domains {");
		TAILQ_FOREACH(n, &p->domains, entry) {
			fprintf(fp, " ");
			print_string(fp, n->name);
		}
		fprintf(fp, " }\n");
	}
	fprintf(fp, "\ttype %s\n", partner_type_name(p->type));
	fprintf(fp, "\ttls %s\n", partner_neg_name(p->tls));
	fprintf(fp, "\tsasl %s\n", partner_neg_name(p->sasl));
	fprintf(fp, "\tdialback %s\n", print_yesno(p->dialback));
	fprintf(fp, "\tkeepalive %s\n", print_yesno(p->keepalive));
	if (p->connections != 0)
		fprintf(fp, "\tconnections %u\n", p->connections);
	if (p->proxy[0] != '\0') {
		fprintf(fp, "\tproxy ");
		print_string(fp, p->proxy);
		fprintf(fp, " port %u\n", p->proxy_port);
	}
	fprintf(fp, "}\n");
}

void
print_config(FILE *fp, struct xgw_config *conf)
{
	struct xgw_listen	*l;
	struct xgw_domain	*d;
	struct xgw_partner	*p;
	struct xgw_name		*n;

	print_globals(fp, conf);

	if (!TAILQ_EMPTY(&conf->listens)) {
		fprintf(fp, "\n");
		TAILQ_FOREACH(l, &conf->listens, entry)
			print_listen(fp, "", l, 0);
	}

	TAILQ_FOREACH(d, &conf->domains, entry) {
		fprintf(fp, "\ndomain ");
		print_string(fp, d->name);
		fprintf(fp, " {\n\tcertificate ");
		print_string(fp, d->cert.path);
		fprintf(fp, "\n\tkey ");
		print_string(fp, d->key.path);
		if (TAILQ_EMPTY(&d->users))
			fprintf(fp, "\n\tusers all");
		else {
			fprintf(fp, "\n\tusers {");
			TAILQ_FOREACH(n, &d->users, entry) {
				fprintf(fp, " ");
				print_string(fp, n->name);
			}
			fprintf(fp, " }");
		}
		fprintf(fp, "\n}\n");
	}

	if (conf->sip.configured) {
		fprintf(fp, "\n");
		print_sip(fp, &conf->sip);
	}

	TAILQ_FOREACH(p, &conf->partners, entry) {
		fprintf(fp, "\n");
		print_partner(fp, p);
	}
}
