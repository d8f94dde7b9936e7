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
 * XEP-0185 dialback keys and the certificate checks of XEP-0178 /
 * RFC 6120 section 13.7.1.2 with the name rules of RFC 9525.  Nothing
 * here does I/O or keeps state besides the CA store, so that the same
 * code runs in whichever process holds the secret or the CA and can be
 * tested on its own.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth.h"

#define SHA256_LEN	32
#define DNSNAME_MAX	253		/* RFC 1035, without the root dot */
#define SRVID_PREFIX	"_xmpp-server."
#define WHY_NAMES	5		/* names quoted in a name mismatch */
#define WHY_NAMELEN	64		/* and how much of each */

enum san_kind {
	SAN_DNS,			/* dNSName: DNS-ID */
	SAN_SRV,			/* otherName id-on-dnsSRV: SRV-ID */
	SAN_XMPP			/* otherName id-on-xmppAddr */
};

struct certid_ca {
	X509_STORE	*store;
};

static void	 setwhy(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 setwhy_ssl(char *, size_t, const char *);
static int	 dialback_part(const char *);
static void	 hex(const uint8_t *, size_t, char *);
static int	 ascii_ncaseeq(const char *, const char *, size_t);
static int	 dnsname_ok(const char *, int);
static int	 nopass(char *, int, int, void *);
static STACK_OF(X509) *pem_certs(const uint8_t *, size_t, char *, size_t);
static const ASN1_STRING *san_string(const GENERAL_NAME *, enum san_kind *);
static int	 san_match(enum san_kind, const ASN1_STRING *, const char *);
static void	 san_show(char *, size_t, enum san_kind, const ASN1_STRING *);
static enum certid_result certid_names(X509 *, const char *, char *, size_t);

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	/* a truncated reason is still a good log line */
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* what failed, and the last reason OpenSSL gave; leaves the queue empty */
static void
setwhy_ssl(char *why, size_t whylen, const char *what)
{
	unsigned long	 e;
	const char	*r = NULL;

	if ((e = ERR_peek_last_error()) != 0)
		r = ERR_reason_error_string(e);
	setwhy(why, whylen, "%s: %s", what, r != NULL ? r : "failed");
	ERR_clear_error();
}

/*
 * Domains and stream ids never hold a space, and one would make the
 * space-separated HMAC input ambiguous (CVE-2016-0756 was the same
 * ambiguity without separators).
 */
static int
dialback_part(const char *s)
{
	return (s != NULL && *s != '\0' && strchr(s, ' ') == NULL);
}

static void
hex(const uint8_t *p, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
dialback_key(const uint8_t *secret, size_t secretlen, const char *recv,
    const char *orig, const char *id, char key[DIALBACK_KEY_LEN + 1])
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	char		 hkey[2 * SHA256_LEN + 1];
	char		 digest[] = "SHA256";
	OSSL_PARAM	 params[2];
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	unsigned int	 mdlen;
	size_t		 maclen;
	int		 rv = -1;

	if (key == NULL)
		return (-1);
	key[0] = '\0';
	if (secret == NULL || secretlen == 0 || !dialback_part(recv) ||
	    !dialback_part(orig) || !dialback_part(id))
		return (-1);

	/* XEP-0185: the HMAC key is the hex text of SHA-256(secret) */
	if (!EVP_Digest(secret, secretlen, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != SHA256_LEN)
		goto done;
	hex(md, SHA256_LEN, hkey);

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    !EVP_MAC_init(ctx, (const uint8_t *)hkey, strlen(hkey), params) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)recv, strlen(recv)) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)" ", 1) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)orig, strlen(orig)) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)" ", 1) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)id, strlen(id)) ||
	    !EVP_MAC_final(ctx, md, &maclen, sizeof(md)) ||
	    maclen != SHA256_LEN)
		goto done;
	hex(md, SHA256_LEN, key);
	rv = 0;
 done:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	ERR_clear_error();
	return (rv);
}

int
dialback_key_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (0);
	/* the length of a key is public; only its content must not leak */
	if (strnlen(a, DIALBACK_KEY_LEN + 1) != DIALBACK_KEY_LEN ||
	    strnlen(b, DIALBACK_KEY_LEN + 1) != DIALBACK_KEY_LEN)
		return (0);
	return (CRYPTO_memcmp(a, b, DIALBACK_KEY_LEN) == 0);
}

/* ASCII only: the locale must not change what a name matches */
static int
ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	unsigned char	 ca, cb;

	for (; n > 0; n--, a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return (0);
		if (ca == '\0')
			break;
	}
	return (1);
}

/*
 * A name fit for comparison: printable ASCII (IDNs as A-labels), no
 * empty label, hence no trailing dot (RFC 7622 3.2 has the caller
 * strip it), and '*' only as the whole first character of a pattern.
 */
static int
dnsname_ok(const char *s, int pattern)
{
	size_t	 i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > DNSNAME_MAX)
		return (0);
	if (s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return (0);
		if (s[i] == '*' && (!pattern || i != 0))
			return (0);
	}
	return (1);
}

int
certid_name_match(const char *pat, const char *domain)
{
	const char	*rest;

	if (!dnsname_ok(pat, 1) || !dnsname_ok(domain, 0))
		return (0);
	if (pat[0] != '*')
		return (ascii_ncaseeq(pat, domain, SIZE_MAX));
	/*
	 * "*." and at least two more labels: the wildcard stands for
	 * exactly one label, and "*" or "*.com" would cover a whole TLD.
	 * No public suffix list: "*.co.uk" is the CA's business.
	 */
	if (pat[1] != '.' || strchr(pat + 2, '.') == NULL)
		return (0);
	if ((rest = strchr(domain, '.')) == NULL)
		return (0);
	return (ascii_ncaseeq(pat + 2, rest + 1, SIZE_MAX));
}

/* a certificate is never encrypted: refuse rather than prompt on a tty */
static int
nopass(char *buf, int size, int rwflag, void *arg)
{
	return (-1);
}

/* every CERTIFICATE block of a PEM text, in order; other blocks skipped */
static STACK_OF(X509) *
pem_certs(const uint8_t *pem, size_t len, char *why, size_t whylen)
{
	STACK_OF(X509)	*sk = NULL;
	BIO		*bio = NULL;
	X509		*x;
	unsigned long	 e;

	ERR_clear_error();
	if (pem == NULL || len == 0 || len > INT_MAX) {
		setwhy(why, whylen, "no certificate");
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		setwhy_ssl(why, whylen, "PEM");
		goto fail;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, nopass, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			setwhy_ssl(why, whylen, "PEM");
			goto fail;
		}
	}
	/* the loop ends on "no start line" at the end, or on a bad block */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		setwhy_ssl(why, whylen, "unparsable certificate");
		goto fail;
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		setwhy(why, whylen, "no certificate");
		goto fail;
	}
	BIO_free(bio);
	return (sk);
 fail:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return (NULL);
}

struct certid_ca *
certid_ca_load(const uint8_t *pem, size_t len, char *why, size_t whylen)
{
	struct certid_ca	*ca;
	STACK_OF(X509)		*sk;
	int			 i;

	if ((sk = pem_certs(pem, len, why, whylen)) == NULL)
		return (NULL);
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		setwhy(why, whylen, "out of memory");
		goto fail;
	}
	if ((ca->store = X509_STORE_new()) == NULL) {
		setwhy_ssl(why, whylen, "CA store");
		goto fail;
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		/* takes its own reference; duplicates are ignored */
		if (!X509_STORE_add_cert(ca->store, sk_X509_value(sk, i))) {
			setwhy_ssl(why, whylen, "CA certificate");
			goto fail;
		}
	}
	sk_X509_pop_free(sk, X509_free);
	return (ca);
 fail:
	certid_ca_free(ca);
	sk_X509_pop_free(sk, X509_free);
	return (NULL);
}

void
certid_ca_free(struct certid_ca *ca)
{
	if (ca == NULL)
		return;
	X509_STORE_free(ca->store);
	free(ca);
}

/* the string of a subjectAltName entry we use, with its kind */
static const ASN1_STRING *
san_string(const GENERAL_NAME *gn, enum san_kind *kind)
{
	const OTHERNAME	*on;

	if (gn->type == GEN_DNS) {
		*kind = SAN_DNS;
		return (gn->d.dNSName);
	}
	if (gn->type != GEN_OTHERNAME || (on = gn->d.otherName) == NULL ||
	    on->value == NULL)
		return (NULL);
	/* RFC 4985 and RFC 6120 13.7.1.4 fix the string types */
	switch (OBJ_obj2nid(on->type_id)) {
	case NID_SRVName:
		if (on->value->type != V_ASN1_IA5STRING)
			return (NULL);
		*kind = SAN_SRV;
		return (on->value->value.ia5string);
	case NID_XmppAddr:
		if (on->value->type != V_ASN1_UTF8STRING)
			return (NULL);
		*kind = SAN_XMPP;
		return (on->value->value.utf8string);
	}
	return (NULL);
}

static int
san_match(enum san_kind kind, const ASN1_STRING *as, const char *domain)
{
	char		 name[DNSNAME_MAX + sizeof(SRVID_PREFIX)];
	const char	*p = name;
	int		 len;

	/* an embedded NUL would let "a.test\0.evil" pass as "a.test" */
	len = ASN1_STRING_length(as);
	if (len <= 0 || (size_t)len >= sizeof(name) ||
	    memchr(ASN1_STRING_get0_data(as), '\0', len) != NULL)
		return (0);
	memcpy(name, ASN1_STRING_get0_data(as), len);
	name[len] = '\0';

	switch (kind) {
	case SAN_DNS:
		break;
	case SAN_SRV:
		/* the DNS part of an SRV-ID may be a wildcard, as in Prosody */
		if (!ascii_ncaseeq(name, SRVID_PREFIX, strlen(SRVID_PREFIX)))
			return (0);
		p += strlen(SRVID_PREFIX);
		break;
	case SAN_XMPP:
		/* a bare domain, never a wildcard (RFC 6120 13.7.1.4) */
		if (strchr(name, '*') != NULL)
			return (0);
		break;
	}
	return (certid_name_match(p, domain));
}

/* append a name, defused for a log line, to a list */
static void
san_show(char *list, size_t size, enum san_kind kind, const ASN1_STRING *as)
{
	static const char	*tag[] = { "", "SRV:", "xmppAddr:" };
	const unsigned char	*d = ASN1_STRING_get0_data(as);
	char			 buf[WHY_NAMELEN + 4];
	int			 i, len = ASN1_STRING_length(as);

	for (i = 0; i < len && i < WHY_NAMELEN; i++)
		buf[i] = (d[i] > ' ' && d[i] < 0x7f) ? (char)d[i] : '?';
	buf[i] = '\0';
	if (len > WHY_NAMELEN)
		(void)strlcat(buf, "...", sizeof(buf));
	if (*list != '\0')
		(void)strlcat(list, ", ", size);
	(void)strlcat(list, tag[kind], size);
	(void)strlcat(list, buf, size);
}

/* RFC 9525: subjectAltName only, the subject CN is never looked at */
static enum certid_result
certid_names(X509 *leaf, const char *domain, char *why, size_t whylen)
{
	GENERAL_NAMES		*gns;
	const ASN1_STRING	*as;
	enum san_kind		 kind;
	enum certid_result	 rv = CERTID_NAME;
	char			 list[WHY_NAMES * (WHY_NAMELEN + 16) + 8];
	int			 crit, i, n = 0;

	gns = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (gns == NULL) {
		/* crit is -1 if absent, else the extension is bad or twice */
		setwhy(why, whylen, "certificate has %s subjectAltName",
		    crit == -1 ? "no" : "an unparsable");
		return (crit == -1 ? CERTID_NAME : CERTID_ERROR);
	}
	list[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		if ((as = san_string(sk_GENERAL_NAME_value(gns, i),
		    &kind)) == NULL)
			continue;
		if (san_match(kind, as, domain)) {
			rv = CERTID_OK;
			break;
		}
		if (n++ < WHY_NAMES)
			san_show(list, sizeof(list), kind, as);
		else if (n == WHY_NAMES + 1)
			(void)strlcat(list, ", ...", sizeof(list));
	}
	GENERAL_NAMES_free(gns);
	if (rv == CERTID_OK)
		return (rv);
	if (n == 0)
		setwhy(why, whylen, "certificate has no DNS, SRV or XMPP "
		    "subjectAltName");
	else
		setwhy(why, whylen, "certificate is for %s, not %s", list,
		    domain);
	return (rv);
}

enum certid_result
certid_check(struct certid_ca *ca, const uint8_t *pem, size_t len,
    const char *domain, char *why, size_t whylen)
{
	STACK_OF(X509)		*chain;
	X509_STORE_CTX		*ctx = NULL;
	X509			*leaf;
	enum certid_result	 rv = CERTID_ERROR;
	int			 err;

	setwhy(why, whylen, "%s", "");
	if (ca == NULL || domain == NULL || *domain == '\0') {
		setwhy(why, whylen, "no CA or no domain");
		return (CERTID_ERROR);
	}
	if ((chain = pem_certs(pem, len, why, whylen)) == NULL)
		return (CERTID_ERROR);
	/* leaf first; what follows is untrusted, the store decides */
	leaf = sk_X509_shift(chain);

	/*
	 * Both directions check the peer as a server: X509_PURPOSE_SSL_SERVER
	 * wants serverAuth if there is an extendedKeyUsage at all, so a
	 * clientAuth-only certificate fails and one without EKU passes.
	 */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, ca->store, leaf, chain) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER)) {
		setwhy_ssl(why, whylen, "certificate check");
		goto done;
	}
	if (X509_verify_cert(ctx) != 1) {
		if ((err = X509_STORE_CTX_get_error(ctx)) == X509_V_OK) {
			setwhy_ssl(why, whylen, "certificate check");
			goto done;
		}
		setwhy(why, whylen, "certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx));
		rv = CERTID_CHAIN;
		goto done;
	}
	rv = certid_names(leaf, domain, why, whylen);
 done:
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return (rv);
}
