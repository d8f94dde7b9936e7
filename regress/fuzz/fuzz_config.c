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
 * libFuzzer target for the configuration grammar (xmppgwd/parse.y) and
 * its canonical printer (xmppgwd/printconf.c, "xmppgwd -nv").  The input
 * is written to xmppgwd.conf in a directory of the target's own, next to
 * files it may name: a.crt and a.key (a self-signed certificate for
 * gw.example, made by openssl(1) at start), secret, and inc.conf, which
 * holds "prefork 2".  Asserted:
 *
 * - parse_config() returns a configuration or NULL, and a file it
 *   refuses gets at least one message saying why;
 * - what a configuration prints as is itself a configuration that
 *   prints the same: the printer writes only what the grammar reads
 *   back to the same values.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmppgwd.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[] = "/tmp/fuzz_config.XXXXXX";
static char	 conf_path[64], again_path[64];

static void
put(const char *path, const void *data, size_t len)
{
	int	 fd;

	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	CHECK(write(fd, data, len) == (ssize_t)len);
	CHECK(close(fd) == 0);
}

static void
put_named(const char *name, const char *text)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	put(path, text, strlen(text));
}

/* the directory goes when libFuzzer exits (not after a crash) */
static void
cleanup(void)
{
	const char	*names[] = { "xmppgwd.conf", "printed.conf", "a.crt",
			    "a.key", "secret", "inc.conf" };
	char		 path[128];
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 cmd[512];

	CHECK(mkdtemp(dir) != NULL);
	atexit(cleanup);
	snprintf(conf_path, sizeof(conf_path), "%s/xmppgwd.conf", dir);
	snprintf(again_path, sizeof(again_path), "%s/printed.conf", dir);
	/* the grammar checks that a certificate and its key go together */
	snprintf(cmd, sizeof(cmd), "cd %s && openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
	    "-subj /CN=gw.example -addext subjectAltName=DNS:gw.example "
	    "-keyout a.key -out a.crt 2>/dev/null", dir);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "%s/a.key", dir);
	CHECK(chmod(cmd, 0600) == 0);
	put_named("secret", "0123456789abcdef0123456789abcdef\n");
	put_named("inc.conf", "prefork 2\n");
	return (0);
}

/* the configuration printed, NUL-terminated, in a malloc'd buffer */
static char *
printed(struct xgw_config *c, size_t *len)
{
	char	*buf = NULL;
	FILE	*fp;

	CHECK((fp = open_memstream(&buf, len)) != NULL);
	print_config(fp, c);
	CHECK(fclose(fp) == 0);
	return (buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_config	*c, *c2;
	char			*msgs = NULL, *p1, *p2;
	size_t			 n1, n2;

	put(conf_path, data, size);
	config_msg_capture(&msgs);
	c = parse_config(conf_path, XGW_OPT_NOACTION);
	if (c == NULL) {
		CHECK(msgs != NULL && strstr(msgs, ": ") != NULL);
		goto done;
	}
	p1 = printed(c, &n1);
	config_free(c);
	put(again_path, p1, n1);
	free(msgs);
	msgs = NULL;
	c2 = parse_config(again_path, XGW_OPT_NOACTION);
	if (c2 == NULL)
		fprintf(stderr, "printed:\n%s\nrefused:\n%s", p1,
		    msgs ? msgs : "");
	CHECK(c2 != NULL);
	p2 = printed(c2, &n2);
	config_free(c2);
	if (n1 != n2 || memcmp(p1, p2, n1) != 0)
		fprintf(stderr, "printed:\n%s\nprinted again:\n%s", p1, p2);
	CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0);
	free(p1);
	free(p2);
 done:
	config_msg_capture(NULL);
	free(msgs);
	return (0);
}
