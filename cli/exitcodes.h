/* exitcodes.h: the CLI's exit statuses, in the sysexits(3) convention. */
#ifndef SQLPOOL_CLI_EXITCODES_H
#define SQLPOOL_CLI_EXITCODES_H

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 64,       /* bad flags or values */
    EXIT_DATAERR = 65,     /* the input is not valid (bad UTF-8, NUL byte) */
    EXIT_NOINPUT = 66,     /* the input cannot be opened or read */
    EXIT_UNAVAILABLE = 69, /* the database cannot be opened or used */
    EXIT_SOFTWARE = 70,    /* an internal error (out of memory) */
    EXIT_OSERR = 71,       /* the system refused a resource (a thread) */
    EXIT_CANTCREAT = 73,   /* the output cannot be created */
    EXIT_IOERR = 74,       /* reading or writing failed midway */
    EXIT_TEMPFAIL = 75     /* the database stayed busy or locked; try again later */
};

#endif
