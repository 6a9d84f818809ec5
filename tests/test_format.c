/* test_format.c: sqlpool_stats_format(): JSON and Prometheus text, the buffer contract, the
 * pool name. */
#include "testutil.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* A pool with a cap of one connection, some history (created, reused, discarded, a timed-out
 * wait) and one connection idle; no maintenance thread (nothing expires). */
static sqlpool *open_busy_pool(const char *name, int max_open) {
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    sqlpool_conn *a, *b = NULL;
    sqlpool_config_init(&cfg);
    cfg.name = name;
    cfg.max_open = max_open;
    cfg.min_idle = 0;
    cfg.idle_timeout = 0;
    cfg.max_lifetime = 0;
    cfg.acquire_timeout = 0.02;
    assert_int_equal(sqlpool_open(&cfg, &pool), SQLPOOL_OK);
    a = testutil_acquire(pool);
    sqlpool_discard(a);
    a = testutil_acquire(pool);
    sqlpool_release(a);
    a = testutil_acquire(pool); /* reused */
    if (max_open == 1) assert_int_equal(sqlpool_acquire(pool, &b), SQLPOOL_ETIMEDOUT);
    sqlpool_release(a);
    return pool;
}

/* One connection closed by sqlpool_shrink(), one by sqlpool_close_idle(), each counted
 * under its own reason; one idle again at the end. */
static void add_close_history(sqlpool *pool) {
    assert_int_equal(sqlpool_shrink(pool, 0), 1);
    sqlpool_release(testutil_acquire(pool));
    sqlpool_close_idle(pool);
    sqlpool_release(testutil_acquire(pool));
}

/* The whole text of a format, which must fit in 16 KiB. */
static char *format_text(sqlpool *pool, int format) {
    size_t needed = 0, len = 16384;
    char *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(sqlpool_stats_format(pool, format, buf, len, &needed), SQLPOOL_OK);
    assert_int_equal(strlen(buf), needed);
    return buf;
}

/* ---- JSON ---- */

typedef struct field {
    const char *key;
    int real;
    long long i;
    double d;
} field;

/* The fields of cli/report.c's pool_stats, with their values in st. */
static size_t stats_fields(const sqlpool_stats *st, field *f) {
    field all[] = {
        {"created", 0, st->created, 0},
        {"reused", 0, st->reused, 0},
        {"idle", 0, st->idle, 0},
        {"pool_size", 0, st->max_idle, 0},
        {"peak_in_use", 0, st->peak_in_use, 0},
        {"in_use", 0, st->in_use, 0},
        {"open", 0, st->open, 0},
        {"max_open", 0, st->max_open, 0},
        {"connecting", 0, st->connecting, 0},
        {"waiting", 0, st->waiting, 0},
        {"closed", 0, st->closed, 0},
        {"closed_idle", 0, st->closed_idle, 0},
        {"closed_lifetime", 0, st->closed_lifetime, 0},
        {"closed_broken", 0, st->closed_broken, 0},
        {"closed_max_idle", 0, st->closed_max_idle, 0},
        {"closed_pool", 0, st->closed_pool, 0},
        {"closed_shrink", 0, st->closed_shrink, 0},
        {"closed_close_idle", 0, st->closed_close_idle, 0},
        {"discarded_by_hook", 0, st->discarded_by_hook, 0},
        {"closed_evicted", 0, st->closed_evicted, 0},
        {"discarded", 0, st->discarded, 0},
        {"connect_retries", 0, st->connect_retries, 0},
        {"connect_failures", 0, st->connect_failures, 0},
        {"acquires", 0, st->acquires, 0},
        {"wait_count", 0, st->wait_count, 0},
        {"timeouts", 0, st->timeouts, 0},
        {"wait_seconds", 1, 0, st->wait_seconds},
        {"wait_p50", 1, 0, st->wait_p50},
        {"wait_p90", 1, 0, st->wait_p90},
        {"wait_p99", 1, 0, st->wait_p99},
        {"wait_max", 1, 0, st->wait_max},
        {"checkpoints", 0, st->checkpoints, 0},
        {"checkpoints_busy", 0, st->checkpoints_busy, 0},
        {"wal_peak", 0, st->wal_peak, 0},
        {"closed_role", 0, st->closed_role, 0},
        {"read_fallbacks", 0, st->read_fallbacks, 0},
        {"group_commits", 0, st->group_commits, 0},
        {"grouped", 0, st->grouped, 0},
    };
    memcpy(f, all, sizeof all);
    return sizeof all / sizeof all[0];
}

static void test_format_json_matches_stats(void **state) {
    sqlpool *pool = open_busy_pool("orders-db.main_1", 1);
    sqlpool_stats st;
    char *text;
    json_error_t err;
    json_t *doc;
    field f[48];
    size_t n;
    (void)state;

    add_close_history(pool);
    st = testutil_stats(pool);
    n = stats_fields(&st, f);
    text = format_text(pool, SQLPOOL_FORMAT_JSON);
    doc = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL) fail_msg("JSON does not parse: %s (line %d): %s", err.text, err.line, text);
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "orders-db.main_1");
    assert_int_equal(json_object_size(doc), n + 1);
    /* The history shows, so the comparison means something. */
    assert_int_equal(st.created, 4);
    assert_int_equal(st.discarded, 1);
    assert_int_equal(st.closed_shrink, 1);
    assert_int_equal(st.closed_close_idle, 1);
    assert_int_equal(st.closed_max_idle, 0);
    assert_int_equal(st.timeouts, 1);
    assert_true(st.wait_seconds > 0);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(doc, f[i].key);
        if (v == NULL) fail_msg("JSON has no \"%s\": %s", f[i].key, text);
        if (f[i].real) {
            if (!json_is_real(v)) fail_msg("\"%s\" is not a JSON real: %s", f[i].key, text);
            if (json_real_value(v) != f[i].d)
                fail_msg("\"%s\": %.17g in JSON, %.17g in stats", f[i].key, json_real_value(v),
                         f[i].d);
        } else {
            if (!json_is_integer(v)) fail_msg("\"%s\" is not a JSON integer: %s", f[i].key, text);
            if (json_integer_value(v) != f[i].i)
                fail_msg("\"%s\": %lld in JSON, %lld in stats", f[i].key,
                         (long long)json_integer_value(v), f[i].i);
        }
    }
    json_decref(doc);
    free(text);
    sqlpool_close(pool);
}

/* ---- Prometheus: a parser for the text format ---- */

typedef struct prom_sample {
    char name[128];
    char labels[4][2][64]; /* name, unescaped value */
    int nlabels;
    double value;
} prom_sample;

typedef struct prom {
    char help[32][128], type[32][128], types[32][16];
    int nhelp, ntype;
    prom_sample s[64];
    int n;
} prom;

static int matches(const char *re, const char *s) {
    regex_t rx;
    int ok;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

static const char *family_type(const prom *p, const char *name) {
    for (int i = 0; i < p->ntype; i++)
        if (strcmp(p->type[i], name) == 0) return p->types[i];
    return NULL;
}

static int has_help(const prom *p, const char *name) {
    for (int i = 0; i < p->nhelp; i++)
        if (strcmp(p->help[i], name) == 0) return 1;
    return 0;
}

/* A label value up to its closing quote, unescaping \\, \" and \n (the only escapes the
 * format has); returns the position after the quote. */
static const char *parse_label_value(const char *p, char *out, size_t len, const char *line) {
    size_t n = 0;
    for (; *p != '"'; p++) {
        char c = *p;
        if (c == '\0' || c == '\n') fail_msg("unterminated label value: %s", line);
        if (c == '\\') {
            p++;
            if (*p == 'n')
                c = '\n';
            else if (*p == '\\' || *p == '"')
                c = *p;
            else
                fail_msg("bad escape \\%c in a label value: %s", *p, line);
        }
        assert_true(n + 1 < len);
        out[n++] = c;
    }
    out[n] = '\0';
    return p + 1;
}

static void parse_sample(prom *p, const char *line) {
    prom_sample *s = &p->s[p->n++];
    const char *q = line;
    char *end;
    size_t n = strcspn(q, "{ ");
    assert_true(p->n <= 64);
    assert_true(n < sizeof s->name);
    memcpy(s->name, q, n);
    s->name[n] = '\0';
    q += n;
    if (*q == '{') {
        q++;
        while (*q != '}') {
            char(*l)[64] = s->labels[s->nlabels++];
            assert_true(s->nlabels <= 4);
            n = strcspn(q, "=");
            assert_true(n < 64);
            memcpy(l[0], q, n);
            l[0][n] = '\0';
            if (!matches("^[a-zA-Z_][a-zA-Z0-9_]*$", l[0])) fail_msg("bad label name: %s", line);
            q += n;
            if (q[0] != '=' || q[1] != '"') fail_msg("bad label: %s", line);
            q = parse_label_value(q + 2, l[1], 64, line);
            if (*q == ',') q++;
        }
        q++;
    }
    if (*q != ' ') fail_msg("no value: %s", line);
    s->value = strtod(q + 1, &end);
    if (end == q + 1 || *end != '\0') fail_msg("bad value: %s", line);
}

/* Parse the whole text, checking the line grammar as it goes. */
static void parse_prom(prom *p, char *text) {
    char *save = NULL;
    size_t len = strlen(text);
    memset(p, 0, sizeof *p);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128], word[128];
        if (sscanf(line, "# HELP %127s %127s", name, word) == 2) {
            assert_true(p->nhelp < 32);
            strcpy(p->help[p->nhelp++], name);
        } else if (sscanf(line, "# TYPE %127s %15s", name, word) == 2) {
            assert_true(p->ntype < 32);
            if (family_type(p, name) != NULL) fail_msg("second TYPE for %s", name);
            strcpy(p->type[p->ntype], name);
            strcpy(p->types[p->ntype++], word);
        } else if (line[0] == '#') {
            fail_msg("unexpected comment: %s", line);
        } else {
            parse_sample(p, line);
        }
    }
}

/* The family a sample belongs to: a summary's _sum and _count belong to the summary. */
static const char *sample_family(const prom *p, const char *name, char *buf, size_t len) {
    static const char *const suffixes[] = {"_sum", "_count"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(name), sl = strlen(suffixes[i]);
        if (n > sl && strcmp(name + n - sl, suffixes[i]) == 0 && n - sl < len) {
            const char *t;
            memcpy(buf, name, n - sl);
            buf[n - sl] = '\0';
            t = family_type(p, buf);
            if (t != NULL && strcmp(t, "summary") == 0) return buf;
        }
    }
    return name;
}

static const char *label(const prom_sample *s, const char *name) {
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i][0], name) == 0) return s->labels[i][1];
    return NULL;
}

/* The value of the sample name{key="value"} (key NULL: no label but pool_name); it must be
 * there exactly once. */
static double value_of(const prom *p, const char *name, const char *key, const char *value) {
    int found = 0;
    double v = 0;
    for (int i = 0; i < p->n; i++) {
        const prom_sample *s = &p->s[i];
        if (strcmp(s->name, name) != 0 || s->nlabels != (key != NULL ? 2 : 1)) continue;
        if (key != NULL && (label(s, key) == NULL || strcmp(label(s, key), value) != 0)) continue;
        found++;
        v = s->value;
    }
    if (found != 1)
        fail_msg("%s{%s=\"%s\"} found %d times", name, key ? key : "", value ? value : "", found);
    return v;
}

static void expect(const prom *p, const char *name, const char *key, const char *value,
                   double want) {
    double got = value_of(p, name, key, value);
    if (got != want)
        fail_msg("%s{%s=\"%s\"}: %.17g in the text, %.17g in stats", name, key ? key : "",
                 value ? value : "", got, want);
}

static void test_format_prometheus_well_formed(void **state) {
    sqlpool *pool = open_busy_pool("orders-db.main_1", 1);
    char *text = format_text(pool, SQLPOOL_FORMAT_PROMETHEUS);
    prom *p = malloc(sizeof *p);
    (void)state;

    assert_non_null(p);
    parse_prom(p, text);
    assert_true(p->n > 20);
    for (int i = 0; i < p->ntype; i++) {
        const char *t = p->types[i];
        if (!has_help(p, p->type[i])) fail_msg("%s has TYPE but no HELP", p->type[i]);
        if (strcmp(t, "counter") != 0 && strcmp(t, "gauge") != 0 && strcmp(t, "summary") != 0)
            fail_msg("%s has type %s", p->type[i], t);
    }
    for (int i = 0; i < p->n; i++) {
        const prom_sample *s = &p->s[i];
        char buf[128];
        const char *fam = sample_family(p, s->name, buf, sizeof buf);
        const char *t = family_type(p, fam);
        size_t n = strlen(s->name);
        if (!matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", s->name)) fail_msg("bad name %s", s->name);
        if (t == NULL) fail_msg("%s has no TYPE", s->name);
        if (!has_help(p, fam)) fail_msg("%s has no HELP", s->name);
        if (strcmp(t, "counter") == 0 && (n < 6 || strcmp(s->name + n - 6, "_total") != 0))
            fail_msg("counter %s does not end in _total", s->name);
        if (strcmp(t, "counter") != 0 && n >= 6 && strcmp(s->name + n - 6, "_total") == 0)
            fail_msg("%s %s ends in _total", t, s->name);
        if (label(s, "pool_name") == NULL || strcmp(label(s, "pool_name"), "orders-db.main_1"))
            fail_msg("%s has pool_name \"%s\"", s->name, label(s, "pool_name"));
        if (strncmp(s->name, "db_client_connection_", 21) != 0 &&
            strncmp(s->name, "sqlpool_", 8) != 0)
            fail_msg("%s is neither db_client_connection_* nor sqlpool_*", s->name);
    }
    free(p);
    free(text);
    sqlpool_close(pool);
}

static void test_format_prometheus_matches_stats(void **state) {
    sqlpool *pool = open_busy_pool("p", 1);
    sqlpool_stats st;
    char *text;
    prom *p = malloc(sizeof *p);
    (void)state;

    add_close_history(pool);
    st = testutil_stats(pool);
    text = format_text(pool, SQLPOOL_FORMAT_PROMETHEUS);

    assert_non_null(p);
    parse_prom(p, text);
    expect(p, "db_client_connection_count", "state", "idle", st.idle);
    expect(p, "db_client_connection_count", "state", "used", st.open - st.idle);
    expect(p, "db_client_connection_idle_max", NULL, NULL, st.max_idle);
    expect(p, "db_client_connection_idle_min", NULL, NULL, 0);
    expect(p, "db_client_connection_max", NULL, NULL, 1);
    expect(p, "db_client_connection_pending_requests", NULL, NULL, st.waiting);
    expect(p, "db_client_connection_timeouts_total", NULL, NULL, (double)st.timeouts);
    expect(p, "db_client_connection_wait_time_seconds", "quantile", "0.5", st.wait_p50);
    expect(p, "db_client_connection_wait_time_seconds", "quantile", "0.9", st.wait_p90);
    expect(p, "db_client_connection_wait_time_seconds", "quantile", "0.99", st.wait_p99);
    expect(p, "db_client_connection_wait_time_seconds_sum", NULL, NULL, st.wait_seconds);
    expect(p, "db_client_connection_wait_time_seconds_count", NULL, NULL, (double)st.acquires);
    expect(p, "sqlpool_connections_created_total", NULL, NULL, (double)st.created);
    expect(p, "sqlpool_connections_reused_total", NULL, NULL, (double)st.reused);
    expect(p, "sqlpool_connections_closed_total", "reason", "idle", (double)st.closed_idle);
    expect(p, "sqlpool_connections_closed_total", "reason", "lifetime", (double)st.closed_lifetime);
    expect(p, "sqlpool_connections_closed_total", "reason", "broken", (double)st.closed_broken);
    expect(p, "sqlpool_connections_closed_total", "reason", "max_idle", (double)st.closed_max_idle);
    expect(p, "sqlpool_connections_closed_total", "reason", "pool", (double)st.closed_pool);
    expect(p, "sqlpool_connections_closed_total", "reason", "shrink", (double)st.closed_shrink);
    expect(p, "sqlpool_connections_closed_total", "reason", "close_idle",
           (double)st.closed_close_idle);
    expect(p, "sqlpool_connections_closed_total", "reason", "hook", (double)st.discarded_by_hook);
    expect(p, "sqlpool_connections_closed_total", "reason", "evicted", (double)st.closed_evicted);
    expect(p, "sqlpool_connections_closed_total", "reason", "role", (double)st.closed_role);
    expect(p, "sqlpool_read_fallbacks_total", NULL, NULL, (double)st.read_fallbacks);
    expect(p, "sqlpool_group_commits_total", NULL, NULL, (double)st.group_commits);
    expect(p, "sqlpool_grouped_transactions_total", NULL, NULL, (double)st.grouped);
    expect(p, "sqlpool_connect_retries_total", NULL, NULL, (double)st.connect_retries);
    expect(p, "sqlpool_connect_failures_total", NULL, NULL, (double)st.connect_failures);
    expect(p, "sqlpool_acquire_waits_total", NULL, NULL, (double)st.wait_count);
    expect(p, "sqlpool_connections_connecting", NULL, NULL, st.connecting);
    expect(p, "sqlpool_connections_used_peak", NULL, NULL, st.peak_in_use);
    expect(p, "sqlpool_acquire_wait_max_seconds", NULL, NULL, st.wait_max);
    expect(p, "sqlpool_wal_checkpoints_total", NULL, NULL, (double)st.checkpoints);
    expect(p, "sqlpool_wal_checkpoints_busy_total", NULL, NULL, (double)st.checkpoints_busy);
    expect(p, "sqlpool_wal_peak_bytes", NULL, NULL, (double)st.wal_peak);
    assert_int_equal(p->n, 36); /* nothing else */
    assert_int_equal(st.closed_broken, 1);
    assert_int_equal(st.closed_shrink, 1);
    assert_int_equal(st.closed_close_idle, 1);
    assert_true(st.wait_seconds > 0 && st.wait_max > 0);
    free(p);
    free(text);
    sqlpool_close(pool);
}

/* Without a cap there is no maximum to report. */
static void test_format_prometheus_no_max_without_cap(void **state) {
    sqlpool *pool = open_busy_pool("p", 0);
    char *text = format_text(pool, SQLPOOL_FORMAT_PROMETHEUS);
    (void)state;
    assert_null(strstr(text, "db_client_connection_max"));
    assert_non_null(strstr(text, "db_client_connection_idle_max{"));
    free(text);
    sqlpool_close(pool);
}

/* promtool (Debian package prometheus) accepts the text. Its lint objects to the name
 * db_client_connection_count (a _count suffix outside a summary or histogram), which is the
 * OpenTelemetry name; that is the one complaint allowed. */
static void test_format_promtool_accepts(void **state) {
    sqlpool *pool;
    char *text, *dir, *file, *cmd, *out;
    int status;
    (void)state;

    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        print_message("promtool not found (Debian package prometheus): skipping "
                      "`promtool check metrics`\n");
        return;
    }
    pool = open_busy_pool("orders-db.main_1", 1);
    text = format_text(pool, SQLPOOL_FORMAT_PROMETHEUS);
    dir = testutil_tmpdir();
    file = testutil_format("%s/metrics.prom", dir);
    testutil_write_file(file, text, strlen(text));
    cmd = testutil_format("promtool check metrics < '%s' > '%s.out' 2>&1", file, file);
    status = system(cmd);
    free(cmd);
    cmd = testutil_format("%s.out", file);
    out = testutil_read_file(cmd, NULL);
    assert_non_null(out);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
        /* 3: lint problems only; each line must be the one allowed. */
        char *save = NULL;
        if (WEXITSTATUS(status) != 3)
            fail_msg("promtool exited %d:\n%s\non:\n%s", WEXITSTATUS(status), out, text);
        for (char *line = strtok_r(out, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save))
            if (strcmp(line, "db_client_connection_count non-histogram and non-summary metrics "
                             "should not have \"_count\" suffix") != 0)
                fail_msg("promtool: %s\non:\n%s", line, text);
    }
    free(out);
    free(cmd);
    free(file);
    testutil_rmtree(dir);
    free(dir);
    free(text);
    sqlpool_close(pool);
}

/* ---- the buffer contract ---- */

static void check_too_small(sqlpool *pool, int format) {
    size_t needed = 0, again = 0;
    char *buf;
    /* Ask the size. */
    assert_int_equal(sqlpool_stats_format(pool, format, NULL, 0, &needed), SQLPOOL_ENOMEM);
    assert_true(needed > 0);
    buf = malloc(needed + 16);
    assert_non_null(buf);
    /* Every shorter buffer: refused, left empty, nothing written past len. */
    for (size_t len = 1; len <= needed; len++) {
        memset(buf, 'x', needed + 16);
        assert_int_equal(sqlpool_stats_format(pool, format, buf, len, &again), SQLPOOL_ENOMEM);
        assert_int_equal(again, needed);
        assert_int_equal(buf[0], '\0');
        for (size_t i = len; i < needed + 16; i++)
            if (buf[i] != 'x') fail_msg("byte %zu written with len %zu", i, len);
    }
    /* needed + 1 fits exactly; needed may be NULL. */
    memset(buf, 'x', needed + 16);
    assert_int_equal(sqlpool_stats_format(pool, format, buf, needed + 1, NULL), SQLPOOL_OK);
    assert_int_equal(strlen(buf), needed);
    assert_int_equal(buf[needed + 1], 'x');
    free(buf);
}

static void test_format_buffer_too_small(void **state) {
    sqlpool *pool = open_busy_pool("p", 1);
    (void)state;
    check_too_small(pool, SQLPOOL_FORMAT_JSON);
    check_too_small(pool, SQLPOOL_FORMAT_PROMETHEUS);
    sqlpool_close(pool);
}

static void test_format_bad_arguments(void **state) {
    sqlpool *pool = open_busy_pool("p", 1);
    static const int bad[] = {0, -1, 3, SQLPOOL_FORMAT_JSON | SQLPOOL_FORMAT_PROMETHEUS, 4};
    char buf[64];
    size_t needed = 7;
    (void)state;

    strcpy(buf, "junk");
    assert_int_equal(sqlpool_stats_format(NULL, SQLPOOL_FORMAT_JSON, buf, sizeof buf, &needed),
                     SQLPOOL_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(needed, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(buf, "junk");
        needed = 7;
        assert_int_equal(sqlpool_stats_format(pool, bad[i], buf, sizeof buf, &needed),
                         SQLPOOL_EINVAL);
        assert_string_equal(buf, "");
        assert_int_equal(needed, 0);
        assert_non_null(strstr(sqlpool_errmsg(), "format"));
    }
    assert_int_equal(sqlpool_stats_format(pool, SQLPOOL_FORMAT_JSON, NULL, 10, NULL),
                     SQLPOOL_EINVAL);
    assert_int_equal(sqlpool_stats_format(NULL, SQLPOOL_FORMAT_JSON, NULL, 0, NULL),
                     SQLPOOL_EINVAL);
    sqlpool_close(pool);
}

/* ---- the pool name ---- */

static int open_named(const char *name, sqlpool **pool) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    cfg.name = name;
    return sqlpool_open(&cfg, pool);
}

static char *json_name(sqlpool *pool) {
    char *text = format_text(pool, SQLPOOL_FORMAT_JSON);
    json_t *doc = json_loads(text, 0, NULL);
    char *name;
    assert_non_null(doc);
    name = strdup(json_string_value(json_object_get(doc, "name")));
    json_decref(doc);
    free(text);
    return name;
}

static void test_format_name_validation(void **state) {
    static const char *const bad[] = {"",    "a b", "a\"b", "a\\b",        "a\nb",
                                      "a/b", "a:b", "a{b}", "caf\xc3\xa9", "a,b"};
    static const char *const good[] = {"sqlpool", "orders-db.main_1", "A", "0", "-._"};
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    char name[32], *got;
    (void)state;

    sqlpool_config_init(&cfg);
    assert_string_equal(cfg.name, "sqlpool");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pool = (sqlpool *)&pool; /* not NULL: open must clear it */
        if (open_named(bad[i], &pool) != SQLPOOL_EINVAL) fail_msg("name \"%s\" accepted", bad[i]);
        assert_null(pool);
        assert_non_null(strstr(sqlpool_errmsg(), "name"));
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(open_named(good[i], &pool), SQLPOOL_OK);
        got = json_name(pool);
        assert_string_equal(got, good[i]);
        free(got);
        sqlpool_close(pool);
    }
    /* NULL is the default. */
    assert_int_equal(open_named(NULL, &pool), SQLPOOL_OK);
    got = json_name(pool);
    assert_string_equal(got, "sqlpool");
    free(got);
    sqlpool_close(pool);
    /* Copied at open. */
    strcpy(name, "before");
    assert_int_equal(open_named(name, &pool), SQLPOOL_OK);
    strcpy(name, "after");
    got = json_name(pool);
    assert_string_equal(got, "before");
    free(got);
    sqlpool_close(pool);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_format_json_matches_stats),
    cmocka_unit_test(test_format_prometheus_well_formed),
    cmocka_unit_test(test_format_prometheus_matches_stats),
    cmocka_unit_test(test_format_prometheus_no_max_without_cap),
    cmocka_unit_test(test_format_promtool_accepts),
    cmocka_unit_test(test_format_buffer_too_small),
    cmocka_unit_test(test_format_bad_arguments),
    cmocka_unit_test(test_format_name_validation),
};

SQLPOOL_TEST_MAIN(tests)
