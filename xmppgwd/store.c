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
 * The durable store of the policy process: SQLite in the state
 * directory, WAL mode, one writer.  Every change is committed with
 * synchronous=FULL before the function that makes it returns, so what
 * a caller acknowledges survives a crash of the process or the machine.
 * Everything SQL lives here, behind this narrow interface.
 */

#include <sys/types.h>

#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define STORE_SCHEMA_VERSION	1
#define STORE_BUSY_MS		100	/* then fail: policy must not stall */

static sqlite3		*db;
static sqlite3_stmt	*st_has, *st_add, *st_del, *st_count, *st_count_user;

static const char	 schema[] =
	"CREATE TABLE IF NOT EXISTS authorization ("
	" local_user TEXT NOT NULL,"
	" remote_jid TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" PRIMARY KEY (local_user, remote_jid)) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

static int
store_prepare(sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

static int
store_exec(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, err ? err : "failed");
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

/* the pragma answers with the mode it got, not an error */
static int
store_wal(void)
{
	sqlite3_stmt	*st;
	int		 ok = 0;

	if (store_prepare(&st, "PRAGMA journal_mode = WAL") == -1)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		ok = m != NULL && strcmp((const char *)m, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (!ok)
		log_warnx("store: the database cannot use WAL mode");
	return (ok ? 0 : -1);
}

static int
store_version(void)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (store_prepare(&st, "PRAGMA user_version") == -1)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (v);
}

int
store_open(const char *path)
{
	int	 v;

	if (db != NULL)
		return (0);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", path, db ? sqlite3_errmsg(db) :
		    "out of memory");
		goto fail;
	}
	(void)sqlite3_busy_timeout(db, STORE_BUSY_MS);
	(void)sqlite3_extended_result_codes(db, 1);
	if (store_wal() == -1 ||
	    store_exec("PRAGMA synchronous = FULL;"
	    "PRAGMA temp_store = MEMORY;") == -1)
		goto fail;
	if ((v = store_version()) == -1)
		goto fail;
	if (v > STORE_SCHEMA_VERSION) {
		log_warnx("store: %s: schema version %d is newer than this "
		    "xmppgwd (%d)", path, v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (store_exec(schema) == -1 ||
	    store_prepare(&st_has, "SELECT 1 FROM authorization "
	    "WHERE local_user = ?1 AND remote_jid = ?2") == -1 ||
	    store_prepare(&st_add, "INSERT OR IGNORE INTO authorization "
	    "(local_user, remote_jid, created, source) "
	    "VALUES (?1, ?2, ?3, ?4)") == -1 ||
	    store_prepare(&st_del, "DELETE FROM authorization "
	    "WHERE local_user = ?1 AND remote_jid = ?2") == -1 ||
	    store_prepare(&st_count, "SELECT count(*) FROM authorization")
	    == -1 ||
	    store_prepare(&st_count_user, "SELECT count(*) FROM authorization "
	    "WHERE local_user = ?1") == -1)
		goto fail;
	return (0);
 fail:
	store_close();
	return (-1);
}

void
store_close(void)
{
	sqlite3_finalize(st_has);
	sqlite3_finalize(st_add);
	sqlite3_finalize(st_del);
	sqlite3_finalize(st_count);
	sqlite3_finalize(st_count_user);
	st_has = st_add = st_del = st_count = st_count_user = NULL;
	if (db != NULL)
		sqlite3_close(db);
	db = NULL;
}

static int
store_bind_pair(sqlite3_stmt *st, const char *local, const char *remote)
{
	if (sqlite3_bind_text(st, 1, local, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, remote, -1, SQLITE_STATIC) != SQLITE_OK)
		return (-1);
	return (0);
}

/* one statement that changes nothing or is its own transaction */
static int
store_step(sqlite3_stmt *st, const char *what)
{
	int	 rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		log_warnx("store: %s: %s", what, sqlite3_errmsg(db));
	return (rc);
}

int
store_auth_has(const char *local, const char *remote)
{
	int	 rc;

	if (db == NULL)
		return (-1);
	if (store_bind_pair(st_has, local, remote) == -1)
		rc = -1;
	else if ((rc = store_step(st_has, "authorization lookup")) ==
	    SQLITE_ROW)
		rc = 1;
	else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st_has);
	sqlite3_clear_bindings(st_has);
	return (rc);
}

int
store_auth_count(void)
{
	int	 rc = -1;

	if (db == NULL)
		return (-1);
	if (store_step(st_count, "authorization count") == SQLITE_ROW)
		rc = sqlite3_column_int(st_count, 0);
	sqlite3_reset(st_count);
	return (rc);
}

/* the authorisations of one local user */
int
store_auth_count_user(const char *local)
{
	int	 rc = -1;

	if (db == NULL)
		return (-1);
	if (sqlite3_bind_text(st_count_user, 1, local, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    store_step(st_count_user, "authorization count") == SQLITE_ROW)
		rc = sqlite3_column_int(st_count_user, 0);
	sqlite3_reset(st_count_user);
	sqlite3_clear_bindings(st_count_user);
	return (rc);
}

/* 1: added, 0: there already, -1: not stored */
int
store_auth_add(const char *local, const char *remote, const char *source)
{
	int	 rc;

	if (db == NULL)
		return (-1);
	if (store_bind_pair(st_add, local, remote) == -1 ||
	    sqlite3_bind_int64(st_add, 3, (sqlite3_int64)time(NULL)) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st_add, 4, source, -1, SQLITE_STATIC) !=
	    SQLITE_OK)
		rc = -1;
	else if (store_step(st_add, "authorization insert") == SQLITE_DONE)
		rc = sqlite3_changes(db) > 0;
	else
		rc = -1;
	sqlite3_reset(st_add);
	sqlite3_clear_bindings(st_add);
	return (rc);
}

/* 1: removed, 0: there was none, -1: error */
int
store_auth_del(const char *local, const char *remote)
{
	int	 rc;

	if (db == NULL)
		return (-1);
	if (store_bind_pair(st_del, local, remote) == -1)
		rc = -1;
	else if (store_step(st_del, "authorization delete") == SQLITE_DONE)
		rc = sqlite3_changes(db) > 0;
	else
		rc = -1;
	sqlite3_reset(st_del);
	sqlite3_clear_bindings(st_del);
	return (rc);
}

/*
 * The authorisations (of local, when not NULL), in order, at most max;
 * -1: error.
 */
int
store_auth_list(const char *local, unsigned int max, store_auth_cb cb,
    void *arg)
{
	sqlite3_stmt	*st;
	struct store_auth a;
	const char	*sql;
	int		 rc;

	if (db == NULL)
		return (-1);
	sql = local == NULL ?
	    "SELECT local_user, remote_jid, created, source FROM "
	    "authorization ORDER BY local_user, remote_jid LIMIT ?2" :
	    "SELECT local_user, remote_jid, created, source FROM "
	    "authorization WHERE local_user = ?1 ORDER BY remote_jid "
	    "LIMIT ?2";
	if (store_prepare(&st, sql) == -1)
		return (-1);
	if ((local != NULL &&
	    sqlite3_bind_text(st, 1, local, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_bind_int64(st, 2, max) != SQLITE_OK) {
		sqlite3_finalize(st);
		return (-1);
	}
	while ((rc = store_step(st, "authorization list")) == SQLITE_ROW) {
		a.local = (const char *)sqlite3_column_text(st, 0);
		a.remote = (const char *)sqlite3_column_text(st, 1);
		a.created = sqlite3_column_int64(st, 2);
		a.source = (const char *)sqlite3_column_text(st, 3);
		if (a.local == NULL || a.remote == NULL || a.source == NULL)
			continue;
		cb(&a, arg);
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}
