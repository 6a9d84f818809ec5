/* test_histogram.c: the public duration histogram (the pool's wait histogram). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* Within the histogram's promise: 1/16 of the true value. */
static void expect_close(double got, double want) {
    if (fabs(got - want) > want / 16 + 1e-9)
        fail_msg("quantile %.9f s, want %.9f s (+-1/16)", got, want);
}

static void test_histogram_quantiles_of_uniform_samples(void **state) {
    sqlpool_histogram *h = sqlpool_histogram_new();
    (void)state;
    assert_non_null(h);
    assert_int_equal(sqlpool_histogram_count(h), 0);
    assert_true(sqlpool_histogram_quantile(h, 0.5) == 0.0);
    for (int i = 1; i <= 10000; i++)
        sqlpool_histogram_record(h, i * 1e-6); /* 1 us .. 10 ms */
    assert_int_equal(sqlpool_histogram_count(h), 10000);
    expect_close(sqlpool_histogram_quantile(h, 0.50), 5000e-6);
    expect_close(sqlpool_histogram_quantile(h, 0.99), 9900e-6);
    expect_close(sqlpool_histogram_quantile(h, 0.10), 1000e-6);
    assert_true(sqlpool_histogram_quantile(h, 1.0) == 10000e-6); /* the max, exactly */
    sqlpool_histogram_free(h);
    sqlpool_histogram_free(NULL);
}

static void test_histogram_merge_adds_samples(void **state) {
    sqlpool_histogram *a = sqlpool_histogram_new(), *b = sqlpool_histogram_new();
    (void)state;
    for (int i = 0; i < 100; i++) {
        sqlpool_histogram_record(a, 0.001);
        sqlpool_histogram_record(b, 0.1);
    }
    sqlpool_histogram_record(b, -1.0); /* counts as zero */
    sqlpool_histogram_merge(a, b);
    assert_int_equal(sqlpool_histogram_count(a), 201);
    expect_close(sqlpool_histogram_quantile(a, 0.25), 0.001);
    expect_close(sqlpool_histogram_quantile(a, 0.75), 0.1);
    assert_true(sqlpool_histogram_quantile(a, 0.0) == 0.0);
    sqlpool_histogram_free(a);
    sqlpool_histogram_free(b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_histogram_quantiles_of_uniform_samples),
    cmocka_unit_test(test_histogram_merge_adds_samples),
};

SQLPOOL_TEST_MAIN(tests)
