/* test_options.c: the CLI's strict flag parser (cli/options.c). */
#include "testutil.h"

#include "exitcodes.h"
#include "options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Parse {"sqlpool", args..., NULL}; argv outlives opts because the strings are literals or
 * owned by the caller. */
#define PARSE(o, err, ...) parse_argv((o), (err), (char *[]){"sqlpool", __VA_ARGS__, NULL})

static int parse_argv(cli_options *o, char err[512], char **argv) {
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    err[0] = '\0';
    return options_parse(argc, argv, o, err, 512);
}

/* The parse fails with EXIT_USAGE and a non-empty one-line message containing each needle. */
static void expect_usage(int rc, const char *err, const char *needle1, const char *needle2) {
    assert_int_equal(rc, EXIT_USAGE);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (needle1 != NULL && strstr(err, needle1) == NULL)
        fail_msg("message '%s' does not contain '%s'", err, needle1);
    if (needle2 != NULL && strstr(err, needle2) == NULL)
        fail_msg("message '%s' does not contain '%s'", err, needle2);
}

static void expect_defaults(const cli_options *o, cli_command command) {
    assert_int_equal(o->command, command);
    assert_string_equal(o->input, "data/sample_input.txt");
    assert_string_equal(o->output, "data/output_summary.json");
    assert_string_equal(o->db, ":memory:");
    assert_int_equal(o->pool_size, 5);
    assert_true(o->timeout == 5.0);
    assert_int_equal(o->retries, 3);
    assert_int_equal(o->quiet, 0);
    assert_int_equal(o->log_level, SQLPOOL_LOG_INFO);
    assert_int_equal(o->help, 0);
    assert_int_equal(o->version, 0);
}

static void test_options_defaults(void **state) {
    char *argv[] = {"sqlpool", NULL};
    cli_options o;
    char err[512] = "";
    (void)state;
    memset(&o, 0xa5, sizeof o);
    assert_int_equal(options_parse(1, argv, &o, err, sizeof err), 0);
    expect_defaults(&o, CMD_RUN);
}

static void test_options_run_and_bare_form(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    assert_int_equal(PARSE(&o, err, "run"), 0);
    expect_defaults(&o, CMD_RUN);
    assert_int_equal(PARSE(&o, err, "run", "--quiet"), 0);
    assert_int_equal(o.command, CMD_RUN);
    assert_int_equal(o.quiet, 1);
    assert_int_equal(PARSE(&o, err, "--quiet"), 0);
    assert_int_equal(o.command, CMD_RUN);
    assert_int_equal(o.quiet, 1);
    assert_int_equal(PARSE(&o, err, "health"), 0);
    assert_int_equal(o.command, CMD_HEALTH);
    assert_string_equal(o.db, ":memory:");
}

static void test_options_space_form(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    assert_int_equal(PARSE(&o, err, "run", "--input", "in.txt", "--output", "o/s.json", "--db",
                           "e.db", "--pool-size", "7", "--timeout", "2.5", "--retries", "0",
                           "--quiet", "--log-level", "debug"),
                     0);
    assert_int_equal(o.command, CMD_RUN);
    assert_string_equal(o.input, "in.txt");
    assert_string_equal(o.output, "o/s.json");
    assert_string_equal(o.db, "e.db");
    assert_int_equal(o.pool_size, 7);
    assert_true(o.timeout == 2.5);
    assert_int_equal(o.retries, 0);
    assert_int_equal(o.quiet, 1);
    assert_int_equal(o.log_level, SQLPOOL_LOG_DEBUG);
}

static void test_options_equals_form(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    assert_int_equal(PARSE(&o, err, "--input=in.txt", "--output=o/s.json", "--db=e.db",
                           "--pool-size=9", "--timeout=0.25", "--retries=10",
                           "--log-level=warning"),
                     0);
    assert_string_equal(o.input, "in.txt");
    assert_string_equal(o.output, "o/s.json");
    assert_string_equal(o.db, "e.db");
    assert_int_equal(o.pool_size, 9);
    assert_true(o.timeout == 0.25);
    assert_int_equal(o.retries, 10);
    assert_int_equal(o.log_level, SQLPOOL_LOG_WARNING);
    /* Only the first '=' separates: the value keeps the rest. */
    assert_int_equal(PARSE(&o, err, "--input=a=b.txt"), 0);
    assert_string_equal(o.input, "a=b.txt");
    /* A value after a space may itself start with '-' or contain '='. */
    assert_int_equal(PARSE(&o, err, "--output", "-x=y.json"), 0);
    assert_string_equal(o.output, "-x=y.json");
}

/* Every value in bad[] is refused for flag, in both "--flag v" and "--flag=v" forms, with a
 * message naming the flag. */
static void expect_flag_rejects(const char *flag, const char *const *bad) {
    for (size_t i = 0; bad[i] != NULL; i++) {
        cli_options o;
        char err[512], joined[128];
        int rc = PARSE(&o, err, "run", (char *)flag, (char *)bad[i]);
        if (rc != EXIT_USAGE) fail_msg("%s '%s' gave %d, not EXIT_USAGE", flag, bad[i], rc);
        expect_usage(rc, err, flag, NULL);
        (void)snprintf(joined, sizeof joined, "%s=%s", flag, bad[i]);
        rc = PARSE(&o, err, "run", joined);
        if (rc != EXIT_USAGE) fail_msg("'%s' gave %d, not EXIT_USAGE", joined, rc);
        expect_usage(rc, err, flag, NULL);
    }
}

/* Every value in good[] is accepted by flag, in both forms. */
static void expect_flag_accepts(const char *flag, const char *const *good) {
    for (size_t i = 0; good[i] != NULL; i++) {
        cli_options o;
        char err[512], joined[128];
        int rc = PARSE(&o, err, (char *)flag, (char *)good[i]);
        if (rc != 0) fail_msg("%s '%s' refused: %s", flag, good[i], err);
        (void)snprintf(joined, sizeof joined, "%s=%s", flag, good[i]);
        rc = PARSE(&o, err, joined);
        if (rc != 0) fail_msg("'%s' refused: %s", joined, err);
    }
}

static void test_options_pool_size_rejects_bad_values(void **state) {
    static const char *const bad[] = {
        "0",     "-3",  "-1",  "100001", "2147483648", "99999999999999999999999",
        "abc",   "5x",  "",    "+5",     " 5",         "5 ",
        "1e999", "nan", "5.0", "1e3",    "0x10",       "-0",
        NULL};
    (void)state;
    expect_flag_rejects("--pool-size", bad);
}

static void test_options_pool_size_explicit_cases(void **state) {
    static const char *const bad[] = {"0", "-3", "abc", "5x"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_options o;
        char err[512], quoted[32];
        (void)snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        expect_usage(PARSE(&o, err, "--pool-size", (char *)bad[i]), err, "--pool-size", quoted);
    }
}

static void test_options_retries_rejects_bad_values(void **state) {
    static const char *const bad[] = {
        "-1",  "-3",  "101", "99999999999999999999999", "abc", "5x", "", "+5", " 5", "5 ", "1e999",
        "nan", "1.5", NULL};
    (void)state;
    expect_flag_rejects("--retries", bad);
}

static void test_options_timeout_rejects_bad_values(void **state) {
    static const char *const bad[] = {"-1",  "-0.5", "86400.5", "86401", "1e999",    "-1e999",
                                      "abc", "5x",   "",        "+5",    " 5",       "5 ",
                                      "nan", "NaN",  "inf",     "-inf",  "infinity", NULL};
    (void)state;
    expect_flag_rejects("--timeout", bad);
}

static void test_options_numeric_edges_accepted(void **state) {
    static const char *const pool[] = {"1", "5", "100000", NULL};
    static const char *const retries[] = {"0", "1", "100", NULL};
    static const char *const timeout[] = {"0", "0.0", "0.001", "5", "2.5", ".5", "86400", NULL};
    cli_options o;
    char err[512];
    (void)state;
    expect_flag_accepts("--pool-size", pool);
    expect_flag_accepts("--retries", retries);
    expect_flag_accepts("--timeout", timeout);
    assert_int_equal(
        PARSE(&o, err, "--pool-size", "100000", "--retries", "100", "--timeout", "86400"), 0);
    assert_int_equal(o.pool_size, 100000);
    assert_int_equal(o.retries, 100);
    assert_true(o.timeout == 86400.0);
    assert_int_equal(PARSE(&o, err, "--pool-size=1", "--retries=0", "--timeout=0"), 0);
    assert_int_equal(o.pool_size, 1);
    assert_int_equal(o.retries, 0);
    assert_true(o.timeout == 0.0);
}

/* Leading whitespace of any kind is refused, not only a space (strtol/strtod skip it). */
static void test_options_numeric_rejects_any_leading_whitespace(void **state) {
    static const char *const bad[] = {"\t5", "\n5", "\v5", "\f5", "\r5", NULL};
    (void)state;
    expect_flag_rejects("--pool-size", bad);
    expect_flag_rejects("--retries", bad);
    expect_flag_rejects("--timeout", bad);
    for (size_t i = 0; bad[i] != NULL; i++) {
        long v;
        double d;
        if (options_parse_int(bad[i], 0, 10, &v) == 0)
            fail_msg("options_parse_int accepted '%s'", bad[i]);
        if (options_parse_seconds(bad[i], 0, 10, &d) == 0)
            fail_msg("options_parse_seconds accepted '%s'", bad[i]);
    }
}

/* A number of seconds is decimal: strtod's hexadecimal floats are refused. */
static void test_options_timeout_rejects_hexadecimal(void **state) {
    static const char *const bad[] = {"0x10", "0X1p3", "0x1.8p1", NULL};
    (void)state;
    expect_flag_rejects("--timeout", bad);
    for (size_t i = 0; bad[i] != NULL; i++) {
        double d;
        if (options_parse_seconds(bad[i], 0, 100, &d) == 0)
            fail_msg("options_parse_seconds accepted '%s' as %g", bad[i], d);
    }
}

static void test_options_log_levels(void **state) {
    static const struct {
        const char *name;
        int level;
    } ok[] = {{"debug", SQLPOOL_LOG_DEBUG},
              {"info", SQLPOOL_LOG_INFO},
              {"warning", SQLPOOL_LOG_WARNING},
              {"error", SQLPOOL_LOG_ERROR}};
    static const char *const bad[] = {"INFO", "Debug", "warn", "verbose", "", "info ", "2", NULL};
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cli_options o;
        char err[512];
        assert_int_equal(PARSE(&o, err, "--log-level", (char *)ok[i].name), 0);
        assert_int_equal(o.log_level, ok[i].level);
        assert_int_equal(PARSE(&o, err, "health", "--log-level", (char *)ok[i].name), 0);
        assert_int_equal(o.log_level, ok[i].level);
    }
    expect_flag_rejects("--log-level", bad);
}

static void test_options_duplicates_rejected(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    expect_usage(PARSE(&o, err, "--db", "a.db", "--db", "b.db"), err, "--db", "more than once");
    expect_usage(PARSE(&o, err, "--pool-size", "3", "--pool-size=4"), err, "--pool-size",
                 "more than once");
    expect_usage(PARSE(&o, err, "--quiet", "--quiet"), err, "--quiet", "more than once");
    expect_usage(PARSE(&o, err, "--log-level=info", "--log-level", "info"), err, "--log-level",
                 "more than once");
    expect_usage(PARSE(&o, err, "health", "--timeout", "1", "--timeout", "1"), err, "--timeout",
                 "more than once");
}

static void test_options_unknown_flags_rejected(void **state) {
    static const char *const unknown[] = {"--bogus",  "--bogus=1", "--pool_size",  "--poolsize",
                                          "--Input",  "--in",      "--input-file", "--quiet2",
                                          "---quiet", NULL};
    (void)state;
    for (size_t i = 0; unknown[i] != NULL; i++) {
        cli_options o;
        char err[512];
        expect_usage(PARSE(&o, err, "run", (char *)unknown[i], "x"), err, "unknown option",
                     unknown[i]);
    }
}

static void test_options_flag_missing_value(void **state) {
    static const char *const needs[] = {"--input",   "--output",  "--db",        "--pool-size",
                                        "--timeout", "--retries", "--log-level", NULL};
    (void)state;
    for (size_t i = 0; needs[i] != NULL; i++) {
        cli_options o;
        char err[512];
        expect_usage(PARSE(&o, err, "--quiet", (char *)needs[i]), err, needs[i], "needs a value");
    }
}

static void test_options_empty_string_values_rejected(void **state) {
    static const char *const flags[] = {"--input", "--output", "--db", NULL};
    (void)state;
    for (size_t i = 0; flags[i] != NULL; i++) {
        cli_options o;
        char err[512], joined[64];
        expect_usage(PARSE(&o, err, (char *)flags[i], ""), err, flags[i], NULL);
        (void)snprintf(joined, sizeof joined, "%s=", flags[i]);
        expect_usage(PARSE(&o, err, joined), err, flags[i], NULL);
    }
}

static void test_options_switch_with_value_rejected(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    expect_usage(PARSE(&o, err, "--quiet=1"), err, "--quiet", "takes no value");
    expect_usage(PARSE(&o, err, "--quiet="), err, "--quiet", "takes no value");
    expect_usage(PARSE(&o, err, "--help=yes"), err, "--help", "takes no value");
    expect_usage(PARSE(&o, err, "--version=1"), err, "--version", "takes no value");
}

static void test_options_help_and_version(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    assert_int_equal(PARSE(&o, err, "--help"), 0);
    assert_int_equal(o.help, 1);
    assert_int_equal(o.version, 0);
    assert_int_equal(PARSE(&o, err, "health", "--version"), 0);
    assert_int_equal(o.version, 1);
    assert_int_equal(o.help, 0);
}

static void test_options_option_not_for_subcommand(void **state) {
    static const char *const run_only[] = {"--input", "--output", "--pool-size", NULL};
    cli_options o;
    char err[512];
    (void)state;
    for (size_t i = 0; run_only[i] != NULL; i++) {
        expect_usage(PARSE(&o, err, "health", (char *)run_only[i], "1"), err, run_only[i],
                     "health");
        assert_non_null(strstr(err, "does not apply"));
    }
    /* health prints only its JSON: there is nothing for --quiet to silence. */
    expect_usage(PARSE(&o, err, "health", "--quiet"), err, "--quiet", "health");
    assert_int_equal(PARSE(&o, err, "health", "--db", "x.db", "--timeout", "1", "--retries", "2",
                           "--log-level", "error"),
                     0);
    assert_int_equal(o.command, CMD_HEALTH);
    assert_string_equal(o.db, "x.db");
    assert_int_equal(o.retries, 2);
}

static void test_options_unknown_command(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    expect_usage(PARSE(&o, err, "frobnicate"), err, "unknown command", "'frobnicate'");
    expect_usage(PARSE(&o, err, "Run", "--quiet"), err, "unknown command", "'Run'");
    expect_usage(PARSE(&o, err, ""), err, "unknown command", NULL);
}

/* The message names every command, bench included (main.c takes bench before this parser). */
static void test_options_unknown_command_names_every_command(void **state) {
    static const char *const commands[] = {"'run'", "'health'", "'bench'"};
    cli_options o;
    char err[512];
    (void)state;
    expect_usage(PARSE(&o, err, "foo"), err, "unknown command 'foo'", NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strstr(err, commands[i]) == NULL)
            fail_msg("message '%s' does not name %s", err, commands[i]);
}

/* Seconds are plain decimals, as sqlpool(1) says: digits with an optional fraction after a
 * point ("5", "0.5", ".5"). Exponents and a trailing point, which strtod takes, are refused. */
static void test_options_seconds_plain_decimals_only(void **state) {
    static const char *const bad[] = {"1e3", "5.",    "1E2", "1e-3", "5.e1", "0.5e1", "1e+2",
                                      "5..", "5.5.5", "-.",  "-",    "..5",  "5e",    NULL};
    static const struct {
        const char *text;
        double value;
    } good[] = {{"5", 5.0}, {"0.5", 0.5}, {".5", 0.5}, {"05.50", 5.5}, {"-.25", -0.25}};
    double d = 7.0;
    (void)state;
    for (size_t i = 0; bad[i] != NULL; i++)
        if (options_parse_seconds(bad[i], -1e9, 1e9, &d) != -1)
            fail_msg("options_parse_seconds accepted '%s' as %g", bad[i], d);
    assert_true(d == 7.0);
    expect_flag_rejects("--timeout", bad);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (options_parse_seconds(good[i].text, -10, 10, &d) != 0)
            fail_msg("options_parse_seconds refused '%s'", good[i].text);
        assert_true(d == good[i].value);
    }
}

static void test_options_stray_positional(void **state) {
    cli_options o;
    char err[512];
    (void)state;
    expect_usage(PARSE(&o, err, "run", "extra"), err, "unexpected argument", "'extra'");
    expect_usage(PARSE(&o, err, "--quiet", "extra"), err, "unexpected argument", "'extra'");
    expect_usage(PARSE(&o, err, "run", "run"), err, "unexpected argument", "'run'");
    expect_usage(PARSE(&o, err, "--quiet", "health"), err, "unexpected argument", "'health'");
    expect_usage(PARSE(&o, err, "--db", "a.db", "b.db"), err, "unexpected argument", "'b.db'");
    expect_usage(PARSE(&o, err, "-q"), err, "unexpected argument", "'-q'");
    expect_usage(PARSE(&o, err, "--"), err, "unexpected argument", NULL);
    expect_usage(PARSE(&o, err, "-"), err, "unexpected argument", NULL);
}

static void test_options_parse_int_direct(void **state) {
    static const char *const bad[] = {"",     " 1",  "+1",  "1 ",  "1x",  "x1",
                                      "0x10", "1.0", "1e3", "--1", "abc", NULL};
    long v = 0;
    (void)state;
    assert_int_equal(options_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(options_parse_int("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(options_parse_int("007", 0, 10, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(options_parse_int("10", 0, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(options_parse_int("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    v = 123;
    assert_int_equal(options_parse_int("11", 0, 10, &v), -1);
    assert_int_equal(options_parse_int("-1", 0, 10, &v), -1);
    assert_int_equal(options_parse_int("99999999999999999999999", 0, 2147483647L, &v), -1);
    assert_int_equal(options_parse_int("-99999999999999999999999", -2147483647L, 0, &v), -1);
    for (size_t i = 0; bad[i] != NULL; i++)
        if (options_parse_int(bad[i], -1000, 1000, &v) != -1)
            fail_msg("options_parse_int accepted '%s'", bad[i]);
    assert_int_equal(v, 123); /* untouched by failures */
}

static void test_options_parse_seconds_direct(void **state) {
    static const char *const bad[] = {"",     " 1",    "+1",  "1 ", "1x", "nan", "inf",
                                      "-inf", "1e999", "abc", ".",  "e5", "1e",  NULL};
    double d = 0;
    (void)state;
    assert_int_equal(options_parse_seconds("0.25", 0, 10, &d), 0);
    assert_true(d == 0.25);
    assert_int_equal(options_parse_seconds("3", 0, 10, &d), 0);
    assert_true(d == 3.0);
    assert_int_equal(options_parse_seconds(".5", 0, 10, &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(options_parse_seconds("-2.5", -5, 0, &d), 0);
    assert_true(d == -2.5);
    d = 123.0;
    assert_int_equal(options_parse_seconds("10.000001", 0, 10, &d), -1);
    assert_int_equal(options_parse_seconds("-0.1", 0, 10, &d), -1);
    for (size_t i = 0; bad[i] != NULL; i++)
        if (options_parse_seconds(bad[i], -1e9, 1e9, &d) != -1)
            fail_msg("options_parse_seconds accepted '%s'", bad[i]);
    assert_true(d == 123.0); /* untouched by failures */
    assert_true(isfinite(d));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_options_defaults),
    cmocka_unit_test(test_options_run_and_bare_form),
    cmocka_unit_test(test_options_space_form),
    cmocka_unit_test(test_options_equals_form),
    cmocka_unit_test(test_options_pool_size_rejects_bad_values),
    cmocka_unit_test(test_options_pool_size_explicit_cases),
    cmocka_unit_test(test_options_retries_rejects_bad_values),
    cmocka_unit_test(test_options_timeout_rejects_bad_values),
    cmocka_unit_test(test_options_numeric_edges_accepted),
    cmocka_unit_test(test_options_numeric_rejects_any_leading_whitespace),
    cmocka_unit_test(test_options_timeout_rejects_hexadecimal),
    cmocka_unit_test(test_options_log_levels),
    cmocka_unit_test(test_options_duplicates_rejected),
    cmocka_unit_test(test_options_unknown_flags_rejected),
    cmocka_unit_test(test_options_flag_missing_value),
    cmocka_unit_test(test_options_empty_string_values_rejected),
    cmocka_unit_test(test_options_switch_with_value_rejected),
    cmocka_unit_test(test_options_help_and_version),
    cmocka_unit_test(test_options_option_not_for_subcommand),
    cmocka_unit_test(test_options_unknown_command),
    cmocka_unit_test(test_options_stray_positional),
    cmocka_unit_test(test_options_parse_int_direct),
    cmocka_unit_test(test_options_parse_seconds_direct),
    cmocka_unit_test(test_options_unknown_command_names_every_command),
    cmocka_unit_test(test_options_seconds_plain_decimals_only),
};

SQLPOOL_TEST_MAIN(tests)
