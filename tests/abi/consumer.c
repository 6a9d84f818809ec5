/*
 * The ABI test's consumer (issue 12): built against sqlpool.h as it is (no extra field),
 * then run, unrebuilt, against two libraries: the plain one ("plain") and one built with
 * SQLPOOL_ABI_TEST_EXTRA, whose sqlpool_config and sqlpool_stats carry one more field
 * ("extra"), standing in for a later release. Each struct the library fills or reads sits
 * in a box with canary bytes right after it: the library must touch only the caller's size.
 * Exits 0 when every check holds; prints each failed check.
 */
#include "sqlpool.h"
#include "v1.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CANARY 0xA5

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, want %s == %lld\n", __FILE__, __LINE__, #a, a_,    \
                    #b, b_);                                                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A struct with room after it: the canary, or (for the too-large sizes) the bytes a bigger
 * struct of a later header would have. */
typedef struct config_box {
    sqlpool_config cfg;
    unsigned char after[64];
} config_box;
typedef struct stats_box {
    sqlpool_stats st;
    unsigned char after[64];
} stats_box;

static int intact(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY) return 0;
    return 1;
}

static int all_canary(const void *p, size_t n) {
    return intact(p, n);
}

/* A pool used once and then reused, so the counters have known values. */
static sqlpool *open_used_pool(sqlpool_config *cfg) {
    sqlpool *pool = NULL;
    sqlpool_conn *conn = NULL;
    CHECK_INT(sqlpool_open(cfg, &pool), SQLPOOL_OK);
    if (pool == NULL) return NULL;
    for (int i = 0; i < 2; i++) {
        CHECK_INT(sqlpool_acquire(pool, &conn), SQLPOOL_OK);
        sqlpool_release(conn);
    }
    return pool;
}

static void check_stats(const sqlpool_stats *st) {
    CHECK_INT(st->created, 1);
    CHECK_INT(st->reused, 1);
    CHECK_INT(st->acquires, 2);
    CHECK_INT(st->idle, 1);
    CHECK_INT(st->max_idle, 3);
    CHECK_INT(st->in_use, 0);
    CHECK_INT(st->open, 1);
    CHECK_INT(st->closed, 0);
    CHECK_INT(st->timeouts, 0);
    CHECK_INT(st->closed_shrink, 0);     /* the last two fields: the tail was written, */
    CHECK_INT(st->closed_close_idle, 0); /* and with the library's values */
}

/* The public names, through function pointers as a program may keep them. */
static void check_pointers(void) {
    void (*init)(sqlpool_config *) = sqlpool_config_init;
    int (*open)(const sqlpool_config *, sqlpool **) = sqlpool_open;
    void (*get)(sqlpool *, sqlpool_stats *) = sqlpool_stats_get;
    config_box cb;
    stats_box sb;
    sqlpool *pool = NULL;
    memset(&cb, CANARY, sizeof cb);
    init(&cb.cfg);
    CHECK(intact(cb.after, sizeof cb.after));
    CHECK_INT(cb.cfg.max_idle, 5);
    CHECK_INT(open(&cb.cfg, &pool), SQLPOOL_OK);
    memset(&sb, CANARY, sizeof sb);
    get(pool, &sb.st);
    CHECK(intact(sb.after, sizeof sb.after));
    CHECK_INT(sb.st.max_idle, 5);
    CHECK_INT(sb.st.created, 0);
    sqlpool_close(pool);
}

/* 0.1.0's sqlpool_stats (it ended at wait_max) through the _sized call: its fields
 * written, nothing past them. */
static void check_v1_stats_size(sqlpool *pool) {
    stats_box sb;
    const size_t v1 = offsetof(sqlpool_stats, wait_max) + sizeof sb.st.wait_max;
    memset(&sb, CANARY, sizeof sb);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, v1), SQLPOOL_OK);
    CHECK_INT(sb.st.created, 1);
    CHECK(all_canary((const unsigned char *)&sb + v1, sizeof sb - v1));
}

/* Sizes no library takes: smaller than 0.1.0's structs, or NULL pointers. Nothing written. */
static void check_bad_sizes(sqlpool *pool) {
    config_box cb;
    stats_box sb;
    sqlpool *other = (sqlpool *)&cb; /* any non-NULL: must come back NULL */
    memset(&cb, CANARY, sizeof cb);
    /* short of 0.1.0's struct (it ended at barge_window), and ending inside a later field */
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, offsetof(sqlpool_config, barge_window)),
              SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, sizeof cb.cfg - 2), SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, 0), SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_config_init_sized(NULL, sizeof cb.cfg), SQLPOOL_EINVAL);
    CHECK(all_canary(&cb, sizeof cb));
    sqlpool_config_init(&cb.cfg);
    CHECK_INT(sqlpool_open_sized(&cb.cfg, sizeof cb.cfg - 1, &other), SQLPOOL_EINVAL);
    CHECK(other == NULL);
    CHECK(strstr(sqlpool_errmsg(), "size") != NULL);
    CHECK_INT(sqlpool_open_sized(&cb.cfg, 8, &other), SQLPOOL_EINVAL);
    memset(&sb, CANARY, sizeof sb);
    /* 0.1.0's stats ended at wait_max: a size short of it, or ending inside a later field */
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, offsetof(sqlpool_stats, wait_max)),
              SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, sizeof sb.st - 4), SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, 16), SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_stats_get_sized(NULL, &sb.st, sizeof sb.st), SQLPOOL_EINVAL);
    CHECK(all_canary(&sb, sizeof sb));
}

/* Sizes past this header's struct: the extra library has one more field (a long long) in
 * each and takes its end, but not a size ending inside it; the plain library takes
 * neither. */
static void check_larger_sizes(sqlpool *pool, int extra) {
    config_box cb;
    stats_box sb;
    const size_t c = sizeof cb.cfg, s = sizeof sb.st;
    int want = extra ? SQLPOOL_OK : SQLPOOL_EINVAL;
    memset(&cb, CANARY, sizeof cb);
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, c + 4), SQLPOOL_EINVAL); /* inside the field */
    CHECK(all_canary(&cb, sizeof cb));
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, c + 8), want); /* its end */
    CHECK_INT(sqlpool_config_init_sized(&cb.cfg, c + 16), SQLPOOL_EINVAL);
    if (extra) {
        long long v;
        memcpy(&v, cb.after, sizeof v); /* where the extra library's field lies */
        CHECK_INT(v, 7);
        CHECK(intact(cb.after + 8, sizeof cb.after - 8));
    } else {
        CHECK(intact(cb.after, sizeof cb.after));
    }
    memset(&sb, CANARY, sizeof sb);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, s + 4), SQLPOOL_EINVAL);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, s + 8), want);
    CHECK_INT(sqlpool_stats_get_sized(pool, &sb.st, s + 16), SQLPOOL_EINVAL);
    if (extra) {
        long long v;
        memcpy(&v, sb.after, sizeof v);
        CHECK_INT(v, 7);
        CHECK(intact(sb.after + 8, sizeof sb.after - 8));
    } else {
        CHECK(intact(sb.after, sizeof sb.after));
    }
}

int main(int argc, char **argv) {
    config_box cb;
    stats_box sb;
    sqlpool *pool;
    char json[4096];
    int extra;

    if (argc != 2 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "extra") != 0)) {
        fprintf(stderr, "usage: %s plain|extra\n", argv[0]);
        return 2;
    }
    extra = strcmp(argv[1], "extra") == 0;
    printf("library %s, sizeof sqlpool_config %zu, sizeof sqlpool_stats %zu\n", sqlpool_version(),
           sizeof cb.cfg, sizeof sb.st);

    /* config_init writes this header's struct only, with the defaults. */
    memset(&cb, CANARY, sizeof cb);
    sqlpool_config_init(&cb.cfg);
    CHECK(intact(cb.after, sizeof cb.after));
    CHECK_INT(cb.cfg.max_idle, 5);
    CHECK_INT(cb.cfg.max_connecting, 2);
    CHECK(cb.cfg.barge_window == 0.0); /* the last field */
    CHECK(strcmp(cb.cfg.name, "sqlpool") == 0);

    /* open reads this header's struct only: the canary after it would be an extra field of
     * 0xA5A5A5A5 in the extra library if it read on; it must take its default, 7. */
    cb.cfg.max_idle = 3;
    cb.cfg.name = "abi";
    pool = open_used_pool(&cb.cfg);
    CHECK(intact(cb.after, sizeof cb.after));
    if (pool == NULL) return 1;

    memset(&sb, CANARY, sizeof sb);
    sqlpool_stats_get(pool, &sb.st);
    CHECK(intact(sb.after, sizeof sb.after));
    check_stats(&sb.st);

    /* What the library saw, as its own full stats: the extra field only in the extra one. */
    CHECK_INT(sqlpool_stats_format(pool, SQLPOOL_FORMAT_JSON, json, sizeof json, NULL), SQLPOOL_OK);
    printf("%s\n", json);
    CHECK(strstr(json, "\"name\":\"abi\"") != NULL);
    CHECK(strstr(json, "\"created\":1,") != NULL);
    CHECK(strstr(json, "\"pool_size\":3,") != NULL);
    if (extra)
        CHECK(strstr(json, "\"abi_test_extra\":7}") != NULL);
    else
        CHECK(strstr(json, "abi_test_extra") == NULL);

    check_bad_sizes(pool);
    check_v1_stats_size(pool);
    check_larger_sizes(pool, extra);
    sqlpool_close(pool);
    check_pointers();
    failures += abi_v1_failures();

    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed against the %s library\n", failures, argv[1]);
        return 1;
    }
    printf("ok: %s library\n", argv[1]);
    return 0;
}
