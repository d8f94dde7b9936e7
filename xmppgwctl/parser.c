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
 * xmppgwctl's command line: token tables chained by "next", any
 * unambiguous prefix accepted ("sh p" is "show partners").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

enum token_type {
	ENDTOKEN,
	NOTOKEN,	/* the argument may end here */
	KEYWORD,
	USERARG,	/* a local user's address */
	JIDARG		/* a remote contact's JID */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_log[];
static const struct token t_authorize[];
static const struct token t_jid[];
static const struct token t_show_auths[];
static const struct token t_show_partner[];
static const struct token t_cert[];
static const struct token t_cert_domain[];
static const struct token t_check[];
static const struct token t_check_partner[];

static const struct token t_end[] = {
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_main[] = {
	{ KEYWORD,	"authorize",	AUTHORIZE,	t_authorize },
	{ KEYWORD,	"certificate",	NONE,		t_cert },
	{ KEYWORD,	"check",	NONE,		t_check },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ KEYWORD,	"reload",	RELOAD,		t_end },
	{ KEYWORD,	"revoke",	REVOKE,		t_authorize },
	{ KEYWORD,	"show",		NONE,		t_show },
	{ KEYWORD,	"status",	STATUS,		t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"authorizations", SHOW_AUTHS,	t_show_auths },
	{ KEYWORD,	"partners",	SHOW_PARTNERS,	t_show_partner },
	{ KEYWORD,	"streams",	SHOW_STREAMS,	t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"brief",	LOG_BRIEF,	t_end },
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_authorize[] = {
	{ USERARG,	"user@domain",	NONE,		t_jid },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_jid[] = {
	{ JIDARG,	"contact@partner-domain", NONE,	t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show_auths[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ USERARG,	"user@domain",	NONE,		t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show_partner[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ JIDARG,	"partner-domain", SHOW_PARTNER,	t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cert[] = {
	{ KEYWORD,	"request",	NONE,		t_cert_domain },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cert_domain[] = {
	{ JIDARG,	"domain",	CERT_REQUEST,	t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_check[] = {
	{ KEYWORD,	"partner",	NONE,		t_check_partner },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_check_partner[] = {
	{ JIDARG,	"partner-domain", CHECK_PARTNER, t_end },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static struct parse_result	res;

static const struct token *match_token(const char *, const struct token *);
static void	show_valid_args(const struct token *);

struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main, *match;

	memset(&res, 0, sizeof(res));
	while (argc >= 0) {
		if (argc == 0) {
			if (table[0].type == ENDTOKEN ||
			    table[0].type == NOTOKEN)
				break;
			fprintf(stderr, "missing argument:\n");
			show_valid_args(table);
			return (NULL);
		}
		if ((match = match_token(argv[0], table)) == NULL) {
			fprintf(stderr, "valid commands/arguments are:\n");
			show_valid_args(table);
			return (NULL);
		}
		if (match->type == ENDTOKEN)
			break;
		argc--;
		argv++;
		table = match->next;
	}
	if (argc > 0) {
		fprintf(stderr, "superfluous argument: %s\n", argv[0]);
		return (NULL);
	}
	return (&res);
}

static const struct token *
match_token(const char *word, const struct token *table)
{
	const struct token	*t = NULL;
	size_t			 len = strlen(word);
	int			 i, matches = 0;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		if ((table[i].type == USERARG || table[i].type == JIDARG) &&
		    len > 0) {
			char	*dst = table[i].type == USERARG ? res.user :
			    res.jid;

			if (len >= PARSE_ARG_MAX) {
				fprintf(stderr, "argument too long\n");
				return (NULL);
			}
			memcpy(dst, word, len + 1);
			if (table[i].value != NONE)
				res.action = table[i].value;
			return (&table[i]);
		}
		if (table[i].type != KEYWORD || len == 0)
			continue;
		if (strncmp(word, table[i].keyword, len) == 0) {
			if (strlen(table[i].keyword) == len) {
				/* an exact match wins over prefixes */
				matches = 1;
				t = &table[i];
				break;
			}
			matches++;
			t = &table[i];
		}
	}
	if (matches != 1) {
		if (matches > 1)
			fprintf(stderr, "ambiguous argument: %s\n", word);
		else
			fprintf(stderr, "unknown argument: %s\n", word);
		return (NULL);
	}
	if (t->value != NONE)
		res.action = t->value;
	return (t);
}

static void
show_valid_args(const struct token *table)
{
	int	 i;

	for (i = 0; table[i].type != ENDTOKEN; i++)
		if (table[i].type == NOTOKEN)
			fprintf(stderr, "  <cr>\n");
		else
			fprintf(stderr, "  %s\n", table[i].keyword);
}
