/* main.c: the sqlpool command: parse the flags, then run the chosen command. */
#include "backends.h"
#include "bench.h"
#include "commands.h"
#include "exitcodes.h"
#include "logger.h"
#include "sample.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: sqlpool [run] [OPTION]...\n"
    "  or:  sqlpool health [OPTION]...\n"
    "  or:  sqlpool bench --db=DB [OPTION]...   (see 'sqlpool bench --help')\n"
    "Run, check and measure connection pools for SQLite and PostgreSQL.\n"
    "\n"
    "  run (the default)  the SQL Connection Simulator: read labels from a text\n"
    "                     file, insert them into the table 'events' through a\n"
    "                     connection pool, read them back, and write a JSON summary\n"
    "                     with the rows, a health check and the pool's statistics\n"
    "  health             check a database and print a health JSON\n"
    "  bench              simulate clients against a pool and report throughput,\n"
    "                     waits and latency\n"
    "\n"
    "Options of run:\n"
    "  --input=FILE        labels, one per line (default: data/sample_input.txt,\n"
    "                      or when there is none, the sample installed with sqlpool)\n"
    "  --output=FILE       the JSON summary, written atomically; parent folders\n"
    "                      are created (default: data/output_summary.json); a\n"
    "                      symbolic link is written through; a device or FIFO is\n"
    "                      written directly (and copied to standard output\n"
    "                      unless --quiet)\n"
    "  --pool-size=N       most idle connections kept, 1 to 100000 (default: 5)\n"
    "  --quiet             do not copy the summary to standard output\n"
    "  --read-db=DB        PostgreSQL: a second database string for reads, e.g. the\n"
    "                      standbys (config.read_db); checked when the pool opens\n"
    "\n"
    "Options of run and health:\n"
    "  --db=DB             a SQLite file, :memory:, or PostgreSQL: a postgresql://\n"
    "                      URI or a key=value conninfo string (default: :memory:)\n"
    "  --timeout=S         seconds, 0 to 86400 (default: 5): the SQLite busy\n"
    "                      timeout; for PostgreSQL, the connect deadline\n"
    "  --retries=N         connect retries on busy, locked or a server not yet\n"
    "                      up, 0 to 100 (default: 3)\n"
    "  --log-level=LEVEL   debug, info, warning or error (default: info); logs go\n"
    "                      to standard error\n"
    "  --init-sql=SQL      statements run on every new connection before its first\n"
    "                      use, e.g. 'PRAGMA foreign_keys=ON' or 'SET search_path=app';\n"
    "                      one that fails is exit 69 (health: 1, unhealthy)\n"
    "  --pg-unnamed-statements  PostgreSQL: never prepare named statements\n"
    "  --pg-reset-query=SQL PostgreSQL: run on every release, e.g. 'DISCARD ALL'\n"
    "  --statement-timeout=S  PostgreSQL: cancel a statement after S seconds, 0 (no\n"
    "                      limit, the default) to 86400\n"
    "  --help              show this help and exit\n"
    "  --version           show the version and exit\n"
    "An option's value may also follow it as the next argument (--db events.db).\n"
    "\n"
    "Exit status of run:\n"
    "  0 success, 64 bad usage, 65 bad input data, 66 input cannot be read,\n"
    "  69 database unavailable, 70 internal error, 73 output cannot be created,\n"
    "  74 I/O error, 75 database busy or locked (try again).\n"
    "Exit status of health (as pg_isready):\n"
    "  0 healthy; 1 unhealthy (not a database, corrupt, busy, a server that refuses\n"
    "  us); 2 unreachable (missing file or folder, permission, no server).\n"
    "\n"
    "Examples:\n"
    "  sqlpool run --input=data/sample_input.txt --output=out/summary.json\n"
    "  sqlpool run --db=events.db --pool-size=3 --quiet\n"
    "  sqlpool health --db=postgresql://app@localhost/app\n"
    "  sqlpool bench --db=events.db --sweep=clients=1,2,4,8 --mode=both\n"
    "\n"
    "Manual: man sqlpool (and sqlpool(3) for the library).\n"
    "Report bugs: see README.md in the sqlpool sources.\n";

/* "sqlpool X.Y.Z", then what it was built with. */
static int print_version(void) {
    char pg[128];
    backends_pg_version(pg, sizeof pg);
    printf("sqlpool %s\n", sqlpool_version());
    printf("SQLite %s\n", sqlite3_libversion());
    printf("%s\n", pg);
    return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_IOERR;
}

/* sqlpool bench has its own flags and parser. */
static int main_bench(int argc, char **argv) {
    bench_options opts;
    char err[512], raw[512];
    if (bench_options_parse(argc, argv, &opts, err, sizeof err) != 0) {
        logger_unescape(err, raw, sizeof raw); /* escaped once, by commands_error */
        commands_error("%s (see 'sqlpool bench --help')", raw);
        return EXIT_USAGE;
    }
    if (opts.help) {
        return fputs(bench_usage_text, stdout) != EOF && fputs(bench_usage_more, stdout) != EOF &&
                       fflush(stdout) == 0
                   ? EXIT_OK
                   : EXIT_IOERR;
    }
    if (opts.version) return print_version();
    logger_set_level(opts.log_level);
    return command_bench(&opts);
}

/* Descriptors 0, 1 and 2 that are closed at start are opened on /dev/null, first of all (as
 * daemons and coreutils do): else the first file the run opens would become fd 1 or 2, and the
 * log or the summary's copy would be written into it. */
static void open_std_fds(void) {
    for (int fd = 0; fd <= 2; fd++) {
        int got;
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got == fd) continue;
        if (got >= 0) (void)close(got);
        _exit(71); /* EX_OSERR; there is nothing to write a message to */
    }
}

int main(int argc, char **argv) {
    cli_options opts;
    char err[512], raw[512];

    open_std_fds();

    if (argc > 1 && strcmp(argv[1], "bench") == 0) return main_bench(argc, argv);

    if (options_parse(argc, argv, &opts, err, sizeof err) != 0) {
        logger_unescape(err, raw, sizeof raw); /* escaped once, by commands_error */
        commands_error("%s (see 'sqlpool --help')", raw);
        return EXIT_USAGE;
    }
    if (opts.help) {
        return fputs(usage_text, stdout) != EOF && fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR;
    }
    if (opts.version) return print_version();
    logger_set_level(opts.log_level);
    if (opts.command == CMD_HEALTH) return command_health(&opts);
    /* The installed `sqlpool run` works from any folder; run_start logs the file read. */
    if (!opts.input_given) opts.input = sample_input(opts.input);
    return command_run(&opts);
}
