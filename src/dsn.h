/*
 * dsn.h: reading db strings: which backend serves one, and the same string with its secrets
 * masked, for anything that prints it (logs, errors, stats, health). Pure string work, no
 * libpq, so it is the same whether or not PostgreSQL support is built (and easy to fuzz).
 */
#ifndef SQLPOOL_DSN_H
#define SQLPOOL_DSN_H

#include <stddef.h>

/* 1 when db is for PostgreSQL: a postgresql:// or postgres:// URI, or a libpq "key=value"
 * conninfo string whose first key is one of libpq's; 0 otherwise (SQLite). */
int sqlpool__dsn_is_pg(const char *db);

/* Copy db to out with every password (URI user info, password= and sslpassword= in a URI
 * query or a conninfo string) replaced by "***", and so the value of any keyword libpq may
 * not know (a misspelt "passwrd=") and any bare word in a conninfo string (the tail of an
 * unquoted password). Always terminates out (len > 0); returns the length the whole result
 * needs, like snprintf. */
size_t sqlpool__dsn_mask(const char *db, char *out, size_t len);

/* Copy free text (a message that may quote a db string: a server's 'database "..." does not
 * exist') to out with every postgres(ql):// URI's password and every password= and
 * sslpassword= value replaced by "***". As sqlpool__dsn_mask for out, len and the return. */
size_t sqlpool__dsn_mask_text(const char *text, char *out, size_t len);

/* 1 when name, a keyword libpq refused in db ("invalid connection option"), may be shown:
 * a plain word that is a key of db and not the word after an unquoted password, which could
 * be the password's tail ("password=a b=c" may mean the password "a b=c"). */
int sqlpool__dsn_option_shown(const char *db, const char *name);

#endif
