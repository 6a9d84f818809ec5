/*
 * test_badinput.c: the bad-input table (docs/bad-input.md), one test per row.
 *
 * rows[] below is the table: each row names its input, the command line, the exit status
 * and what the one "sqlpool: " line on stderr must say. run_row() checks, for a failure:
 * the status, that line, that stdout is empty, that the output path is as it was (absent
 * stays absent, a file stays byte for byte, a folder keeps its entries), no temporary file,
 * and, with a file database, that the failed run left no row and no new database behind.
 * A row that must succeed (an empty file, CRLF, a 10 MB line, a FIFO) says what the summary
 * holds instead. Arguments starting with '@' name files in the test's own folder.
 */
#define _GNU_SOURCE /* unshare, mount */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define SENTINEL "a previous summary, not to be touched\n"
#define LOG_LINE_RE                                                                                \
    "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} \\| "                         \
    "(DEBUG|INFO|WARNING|ERROR) \\| [^\n]+$"
#define TEN_MB (10 * 1024 * 1024)

/* ---- the table ---------------------------------------------------------------------- */

enum {
    SEED = 1,         /* @events.db holds one row ('seed') before the run, and after a failure */
    MEMCAP = 2,       /* the CLI runs with its memory capped, so a runaway read fails fast */
    RO_OUTDIR = 4,    /* @rodir is read-only for the CLI */
    RO_DBDIR = 8,     /* @rodb (holding a seeded events.db) is read-only for the CLI */
    RO_DBFILE = 16,   /* @events.db itself (seeded) is read-only for the CLI */
    INJECTION = 32,   /* also read the labels back from @events.db, and the schema is intact */
    NO_RERUN = 64,    /* a failure not to repeat over a pre-existing summary file */
    STDOUT_ANY = 128, /* a failure may have printed on stdout (bench's table header) */
    DB_CHANGES = 256  /* the database file may change (a journal mode switch) */
};

typedef struct ctx ctx;
typedef void (*setup_fn)(ctx *c);

typedef struct row {
    const char *name;
    const char *input; /* content of @in.txt, or NULL */
    size_t input_len;
    setup_fn setup;
    const char *args[24];
    int status;
    const char *needle, *needle2; /* the error line contains both (failures) */
    long long inserted;           /* success of run: rows_inserted */
    const char *const *labels;    /* success of run: the labels read back, NULL-terminated */
    unsigned flags;
    int timeout; /* seconds before the CLI counts as hung (default 30) */
} row;

#define DATA(s) .input = s, .input_len = sizeof(s) - 1
#define RUN "run", "--quiet", "--log-level", "error"
#define OUT "--output", "@out/summary.json"
#define IN "--input", "@in.txt"
#define DB "--db", "@events.db"
#define BENCH "bench", "--db", ":memory:"
#define BENCH1 BENCH, "--transactions", "1", "--clients", "1"
#define HEALTH "health", "--db", ":memory:"
#define LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_LABELS ((const char *const[]){NULL})
#define HUGE "99999999999999999999"

static void setup_big_line(ctx *c);
static void setup_fifo(ctx *c);
static void setup_out_folder(ctx *c);
static void setup_ro_outdir(ctx *c);
static void setup_out_under_file(ctx *c);
static void setup_dangling_link(ctx *c);
static void setup_db_text(ctx *c);
static void setup_db_folder(ctx *c);
static void setup_db_corrupt(ctx *c);
static void setup_db_locked(ctx *c);
static void setup_db_wal(ctx *c);
static void setup_seed_wal(ctx *c);
static void setup_seed_only(ctx *c);
static void setup_dangling_db_link(ctx *c);

/* A numeric flag refused: exit 64, the message names the flag and echoes the value. */
#define REFUSED(nm, flag, value, ...)                                                              \
    {                                                                                              \
        .name = nm, .args = {__VA_ARGS__, "--" flag, value}, .status = 64,                         \
        .needle = "--" flag ": '" value "' is not", .flags = NO_RERUN | STDOUT_ANY                 \
    }
#define RUN_REFUSED(nm, flag, value)                                                               \
    {                                                                                              \
        .name = nm, DATA("a\n"), .args = {RUN, IN, OUT, DB, "--" flag, value}, .status = 64,       \
        .needle = "--" flag ": '" value "' is not", .flags = SEED                                  \
    }
/* 0 is a valid value of this flag: the command succeeds. */
#define ZERO_OK(nm, flag, ...)                                                                     \
    { .name = nm, .args = {__VA_ARGS__, "--" flag, "0"}, .status = 0 }
#define BENCH_FLAG(f, pre)                                                                         \
    REFUSED("bench_" pre "_negative", f, "-1", BENCH1),                                            \
        REFUSED("bench_" pre "_huge", f, HUGE, BENCH1),                                            \
        REFUSED("bench_" pre "_not_a_number", f, "abc", BENCH1),                                   \
        REFUSED("bench_" pre "_trailing_junk", f, "5x", BENCH1)

static void setup_foreign_label_integer(ctx *c);
static void setup_foreign_label_numeric(ctx *c);
static void setup_foreign_label_nullable(ctx *c);
static void setup_foreign_id_not_rowid(ctx *c);
static void setup_foreign_id_desc_key(ctx *c);
static void setup_foreign_without_rowid(ctx *c);
static void setup_foreign_trigger_raise_ignore(ctx *c);
static void setup_foreign_trigger_adds_rows(ctx *c);
static void setup_foreign_unique_label_ignore(ctx *c);
static void setup_foreign_not_null_column(ctx *c);
static void setup_foreign_generated_label(ctx *c);
static void setup_foreign_no_label_column(ctx *c);
static void setup_foreign_view_named_events(ctx *c);
static void setup_foreign_virtual_table(ctx *c);
static void setup_foreign_compatible_table(ctx *c);
static void setup_lone_cr_over_64_mib(ctx *c);
static void setup_nul_past_64_kib_cr_file(ctx *c);
static void setup_label_of_exactly_64_mib(ctx *c);
static void setup_input_shrinks_while_read(ctx *c);

static const row rows[] = {
    /* Input files that are fine, if unusual. */
    {.name = "empty_file", DATA(""), .args = {RUN, IN, OUT}, .labels = NO_LABELS},
    {.name = "only_blank_lines",
     DATA("\n\n   \n\t\r\n \xc2\xa0\n"),
     .args = {RUN, IN, OUT},
     .labels = NO_LABELS},
    {.name = "crlf_line_ends",
     DATA("alpha\r\nbeta\r\n\r\ngamma"),
     .args = {RUN, IN, OUT},
     .inserted = 3,
     .labels = LABELS("alpha", "beta", "gamma")},
    {.name = "lone_cr_line_ends",
     DATA("one\rtwo\rthree\r"),
     .args = {RUN, IN, OUT},
     .inserted = 3,
     .labels = LABELS("one", "two", "three")},
    {.name = "utf8_bom",
     DATA("\xef\xbb\xbfhello\n"),
     .args = {RUN, IN, OUT},
     .inserted = 1,
     .labels = LABELS("hello")},
    {.name = "ten_mb_single_line", .setup = setup_big_line, .args = {RUN, IN, OUT}, .inserted = 1},
    {.name = "fifo_with_data",
     .setup = setup_fifo,
     .args = {RUN, "--input", "@in.fifo", OUT},
     .inserted = 2,
     .labels = LABELS("from", "a pipe")},
    {.name = "dev_null_input", .args = {RUN, "--input", "/dev/null", OUT}, .labels = NO_LABELS},

    /* Input that is refused. */
    {.name = "invalid_utf8",
     DATA("first\nsecond\nthi\xc3(rd\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 3: invalid UTF-8 at byte 4",
     .flags = SEED},
    {.name = "overlong_utf8",
     DATA("ok\n\xc0\xafslash\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 2: invalid UTF-8 at byte 1",
     .flags = SEED},
    {.name = "utf16_surrogate",
     DATA("ok\nx\xed\xa0\x80y\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 2: invalid UTF-8 at byte 2",
     .flags = SEED},
    {.name = "latin1_file",
     DATA("caf\xe9\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 1: invalid UTF-8",
     .flags = SEED},
    {.name = "nul_byte",
     DATA("first\nsec\0ond\nthird\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 2: contains a NUL byte",
     .flags = SEED},
    {.name = "dev_zero_input",
     .args = {RUN, "--input", "/dev/zero", OUT, DB},
     .status = 65,
     .needle = "'/dev/zero' line 1: contains a NUL byte",
     .flags = SEED | MEMCAP,
     .timeout = 5},
    {.name = "missing_input",
     .args = {RUN, "--input", "@nope.txt", OUT, DB},
     .status = 66,
     .needle = "nope.txt': No such file or directory",
     .flags = SEED},
    {.name = "folder_input",
     .args = {RUN, "--input", "@", OUT, DB},
     .status = 66,
     .needle = "cannot read input",
     .needle2 = "it is a folder",
     .flags = SEED},
    {.name = "empty_input_path",
     .args = {RUN, "--input", "", OUT},
     .status = 64,
     .needle = "--input: the value is empty"},

    /* Where the summary goes. */
    {.name = "output_is_folder",
     DATA("a\n"),
     .setup = setup_out_folder,
     .args = {RUN, IN, "--output", "@taken", DB},
     .status = 73,
     .needle = "taken': it is a folder",
     .flags = SEED},
    {.name = "output_in_readonly_folder",
     DATA("a\n"),
     .setup = setup_ro_outdir,
     .args = {RUN, IN, "--output", "@rodir/summary.json", DB},
     .status = 73,
     .needle = "cannot create output",
     .needle2 = "rodir",
     .flags = SEED | RO_OUTDIR},
    {.name = "output_new_folder_in_readonly_folder",
     DATA("a\n"),
     .setup = setup_ro_outdir,
     .args = {RUN, IN, "--output", "@rodir/sub/summary.json", DB},
     .status = 73,
     .needle = "cannot create output folder",
     .needle2 = "rodir/sub",
     .flags = SEED | RO_OUTDIR},
    {.name = "output_under_regular_file",
     DATA("a\n"),
     .setup = setup_out_under_file,
     .args = {RUN, IN, "--output", "@blocker/sub/summary.json", DB},
     .status = 73,
     .needle = "blocker': a file is in the way",
     .flags = SEED},
    {.name = "output_dangling_symlink",
     DATA("a\n"),
     .setup = setup_dangling_link,
     .args = {RUN, IN, "--output", "@link.json", DB},
     .status = 73,
     .needle = "link.json': it is a symbolic link to a missing target",
     .flags = SEED},
    {.name = "output_is_the_database",
     DATA("a\n"),
     .args = {RUN, IN, "--output", "@events.db", DB},
     .status = 64,
     .needle = "is the database",
     .flags = SEED},
    {.name = "output_is_the_wal_file",
     DATA("a\n"),
     .args = {RUN, IN, "--output", "@events.db-wal", DB},
     .status = 64,
     .needle = "is the database's -wal",
     .flags = SEED},
    {.name = "output_device_full",
     DATA("a\nb\n"),
     .args = {RUN, IN, "--output", "/dev/full", DB},
     .status = 74,
     .needle = "cannot write output '/dev/full': No space left on device",
     .flags = SEED},
    {.name = "empty_output_path",
     .args = {RUN, IN, "--output", ""},
     .status = 64,
     .needle = "--output: the value is empty"},

    /* The database. */
    {.name = "db_is_text_file",
     DATA("a\n"),
     .setup = setup_db_text,
     .args = {RUN, IN, OUT, "--db", "@notes.txt"},
     .status = 69,
     .needle = "notes.txt': file is not a database"},
    {.name = "db_is_folder",
     DATA("a\n"),
     .setup = setup_db_folder,
     .args = {RUN, IN, OUT, "--db", "@dbdir"},
     .status = 69,
     .needle = "dbdir': it is a folder"},
    {.name = "db_in_missing_folder",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--db", "@nowhere/events.db"},
     .status = 69,
     .needle = "folder",
     .needle2 = "nowhere' does not exist"},
    {.name = "db_readonly_file",
     DATA("a\n"),
     .args = {RUN, IN, OUT, DB},
     .status = 69,
     .needle = "readonly database",
     .flags = SEED | RO_DBFILE},
    {.name = "db_in_readonly_folder",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--db", "@rodb/events.db"},
     .status = 69,
     .needle = "rodb/events.db",
     .needle2 = "readonly database",
     .flags = RO_DBDIR},
    {.name = "db_wal_in_readonly_folder",
     DATA("a\n"),
     .setup = setup_db_wal,
     .args = {RUN, IN, OUT, "--db", "@rodb/events.db"},
     .status = 69,
     .needle = "rodb/events.db",
     .needle2 = "read-only",
     .flags = RO_DBDIR},
    {.name = "db_corrupt",
     DATA("a\n"),
     .setup = setup_db_corrupt,
     .args = {RUN, IN, OUT, DB},
     .status = 69,
     .needle = "malformed",
     .flags = DB_CHANGES},
    {.name = "db_locked",
     DATA("a\n"),
     .setup = setup_db_locked,
     .args = {RUN, IN, OUT, DB, "--timeout", "0", "--retries", "0"},
     .status = 75,
     .needle = "events.db",
     .needle2 = "locked",
     .flags = SEED},
    {.name = "empty_db",
     .args = {RUN, IN, OUT, "--db", ""},
     .status = 64,
     .needle = "--db: the value is empty"},

    /* Numeric flags of run: 0, negative, huge, not a number, trailing junk. */
    RUN_REFUSED("pool_size_zero", "pool-size", "0"),
    RUN_REFUSED("pool_size_negative", "pool-size", "-1"),
    RUN_REFUSED("pool_size_huge", "pool-size", HUGE),
    RUN_REFUSED("pool_size_not_a_number", "pool-size", "abc"),
    RUN_REFUSED("pool_size_trailing_junk", "pool-size", "5x"),
    RUN_REFUSED("pool_size_plus_sign", "pool-size", "+5"),
    RUN_REFUSED("pool_size_leading_space", "pool-size", " 5"),
    RUN_REFUSED("pool_size_hex", "pool-size", "0x10"),
    {.name = "timeout_zero",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--timeout", "0"},
     .inserted = 1,
     .labels = LABELS("a")},
    RUN_REFUSED("timeout_negative", "timeout", "-1"),
    RUN_REFUSED("timeout_huge", "timeout", "1e99"),
    RUN_REFUSED("timeout_not_a_number", "timeout", "abc"),
    RUN_REFUSED("timeout_trailing_junk", "timeout", "5s"),
    RUN_REFUSED("timeout_nan", "timeout", "nan"),
    RUN_REFUSED("timeout_inf", "timeout", "inf"),
    {.name = "retries_zero",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--retries", "0"},
     .inserted = 1,
     .labels = LABELS("a")},
    RUN_REFUSED("retries_negative", "retries", "-1"),
    RUN_REFUSED("retries_huge", "retries", HUGE),
    RUN_REFUSED("retries_not_a_number", "retries", "abc"),
    RUN_REFUSED("retries_trailing_junk", "retries", "5x"),
    RUN_REFUSED("retries_fraction", "retries", "1.5"),

    /* The same flags of health. */
    ZERO_OK("health_timeout_zero", "timeout", HEALTH),
    REFUSED("health_timeout_negative", "timeout", "-1", HEALTH),
    REFUSED("health_timeout_huge", "timeout", HUGE, HEALTH),
    REFUSED("health_timeout_not_a_number", "timeout", "abc", HEALTH),
    REFUSED("health_timeout_trailing_junk", "timeout", "5x", HEALTH),
    ZERO_OK("health_retries_zero", "retries", HEALTH),
    REFUSED("health_retries_negative", "retries", "-1", HEALTH),
    REFUSED("health_retries_huge", "retries", HUGE, HEALTH),
    REFUSED("health_retries_not_a_number", "retries", "abc", HEALTH),
    REFUSED("health_retries_trailing_junk", "retries", "5x", HEALTH),

    /* The numeric flags of bench. */
    REFUSED("bench_clients_zero", "clients", "0", BENCH, "--transactions", "1"),
    REFUSED("bench_clients_negative", "clients", "-1", BENCH, "--transactions", "1"),
    REFUSED("bench_clients_huge", "clients", HUGE, BENCH, "--transactions", "1"),
    REFUSED("bench_clients_not_a_number", "clients", "abc", BENCH, "--transactions", "1"),
    REFUSED("bench_clients_trailing_junk", "clients", "5x", BENCH, "--transactions", "1"),
    REFUSED("bench_transactions_zero", "transactions", "0", BENCH, "--clients", "1"),
    REFUSED("bench_transactions_negative", "transactions", "-1", BENCH, "--clients", "1"),
    REFUSED("bench_transactions_huge", "transactions", HUGE, BENCH, "--clients", "1"),
    REFUSED("bench_transactions_not_a_number", "transactions", "abc", BENCH, "--clients", "1"),
    REFUSED("bench_transactions_trailing_junk", "transactions", "5x", BENCH, "--clients", "1"),
    REFUSED("bench_duration_zero", "duration", "0", BENCH),
    REFUSED("bench_duration_negative", "duration", "-1", BENCH),
    REFUSED("bench_duration_huge", "duration", HUGE, BENCH),
    REFUSED("bench_duration_not_a_number", "duration", "abc", BENCH),
    REFUSED("bench_duration_trailing_junk", "duration", "5x", BENCH),
    REFUSED("bench_pool_size_zero", "pool-size", "0", BENCH1),
    BENCH_FLAG("pool-size", "pool_size"),
    ZERO_OK("bench_max_open_zero", "max-open", BENCH1),
    BENCH_FLAG("max-open", "max_open"),
    ZERO_OK("bench_acquire_timeout_zero", "acquire-timeout", BENCH1),
    BENCH_FLAG("acquire-timeout", "acquire_timeout"),
    ZERO_OK("bench_barge_window_zero", "barge-window", BENCH1),
    BENCH_FLAG("barge-window", "barge_window"),
    ZERO_OK("bench_timeout_zero", "timeout", BENCH1),
    BENCH_FLAG("timeout", "timeout"),
    ZERO_OK("bench_retries_zero", "retries", BENCH1),
    BENCH_FLAG("retries", "retries"),
    ZERO_OK("bench_think_time_zero", "think-time", BENCH1),
    BENCH_FLAG("think-time", "think_time"),
    ZERO_OK("bench_fail_connect_zero", "fail-connect", BENCH1),
    BENCH_FLAG("fail-connect", "fail_connect"),
    REFUSED("bench_fail_connect_over_one", "fail-connect", "1.5", BENCH1),
    REFUSED("bench_kill_every_zero", "kill-every", "0", BENCH1),
    BENCH_FLAG("kill-every", "kill_every"),

    /* Flags themselves. */
    {.name = "duplicate_flag",
     .args = {RUN, IN, OUT, "--pool-size", "3", "--pool-size", "4"},
     .status = 64,
     .needle = "option '--pool-size' given more than once"},
    {.name = "duplicate_flag_equals_form",
     .args = {RUN, IN, OUT, "--db=:memory:", "--db", ":memory:"},
     .status = 64,
     .needle = "option '--db' given more than once"},
    {.name = "duplicate_switch",
     .args = {RUN, IN, OUT, "--quiet"},
     .status = 64,
     .needle = "option '--quiet' given more than once"},
    {.name = "unknown_flag",
     .args = {RUN, IN, OUT, "--bogus"},
     .status = 64,
     .needle = "unknown option '--bogus'"},
    {.name = "unknown_flag_control_bytes",
     .args = {RUN, IN, OUT, "--bo\x1b[31mgus"},
     .status = 64,
     .needle = "unknown option '--bo\\x1b[31mgus'"},
    {.name = "unknown_command",
     .args = {"frobnicate", "--quiet"},
     .status = 64,
     .needle = "unknown command 'frobnicate'",
     .needle2 = "'run', 'health' or 'bench'"},
    {.name = "stray_argument",
     .args = {RUN, IN, OUT, "extra"},
     .status = 64,
     .needle = "unexpected argument 'extra'"},
    {.name = "single_dash_flag",
     .args = {RUN, IN, OUT, "-q"},
     .status = 64,
     .needle = "unexpected argument '-q'"},
    {.name = "flag_missing_value",
     .args = {RUN, OUT, "--input"},
     .status = 64,
     .needle = "option '--input' needs a value"},
    {.name = "flag_value_is_a_flag",
     .args = {RUN, OUT, "--input", "--db", ":memory:"},
     .status = 64,
     .needle = "option '--input' needs a value"},
    {.name = "switch_given_a_value",
     .args = {"run", "--log-level", "error", IN, OUT, "--quiet=yes"},
     .status = 64,
     .needle = "option '--quiet' takes no value"},
    {.name = "flag_for_another_command",
     .args = {"health", "--db", ":memory:", "--input", "x.txt"},
     .status = 64,
     .needle = "option '--input' does not apply to 'health'"},
    {.name = "log_level_unknown",
     .args = {"run", "--quiet", IN, OUT, "--log-level", "loud"},
     .status = 64,
     .needle = "--log-level: 'loud' is not one of debug, info, warning, error"},
    {.name = "bench_duplicate_flag",
     .args = {BENCH1, "--clients", "2"},
     .status = 64,
     .needle = "option '--clients' given more than once"},
    {.name = "bench_unknown_flag",
     .args = {BENCH1, "--bogus"},
     .status = 64,
     .needle = "unknown option '--bogus'"},
    {.name = "bench_without_db",
     .args = {"bench", "--transactions", "1"},
     .status = 64,
     .needle = "--db is required"},

    /* Labels are bound, never spliced into SQL: each comes back verbatim, the table intact. */
    {.name = "injection_drop_table",
     DATA("'); DROP TABLE events;--\nRobert'); DROP TABLE students;--\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 2,
     .labels = LABELS("'); DROP TABLE events;--", "Robert'); DROP TABLE students;--"),
     .flags = INJECTION},
    {.name = "injection_or_true",
     DATA("\" OR 1=1 --\n' OR '1'='1\n' OR 1=1; DELETE FROM events;--\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 3,
     .labels = LABELS("\" OR 1=1 --", "' OR '1'='1", "' OR 1=1; DELETE FROM events;--"),
     .flags = INJECTION},
    {.name = "injection_sql_comments",
     DATA("/* comment */ SELECT 1; -- tail\n*/ DROP TABLE events; /*\n-- just a comment\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 3,
     .labels =
         LABELS("/* comment */ SELECT 1; -- tail", "*/ DROP TABLE events; /*", "-- just a comment"),
     .flags = INJECTION},
    {.name = "injection_attach",
     DATA("x'); ATTACH DATABASE 'pwned.db' AS p; CREATE TABLE p.t(x);--\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 1,
     .labels = LABELS("x'); ATTACH DATABASE 'pwned.db' AS p; CREATE TABLE p.t(x);--"),
     .flags = INJECTION},
    {.name = "injection_backslashes",
     DATA("C:\\new\\table\n\\'); DROP TABLE events;--\n\\\\\n\\\"\\u0041\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 4,
     .labels = LABELS("C:\\new\\table", "\\'); DROP TABLE events;--", "\\\\", "\\\"\\u0041"),
     .flags = INJECTION},
    {.name = "injection_unicode_quotes",
     DATA("\xe2\x80\x98); DROP TABLE events;--\xe2\x80\x99\n\xe2\x80\x9c OR 1=1 "
          "\xe2\x80\x9d\n\xef\xbc\x87\xef\xbc\x82 fullwidth\n\xca\xbc modifier apostrophe\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 4,
     .labels = LABELS("\xe2\x80\x98); DROP TABLE events;--\xe2\x80\x99",
                      "\xe2\x80\x9c OR 1=1 \xe2\x80\x9d", "\xef\xbc\x87\xef\xbc\x82 fullwidth",
                      "\xca\xbc modifier apostrophe"),
     .flags = INJECTION},
    {.name = "injection_format_strings",
     DATA("%s%s%s%n\n%x %p %99999999d\n?1 ?2 :name @x $y\n"),
     .args = {RUN, IN, OUT, DB},
     .inserted = 3,
     .labels = LABELS("%s%s%s%n", "%x %p %99999999d", "?1 ?2 :name @x $y"),
     .flags = INJECTION},
    {.name = "db_path_control_bytes",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--db", "@new\nline\x1b[31m/events.db"},
     .status = 69,
     .needle = "new\\x0aline\\x1b[31m/events.db",
     .needle2 = "does not exist"},
    {.name = "input_path_control_bytes",
     .args = {RUN, "--input", "@no\nsuch\x1b[2J.txt", OUT, DB},
     .status = 66,
     .needle = "no\\x0asuch\\x1b[2J.txt': No such file or directory",
     .flags = SEED},

/* Outputs on the database by another spelling, --plot checked first, long names. */
#define N51 "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
#define NAME255 N51 N51 N51 N51 N51 /* NAME_MAX bytes */
    {.name = "output_is_db_by_uri",
     DATA("a\n"),
     .setup = setup_seed_only,
     .args = {RUN, IN, "--db", "file:events.db?mode=rwc", "--output", "@events.db"},
     .status = 64,
     .needle = "--output",
     .needle2 = "is the database 'events.db'"},
    {.name = "output_dotdot_is_db",
     DATA("a\n"),
     .args = {RUN, IN, DB, "--output", "@sub/../events.db"},
     .status = 64,
     .needle = "is the database",
     .flags = SEED},
    {.name = "plot_is_db",
     .args = {"bench", "--db", "@events.db", "--sweep", "clients=1,2", "--transactions", "1",
              "--plot", "@events.db"},
     .status = 64,
     .needle = "--plot",
     .needle2 = "is the database",
     .flags = SEED},
    {.name = "plot_under_file_before_sweep",
     .setup = setup_out_under_file,
     .args = {BENCH, "--sweep", "clients=1,2", "--duration", "0.2", "--plot", "@blocker/chart.svg"},
     .status = 73,
     .needle = "blocker': a file is in the way"},
    {.name = "output_name_255_bytes",
     DATA("a\n"),
     .args = {RUN, IN, "--output", "@" NAME255},
     .inserted = 1,
     .labels = LABELS("a")},
    /* bench and health on databases they cannot use (issue 11, items 9 and 12). */
    {.name = "bench_db_in_missing_folder",
     .args = {"bench", "--db", "@nowhere/x.db", "--duration", "0.2"},
     .status = 69,
     .needle = "nowhere/x.db",
     .needle2 = "nowhere' does not exist"},
    {.name = "bench_db_is_text_file",
     .setup = setup_db_text,
     .args = {"bench", "--db", "@notes.txt", "--duration", "0.2"},
     .status = 69,
     .needle = "notes.txt': file is not a database"},
    {.name = "bench_db_is_text_file_unpooled",
     .setup = setup_db_text,
     .args = {"bench", "--db", "@notes.txt", "--mode", "unpooled", "--duration", "0.2"},
     .status = 69,
     .needle = "notes.txt': file is not a database"},
    {.name = "health_db_dev_null",
     .args = {"health", "--db", "/dev/null"},
     .status = 1,
     .needle = "'/dev/null' is not a database file: it is a character device"},
    {.name = "health_db_fifo",
     .setup = setup_fifo,
     .args = {"health", "--db", "@in.fifo", "--timeout", "1"},
     .status = 1,
     .needle = "in.fifo' is not a database file: it is a FIFO",
     .timeout = 5},

    /* A user's own events table that cannot give back the labels exactly is refused
     * before anything is written (cli/schema.c); the database stays byte for byte. */
    {
        .name = "foreign_label_integer",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_label_integer,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column label is declared 'INTEGER' (INTEGER affinity)",
        .flags = DB_CHANGES,
        .needle2 = "'007' or '1e3'",
    },
    {
        .name = "foreign_label_numeric",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_label_numeric,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column label is declared 'NUMERIC' (NUMERIC affinity)",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_label_nullable",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_label_nullable,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column label is not NOT NULL",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_id_not_rowid",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_id_not_rowid,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column id is declared 'INT' PRIMARY KEY, not INTEGER PRIMARY KEY",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_id_desc_key",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_id_desc_key,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column id is not the rowid",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_without_rowid",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_without_rowid,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "it is WITHOUT ROWID",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_trigger_raise_ignore",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_trigger_raise_ignore,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "it has the trigger 'skip_all'",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_trigger_adds_rows",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_trigger_adds_rows,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "it has the trigger 'twice'",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_unique_label_ignore",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_unique_label_ignore,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "it has the unique index",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_not_null_column",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_not_null_column,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column 'source' is NOT NULL without a default",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_generated_label",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_generated_label,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "column label is a generated column",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_no_label_column",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_no_label_column,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "it has no column label",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_view_named_events",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_view_named_events,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "events is a view, not a table",
        .flags = DB_CHANGES,
    },
    {
        .name = "foreign_virtual_table",
        DATA("007\n1e3\n"),
        .setup = setup_foreign_virtual_table,
        .args = {RUN, IN, OUT, DB},
        .status = 65,
        .needle = "events is a virtual table",
        .flags = DB_CHANGES,
    },
    {.name = "foreign_compatible_table",
     DATA("007\n1e3\n"),
     .setup = setup_foreign_compatible_table,
     .args = {RUN, IN, OUT, DB},
     .inserted = 2,
     .labels = LABELS("007", "1e3")},

    /* Lines as read (cli/labels.c): a lone CR ends a line before the 64 MiB limit counts, a
     * NUL names its own line, the limit does not count the line end, and a file that changes
     * while it is read is refused. */
    {.name = "lone_cr_over_64_mib",
     .setup = setup_lone_cr_over_64_mib,
     .args = {RUN, IN, OUT},
     .inserted = 66,
     .labels = LABELS("first")},
    {.name = "nul_past_64_kib_cr_file",
     .setup = setup_nul_past_64_kib_cr_file,
     .args = {RUN, IN, OUT, DB},
     .status = 65,
     .needle = "line 40001: contains a NUL byte",
     .flags = SEED},
    {.name = "label_of_exactly_64_mib",
     .setup = setup_label_of_exactly_64_mib,
     .args = {RUN, IN, OUT},
     .inserted = 2,
     .labels = LABELS("first")},
    {.name = "input_shrinks_while_read",
     .setup = setup_input_shrinks_while_read,
     .args = {RUN, IN, OUT, DB},
     .status = 74,
     .needle = "changed while it was read",
     .needle2 = "from 14 to 4 bytes",
     .flags = SEED | NO_RERUN},
    RUN_REFUSED("timeout_exponent", "timeout", "1e3"),
    RUN_REFUSED("timeout_trailing_point", "timeout", "5."),
    REFUSED("bench_duration_trailing_point", "duration", "5.", BENCH),
    /* file: URIs read as SQLite reads them, a --db link to nothing yet (issue 11 review). */
    {.name = "output_is_db_by_uri_last_mode",
     DATA("a\n"),
     .setup = setup_seed_only,
     .args = {RUN, IN, "--db", "file:events.db?mode=memory&mode=rwc", "--output", "@events.db"},
     .status = 64,
     .needle = "--output",
     .needle2 = "is the database 'events.db'"},
    {.name = "output_is_target_of_dangling_db_link",
     DATA("a\n"),
     .setup = setup_dangling_db_link,
     .args = {RUN, IN, "--db", "@dl", "--output", "@target.db"},
     .status = 64,
     .needle = "--output",
     .needle2 = "is the database"},
    {.name = "health_db_fifo_by_uri",
     .setup = setup_fifo,
     .args = {"health", "--db", "file:in.fifo?nomode=memory", "--timeout", "1"},
     .status = 1,
     .needle = "in.fifo' is not a database file: it is a FIFO",
     .timeout = 5},
    /* Escapes that read one way: a backslash is \\, a C1 control in UTF-8 \u00HH, in the
     * CLI's own words and in the library's it passes on, escaped once. */
    {.name = "input_path_backslash_c1",
     .args = {RUN, "--input", "@no\\x0a\xc2\x9bsuch.txt", OUT, DB},
     .status = 66,
     .needle = "no\\\\x0a\\u009bsuch.txt': No such file or directory",
     .flags = SEED},
    {.name = "db_path_backslash_c1",
     DATA("a\n"),
     .args = {RUN, IN, OUT, "--db", "@new\\x0a\xc2\x9b/events.db"},
     .status = 69,
     .needle = "new\\\\x0a\\u009b/events.db': folder",
     .needle2 = "new\\\\x0a\\u009b' does not exist"},
    /* A set-up statement that fails (issue 13, item 1): no row written, the statement named. */
    {.name = "init_sql_syntax_error",
     DATA("a\n"),
     .setup = setup_seed_wal,
     .args = {RUN, IN, OUT, DB, "--init-sql", "PRAGMA foreign_keys=ON; SELEC 1"},
     .status = 69,
     .needle = "init_sql statement 2 (SELEC 1) failed",
     .needle2 = "syntax error"},
    {.name = "health_init_sql_syntax_error",
     .setup = setup_seed_only,
     .args = {"health", "--db", "@events.db", "--init-sql", "SELEC 1"},
     .status = 1,
     .needle = "init_sql statement 1 (SELEC 1) failed: near \"SELEC\": syntax error"},
    /* bench's mixed workload and single-writer pool (issue 14, item 6). */
    ZERO_OK("bench_write_ratio_zero", "write-ratio", BENCH1, "--workload", "mixed"),
    REFUSED("bench_write_ratio_negative", "write-ratio", "-1", BENCH1, "--workload", "mixed"),
    REFUSED("bench_write_ratio_huge", "write-ratio", HUGE, BENCH1, "--workload", "mixed"),
    REFUSED("bench_write_ratio_not_a_number", "write-ratio", "abc", BENCH1, "--workload", "mixed"),
    REFUSED("bench_write_ratio_trailing_junk", "write-ratio", "5x", BENCH1, "--workload", "mixed"),
    REFUSED("bench_write_ratio_over_one", "write-ratio", "1.5", BENCH1, "--workload", "mixed"),
    {.name = "bench_write_ratio_without_mixed",
     .args = {BENCH1, "--write-ratio", "0.5"},
     .status = 64,
     .needle = "--write-ratio is the share of writes of --workload mixed: it needs --workload "
               "mixed"},
    {.name = "bench_single_writer_memory",
     .args = {BENCH1, "--single-writer"},
     .status = 64,
     .needle = "--single-writer: cannot open a pool",
     .needle2 = "in-memory"},
    {.name = "bench_single_writer_unpooled",
     .args = {BENCH1, "--single-writer", "--mode", "unpooled"},
     .status = 64,
     .needle = "--single-writer configures the pool: it needs --mode pooled or both"},
    {.name = "bench_single_writer_with_value",
     .args = {BENCH1, "--single-writer=yes"},
     .status = 64,
     .needle = "option '--single-writer' takes no value"},
    {.name = "bench_compare_unknown",
     .args = {BENCH1, "--compare", "unpooled"},
     .status = 64,
     .needle = "--compare: 'unpooled' is not single-writer"},
    {.name = "bench_compare_with_single_writer",
     .args = {BENCH1, "--compare", "single-writer", "--single-writer"},
     .status = 64,
     .needle = "--single-writer and --compare single-writer are exclusive"},
    {.name = "bench_compare_mode_both",
     .args = {BENCH1, "--compare", "single-writer", "--mode", "both"},
     .status = 64,
     .needle = "--compare single-writer compares two pooled runs: it needs --mode pooled"},
    {.name = "bench_compare_memory",
     .args = {BENCH1, "--compare", "single-writer"},
     .status = 64,
     .needle = "--compare single-writer: cannot open a single-writer pool",
     .needle2 = "in-memory"},
    /* PostgreSQL strings libpq parses but cannot serve (the pool checks them at open). */
    {.name = "health_pg_target_unknown",
     .args = {"health", "--db", "host=127.0.0.1 target_session_attrs=writable"},
     .status = 64,
     .needle = "target_session_attrs 'writable' is not any, read-write, read-only, primary, "
               "standby or prefer-standby",
     .flags = NO_RERUN},
    {.name = "health_pg_ports_do_not_match_hosts",
     .args = {"health", "--db", "host=127.0.0.1,127.0.0.1 port=5432,5433,5434"},
     .status = 64,
     .needle = "the connection string's 2 hosts, 0 host addresses and 3 ports do not match",
     .flags = NO_RERUN},
    /* A raw '/' in a URI's password: libpq reads "pa" as the port; neither piece is shown. */
    {.name = "health_pg_slash_in_uri_password",
     .args = {"health", "--db", "postgresql://u:pa/ss@127.0.0.1/db"},
     .status = 64,
     .needle = "the connection string's port is not a number (not shown: it may be a password's "
               "piece; in a URI a '/' in the password is written %2F)",
     .flags =
         NO_RERUN}, /* PostgreSQL-only flags on SQLite, their values, and --timeline (issue 15). */
    {.name = "run_statement_timeout_sqlite",
     .args = {RUN, IN, OUT, DB, "--statement-timeout", "5"},
     .status = 64,
     .needle = "--statement-timeout is for PostgreSQL; --db names a SQLite database",
     .flags = SEED},
    {.name = "run_pg_unnamed_statements_sqlite",
     .args = {RUN, IN, OUT, DB, "--pg-unnamed-statements"},
     .status = 64,
     .needle = "--pg-unnamed-statements is for PostgreSQL",
     .flags = SEED},
    {.name = "run_pg_reset_query_sqlite",
     .args = {RUN, IN, OUT, DB, "--pg-reset-query", "DISCARD ALL"},
     .status = 64,
     .needle = "--pg-reset-query is for PostgreSQL",
     .flags = SEED},
    {.name = "run_read_db_sqlite",
     .args = {RUN, IN, OUT, DB, "--read-db", "host=standby"},
     .status = 64,
     .needle = "--read-db is for PostgreSQL",
     .flags = SEED},
    {.name = "run_statement_timeout_junk",
     .args = {RUN, IN, OUT, DB, "--statement-timeout", "5x"},
     .status = 64,
     .needle = "--statement-timeout: '5x' is not a number of seconds from 0 to 86400",
     .flags = SEED},
    {.name = "health_read_db",
     .args = {HEALTH, "--read-db", "host=standby"},
     .status = 64,
     .needle = "option '--read-db' does not apply to 'health'",
     .flags = NO_RERUN},
    {.name = "health_pg_unnamed_statements_sqlite",
     .args = {HEALTH, "--pg-unnamed-statements"},
     .status = 64,
     .needle = "--pg-unnamed-statements is for PostgreSQL",
     .flags = NO_RERUN},
    {.name = "bench_read_db_sqlite",
     .args = {BENCH1, "--read-db", "host=standby"},
     .status = 64,
     .needle = "--read-db is for PostgreSQL; --db names a SQLite database",
     .flags = NO_RERUN | STDOUT_ANY},
    {.name = "bench_statement_timeout_sqlite",
     .args = {BENCH1, "--statement-timeout", "0"},
     .status = 64,
     .needle = "--statement-timeout is for PostgreSQL",
     .flags = NO_RERUN | STDOUT_ANY},
    {.name = "bench_pg_unnamed_statements_value",
     .args = {BENCH1, "--pg-unnamed-statements=1"},
     .status = 64,
     .needle = "option '--pg-unnamed-statements' takes no value",
     .flags = NO_RERUN | STDOUT_ANY},
    {.name = "bench_statement_timeout_negative",
     .args = {BENCH1, "--statement-timeout", "-1"},
     .status = 64,
     .needle = "--statement-timeout: '-1' is not a number from 0 to 86400",
     .flags = NO_RERUN | STDOUT_ANY},
    {.name = "bench_timeline_with_sweep",
     .args = {BENCH1, "--timeline", "@out/t.svg", "--sweep", "pool-size=1,2"},
     .status = 64,
     .needle =
         "--timeline charts one run: it cannot be combined with --sweep, --mode both or --compare",
     .flags = NO_RERUN | STDOUT_ANY},
    {.name = "bench_timeline_is_db",
     .args = {"bench", "--db", "@events.db", "--transactions", "1", "--timeline", "@events.db"},
     .status = 64,
     .needle = "--timeline",
     .needle2 = "is the database",
     .flags = SEED},
    /* --group-commit (config.group_commit): a whole number, for the pool, on SQLite. */
    ZERO_OK("bench_group_commit_zero", "group-commit", BENCH1),
    BENCH_FLAG("group-commit", "group_commit"),
    REFUSED("bench_group_commit_over_cap", "group-commit", "1000001", BENCH1),
    {.name = "bench_group_commit_unpooled",
     .args = {BENCH1, "--group-commit", "2", "--mode", "unpooled"},
     .status = 64,
     .needle = "--group-commit configures the pool: it needs --mode pooled or both"},
    {.name = "bench_group_commit_without_mixed",
     .args = {BENCH1, "--group-commit", "2"},
     .status = 64,
     .needle = "--group-commit shares one COMMIT among mixed's writes: it needs --workload mixed"},
    /* The library refuses it on PostgreSQL at sqlpool_open(), before any connect. */
    {.name = "bench_group_commit_pg",
     .args = {"bench", "--db", "postgresql://127.0.0.1:1/none", "--transactions", "1", "--workload",
              "mixed", "--group-commit", "2"},
     .status = 64,
     .needle = "--group-commit: cannot open a pool: group_commit is for SQLite",
     .flags = NO_RERUN},
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ---- per-test state ----------------------------------------------------------------- */

struct ctx {
    char *dir;     /* the test's folder: what '@' names */
    char *capture; /* stdout and stderr of the CLI, outside dir */
    char *ro_path; /* made read-only for the CLI (a bind mount, or chattr +i) */
    int immutable; /* ro_path was made read-only with chattr +i */
    sqlite3 *lock; /* a connection holding the database locked */
    pid_t writer;  /* the process feeding a FIFO */
    char *owned[256];
    int n;
};

static int setup_ctx(void **state) {
    ctx *c = calloc(1, sizeof *c);
    if (c == NULL) return -1;
    c->dir = testutil_tmpdir();
    c->capture = testutil_tmpdir();
    *state = c;
    return 0;
}

static void release_lock(ctx *c) {
    if (c->lock != NULL) {
        (void)sqlite3_exec(c->lock, "ROLLBACK", NULL, NULL, NULL);
        (void)sqlite3_close(c->lock);
        c->lock = NULL;
    }
}

static int teardown_ctx(void **state) {
    ctx *c = *state;
    release_lock(c);
    if (c->writer > 0) {
        (void)kill(c->writer, SIGKILL);
        (void)waitpid(c->writer, NULL, 0);
    }
    if (c->immutable) {
        char *cmd = testutil_format("chattr -i '%s' 2>/dev/null", c->ro_path);
        (void)system(cmd);
        free(cmd);
    }
    testutil_rmtree(c->dir);
    testutil_rmtree(c->capture);
    free(c->dir);
    free(c->capture);
    free(c->ro_path);
    for (int i = 0; i < c->n; i++)
        free(c->owned[i]);
    free(c);
    return 0;
}

static char *keep(ctx *c, char *s) {
    assert_true(c->n < 256);
    c->owned[c->n++] = s;
    return s;
}

/* "@name" is <dir>/name, "@" the folder itself; anything else as it is. */
static const char *expand(ctx *c, const char *arg) {
    if (arg[0] != '@') return arg;
    return arg[1] == '\0' ? c->dir : keep(c, testutil_format("%s/%s", c->dir, arg + 1));
}

static const char *at(ctx *c, const char *name) {
    return keep(c, testutil_format("%s/%s", c->dir, name));
}

/* ---- setups ------------------------------------------------------------------------- */

static void exec_sql(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    char *err = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void seed_db(const char *path) {
    exec_sql(path, "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
                   "INSERT INTO events (label) VALUES ('seed')");
}

static void setup_big_line(ctx *c) {
    char *data = malloc(TEN_MB + 1);
    assert_non_null(data);
    memset(data, 'x', TEN_MB);
    data[TEN_MB] = '\n';
    testutil_write_file(at(c, "in.txt"), data, TEN_MB + 1);
    free(data);
}

/* A FIFO, and a process that opens it for writing, writes two lines and exits. */
static void setup_fifo(ctx *c) {
    const char *fifo = at(c, "in.fifo");
    static const char data[] = "from\na pipe\n";
    assert_int_equal(mkfifo(fifo, 0600), 0);
    c->writer = fork();
    assert_true(c->writer >= 0);
    if (c->writer == 0) {
        int fd = open(fifo, O_WRONLY);
        _exit(fd >= 0 && write(fd, data, sizeof data - 1) == (ssize_t)(sizeof data - 1) ? 0 : 1);
    }
}

static void setup_out_folder(ctx *c) {
    assert_int_equal(mkdir(at(c, "taken"), 0777), 0);
    testutil_write_file(at(c, "taken/keep.txt"), "keep\n", 5);
}

static void setup_ro_outdir(ctx *c) {
    assert_int_equal(mkdir(at(c, "rodir"), 0777), 0);
}

static void setup_out_under_file(ctx *c) {
    testutil_write_file(at(c, "blocker"), "keep\n", 5);
}

static void setup_dangling_link(ctx *c) {
    assert_int_equal(symlink(at(c, "missing/target.json"), at(c, "link.json")), 0);
}

static void setup_db_text(ctx *c) {
    static const char text[] =
        "just some text, long enough to cover an SQLite header: 0123456789\n";
    testutil_write_file(at(c, "notes.txt"), text, sizeof text - 1);
}

static void setup_db_folder(ctx *c) {
    assert_int_equal(mkdir(at(c, "dbdir"), 0777), 0);
}

/* A database whose header is fine but whose events table (page 2) is garbage. */
static void setup_db_corrupt(ctx *c) {
    const char *db = at(c, "events.db");
    char junk[4096];
    FILE *f;
    seed_db(db);
    memset(junk, 0xa5, sizeof junk);
    f = fopen(db, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    assert_int_equal(fclose(f), 0);
}

/* The database (seeded by the row) held under an exclusive lock by this process. */
static void setup_db_locked(ctx *c) {
    assert_int_equal(sqlite3_open(at(c, "events.db"), &c->lock), SQLITE_OK);
    assert_int_equal(sqlite3_exec(c->lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
}

/* The read-only folder's database in WAL mode: opening it needs its -shm file. */
static void setup_db_wal(ctx *c) {
    exec_sql(at(c, "rodb/events.db"), "PRAGMA journal_mode=WAL");
}

/* @events.db seeded, for a row whose --db names it otherwise (a URI): the output check then
 * sees the file itself unchanged, byte for byte. */
static void setup_seed_only(ctx *c) {
    seed_db(at(c, "events.db"));
}

/* @events.db seeded and in WAL mode already, so that a run's own set-up changes nothing. */
static void setup_seed_wal(ctx *c) {
    seed_db(at(c, "events.db"));
    exec_sql(at(c, "events.db"), "PRAGMA journal_mode=WAL");
}

/* @dl, a link to target.db, which does not exist: SQLite would make it. */
static void setup_dangling_db_link(ctx *c) {
    assert_int_equal(symlink("target.db", at(c, "dl")), 0);
}

/* @events.db with a user's own events table (or view): the shapes of the foreign_* rows. */
#define FOREIGN_SETUP(fn, ddl)                                                                     \
    static void fn(ctx *c) {                                                                       \
        exec_sql(at(c, "events.db"), ddl);                                                         \
    }
FOREIGN_SETUP(setup_foreign_label_integer,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label INTEGER NOT NULL)")
FOREIGN_SETUP(setup_foreign_label_numeric,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label NUMERIC NOT NULL)")
FOREIGN_SETUP(setup_foreign_label_nullable,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT)")
FOREIGN_SETUP(setup_foreign_id_not_rowid,
              "CREATE TABLE events (id INT PRIMARY KEY, label TEXT NOT NULL)")
FOREIGN_SETUP(setup_foreign_id_desc_key,
              "CREATE TABLE events (id INTEGER PRIMARY KEY DESC, label TEXT NOT NULL)")
FOREIGN_SETUP(setup_foreign_without_rowid,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID")
FOREIGN_SETUP(setup_foreign_trigger_raise_ignore,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL);CREATE TRIGGER "
              "skip_all BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END")
FOREIGN_SETUP(setup_foreign_trigger_adds_rows,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL);CREATE TRIGGER "
              "twice AFTER INSERT ON events WHEN new.label NOT LIKE 'copy of %' BEGIN INSERT INTO "
              "events (label) VALUES ('copy of ' || new.label); END")
FOREIGN_SETUP(
    setup_foreign_unique_label_ignore,
    "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE ON CONFLICT IGNORE)")
FOREIGN_SETUP(
    setup_foreign_not_null_column,
    "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL, source TEXT NOT NULL)")
FOREIGN_SETUP(setup_foreign_generated_label,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL AS ('fixed'))")
FOREIGN_SETUP(setup_foreign_no_label_column,
              "CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT)")
FOREIGN_SETUP(setup_foreign_view_named_events,
              "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT NOT NULL);CREATE VIEW events AS "
              "SELECT id, label FROM t;CREATE TRIGGER via INSTEAD OF INSERT ON events BEGIN INSERT "
              "INTO t (label) VALUES (new.label); END")
FOREIGN_SETUP(setup_foreign_virtual_table, "CREATE VIRTUAL TABLE events USING fts5(id, label)")
FOREIGN_SETUP(setup_foreign_compatible_table,
              "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, label VARCHAR(20) NOT "
              "NULL, note TEXT, created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")

#define MIB ((size_t)1 << 20)

/* 'first', then 65 lines of 1 MiB, each ended by a lone CR: 65 MiB without a \n. */
static void setup_lone_cr_over_64_mib(ctx *c) {
    size_t k = 6;
    char *data = malloc(k + 65 * (MIB + 1));
    assert_non_null(data);
    memcpy(data, "first\r", k);
    for (int i = 0; i < 65; i++, k += MIB + 1) {
        memset(data + k, 'a' + i % 26, MIB);
        data[k + MIB] = '\r';
    }
    testutil_write_file(at(c, "in.txt"), data, k);
    free(data);
}

/* 40000 lines "ab" ended by CR (117 KiB), then a NUL on line 40001. */
static void setup_nul_past_64_kib_cr_file(ctx *c) {
    static const char tail[] = "c\0d\re\r";
    size_t k = 0;
    char *data = malloc(40000 * 3 + sizeof tail);
    assert_non_null(data);
    for (int i = 0; i < 40000; i++, k += 3)
        memcpy(data + k, "ab\r", 3);
    memcpy(data + k, tail, sizeof tail - 1);
    testutil_write_file(at(c, "in.txt"), data, k + sizeof tail - 1);
    free(data);
}

/* 'first', then a line of exactly 64 MiB (the limit) and its \n. */
static void setup_label_of_exactly_64_mib(ctx *c) {
    size_t n = 64 * MIB;
    char *data = malloc(n + 7);
    assert_non_null(data);
    memcpy(data, "first\n", 6);
    memset(data + 6, 'y', n);
    data[6 + n] = '\n';
    testutil_write_file(at(c, "in.txt"), data, n + 7);
    free(data);
}

/* @in.txt (14 bytes) is cut to 4 once the CLI has opened it. A helper process holds
 * @events.db under an exclusive lock and watches it: the CLI opens the database only after
 * the input (opened and measured first, by design), so at that open the helper truncates the
 * input, then lets the lock go and the CLI, which was waiting on it, reads on. */
static void setup_input_shrinks_while_read(ctx *c) {
    const char *in = at(c, "in.txt"), *db = at(c, "events.db");
    int ready[2];
    char byte = 'n';
    testutil_write_file(in, "one\ntwo\nthree\n", 14);
    assert_int_equal(pipe(ready), 0);
    c->writer = fork();
    assert_true(c->writer >= 0);
    if (c->writer == 0) {
        sqlite3 *lock = NULL;
        char ev[4096];
        int fd = inotify_init();
        int ok = fd >= 0 && sqlite3_open(db, &lock) == SQLITE_OK &&
                 sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK &&
                 inotify_add_watch(fd, db, IN_OPEN) >= 0;
        ok = write(ready[1], ok ? "y" : "n", 1) == 1 && ok;
        ok = ok && read(fd, ev, sizeof ev) > 0 && truncate(in, 4) == 0;
        (void)sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
        _exit(ok ? 0 : 1);
    }
    close(ready[1]);
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    assert_int_equal(byte, 'y');
}

/* ---- making a path read-only for the CLI -------------------------------------------- */

/* In a private mount namespace, bind path onto itself read-only. 0 or -1. */
static int enter_readonly(const char *path) {
    if (unshare(CLONE_NEWNS) != 0) return -1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
    if (mount(path, path, NULL, MS_BIND, NULL) != 0) return -1;
    return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

/* Can this process make read-only bind mounts? (Root in a container may not.) */
static int bind_mounts_work(const char *path) {
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(enter_readonly(path) == 0 ? 0 : 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Make c->ro_path read-only for the CLI: a bind mount when possible, else chattr +i; else
 * skip the test, saying why (root ignores permission bits, so chmod proves nothing). */
static int prepare_readonly(ctx *c, const char *path) {
    char *cmd;
    c->ro_path = testutil_format("%s", path);
    if (bind_mounts_work(path)) return 1;
    cmd = testutil_format("chattr +i '%s' 2>/dev/null", path);
    c->immutable = system(cmd) == 0;
    free(cmd);
    if (c->immutable) return 0;
    print_error("SKIPPED: cannot make '%s' read-only: no mount namespace (unshare -m) and no "
                "chattr +i here; root ignores file modes\n",
                path);
    skip();
    return 0;
}

/* ---- running the CLI ---------------------------------------------------------------- */

typedef struct result {
    int status;
    char *out, *err;
} result;

/* Append to ASAN_OPTIONS in the child: a runaway allocation fails instead of eating RAM. */
static void cap_memory(void) {
    const char *old = getenv("ASAN_OPTIONS");
    char opts[1024];
    (void)snprintf(opts, sizeof opts, "%s%smax_allocation_size_mb=1024:allocator_may_return_null=1",
                   old ? old : "", old && *old ? ":" : "");
    (void)setenv("ASAN_OPTIONS", opts, 1);
    if (!UNDER_ASAN) {
        struct rlimit rl = {(rlim_t)2 << 30, (rlim_t)2 << 30};
        (void)setrlimit(RLIMIT_AS, &rl);
    }
}

static void child(ctx *c, const char *const *argv, unsigned flags, int bind_ro) {
    int in = open("/dev/null", O_RDONLY);
    int out =
        open(keep(c, testutil_format("%s/stdout", c->capture)), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err =
        open(keep(c, testutil_format("%s/stderr", c->capture)), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    if (bind_ro && enter_readonly(c->ro_path) != 0) _exit(125);
    if (flags & MEMCAP) cap_memory();
    if (chdir(c->dir) != 0) _exit(124);
    execv(SQLPOOL_CLI_PATH, (char *const *)argv);
    _exit(127);
}

/* Run the CLI; a run that outlives the row's timeout is killed and fails the test. */
static result run_cli(ctx *c, const row *r, int bind_ro) {
    const char *argv[32];
    int n = 0, status, waited_ms = 0, limit_ms = (r->timeout ? r->timeout : 30) * 1000;
    struct timespec tick = {0, 10 * 1000 * 1000};
    result res;
    pid_t pid;

    argv[n++] = SQLPOOL_CLI_PATH;
    for (int i = 0; r->args[i] != NULL; i++)
        argv[n++] = expand(c, r->args[i]);
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child(c, argv, r->flags, bind_ro);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (waited_ms >= limit_ms) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            fail_msg("the CLI hung: killed after %d s", limit_ms / 1000);
        }
        (void)nanosleep(&tick, NULL);
        waited_ms += 10;
    }
    res.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (bind_ro && res.status == 125) fail_msg("could not enter the read-only mount namespace");
    res.out = keep(c, testutil_read_file(keep(c, testutil_format("%s/stdout", c->capture)), NULL));
    res.err = keep(c, testutil_read_file(keep(c, testutil_format("%s/stderr", c->capture)), NULL));
    assert_non_null(res.out);
    assert_non_null(res.err);
    return res;
}

/* ---- checks ------------------------------------------------------------------------- */

static int is_log_line(const char *line) {
    regex_t re;
    int rc;
    assert_int_equal(regcomp(&re, LOG_LINE_RE, REG_EXTENDED | REG_NOSUB), 0);
    rc = regexec(&re, line, 0, NULL, 0);
    regfree(&re);
    return rc == 0;
}

/* The one "sqlpool: " line of stderr (copied into line), or "" when there is none; every
 * other line must be a log line. */
static void error_line(const char *err, char *line, size_t cap) {
    const char *p = err;
    line[0] = '\0';
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char copy[4096];
        if (nl == NULL) fail_msg("stderr does not end with a newline: '%s'", err);
        if (len >= sizeof copy) fail_msg("a stderr line of %zu bytes", len);
        memcpy(copy, p, len);
        copy[len] = '\0';
        if (strncmp(copy, "sqlpool: ", 9) == 0) {
            if (line[0] != '\0') fail_msg("more than one error line on stderr:\n%s", err);
            if (len >= cap) fail_msg("error line too long: %s", copy);
            memcpy(line, copy, len + 1);
        } else if (!is_log_line(copy)) {
            fail_msg("stderr line is neither an error nor a log line: '%s'", copy);
        }
        p = nl + 1;
    }
}

static void expect_contains(const char *text, const char *needle) {
    if (needle != NULL && strstr(text, needle) == NULL)
        fail_msg("'%s' does not contain '%s'", text, needle);
}

/* What is at a path: absent, a file's bytes, a folder's entry count, or a link's target. */
typedef struct snapshot {
    int kind; /* 0 absent, 1 file, 2 folder, 3 link, 4 other */
    char *bytes;
    size_t len;
    long entries;
} snapshot;

static long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    long n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static snapshot take_snapshot(ctx *c, const char *path) {
    snapshot s = {0, NULL, 0, 0};
    struct stat sb;
    if (path == NULL || lstat(path, &sb) != 0) return s;
    if (S_ISLNK(sb.st_mode)) {
        s.kind = 3;
        s.bytes = keep(c, calloc(1, 4096));
        assert_true(readlink(path, s.bytes, 4095) > 0);
    } else if (S_ISREG(sb.st_mode)) {
        s.kind = 1;
        s.bytes = keep(c, testutil_read_file(path, &s.len));
    } else if (S_ISDIR(sb.st_mode)) {
        s.kind = 2;
        s.entries = count_entries(path);
    } else {
        s.kind = 4;
    }
    return s;
}

static void expect_unchanged(ctx *c, const char *path, snapshot before) {
    snapshot now = take_snapshot(c, path);
    if (now.kind != before.kind)
        fail_msg("'%s' changed kind (%d, was %d)", path, now.kind, before.kind);
    if (now.kind == 1 && (now.len != before.len || memcmp(now.bytes, before.bytes, now.len) != 0))
        fail_msg("'%s' was modified", path);
    if (now.kind == 2 && now.entries != before.entries)
        fail_msg("folder '%s' has %ld entries, had %ld", path, now.entries, before.entries);
    if (now.kind == 3) assert_string_equal(now.bytes, before.bytes);
}

/* No ".summary.json.XXXXXX" (or any dot-file temporary) beside the output. */
static void expect_no_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL) return;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("temporary file '%s/%s' left behind", dir, e->d_name);
    closedir(d);
}

/* The value following flag in the row's arguments, expanded, or NULL. */
static const char *arg_of(ctx *c, const row *r, const char *flag) {
    for (int i = 0; r->args[i] != NULL; i++)
        if (strcmp(r->args[i], flag) == 0 && r->args[i + 1] != NULL)
            return expand(c, r->args[i + 1]);
    return NULL;
}

/* The labels of events in id order, and the schema: only the table events. */
static void expect_db(const char *path, const char *const *labels) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT group_concat(name) FROM sqlite_master", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "events");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT label FROM events ORDER BY id", -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *got = (const char *)sqlite3_column_text(st, 0);
        if (labels[i] == NULL) fail_msg("an extra row in events: '%s'", got);
        assert_string_equal(got, labels[i]);
        i++;
    }
    if (labels[i] != NULL) fail_msg("row '%s' missing from events", labels[i]);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The database and its companions do not exist (followed through a link: a --db that is a
 * link to nothing yet may stay one, its target must not appear). */
static void expect_no_db(const char *db) {
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    struct stat sb;
    for (size_t i = 0; i < 4; i++) {
        char *p = testutil_format("%s%s", db, suffixes[i]);
        if (stat(p, &sb) == 0) fail_msg("the failed run left '%s' behind", p);
        free(p);
    }
}

/* A successful run: the summary's count and labels. */
static void expect_summary(ctx *c, const row *r) {
    const char *out = arg_of(c, r, "--output");
    char *text = keep(c, testutil_read_file(out, NULL));
    json_error_t e;
    json_t *doc, *list;
    if (text == NULL) fail_msg("no summary at '%s'", out);
    doc = json_loads(text, 0, &e);
    if (doc == NULL) fail_msg("invalid JSON (%s)", e.text);
    assert_int_equal(json_integer_value(json_object_get(doc, "rows_inserted")), r->inserted);
    list = json_object_get(doc, "rows");
    assert_int_equal(json_array_size(list), (size_t)r->inserted);
    for (size_t i = 0; r->labels != NULL && r->labels[i] != NULL; i++) {
        const char *got = json_string_value(json_object_get(json_array_get(list, i), "label"));
        assert_non_null(got);
        assert_string_equal(got, r->labels[i]);
    }
    if (r->labels == NULL && r->inserted == 1) { /* the 10 MB line */
        json_t *label = json_object_get(json_array_get(list, 0), "label");
        const char *s = json_string_value(label);
        assert_int_equal(json_string_length(label), TEN_MB);
        assert_int_equal(strspn(s, "x"), TEN_MB);
    }
    json_decref(doc);
}

static void report(const row *r, result res, const char *line) {
    /* The observed message, for docs/bad-input.md. */
    print_message("badinput-row|%s|%d|%s\n", r->name, res.status, line);
}

static void expect_success(ctx *c, const row *r, result res) {
    char line[4096];
    if (res.status != 0)
        fail_msg("exit status %d, expected 0\nstdout: %s\nstderr: %s", res.status, res.out,
                 res.err);
    error_line(res.err, line, sizeof line);
    if (line[0] != '\0') fail_msg("a successful run printed an error: %s", line);
    report(r, res, "");
    if (r->labels != NULL || r->inserted > 0) expect_summary(c, r);
    if (r->flags & INJECTION) {
        expect_db(arg_of(c, r, "--db"), r->labels);
        expect_no_db(at(c, "pwned.db"));
    }
}

static void expect_failure(const row *r, result res) {
    char line[4096];
    if (res.status != r->status)
        fail_msg("exit status %d, expected %d\nstdout: %s\nstderr: %s", res.status, r->status,
                 res.out, res.err);
    if (!(r->flags & STDOUT_ANY)) assert_string_equal(res.out, "");
    error_line(res.err, line, sizeof line);
    if (line[0] == '\0') fail_msg("no 'sqlpool: ' line on stderr: '%s'", res.err);
    report(r, res, line);
    expect_contains(line, r->needle);
    expect_contains(line, r->needle2);
}

/* After a failure: the seeded row alone, or no database where there was none. */
static void expect_db_untouched(const row *r, const char *db, int db_existed) {
    if (db == NULL || strcmp(db, ":memory:") == 0) return;
    if (r->flags & (SEED | RO_DBDIR | RO_DBFILE))
        expect_db(db, LABELS("seed"));
    else if (!db_existed && !(r->flags & NO_RERUN))
        expect_no_db(db);
}

/* ---- one row ------------------------------------------------------------------------ */

static void run_row(void **state, const char *name) {
    ctx *c = *state;
    const row *r = NULL;
    const char *out, *db;
    char *parent = NULL;
    snapshot before, db_before, parent_before = {0, NULL, 0, 0};
    result res;
    struct stat sb;
    int bind_ro = 0, db_existed;

    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(rows[i].name, name) == 0) r = &rows[i];
    if (r == NULL) fail_msg("no row named '%s' in the table", name);

    if (r->input != NULL) testutil_write_file(at(c, "in.txt"), r->input, r->input_len);
    if (r->flags & RO_DBDIR) {
        assert_int_equal(mkdir(at(c, "rodb"), 0777), 0);
        seed_db(at(c, "rodb/events.db"));
    }
    if (r->flags & (SEED | RO_DBFILE)) seed_db(at(c, "events.db"));
    if (r->setup != NULL) r->setup(c);
    if (r->flags & RO_OUTDIR) bind_ro = prepare_readonly(c, at(c, "rodir"));
    if (r->flags & RO_DBDIR) bind_ro = prepare_readonly(c, at(c, "rodb"));
    if (r->flags & RO_DBFILE) bind_ro = prepare_readonly(c, at(c, "events.db"));

    out = arg_of(c, r, "--output");
    db = arg_of(c, r, "--db");
    db_existed = db != NULL && stat(db, &sb) == 0;
    db_before = take_snapshot(
        c, db_existed && !(r->flags & (DB_CHANGES | SEED | RO_DBDIR | RO_DBFILE)) ? db : NULL);
    before = take_snapshot(c, out);
    if (out != NULL && strchr(out, '/') != NULL) {
        parent = keep(c, testutil_format("%s", out));
        *strrchr(parent, '/') = '\0';
        parent_before = take_snapshot(c, parent);
    }
    res = run_cli(c, r, bind_ro);
    release_lock(c);
    if (r->status == 0) {
        expect_success(c, r, res);
        return;
    }
    expect_failure(r, res);
    if (parent != NULL && strncmp(out, "/dev/", 5) != 0) {
        expect_unchanged(c, out, before);
        expect_unchanged(c, parent, parent_before);
        expect_no_temp_files(parent);
        expect_no_temp_files(c->dir);
    }
    expect_db_untouched(r, db, db_existed);
    if (db_before.kind != 0) expect_unchanged(c, db, db_before);

    /* Again over a previous summary: it is left byte for byte. */
    if (out == NULL || before.kind != 0 || (r->flags & NO_RERUN) ||
        strcmp(r->args[0], "run") != 0 || strstr(out, "/out/summary.json") == NULL)
        return;
    (void)mkdir(at(c, "out"), 0777);
    testutil_write_file(out, SENTINEL, strlen(SENTINEL));
    before = take_snapshot(c, out);
    if (r->setup == setup_db_locked) setup_db_locked(c);
    if (r->setup == setup_fifo) return;
    res = run_cli(c, r, bind_ro);
    release_lock(c);
    expect_failure(r, res);
    expect_unchanged(c, out, before);
    expect_no_temp_files(at(c, "out"));
    expect_db_untouched(r, db, db_existed);
}

/* ---- the tests: one per row, then the table's own consistency ----------------------- */

static void test_badinput_empty_file(void **state) {
    run_row(state, "empty_file");
}
static void test_badinput_only_blank_lines(void **state) {
    run_row(state, "only_blank_lines");
}
static void test_badinput_crlf_line_ends(void **state) {
    run_row(state, "crlf_line_ends");
}
static void test_badinput_lone_cr_line_ends(void **state) {
    run_row(state, "lone_cr_line_ends");
}
static void test_badinput_utf8_bom(void **state) {
    run_row(state, "utf8_bom");
}
static void test_badinput_ten_mb_single_line(void **state) {
    run_row(state, "ten_mb_single_line");
}
static void test_badinput_fifo_with_data(void **state) {
    run_row(state, "fifo_with_data");
}
static void test_badinput_dev_null_input(void **state) {
    run_row(state, "dev_null_input");
}
static void test_badinput_invalid_utf8(void **state) {
    run_row(state, "invalid_utf8");
}
static void test_badinput_overlong_utf8(void **state) {
    run_row(state, "overlong_utf8");
}
static void test_badinput_utf16_surrogate(void **state) {
    run_row(state, "utf16_surrogate");
}
static void test_badinput_latin1_file(void **state) {
    run_row(state, "latin1_file");
}
static void test_badinput_nul_byte(void **state) {
    run_row(state, "nul_byte");
}
static void test_badinput_dev_zero_input(void **state) {
    run_row(state, "dev_zero_input");
}
static void test_badinput_missing_input(void **state) {
    run_row(state, "missing_input");
}
static void test_badinput_folder_input(void **state) {
    run_row(state, "folder_input");
}
static void test_badinput_empty_input_path(void **state) {
    run_row(state, "empty_input_path");
}
static void test_badinput_output_is_folder(void **state) {
    run_row(state, "output_is_folder");
}
static void test_badinput_output_in_readonly_folder(void **state) {
    run_row(state, "output_in_readonly_folder");
}
static void test_badinput_output_new_folder_in_readonly_folder(void **state) {
    run_row(state, "output_new_folder_in_readonly_folder");
}
static void test_badinput_output_under_regular_file(void **state) {
    run_row(state, "output_under_regular_file");
}
static void test_badinput_output_dangling_symlink(void **state) {
    run_row(state, "output_dangling_symlink");
}
static void test_badinput_output_is_the_database(void **state) {
    run_row(state, "output_is_the_database");
}
static void test_badinput_output_is_the_wal_file(void **state) {
    run_row(state, "output_is_the_wal_file");
}
static void test_badinput_output_device_full(void **state) {
    run_row(state, "output_device_full");
}
static void test_badinput_empty_output_path(void **state) {
    run_row(state, "empty_output_path");
}
static void test_badinput_db_is_text_file(void **state) {
    run_row(state, "db_is_text_file");
}
static void test_badinput_db_is_folder(void **state) {
    run_row(state, "db_is_folder");
}
static void test_badinput_db_in_missing_folder(void **state) {
    run_row(state, "db_in_missing_folder");
}
static void test_badinput_db_readonly_file(void **state) {
    run_row(state, "db_readonly_file");
}
static void test_badinput_db_in_readonly_folder(void **state) {
    run_row(state, "db_in_readonly_folder");
}
static void test_badinput_db_wal_in_readonly_folder(void **state) {
    run_row(state, "db_wal_in_readonly_folder");
}
static void test_badinput_db_corrupt(void **state) {
    run_row(state, "db_corrupt");
}
static void test_badinput_db_locked(void **state) {
    run_row(state, "db_locked");
}
static void test_badinput_empty_db(void **state) {
    run_row(state, "empty_db");
}
static void test_badinput_pool_size_zero(void **state) {
    run_row(state, "pool_size_zero");
}
static void test_badinput_pool_size_negative(void **state) {
    run_row(state, "pool_size_negative");
}
static void test_badinput_pool_size_huge(void **state) {
    run_row(state, "pool_size_huge");
}
static void test_badinput_pool_size_not_a_number(void **state) {
    run_row(state, "pool_size_not_a_number");
}
static void test_badinput_pool_size_trailing_junk(void **state) {
    run_row(state, "pool_size_trailing_junk");
}
static void test_badinput_pool_size_plus_sign(void **state) {
    run_row(state, "pool_size_plus_sign");
}
static void test_badinput_pool_size_leading_space(void **state) {
    run_row(state, "pool_size_leading_space");
}
static void test_badinput_pool_size_hex(void **state) {
    run_row(state, "pool_size_hex");
}
static void test_badinput_timeout_zero(void **state) {
    run_row(state, "timeout_zero");
}
static void test_badinput_timeout_negative(void **state) {
    run_row(state, "timeout_negative");
}
static void test_badinput_timeout_huge(void **state) {
    run_row(state, "timeout_huge");
}
static void test_badinput_timeout_not_a_number(void **state) {
    run_row(state, "timeout_not_a_number");
}
static void test_badinput_timeout_trailing_junk(void **state) {
    run_row(state, "timeout_trailing_junk");
}
static void test_badinput_timeout_nan(void **state) {
    run_row(state, "timeout_nan");
}
static void test_badinput_timeout_inf(void **state) {
    run_row(state, "timeout_inf");
}
static void test_badinput_retries_zero(void **state) {
    run_row(state, "retries_zero");
}
static void test_badinput_retries_negative(void **state) {
    run_row(state, "retries_negative");
}
static void test_badinput_retries_huge(void **state) {
    run_row(state, "retries_huge");
}
static void test_badinput_retries_not_a_number(void **state) {
    run_row(state, "retries_not_a_number");
}
static void test_badinput_retries_trailing_junk(void **state) {
    run_row(state, "retries_trailing_junk");
}
static void test_badinput_retries_fraction(void **state) {
    run_row(state, "retries_fraction");
}
static void test_badinput_health_timeout_zero(void **state) {
    run_row(state, "health_timeout_zero");
}
static void test_badinput_health_timeout_negative(void **state) {
    run_row(state, "health_timeout_negative");
}
static void test_badinput_health_timeout_huge(void **state) {
    run_row(state, "health_timeout_huge");
}
static void test_badinput_health_timeout_not_a_number(void **state) {
    run_row(state, "health_timeout_not_a_number");
}
static void test_badinput_health_timeout_trailing_junk(void **state) {
    run_row(state, "health_timeout_trailing_junk");
}
static void test_badinput_health_retries_zero(void **state) {
    run_row(state, "health_retries_zero");
}
static void test_badinput_health_retries_negative(void **state) {
    run_row(state, "health_retries_negative");
}
static void test_badinput_health_retries_huge(void **state) {
    run_row(state, "health_retries_huge");
}
static void test_badinput_health_retries_not_a_number(void **state) {
    run_row(state, "health_retries_not_a_number");
}
static void test_badinput_health_retries_trailing_junk(void **state) {
    run_row(state, "health_retries_trailing_junk");
}
static void test_badinput_bench_clients_zero(void **state) {
    run_row(state, "bench_clients_zero");
}
static void test_badinput_bench_clients_negative(void **state) {
    run_row(state, "bench_clients_negative");
}
static void test_badinput_bench_clients_huge(void **state) {
    run_row(state, "bench_clients_huge");
}
static void test_badinput_bench_clients_not_a_number(void **state) {
    run_row(state, "bench_clients_not_a_number");
}
static void test_badinput_bench_clients_trailing_junk(void **state) {
    run_row(state, "bench_clients_trailing_junk");
}
static void test_badinput_bench_transactions_zero(void **state) {
    run_row(state, "bench_transactions_zero");
}
static void test_badinput_bench_transactions_negative(void **state) {
    run_row(state, "bench_transactions_negative");
}
static void test_badinput_bench_transactions_huge(void **state) {
    run_row(state, "bench_transactions_huge");
}
static void test_badinput_bench_transactions_not_a_number(void **state) {
    run_row(state, "bench_transactions_not_a_number");
}
static void test_badinput_bench_transactions_trailing_junk(void **state) {
    run_row(state, "bench_transactions_trailing_junk");
}
static void test_badinput_bench_duration_zero(void **state) {
    run_row(state, "bench_duration_zero");
}
static void test_badinput_bench_duration_negative(void **state) {
    run_row(state, "bench_duration_negative");
}
static void test_badinput_bench_duration_huge(void **state) {
    run_row(state, "bench_duration_huge");
}
static void test_badinput_bench_duration_not_a_number(void **state) {
    run_row(state, "bench_duration_not_a_number");
}
static void test_badinput_bench_duration_trailing_junk(void **state) {
    run_row(state, "bench_duration_trailing_junk");
}
static void test_badinput_bench_pool_size_zero(void **state) {
    run_row(state, "bench_pool_size_zero");
}
static void test_badinput_bench_pool_size_negative(void **state) {
    run_row(state, "bench_pool_size_negative");
}
static void test_badinput_bench_pool_size_huge(void **state) {
    run_row(state, "bench_pool_size_huge");
}
static void test_badinput_bench_pool_size_not_a_number(void **state) {
    run_row(state, "bench_pool_size_not_a_number");
}
static void test_badinput_bench_pool_size_trailing_junk(void **state) {
    run_row(state, "bench_pool_size_trailing_junk");
}
static void test_badinput_bench_max_open_zero(void **state) {
    run_row(state, "bench_max_open_zero");
}
static void test_badinput_bench_max_open_negative(void **state) {
    run_row(state, "bench_max_open_negative");
}
static void test_badinput_bench_max_open_huge(void **state) {
    run_row(state, "bench_max_open_huge");
}
static void test_badinput_bench_max_open_not_a_number(void **state) {
    run_row(state, "bench_max_open_not_a_number");
}
static void test_badinput_bench_max_open_trailing_junk(void **state) {
    run_row(state, "bench_max_open_trailing_junk");
}
static void test_badinput_bench_acquire_timeout_zero(void **state) {
    run_row(state, "bench_acquire_timeout_zero");
}
static void test_badinput_bench_acquire_timeout_negative(void **state) {
    run_row(state, "bench_acquire_timeout_negative");
}
static void test_badinput_bench_acquire_timeout_huge(void **state) {
    run_row(state, "bench_acquire_timeout_huge");
}
static void test_badinput_bench_acquire_timeout_not_a_number(void **state) {
    run_row(state, "bench_acquire_timeout_not_a_number");
}
static void test_badinput_bench_acquire_timeout_trailing_junk(void **state) {
    run_row(state, "bench_acquire_timeout_trailing_junk");
}
static void test_badinput_bench_barge_window_zero(void **state) {
    run_row(state, "bench_barge_window_zero");
}
static void test_badinput_bench_barge_window_negative(void **state) {
    run_row(state, "bench_barge_window_negative");
}
static void test_badinput_bench_barge_window_huge(void **state) {
    run_row(state, "bench_barge_window_huge");
}
static void test_badinput_bench_barge_window_not_a_number(void **state) {
    run_row(state, "bench_barge_window_not_a_number");
}
static void test_badinput_bench_barge_window_trailing_junk(void **state) {
    run_row(state, "bench_barge_window_trailing_junk");
}
static void test_badinput_bench_timeout_zero(void **state) {
    run_row(state, "bench_timeout_zero");
}
static void test_badinput_bench_timeout_negative(void **state) {
    run_row(state, "bench_timeout_negative");
}
static void test_badinput_bench_timeout_huge(void **state) {
    run_row(state, "bench_timeout_huge");
}
static void test_badinput_bench_timeout_not_a_number(void **state) {
    run_row(state, "bench_timeout_not_a_number");
}
static void test_badinput_bench_timeout_trailing_junk(void **state) {
    run_row(state, "bench_timeout_trailing_junk");
}
static void test_badinput_bench_retries_zero(void **state) {
    run_row(state, "bench_retries_zero");
}
static void test_badinput_bench_retries_negative(void **state) {
    run_row(state, "bench_retries_negative");
}
static void test_badinput_bench_retries_huge(void **state) {
    run_row(state, "bench_retries_huge");
}
static void test_badinput_bench_retries_not_a_number(void **state) {
    run_row(state, "bench_retries_not_a_number");
}
static void test_badinput_bench_retries_trailing_junk(void **state) {
    run_row(state, "bench_retries_trailing_junk");
}
static void test_badinput_bench_think_time_zero(void **state) {
    run_row(state, "bench_think_time_zero");
}
static void test_badinput_bench_think_time_negative(void **state) {
    run_row(state, "bench_think_time_negative");
}
static void test_badinput_bench_think_time_huge(void **state) {
    run_row(state, "bench_think_time_huge");
}
static void test_badinput_bench_think_time_not_a_number(void **state) {
    run_row(state, "bench_think_time_not_a_number");
}
static void test_badinput_bench_think_time_trailing_junk(void **state) {
    run_row(state, "bench_think_time_trailing_junk");
}
static void test_badinput_bench_fail_connect_zero(void **state) {
    run_row(state, "bench_fail_connect_zero");
}
static void test_badinput_bench_fail_connect_negative(void **state) {
    run_row(state, "bench_fail_connect_negative");
}
static void test_badinput_bench_fail_connect_huge(void **state) {
    run_row(state, "bench_fail_connect_huge");
}
static void test_badinput_bench_fail_connect_not_a_number(void **state) {
    run_row(state, "bench_fail_connect_not_a_number");
}
static void test_badinput_bench_fail_connect_trailing_junk(void **state) {
    run_row(state, "bench_fail_connect_trailing_junk");
}
static void test_badinput_bench_fail_connect_over_one(void **state) {
    run_row(state, "bench_fail_connect_over_one");
}
static void test_badinput_bench_kill_every_zero(void **state) {
    run_row(state, "bench_kill_every_zero");
}
static void test_badinput_bench_kill_every_negative(void **state) {
    run_row(state, "bench_kill_every_negative");
}
static void test_badinput_bench_kill_every_huge(void **state) {
    run_row(state, "bench_kill_every_huge");
}
static void test_badinput_bench_kill_every_not_a_number(void **state) {
    run_row(state, "bench_kill_every_not_a_number");
}
static void test_badinput_bench_kill_every_trailing_junk(void **state) {
    run_row(state, "bench_kill_every_trailing_junk");
}
static void test_badinput_duplicate_flag(void **state) {
    run_row(state, "duplicate_flag");
}
static void test_badinput_duplicate_flag_equals_form(void **state) {
    run_row(state, "duplicate_flag_equals_form");
}
static void test_badinput_duplicate_switch(void **state) {
    run_row(state, "duplicate_switch");
}
static void test_badinput_unknown_flag(void **state) {
    run_row(state, "unknown_flag");
}
static void test_badinput_unknown_flag_control_bytes(void **state) {
    run_row(state, "unknown_flag_control_bytes");
}
static void test_badinput_unknown_command(void **state) {
    run_row(state, "unknown_command");
}
static void test_badinput_stray_argument(void **state) {
    run_row(state, "stray_argument");
}
static void test_badinput_single_dash_flag(void **state) {
    run_row(state, "single_dash_flag");
}
static void test_badinput_flag_missing_value(void **state) {
    run_row(state, "flag_missing_value");
}
static void test_badinput_flag_value_is_a_flag(void **state) {
    run_row(state, "flag_value_is_a_flag");
}
static void test_badinput_switch_given_a_value(void **state) {
    run_row(state, "switch_given_a_value");
}
static void test_badinput_flag_for_another_command(void **state) {
    run_row(state, "flag_for_another_command");
}
static void test_badinput_log_level_unknown(void **state) {
    run_row(state, "log_level_unknown");
}
static void test_badinput_bench_duplicate_flag(void **state) {
    run_row(state, "bench_duplicate_flag");
}
static void test_badinput_bench_unknown_flag(void **state) {
    run_row(state, "bench_unknown_flag");
}
static void test_badinput_bench_without_db(void **state) {
    run_row(state, "bench_without_db");
}
static void test_badinput_injection_drop_table(void **state) {
    run_row(state, "injection_drop_table");
}
static void test_badinput_injection_or_true(void **state) {
    run_row(state, "injection_or_true");
}
static void test_badinput_injection_sql_comments(void **state) {
    run_row(state, "injection_sql_comments");
}
static void test_badinput_injection_attach(void **state) {
    run_row(state, "injection_attach");
}
static void test_badinput_injection_backslashes(void **state) {
    run_row(state, "injection_backslashes");
}
static void test_badinput_injection_unicode_quotes(void **state) {
    run_row(state, "injection_unicode_quotes");
}
static void test_badinput_injection_format_strings(void **state) {
    run_row(state, "injection_format_strings");
}
static void test_badinput_db_path_control_bytes(void **state) {
    run_row(state, "db_path_control_bytes");
}
static void test_badinput_input_path_control_bytes(void **state) {
    run_row(state, "input_path_control_bytes");
}
static void test_badinput_output_is_db_by_uri(void **state) {
    run_row(state, "output_is_db_by_uri");
}
static void test_badinput_output_dotdot_is_db(void **state) {
    run_row(state, "output_dotdot_is_db");
}
static void test_badinput_plot_is_db(void **state) {
    run_row(state, "plot_is_db");
}
static void test_badinput_plot_under_file_before_sweep(void **state) {
    run_row(state, "plot_under_file_before_sweep");
}
static void test_badinput_output_name_255_bytes(void **state) {
    run_row(state, "output_name_255_bytes");
}

static void test_badinput_foreign_label_integer(void **state) {
    run_row(state, "foreign_label_integer");
}
static void test_badinput_foreign_label_numeric(void **state) {
    run_row(state, "foreign_label_numeric");
}
static void test_badinput_foreign_label_nullable(void **state) {
    run_row(state, "foreign_label_nullable");
}
static void test_badinput_foreign_id_not_rowid(void **state) {
    run_row(state, "foreign_id_not_rowid");
}
static void test_badinput_foreign_id_desc_key(void **state) {
    run_row(state, "foreign_id_desc_key");
}
static void test_badinput_foreign_without_rowid(void **state) {
    run_row(state, "foreign_without_rowid");
}
static void test_badinput_foreign_trigger_raise_ignore(void **state) {
    run_row(state, "foreign_trigger_raise_ignore");
}
static void test_badinput_foreign_trigger_adds_rows(void **state) {
    run_row(state, "foreign_trigger_adds_rows");
}
static void test_badinput_foreign_unique_label_ignore(void **state) {
    run_row(state, "foreign_unique_label_ignore");
}
static void test_badinput_foreign_not_null_column(void **state) {
    run_row(state, "foreign_not_null_column");
}
static void test_badinput_foreign_generated_label(void **state) {
    run_row(state, "foreign_generated_label");
}
static void test_badinput_foreign_no_label_column(void **state) {
    run_row(state, "foreign_no_label_column");
}
static void test_badinput_foreign_view_named_events(void **state) {
    run_row(state, "foreign_view_named_events");
}
static void test_badinput_foreign_virtual_table(void **state) {
    run_row(state, "foreign_virtual_table");
}
static void test_badinput_foreign_compatible_table(void **state) {
    run_row(state, "foreign_compatible_table");
}
static void test_badinput_lone_cr_over_64_mib(void **state) {
    run_row(state, "lone_cr_over_64_mib");
}
static void test_badinput_nul_past_64_kib_cr_file(void **state) {
    run_row(state, "nul_past_64_kib_cr_file");
}
static void test_badinput_label_of_exactly_64_mib(void **state) {
    run_row(state, "label_of_exactly_64_mib");
}
static void test_badinput_input_shrinks_while_read(void **state) {
    run_row(state, "input_shrinks_while_read");
}

/* Declared with the name in parentheses, so CMake's scan registers each test once. */
static void(test_badinput_every_row_has_a_test)(void **state);
static void(test_badinput_doc_lists_every_row)(void **state);

/* health reports on stdout, as JSON, and prints no "sqlpool: " line: its rows check that
 * instead (the status, "unhealthy", the error naming the file, within the row's timeout). */
static void health_row(void **state, const char *name) {
    ctx *c = *state;
    const row *r = NULL;
    json_error_t e;
    json_t *doc;
    result res;
    char line[4096];
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(rows[i].name, name) == 0) r = &rows[i];
    if (r == NULL) fail_msg("no row named '%s' in the table", name);
    if (r->setup != NULL) r->setup(c);
    res = run_cli(c, r, 0);
    if (res.status != r->status)
        fail_msg("exit status %d, expected %d\nstdout: %s\nstderr: %s", res.status, r->status,
                 res.out, res.err);
    error_line(res.err, line, sizeof line);
    if (line[0] != '\0') fail_msg("health printed an error line: %s", line);
    if ((doc = json_loads(res.out, 0, &e)) == NULL) fail_msg("not JSON (%s): %s", e.text, res.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "unhealthy");
    report(r, res, json_string_value(json_object_get(doc, "error")));
    expect_contains(json_string_value(json_object_get(doc, "error")), r->needle);
    json_decref(doc);
}
static void test_badinput_bench_db_in_missing_folder(void **state) {
    run_row(state, "bench_db_in_missing_folder");
}
static void test_badinput_bench_db_is_text_file(void **state) {
    run_row(state, "bench_db_is_text_file");
}
static void test_badinput_bench_db_is_text_file_unpooled(void **state) {
    run_row(state, "bench_db_is_text_file_unpooled");
}
static void test_badinput_health_db_dev_null(void **state) {
    health_row(state, "health_db_dev_null");
}
static void test_badinput_health_db_fifo(void **state) {
    health_row(state, "health_db_fifo");
}
static void test_badinput_timeout_exponent(void **state) {
    run_row(state, "timeout_exponent");
}
static void test_badinput_timeout_trailing_point(void **state) {
    run_row(state, "timeout_trailing_point");
}
static void test_badinput_bench_duration_trailing_point(void **state) {
    run_row(state, "bench_duration_trailing_point");
}
static void test_badinput_output_is_db_by_uri_last_mode(void **state) {
    run_row(state, "output_is_db_by_uri_last_mode");
}
static void test_badinput_output_is_target_of_dangling_db_link(void **state) {
    run_row(state, "output_is_target_of_dangling_db_link");
}
static void test_badinput_health_db_fifo_by_uri(void **state) {
    health_row(state, "health_db_fifo_by_uri");
}
static void test_badinput_input_path_backslash_c1(void **state) {
    run_row(state, "input_path_backslash_c1");
}
static void test_badinput_db_path_backslash_c1(void **state) {
    run_row(state, "db_path_backslash_c1");
}
static void test_badinput_init_sql_syntax_error(void **state) {
    run_row(state, "init_sql_syntax_error");
}
static void test_badinput_health_init_sql_syntax_error(void **state) {
    health_row(state, "health_init_sql_syntax_error");
}
static void test_badinput_bench_write_ratio_zero(void **state) {
    run_row(state, "bench_write_ratio_zero");
}
static void test_badinput_bench_write_ratio_negative(void **state) {
    run_row(state, "bench_write_ratio_negative");
}
static void test_badinput_bench_write_ratio_huge(void **state) {
    run_row(state, "bench_write_ratio_huge");
}
static void test_badinput_bench_write_ratio_not_a_number(void **state) {
    run_row(state, "bench_write_ratio_not_a_number");
}
static void test_badinput_bench_write_ratio_trailing_junk(void **state) {
    run_row(state, "bench_write_ratio_trailing_junk");
}
static void test_badinput_bench_write_ratio_over_one(void **state) {
    run_row(state, "bench_write_ratio_over_one");
}
static void test_badinput_bench_write_ratio_without_mixed(void **state) {
    run_row(state, "bench_write_ratio_without_mixed");
}
static void test_badinput_bench_single_writer_memory(void **state) {
    run_row(state, "bench_single_writer_memory");
}
static void test_badinput_bench_single_writer_unpooled(void **state) {
    run_row(state, "bench_single_writer_unpooled");
}
static void test_badinput_bench_single_writer_with_value(void **state) {
    run_row(state, "bench_single_writer_with_value");
}
static void test_badinput_bench_compare_unknown(void **state) {
    run_row(state, "bench_compare_unknown");
}
static void test_badinput_bench_compare_with_single_writer(void **state) {
    run_row(state, "bench_compare_with_single_writer");
}
static void test_badinput_bench_compare_mode_both(void **state) {
    run_row(state, "bench_compare_mode_both");
}
static void test_badinput_bench_compare_memory(void **state) {
    run_row(state, "bench_compare_memory");
}
static void test_badinput_health_pg_target_unknown(void **state) {
    run_row(state, "health_pg_target_unknown");
}
static void test_badinput_health_pg_ports_do_not_match_hosts(void **state) {
    run_row(state, "health_pg_ports_do_not_match_hosts");
}
static void test_badinput_health_pg_slash_in_uri_password(void **state) {
    run_row(state, "health_pg_slash_in_uri_password");
}
static void test_badinput_run_statement_timeout_sqlite(void **state) {
    run_row(state, "run_statement_timeout_sqlite");
}
static void test_badinput_run_pg_unnamed_statements_sqlite(void **state) {
    run_row(state, "run_pg_unnamed_statements_sqlite");
}
static void test_badinput_run_pg_reset_query_sqlite(void **state) {
    run_row(state, "run_pg_reset_query_sqlite");
}
static void test_badinput_run_read_db_sqlite(void **state) {
    run_row(state, "run_read_db_sqlite");
}
static void test_badinput_run_statement_timeout_junk(void **state) {
    run_row(state, "run_statement_timeout_junk");
}
static void test_badinput_health_read_db(void **state) {
    run_row(state, "health_read_db");
}
static void test_badinput_health_pg_unnamed_statements_sqlite(void **state) {
    run_row(state, "health_pg_unnamed_statements_sqlite");
}
static void test_badinput_bench_read_db_sqlite(void **state) {
    run_row(state, "bench_read_db_sqlite");
}
static void test_badinput_bench_statement_timeout_sqlite(void **state) {
    run_row(state, "bench_statement_timeout_sqlite");
}
static void test_badinput_bench_pg_unnamed_statements_value(void **state) {
    run_row(state, "bench_pg_unnamed_statements_value");
}
static void test_badinput_bench_statement_timeout_negative(void **state) {
    run_row(state, "bench_statement_timeout_negative");
}
static void test_badinput_bench_timeline_with_sweep(void **state) {
    run_row(state, "bench_timeline_with_sweep");
}
static void test_badinput_bench_timeline_is_db(void **state) {
    run_row(state, "bench_timeline_is_db");
}
static void test_badinput_bench_group_commit_zero(void **state) {
    run_row(state, "bench_group_commit_zero");
}
static void test_badinput_bench_group_commit_negative(void **state) {
    run_row(state, "bench_group_commit_negative");
}
static void test_badinput_bench_group_commit_huge(void **state) {
    run_row(state, "bench_group_commit_huge");
}
static void test_badinput_bench_group_commit_not_a_number(void **state) {
    run_row(state, "bench_group_commit_not_a_number");
}
static void test_badinput_bench_group_commit_trailing_junk(void **state) {
    run_row(state, "bench_group_commit_trailing_junk");
}
static void test_badinput_bench_group_commit_over_cap(void **state) {
    run_row(state, "bench_group_commit_over_cap");
}
static void test_badinput_bench_group_commit_unpooled(void **state) {
    run_row(state, "bench_group_commit_unpooled");
}
static void test_badinput_bench_group_commit_without_mixed(void **state) {
    run_row(state, "bench_group_commit_without_mixed");
}
static void test_badinput_bench_group_commit_pg(void **state) {
    run_row(state, "bench_group_commit_pg");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_badinput_empty_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_only_blank_lines, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_crlf_line_ends, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_lone_cr_line_ends, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_utf8_bom, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_ten_mb_single_line, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_fifo_with_data, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_dev_null_input, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_invalid_utf8, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_overlong_utf8, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_utf16_surrogate, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_latin1_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_nul_byte, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_dev_zero_input, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_missing_input, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_folder_input, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_empty_input_path, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_folder, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_in_readonly_folder, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_new_folder_in_readonly_folder, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_under_regular_file, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_dangling_symlink, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_the_database, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_the_wal_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_device_full, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_empty_output_path, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_is_text_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_is_folder, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_in_missing_folder, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_readonly_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_in_readonly_folder, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_wal_in_readonly_folder, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_corrupt, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_locked, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_empty_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_not_a_number, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_trailing_junk, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_plus_sign, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_leading_space, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_pool_size_hex, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_not_a_number, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_trailing_junk, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_nan, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_inf, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_not_a_number, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_trailing_junk, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_retries_fraction, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_timeout_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_timeout_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_timeout_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_timeout_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_timeout_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_retries_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_retries_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_retries_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_retries_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_retries_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_clients_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_clients_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_clients_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_clients_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_clients_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_transactions_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_transactions_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_transactions_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_transactions_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_transactions_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pool_size_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pool_size_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pool_size_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pool_size_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pool_size_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_max_open_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_max_open_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_max_open_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_max_open_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_max_open_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_acquire_timeout_zero, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_acquire_timeout_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_acquire_timeout_huge, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_acquire_timeout_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_acquire_timeout_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_barge_window_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_barge_window_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_barge_window_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_barge_window_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_barge_window_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeout_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeout_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeout_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeout_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeout_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_retries_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_retries_negative, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_retries_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_retries_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_retries_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_think_time_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_think_time_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_think_time_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_think_time_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_think_time_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_fail_connect_over_one, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_kill_every_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_kill_every_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_kill_every_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_kill_every_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_kill_every_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_duplicate_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_duplicate_flag_equals_form, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_duplicate_switch, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_unknown_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_unknown_flag_control_bytes, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_unknown_command, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_stray_argument, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_single_dash_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_flag_missing_value, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_flag_value_is_a_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_switch_given_a_value, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_flag_for_another_command, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_log_level_unknown, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duplicate_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_unknown_flag, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_without_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_drop_table, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_or_true, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_sql_comments, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_attach, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_backslashes, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_unicode_quotes, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_injection_format_strings, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_path_control_bytes, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_input_path_control_bytes, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_db_by_uri, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_dotdot_is_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_plot_is_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_plot_under_file_before_sweep, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_name_255_bytes, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_db_in_missing_folder, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_db_is_text_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_db_is_text_file_unpooled, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_db_dev_null, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_db_fifo, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_label_integer, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_label_numeric, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_label_nullable, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_id_not_rowid, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_id_desc_key, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_without_rowid, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_trigger_raise_ignore, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_trigger_adds_rows, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_unique_label_ignore, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_not_null_column, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_generated_label, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_no_label_column, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_view_named_events, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_virtual_table, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_foreign_compatible_table, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_lone_cr_over_64_mib, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_nul_past_64_kib_cr_file, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_label_of_exactly_64_mib, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_input_shrinks_while_read, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_exponent, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_timeout_trailing_point, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_duration_trailing_point, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_db_by_uri_last_mode, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_output_is_target_of_dangling_db_link, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_db_fifo_by_uri, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_input_path_backslash_c1, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_db_path_backslash_c1, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_init_sql_syntax_error, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_init_sql_syntax_error, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_over_one, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_write_ratio_without_mixed, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_single_writer_memory, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_single_writer_unpooled, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_single_writer_with_value, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_compare_unknown, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_compare_with_single_writer, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_compare_mode_both, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_compare_memory, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_pg_target_unknown, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_pg_ports_do_not_match_hosts, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_pg_slash_in_uri_password, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_run_statement_timeout_sqlite, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_run_pg_unnamed_statements_sqlite, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_run_pg_reset_query_sqlite, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_run_read_db_sqlite, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_run_statement_timeout_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_read_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_health_pg_unnamed_statements_sqlite, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_read_db_sqlite, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_statement_timeout_sqlite, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_pg_unnamed_statements_value, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_statement_timeout_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeline_with_sweep, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_timeline_is_db, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_zero, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_negative, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_huge, setup_ctx, teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_not_a_number, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_trailing_junk, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_over_cap, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_unpooled, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_without_mixed, setup_ctx,
                                    teardown_ctx),
    cmocka_unit_test_setup_teardown(test_badinput_bench_group_commit_pg, setup_ctx, teardown_ctx),
    cmocka_unit_test(test_badinput_every_row_has_a_test),
    cmocka_unit_test(test_badinput_doc_lists_every_row),
};

/* Every row has its test (and CTest entry), and every row test has its row. */
static void test_badinput_every_row_has_a_test(void **state) {
    size_t ntests = sizeof tests / sizeof tests[0];
    (void)state;
    for (size_t i = 0; i < NROWS; i++) {
        char *want = testutil_format("test_badinput_%s", rows[i].name);
        int found = 0;
        for (size_t k = 0; k < ntests; k++)
            found += strcmp(tests[k].name, want) == 0;
        if (found != 1) fail_msg("row '%s' has %d tests named %s", rows[i].name, found, want);
        for (size_t k = 0; k < i; k++)
            if (strcmp(rows[k].name, rows[i].name) == 0) fail_msg("two rows named %s", want);
        free(want);
    }
    assert_int_equal(ntests, NROWS + 2);
}

/* docs/bad-input.md has a line for every row, naming its test and its exit status. */
static void test_badinput_doc_lists_every_row(void **state) {
    char *doc = testutil_read_file(SQLPOOL_SOURCE_DIR "/docs/bad-input.md", NULL);
    (void)state;
    if (doc == NULL) fail_msg("docs/bad-input.md is missing");
    for (size_t i = 0; i < NROWS; i++) {
        char *name = testutil_format("`test_badinput_%s`", rows[i].name);
        char *hit = strstr(doc, name), *eol, *status;
        if (hit == NULL) fail_msg("docs/bad-input.md has no row for %s", name);
        eol = strchr(hit, '\n');
        status = testutil_format("| %d |", rows[i].status);
        /* The status column comes before the test name, on the same line. */
        {
            char *sol = hit;
            while (sol > doc && sol[-1] != '\n')
                sol--;
            if (eol) *eol = '\0';
            if (strstr(sol, status) == NULL)
                fail_msg("docs/bad-input.md gives %s a status other than %d", name, rows[i].status);
            if (eol) *eol = '\n';
        }
        free(status);
        free(name);
    }
    free(doc);
}

SQLPOOL_TEST_MAIN(tests)
