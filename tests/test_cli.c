/* test_cli.c: the sqlpool program end to end: exit codes, messages, the JSON summary. */
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    assert_string_equal(r.out, "sqlpool 0.1.0\n");
    assert_string_equal(r.out + 8, SQLPOOL_VERSION "\n");
    assert_string_equal(r.err, "");
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
    T(test_cli_db_is_folder),
    T(test_cli_failed_run_inserts_nothing),
    T(test_cli_help),
    T(test_cli_version),
    T(test_cli_health_file_db),
    T(test_cli_health_unreachable),
};

SQLPOOL_TEST_MAIN(tests)
