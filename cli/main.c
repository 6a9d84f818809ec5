/* main.c: the sqlpool command: parse the flags, then run the chosen command. */
#include "bench.h"
#include "commands.h"
#include "exitcodes.h"
#include "logger.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "Usage: sqlpool [run] [OPTION]...\n"
    "       sqlpool health [--db DB] [--timeout S] [--retries N] [--log-level LEVEL]\n"
    "       sqlpool bench --db DB [OPTION]...   (see 'sqlpool bench --help')\n"
    "\n"
    "The SQL Connection Simulator: read labels from a text file, insert them into the\n"
    "table 'events' through a connection pool, read them back, and write a JSON summary\n"
    "with the rows, a health check and the pool's statistics.\n"
    "\n"
    "Options:\n"
    "  --input FILE       labels, one per line (default: data/sample_input.txt)\n"
    "  --output FILE      the JSON summary, written atomically; parent folders are\n"
    "                     created (default: data/output_summary.json); a symbolic link\n"
    "                     is written through; a device or FIFO is written directly\n"
    "                     (and copied to standard output unless --quiet)\n"
    "  --db DB            SQLite database file, or :memory: (default: :memory:)\n"
    "  --pool-size N      most idle connections kept, 1 to 100000 (default: 5)\n"
    "  --timeout S        SQLite busy timeout in seconds, 0 to 86400 (default: 5)\n"
    "  --retries N        connect retries on busy or locked, 0 to 100 (default: 3)\n"
    "  --quiet            do not copy the summary to standard output\n"
    "  --log-level LEVEL  debug, info, warning or error (default: info); logs go to\n"
    "                     standard error\n"
    "  --help             show this help and exit\n"
    "  --version          show the version and exit\n"
    "\n"
    "Exit status: 0 success; 64 bad usage; 65 bad input data; 66 input cannot be read;\n"
    "69 database unavailable; 70 internal error; 73 output cannot be created;\n"
    "74 I/O error; 75 database busy or locked (try again).\n"
    "'sqlpool health' exits 0 healthy; 1 unhealthy (also: not a database, corrupt, busy);\n"
    "2 unreachable (missing file or folder, permission denied).\n"
    "\n"
    "Examples:\n"
    "  sqlpool run --input data/sample_input.txt --output out/summary.json\n"
    "  sqlpool run --db events.db --pool-size 3 --quiet\n"
    "  sqlpool health --db events.db\n";

/* sqlpool bench has its own flags and parser. */
static int main_bench(int argc, char **argv) {
    bench_options opts;
    char err[512];
    if (bench_options_parse(argc, argv, &opts, err, sizeof err) != 0) {
        commands_error("%s (see 'sqlpool bench --help')", err);
        return EXIT_USAGE;
    }
    if (opts.help) {
        return fputs(bench_usage_text, stdout) != EOF && fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR;
    }
    logger_set_level(opts.log_level);
    return command_bench(&opts);
}

int main(int argc, char **argv) {
    cli_options opts;
    char err[512];

    if (argc > 1 && strcmp(argv[1], "bench") == 0) return main_bench(argc, argv);

    if (options_parse(argc, argv, &opts, err, sizeof err) != 0) {
        commands_error("%s (see 'sqlpool --help')", err);
        return EXIT_USAGE;
    }
    if (opts.help) {
        return fputs(usage_text, stdout) != EOF && fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR;
    }
    if (opts.version) {
        printf("sqlpool %s\n", sqlpool_version());
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR;
    }
    logger_set_level(opts.log_level);
    return opts.command == CMD_HEALTH ? command_health(&opts) : command_run(&opts);
}
