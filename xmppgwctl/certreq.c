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
 * xmppgwctl certificate request DOMAIN: a new key and a certificate
 * signing request for a local domain, made here without the daemon.
 * The request names the domain the ways a partner's server looks for it
 * (RFC 6120 13.7.1.2, RFC 7712): as a DNS name, as the SRV-ID
 * _xmpp-server.DOMAIN and as an XmppAddr, with the common name the
 * domain too; extended key usage serverAuth and clientAuth, since the
 * gateway is a TLS client on the streams it opens.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certreq.h"

#define DOMAIN_MAX	253
#define LABEL_MAX	63

/* a host name: letters, digits and hyphens in dot-separated labels */
static int
domain_ok(const char *d)
{
	size_t	 n = 0, len = strlen(d);
	size_t	 i;

	if (len == 0 || len > DOMAIN_MAX || d[len - 1] == '.')
		return (0);
	for (i = 0; i <= len; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (n == 0 || d[i - 1] == '-')
				return (0);
			n = 0;
			continue;
		}
		if (!isalnum((unsigned char)d[i]) &&
		    (d[i] != '-' || n == 0))
			return (0);
		if (++n > LABEL_MAX)
			return (0);
	}
	return (1);
}

/* an existing file, a key above all, is never overwritten */
static FILE *
create(const char *path, mode_t mode)
{
	FILE	*f;
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode))
	    == -1)
		return (NULL);
	if ((f = fdopen(fd, "w")) == NULL)
		close(fd);
	return (f);
}

static void
add_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	if ((ext = X509V3_EXT_nconf_nid(NULL, NULL, nid, value)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		errx(1, "cannot make the extension %s", OBJ_nid2sn(nid));
}

int
cert_request(const char *arg)
{
	STACK_OF(X509_EXTENSION)	*exts;
	X509_REQ			*req;
	X509_NAME			*name;
	EVP_PKEY			*key;
	FILE				*fk, *fc;
	int				 saved;
	char				 domain[DOMAIN_MAX + 1];
	char				 keyfile[DOMAIN_MAX + 8];
	char				 csrfile[DOMAIN_MAX + 8], san[1024];
	size_t				 i;

	if (strlen(arg) > DOMAIN_MAX || !domain_ok(arg))
		errx(1, "%s: not a domain name", arg);
	for (i = 0; arg[i] != '\0'; i++)
		domain[i] = tolower((unsigned char)arg[i]);
	domain[i] = '\0';
	snprintf(keyfile, sizeof(keyfile), "%s.key", domain);
	snprintf(csrfile, sizeof(csrfile), "%s.csr", domain);

	if ((key = EVP_EC_gen("P-256")) == NULL)
		errx(1, "cannot make a key");
	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, 0) ||
	    (name = X509_REQ_get_subject_name(req)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)domain, -1, -1, 0) ||
	    !X509_REQ_set_pubkey(req, key))
		errx(1, "cannot make the request");
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL)
		errx(1, "out of memory");
	/* id-on-xmppAddr 1.3.6.1.5.5.7.8.5, id-on-dnsSRV 1.3.6.1.5.5.7.8.7 */
	snprintf(san, sizeof(san), "DNS:%s, "
	    "otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-server.%s, "
	    "otherName:1.3.6.1.5.5.7.8.5;UTF8:%s", domain, domain, domain);
	add_ext(exts, NID_subject_alt_name, san);
	add_ext(exts, NID_ext_key_usage, "serverAuth, clientAuth");
	add_ext(exts, NID_key_usage, "critical, digitalSignature");
	if (!X509_REQ_add_extensions(req, exts) ||
	    !X509_REQ_sign(req, key, EVP_sha256()))
		errx(1, "cannot sign the request");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);

	if ((fk = create(keyfile, 0600)) == NULL)
		err(1, "%s", keyfile);
	if ((fc = create(csrfile, 0644)) == NULL) {
		saved = errno;
		(void)unlink(keyfile);
		errno = saved;
		err(1, "%s", csrfile);
	}
	if (!PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL) ||
	    fclose(fk) != 0 || !PEM_write_X509_REQ(fc, req) || fclose(fc) != 0) {
		(void)unlink(keyfile);
		(void)unlink(csrfile);
		errx(1, "cannot write %s and %s", keyfile, csrfile);
	}
	X509_REQ_free(req);
	EVP_PKEY_free(key);

	printf("key %s (mode 0600), request %s\n", keyfile, csrfile);
	printf("subject CN=%s; names DNS:%s, SRV-ID _xmpp-server.%s, "
	    "XmppAddr %s\n", domain, domain, domain, domain);
	return (0);
}
