/*
 * schema.c: the shape an existing `events` table must have for `sqlpool run` to give back
 * exactly what it stores, and the one-line reason when it does not (see schema.h).
 *
 * What is needed, and why:
 * - a table (not a view or a virtual table), with a rowid: id must be that rowid (declared
 *   INTEGER PRIMARY KEY, not DESC, the only key column), so every row gets a new id above
 *   all earlier ones and the undo's id range holds this run's rows and no other;
 * - label of TEXT or BLOB affinity (or ANY in a STRICT table), NOT NULL, not generated:
 *   other affinities turn '007' into 7 and '1e3' into 1000, and a NULL label would print as "";
 * - no other column that every insert would violate (NOT NULL without a default);
 * - no unique index: a label already there would be refused, or with ON CONFLICT IGNORE or
 *   REPLACE silently dropped or put in place of another row;
 * - no trigger on it: one can drop a row (RAISE(IGNORE)), change a label, add rows the undo
 *   misses, or refuse the undo's DELETE.
 * CHECK constraints and foreign keys may refuse a label, but with an error that names its
 * line, so they are allowed.
 */
#include "schema.h"

#include "commands.h"
#include "exitcodes.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define WHY 400

/* 1 when word (upper case) occurs in s, ignoring case. */
static int has_word(const char *s, const char *word) {
    size_t n = strlen(word);
    for (; *s != '\0'; s++) {
        size_t i = 0;
        while (i < n && s[i] != '\0' && toupper((unsigned char)s[i]) == word[i])
            i++;
        if (i == n) return 1;
    }
    return 0;
}

/* The affinity SQLite gives a column declared with type (section 3.1 of its datatype page). */
static const char *affinity(const char *type) {
    if (has_word(type, "INT")) return "INTEGER";
    if (has_word(type, "CHAR") || has_word(type, "CLOB") || has_word(type, "TEXT")) return "TEXT";
    if (has_word(type, "BLOB") || type[0] == '\0') return "BLOB";
    if (has_word(type, "REAL") || has_word(type, "FLOA") || has_word(type, "DOUB")) return "REAL";
    return "NUMERIC";
}

static int same_name(const unsigned char *a, const char *b) {
    return a != NULL && sqlite3_stricmp((const char *)a, b) == 0;
}

static const char *text_or_empty(sqlite3_stmt *st, int col) {
    const unsigned char *s = sqlite3_column_text(st, col);
    return s != NULL ? (const char *)s : "";
}

/* Each check: 0 when fine, 1 with why set when refused, -1 when a query failed. */

/* Before 3.37 (no pragma_table_list, no STRICT tables) the kind comes from sqlite_master: a
 * view, or a table whose CREATE is VIRTUAL, or one whose options after the last ')' say
 * WITHOUT ROWID. (A WITHOUT ROWID table also has a primary key index, which check_indexes
 * refuses, should a comment there hide the words.) */
static int check_kind_master(sqlite3 *db, char *why) {
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT type, sql FROM main.sqlite_master WHERE type IN ('table', "
                           "'view') AND name = 'events' COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = text_or_empty(st, 0), *sql = text_or_empty(st, 1);
        const char *options = strrchr(sql, ')');
        rc = 1;
        if (strcmp(type, "view") == 0)
            (void)snprintf(why, WHY, "events is a view, not a table");
        else if (sqlite3_strnicmp(sql, "CREATE VIRTUAL TABLE", 20) == 0)
            (void)snprintf(why, WHY, "events is a virtual table, not an ordinary one");
        else if (options != NULL && has_word(options, "WITHOUT") && has_word(options, "ROWID"))
            (void)snprintf(why, WHY, "it is WITHOUT ROWID, so id cannot be its rowid");
        else
            rc = 0;
    } else {
        (void)snprintf(why, WHY, "events is not a table of the main schema");
        rc = 1;
    }
    (void)sqlite3_finalize(st);
    return rc;
}

/* A table with a rowid; *strict set for the label's check. */
static int check_kind(sqlite3 *db, int *strict, char *why) {
    sqlite3_stmt *st = NULL;
    int rc;
    *strict = 0;
    if (sqlite3_libversion_number() < 3037000) return check_kind_master(db, why);
    if (sqlite3_prepare_v2(db,
                           "SELECT type, wr, strict FROM pragma_table_list WHERE schema = 'main' "
                           "AND name = 'events' COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = text_or_empty(st, 0);
        *strict = sqlite3_column_int(st, 2);
        rc = 1;
        if (strcmp(type, "view") == 0)
            (void)snprintf(why, WHY, "events is a view, not a table");
        else if (strcmp(type, "table") != 0) /* virtual, or a virtual table's shadow */
            (void)snprintf(why, WHY, "events is a %s table, not an ordinary one", type);
        else if (sqlite3_column_int(st, 1))
            (void)snprintf(why, WHY, "it is WITHOUT ROWID, so id cannot be its rowid");
        else
            rc = 0;
    } else {
        (void)snprintf(why, WHY, "events is not a table of the main schema");
        rc = 1;
    }
    (void)sqlite3_finalize(st);
    return rc;
}

/* id: the rowid's alias as far as table_xinfo shows (the index check does the rest). */
static int check_id(sqlite3_stmt *st, char *why) {
    const char *type = text_or_empty(st, 1);
    if (sqlite3_column_int(st, 5) != 0)
        (void)snprintf(why, WHY, "column id is a generated column");
    else if (sqlite3_column_int(st, 4) != 1)
        (void)snprintf(why, WHY, "column id is not its primary key, so new rows get no id");
    else if (sqlite3_stricmp(type, "INTEGER") != 0)
        (void)snprintf(why, WHY,
                       "column id is declared '%s' PRIMARY KEY, not INTEGER PRIMARY KEY, so it is "
                       "not the rowid and new rows get no id",
                       type);
    else
        return 0;
    return 1;
}

static int check_label(sqlite3_stmt *st, int strict, char *why) {
    const char *type = text_or_empty(st, 1), *aff = affinity(type);
    int any = strict && sqlite3_stricmp(type, "ANY") == 0; /* kept as given */
    if (sqlite3_column_int(st, 5) != 0)
        (void)snprintf(why, WHY, "column label is a generated column");
    else if (!any && strcmp(aff, "TEXT") != 0 && strcmp(aff, "BLOB") != 0)
        (void)snprintf(why, WHY,
                       "column label is declared '%s' (%s affinity), which stores a label such "
                       "as '007' or '1e3' as a number; it needs TEXT",
                       type, aff);
    else if (!sqlite3_column_int(st, 2))
        (void)snprintf(why, WHY,
                       "column label is not NOT NULL, and a NULL label would print as \"\"");
    else
        return 0;
    return 1;
}

/* Another column: it must not be part of the key, nor refuse every insert. */
static int check_other(sqlite3_stmt *st, char *why) {
    const char *name = text_or_empty(st, 0);
    const unsigned char *dflt = sqlite3_column_text(st, 3);
    int generated = sqlite3_column_int(st, 5) != 0;
    if (sqlite3_column_int(st, 4) != 0) {
        (void)snprintf(why, WHY, "its primary key includes column '%s', so id is not the rowid",
                       name);
        return 1;
    }
    if (!generated && sqlite3_column_int(st, 2) && (dflt == NULL || same_name(dflt, "NULL"))) {
        (void)snprintf(why, WHY,
                       "column '%s' is NOT NULL without a default, and the demo writes only label",
                       name);
        return 1;
    }
    return 0;
}

static int check_columns(sqlite3 *db, int strict, char *why) {
    sqlite3_stmt *st = NULL;
    int rc = 0, have_id = 0, have_label = 0, step;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                           "FROM pragma_table_xinfo('events', 'main')",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (same_name(name, "id"))
            have_id = 1, rc = check_id(st, why);
        else if (same_name(name, "label"))
            have_label = 1, rc = check_label(st, strict, why);
        else
            rc = check_other(st, why);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = -1;
    (void)sqlite3_finalize(st);
    if (rc == 0 && (!have_id || !have_label)) {
        (void)snprintf(why, WHY, "it has no column %s", have_id ? "label" : "id");
        rc = 1;
    }
    return rc;
}

/* With a rowid alias the primary key has no index of its own; any unique index is refused. */
static int check_indexes(sqlite3 *db, char *why) {
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, origin FROM pragma_index_list('events', 'main') "
                           "WHERE \"unique\" ORDER BY origin = 'pk' DESC, name",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (strcmp(text_or_empty(st, 1), "pk") == 0)
            (void)snprintf(why, WHY,
                           "column id is not the rowid (its PRIMARY KEY is DESC, or not on id "
                           "alone), so new rows get no id");
        else
            (void)snprintf(why, WHY,
                           "it has the unique index '%s', which would refuse, drop or replace a "
                           "row whose label is already there",
                           text_or_empty(st, 0));
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    (void)sqlite3_finalize(st);
    return rc;
}

static int check_triggers(sqlite3 *db, char *why) {
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM main.sqlite_master WHERE type = 'trigger' AND "
                           "tbl_name = 'events' COLLATE NOCASE ORDER BY name LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        (void)snprintf(why, WHY,
                       "it has the trigger '%s', which could change or drop the rows written, or "
                       "add rows the undo would not delete",
                       text_or_empty(st, 0));
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    (void)sqlite3_finalize(st);
    return rc;
}

int schema_check_sqlite(sqlite3 *db, const char *shown) {
    char why[WHY] = "";
    int strict = 0;
    int rc = check_kind(db, &strict, why);
    if (rc == 0) rc = check_columns(db, strict, why);
    if (rc == 0) rc = check_indexes(db, why);
    if (rc == 0) rc = check_triggers(db, why);
    if (rc < 0) {
        commands_error("reading the schema of table events failed on '%s': %s", shown,
                       sqlite3_errmsg(db));
        return (sqlite3_errcode(db) & 0xff) == SQLITE_NOMEM ? EXIT_SOFTWARE : EXIT_UNAVAILABLE;
    }
    if (rc > 0) {
        commands_error("table events in '%s' cannot give back the labels exactly: %s", shown, why);
        return EXIT_DATAERR;
    }
    return 0;
}
