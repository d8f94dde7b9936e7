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
 * The XMPP server-to-server stream state machine, both directions:
 * RFC 6120 stream negotiation, STARTTLS, SASL EXTERNAL (XEP-0178), server
 * dialback (XEP-0220) in all three roles, the addressing rules for
 * stanzas, and the queue of stanzas waiting for an outbound stream.
 * Every partner setting (tls, sasl, dialback) is enforced here, and every
 * refusal is logged with the rule that refused it.
 */

#include <sys/types.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "xmppgwd.h"
#include "control.h"
#include "log.h"
#include "s2s.h"
#include "stanza.h"

static void	stream_open(void *, struct xml_elem *);
static void	stream_element(void *, struct xml_elem *);
static void	stream_end(void *);
static void	stream_in_header(struct conn *, struct xml_elem *);
static void	stream_in_features(struct conn *);
static void	stream_in_starttls(struct conn *);
static void	stream_in_auth(struct conn *, struct xml_elem *);
static void	stream_in_db_result(struct conn *, struct xml_elem *);
static void	stream_in_db_verify(struct conn *, struct xml_elem *);
static void	stream_in_stanza(struct conn *, struct xml_elem *);
static void	stream_out_header(struct conn *, struct xml_elem *);
static void	stream_out_features(struct conn *, struct xml_elem *);
static void	stream_out_element(struct conn *, struct xml_elem *);
static void	stream_out_authenticate(struct conn *);
static void	stream_out_ready(struct conn *);
static void	stream_probe_cert(struct conn *);
static void	stream_out_verifies(struct conn *);
static void	stream_verify_answer(struct conn *, struct xml_elem *);
static void	stream_fail(struct conn *, const char *, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	stream_db_error(struct conn *, const char *, const char *,
		    const char *, const char *);
static int	stream_cert_proves(struct conn *, const char *, char *,
		    size_t);
static void	stream_new_id(struct conn *);
static int	stream_token_ok(const char *, size_t, size_t);
static void	stream_restart(struct conn *);
static void	stream_write_header(struct conn *);
static void	stream_limits(struct conn *, struct xml_limits *);
static void	stream_authenticated(struct conn *, enum auth_method);

static const struct xml_stream_cb stream_cb = {
	stream_open, stream_element, stream_end
};

struct xml_stream *
stream_xml_new(struct conn *c)
{
	struct xml_limits	 lim;

	stream_limits(c, &lim);
	return (xml_stream_new(&stream_cb, c, &lim));
}

/*
 * Until a stream is authenticated its stanzas are small (STARTTLS,
 * SASL, dialback), and so is what it may make us hold: a stanza tree
 * can take XML_TREE_FACTOR times the stanza limit, which for the
 * configured limit is megabytes per unauthenticated connection.
 */
static void
stream_limits(struct conn *c, struct xml_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->stanza_size = proc_conf->limits.stanza_size;
	if (c->auth == AUTH_NONE && lim->stanza_size > S2S_PREAUTH_STANZA)
		lim->stanza_size = S2S_PREAUTH_STANZA;
	lim->depth = S2S_MAX_DEPTH;
	lim->attrs = S2S_MAX_ATTRS;
}

/* c is authenticated: the configured limits apply from now on */
static void
stream_authenticated(struct conn *c, enum auth_method m)
{
	struct xml_limits	 lim;

	c->auth = m;
	stream_limits(c, &lim);
	xml_stream_set_limits(c->xs, &lim);
}

const char *
stream_auth_name(enum auth_method m)
{
	switch (m) {
	case AUTH_SASL:
		return ("SASL EXTERNAL");
	case AUTH_DIALBACK_TLS:
		return ("dialback over TLS");
	case AUTH_DIALBACK_TCP:
		return ("dialback over TCP");
	default:
		return ("none");
	}
}

const char *
stream_state_name(struct conn *c)
{
	static const char *names[] = {
		"resolving", "connecting", "header", "features", "starttls",
		"handshake", "sasl", "dialback", "open", "closing"
	};

	if (c->state == CS_OPEN && c->auth == AUTH_NONE &&
	    !TAILQ_EMPTY(&c->pairs))
		return ("dialback");
	return (names[c->state]);
}

/*
 * Dialback keys and stream ids are written back into other streams: only
 * characters that need no escaping are accepted (hex, base64, UUIDs).
 */
static int
stream_token_ok(const char *t, size_t len, size_t max)
{
	size_t	 i;

	if (t == NULL || len == 0 || len > max)
		return (0);
	for (i = 0; i < len; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '+' ||
		    t[i] == '/' || t[i] == '=' || t[i] == '-' ||
		    t[i] == '_' || t[i] == '.'))
			return (0);
	return (1);
}

static void
stream_new_id(struct conn *c)
{
	uint8_t	 rnd[S2S_ID_LEN / 2];
	size_t	 i;

	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(c->stream_id + 2 * i, 3, "%02x", rnd[i]);
}

static void
stream_write_header(struct conn *c)
{
	conn_write(c, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_SERVER "' xmlns:stream='" NS_STREAMS "' xmlns:db='"
	    NS_DIALBACK "' from='%s' to='%s'%s%s%s version='1.0'>",
	    c->local, c->remote, c->dir == CONN_IN ? " id='" : "",
	    c->dir == CONN_IN ? c->stream_id : "",
	    c->dir == CONN_IN ? "'" : "");
}

/* after <proceed/> and <success/>: nothing already read may count */
static void
stream_restart(struct conn *c)
{
	c->restart = 1;
	c->restarted = 1;
	xml_stream_stop(c->xs);
}

void
stream_accepted(struct conn *c)
{
	c->state = CS_HEADER;
}

void
stream_connected(struct conn *c)
{
	c->state = CS_HEADER;
	stream_write_header(c);
}

void
stream_input(struct conn *c, const char *buf, size_t len)
{
	const char	*cond;

	if (c->auth == AUTH_NONE && c->inbytes > S2S_PREAUTH_BYTES &&
	    c->dir == CONN_IN) {
		struct db_pair	*p;

		TAILQ_FOREACH(p, &c->pairs, entry)
			if (p->state == DB_VALID)
				break;
		if (p == NULL) {
			conn_stream_error(c, "policy-violation",
			    "too much data before authentication");
			return;
		}
	}
	if (xml_stream_feed(c->xs, buf, len) == -1) {
		switch (xml_stream_error(c->xs)) {
		case XMLE_RESTRICTED:
			cond = "restricted-xml";
			break;
		case XMLE_POLICY:
			cond = "policy-violation";
			break;
		case XMLE_BAD_NS_PREFIX:
			cond = "bad-namespace-prefix";
			break;
		case XMLE_INVALID_NS:
			cond = "invalid-namespace";
			break;
		case XMLE_ENCODING:
			cond = "unsupported-encoding";
			break;
		case XMLE_NOMEM:
			cond = "internal-server-error";
			break;
		default:
			cond = "not-well-formed";
			break;
		}
		stream_bounce_queue(c, "remote-server-not-found",
		    "the partner's stream broke");
		conn_stream_error(c, cond, xml_stream_errstr(c->xs));
		return;
	}
	if (c->restart && !conn_dead(c)) {
		xml_stream_reset(c->xs);
		c->restart = 0;
	}
}

static void
stream_open(void *arg, struct xml_elem *hdr)
{
	struct conn	*c = arg;

	if (c->state != CS_HEADER)
		conn_stream_error(c, "not-well-formed", "unexpected header");
	else if (c->dir == CONN_IN)
		stream_in_header(c, hdr);
	else
		stream_out_header(c, hdr);
	/* the header stays the parser's */
}

static void
stream_end(void *arg)
{
	struct conn	*c = arg;

	if (c->state != CS_CLOSING)
		conn_write(c, "</stream:stream>");
	c->state = CS_CLOSING;
	conn_schedule(c);
}

static void
stream_element(void *arg, struct xml_elem *e)
{
	struct conn	*c = arg;

	if (conn_dead(c) || c->state == CS_CLOSING) {
		xml_free(e);
		return;
	}
	if (xml_is(e, NS_STREAMS, "error")) {
		struct xml_elem	*x, *t = NULL;
		const char	*cond = "?";

		TAILQ_FOREACH(x, &e->children, entry) {
			if (strcmp(x->ns, NS_STREAM_ERR) != 0)
				continue;
			if (strcmp(x->name, "text") == 0)
				t = x;
			else
				cond = x->name;
		}
		stream_bounce_queue(c, "remote-server-not-found",
		    "the partner closed the stream with an error");
		conn_close(c, "stream error from the peer: <%s/>%s%.*s", cond,
		    t ? " " : "", t ? (int)t->textlen : 0,
		    t && t->text ? t->text : "");
	} else if (c->dir == CONN_OUT)
		stream_out_element(c, e);
	else if (xml_is(e, NS_TLS, "starttls"))
		stream_in_starttls(c);
	else if (strcmp(e->ns, NS_SASL) == 0)
		stream_in_auth(c, e);
	else if (xml_is(e, NS_DIALBACK, "result"))
		stream_in_db_result(c, e);
	else if (xml_is(e, NS_DIALBACK, "verify"))
		stream_in_db_verify(c, e);
	else if (strcmp(e->ns, NS_SERVER) == 0)
		stream_in_stanza(c, e);
	else if (strcmp(e->ns, NS_CLIENT) == 0)
		conn_stream_error(c, "invalid-namespace",
		    "this is a server-to-server port");
	else
		conn_stream_error(c, "unsupported-stanza-type", NULL);
	xml_free(e);
}

/*
 * Does the peer's certificate prove domain?  Only with a chain to our CA
 * and the domain among its names; the reason goes to why.
 */
static int
stream_cert_proves(struct conn *c, const char *domain, char *why,
    size_t len)
{
	if (!c->tls_done || c->peer_chain == NULL) {
		(void)strlcpy(why, "no certificate presented", len);
		return (0);
	}
	return (certid_check(s2s.ca, c->peer_chain, c->peer_chain_len,
	    domain, why, len) == CERTID_OK);
}

void
stream_tls_done(struct conn *c)
{
	const uint8_t	*pem;
	size_t		 len;

	if ((pem = tls_peer_cert_chain_pem(c->tls, &len)) != NULL &&
	    len > 0) {
		if ((c->peer_chain = malloc(len)) == NULL)
			fatal("%s: malloc", __func__);
		memcpy(c->peer_chain, pem, len);
		c->peer_chain_len = len;
	}
	if (c->remote[0] != '\0') {
		c->cert_ok = stream_cert_proves(c, c->remote, c->cert_why,
		    sizeof(c->cert_why));
		if (!c->cert_ok)
			log_info("conn %u %s %s: certificate does not "
			    "authenticate %s: %s", c->id, c->dir == CONN_IN ?
			    "from" : "to", c->addr, c->remote, c->cert_why);
	}
	if (c->probe)
		stream_probe_cert(c);
	c->state = CS_HEADER;
	if (c->dir == CONN_OUT) {
		c->restarted = 1;
		stream_write_header(c);
	}
}

/*
 * xmppgwctl check partner: what the partner's certificate says, and
 * whether it authenticates the partner.
 */
static void
stream_probe_cert(struct conn *c)
{
	const char	*subj, *iss;
	char		 until[32] = "?";
	time_t		 t;
	struct tm	 tm;

	c->probe_at = "stream";
	if (c->peer_chain == NULL) {
		conn_probe_step(c, "certificate", "warning", "none presented");
		return;
	}
	subj = tls_peer_cert_subject(c->tls);
	iss = tls_peer_cert_issuer(c->tls);
	if ((t = tls_peer_cert_notafter(c->tls)) != -1 &&
	    gmtime_r(&t, &tm) != NULL)
		(void)strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	if (c->cert_ok)
		conn_probe_step(c, "certificate", "ok", "authenticates %s "
		    "(subject %s, issuer %s, valid until %s)", c->remote,
		    subj ? subj : "?", iss ? iss : "?", until);
	else
		conn_probe_step(c, "certificate", "warning", "does not "
		    "authenticate %s: %s (subject %s, issuer %s, valid until "
		    "%s)", c->remote, c->cert_why, subj ? subj : "?",
		    iss ? iss : "?", until);
}

/* inbound: a partner's server connected to us */

static void
stream_in_header(struct conn *c, struct xml_elem *hdr)
{
	const char		*to, *from, *ver;
	char			 lto[XGW_NAME_MAX], lfrom[XGW_NAME_MAX];
	struct xgw_partner	*p;
	struct conn		*o;
	unsigned int		 n = 0, limit;
	size_t			 i;

	to = xml_attr_get(hdr, "to");
	from = xml_attr_get(hdr, "from");
	ver = xml_attr_get(hdr, "version");
	lto[0] = lfrom[0] = '\0';
	for (i = 0; to != NULL && to[i] != '\0' && i < sizeof(lto) - 1; i++)
		lto[i] = tolower((unsigned char)to[i]);
	lto[to ? i : 0] = '\0';
	for (i = 0; from != NULL && from[i] != '\0' && i < sizeof(lfrom) - 1;
	    i++)
		lfrom[i] = tolower((unsigned char)from[i]);
	lfrom[from ? i : 0] = '\0';
	/* both are echoed in our header: nothing but domain names */
	if (lfrom[0] != '\0' && !domain_name_valid(lfrom)) {
		(void)strlcpy(c->local, TAILQ_FIRST(&proc_conf->domains)->name,
		    sizeof(c->local));
		c->remote[0] = '\0';
		stream_new_id(c);
		stream_write_header(c);
		conn_stream_error(c, "invalid-from", "not a domain name");
		return;
	}

	/* the header must be answered with ours before any error */
	if (!c->restarted) {
		(void)strlcpy(c->local, domain_is_local(proc_conf, lto) ? lto :
		    TAILQ_FIRST(&proc_conf->domains)->name, sizeof(c->local));
	}
	stream_new_id(c);
	if (c->restarted && (strcmp(lto, c->local) != 0)) {
		(void)strlcpy(c->remote, lfrom, sizeof(c->remote));
		stream_write_header(c);
		conn_stream_error(c, "host-unknown",
		    "the stream restart changed 'to'");
		return;
	}
	if (c->restarted && strcmp(lfrom, c->remote) != 0) {
		stream_write_header(c);
		conn_stream_error(c, "invalid-from",
		    "the stream restart changed 'from'");
		return;
	}
	(void)strlcpy(c->remote, lfrom, sizeof(c->remote));
	stream_write_header(c);
	if (!domain_is_local(proc_conf, lto)) {
		conn_stream_error(c, "host-unknown", to == NULL ?
		    "no 'to' in the stream header" :
		    "not a domain of this gateway");
		return;
	}
	c->legacy = ver == NULL;
	if (!c->legacy && strcmp(ver, "1.0") != 0 &&
	    strncmp(ver, "1.", 2) != 0) {
		conn_stream_error(c, "unsupported-version", NULL);
		return;
	}
	if (from == NULL || lfrom[0] == '\0') {
		/*
		 * RFC 6120 only says SHOULD; without it (old servers, and
		 * openssl s_client -starttls xmpp-server) the partner is
		 * known once a dialback request names it.
		 */
		c->state = CS_OPEN;
		conn_write(c, "<stream:features>");
		if (!c->tls_done)
			conn_write(c, "<starttls xmlns='" NS_TLS "'/>");
		conn_write(c, "<dialback xmlns='" NS_DB_FEATURE "'><errors/>"
		    "</dialback></stream:features>");
		return;
	}
	if ((p = partner_find(proc_conf, lfrom)) == NULL) {
		log_info("conn %u from %s: %s is not a configured partner",
		    c->id, c->addr, lfrom);
		conn_stream_error(c, "policy-violation",
		    "not a partner of this gateway");
		return;
	}
	c->partner = p;
	if (!c->restarted) {
		limit = p->connections ? p->connections :
		    proc_conf->limits.per_partner;
		TAILQ_FOREACH(o, &s2s.conns, entry)
			if (o->partner == p && o->dir == CONN_IN)
				n++;
		if (n > limit) {
			conn_stream_error(c, "policy-violation",
			    "too many connections from this partner");
			return;
		}
	}
	if (c->tls_done && c->peer_chain != NULL && !c->cert_ok &&
	    c->cert_why[0] == '\0') {
		/* direct TLS: the name is known only now */
		c->cert_ok = stream_cert_proves(c, c->remote, c->cert_why,
		    sizeof(c->cert_why));
		if (!c->cert_ok)
			log_info("conn %u from %s: certificate does not "
			    "authenticate %s: %s", c->id, c->addr, c->remote,
			    c->cert_why);
	}
	c->state = CS_OPEN;
	if (!c->legacy)
		stream_in_features(c);
}

static void
stream_in_features(struct conn *c)
{
	struct xgw_partner	*p = c->partner;
	int			 sasl, db;

	if (c->auth != AUTH_NONE) {
		conn_write(c, "<stream:features/>");
		return;
	}
	sasl = c->tls_done && c->cert_ok && p->sasl != NEG_NOT_SUPPORTED;
	db = p->dialback && (c->tls_done || p->tls != NEG_REQUIRED);
	if (c->tls_done && !sasl && !db) {
		/* nothing left that could authenticate this peer */
		log_info("conn %u from %s: refusing %s: %s", c->id, c->addr,
		    c->remote, !c->cert_ok ? (p->dialback ?
		    "sasl required, and the certificate does not "
		    "authenticate it" : "dialback no, and the certificate "
		    "does not authenticate it") :
		    "sasl not supported and dialback no");
		conn_stream_error(c, "not-authorized", c->cert_ok ? NULL :
		    c->cert_why);
		return;
	}
	if (c->tls_done && p->sasl == NEG_REQUIRED && !sasl) {
		log_info("conn %u from %s: refusing %s: sasl required, and "
		    "the certificate does not authenticate it: %s", c->id,
		    c->addr, c->remote, c->cert_why);
		conn_stream_error(c, "not-authorized", c->cert_why);
		return;
	}
	conn_write(c, "<stream:features>");
	if (!c->tls_done && p->tls != NEG_NOT_SUPPORTED)
		conn_write(c, "<starttls xmlns='" NS_TLS "'>%s</starttls>",
		    p->tls == NEG_REQUIRED ? "<required/>" : "");
	if (sasl)
		conn_write(c, "<mechanisms xmlns='" NS_SASL "'>"
		    "<mechanism>EXTERNAL</mechanism></mechanisms>");
	if (db)
		conn_write(c, "<dialback xmlns='" NS_DB_FEATURE "'><errors/>"
		    "</dialback>");
	conn_write(c, "</stream:features>");
}

static void
stream_in_starttls(struct conn *c)
{
	if (c->state != CS_OPEN || c->tls_done || (c->partner != NULL &&
	    c->partner->tls == NEG_NOT_SUPPORTED)) {
		if (c->partner != NULL &&
		    c->partner->tls == NEG_NOT_SUPPORTED)
			log_info("conn %u from %s: STARTTLS refused: %s has "
			    "tls not supported", c->id, c->addr, c->remote);
		conn_write(c, "<failure xmlns='" NS_TLS "'/></stream:stream>");
		c->state = CS_CLOSING;
		conn_schedule(c);
		return;
	}
	conn_write(c, "<proceed xmlns='" NS_TLS "'/>");
	/* anything sent with <starttls/> is discarded, not decrypted */
	stream_restart(c);
	conn_starttls(c);
}

static int
stream_authzid_ok(struct conn *c, struct xml_elem *e)
{
	unsigned char	 dec[XGW_NAME_MAX + 4];
	int		 n;

	if (e->textlen == 0 || (e->textlen == 1 && e->text[0] == '='))
		return (1);
	if (e->textlen > 4 * (sizeof(dec) - 4) / 3)
		return (0);
	if ((n = EVP_DecodeBlock(dec, (const unsigned char *)e->text,
	    e->textlen)) < 0)
		return (0);
	/* EVP_DecodeBlock counts the padding */
	while (n > 0 && e->textlen >= 1 && e->text[e->textlen - 1] == '=' &&
	    dec[n - 1] == '\0') {
		n--;
		if (e->textlen >= 2 && e->text[e->textlen - 2] == '=' &&
		    n > 0 && dec[n - 1] == '\0')
			n--;
		break;
	}
	return ((size_t)n == strlen(c->remote) &&
	    strncasecmp((char *)dec, c->remote, n) == 0);
}

/* XEP-0178: SASL EXTERNAL, only with a certificate that proves 'from' */
static void
stream_in_auth(struct conn *c, struct xml_elem *e)
{
	const char	*mech = xml_attr_get(e, "mechanism");

	if (!xml_is(e, NS_SASL, "auth")) {
		conn_write(c, "<failure xmlns='" NS_SASL "'><aborted/>"
		    "</failure>");
		return;
	}
	if (c->auth != AUTH_NONE || c->partner == NULL) {
		conn_stream_error(c, "policy-violation", c->partner == NULL ?
		    "no stream header yet" : "already authenticated");
		return;
	}
	if (mech == NULL || strcmp(mech, "EXTERNAL") != 0) {
		conn_write(c, "<failure xmlns='" NS_SASL "'>"
		    "<invalid-mechanism/></failure>");
		return;
	}
	if (!c->tls_done || !c->cert_ok ||
	    c->partner->sasl == NEG_NOT_SUPPORTED || !stream_authzid_ok(c, e)) {
		log_info("conn %u from %s: SASL EXTERNAL for %s refused: %s",
		    c->id, c->addr, c->remote, !c->tls_done ? "no TLS" :
		    !c->cert_ok ? c->cert_why :
		    c->partner->sasl == NEG_NOT_SUPPORTED ?
		    "sasl not supported" : "authorization identity differs");
		/* RFC 6120 6.4.5: the condition that says why */
		conn_write(c, "<failure xmlns='" NS_SASL "'><%s/></failure>",
		    !c->tls_done ? "encryption-required" :
		    c->cert_ok && c->partner->sasl != NEG_NOT_SUPPORTED ?
		    "invalid-authzid" : "not-authorized");
		if (++c->sasl_failures >= 3)
			conn_stream_error(c, "policy-violation",
			    "too many authentication failures");
		return;
	}
	conn_write(c, "<success xmlns='" NS_SASL "'/>");
	stream_authenticated(c, AUTH_SASL);
	c->state = CS_HEADER;
	log_info("conn %u from %s: %s authenticated by SASL EXTERNAL (%s)",
	    c->id, c->addr, c->remote, c->tls_version);
	stream_restart(c);
	conn_schedule(c);
}

/* a dialback error for one pair; the stream stays for the others */
static void
stream_db_error(struct conn *c, const char *elem, const char *local,
    const char *remote, const char *cond)
{
	conn_write(c, "<db:%s from='%s' to='%s' type='error'><error "
	    "type='cancel'><%s xmlns='" NS_STANZA_ERR "'/></error></db:%s>",
	    elem, local, remote, cond, elem);
}

/* Receiving server: a partner asks to send from 'from' to 'to'. */
static void
stream_in_db_result(struct conn *c, struct xml_elem *e)
{
	const char		*from = xml_attr_get(e, "from");
	const char		*to = xml_attr_get(e, "to");
	struct xgw_partner	*p;
	struct db_pair		*pair;
	struct db_verify	*v;
	struct conn		*o;
	char			 why[256];

	if (xml_attr_get(e, "type") != NULL) {
		/* results only answer requests; we sent none on this stream */
		conn_stream_error(c, "not-authorized",
		    "unsolicited dialback result");
		return;
	}
	if (from == NULL || to == NULL || e->textlen == 0 ||
	    e->textlen > DIALBACK_KEY_LEN * 4) {
		conn_stream_error(c, "improper-addressing",
		    "dialback request without from, to or key");
		return;
	}
	if (!stream_token_ok(e->text, e->textlen, DIALBACK_KEY_LEN * 4) ||
	    !domain_name_valid(from) || !domain_name_valid(to)) {
		conn_stream_error(c, "not-acceptable", "malformed dialback "
		    "request");
		return;
	}
	if (c->partner == NULL) {
		/* a header without 'from': this request names the peer */
		if ((c->partner = partner_find(proc_conf, from)) == NULL) {
			log_info("conn %u from %s: %s is not a configured "
			    "partner", c->id, c->addr, from);
			conn_stream_error(c, "policy-violation",
			    "not a partner of this gateway");
			return;
		}
		(void)strlcpy(c->remote, from, sizeof(c->remote));
		if (c->tls_done && c->peer_chain != NULL)
			c->cert_ok = stream_cert_proves(c, c->remote,
			    c->cert_why, sizeof(c->cert_why));
	}
	if (!domain_is_local(proc_conf, to)) {
		stream_db_error(c, "result", to, from, "item-not-found");
		return;
	}
	if ((p = partner_find(proc_conf, from)) == NULL) {
		log_info("conn %u from %s: dialback for %s refused: not a "
		    "partner", c->id, c->addr, from);
		stream_db_error(c, "result", to, from, "forbidden");
		return;
	}
	if (!p->dialback) {
		log_info("conn %u from %s: dialback for %s refused: partner "
		    "%s has dialback no", c->id, c->addr, from, p->name);
		stream_db_error(c, "result", to, from, "policy-violation");
		return;
	}
	if (!c->tls_done && p->tls == NEG_REQUIRED) {
		log_info("conn %u from %s: dialback for %s refused: partner "
		    "%s has tls required", c->id, c->addr, from, p->name);
		stream_db_error(c, "result", to, from, "policy-violation");
		return;
	}
	if (c->tls_done && p->sasl == NEG_REQUIRED) {
		log_info("conn %u from %s: dialback for %s refused: partner "
		    "%s has sasl required", c->id, c->addr, from, p->name);
		stream_db_error(c, "result", to, from, "not-authorized");
		return;
	}
	TAILQ_FOREACH(pair, &c->pairs, entry)
		if (!strcmp(pair->local, to) && !strcmp(pair->remote, from))
			return;		/* asked already */
	if ((pair = calloc(1, sizeof(*pair))) == NULL)
		fatal("%s: calloc", __func__);
	(void)strlcpy(pair->local, to, sizeof(pair->local));
	(void)strlcpy(pair->remote, from, sizeof(pair->remote));
	TAILQ_INSERT_TAIL(&c->pairs, pair, entry);

	/*
	 * XEP-0344: a certificate that proves exactly this domain makes the
	 * round trip to the authoritative server unnecessary.
	 */
	if (stream_cert_proves(c, from, why, sizeof(why))) {
		pair->state = DB_VALID;
		if (c->auth == AUTH_NONE)
			stream_authenticated(c, AUTH_DIALBACK_TLS);
		conn_write(c, "<db:result from='%s' to='%s' type='valid'/>",
		    to, from);
		log_info("conn %u from %s: %s authenticated by its "
		    "certificate for dialback (%s)", c->id, c->addr, from,
		    c->tls_version);
		conn_schedule(c);
		return;
	}
	/* ask the authoritative server, over our stream to that domain */
	if ((v = calloc(1, sizeof(*v))) == NULL)
		fatal("%s: calloc", __func__);
	v->in_conn = c->id;
	(void)strlcpy(v->local, to, sizeof(v->local));
	(void)strlcpy(v->remote, from, sizeof(v->remote));
	(void)strlcpy(v->id, c->stream_id, sizeof(v->id));
	if ((size_t)snprintf(v->key, sizeof(v->key), "%.*s",
	    (int)e->textlen, e->text) >= sizeof(v->key)) {
		free(v);
		stream_db_error(c, "result", to, from, "not-acceptable");
		return;
	}
	if ((o = conn_out_find(to, from)) == NULL)
		o = conn_out_new(to, from, p);
	TAILQ_INSERT_TAIL(&o->verifies, v, entry);
	/* not during SASL: the restart after <success/> discards input */
	if (o->state == CS_OPEN || o->state == CS_DIALBACK)
		stream_out_verifies(o);
	else if (o->state == CS_CLOSING)
		conn_close(o, "cannot verify: the stream could not start");
}

/* Authoritative server: is this key one we made? */
static void
stream_in_db_verify(struct conn *c, struct xml_elem *e)
{
	const char	*from = xml_attr_get(e, "from");
	const char	*to = xml_attr_get(e, "to");
	const char	*id = xml_attr_get(e, "id");
	char		 key[DIALBACK_KEY_LEN * 4 + 1];

	if (xml_attr_get(e, "type") != NULL) {
		conn_stream_error(c, "not-authorized",
		    "unsolicited dialback verification result");
		return;
	}
	if (from == NULL || to == NULL || id == NULL ||
	    e->textlen == 0 || e->textlen >= sizeof(key) ||
	    strlen(id) > S2S_ID_MAX) {
		conn_stream_error(c, "improper-addressing",
		    "dialback verification without from, to, id or key");
		return;
	}
	if (!stream_token_ok(e->text, e->textlen, sizeof(key) - 1) ||
	    !stream_token_ok(id, strlen(id), S2S_ID_MAX) ||
	    !domain_name_valid(from) || !domain_name_valid(to)) {
		conn_stream_error(c, "not-acceptable", "malformed dialback "
		    "verification");
		return;
	}
	if (!domain_is_local(proc_conf, to)) {
		stream_db_error(c, "verify", to, from, "item-not-found");
		return;
	}
	if (partner_find(proc_conf, from) == NULL) {
		stream_db_error(c, "verify", to, from, "forbidden");
		return;
	}
	memcpy(key, e->text, e->textlen);
	key[e->textlen] = '\0';
	s2s_ask_check(c, from, to, id, key);
	explicit_bzero(key, sizeof(key));
}

void
stream_db_checked(struct conn *c, const char *recv, const char *orig,
    const char *id, int valid)
{
	if (conn_dead(c))
		return;
	conn_write(c, "<db:verify from='%s' to='%s' id='%s' type='%s'/>",
	    orig, recv, id, valid ? "valid" : "invalid");
	log_info("conn %u from %s: dialback key for %s -> %s is %s", c->id,
	    c->addr, orig, recv, valid ? "valid" : "invalid");
}

/*
 * The stanza rules of RFC 6120 section 8.1 and 4.7: from and to present,
 * from authenticated on this stream, to ours.
 */
static void
stream_in_stanza(struct conn *c, struct xml_elem *e)
{
	const char	*from = xml_attr_get(e, "from");
	const char	*to = xml_attr_get(e, "to");
	char		 fd[XGW_NAME_MAX], td[XGW_NAME_MAX];
	struct db_pair	*p;
	int		 ok = 0, any = 0;

	if (strcmp(e->name, "message") && strcmp(e->name, "presence") &&
	    strcmp(e->name, "iq")) {
		conn_stream_error(c, "unsupported-stanza-type", NULL);
		return;
	}
	TAILQ_FOREACH(p, &c->pairs, entry)
		if (p->state == DB_VALID)
			any = 1;
	if (c->auth == AUTH_NONE && !any) {
		conn_stream_error(c, "not-authorized",
		    "stanza before authentication");
		return;
	}
	if (from == NULL || to == NULL) {
		conn_stream_error(c, "improper-addressing",
		    "stanza without from or to");
		return;
	}
	if (jid_domain(from, fd, sizeof(fd)) == NULL) {
		conn_stream_error(c, "invalid-from", "malformed from");
		return;
	}
	if (jid_domain(to, td, sizeof(td)) == NULL ||
	    !domain_is_local(proc_conf, td)) {
		conn_stream_error(c, "host-unknown", "not a domain of this "
		    "gateway");
		return;
	}
	if (c->auth == AUTH_SASL && strcmp(fd, c->remote) == 0 &&
	    strcmp(td, c->local) == 0)
		ok = 1;
	TAILQ_FOREACH(p, &c->pairs, entry)
		if (p->state == DB_VALID && !strcmp(p->remote, fd) &&
		    !strcmp(p->local, td))
			ok = 1;
	if (!ok) {
		log_info("conn %u from %s: stanza from %s to %s: that domain "
		    "pair is not authenticated on this stream", c->id,
		    c->addr, fd, td);
		conn_stream_error(c, "invalid-from",
		    "domain pair not authenticated on this stream");
		return;
	}
	s2s_to_policy(c, e);
}

/* outbound: we connected to a partner */

static void
stream_out_header(struct conn *c, struct xml_elem *hdr)
{
	const char	*id = xml_attr_get(hdr, "id");

	if (id == NULL || !stream_token_ok(id, strlen(id), S2S_ID_MAX)) {
		stream_fail(c, "remote-server-not-found",
		    "the stream header from %s has no usable id", c->remote);
		return;
	}
	(void)strlcpy(c->stream_id, id, sizeof(c->stream_id));
	c->legacy = xml_attr_get(hdr, "version") == NULL;
	c->state = CS_FEATURES;
	if (c->legacy) {
		/* no features will come: dialback is all there is */
		conn_probe_step(c, "stream", "warning", "%s speaks no XMPP "
		    "1.0 (no version): no features, dialback only", c->remote);
		if (!c->tls_done && c->partner->tls == NEG_REQUIRED) {
			stream_fail(c, "remote-server-not-found", "refusing %s: "
			    "tls required, and it speaks no XMPP 1.0",
			    c->remote);
			return;
		}
		stream_out_verifies(c);
		stream_out_authenticate(c);
	}
}

static void
stream_out_element(struct conn *c, struct xml_elem *e)
{
	const char	*type = xml_attr_get(e, "type");

	if (c->state == CS_FEATURES && xml_is(e, NS_STREAMS, "features"))
		stream_out_features(c, e);
	else if (c->state == CS_STARTTLS && xml_is(e, NS_TLS, "proceed")) {
		stream_restart(c);
		conn_starttls(c);
	} else if (c->state == CS_STARTTLS && xml_is(e, NS_TLS, "failure"))
		stream_fail(c, "remote-server-not-found",
		    "%s refused STARTTLS", c->remote);
	else if (c->state == CS_SASL && xml_is(e, NS_SASL, "success")) {
		stream_authenticated(c, AUTH_SASL);
		c->state = CS_HEADER;
		log_info("conn %u to %s (%s): authenticated by SASL EXTERNAL "
		    "(%s)", c->id, c->remote, c->addr, c->tls_version);
		conn_probe_step(c, "auth", "ok", "%s accepted SASL EXTERNAL "
		    "for %s", c->remote, c->local);
		c->probe_at = "stream";
		stream_restart(c);
		stream_write_header(c);
	} else if (c->state == CS_SASL && xml_is(e, NS_SASL, "failure")) {
		log_info("conn %u to %s: SASL EXTERNAL refused by the peer",
		    c->id, c->remote);
		if (c->partner->dialback && c->partner->sasl != NEG_REQUIRED) {
			conn_probe_step(c, "auth", "warning", "%s refused SASL "
			    "EXTERNAL for %s: trying dialback", c->remote,
			    c->local);
			c->state = CS_FEATURES;
			c->feat_external = 0;
			stream_out_authenticate(c);
		} else
			stream_fail(c, "remote-server-not-found",
			    "%s refused SASL EXTERNAL (sasl required)",
			    c->remote);
	} else if (xml_is(e, NS_DIALBACK, "result") && type != NULL &&
	    c->state == CS_DIALBACK) {
		const char *from = xml_attr_get(e, "from");
		const char *to = xml_attr_get(e, "to");

		if (from == NULL || to == NULL ||
		    strcasecmp(from, c->remote) || strcasecmp(to, c->local)) {
			log_info("conn %u to %s: dialback result for another "
			    "pair ignored", c->id, c->remote);
			return;
		}
		if (strcmp(type, "valid") == 0) {
			stream_authenticated(c, c->tls_done ?
			    AUTH_DIALBACK_TLS : AUTH_DIALBACK_TCP);
			log_info("conn %u to %s (%s): authenticated by %s", c->id,
			    c->remote, c->addr, stream_auth_name(c->auth));
			conn_probe_step(c, "auth", "ok", "%s accepted the "
			    "dialback key of %s (%s)", c->remote, c->local,
			    stream_auth_name(c->auth));
			stream_out_ready(c);
		} else
			stream_fail(c, "remote-server-not-found",
			    "%s did not accept our dialback key (%s)",
			    c->remote, type);
	} else if (xml_is(e, NS_DIALBACK, "verify") && type != NULL)
		stream_verify_answer(c, e);
	else
		log_info("conn %u to %s: unexpected <%s/> in state %s ignored",
		    c->id, c->remote, e->name, stream_state_name(c));
}

static void
stream_out_features(struct conn *c, struct xml_elem *e)
{
	struct xml_elem		*st, *m, *x;
	struct xgw_partner	*p = c->partner;

	st = xml_child(e, NS_TLS, "starttls");
	c->feat_starttls = st != NULL;
	c->feat_external = 0;
	if ((m = xml_child(e, NS_SASL, "mechanisms")) != NULL)
		TAILQ_FOREACH(x, &m->children, entry)
			if (xml_is(x, NS_SASL, "mechanism") &&
			    x->textlen == 8 && !memcmp(x->text, "EXTERNAL", 8))
				c->feat_external = 1;
	c->feat_dialback = xml_child(e, NS_DB_FEATURE, "dialback") != NULL;

	if (c->auth != AUTH_NONE) {	/* after SASL */
		stream_out_ready(c);
		return;
	}
	conn_probe_step(c, "features", "ok", "%s offers%s%s%s%s%s",
	    c->remote, st == NULL ? "" : " STARTTLS",
	    st != NULL && xml_child(st, NS_TLS, "required") != NULL ?
	    " (required)" : "", c->feat_external ? " SASL EXTERNAL" : "",
	    c->feat_dialback ? " dialback" : "",
	    st == NULL && !c->feat_external && !c->feat_dialback ?
	    " nothing" : "");
	if (!c->tls_done) {
		c->probe_at = "tls";
		if (st != NULL && p->tls != NEG_NOT_SUPPORTED) {
			conn_write(c, "<starttls xmlns='" NS_TLS "'/>");
			c->state = CS_STARTTLS;
			return;
		}
		if (p->tls == NEG_REQUIRED) {
			stream_fail(c, "remote-server-not-found", "refusing %s: "
			    "tls required, and it does not offer STARTTLS",
			    c->remote);
			return;
		}
		if (st != NULL && xml_child(st, NS_TLS, "required") != NULL) {
			stream_fail(c, "remote-server-not-found", "refusing %s: "
			    "it requires TLS, and tls not supported is "
			    "configured", c->remote);
			return;
		}
	}
	stream_out_verifies(c);
	stream_out_authenticate(c);
}

/* pick SASL EXTERNAL or dialback, as the partner's settings allow */
static void
stream_out_authenticate(struct conn *c)
{
	struct xgw_partner	*p = c->partner;

	c->probe_at = "auth";
	if (c->tls_done && c->cert_ok && c->feat_external &&
	    p->sasl != NEG_NOT_SUPPORTED) {
		xbuf_printf(&c->out, "%s", "");
		conn_write(c, "<auth xmlns='" NS_SASL "' mechanism='EXTERNAL'>");
		{
			unsigned char	 enc[XGW_NAME_MAX * 2];
			int		 n;

			n = EVP_EncodeBlock(enc, (unsigned char *)c->local,
			    strlen(c->local));
			conn_write(c, "%.*s</auth>", n, enc);
		}
		c->state = CS_SASL;
		return;
	}
	if (p->sasl == NEG_REQUIRED && !p->dialback) {
		stream_fail(c, "remote-server-not-found", "refusing %s: sasl "
		    "required and %s", c->remote, !c->tls_done ? "no TLS" :
		    !c->cert_ok ? c->cert_why :
		    "it does not offer SASL EXTERNAL");
		return;
	}
	if (p->sasl == NEG_REQUIRED && c->tls_done) {
		stream_fail(c, "remote-server-not-found", "refusing %s: sasl "
		    "required and %s", c->remote, !c->cert_ok ? c->cert_why :
		    "it does not offer SASL EXTERNAL");
		return;
	}
	if (!p->dialback) {
		stream_fail(c, "remote-server-not-found", "refusing %s: "
		    "dialback no and %s", c->remote, !c->tls_done ? "no TLS" :
		    !c->cert_ok ? c->cert_why :
		    "it does not offer SASL EXTERNAL");
		return;
	}
	if (!c->tls_done && p->tls == NEG_REQUIRED) {
		stream_fail(c, "remote-server-not-found", "refusing %s: tls "
		    "required", c->remote);
		return;
	}
	c->state = CS_DIALBACK;
	c->waiting_key = 1;
	s2s_ask_key(c, c->remote, c->local, c->stream_id);
}

void
stream_db_key(struct conn *c, const char *key)
{
	if (conn_dead(c) || !c->waiting_key)
		return;
	c->waiting_key = 0;
	if (key == NULL) {
		stream_fail(c, "internal-server-error",
		    "no dialback key: the dialback process is unavailable");
		return;
	}
	conn_write(c, "<db:result from='%s' to='%s'>%s</db:result>",
	    c->local, c->remote, key);
}

static void
stream_out_verifies(struct conn *c)
{
	struct db_verify	*v;

	TAILQ_FOREACH(v, &c->verifies, entry) {
		if (v->sent)
			continue;
		conn_write(c, "<db:verify from='%s' to='%s' id='%s'>%s"
		    "</db:verify>", v->local, v->remote, v->id, v->key);
		v->sent = 1;
	}
}

/*
 * The authoritative server answered a db:verify of ours.  An answer to
 * nothing we asked on this very stream is ignored (the 2012 unsolicited
 * dialback attack).
 */
static void
stream_verify_answer(struct conn *c, struct xml_elem *e)
{
	const char	*from = xml_attr_get(e, "from");
	const char	*to = xml_attr_get(e, "to");
	const char	*id = xml_attr_get(e, "id");
	const char	*type = xml_attr_get(e, "type");
	struct db_verify *v;
	struct db_pair	*p;
	struct conn	*in;
	int		 valid;

	TAILQ_FOREACH(v, &c->verifies, entry)
		if (v->sent && from && to && id && !strcasecmp(v->remote, from) &&
		    !strcasecmp(v->local, to) && !strcmp(v->id, id))
			break;
	if (v == NULL) {
		log_info("conn %u to %s: dialback verification that answers "
		    "no request of ours ignored", c->id, c->remote);
		return;
	}
	TAILQ_REMOVE(&c->verifies, v, entry);
	valid = strcmp(type, "valid") == 0;
	if ((in = conn_find(v->in_conn)) == NULL || conn_dead(in)) {
		free(v);
		return;
	}
	TAILQ_FOREACH(p, &in->pairs, entry)
		if (!strcmp(p->local, v->local) && !strcmp(p->remote, v->remote))
			break;
	if (p == NULL) {
		free(v);
		return;
	}
	if (valid) {
		p->state = DB_VALID;
		if (in->auth == AUTH_NONE)
			stream_authenticated(in, in->tls_done ?
			    AUTH_DIALBACK_TLS : AUTH_DIALBACK_TCP);
		conn_write(in, "<db:result from='%s' to='%s' type='valid'/>",
		    v->local, v->remote);
		log_info("conn %u from %s: %s authenticated by dialback "
		    "over %s", in->id, in->addr, v->remote,
		    in->tls_done ? "TLS" : "TCP");
		conn_schedule(in);
	} else {
		log_info("conn %u from %s: dialback for %s failed: the "
		    "authoritative server says %s", in->id, in->addr,
		    v->remote, type);
		if (strcmp(type, "invalid") == 0) {
			conn_write(in, "<db:result from='%s' to='%s' "
			    "type='invalid'/>", v->local, v->remote);
			TAILQ_REMOVE(&in->pairs, p, entry);
			free(p);
			conn_stream_error(in, "not-authorized",
			    "dialback key invalid");
		} else {
			stream_db_error(in, "result", v->local, v->remote,
			    "remote-server-not-found");
			TAILQ_REMOVE(&in->pairs, p, entry);
			free(p);
		}
	}
	free(v);
}

static void
stream_out_ready(struct conn *c)
{
	struct queued	*q;

	if (c->probe) {
		conn_probe_end(c, 1, NULL);
		return;
	}
	c->state = CS_OPEN;
	conn_schedule(c);
	stream_out_verifies(c);
	while ((q = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, q, entry);
		c->nqueued--;
		conn_write_elem(c, q->stanza);
		if (q->report)
			s2s_report(q->report, "");
		xml_free(q->stanza);
		free(q);
	}
}

static void
stream_fail(struct conn *c, const char *cond, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	log_info("conn %u to %s (%s): %s", c->id, c->remote, c->addr,
	    msg ? msg : fmt);
	conn_probe_end(c, 0, msg ? msg : fmt);
	stream_bounce_queue(c, cond, msg);
	free(msg);
	conn_write(c, "</stream:stream>");
	c->state = CS_CLOSING;
	conn_schedule(c);
}

/*
 * Every stanza queued for a stream that cannot come up is answered to its
 * sender with an error (never an error to an error): nothing vanishes.
 */
void
stream_bounce_queue(struct conn *c, const char *cond, const char *text)
{
	struct queued	*q;
	struct stanza	 s;
	struct imsgev	*iev;
	struct ibuf	*b;

	while ((q = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, q, entry);
		c->nqueued--;
		if (q->report) {
			/* its sender is on the SIP side: policy answers it */
			s2s_report(q->report, cond);
			xml_free(q->stanza);
			free(q);
			continue;
		}
		if (stanza_from_xml(&s, q->stanza) == 0 &&
		    strcmp(s.type, "error") != 0 &&
		    stanza_make_error(&s, cond, NULL, text) == 0) {
			if ((iev = proc_peer(PROC_POLICY, 0)) != NULL &&
			    (b = imsg_create(&iev->ibuf, IMSG_STANZA_IN, 0, 0,
			    512)) != NULL && stanza_encode(b, &s) == 0) {
				imsg_close(&iev->ibuf, b);
				imsgev_add(iev);
			} else
				log_warnx("%s: error for %s lost: policy "
				    "unreachable", __func__, s.to);
		}
		stanza_clear(&s);
		xml_free(q->stanza);
		free(q);
	}
}

/* the connection is going: answer what waits on it elsewhere */
void
stream_conn_gone(struct conn *c)
{
	struct db_verify	*v;
	struct db_pair		*p;
	struct conn		*in;

	while ((v = TAILQ_FIRST(&c->verifies)) != NULL) {
		TAILQ_REMOVE(&c->verifies, v, entry);
		if ((in = conn_find(v->in_conn)) != NULL && !conn_dead(in)) {
			TAILQ_FOREACH(p, &in->pairs, entry)
				if (!strcmp(p->local, v->local) &&
				    !strcmp(p->remote, v->remote))
					break;
			if (p != NULL && p->state == DB_PENDING) {
				stream_db_error(in, "result", v->local,
				    v->remote, "remote-server-not-found");
				TAILQ_REMOVE(&in->pairs, p, entry);
				free(p);
			}
		}
		free(v);
	}
	free(c->peer_chain);
	c->peer_chain = NULL;
}

/* A stanza from policy to a partner: send, or queue until the stream is up. */
void
stream_deliver(struct stanza *s, uint32_t report)
{
	char			 fd[XGW_NAME_MAX], td[XGW_NAME_MAX];
	struct xgw_partner	*p;
	struct xml_elem		*e;
	struct queued		*q;
	struct conn		*c;

	if (jid_domain(s->from, fd, sizeof(fd)) == NULL ||
	    !domain_is_local(proc_conf, fd) ||
	    jid_domain(s->to, td, sizeof(td)) == NULL ||
	    (p = partner_find(proc_conf, td)) == NULL) {
		log_warnx("%s: stanza from %s to %s not routable", __func__,
		    s->from, s->to);
		if (report)
			s2s_report(report, "remote-server-not-found");
		return;
	}
	if ((e = stanza_to_xml(s)) == NULL)
		fatal("%s: stanza_to_xml", __func__);
	if ((c = conn_out_find(fd, td)) == NULL)
		c = conn_out_new(fd, td, p);
	if (c->state == CS_OPEN && c->auth != AUTH_NONE) {
		conn_write_elem(c, e);
		xml_free(e);
		if (report)
			s2s_report(report, "");
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("%s: calloc", __func__);
	q->stanza = e;
	q->report = report;
	TAILQ_INSERT_TAIL(&c->queue, q, entry);
	if (++c->nqueued > S2S_QUEUE_MAX) {
		/* the oldest goes back to its sender */
		struct queued	*first = TAILQ_FIRST(&c->queue);
		struct conn	 tmp;

		TAILQ_REMOVE(&c->queue, first, entry);
		c->nqueued--;
		memset(&tmp, 0, sizeof(tmp));
		TAILQ_INIT(&tmp.queue);
		TAILQ_INSERT_TAIL(&tmp.queue, first, entry);
		tmp.nqueued = 1;
		stream_bounce_queue(&tmp, "resource-constraint",
		    "too many stanzas waiting for the partner's stream");
	}
	if (c->state == CS_CLOSING && c->fd < 0) {
		stream_bounce_queue(c, "remote-server-not-found",
		    "the gateway cannot reach its dialback process");
		conn_close(c, "no dialback process");
	}
}
