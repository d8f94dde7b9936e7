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
 * Unit tests of xmppgwd/store.c: authorisations added, found, listed
 * and removed; what a second process sees after each call returns (the
 * change is committed); a child killed with SIGKILL right after a
 * change loses nothing; a database of a newer schema is refused.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "log.h"
#include "store.h"

#define DB	"test.db"

struct listing {
	char	 text[4096];
	int	 n;
};

static void
collect(const struct store_auth *a, void *arg)
{
	struct listing	*l = arg;
	size_t		 len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s %s %s\n",
	    a->local, a->remote, a->source);
	ATF_CHECK_MSG(a->created > 0, "created %lld", (long long)a->created);
	l->n++;
}

/* what another connection sees: the committed rows */
static int
count_elsewhere(void)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 n = -1;

	ATF_REQUIRE(sqlite3_open(DB, &db) == SQLITE_OK);
	ATF_REQUIRE(sqlite3_prepare_v2(db,
	    "SELECT count(*) FROM authorization", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (n);
}

ATF_TC_WITHOUT_HEAD(add_has_del);
ATF_TC_BODY(add_has_del, tc)
{
	log_init(1, 0);
	ATF_REQUIRE_EQ(store_open(DB), 0);
	ATF_CHECK_EQ(store_auth_has("alice@contoso.example",
	    "bob@litware.example"), 0);
	ATF_CHECK_EQ(store_auth_add("alice@contoso.example",
	    "bob@litware.example", "operator"), 1);
	ATF_CHECK_EQ(count_elsewhere(), 1);
	/* a second time changes nothing */
	ATF_CHECK_EQ(store_auth_add("alice@contoso.example",
	    "bob@litware.example", "message"), 0);
	ATF_CHECK_EQ(store_auth_has("alice@contoso.example",
	    "bob@litware.example"), 1);
	/* the pair is ordered */
	ATF_CHECK_EQ(store_auth_has("bob@litware.example",
	    "alice@contoso.example"), 0);
	ATF_CHECK_EQ(store_auth_count(), 1);
	ATF_CHECK_EQ(store_auth_del("alice@contoso.example",
	    "bob@litware.example"), 1);
	ATF_CHECK_EQ(count_elsewhere(), 0);
	ATF_CHECK_EQ(store_auth_del("alice@contoso.example",
	    "bob@litware.example"), 0);
	ATF_CHECK_EQ(store_auth_has("alice@contoso.example",
	    "bob@litware.example"), 0);
	store_close();
	/* closed: every call fails, none crashes */
	ATF_CHECK_EQ(store_auth_has("a@b.example", "c@d.example"), -1);
	ATF_CHECK_EQ(store_auth_add("a@b.example", "c@d.example", "x"), -1);
}

ATF_TC_WITHOUT_HEAD(list_in_order);
ATF_TC_BODY(list_in_order, tc)
{
	struct listing	 l;

	log_init(1, 0);
	ATF_REQUIRE_EQ(store_open(DB), 0);
	ATF_REQUIRE_EQ(store_auth_add("bob@c.example", "z@p.example",
	    "message"), 1);
	ATF_REQUIRE_EQ(store_auth_add("alice@c.example", "y@p.example",
	    "operator"), 1);
	ATF_REQUIRE_EQ(store_auth_add("alice@c.example", "x@p.example",
	    "message"), 1);
	memset(&l, 0, sizeof(l));
	ATF_REQUIRE_EQ(store_auth_list(NULL, 100, collect, &l), 0);
	ATF_CHECK_STREQ(l.text, "alice@c.example x@p.example message\n"
	    "alice@c.example y@p.example operator\n"
	    "bob@c.example z@p.example message\n");
	memset(&l, 0, sizeof(l));
	ATF_REQUIRE_EQ(store_auth_list("bob@c.example", 100, collect, &l), 0);
	ATF_CHECK_STREQ(l.text, "bob@c.example z@p.example message\n");
	memset(&l, 0, sizeof(l));
	ATF_REQUIRE_EQ(store_auth_list("nobody@c.example", 100, collect, &l), 0);
	ATF_CHECK_EQ(l.n, 0);
	/* at most as many as asked for */
	memset(&l, 0, sizeof(l));
	ATF_REQUIRE_EQ(store_auth_list(NULL, 2, collect, &l), 0);
	ATF_CHECK_EQ(l.n, 2);
	store_close();
}

ATF_TC_WITHOUT_HEAD(survives_sigkill);
ATF_TC_BODY(survives_sigkill, tc)
{
	int	 fds[2], status;
	pid_t	 pid;
	char	 c;

	log_init(1, 0);
	ATF_REQUIRE(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (store_open(DB) != 0 ||
		    store_auth_add("alice@c.example", "bob@p.example",
		    "operator") != 1)
			_exit(1);
		/* acknowledged: now die without closing anything */
		(void)write(fds[1], "k", 1);
		for (;;)
			pause();
	}
	ATF_REQUIRE(pid > 0);
	close(fds[1]);
	ATF_REQUIRE_EQ(read(fds[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFSIGNALED(status));
	ATF_REQUIRE_EQ(store_open(DB), 0);
	ATF_CHECK_EQ(store_auth_has("alice@c.example", "bob@p.example"), 1);
	store_close();
}

ATF_TC_WITHOUT_HEAD(newer_schema_refused);
ATF_TC_BODY(newer_schema_refused, tc)
{
	sqlite3	*db;

	log_init(1, 0);
	ATF_REQUIRE(sqlite3_open(DB, &db) == SQLITE_OK);
	ATF_REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(db);
	ATF_CHECK_EQ(store_open(DB), -1);
	ATF_CHECK_EQ(store_auth_count(), -1);
}

ATF_TC_WITHOUT_HEAD(not_a_database);
ATF_TC_BODY(not_a_database, tc)
{
	FILE	*fp;

	log_init(1, 0);
	ATF_REQUIRE((fp = fopen(DB, "w")) != NULL);
	fprintf(fp, "this is not an SQLite database, but it is long enough "
	    "to look like a header to someone who does not check.\n");
	fclose(fp);
	ATF_CHECK_EQ(store_open(DB), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, add_has_del);
	ATF_TP_ADD_TC(tp, list_in_order);
	ATF_TP_ADD_TC(tp, survives_sigkill);
	ATF_TP_ADD_TC(tp, newer_schema_refused);
	ATF_TP_ADD_TC(tp, not_a_database);
	return (atf_no_error());
}
