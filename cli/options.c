/* options.c: strict parsing of the command line. Every flag may appear once; values are
 * plain decimals, whole where a count is asked for, and in range ("5x", "-3", "1e3", "5."
 * and "" are refused, naming the flag). */
#include "options.h"

#include "exitcodes.h"
#include "logger.h"
#include "sqlpool.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POOL_SIZE 100000
#define MAX_RETRIES 100
#define MAX_TIMEOUT 86400.0

enum { CMDS_RUN = 1, CMDS_HEALTH = 2, CMDS_ALL = 3 };

typedef enum {
    KIND_STRING,
    KIND_POOL_SIZE,
    KIND_TIMEOUT,
    KIND_RETRIES,
    KIND_LEVEL,
    KIND_FLAG,
    KIND_STATEMENT_TIMEOUT
} kind;

typedef struct flag_spec {
    const char *name;
    kind kind;
    int commands;
} flag_spec;

static const flag_spec flags[] = {
    {"input", KIND_STRING, CMDS_RUN},
    {"output", KIND_STRING, CMDS_RUN},
    {"db", KIND_STRING, CMDS_ALL},
    {"pool-size", KIND_POOL_SIZE, CMDS_RUN},
    {"timeout", KIND_TIMEOUT, CMDS_ALL},
    {"retries", KIND_RETRIES, CMDS_ALL},
    {"quiet", KIND_FLAG, CMDS_RUN},
    {"log-level", KIND_LEVEL, CMDS_ALL},
    {"help", KIND_FLAG, CMDS_ALL},
    {"version", KIND_FLAG, CMDS_ALL},
    {"init-sql", KIND_STRING, CMDS_ALL},
    /* PostgreSQL only (pg_only() refuses them for SQLite): */
    {"pg-unnamed-statements", KIND_FLAG, CMDS_ALL},
    {"pg-reset-query", KIND_STRING, CMDS_ALL},
    {"statement-timeout", KIND_STATEMENT_TIMEOUT, CMDS_ALL},
    {"read-db", KIND_STRING, CMDS_RUN},
};
#define FIRST_PG_ONLY 11 /* flags[FIRST_PG_ONLY..] are PostgreSQL's */
#define NFLAGS (sizeof flags / sizeof flags[0])

/* A digit, or a minus sign then a digit: strtol/strtod would skip leading white space and
 * accept a '+', which a strict parser refuses. */
static int starts_number(const char *text) {
    const char *p = text[0] == '-' ? text + 1 : text;
    return isdigit((unsigned char)p[0]) || (p[0] == '.' && isdigit((unsigned char)p[1]));
}

int options_parse_int(const char *text, long min, long max, long *out) {
    char *end;
    long v;
    if (!starts_number(text)) return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* An optional minus sign, digits, and an optional point followed by digits ("5", "0.5",
 * ".5"), as sqlpool(1) promises: strtod alone would also take "5.", "1e3", hexadecimal, "inf"
 * and "nan". */
static int plain_decimal(const char *text) {
    const char *p = text[0] == '-' ? text + 1 : text;
    size_t whole = strspn(p, "0123456789");
    p += whole;
    if (*p == '.') {
        size_t fraction = strspn(p + 1, "0123456789");
        if (fraction == 0) return 0;
        p += 1 + fraction;
    } else if (whole == 0) {
        return 0;
    }
    return *p == '\0';
}

int options_parse_seconds(const char *text, double min, double max, double *out) {
    char *end;
    double v;
    if (!plain_decimal(text)) return -1;
    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static void defaults(cli_options *o) {
    memset(o, 0, sizeof *o);
    o->command = CMD_RUN;
    o->input = "data/sample_input.txt";
    o->output = "data/output_summary.json";
    o->db = ":memory:";
    o->pool_size = 5;
    o->timeout = 5.0;
    o->retries = 3;
    o->log_level = 2; /* info */
}

int options_usage_error(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

const char *options_shown(const char *text, char *buf, size_t len) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && o + 8 < len; p++) {
        /* One character at a time (a C1 control is two bytes), escaped as log lines are. */
        char one[3] = {(char)p[0], 0, 0}, piece[8];
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) one[1] = (char)*++p;
        logger_escape_controls(one, piece, sizeof piece);
        if (o + strlen(piece) + 4 >= len) break;
        memcpy(buf + o, piece, strlen(piece));
        o += strlen(piece);
        if (o > 80) {
            o += (size_t)snprintf(buf + o, len - o, "...");
            break;
        }
    }
    buf[o] = '\0';
    return buf;
}

static int set_value(const flag_spec *f, const char *value, cli_options *o, char *err,
                     size_t errlen) {
    char v[128];
    long n;
    double d;
    (void)options_shown(value, v, sizeof v);
    switch (f->kind) {
    case KIND_STRING:
        if (value[0] == '\0')
            return options_usage_error(err, errlen, "--%s: the value is empty", f->name);
        if (strcmp(f->name, "input") == 0) {
            o->input = value;
            o->input_given = 1;
        } else if (strcmp(f->name, "output") == 0) {
            o->output = value;
        } else if (strcmp(f->name, "init-sql") == 0) {
            o->init_sql = value;
        } else if (strcmp(f->name, "pg-reset-query") == 0) {
            o->pg_reset_query = value;
        } else if (strcmp(f->name, "read-db") == 0) {
            o->read_db = value;
        } else {
            o->db = value;
        }
        return 0;
    case KIND_POOL_SIZE:
        if (options_parse_int(value, 1, MAX_POOL_SIZE, &n) != 0)
            return options_usage_error(
                err, errlen, "--%s: '%s' is not a whole number from 1 to 100000", f->name, v);
        o->pool_size = (int)n;
        return 0;
    case KIND_RETRIES:
        if (options_parse_int(value, 0, MAX_RETRIES, &n) != 0)
            return options_usage_error(
                err, errlen, "--%s: '%s' is not a whole number from 0 to 100", f->name, v);
        o->retries = (int)n;
        return 0;
    case KIND_TIMEOUT:
        if (options_parse_seconds(value, 0.0, MAX_TIMEOUT, &d) != 0)
            return options_usage_error(
                err, errlen, "--%s: '%s' is not a number of seconds from 0 to 86400", f->name, v);
        o->timeout = d;
        return 0;
    case KIND_STATEMENT_TIMEOUT:
        if (options_parse_seconds(value, 0.0, MAX_TIMEOUT, &d) != 0)
            return options_usage_error(
                err, errlen, "--%s: '%s' is not a number of seconds from 0 to 86400", f->name, v);
        o->statement_timeout = d;
        return 0;
    case KIND_LEVEL:
        if ((o->log_level = logger_parse_level(value)) < 0)
            return options_usage_error(
                err, errlen, "--%s: '%s' is not one of debug, info, warning, error", f->name, v);
        return 0;
    case KIND_FLAG: break;
    }
    return 0;
}

const char *options_pg_only_message(const char *flag) {
    static _Thread_local char msg[160];
    (void)snprintf(msg, sizeof msg,
                   "--%s is for PostgreSQL; --db names a SQLite database, which has no %s", flag,
                   strcmp(flag, "read-db") == 0             ? "standbys to read from"
                   : strcmp(flag, "statement-timeout") == 0 ? "server to cancel a statement on"
                   : strcmp(flag, "pg-reset-query") == 0    ? "server session to reset"
                                                            : "named server-side statements");
    return msg;
}

static const flag_spec *find_flag(const char *name, size_t len) {
    for (size_t i = 0; i < NFLAGS; i++)
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

static int command_mask(cli_command c) {
    return c == CMD_HEALTH ? CMDS_HEALTH : CMDS_RUN;
}
static const char *command_name(cli_command c) {
    return c == CMD_HEALTH ? "health" : "run";
}

/* The PostgreSQL-only flags on a SQLite --db: refused, so a flag is never silently without
 * effect (the library ignores them for SQLite). */
static int pg_only(const int *seen, const cli_options *o, char *err, size_t errlen) {
    if (o->help || o->version || strcmp(sqlpool_db_backend(o->db), "postgresql") == 0) return 0;
    for (size_t k = FIRST_PG_ONLY; k < NFLAGS; k++)
        if (seen[k])
            return options_usage_error(err, errlen, "%s", options_pg_only_message(flags[k].name));
    return 0;
}

int options_parse(int argc, char **argv, cli_options *o, char *err, size_t errlen) {
    int seen[NFLAGS] = {0};
    char v[128];
    int i = 1;

    defaults(o);
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "run") == 0)
            o->command = CMD_RUN;
        else if (strcmp(argv[1], "health") == 0)
            o->command = CMD_HEALTH;
        else
            return options_usage_error(err, errlen,
                                       "unknown command '%s' (expected 'run', 'health' or 'bench')",
                                       options_shown(argv[1], v, sizeof v));
        i = 2;
    }
    for (; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        const flag_spec *f;
        size_t k;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return options_usage_error(err, errlen, "unexpected argument '%s'",
                                       options_shown(arg, v, sizeof v));
        eq = strchr(arg + 2, '=');
        f = find_flag(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (f == NULL)
            return options_usage_error(err, errlen, "unknown option '%s'",
                                       options_shown(arg, v, sizeof v));
        if (!(f->commands & command_mask(o->command)))
            return options_usage_error(err, errlen, "option '--%s' does not apply to '%s'", f->name,
                                       command_name(o->command));
        k = (size_t)(f - flags);
        if (seen[k]++)
            return options_usage_error(err, errlen, "option '--%s' given more than once", f->name);
        if (f->kind == KIND_FLAG) {
            if (eq != NULL)
                return options_usage_error(err, errlen, "option '--%s' takes no value", f->name);
            if (strcmp(f->name, "quiet") == 0)
                o->quiet = 1;
            else if (strcmp(f->name, "pg-unnamed-statements") == 0)
                o->pg_unnamed_statements = 1;
            else if (strcmp(f->name, "help") == 0)
                o->help = 1;
            else
                o->version = 1;
            continue;
        }
        if (eq != NULL)
            value = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            value = argv[++i];
        else
            return options_usage_error(err, errlen, "option '--%s' needs a value", f->name);
        if (set_value(f, value, o, err, errlen) != 0) return EXIT_USAGE;
    }
    return pg_only(seen, o, err, errlen);
}
