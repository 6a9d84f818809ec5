/*
 * summary.h: the demo's JSON summary, streamed row by row to a temporary file next to the
 * output and renamed into place only when complete, so an output file is either the whole
 * summary or untouched. Layout and escaping match Python's json.dump(indent=2).
 *
 * An output that is a symbolic link is written through: the temporary file goes beside the
 * link's target and is renamed over the target. An output that is not a regular file (a
 * device, a FIFO, this process's standard output) is written directly, never replaced; every
 * write is then copied to standard output too, unless quiet or the output is stdout itself.
 */
#ifndef SQLPOOL_CLI_SUMMARY_H
#define SQLPOOL_CLI_SUMMARY_H

#include <jansson.h>
#include <stdio.h>

typedef struct summary {
    FILE *file;
    char *path;      /* the final output path (a link's resolved target) */
    char *tmp_path;  /* the temporary file, or NULL when writing straight to a device/FIFO */
    char *iobuf;     /* the output stream's buffer */
    json_t *scratch; /* a reusable JSON string for escaping labels */
    char *text;      /* a reusable buffer for one value's JSON text */
    size_t text_cap;
    char **made_dirs; /* folders created for the output, removed again if it is abandoned */
    int n_made_dirs;
    long long rows;
    int error;     /* errno of the first failed write to the output; reported at flush */
    int tee_error; /* errno of the first failed copy to stdout */
    int direct;    /* writing straight to a device or FIFO: no rename, no read-back */
    int tee;       /* copy every write to stdout (direct, not quiet, not stdout itself) */
    int committed; /* the output is in place */
} summary;

/* Create the output's parent folders and its temporary file (or open a device directly).
 * quiet: no copy on stdout. Returns 0, or EXIT_CANTCREAT (or EXIT_SOFTWARE) with a message. */
int summary_begin(summary *s, const char *path, int quiet, char *err, size_t errlen);

/* The opening of the document and of the "rows" array. */
void summary_rows_begin(summary *s, long long rows_inserted);
/* One row: {"id": id, "label": label}. Returns 0, or -1 when label is not valid UTF-8. */
int summary_row(summary *s, long long id, const char *label, size_t len);
/* Close the array, then write each of the top-level objects in turn. */
void summary_rows_end(summary *s);
void summary_object(summary *s, const char *key, json_t *obj, int last);

/* Push what is buffered to the file (and stdout). Returns 0, or EXIT_IOERR with a message
 * naming the first failed write's error. */
int summary_flush(summary *s, char *err, size_t errlen);
/* Flush, sync and close the temporary file: complete, not yet in place. Returns 0, or
 * EXIT_IOERR with a message. */
int summary_finish(summary *s, char *err, size_t errlen);
/* Finish (when not done yet) and rename into place, the point of no return: with the
 * signals held, and refused (EXIT_IOERR, "Interrupted system call") when signals_caught()
 * says one came since signals_defer(). On failure the temporary file is still there, for
 * summary_abort to remove. */
int summary_commit(summary *s, char *err, size_t errlen);
/* Free everything. Before commit: drop the temporary file and the folders made for it, so
 * the output path is left as it was. */
void summary_abort(summary *s);

/* Copy the finished summary to stdout: the temporary file before the commit, the output
 * after it; nothing when the output was written directly. Returns 0, or EXIT_IOERR with a
 * message. */
int summary_print(const summary *s, char *err, size_t errlen);

/* Whether path can take an output, before the work that produces it (bench --plot): the
 * folders and a temporary file are made and removed again, as summary_begin would make
 * them; a device or FIFO is not opened. 0, or summary_begin's status with its message. */
int summary_check_path(const char *path, char *err, size_t errlen);

#endif
