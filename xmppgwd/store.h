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

#ifndef STORE_H
#define STORE_H

#include <stdint.h>

/* the database file, relative to policy's root (the state directory) */
#define STORE_FILE	"/xmppgwd.db"

/* a local user has added a remote contact, or an operator said so */
struct store_auth {
	const char	*local;		/* bare address of the local user */
	const char	*remote;	/* bare JID of the remote contact */
	int64_t		 created;	/* time(3) */
	const char	*source;	/* "operator", "message", ... */
};

typedef void	(*store_auth_cb)(const struct store_auth *, void *);

int	 store_open(const char *);
void	 store_close(void);
int	 store_auth_has(const char *, const char *);
int	 store_auth_add(const char *, const char *, const char *);
int	 store_auth_del(const char *, const char *);
int	 store_auth_count(void);
int	 store_auth_count_user(const char *);
int	 store_auth_list(const char *, unsigned int, store_auth_cb,
	    void *);

#endif /* STORE_H */
