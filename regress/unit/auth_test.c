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
 * Unit tests of xmppgwd/auth.c: the XEP-0185 dialback key (published
 * vectors, CVE-2016-0756 ambiguity), the constant-time comparison, the
 * DNS-ID wildcard rules and certid_check() on certificates made here
 * with libcrypto at run time (no key ever lands on disk or in git).
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth.h"

#define SECRET		"s3cr3tf0rd14lb4ck"
#define DOMAIN		"example.test"
#define SRV_OID		"1.3.6.1.5.5.7.8.7"
#define XMPP_OID	"1.3.6.1.5.5.7.8.5"
#define DAY		(24L * 60 * 60)

/*
 * Dialback
 */

static void
key_of(const char *recv, const char *orig, const char *id,
    char key[DIALBACK_KEY_LEN + 1])
{
	ATF_REQUIRE_EQ(dialback_key((const uint8_t *)SECRET, strlen(SECRET),
	    recv, orig, id, key), 0);
	ATF_REQUIRE_EQ(strlen(key), DIALBACK_KEY_LEN);
}

ATF_TC_WITHOUT_HEAD(dialback_vectors);
ATF_TC_BODY(dialback_vectors, tc)
{
	char	 key[DIALBACK_KEY_LEN + 1];

	/* XEP-0185 section 3 and XEP-0220 examples */
	key_of("xmpp.example.com", "example.org", "D60000229F", key);
	ATF_CHECK_STREQ(key,
	    "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643");
	key_of("montague.example", "capulet.example", "D60000229F", key);
	ATF_CHECK_STREQ(key,
	    "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3");
}

ATF_TC_WITHOUT_HEAD(dialback_ambiguity);
ATF_TC_BODY(dialback_ambiguity, tc)
{
	char	 a[DIALBACK_KEY_LEN + 1], b[DIALBACK_KEY_LEN + 1];
	char	 k[DIALBACK_KEY_LEN + 1];

	/* CVE-2016-0756: the same bytes split differently */
	key_of("bber.example", "jabber.example", "D60000229F", a);
	key_of("jab", "ber.example", "D60000229F", b);
	ATF_CHECK(strcmp(a, b) != 0);
	key_of("jabber.example", "bber.example", "D60000229F", b);
	ATF_CHECK(strcmp(a, b) != 0);
	key_of("a.example", "bc.example", "ID", a);
	key_of("a.exampleb", "c.example", "ID", b);
	ATF_CHECK(strcmp(a, b) != 0);
	key_of("x.example", "y.example", "ab", a);
	key_of("x.example", "y.examplea", "b", b);
	ATF_CHECK(strcmp(a, b) != 0);

	/* the direction is part of the key */
	key_of("montague.example", "capulet.example", "D60000229F", a);
	key_of("capulet.example", "montague.example", "D60000229F", b);
	ATF_CHECK(strcmp(a, b) != 0);
	/* and so are the stream id and the secret */
	key_of("montague.example", "capulet.example", "D60000229G", b);
	ATF_CHECK(strcmp(a, b) != 0);
	ATF_REQUIRE_EQ(dialback_key((const uint8_t *)"other", 5,
	    "montague.example", "capulet.example", "D60000229F", k), 0);
	ATF_CHECK(strcmp(a, k) != 0);
}

ATF_TC_WITHOUT_HEAD(dialback_bad_input);
ATF_TC_BODY(dialback_bad_input, tc)
{
	const uint8_t	*s = (const uint8_t *)SECRET;
	size_t		 sl = strlen(SECRET);
	char		 k[DIALBACK_KEY_LEN + 1];

	ATF_CHECK_EQ(dialback_key(NULL, sl, "a.example", "b.example", "i", k),
	    -1);
	ATF_CHECK_EQ(dialback_key(s, 0, "a.example", "b.example", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, NULL, "b.example", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", NULL, "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "b.example", NULL, k),
	    -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "", "b.example", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "b.example", "", k), -1);
	ATF_CHECK_STREQ(k, "");
	/* a space would make the HMAC input ambiguous */
	ATF_CHECK_EQ(dialback_key(s, sl, "a b", "c.example", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "b c", "i", k), -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "b.example", "i d", k),
	    -1);
	ATF_CHECK_EQ(dialback_key(s, sl, "a.example", "b.example", "i", NULL),
	    -1);
	/* binary secrets are fine */
	ATF_CHECK_EQ(dialback_key((const uint8_t *)"\0\1\2", 3, "a.example",
	    "b.example", "i", k), 0);
}

ATF_TC_WITHOUT_HEAD(dialback_key_equal);
ATF_TC_BODY(dialback_key_equal, tc)
{
	char	 a[DIALBACK_KEY_LEN + 1], b[DIALBACK_KEY_LEN + 1];
	char	 longer[DIALBACK_KEY_LEN + 2];

	key_of("montague.example", "capulet.example", "D60000229F", a);
	memcpy(b, a, sizeof(b));
	ATF_CHECK_EQ(dialback_key_equal(a, b), 1);
	ATF_CHECK_EQ(dialback_key_equal(a, a), 1);

	b[DIALBACK_KEY_LEN - 1] = b[DIALBACK_KEY_LEN - 1] == '0' ? '1' : '0';
	ATF_CHECK_EQ(dialback_key_equal(a, b), 0);
	memcpy(b, a, sizeof(b));
	b[0] = b[0] == '0' ? '1' : '0';
	ATF_CHECK_EQ(dialback_key_equal(a, b), 0);

	/* a prefix, a longer string, empty, NULL: never equal */
	memcpy(b, a, sizeof(b));
	b[DIALBACK_KEY_LEN - 1] = '\0';
	ATF_CHECK_EQ(dialback_key_equal(a, b), 0);
	ATF_CHECK_EQ(dialback_key_equal(b, a), 0);
	ATF_CHECK_EQ(dialback_key_equal(b, b), 0);
	memcpy(longer, a, DIALBACK_KEY_LEN);
	longer[DIALBACK_KEY_LEN] = 'a';
	longer[DIALBACK_KEY_LEN + 1] = '\0';
	ATF_CHECK_EQ(dialback_key_equal(a, longer), 0);
	ATF_CHECK_EQ(dialback_key_equal(longer, longer), 0);
	ATF_CHECK_EQ(dialback_key_equal(a, ""), 0);
	ATF_CHECK_EQ(dialback_key_equal("", ""), 0);
	ATF_CHECK_EQ(dialback_key_equal(a, NULL), 0);
	ATF_CHECK_EQ(dialback_key_equal(NULL, a), 0);
	ATF_CHECK_EQ(dialback_key_equal(NULL, NULL), 0);
}

/*
 * DNS-ID matching
 */

static const struct {
	const char	*pat;
	const char	*domain;
	int		 match;
} names[] = {
	{ "example.com", "example.com", 1 },
	{ "EXAMPLE.Com", "example.com", 1 },
	{ "example.com", "Example.COM", 1 },
	{ "example.com", "example.org", 0 },
	{ "example.com", "www.example.com", 0 },
	{ "www.example.com", "example.com", 0 },
	{ "xample.com", "example.com", 0 },
	{ "example.co", "example.com", 0 },
	/* the wildcard is one whole label */
	{ "*.example.com", "xmpp.example.com", 1 },
	{ "*.EXAMPLE.com", "XMPP.example.COM", 1 },
	{ "*.example.com", "example.com", 0 },
	{ "*.example.com", "a.b.example.com", 0 },
	{ "*.example.com", ".example.com", 0 },
	{ "*.example.com", "*.example.com", 0 },
	{ "*.example.com", "xmpp.example.org", 0 },
	{ "*.xn--bcher-kva.example", "xn--caf-dma.xn--bcher-kva.example", 1 },
	{ "*.co.uk", "example.co.uk", 1 },	/* no public suffix list */
	/* no partial or inner wildcards */
	{ "f*.example.com", "foo.example.com", 0 },
	{ "*o.example.com", "foo.example.com", 0 },
	{ "f*o.example.com", "foo.example.com", 0 },
	{ "xmpp.*.com", "xmpp.example.com", 0 },
	{ "*.*.example.com", "a.b.example.com", 0 },
	{ "**.example.com", "a.example.com", 0 },
	/* a wildcard must leave at least two labels */
	{ "*", "com", 0 },
	{ "*", "example.com", 0 },
	{ "*.com", "example.com", 0 },
	{ "*.", "example.", 0 },
	/* a trailing dot is the caller's to strip (RFC 7622 3.2) */
	{ "example.com.", "example.com", 0 },
	{ "example.com", "example.com.", 0 },
	{ "example.com.", "example.com.", 0 },
	{ "*.example.com.", "a.example.com", 0 },
	/* empty labels, blanks, control and non-ASCII bytes */
	{ "example..com", "example..com", 0 },
	{ ".example.com", ".example.com", 0 },
	{ "exa mple.com", "exa mple.com", 0 },
	{ "exa\tmple.com", "exa\tmple.com", 0 },
	{ "ex\xc3\xa4mple.com", "ex\xc3\xa4mple.com", 0 },
	{ "", "", 0 },
	{ "example.com", "", 0 },
	{ NULL, "example.com", 0 },
	{ "example.com", NULL, 0 },
};

ATF_TC_WITHOUT_HEAD(name_match);
ATF_TC_BODY(name_match, tc)
{
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ATF_CHECK_EQ_MSG(certid_name_match(names[i].pat,
		    names[i].domain), names[i].match, "\"%s\" vs \"%s\"",
		    names[i].pat ? names[i].pat : "(null)",
		    names[i].domain ? names[i].domain : "(null)");
}

/*
 * Certificates
 */

struct spec {
	const char	*cn;		/* NULL: subject O= only */
	const char	*san;		/* X509V3 config syntax, or NULL */
	const char	*eku;		/* NULL: no extendedKeyUsage */
	int		 ca;
	long		 from, to;	/* validity in days from now */
	int		 nulsan;	/* add DNS:"example.test\0.evil.test" */
};

#define LEAF(cn, san, eku)	{ cn, san, eku, 0, -1, 30, 0 }
#define CA(cn)			{ cn, NULL, NULL, 1, -1, 365, 0 }

struct pki {
	EVP_PKEY		*rootkey, *interkey, *leafkey;
	X509			*root, *inter;
	struct certid_ca	*ca;
	char			 why[256];
};

static EVP_PKEY *
newkey(void)
{
	EVP_PKEY	*k;

	ATF_REQUIRE((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) !=
	    NULL);
	return (k);
}

static void
addext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	ATF_REQUIRE_MSG((ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value)) !=
	    NULL, "extension %s", value);
	ATF_REQUIRE(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

static void
addnulsan(X509 *x)
{
	static const char	 evil[] = "example.test\0.evil.test";
	GENERAL_NAMES		*gns;
	GENERAL_NAME		*gn;
	ASN1_IA5STRING		*s;

	ATF_REQUIRE((gns = GENERAL_NAMES_new()) != NULL);
	ATF_REQUIRE((gn = GENERAL_NAME_new()) != NULL);
	ATF_REQUIRE((s = ASN1_IA5STRING_new()) != NULL);
	ATF_REQUIRE(ASN1_STRING_set(s, evil, sizeof(evil) - 1));
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	ATF_REQUIRE(sk_GENERAL_NAME_push(gns, gn));
	ATF_REQUIRE(X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0,
	    X509V3_ADD_DEFAULT) == 1);
	GENERAL_NAMES_free(gns);
}

/* a certificate for key, signed by issuer (ikey), or self-signed */
static X509 *
mkcert(const struct spec *sp, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
	static long	 serial = 1;
	X509		*x;
	X509_NAME	*n;
	X509V3_CTX	 v3;

	ATF_REQUIRE((x = X509_new()) != NULL);
	ATF_REQUIRE(X509_set_version(x, X509_VERSION_3));
	ATF_REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
	ATF_REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x), sp->from * DAY));
	ATF_REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x), sp->to * DAY));
	ATF_REQUIRE((n = X509_NAME_new()) != NULL);
	ATF_REQUIRE(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"xmppgwd regress", -1, -1, 0));
	if (sp->cn != NULL)
		ATF_REQUIRE(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		    (const unsigned char *)sp->cn, -1, -1, 0));
	ATF_REQUIRE(X509_set_subject_name(x, n));
	ATF_REQUIRE(X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : n));
	X509_NAME_free(n);
	ATF_REQUIRE(X509_set_pubkey(x, key));

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	addext(x, &v3, NID_basic_constraints,
	    sp->ca ? "critical,CA:TRUE" : "CA:FALSE");
	addext(x, &v3, NID_key_usage, sp->ca ?
	    "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	addext(x, &v3, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		addext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (sp->san != NULL)
		addext(x, &v3, NID_subject_alt_name, sp->san);
	if (sp->nulsan)
		addnulsan(x);
	if (sp->eku != NULL)
		addext(x, &v3, NID_ext_key_usage, sp->eku);
	ATF_REQUIRE(X509_sign(x, issuer != NULL ? ikey : key,
	    EVP_sha256()) > 0);
	return (x);
}

/* PEM of up to two certificates, leaf first */
static char *
pem(X509 *a, X509 *b, size_t *len)
{
	BIO	*bio;
	char	*data, *p;
	long	 n;

	ATF_REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
	ATF_REQUIRE(PEM_write_bio_X509(bio, a));
	if (b != NULL)
		ATF_REQUIRE(PEM_write_bio_X509(bio, b));
	ATF_REQUIRE((n = BIO_get_mem_data(bio, &data)) > 0);
	ATF_REQUIRE((p = malloc(n)) != NULL);
	memcpy(p, data, n);
	*len = n;
	BIO_free(bio);
	return (p);
}

static void
pki_init(struct pki *p)
{
	struct spec	 root = CA("Regress Root CA");
	struct spec	 inter = CA("Regress Sub CA");
	char		*buf;
	size_t		 len;

	memset(p, 0, sizeof(*p));
	p->rootkey = newkey();
	p->interkey = newkey();
	p->leafkey = newkey();
	p->root = mkcert(&root, p->rootkey, NULL, NULL);
	p->inter = mkcert(&inter, p->interkey, p->root, p->rootkey);
	buf = pem(p->root, NULL, &len);
	p->ca = certid_ca_load((const uint8_t *)buf, len, p->why,
	    sizeof(p->why));
	ATF_REQUIRE_MSG(p->ca != NULL, "%s", p->why);
	free(buf);
}

static void
pki_free(struct pki *p)
{
	certid_ca_free(p->ca);
	X509_free(p->root);
	X509_free(p->inter);
	EVP_PKEY_free(p->rootkey);
	EVP_PKEY_free(p->interkey);
	EVP_PKEY_free(p->leafkey);
}

enum how { BY_ROOT, BY_INTER, BY_INTER_ALONE, SELF };

/* issue a leaf as told and check it for domain */
static enum certid_result
check(struct pki *p, const struct spec *sp, enum how how, const char *domain)
{
	enum certid_result	 r;
	X509			*leaf;
	char			*buf;
	size_t			 len;

	switch (how) {
	case BY_ROOT:
		leaf = mkcert(sp, p->leafkey, p->root, p->rootkey);
		buf = pem(leaf, NULL, &len);
		break;
	case BY_INTER:
		leaf = mkcert(sp, p->leafkey, p->inter, p->interkey);
		buf = pem(leaf, p->inter, &len);
		break;
	case BY_INTER_ALONE:
		leaf = mkcert(sp, p->leafkey, p->inter, p->interkey);
		buf = pem(leaf, NULL, &len);
		break;
	default:
		leaf = mkcert(sp, p->leafkey, NULL, NULL);
		buf = pem(leaf, NULL, &len);
		break;
	}
	p->why[0] = 'X';
	r = certid_check(p->ca, (const uint8_t *)buf, len, domain, p->why,
	    sizeof(p->why));
	printf("%s -> %d: %s\n", domain, (int)r, p->why);
	X509_free(leaf);
	free(buf);
	return (r);
}

#define CHECK_RESULT(p, sp, how, dom, want) do {			\
	ATF_CHECK_EQ_MSG(check((p), (sp), (how), (dom)), (want),	\
	    "%s: %s", (dom), (p)->why);				\
} while (0)

ATF_TC_WITHOUT_HEAD(certid_dnsid);
ATF_TC_BODY(certid_dnsid, tc)
{
	struct pki	 p;
	struct spec	 ok = LEAF(NULL, "DNS:" DOMAIN, "serverAuth");
	struct spec	 upper = LEAF(NULL, "DNS:EXAMPLE.Test", NULL);
	struct spec	 many = LEAF(NULL, "DNS:other.test,DNS:" DOMAIN, NULL);
	struct spec	 wild = LEAF(NULL, "DNS:*." DOMAIN, NULL);

	pki_init(&p);
	CHECK_RESULT(&p, &ok, BY_ROOT, DOMAIN, CERTID_OK);
	ATF_CHECK_STREQ(p.why, "");
	CHECK_RESULT(&p, &upper, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &many, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &wild, BY_ROOT, "xmpp." DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &wild, BY_ROOT, DOMAIN, CERTID_NAME);
	CHECK_RESULT(&p, &wild, BY_ROOT, "a.b." DOMAIN, CERTID_NAME);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_wrong_name);
ATF_TC_BODY(certid_wrong_name, tc)
{
	struct pki	 p;
	struct spec	 other = LEAF(DOMAIN, "DNS:other.test", NULL);
	struct spec	 seven = LEAF(NULL, "DNS:a1.test,DNS:a2.test,"
	    "DNS:a3.test,DNS:a4.test,DNS:a5.test,DNS:a6.test,DNS:a7.test",
	    NULL);

	pki_init(&p);
	/* the CN names the domain, but is not looked at */
	CHECK_RESULT(&p, &other, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certificate is for other.test, not "
	    DOMAIN);
	CHECK_RESULT(&p, &seven, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certificate is for a1.test, a2.test, "
	    "a3.test, a4.test, a5.test, ..., not " DOMAIN);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_cn_only);
ATF_TC_BODY(certid_cn_only, tc)
{
	struct pki	 p;
	struct spec	 cn = LEAF(DOMAIN, NULL, "serverAuth");
	struct spec	 ip = LEAF(DOMAIN, "IP:192.0.2.1,email:a@" DOMAIN,
	    NULL);

	pki_init(&p);
	/* RFC 9525: no CN-ID, not even without subjectAltName */
	CHECK_RESULT(&p, &cn, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certificate has no subjectAltName");
	CHECK_RESULT(&p, &ip, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK(strstr(p.why, "no DNS, SRV or XMPP") != NULL);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_embedded_nul);
ATF_TC_BODY(certid_embedded_nul, tc)
{
	struct pki	 p;
	struct spec	 nul = { NULL, NULL, NULL, 0, -1, 30, 1 };

	pki_init(&p);
	CHECK_RESULT(&p, &nul, BY_ROOT, DOMAIN, CERTID_NAME);
	/* and the NUL does not reach the log line either */
	ATF_CHECK(strstr(p.why, "example.test?.evil.test") != NULL);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_srvid);
ATF_TC_BODY(certid_srvid, tc)
{
	struct pki	 p;
	struct spec	 srv = LEAF(NULL,
	    "otherName:" SRV_OID ";IA5STRING:_xmpp-server." DOMAIN, NULL);
	struct spec	 srvcase = LEAF(NULL,
	    "otherName:" SRV_OID ";IA5STRING:_XMPP-Server.Example.Test", NULL);
	struct spec	 client = LEAF(NULL,
	    "otherName:" SRV_OID ";IA5STRING:_xmpp-client." DOMAIN, NULL);
	struct spec	 bare = LEAF(NULL,
	    "otherName:" SRV_OID ";IA5STRING:" DOMAIN, NULL);
	struct spec	 utf8 = LEAF(NULL,
	    "otherName:" SRV_OID ";UTF8:_xmpp-server." DOMAIN, NULL);
	struct spec	 wild = LEAF(NULL,
	    "otherName:" SRV_OID ";IA5STRING:_xmpp-server.*." DOMAIN, NULL);

	pki_init(&p);
	CHECK_RESULT(&p, &srv, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &srvcase, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &srv, BY_ROOT, "other.test", CERTID_NAME);
	CHECK_RESULT(&p, &client, BY_ROOT, DOMAIN, CERTID_NAME);
	CHECK_RESULT(&p, &bare, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certificate is for SRV:" DOMAIN ", not "
	    DOMAIN);
	/* RFC 4985 says IA5String */
	CHECK_RESULT(&p, &utf8, BY_ROOT, DOMAIN, CERTID_NAME);
	/* the DNS part of an SRV-ID follows the DNS-ID wildcard rule */
	CHECK_RESULT(&p, &wild, BY_ROOT, "xmpp." DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &wild, BY_ROOT, DOMAIN, CERTID_NAME);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_xmppaddr);
ATF_TC_BODY(certid_xmppaddr, tc)
{
	struct pki	 p;
	struct spec	 xa = LEAF(NULL,
	    "otherName:" XMPP_OID ";UTF8:" DOMAIN, NULL);
	struct spec	 wild = LEAF(NULL,
	    "otherName:" XMPP_OID ";UTF8:*." DOMAIN, NULL);
	struct spec	 jid = LEAF(NULL,
	    "otherName:" XMPP_OID ";UTF8:admin@" DOMAIN, NULL);
	struct spec	 ia5 = LEAF(NULL,
	    "otherName:" XMPP_OID ";IA5STRING:" DOMAIN, NULL);

	pki_init(&p);
	CHECK_RESULT(&p, &xa, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &xa, BY_ROOT, "other.test", CERTID_NAME);
	CHECK_RESULT(&p, &wild, BY_ROOT, "xmpp." DOMAIN, CERTID_NAME);
	CHECK_RESULT(&p, &jid, BY_ROOT, DOMAIN, CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certificate is for xmppAddr:admin@" DOMAIN
	    ", not " DOMAIN);
	/* RFC 6120 13.7.1.4 says UTF8String */
	CHECK_RESULT(&p, &ia5, BY_ROOT, DOMAIN, CERTID_NAME);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_eku);
ATF_TC_BODY(certid_eku, tc)
{
	struct pki	 p;
	struct spec	 server = LEAF(NULL, "DNS:" DOMAIN, "serverAuth");
	struct spec	 both = LEAF(NULL, "DNS:" DOMAIN,
	    "serverAuth,clientAuth");
	struct spec	 client = LEAF(NULL, "DNS:" DOMAIN, "clientAuth");
	struct spec	 none = LEAF(NULL, "DNS:" DOMAIN, NULL);
	struct spec	 email = LEAF(NULL, "DNS:" DOMAIN, "emailProtection");

	pki_init(&p);
	CHECK_RESULT(&p, &server, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &both, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &client, BY_ROOT, DOMAIN, CERTID_CHAIN);
	ATF_CHECK(strncmp(p.why, "certificate chain: ", 19) == 0);
	CHECK_RESULT(&p, &none, BY_ROOT, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &email, BY_ROOT, DOMAIN, CERTID_CHAIN);
	/* the same through an intermediate */
	CHECK_RESULT(&p, &server, BY_INTER, DOMAIN, CERTID_OK);
	CHECK_RESULT(&p, &client, BY_INTER, DOMAIN, CERTID_CHAIN);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_chain);
ATF_TC_BODY(certid_chain, tc)
{
	struct pki	 p;
	struct spec	 ok = LEAF(NULL, "DNS:" DOMAIN, NULL);
	struct spec	 expired = { NULL, "DNS:" DOMAIN, NULL, 0, -30, -1, 0 };
	struct spec	 future = { NULL, "DNS:" DOMAIN, NULL, 0, 1, 30, 0 };

	pki_init(&p);
	CHECK_RESULT(&p, &ok, BY_INTER, DOMAIN, CERTID_OK);
	/* the intermediate is missing */
	CHECK_RESULT(&p, &ok, BY_INTER_ALONE, DOMAIN, CERTID_CHAIN);
	ATF_CHECK(strstr(p.why, "local issuer") != NULL);
	CHECK_RESULT(&p, &ok, SELF, DOMAIN, CERTID_CHAIN);
	ATF_CHECK(strstr(p.why, "self-signed") != NULL);
	CHECK_RESULT(&p, &expired, BY_ROOT, DOMAIN, CERTID_CHAIN);
	ATF_CHECK_STREQ(p.why,
	    "certificate chain: certificate has expired (depth 0)");
	CHECK_RESULT(&p, &future, BY_ROOT, DOMAIN, CERTID_CHAIN);
	ATF_CHECK(strstr(p.why, "not yet valid") != NULL);
	/* chain before name: a bad chain with a wrong name is CHAIN */
	CHECK_RESULT(&p, &expired, BY_ROOT, "other.test", CERTID_CHAIN);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(certid_garbage);
ATF_TC_BODY(certid_garbage, tc)
{
	static const char	 junk[] = "-----BEGIN CERTIFICATE-----\n"
	    "bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
	static const char	 text[] = "hello, world\n";
	struct pki		 p;
	struct spec		 ok = LEAF(NULL, "DNS:" DOMAIN, NULL);
	X509			*leaf;
	char			*buf, *two;
	size_t			 len;

	pki_init(&p);
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)junk, strlen(junk),
	    DOMAIN, p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK(p.why[0] != '\0');
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)text, strlen(text),
	    DOMAIN, p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK_STREQ(p.why, "no certificate");
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)"", 0,
	    DOMAIN, p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK_EQ(certid_check(p.ca, NULL, 0, DOMAIN, p.why,
	    sizeof(p.why)), CERTID_ERROR);

	leaf = mkcert(&ok, p.leafkey, p.root, p.rootkey);
	buf = pem(leaf, NULL, &len);
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len, DOMAIN,
	    p.why, sizeof(p.why)), CERTID_OK);
	/* a good leaf followed by a corrupt block */
	ATF_REQUIRE((two = malloc(len + sizeof(junk))) != NULL);
	memcpy(two, buf, len);
	memcpy(two + len, junk, sizeof(junk));
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)two,
	    len + strlen(junk), DOMAIN, p.why, sizeof(p.why)), CERTID_ERROR);
	/* truncated */
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len / 2,
	    DOMAIN, p.why, sizeof(p.why)), CERTID_ERROR);
	/* no domain, no CA, no room for a reason */
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len, "",
	    p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len, NULL,
	    p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK_EQ(certid_check(NULL, (const uint8_t *)buf, len, DOMAIN,
	    p.why, sizeof(p.why)), CERTID_ERROR);
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len,
	    "other.test", NULL, 0), CERTID_NAME);
	ATF_CHECK_EQ(certid_check(p.ca, (const uint8_t *)buf, len,
	    "other.test", p.why, 8), CERTID_NAME);
	ATF_CHECK_STREQ(p.why, "certifi");
	free(two);
	free(buf);
	X509_free(leaf);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(ca_load);
ATF_TC_BODY(ca_load, tc)
{
	static const char	 text[] = "not a bundle\n";
	struct pki		 p;
	struct certid_ca	*ca;
	BIO			*bio;
	char			*buf, *data;
	char			 why[128];
	size_t			 len;
	long			 n;

	why[0] = '\0';
	ATF_CHECK(certid_ca_load((const uint8_t *)text, strlen(text), why,
	    sizeof(why)) == NULL);
	ATF_CHECK_STREQ(why, "no certificate");
	ATF_CHECK(certid_ca_load(NULL, 0, why, sizeof(why)) == NULL);
	certid_ca_free(NULL);

	/* root and intermediate, with a private key between them */
	pki_init(&p);
	ATF_REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
	ATF_REQUIRE(PEM_write_bio_X509(bio, p.root));
	ATF_REQUIRE(PEM_write_bio_PrivateKey(bio, p.leafkey, NULL, NULL, 0,
	    NULL, NULL));
	ATF_REQUIRE(PEM_write_bio_X509(bio, p.inter));
	ATF_REQUIRE((n = BIO_get_mem_data(bio, &data)) > 0);
	ca = certid_ca_load((const uint8_t *)data, n, why, sizeof(why));
	ATF_CHECK_MSG(ca != NULL, "%s", why);
	certid_ca_free(ca);
	BIO_free(bio);
	pki_free(&p);

	/* the system bundle, when there is one: many CAs */
	if ((buf = malloc(1024 * 1024)) == NULL)
		atf_tc_fail("malloc");
	len = 0;
	if ((bio = BIO_new_file("/etc/ssl/certs/ca-certificates.crt",
	    "r")) != NULL) {
		ATF_REQUIRE((n = BIO_read(bio, buf, 1024 * 1024)) > 0);
		len = n;
		BIO_free(bio);
	}
	if (len > 0) {
		ca = certid_ca_load((const uint8_t *)buf, len, why,
		    sizeof(why));
		ATF_CHECK_MSG(ca != NULL, "%s", why);
		certid_ca_free(ca);
	}
	free(buf);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, dialback_vectors);
	ATF_TP_ADD_TC(tp, dialback_ambiguity);
	ATF_TP_ADD_TC(tp, dialback_bad_input);
	ATF_TP_ADD_TC(tp, dialback_key_equal);
	ATF_TP_ADD_TC(tp, name_match);
	ATF_TP_ADD_TC(tp, certid_dnsid);
	ATF_TP_ADD_TC(tp, certid_wrong_name);
	ATF_TP_ADD_TC(tp, certid_cn_only);
	ATF_TP_ADD_TC(tp, certid_embedded_nul);
	ATF_TP_ADD_TC(tp, certid_srvid);
	ATF_TP_ADD_TC(tp, certid_xmppaddr);
	ATF_TP_ADD_TC(tp, certid_eku);
	ATF_TP_ADD_TC(tp, certid_chain);
	ATF_TP_ADD_TC(tp, certid_garbage);
	ATF_TP_ADD_TC(tp, ca_load);

	return (atf_no_error());
}
