/* schema.h: can the table `events` give back exactly what the demo writes into it? A user's
 * own table may have another shape than the one the demo creates (id INTEGER PRIMARY KEY,
 * label TEXT NOT NULL), and some shapes change or lose rows without an error: a label column
 * of INTEGER affinity stores '007' as 7, an id that is not the rowid is NULL, a trigger can
 * drop a row (RAISE(IGNORE)) or add one the undo would not delete. Such a table is refused
 * before anything is written. */
#ifndef SQLPOOL_CLI_SCHEMA_H
#define SQLPOOL_CLI_SCHEMA_H

#include <sqlite3.h>

/* Check main.events (it exists: call it after CREATE TABLE IF NOT EXISTS, inside the
 * transaction, so the shape cannot change before the rows are in). shown names the database
 * in the message. Returns 0 when every label goes in as one row with the next rowid as id and
 * comes back byte for byte; EXIT_DATAERR with the error printed (one line, naming the first
 * difference); or another exit status when the schema could not be read. */
int schema_check_sqlite(sqlite3 *db, const char *shown);

#endif
