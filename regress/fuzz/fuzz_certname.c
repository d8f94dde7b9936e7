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
 * libFuzzer target for the certificate identity check of xmppgwd/auth.c
 * (RFC 9525 / XEP-0178), with hostile subjectAltName sets.
 *
 * Input: byte 0 is flags (extendedKeyUsage none, serverAuth, clientAuth
 * or both; self-signed or issued by our CA; a subject CN equal to the
 * domain or not), then lines: the domain, then one subjectAltName a
 * line, its first byte the kind ('D' dNSName, 'S' SRVName, 'X'
 * xmppAddr, 's' and 'x' the same in the wrong string type, 'U' a URI,
 * 'I' an address), the rest its bytes, NULs included.
 *
 * certid_name_match() is compared with a model written from RFC 9525
 * for every name against the domain and against the other names: a
 * wildcard is "*." and at least two more labels and stands for exactly
 * one whole left-most label, nothing but printable ASCII matches, ASCII
 * case does not count.  A certificate is then issued with those names
 * and certid_check() must say OK exactly when the model finds a DNS-ID,
 * an "_xmpp-server." SRV-ID or a (wildcard-free) xmppAddr for the
 * domain among the names as OpenSSL reads them back, none with a NUL
 * inside; the CN never counts, a certificate that does not chain or
 * has clientAuth alone is never OK, and the reason is a NUL-terminated
 * line of printable ASCII when the domain is.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth.h"
#include "fuzz.h"

#define NAMES_MAX	16
#define NAME_LEN	300
#define SRV_PREFIX	"_xmpp-server."

struct name {
	char		 kind;
	size_t		 len;
	char		 s[NAME_LEN + 1];	/* NUL-terminated too */
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY		*cakey, *leafkey;
static X509		*cacert;
static struct certid_ca	*ca;

static int
lc(int c)
{
	return (c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && lc(*a) == lc(*b); a++, b++)
		;
	return (lc(*a) == lc(*b));
}

static size_t
labels(const char *s)
{
	size_t	 n = 1;

	for (; *s != '\0'; s++)
		n += *s == '.';
	return (n);
}

/* 1..253 printable ASCII, no empty label, '*' only as a pattern's first */
static int
model_name_ok(const char *s, int pattern)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > 253)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return (0);
		if (s[i] == '*' && (!pattern || i > 0))
			return (0);
		if (s[i] == '.' && (i == 0 || i == len - 1 || s[i + 1] == '.'))
			return (0);
	}
	return (1);
}

static int
model_match(const char *pat, const char *dom)
{
	if (!model_name_ok(pat, 1) || !model_name_ok(dom, 0))
		return (0);
	if (pat[0] != '*')
		return (ascii_caseeq(pat, dom));
	/* "*" is the whole first label, and no TLD wildcard */
	if (pat[1] != '.' || labels(pat) < 3 || labels(dom) != labels(pat))
		return (0);
	return (ascii_caseeq(strchr(pat, '.'), strchr(dom, '.')));
}

/* the model on one subjectAltName as OpenSSL reads it back */
static int
model_san(const GENERAL_NAME *gn, const char *dom)
{
	const ASN1_STRING	*as;
	const OTHERNAME		*on;
	char			 buf[NAME_LEN + 1];
	int			 len, nid, xmpp = 0;

	if (gn->type == GEN_DNS)
		as = gn->d.dNSName;
	else if (gn->type == GEN_OTHERNAME) {
		on = gn->d.otherName;
		nid = OBJ_obj2nid(on->type_id);
		if (nid == NID_SRVName &&
		    on->value->type == V_ASN1_IA5STRING)
			as = on->value->value.ia5string;
		else if (nid == NID_XmppAddr &&
		    on->value->type == V_ASN1_UTF8STRING) {
			as = on->value->value.utf8string;
			xmpp = 1;
		} else
			return (0);
	} else
		return (0);
	len = ASN1_STRING_length(as);
	if (len <= 0 || len > NAME_LEN ||
	    memchr(ASN1_STRING_get0_data(as), '\0', len) != NULL)
		return (0);
	memcpy(buf, ASN1_STRING_get0_data(as), len);
	buf[len] = '\0';
	if (gn->type == GEN_OTHERNAME && !xmpp) {
		for (len = 0; SRV_PREFIX[len] != '\0'; len++)
			if (lc((unsigned char)buf[len]) != SRV_PREFIX[len])
				return (0);
		return (model_match(buf + len, dom));
	}
	if (xmpp && strchr(buf, '*') != NULL)
		return (0);
	return (model_match(buf, dom));
}

static void
check_name_match(const char *pat, const char *dom)
{
	char	 up[NAME_LEN + 1];
	size_t	 i;
	int	 r;

	r = certid_name_match(pat, dom);
	CHECK(r == 0 || r == 1);
	if (r != model_match(pat, dom)) {
		fprintf(stderr, "certid_name_match(\"%s\", \"%s\") = %d\n",
		    pat, dom, r);
		abort();
	}
	/* ASCII case does not count */
	for (i = 0; pat[i] != '\0' && i < NAME_LEN; i++)
		up[i] = (pat[i] >= 'a' && pat[i] <= 'z') ? pat[i] - 32 : pat[i];
	up[i] = '\0';
	CHECK(certid_name_match(up, dom) == r);
}

static void
addext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	CHECK((ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value)) != NULL);
	CHECK(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

static X509 *
mkcert(EVP_PKEY *key, X509 *issuer, const char *cn, int isca)
{
	static long	 serial = 1;
	X509		*x;
	X509_NAME	*n;
	X509V3_CTX	 v3;

	CHECK((x = X509_new()) != NULL);
	CHECK(X509_set_version(x, X509_VERSION_3));
	CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
	CHECK(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	CHECK(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365));
	CHECK((n = X509_NAME_new()) != NULL);
	CHECK(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"xmppgwd fuzz", -1, -1, 0));
	/* a CN OpenSSL will not take (too long) is left out */
	if (cn != NULL && *cn != '\0' && !X509_NAME_add_entry_by_txt(n, "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
		ERR_clear_error();
	CHECK(X509_set_subject_name(x, n));
	CHECK(X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : n));
	X509_NAME_free(n);
	CHECK(X509_set_pubkey(x, key));
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (isca) {
		addext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
		addext(x, &v3, NID_key_usage, "critical,keyCertSign");
		addext(x, &v3, NID_subject_key_identifier, "hash");
	}
	return (x);
}

static char *
pem(X509 *x, size_t *len)
{
	BIO	*bio;
	char	*data, *p;
	long	 n;

	CHECK((bio = BIO_new(BIO_s_mem())) != NULL);
	CHECK(PEM_write_bio_X509(bio, x));
	CHECK((n = BIO_get_mem_data(bio, &data)) > 0);
	CHECK((p = malloc(n)) != NULL);
	memcpy(p, data, n);
	*len = n;
	BIO_free(bio);
	return (p);
}

/* our CA, once: the keys take longer than a run */
static void
ca_init(void)
{
	char	*buf, why[256];
	size_t	 len;

	CHECK((cakey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	CHECK((leafkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	cacert = mkcert(cakey, NULL, "xmppgwd fuzz CA", 1);
	CHECK(X509_sign(cacert, cakey, NULL) > 0);
	buf = pem(cacert, &len);
	ca = certid_ca_load((const uint8_t *)buf, len, why, sizeof(why));
	CHECK(ca != NULL);
	free(buf);
}

static GENERAL_NAME *
san(const struct name *nm)
{
	GENERAL_NAME	*gn;
	ASN1_STRING	*s;
	ASN1_TYPE	*t;
	ASN1_OBJECT	*oid;
	int		 type, nid;

	CHECK((gn = GENERAL_NAME_new()) != NULL);
	switch (nm->kind) {
	case 'S':
	case 's':
	case 'X':
	case 'x':
		nid = (nm->kind == 'S' || nm->kind == 's') ? NID_SRVName :
		    NID_XmppAddr;
		type = (nm->kind == 'S' || nm->kind == 'x') ?
		    V_ASN1_IA5STRING : V_ASN1_UTF8STRING;
		CHECK((s = ASN1_STRING_type_new(type)) != NULL);
		CHECK(ASN1_STRING_set(s, nm->s, (int)nm->len));
		CHECK((t = ASN1_TYPE_new()) != NULL);
		ASN1_TYPE_set(t, type, s);
		CHECK((oid = OBJ_nid2obj(nid)) != NULL);
		CHECK(GENERAL_NAME_set0_othername(gn, oid, t));
		break;
	case 'U':
		CHECK((s = ASN1_IA5STRING_new()) != NULL);
		CHECK(ASN1_STRING_set(s, nm->s, (int)nm->len));
		GENERAL_NAME_set0_value(gn, GEN_URI, s);
		break;
	case 'I':
		CHECK((s = ASN1_OCTET_STRING_new()) != NULL);
		CHECK(ASN1_STRING_set(s, nm->s, nm->len < 4 ? (int)nm->len :
		    4));
		GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
		break;
	default:
		CHECK((s = ASN1_IA5STRING_new()) != NULL);
		CHECK(ASN1_STRING_set(s, nm->s, (int)nm->len));
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
		break;
	}
	return (gn);
}

/* what OpenSSL reads back from the certificate: the model's input */
static int
expect_ok(const char *buf, size_t len, const char *dom, int *parsed)
{
	GENERAL_NAMES	*gns;
	BIO		*bio;
	X509		*x;
	int		 i, crit, ok = 0;

	CHECK((bio = BIO_new_mem_buf(buf, (int)len)) != NULL);
	CHECK((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL);
	BIO_free(bio);
	gns = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	*parsed = gns != NULL || crit == -1;
	for (i = 0; gns != NULL && i < sk_GENERAL_NAME_num(gns); i++)
		ok |= model_san(sk_GENERAL_NAME_value(gns, i), dom);
	GENERAL_NAMES_free(gns);
	X509_free(x);
	ERR_clear_error();
	return (ok);
}

static void
check_cert(uint8_t flags, const char *dom, const struct name *nm,
    size_t n)
{
	static const char	*ekus[] = { NULL, "serverAuth", "clientAuth",
				    "serverAuth,clientAuth" };
	enum certid_result	 r;
	GENERAL_NAMES		*gns;
	X509			*x;
	X509V3_CTX		 v3;
	char			*buf, why[512];
	size_t			 i, len;
	int			 self = flags & 4, ok, parsed, printable;

	x = mkcert(leafkey, self ? NULL : cacert, (flags & 8) ? dom : NULL,
	    0);
	X509V3_set_ctx(&v3, self ? x : cacert, x, NULL, NULL, 0);
	if (ekus[flags & 3] != NULL)
		addext(x, &v3, NID_ext_key_usage, ekus[flags & 3]);
	if (n > 0) {
		CHECK((gns = GENERAL_NAMES_new()) != NULL);
		for (i = 0; i < n; i++)
			CHECK(sk_GENERAL_NAME_push(gns, san(&nm[i])));
		CHECK(X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0,
		    X509V3_ADD_DEFAULT) == 1);
		GENERAL_NAMES_free(gns);
	}
	CHECK(X509_sign(x, self ? leafkey : cakey, NULL) > 0);
	buf = pem(x, &len);
	X509_free(x);

	ok = expect_ok(buf, len, dom, &parsed);
	memset(why, 'X', sizeof(why));
	r = certid_check(ca, (const uint8_t *)buf, len, dom, why,
	    sizeof(why));
	free(buf);

	CHECK(strnlen(why, sizeof(why)) < sizeof(why));
	for (printable = 1, i = 0; dom[i] != '\0'; i++)
		printable &= dom[i] >= 0x20 && dom[i] < 0x7f;
	for (i = 0; printable && why[i] != '\0'; i++)
		CHECK(why[i] >= 0x20 && why[i] < 0x7f);

	if (*dom == '\0')
		CHECK(r == CERTID_ERROR);
	else if (self || (flags & 3) == 2)
		CHECK(r == CERTID_CHAIN);
	else if (!parsed)
		CHECK(r == CERTID_ERROR);
	else if (r != (ok ? CERTID_OK : CERTID_NAME)) {
		fprintf(stderr, "certid_check for \"%s\": %d, want %s: %s\n",
		    dom, r, ok ? "OK" : "NAME", why);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct name	 nm[NAMES_MAX];
	char		 dom[NAME_LEN + 1];
	const uint8_t	*p, *end, *nl;
	size_t		 n = 0, i, j, len;
	uint8_t		 flags;

	if (size < 1)
		return (0);
	if (ca == NULL)
		ca_init();
	flags = data[0];
	p = data + 1;
	end = data + size;

	nl = memchr(p, '\n', end - p);
	len = (nl != NULL ? nl : end) - p;
	if (len > NAME_LEN)
		len = NAME_LEN;
	memcpy(dom, p, len);
	dom[len] = '\0';
	p = nl != NULL ? nl + 1 : end;

	while (p < end && n < NAMES_MAX) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl : end) - p;
		if (len > 0) {
			nm[n].kind = (char)p[0];
			if (strchr("DSsXxUI", nm[n].kind) != NULL) {
				p++;
				len--;
			}
			if (len > NAME_LEN)
				len = NAME_LEN;
			memcpy(nm[n].s, p, len);
			nm[n].s[len] = '\0';
			nm[n].len = len;
			n++;
		}
		p = nl != NULL ? nl + 1 : end;
	}

	/* the names as C strings, against the domain and each other */
	check_name_match(dom, dom);
	for (i = 0; i < n; i++) {
		check_name_match(nm[i].s, dom);
		for (j = 0; j < n; j++)
			check_name_match(nm[i].s, nm[j].s);
	}

	check_cert(flags, dom, nm, n);
	return (0);
}
