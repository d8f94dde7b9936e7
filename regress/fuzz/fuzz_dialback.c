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
 * libFuzzer target for the XEP-0185 dialback keys of xmppgwd/auth.c, as
 * dialback.c uses them: the originating side makes a key for
 * (receiving, originating, stream id), the authoritative side makes it
 * again and compares it with what a peer sent.
 *
 * Input: byte 0 picks the mutations, then lines: the secret, the
 * receiving domain, the originating domain, the stream id and a key as
 * a peer would send it.  Asserted:
 *
 * - a key is made exactly when the secret is not empty and no part is
 *   empty or holds a space (which would make the HMAC input ambiguous);
 *   it is 64 lower-case hex digits, and the HMAC-SHA256 keyed with the
 *   hex SHA-256 of the secret over "recv orig id", computed here with
 *   OpenSSL's one-shot functions; a refusal leaves "";
 * - the same key verifies, and only it: the peer's key verifies exactly
 *   when it is the same string, a key with one digit changed, cut
 *   short, made longer or in upper case does not, nor does NULL;
 * - a key is bound to its secret and to each part: another secret,
 *   receiving and originating swapped, a byte moved across a separator,
 *   or any one part changed, and it no longer verifies.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth.h"
#include "fuzz.h"

#define PART_MAX	1024
/* what dialback.c reads from a peer */
#define KEY_MAX		(4 * DIALBACK_KEY_LEN)

struct input {
	uint8_t		 secret[PART_MAX];
	size_t		 secretlen;
	char		 recv[PART_MAX + 1];
	char		 orig[PART_MAX + 1];
	char		 id[PART_MAX + 1];
	char		 peer[KEY_MAX + 1];
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
part_ok(const char *s)
{
	return (*s != '\0' && strchr(s, ' ') == NULL);
}

/* XEP-0185 section 3, written out again */
static void
model_key(const struct input *in, char out[DIALBACK_KEY_LEN + 1])
{
	static const char	 hexd[] = "0123456789abcdef";
	uint8_t			 md[SHA256_DIGEST_LENGTH];
	uint8_t			 mac[EVP_MAX_MD_SIZE];
	char			 hkey[2 * SHA256_DIGEST_LENGTH + 1], *msg;
	unsigned int		 maclen;
	size_t			 i;

	CHECK(SHA256(in->secret, in->secretlen, md) != NULL);
	for (i = 0; i < sizeof(md); i++) {
		hkey[2 * i] = hexd[md[i] >> 4];
		hkey[2 * i + 1] = hexd[md[i] & 15];
	}
	hkey[2 * sizeof(md)] = '\0';
	CHECK(asprintf(&msg, "%s %s %s", in->recv, in->orig, in->id) != -1);
	CHECK(HMAC(EVP_sha256(), hkey, (int)strlen(hkey),
	    (const uint8_t *)msg, strlen(msg), mac, &maclen) != NULL);
	CHECK(maclen == SHA256_DIGEST_LENGTH);
	free(msg);
	for (i = 0; i < maclen; i++) {
		out[2 * i] = hexd[mac[i] >> 4];
		out[2 * i + 1] = hexd[mac[i] & 15];
	}
	out[2 * maclen] = '\0';
}

static int
make(const struct input *in, char key[DIALBACK_KEY_LEN + 1])
{
	int	 r;

	memset(key, 'X', DIALBACK_KEY_LEN + 1);
	r = dialback_key(in->secret, in->secretlen, in->recv, in->orig,
	    in->id, key);
	CHECK(r == 0 || r == -1);
	if (r == -1)
		CHECK(key[0] == '\0');
	return (r);
}

/* another (secret, recv, orig, id) that made this key? */
static void
not_for(const struct input *other, const struct input *in,
    const char *key)
{
	char	 k2[DIALBACK_KEY_LEN + 1];

	if (other->secretlen == in->secretlen &&
	    memcmp(other->secret, in->secret, in->secretlen) == 0 &&
	    strcmp(other->recv, in->recv) == 0 &&
	    strcmp(other->orig, in->orig) == 0 &&
	    strcmp(other->id, in->id) == 0)
		return;
	if (make(other, k2) == -1)
		return;
	CHECK(!dialback_key_equal(k2, key));
}

static void
split(const uint8_t *p, size_t size, struct input *in)
{
	const uint8_t	*end = p + size, *nl;
	char		*dst[] = { in->recv, in->orig, in->id, in->peer };
	size_t		 max[] = { PART_MAX, PART_MAX, PART_MAX,
			    KEY_MAX };
	size_t		 i, len;

	memset(in, 0, sizeof(*in));
	nl = memchr(p, '\n', end - p);
	len = (nl != NULL ? nl : end) - p;
	in->secretlen = len < PART_MAX ? len : PART_MAX;
	memcpy(in->secret, p, in->secretlen);
	p = nl != NULL ? nl + 1 : end;
	for (i = 0; i < 4; i++) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl : end) - p;
		if (len > max[i])
			len = max[i];
		/* a NUL ends a part, as imsg_read_string() would have it */
		memcpy(dst[i], p, len);
		p = nl != NULL ? nl + 1 : end;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input	 in, o;
	char		 key[DIALBACK_KEY_LEN + 1];
	char		 want[DIALBACK_KEY_LEN + 1];
	char		 bad[KEY_MAX + 2];
	size_t		 i, n, l;
	uint8_t		 sel;
	int		 r;

	if (size < 1)
		return (0);
	sel = data[0];
	split(data + 1, size - 1, &in);

	r = make(&in, key);
	CHECK((r == 0) == (in.secretlen > 0 && part_ok(in.recv) &&
	    part_ok(in.orig) && part_ok(in.id)));
	CHECK(dialback_key_equal(NULL, NULL) == 0);
	CHECK(dialback_key_equal(in.peer, NULL) == 0);
	if (r == -1) {
		/* what a peer sends is still compared without harm */
		(void)dialback_key_equal(in.peer, in.peer);
		return (0);
	}

	CHECK(strlen(key) == DIALBACK_KEY_LEN);
	for (i = 0; i < DIALBACK_KEY_LEN; i++)
		CHECK((key[i] >= '0' && key[i] <= '9') ||
		    (key[i] >= 'a' && key[i] <= 'f'));
	model_key(&in, want);
	CHECK(strcmp(key, want) == 0);
	CHECK(make(&in, want) == 0 && strcmp(key, want) == 0);

	/* only the same string verifies */
	CHECK(dialback_key_equal(key, key) == 1);
	CHECK(dialback_key_equal(key, in.peer) == (strcmp(key, in.peer) == 0));
	CHECK(dialback_key_equal(in.peer, key) == (strcmp(key, in.peer) == 0));
	CHECK(dialback_key_equal(NULL, key) == 0);
	memcpy(bad, key, sizeof(key));
	n = sel % DIALBACK_KEY_LEN;
	bad[n] = bad[n] == 'f' ? '0' : bad[n] + 1;
	CHECK(dialback_key_equal(key, bad) == 0);
	memcpy(bad, key, sizeof(key));
	bad[n] = '\0';
	CHECK(dialback_key_equal(key, bad) == 0);
	memcpy(bad, key, sizeof(key));
	bad[DIALBACK_KEY_LEN] = "0a"[sel & 1];
	bad[DIALBACK_KEY_LEN + 1] = '\0';
	CHECK(dialback_key_equal(key, bad) == 0);
	CHECK(dialback_key_equal(bad, key) == 0);
	for (i = 0; i < DIALBACK_KEY_LEN; i++)
		bad[i] = (key[i] >= 'a') ? key[i] - 32 : key[i];
	bad[DIALBACK_KEY_LEN] = '\0';
	if (strcmp(bad, key) != 0)
		CHECK(dialback_key_equal(key, bad) == 0);

	/* bound to the secret and to every part */
	o = in;
	if (o.secretlen < PART_MAX)
		o.secretlen++;		/* a NUL more */
	else
		o.secret[0] ^= 1;
	not_for(&o, &in, key);
	o = in;
	(void)strlcpy(o.recv, in.orig, sizeof(o.recv));
	(void)strlcpy(o.orig, in.recv, sizeof(o.orig));
	not_for(&o, &in, key);
	o = in;
	if ((l = strlen(o.orig)) >= 2 && strlen(o.recv) < PART_MAX) {
		/* "a.test b.test" and "a.testb .test" */
		o.recv[strlen(o.recv)] = o.orig[0];
		memmove(o.orig, o.orig + 1, l);
		not_for(&o, &in, key);
	}
	o = in;
	if ((l = strlen(o.id)) >= 2 && strlen(o.orig) < PART_MAX) {
		o.orig[strlen(o.orig)] = o.id[0];
		memmove(o.id, o.id + 1, l);
		not_for(&o, &in, key);
	}
	o = in;
	o.recv[(sel >> 2) % strlen(o.recv)] ^= 0x20;
	not_for(&o, &in, key);
	o = in;
	o.orig[(sel >> 2) % strlen(o.orig)] ^= 0x20;
	not_for(&o, &in, key);
	o = in;
	o.id[(sel >> 2) % strlen(o.id)] ^= 0x20;
	not_for(&o, &in, key);
	return (0);
}
