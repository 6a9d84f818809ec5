/* test_cli.c: the sqlpool program end to end: exit codes, messages, the JSON summary. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE SQLPOOL_SOURCE_DIR "/data/sample_input.txt"
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOT_A_DB "just some text, long enough to cover an SQLite header: 0123456789\n"
#define SENTINEL "a previous summary, not to be touched\n"

#define LOG_LINE_RE                                                                                \
    "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} \\| "                         \
    "(DEBUG|INFO|WARNING|ERROR) \\| [^\n]+$"

/* Per-test state: a temporary folder and the strings to free at the end. */
typedef struct fixture {
    char *dir;
    char *owned[256];
    int n;
} fixture;

static int setup_tmp(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    fx->dir = testutil_tmpdir();
    *state = fx;
    return 0;
}

static int teardown_tmp(void **state) {
    fixture *fx = *state;
    testutil_rmtree(fx->dir);
    free(fx->dir);
    for (int i = 0; i < fx->n; i++)
        free(fx->owned[i]);
    free(fx);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown_tmp)

static char *keep(void **state, char *s) {
    fixture *fx = *state;
    assert_true(fx->n < 256);
    fx->owned[fx->n++] = s;
    return s;
}

/* <tmp>/<name>, freed at teardown. */
static const char *tmp_path(void **state, const char *name) {
    fixture *fx = *state;
    return keep(state, testutil_format("%s/%s", fx->dir, name));
}

/* The result of one run; its strings are freed at teardown. */
typedef struct run_result {
    int status;
    char *out;
    char *err;
} run_result;

static run_result run_in(void **state, const char *cwd, const char *const *args) {
    run_result r;
    r.status = testutil_run_cli(cwd, args, &r.out, &r.err);
    keep(state, r.out);
    keep(state, r.err);
    return r;
}

static run_result run(void **state, const char *const *args) {
    return run_in(state, NULL, args);
}

static void expect_status(run_result r, int status) {
    if (r.status != status)
        fail_msg("exit status %d, expected %d\nstdout: %s\nstderr: %s", r.status, status, r.out,
                 r.err);
}

static void expect_contains(const char *text, const char *needle) {
    if (strstr(text, needle) == NULL) fail_msg("'%s' does not contain '%s'", text, needle);
}

static int matches(const char *pattern, const char *text) {
    regex_t re;
    int rc;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    return rc == 0;
}

/* stderr holds exactly one "sqlpool: " line, containing each needle; every other line is a
 * log line. */
static void expect_one_error_line(const char *err, const char *needle1, const char *needle2) {
    const char *line = err, *found = NULL;
    size_t found_len = 0;
    char copy[2048];
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        assert_true(len < sizeof copy);
        memcpy(copy, line, len);
        copy[len] = '\0';
        if (strncmp(copy, "sqlpool: ", 9) == 0) {
            if (found != NULL) fail_msg("more than one error line on stderr:\n%s", err);
            found = line;
            found_len = len;
            if (needle1) expect_contains(copy, needle1);
            if (needle2) expect_contains(copy, needle2);
        } else if (!matches(LOG_LINE_RE, copy)) {
            fail_msg("stderr line is neither an error nor a log line: '%s'", copy);
        }
        if (nl == NULL) fail_msg("stderr does not end with a newline: '%s'", err);
        line = nl + 1;
    }
    if (found == NULL) fail_msg("no 'sqlpool: ' line on stderr: '%s'", err);
    assert_true(found_len > 9);
}

/* A failed run: the status, nothing on stdout, the one error line. */
static void expect_failure(run_result r, int status, const char *needle1, const char *needle2) {
    expect_status(r, status);
    assert_string_equal(r.out, "");
    expect_one_error_line(r.err, needle1, needle2);
}

/* No temporary summary file is left in dir (which may not exist). */
static void expect_no_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL) return;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".summary.json", 13) == 0)
            fail_msg("temporary file '%s/%s' left behind", dir, e->d_name);
    closedir(d);
}

static void expect_absent(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) == 0) fail_msg("'%s' exists but should not", path);
}

static void expect_file_content(const char *path, const char *content) {
    size_t len;
    char *got = testutil_read_file(path, &len);
    if (got == NULL) fail_msg("cannot read '%s'", path);
    assert_int_equal(len, strlen(content));
    assert_string_equal(got, content);
    free(got);
}

/*
 * Run args twice: once with <tmp>/out/summary.json absent (it must stay absent), once with
 * it holding SENTINEL (it must be left byte for byte). The args must name that output.
 */
static void expect_failure_twice(void **state, const char *const *args, int status,
                                 const char *needle1, const char *needle2) {
    const char *out_dir = tmp_path(state, "out");
    const char *out = tmp_path(state, "out/summary.json");
    expect_failure(run(state, args), status, needle1, needle2);
    expect_absent(out);
    expect_no_temp_files(out_dir);

    (void)mkdir(out_dir, 0777);
    testutil_write_file(out, SENTINEL, strlen(SENTINEL));
    expect_failure(run(state, args), status, needle1, needle2);
    expect_file_content(out, SENTINEL);
    expect_no_temp_files(out_dir);
}

static json_t *parse_json(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fail_msg("invalid JSON (%s, line %d): %s", e.text, e.line, text);
    return j;
}

static long long int_at(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) fail_msg("'%s' is not an integer", key);
    return (long long)json_integer_value(v);
}

/* The keys of obj, in document order, joined by ','. */
static void expect_keys(json_t *obj, const char *expected) {
    char got[512] = "";
    size_t used = 0;
    assert_true(json_is_object(obj));
    for (void *it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        int n = snprintf(got + used, sizeof got - used, "%s%s", used ? "," : "",
                         json_object_iter_key(it));
        assert_true(n > 0 && (size_t)n < sizeof got - used);
        used += (size_t)n;
    }
    if (strncmp(got, expected, strlen(expected)) != 0 ||
        (got[strlen(expected)] != '\0' && got[strlen(expected)] != ','))
        fail_msg("keys '%s' do not start with '%s'", got, expected);
}

/* rows is an array of {"id": first+i, "label": labels[i % nlabels]} of length n. */
static void expect_rows(json_t *rows, long long n, const char *const *labels, size_t nlabels) {
    assert_true(json_is_array(rows));
    assert_int_equal(json_array_size(rows), (size_t)n);
    for (size_t i = 0; i < (size_t)n; i++) {
        json_t *row = json_array_get(rows, i);
        json_t *label = json_object_get(row, "label");
        expect_keys(row, "id,label");
        assert_int_equal(json_object_size(row), 2);
        assert_int_equal(int_at(row, "id"), (long long)i + 1);
        assert_true(json_is_string(label));
        assert_int_equal(json_string_length(label), strlen(labels[i % nlabels]));
        assert_memory_equal(json_string_value(label), labels[i % nlabels],
                            strlen(labels[i % nlabels]));
    }
}

static const char *const sample_labels[] = {"user_login",      "page_view", "api_call",
                                            "session_timeout", "error_500", "database_query",
                                            "cache_miss"};
#define NSAMPLE (sizeof sample_labels / sizeof sample_labels[0])

static void expect_healthy(json_t *health) {
    expect_keys(health, "status,sqlite_version");
    assert_int_equal(json_object_size(health), 2);
    assert_string_equal(json_string_value(json_object_get(health, "status")), "healthy");
    assert_string_equal(json_string_value(json_object_get(health, "sqlite_version")),
                        sqlite3_libversion());
}

/* The whole summary: keys, rows_inserted, rows, health, the stats that are fixed. */
static json_t *expect_summary(const char *text, long long inserted, long long rows,
                              const char *const *labels, size_t nlabels) {
    json_t *doc = parse_json(text), *st;
    expect_keys(doc, "rows_inserted,rows,health,pool_stats");
    assert_int_equal(json_object_size(doc), 4);
    assert_int_equal(int_at(doc, "rows_inserted"), inserted);
    expect_rows(json_object_get(doc, "rows"), rows, labels, nlabels);
    expect_healthy(json_object_get(doc, "health"));
    st = json_object_get(doc, "pool_stats");
    expect_keys(st, "created,reused,idle,pool_size,peak_in_use");
    assert_int_equal(int_at(st, "created"), 1);
    assert_int_equal(int_at(st, "reused"), 1);
    assert_int_equal(int_at(st, "idle"), 0);
    assert_int_equal(int_at(st, "peak_in_use"), 1);
    return doc;
}

static const char expected_sample_head[] = "{\n"
                                           "  \"rows_inserted\": 7,\n"
                                           "  \"rows\": [\n"
                                           "    {\n"
                                           "      \"id\": 1,\n"
                                           "      \"label\": \"user_login\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 2,\n"
                                           "      \"label\": \"page_view\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 3,\n"
                                           "      \"label\": \"api_call\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 4,\n"
                                           "      \"label\": \"session_timeout\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 5,\n"
                                           "      \"label\": \"error_500\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 6,\n"
                                           "      \"label\": \"database_query\"\n"
                                           "    },\n"
                                           "    {\n"
                                           "      \"id\": 7,\n"
                                           "      \"label\": \"cache_miss\"\n"
                                           "    }\n"
                                           "  ],\n"
                                           "  \"health\": {\n"
                                           "    \"status\": \"healthy\",\n"
                                           "    \"sqlite_version\": \"%s\"\n"
                                           "  },\n"
                                           "  \"pool_stats\": {\n"
                                           "    \"created\": 1,\n"
                                           "    \"reused\": 1,\n"
                                           "    \"idle\": 0,\n"
                                           "    \"pool_size\": 5,\n"
                                           "    \"peak_in_use\": 1,\n";

static void test_cli_sample_run(void **state) {
    const char *out = tmp_path(state, "out/summary.json");
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", out));
    char *file, *head;
    json_t *doc;

    expect_status(r, 0);
    file = keep(state, testutil_read_file(out, NULL));
    assert_non_null(file);
    assert_string_equal(r.out, file); /* stdout is a copy of the file */
    doc = expect_summary(file, 7, 7, sample_labels, NSAMPLE);
    assert_int_equal(int_at(json_object_get(doc, "pool_stats"), "pool_size"), 5);
    json_decref(doc);

    head = keep(state, testutil_format(expected_sample_head, sqlite3_libversion()));
    if (strncmp(file, head, strlen(head)) != 0)
        fail_msg("summary layout differs.\nexpected to start with:\n%s\ngot:\n%s", head, file);
    assert_true(strlen(file) > 7);
    assert_string_equal(file + strlen(file) - 7, "\n  }\n}\n");
    expect_no_temp_files(tmp_path(state, "out"));
}

/* The whole document is laid out as json.dumps(indent=2) lays it out: re-serialising the
 * parsed document with two-space indentation and ": " / "," separators gives the same text
 * (jansson's JSON_INDENT(2) produces that layout for ASCII-only documents). */
static void test_cli_sample_layout_is_python_indent2(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet"));
    char *file, *redump, *expected;
    json_t *doc;
    expect_status(r, 0);
    file = keep(state, testutil_read_file(out, NULL));
    assert_non_null(file);
    doc = parse_json(file);
    redump = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    assert_non_null(redump);
    expected = keep(state, testutil_format("%s\n", redump));
    free(redump);
    json_decref(doc);
    if (strcmp(file, expected) != 0)
        fail_msg("layout differs from indent=2:\n%s\nvs\n%s", file, expected);
}

static void test_cli_empty_input(void **state) {
    const char *in = tmp_path(state, "empty.txt");
    const char *out = tmp_path(state, "summary.json");
    run_result r;
    char *file;
    json_t *doc;
    testutil_write_file(in, "\n  \n", 4);
    r = run(state, ARGS("--input", in, "--output", out, "--quiet"));
    expect_status(r, 0);
    file = keep(state, testutil_read_file(out, NULL));
    assert_non_null(file);
    doc = expect_summary(file, 0, 0, sample_labels, 1);
    json_decref(doc);
    expect_contains(file, "{\n  \"rows_inserted\": 0,\n  \"rows\": [],\n  \"health\": {\n");
}

static void test_cli_defaults_from_cwd(void **state) {
    fixture *fx = *state;
    const char *data = tmp_path(state, "data");
    char *sample;
    size_t len;
    run_result r;
    json_t *doc;
    assert_int_equal(mkdir(data, 0777), 0);
    sample = testutil_read_file(SAMPLE, &len);
    assert_non_null(sample);
    testutil_write_file(tmp_path(state, "data/sample_input.txt"), sample, len);
    free(sample);
    r = run_in(state, fx->dir, ARGS("run"));
    expect_status(r, 0);
    expect_file_content(tmp_path(state, "data/output_summary.json"), r.out);
    doc = expect_summary(r.out, 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
}

static void test_cli_pool_size_reported(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r =
        run(state, ARGS("--input", SAMPLE, "--output", out, "--pool-size", "3", "--quiet"));
    json_t *doc;
    expect_status(r, 0);
    doc = expect_summary(keep(state, testutil_read_file(out, NULL)), 7, 7, sample_labels, NSAMPLE);
    assert_int_equal(int_at(json_object_get(doc, "pool_stats"), "pool_size"), 3);
    json_decref(doc);
}

static void test_cli_output_parents_created(void **state) {
    const char *out = tmp_path(state, "a/b/c/summary.json");
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet"));
    struct stat sb;
    expect_status(r, 0);
    assert_int_equal(stat(out, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    expect_no_temp_files(tmp_path(state, "a/b/c"));
}

/* A failed run leaves no trace: folders made for its output are removed again, while a
 * folder that already existed stays. */
static void test_cli_failed_run_removes_made_folders(void **state) {
    const char *in = tmp_path(state, "bad.txt");
    static const char data[] = "ok\nbad\xff\n";
    run_result r;
    testutil_write_file(in, data, sizeof data - 1);
    r = run(state, ARGS("--input", in, "--output", tmp_path(state, "x/y/z/summary.json")));
    expect_failure(r, 65, "line 2", "UTF-8");
    expect_absent(tmp_path(state, "x"));
    assert_int_equal(mkdir(tmp_path(state, "kept"), 0777), 0);
    r = run(state, ARGS("--input", in, "--output", tmp_path(state, "kept/new/summary.json")));
    expect_failure(r, 65, "line 2", "UTF-8");
    expect_absent(tmp_path(state, "kept/new"));
    assert_int_equal(access(tmp_path(state, "kept"), F_OK), 0);
}

/* A flag never swallows the next flag as its value. */
static void test_cli_flag_does_not_swallow_flag(void **state) {
    run_result r = run(state, ARGS("run", "--input", "--quiet"));
    expect_failure(r, 64, "--input", "needs a value");
    expect_absent("--quiet");
}

static void test_cli_replaces_existing_output(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r;
    testutil_write_file(out, SENTINEL, strlen(SENTINEL));
    r = run(state, ARGS("--input", SAMPLE, "--output", out));
    expect_status(r, 0);
    expect_file_content(out, r.out);
}

static void test_cli_quiet_prints_nothing(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r = run(state, ARGS("run", "--quiet", "--input", SAMPLE, "--output", out));
    json_t *doc;
    expect_status(r, 0);
    assert_string_equal(r.out, "");
    doc = expect_summary(keep(state, testutil_read_file(out, NULL)), 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
}

static void test_cli_logs_on_stderr(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet"));
    const char *line;
    expect_status(r, 0);
    if (!matches("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} \\| INFO \\| "
                 "pool_create total=1 reused=0$",
                 r.err))
        fail_msg("no pool_create log line on stderr:\n%s", r.err);
    /* Every stderr line is a log line. */
    for (line = r.err; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        char copy[2048];
        size_t len;
        assert_non_null(nl);
        len = (size_t)(nl - line);
        assert_true(len < sizeof copy);
        memcpy(copy, line, len);
        copy[len] = '\0';
        if (!matches(LOG_LINE_RE, copy)) fail_msg("not a log line: '%s'", copy);
        line = nl + 1;
    }
}

static void test_cli_log_level_error_silences_info(void **state) {
    const char *out = tmp_path(state, "summary.json");
    run_result r =
        run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet", "--log-level", "error"));
    expect_status(r, 0);
    assert_string_equal(r.err, "");
    r = run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet", "--log-level=warning"));
    expect_status(r, 0);
    assert_null(strstr(r.err, "| INFO |"));
}

static void test_cli_file_db_second_run(void **state) {
    const char *db = tmp_path(state, "events.db");
    const char *out = tmp_path(state, "summary.json");
    run_result r;
    json_t *doc;
    r = run(state, ARGS("--input", SAMPLE, "--output", out, "--db", db, "--quiet"));
    expect_status(r, 0);
    doc = expect_summary(keep(state, testutil_read_file(out, NULL)), 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
    r = run(state, ARGS("--input", SAMPLE, "--output", out, "--db", db));
    expect_status(r, 0);
    doc = expect_summary(r.out, 7, 14, sample_labels, NSAMPLE);
    json_decref(doc);
    expect_file_content(out, r.out);
}

static const char tricky_input[] = "say \"hi\"\n"
                                   "back\\slash\n"
                                   "caf\xc3\xa9\n"
                                   "\xf0\x9f\x98\x80 emoji\n"
                                   "'); DROP TABLE events;--\n"
                                   "\xe6\x97\xa5\xe6\x9c\xac\n"
                                   "tab\tinside\n"
                                   "slash/and\\u0041\n";
static const char *const tricky_labels[] = {"say \"hi\"",
                                            "back\\slash",
                                            "caf\xc3\xa9",
                                            "\xf0\x9f\x98\x80 emoji",
                                            "'); DROP TABLE events;--",
                                            "\xe6\x97\xa5\xe6\x9c\xac",
                                            "tab\tinside",
                                            "slash/and\\u0041"};
#define NTRICKY (sizeof tricky_labels / sizeof tricky_labels[0])

static char *run_tricky(void **state) {
    const char *in = tmp_path(state, "tricky.txt");
    const char *out = tmp_path(state, "summary.json");
    const char *db = tmp_path(state, "tricky.db");
    run_result r;
    testutil_write_file(in, tricky_input, sizeof tricky_input - 1);
    r = run(state, ARGS("--input", in, "--output", out, "--db", db));
    expect_status(r, 0);
    expect_file_content(out, r.out);
    return r.out;
}

static void test_cli_labels_verbatim(void **state) {
    char *text = run_tricky(state);
    json_t *doc =
        expect_summary(text, (long long)NTRICKY, (long long)NTRICKY, tricky_labels, NTRICKY);
    json_decref(doc);
    /* ensure_ascii: nothing but ASCII in the document. */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p >= 0x80) fail_msg("non-ASCII byte 0x%02x at offset %td", *p, (const char *)p - text);
    expect_contains(text, "\"label\": \"say \\\"hi\\\"\"\n");
    expect_contains(text, "\"label\": \"back\\\\slash\"\n");
    expect_contains(text, "\"label\": \"'); DROP TABLE events;--\"\n");
    expect_contains(text, "\"label\": \"tab\\tinside\"\n");
    expect_contains(text, "\"label\": \"slash/and\\\\u0041\"\n");
}

/* Python's json.dumps(ensure_ascii=True) writes \u escapes with lower-case hex digits. */
static void test_cli_non_ascii_escaped_like_python(void **state) {
    char *text = run_tricky(state);
    expect_contains(text, "\"label\": \"caf\\u00e9\"\n");
    expect_contains(text, "\"label\": \"\\ud83d\\ude00 emoji\"\n");
    expect_contains(text, "\"label\": \"\\u65e5\\u672c\"\n");
}

static void test_cli_missing_input(void **state) {
    const char *in = tmp_path(state, "no-such-input.txt");
    expect_failure_twice(state,
                         ARGS("--input", in, "--output", tmp_path(state, "out/summary.json")), 66,
                         in, "No such file");
}

static void test_cli_unreadable_input(void **state) {
    const char *in = tmp_path(state, "secret.txt");
    const char *out = tmp_path(state, "out/summary.json");
    testutil_write_file(in, "a\n", 2);
    assert_int_equal(chmod(in, 0), 0);
    if (access(in, R_OK) == 0) {
        /* Root ignores mode 000: the run reads the file. Only that assertion is skipped. */
        run_result r = run(state, ARGS("--input", in, "--output", out, "--quiet"));
        expect_status(r, 0);
        skip();
    }
    expect_failure_twice(state, ARGS("--input", in, "--output", out), 66, in, "Permission denied");
}

static void test_cli_folder_input(void **state) {
    fixture *fx = *state;
    expect_failure_twice(state,
                         ARGS("--input", fx->dir, "--output", tmp_path(state, "out/summary.json")),
                         66, fx->dir, "folder");
}

static void test_cli_invalid_utf8_line_three(void **state) {
    const char *in = tmp_path(state, "bad.txt");
    static const char data[] = "first\nsecond\nthi\xc3(rd\nfourth\n";
    testutil_write_file(in, data, sizeof data - 1);
    expect_failure_twice(state,
                         ARGS("--input", in, "--output", tmp_path(state, "out/summary.json")), 65,
                         "line 3", "UTF-8");
}

static void test_cli_nul_byte(void **state) {
    const char *in = tmp_path(state, "nul.txt");
    static const char data[] = "first\nsec\0ond\n";
    testutil_write_file(in, data, sizeof data - 1);
    expect_failure_twice(state,
                         ARGS("--input", in, "--output", tmp_path(state, "out/summary.json")), 65,
                         "line 2", "NUL");
}

static void test_cli_unknown_flag(void **state) {
    expect_failure_twice(
        state, ARGS("--input", SAMPLE, "--output", tmp_path(state, "out/summary.json"), "--bogus"),
        64, "--bogus", NULL);
}

static void test_cli_pool_size_invalid(void **state) {
    static const char *const bad[] = {"0", "-3", "abc", "5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char quoted[16];
        (void)snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        expect_failure_twice(state,
                             ARGS("--input", SAMPLE, "--output",
                                  tmp_path(state, "out/summary.json"), "--pool-size", bad[i]),
                             64, "--pool-size", quoted);
        testutil_rmtree(tmp_path(state, "out"));
    }
}

static void test_cli_output_under_regular_file(void **state) {
    const char *blocker = tmp_path(state, "blocker");
    const char *out = tmp_path(state, "blocker/sub/summary.json");
    testutil_write_file(blocker, "keep\n", 5);
    expect_failure(run(state, ARGS("--input", SAMPLE, "--output", out)), 73, "blocker", "output");
    expect_file_content(blocker, "keep\n");
}

static void test_cli_output_is_folder(void **state) {
    const char *out = tmp_path(state, "taken");
    DIR *d;
    struct dirent *e;
    assert_int_equal(mkdir(out, 0777), 0);
    expect_failure(run(state, ARGS("--input", SAMPLE, "--output", out)), 73, "taken", "folder");
    d = opendir(out);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("'%s' appeared in the output folder", e->d_name);
    closedir(d);
    expect_no_temp_files(((fixture *)*state)->dir);
}

static void test_cli_db_is_text_file(void **state) {
    const char *db = tmp_path(state, "notes.txt");
    testutil_write_file(db, NOT_A_DB, strlen(NOT_A_DB));
    expect_failure_twice(
        state, ARGS("--input", SAMPLE, "--output", tmp_path(state, "out/summary.json"), "--db", db),
        69, "not a database", NULL);
    expect_file_content(db, NOT_A_DB);
}

static void test_cli_db_in_missing_folder(void **state) {
    const char *db = tmp_path(state, "nowhere/events.db");
    expect_failure_twice(
        state, ARGS("--input", SAMPLE, "--output", tmp_path(state, "out/summary.json"), "--db", db),
        69, "does not exist", NULL);
    expect_absent(tmp_path(state, "nowhere"));
}

/* Each escape reads one way in what the CLI writes: a backslash in a path is \\ and a C1
 * control in UTF-8 (U+009B, a terminal's CSI) \u009b, in its own lines (run_start) and in the
 * library's words it passes on (the error line, connect_failed), escaped once: the text
 * "\x0a" in a name never reads as a newline, and is never escaped twice. */
static void test_cli_escapes_backslash_and_c1_once(void **state) {
    const char *in = tmp_path(state, "in\\x1b\xc2\x9b.txt");
    const char *db = tmp_path(state, "new\\x0a\xc2\x9b/events.db");
    run_result r;
    int logged = 0;
    testutil_write_file(in, "a\n", 2);
    r = run(state, ARGS("--input", in, "--output", tmp_path(state, "out.json"), "--db", db,
                        "--log-level", "info"));
    expect_status(r, 69);
    expect_one_error_line(r.err, "new\\\\x0a\\u009b/events.db'",
                          "new\\\\x0a\\u009b' does not exist");
    expect_contains(r.err, "input=");
    expect_contains(r.err, "/in\\\\x1b\\u009b.txt");
    if (strstr(r.err, "\xc2\x9b") != NULL || strstr(r.err, "\\\\\\\\") != NULL ||
        strstr(r.err, "\\\\u009b") != NULL)
        fail_msg("raw or twice-escaped text on stderr: %s", r.err);
    for (const char *p = r.err; (p = strstr(p, "connect_failed")) != NULL; p++) {
        const char *name = strstr(p, "new\\\\x0a\\u009b/events.db"), *eol = strchr(p, '\n');
        logged += name != NULL && (eol == NULL || name < eol);
    }
    if (logged == 0) fail_msg("no connect_failed line names the database: %s", r.err);
}

static void test_cli_db_is_folder(void **state) {
    const char *db = tmp_path(state, "dbdir");
    assert_int_equal(mkdir(db, 0777), 0);
    expect_failure_twice(
        state, ARGS("--input", SAMPLE, "--output", tmp_path(state, "out/summary.json"), "--db", db),
        69, "dbdir", "folder");
}

/* The number of rows in events; 0 when the table does not exist. */
static long long count_events(const char *db_path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK) {
        expect_contains(sqlite3_errmsg(db), "no such table");
        n = 0;
    } else {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_cli_failed_run_inserts_nothing(void **state) {
    const char *db = tmp_path(state, "events.db");
    const char *bad = tmp_path(state, "bad.txt");
    const char *out = tmp_path(state, "out/summary.json");
    struct stat sb;
    static const char data[] = "one\ntwo\nthree\nfour\xff\n";
    testutil_write_file(bad, data, sizeof data - 1);
    expect_failure(run(state, ARGS("--input", bad, "--output", out, "--db", db)), 65, "line 4",
                   NULL);
    expect_absent(out);
    if (stat(db, &sb) == 0) assert_int_equal(count_events(db), 0);

    /* After a good run, a bad one leaves the 7 rows as they were. */
    expect_status(run(state, ARGS("--input", SAMPLE, "--output", out, "--db", db, "--quiet")), 0);
    assert_int_equal(count_events(db), 7);
    expect_failure(run(state, ARGS("--input", bad, "--output", out, "--db", db)), 65, "line 4",
                   NULL);
    assert_int_equal(count_events(db), 7);
}

static void test_cli_help(void **state) {
    run_result r = run(state, ARGS("--help"));
    expect_status(r, 0);
    assert_int_equal(strncmp(r.out, "Usage: sqlpool", 14), 0);
    expect_contains(r.out, "--pool-size");
    expect_contains(r.out, "Exit status");
    assert_string_equal(r.err, "");
    r = run(state, ARGS("health", "--help"));
    expect_status(r, 0);
    assert_int_equal(strncmp(r.out, "Usage: sqlpool", 14), 0);
}

static void test_cli_version(void **state) {
    run_result r = run(state, ARGS("--version"));
    expect_status(r, 0);
    /* The version first, on its own line; then what it was built with. */
    assert_true(strncmp(r.out, "sqlpool " SQLPOOL_VERSION "\n", strlen(SQLPOOL_VERSION) + 9) == 0);
    expect_contains(r.out, "SQLite ");
    expect_contains(r.out, sqlite3_libversion());
    assert_string_equal(r.err, "");
}

/* Each --NAME that a --help text lists (lines starting "  --"), each once, into names. */
static size_t help_options(const char *help, char names[][32], size_t n, size_t max) {
    for (const char *line = help; line != NULL && *line != '\0'; line = strchr(line, '\n')) {
        size_t len;
        int seen = 0;
        line += *line == '\n';
        if (strncmp(line, "  --", 4) != 0) continue;
        len = strspn(line + 4, "abcdefghijklmnopqrstuvwxyz-");
        assert_true(len > 0 && len < 32);
        assert_true(n < max);
        memcpy(names[n], line + 4, len);
        names[n][len] = '\0';
        for (size_t k = 0; k < n; k++)
            seen |= strcmp(names[k], names[n]) == 0; /* run's and bench's --db, ... */
        n += !seen;
    }
    return n;
}

/* Every option of sqlpool --help and sqlpool bench --help is in sqlpool(1) (as \-\-name),
 * the README's synopsis (all but --help and --version) and the bash completion. */
static void test_cli_docs_name_every_option(void **state) {
    run_result help = run(state, ARGS("--help")), bench = run(state, ARGS("bench", "--help"));
    char *man = keep(state, testutil_read_file(SQLPOOL_SOURCE_DIR "/docs/man/sqlpool.1", NULL));
    char *readme = keep(state, testutil_read_file(SQLPOOL_SOURCE_DIR "/README.md", NULL));
    char *bash =
        keep(state, testutil_read_file(SQLPOOL_SOURCE_DIR "/completions/sqlpool.bash", NULL));
    char names[64][32], *synopsis, *end;
    size_t n;
    expect_status(help, 0);
    expect_status(bench, 0);
    assert_non_null(man);
    assert_non_null(readme);
    assert_non_null(bash);
    synopsis = strstr(readme, "## The command line\n\n```\n");
    assert_non_null(synopsis);
    end = strstr(synopsis + 26, "```");
    assert_non_null(end);
    *end = '\0';
    n = help_options(help.out, names, 0, 64);
    n = help_options(bench.out, names, n, 64);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        char roff[80] = "\\-\\-", flag[40] = "--";
        for (const char *p = names[i]; *p; p++)
            strcat(roff, *p == '-' ? "\\-" : (char[]){*p, '\0'});
        strcat(flag, names[i]);
        if (strstr(man, roff) == NULL) fail_msg("sqlpool(1) does not describe %s", flag);
        if (strstr(bash, flag) == NULL) fail_msg("the bash completion does not offer %s", flag);
        if (strcmp(names[i], "help") != 0 && strcmp(names[i], "version") != 0 &&
            strstr(synopsis, flag) == NULL)
            fail_msg("the README's synopsis does not show %s", flag);
    }
}

/* run's and health's PostgreSQL-only flags on a SQLite --db: exit 64, one line naming the
 * flag, no output written. */
static void test_cli_pg_only_flags_refused_for_sqlite(void **state) {
    static const char *const flags[][2] = {{"--pg-unnamed-statements", NULL},
                                           {"--pg-reset-query", "DISCARD ALL"},
                                           {"--statement-timeout", "5"},
                                           {"--read-db", "host=standby"}};
    const char *out = tmp_path(state, "pgonly.json");
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        run_result r =
            flags[i][1] != NULL
                ? run(state, ARGS("run", "--quiet", "--output", out, "--db", "x.db", flags[i][0],
                                  flags[i][1]))
                : run(state, ARGS("run", "--quiet", "--output", out, "--db", "x.db", flags[i][0]));
        expect_status(r, 64);
        expect_contains(r.err, flags[i][0]);
        expect_contains(r.err, "is for PostgreSQL");
        assert_string_equal(r.out, "");
        expect_absent(out);
        if (i == 3) continue; /* --read-db is run's alone */
        r = flags[i][1] != NULL ? run(state, ARGS("health", flags[i][0], flags[i][1]))
                                : run(state, ARGS("health", flags[i][0]));
        expect_status(r, 64);
        expect_contains(r.err, "is for PostgreSQL");
    }
    expect_status(run(state, ARGS("health", "--read-db", "host=standby")), 64);
    expect_status(run(state, ARGS("run", "--db", "x.db", "--statement-timeout", "-1")), 64);
    expect_status(run(state, ARGS("run", "--db", "x.db", "--pg-unnamed-statements=yes")), 64);
    expect_status(run(state, ARGS("run", "--db", "x.db", "--pg-reset-query", "")), 64);
}

static void test_cli_health_file_db(void **state) {
    const char *db = tmp_path(state, "health.db");
    run_result r = run(state, ARGS("health", "--db", db));
    json_t *doc;
    /* A check never creates what it checks: a missing database is unreachable. */
    expect_status(r, 2);
    doc = parse_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "unreachable");
    expect_contains(json_string_value(json_object_get(doc, "error")), "does not exist");
    json_decref(doc);
    expect_absent(db);
    r = run(state, ARGS("run", "--quiet", "--db", db, "--input", SAMPLE, "--output",
                        tmp_path(state, "out.json")));
    expect_status(r, 0);
    r = run(state, ARGS("health", "--db", db));
    expect_status(r, 0);
    doc = parse_json(r.out);
    expect_healthy(doc);
    json_decref(doc);
    r = run(state, ARGS("health"));
    expect_status(r, 0);
    doc = parse_json(r.out);
    expect_healthy(doc);
    json_decref(doc);
}

static void test_cli_health_unreachable(void **state) {
    const char *db = tmp_path(state, "nowhere/events.db");
    run_result r = run(state, ARGS("health", "--db", db));
    json_t *doc;
    expect_status(r, 2);
    doc = parse_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "unreachable");
    expect_contains(json_string_value(json_object_get(doc, "error")), "does not exist");
    json_decref(doc);
    expect_absent(tmp_path(state, "nowhere"));
}

/* Start the CLI with stdout on out_fd (-1: /dev/null), stdin and stderr on /dev/null;
 * with SIGPIPE ignored when asked (an ignored disposition survives exec). */
static pid_t spawn_cli(const char *const *args, int out_fd) {
    size_t argc = 0;
    const char **argv;
    pid_t pid;
    while (args[argc] != NULL)
        argc++;
    argv = calloc(argc + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = SQLPOOL_CLI_PATH;
    memcpy(argv + 1, args, argc * sizeof *argv);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0) _exit(127);
        (void)dup2(null, 0);
        (void)dup2(out_fd >= 0 ? out_fd : null, 1);
        (void)dup2(null, 2);
        execv(SQLPOOL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    return pid;
}

static int wait_cli(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the output file: write failures, links, devices, modes, signals ---- */

/* A fresh file database holding the sample's 7 rows. */
static const char *sample_db(void **state, const char *name) {
    const char *db = tmp_path(state, name);
    expect_status(run(state, ARGS("--input", SAMPLE, "--output", tmp_path(state, "first.json"),
                                  "--db", db, "--quiet")),
                  0);
    assert_int_equal(count_events(db), 7);
    return db;
}

/* The rows stay uncommitted until they are in the output: a failed write leaves the
 * database as it was, so a retry does not duplicate them. */
static void test_cli_output_write_failure_commits_nothing(void **state) {
    const char *db = sample_db(state, "events.db");
    run_result r =
        run(state, ARGS("--input", SAMPLE, "--output", "/dev/full", "--db", db, "--quiet"));
    expect_failure(r, 74, "/dev/full", "No space left");
    assert_int_equal(count_events(db), 7);
}

/* Read fd until text holding needle has arrived (or the end); then close it. */
static void read_until(int fd, const char *needle) {
    char buf[65536];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof buf - 1 && (n = read(fd, buf + used, sizeof buf - 1 - used)) > 0) {
        used += (size_t)n;
        buf[used] = '\0';
        if (strstr(buf, needle) != NULL) break;
    }
    close(fd);
}

/* A failure after the COMMIT (here the tail cannot be written: the FIFO's reader left once
 * the rows arrived) deletes this run's rows again. Should the tail get in before the reader
 * leaves, the run succeeds, and the attempt is repeated. The CLI starts with SIGPIPE at its
 * default action, as from a shell: it must ignore it itself, or it dies before the undo. */
static void test_cli_failure_after_commit_deletes_rows(void **state) {
    const char *db = sample_db(state, "events.db");
    const char *fifo = tmp_path(state, "pipe.json");
    assert_int_equal(mkfifo(fifo, 0666), 0);
    for (int attempt = 0; attempt < 20; attempt++) {
        long long before = count_events(db);
        pid_t pid = spawn_cli(ARGS("--input", SAMPLE, "--output", fifo, "--db", db, "--quiet",
                                   "--log-level", "error"),
                              -1);
        int fd = open(fifo, O_RDONLY), status;
        assert_true(fd >= 0);
        read_until(fd, "\n  ],\n");
        status = wait_cli(pid);
        if (status == 0) continue;
        assert_int_equal(status, 74);
        assert_int_equal(count_events(db), before);
        return;
    }
    fail_msg("the tail was always written before the reader left");
}

/* A run that fails on a database path that did not exist leaves no database behind. */
static void test_cli_failed_run_leaves_new_db_empty(void **state) {
    const char *in = tmp_path(state, "bad.txt");
    const char *db = tmp_path(state, "new.db");
    static const char data[] = "ok\nbad\xff\n";
    testutil_write_file(in, data, sizeof data - 1);
    expect_failure(
        run(state, ARGS("--input", in, "--output", tmp_path(state, "s.json"), "--db", db)), 65,
        "line 2", "UTF-8");
    expect_failure(
        run(state, ARGS("--input", SAMPLE, "--output", "/dev/full", "--db", db, "--quiet")), 74,
        "/dev/full", NULL);
    /* The new database stays (removing it could remove one another run began to use), and
     * holds nothing of the failed runs. */
    assert_int_equal(count_events(db), 0);
}

/* No hidden (temporary) file is left in dir. */
static void expect_no_hidden_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("temporary file '%s/%s' left behind", dir, e->d_name);
    closedir(d);
}

static void expect_symlink(const char *path) {
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    if (!S_ISLNK(sb.st_mode)) fail_msg("'%s' is no longer a symbolic link", path);
}

/* A link is written through: its target is replaced, the link stays a link. */
static void test_cli_output_symlink_written_through(void **state) {
    const char *link = tmp_path(state, "link.json");
    const char *target = tmp_path(state, "t/real.json");
    run_result r;
    assert_int_equal(mkdir(tmp_path(state, "t"), 0777), 0);
    testutil_write_file(target, SENTINEL, strlen(SENTINEL));
    assert_int_equal(symlink("t/real.json", link), 0);
    r = run(state, ARGS("--input", SAMPLE, "--output", link));
    expect_status(r, 0);
    expect_symlink(link);
    expect_file_content(target, r.out);
    expect_no_hidden_files(((fixture *)*state)->dir);
    expect_no_hidden_files(tmp_path(state, "t"));
}

static void test_cli_output_dangling_symlink(void **state) {
    const char *link = tmp_path(state, "link.json");
    assert_int_equal(symlink("missing/real.json", link), 0);
    expect_failure(run(state, ARGS("--input", SAMPLE, "--output", link)), 73, "link.json",
                   "symbolic link");
    expect_symlink(link);
    expect_absent(tmp_path(state, "missing"));
    expect_no_hidden_files(((fixture *)*state)->dir);
}

/* /dev/stdout (a link to /proc/self/fd/1, here a pipe) is written directly, and the JSON
 * arrives once, with or without --quiet: output and stdout are the same file. */
static void test_cli_output_dev_stdout(void **state) {
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", "/dev/stdout", "--quiet"));
    json_t *doc;
    expect_status(r, 0);
    doc = expect_summary(r.out, 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
    r = run(state, ARGS("--input", SAMPLE, "--output", "/dev/stdout"));
    expect_status(r, 0);
    doc = expect_summary(r.out, 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
    expect_symlink("/dev/stdout");
}

/* Run with stdout on a regular file; returns what the file received. */
static char *run_to_file(void **state, const char *const *args) {
    const char *captured = tmp_path(state, "captured.txt");
    int fd = open(captured, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    assert_true(fd >= 0);
    pid = spawn_cli(args, fd);
    close(fd);
    assert_int_equal(wait_cli(pid), 0);
    return keep(state, testutil_read_file(captured, NULL));
}

/* An output linked to our own stdout, a regular file: written directly, never renamed over
 * (which would lose the output and replace the link). */
static void test_cli_output_link_to_own_stdout_file(void **state) {
    const char *link = tmp_path(state, "self.json");
    json_t *doc;
    assert_int_equal(symlink("/proc/self/fd/1", link), 0);
    doc = expect_summary(run_to_file(state, ARGS("--input", SAMPLE, "--output", link, "--quiet")),
                         7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
    doc = expect_summary(run_to_file(state, ARGS("--input", SAMPLE, "--output", link)), 7, 7,
                         sample_labels, NSAMPLE);
    json_decref(doc);
    expect_symlink(link);
}

/* A device is written directly; the summary still comes out on stdout unless --quiet. */
static void test_cli_device_output_copied_to_stdout(void **state) {
    run_result r = run(state, ARGS("--input", SAMPLE, "--output", "/dev/null"));
    json_t *doc;
    expect_status(r, 0);
    doc = expect_summary(r.out, 7, 7, sample_labels, NSAMPLE);
    json_decref(doc);
    r = run(state, ARGS("--input", SAMPLE, "--output", "/dev/null", "--quiet"));
    expect_status(r, 0);
    assert_string_equal(r.out, "");
}

static void test_cli_replace_keeps_mode(void **state) {
    const char *out = tmp_path(state, "summary.json");
    struct stat sb;
    testutil_write_file(out, SENTINEL, strlen(SENTINEL));
    assert_int_equal(chmod(out, 0600), 0);
    expect_status(run(state, ARGS("--input", SAMPLE, "--output", out, "--quiet")), 0);
    assert_int_equal(stat(out, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_not_equal(sb.st_size, (off_t)strlen(SENTINEL));
}

/* The output naming the database (or one of its files) is refused before anything is
 * touched. */
static void test_cli_output_is_the_database(void **state) {
    const char *db = sample_db(state, "events.db");
    const char *link = tmp_path(state, "link.db");
    const char *const outputs[] = {db, link, tmp_path(state, "events.db-wal"),
                                   tmp_path(state, "sub/../events.db-shm"),
                                   tmp_path(state, "events.db-journal")};
    assert_int_equal(symlink("events.db", link), 0);
    assert_int_equal(mkdir(tmp_path(state, "sub"), 0777), 0);
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        expect_failure(run(state, ARGS("--input", SAMPLE, "--output", outputs[i], "--db", db)), 64,
                       outputs[i], "database");
        assert_int_equal(count_events(db), 7);
    }
    expect_absent(tmp_path(state, "events.db-journal"));
    db = tmp_path(state, "new.db");
    expect_failure(run(state, ARGS("--input", SAMPLE, "--output", db, "--db", db)), 64, db,
                   "database");
    expect_absent(db);
}

/* True when dir holds a file whose name starts with prefix. */
static int has_file_starting(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (d == NULL) return 0;
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return found;
}

/* A signal mid-run removes the temporary file and the folders made for it, then the
 * program dies of that signal. */
static void test_cli_signal_removes_temp_file(void **state) {
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    const char *in = tmp_path(state, "big.txt");
    const char *out = tmp_path(state, "made/sub/summary.json");
    const char *sub = tmp_path(state, "made/sub");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < 300000; i++)
        assert_true(fprintf(f, "label_%d\n", i) > 0);
    assert_int_equal(fclose(f), 0);
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct timespec ms = {0, 1000000};
        pid_t pid = spawn_cli(ARGS("--input", in, "--output", out, "--quiet"), -1);
        int waited = 0;
        while (!has_file_starting(sub, ".summary.json.")) {
            if (++waited > 20000) fail_msg("no temporary file appeared in '%s'", sub);
            nanosleep(&ms, NULL);
        }
        assert_int_equal(kill(pid, sigs[k]), 0);
        assert_int_equal(wait_cli(pid), 128 + sigs[k]);
        expect_absent(tmp_path(state, "made"));
    }
}

/* ---- labels the database refuses, bytes Python escapes ---- */

static void exec_sql(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* A label the database refuses (here a CHECK constraint) is bad data on a named line. */
static void test_cli_refused_label_is_bad_data(void **state) {
    const char *db = tmp_path(state, "checked.db");
    const char *in = tmp_path(state, "in.txt");
    static const char data[] = "short\n\nthis label is too long\nok\n";
    exec_sql(db, "CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL "
                 "CHECK (length(label) <= 10))");
    testutil_write_file(in, data, sizeof data - 1);
    expect_failure(
        run(state, ARGS("--input", in, "--output", tmp_path(state, "s.json"), "--db", db)), 65,
        "line 3", "constraint");
    assert_int_equal(count_events(db), 0);
}

/* On SQLite 3.34 (the oldest supported, simulated by a preloaded shim: no pragma_table_list,
 * which came in 3.37) a user's events table is still checked, from sqlite_master: a fitting
 * one is written to, a view, a WITHOUT ROWID table and a virtual one are refused by name. */
static void test_cli_foreign_schema_on_sqlite_3_34(void **state) {
#ifdef SQLPOOL_OLDSQLITE_PATH
    static const struct {
        const char *ddl, *why;
    } refused[] = {
        {"CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
         "CREATE VIEW events AS SELECT * FROM t",
         "events is a view, not a table"},
        {"CREATE TABLE events (id INTEGER PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID",
         "it is WITHOUT ROWID"},
        {"CREATE VIRTUAL TABLE events USING fts5(id, label)", "events is a virtual table"},
    };
    const char *in = tmp_path(state, "in.txt");
    const char *db = tmp_path(state, "fits.db");
    run_result r;
    testutil_write_file(in, "007\n", 4);
    exec_sql(db, "CREATE TABLE events (id INTEGER PRIMARY KEY, label VARCHAR(9) NOT NULL, "
                 "note TEXT NOT NULL DEFAULT '')");
    assert_int_equal(setenv("LD_PRELOAD", SQLPOOL_OLDSQLITE_PATH, 1), 0);
    r = run(state,
            ARGS("--input", in, "--output", tmp_path(state, "s.json"), "--db", db, "--quiet"));
    expect_status(r, 0);
    assert_int_equal(count_events(db), 1);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *name = testutil_format("old%zu.db", i);
        const char *path = tmp_path(state, name);
        free(name);
        exec_sql(path, refused[i].ddl);
        expect_failure(
            run(state, ARGS("--input", in, "--output", tmp_path(state, "s.json"), "--db", path)),
            65, "cannot give back the labels exactly", refused[i].why);
    }
    (void)unsetenv("LD_PRELOAD");
#else
    (void)state;
    skip(); /* a sanitizer build preloads nothing */
#endif
}

/* A copy of the CLI at path (mode 0755), folders made. */
static void copy_cli(const char *path) {
    size_t len;
    char *bin = testutil_read_file(SQLPOOL_CLI_PATH, &len), *dir = testutil_format("%s", path);
    for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        (void)mkdir(dir, 0755);
        *p = '/';
    }
    assert_non_null(bin);
    testutil_write_file(path, bin, len);
    assert_int_equal(chmod(path, 0755), 0);
    free(bin);
    free(dir);
}

/* Run the program at prog as `run --quiet --output out.json` (no --input) in cwd; its exit
 * status, and the summary's text (or "") in *summary (kept for teardown). */
static int run_program_default_input(void **state, const char *prog, const char *cwd,
                                     char **summary) {
    const char *out = tmp_path(state, "elsewhere/out.json");
    pid_t pid;
    int status;
    (void)unlink(out);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || chdir(cwd) != 0) _exit(127);
        (void)dup2(null, 0);
        (void)dup2(null, 1);
        (void)dup2(null, 2);
        execl(prog, prog, "run", "--quiet", "--output", out, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *summary = testutil_read_file(out, NULL);
    if (*summary == NULL) *summary = testutil_format("%s", "");
    keep(state, *summary);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Without --input, the sample beside the program (<bin>/../share/sqlpool) is read only by an
 * installed program (in a folder named as the configured bin folder) and only when no one
 * else can have put it there: a build in <tmp>/build never reads <tmp>/share/sqlpool, which
 * any local user could make; an install in <tmp>/p reads its own, unless a folder on the way
 * is writable by anyone. */
static void test_cli_sample_beside_program_only_when_installed(void **state) {
    const char *elsewhere = tmp_path(state, "elsewhere");
    const char *build = tmp_path(state, "build/sqlpool"), *inst = tmp_path(state, "p/bin/sqlpool");
    const char *planted = tmp_path(state, "share/sqlpool/sample_input.txt");
    const char *own = tmp_path(state, "p/share/sqlpool/sample_input.txt");
    char *summary;
    assert_int_equal(mkdir(elsewhere, 0755), 0);
    copy_cli(build);
    copy_cli(inst);
    copy_cli(planted); /* makes the folders; the content is set next */
    copy_cli(own);
    testutil_write_file(planted, "planted_label\n", 14);
    testutil_write_file(own, "installed_label\n", 16);
    assert_int_equal(chmod(planted, 0644), 0);
    assert_int_equal(chmod(own, 0644), 0);

    (void)run_program_default_input(state, build, elsewhere, &summary);
    if (strstr(summary, "planted_label") != NULL) fail_msg("a build read %s", planted);

    assert_int_equal(run_program_default_input(state, inst, elsewhere, &summary), 0);
    expect_contains(summary, "installed_label");

    assert_int_equal(chmod(tmp_path(state, "p/share/sqlpool"), 0777), 0);
    (void)run_program_default_input(state, inst, elsewhere, &summary);
    if (strstr(summary, "installed_label") != NULL)
        fail_msg("the sample was read from a folder anyone may write to");
    assert_int_equal(chmod(tmp_path(state, "p/share/sqlpool"), 0755), 0);
}

/* Python's json.dumps(ensure_ascii=True) escapes DEL as \u007f. */
static void test_cli_del_escaped_like_python(void **state) {
    const char *in = tmp_path(state, "del.txt");
    const char *out = tmp_path(state, "summary.json");
    static const char data[] = "a\x7f"
                               "b\n\x7f\n";
    run_result r;
    testutil_write_file(in, data, sizeof data - 1);
    r = run(state, ARGS("--input", in, "--output", out));
    expect_status(r, 0);
    expect_contains(r.out, "\"label\": \"a\\u007fb\"\n");
    expect_contains(r.out, "\"label\": \"\\u007f\"\n");
    expect_file_content(out, r.out);
}

/* ---- sqlpool health ---- */

/* A rollback-journal database with one table. */
static const char *journal_db(void **state, const char *name) {
    const char *db = tmp_path(state, name);
    exec_sql(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    return db;
}

static char *journal_mode(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *mode;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    mode = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return mode;
}

/* The status field of health's JSON, and the error (if any) containing needle. */
static void expect_health(run_result r, int status, const char *word, const char *needle) {
    json_t *doc;
    expect_status(r, status);
    doc = parse_json(r.out);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), word);
    if (needle != NULL) expect_contains(json_string_value(json_object_get(doc, "error")), needle);
    json_decref(doc);
}

/* A check opens read-only: it never switches a database to WAL. */
static void test_cli_health_keeps_journal_mode(void **state) {
    const char *db = journal_db(state, "journal.db");
    expect_health(run(state, ARGS("health", "--db", db)), 0, "healthy", NULL);
    assert_string_equal(keep(state, journal_mode(db)), "delete");
    expect_absent(tmp_path(state, "journal.db-wal"));
}

/* A file that is there but is not a database is unhealthy (1), not unreachable. */
static void test_cli_health_not_a_database(void **state) {
    const char *db = tmp_path(state, "notes.txt");
    testutil_write_file(db, NOT_A_DB, strlen(NOT_A_DB));
    expect_health(run(state, ARGS("health", "--db", db)), 1, "unhealthy", "not a database");
    expect_file_content(db, NOT_A_DB);
}

/* A database held locked by another process is unhealthy (1): it is there, but busy. */
static void test_cli_health_busy(void **state) {
    const char *path = journal_db(state, "locked.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    expect_health(run(state, ARGS("health", "--db", path, "--timeout", "0", "--retries", "0")), 1,
                  "unhealthy", "locked");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void test_cli_health_permission_denied(void **state) {
    const char *db = journal_db(state, "secret.db");
    assert_int_equal(chmod(db, 0), 0);
    if (access(db, R_OK) == 0) skip(); /* root reads mode 000 files */
    expect_health(run(state, ARGS("health", "--db", db)), 2, "unreachable", NULL);
}

static const struct CMUnitTest tests[] = {
    T(test_cli_sample_run),
    T(test_cli_sample_layout_is_python_indent2),
    T(test_cli_empty_input),
    T(test_cli_defaults_from_cwd),
    T(test_cli_pool_size_reported),
    T(test_cli_output_parents_created),
    T(test_cli_replaces_existing_output),
    T(test_cli_failed_run_removes_made_folders),
    T(test_cli_flag_does_not_swallow_flag),
    T(test_cli_quiet_prints_nothing),
    T(test_cli_logs_on_stderr),
    T(test_cli_log_level_error_silences_info),
    T(test_cli_file_db_second_run),
    T(test_cli_labels_verbatim),
    T(test_cli_non_ascii_escaped_like_python),
    T(test_cli_missing_input),
    T(test_cli_unreadable_input),
    T(test_cli_folder_input),
    T(test_cli_invalid_utf8_line_three),
    T(test_cli_nul_byte),
    T(test_cli_unknown_flag),
    T(test_cli_pool_size_invalid),
    T(test_cli_output_under_regular_file),
    T(test_cli_output_is_folder),
    T(test_cli_db_is_text_file),
    T(test_cli_db_in_missing_folder),
    T(test_cli_escapes_backslash_and_c1_once),
    T(test_cli_db_is_folder),
    T(test_cli_failed_run_inserts_nothing),
    T(test_cli_help),
    T(test_cli_version),
    T(test_cli_docs_name_every_option),
    T(test_cli_pg_only_flags_refused_for_sqlite),
    T(test_cli_health_file_db),
    T(test_cli_health_unreachable),
    T(test_cli_output_write_failure_commits_nothing),
    T(test_cli_failure_after_commit_deletes_rows),
    T(test_cli_failed_run_leaves_new_db_empty),
    T(test_cli_output_symlink_written_through),
    T(test_cli_output_dangling_symlink),
    T(test_cli_output_dev_stdout),
    T(test_cli_output_link_to_own_stdout_file),
    T(test_cli_device_output_copied_to_stdout),
    T(test_cli_replace_keeps_mode),
    T(test_cli_output_is_the_database),
    T(test_cli_signal_removes_temp_file),
    T(test_cli_refused_label_is_bad_data),
    T(test_cli_sample_beside_program_only_when_installed),
    T(test_cli_foreign_schema_on_sqlite_3_34),
    T(test_cli_del_escaped_like_python),
    T(test_cli_health_keeps_journal_mode),
    T(test_cli_health_not_a_database),
    T(test_cli_health_busy),
    T(test_cli_health_permission_denied),
};

SQLPOOL_TEST_MAIN(tests)
