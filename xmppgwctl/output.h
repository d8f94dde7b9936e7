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

#ifndef OUTPUT_H
#define OUTPUT_H

#include "parser.h"

struct ctl_stream {
	uint32_t	 instance;
	uint32_t	 id;
	char		 dir[8];
	char		 local[256];
	char		 remote[256];
	char		 addr[64];
	char		 tls_version[32];
	char		 tls_cipher[64];
	char		 auth[32];
	char		 state[16];
	uint32_t	 age;
};

struct ctl_auth {
	char		 local[3072];
	char		 remote[3072];
	int64_t		 created;
	char		 source[32];
};

struct ctl_step {
	char		 step[32];
	char		 status[16];
	char		 text[1024];
};

struct output {
	void	(*head)(enum actions);
	void	(*proc)(const struct ctl_proc *, time_t);
	void	(*confinfo)(const struct ctl_confinfo *, time_t);
	void	(*partner)(const struct xgw_partner *);
	void	(*stream)(const struct ctl_stream *);
	void	(*counters)(const struct ctl_counters *, time_t);
	void	(*cause)(const struct ctl_cause *);
	void	(*auth)(const struct ctl_auth *);
	void	(*result)(int, const char *);
	void	(*tail)(enum actions);
	/* show partners NAME: the partner, then its streams follow */
	void	(*partner_streams)(const struct xgw_partner *);
	void	(*step)(const struct ctl_step *);	/* check partner */
};

extern const struct output text_output, json_output;

#endif /* OUTPUT_H */
