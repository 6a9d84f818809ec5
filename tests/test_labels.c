/* test_labels.c: the demo's label reader and UTF-8 check (cli/labels.c). */
#include "testutil.h"

#include "exitcodes.h"
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int setup_tmp(void **state) {
    *state = testutil_tmpdir();
    return 0;
}

static int teardown_tmp(void **state) {
    testutil_rmtree(*state);
    free(*state);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup_tmp, teardown_tmp)

/* Write data to <dir>/<name>; returns the path (caller frees). */
static char *write_input(void **state, const char *name, const void *data, size_t len) {
    char *path = testutil_format("%s/%s", (const char *)*state, name);
    testutil_write_file(path, data, len);
    return path;
}

/* Read every label of a file that must read cleanly; returns them joined by '|' (caller
 * frees) and checks each reported length. */
static char *read_all(const char *path, int *count) {
    label_reader r;
    char err[512] = "";
    const char *label;
    size_t len, used = 0;
    char *joined = calloc(1, 1);
    int got;

    assert_non_null(joined);
    *count = 0;
    assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
    while ((got = labels_next(&r, &label, &len, err, sizeof err)) == 1) {
        assert_int_equal(strlen(label), len);
        joined = realloc(joined, used + len + 2);
        assert_non_null(joined);
        if (*count) joined[used++] = '|';
        memcpy(joined + used, label, len);
        used += len;
        joined[used] = '\0';
        ++*count;
    }
    if (got != 0) fail_msg("labels_next returned %d: %s", got, err);
    /* The end is sticky. */
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 0);
    labels_close(&r);
    return joined;
}

static void expect_labels(void **state, const char *content, size_t len, const char *expected,
                          int expected_count) {
    char *path = write_input(state, "in.txt", content, len);
    int count;
    char *got = read_all(path, &count);
    assert_string_equal(got, expected);
    assert_int_equal(count, expected_count);
    free(got);
    free(path);
}

#define EXPECT_LABELS(state, literal, expected, n)                                                 \
    expect_labels(state, literal, sizeof(literal) - 1, expected, n)

static void expect_valid(const char *s, size_t len) {
    size_t bad = 12345;
    if (!utf8_valid((const unsigned char *)s, len, &bad)) {
        fail_msg("utf8_valid refused a valid string (%zu bytes) at %zu", len, bad);
    }
}

static void expect_invalid(const char *s, size_t len, size_t offset) {
    size_t bad = 12345;
    assert_int_equal(utf8_valid((const unsigned char *)s, len, &bad), 0);
    assert_int_equal(bad, offset);
}

#define VALID(lit) expect_valid(lit, sizeof(lit) - 1)
#define INVALID(lit, off) expect_invalid(lit, sizeof(lit) - 1, off)

static void test_labels_utf8_valid_multibyte(void **state) {
    (void)state;
    expect_valid("", 0);
    VALID("plain ascii\t\x7f");
    VALID("caf\xc3\xa9");                      /* é */
    VALID("\xe6\x97\xa5\xe6\x9c\xac");         /* 日本 */
    VALID("\xf0\x9f\x98\x80");                 /* U+1F600 */
    VALID("\xc2\x80\xdf\xbf");                 /* U+0080, U+07FF */
    VALID("\xe0\xa0\x80\xef\xbf\xbf");         /* U+0800, U+FFFF */
    VALID("\xed\x9f\xbf\xee\x80\x80");         /* U+D7FF, U+E000: either side of the surrogates */
    VALID("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"); /* U+10000, U+10FFFF */
    VALID("\xef\xbb\xbf");                     /* U+FEFF */
    VALID("a\0b");                             /* NUL is valid UTF-8; labels_next refuses it */
}

static void test_labels_utf8_overlong(void **state) {
    (void)state;
    INVALID("\xc0\x80", 0);
    INVALID("ab\xc0\x80", 2);
    INVALID("\xc1\xbf", 0);
    INVALID("\xe0\x80\x80", 0);
    INVALID("xyz\xe0\x80\x80", 3);
    INVALID("\xe0\x9f\xbf", 0); /* U+07FF in three bytes */
    INVALID("\xf0\x80\x80\x80", 0);
    INVALID("\xf0\x8f\xbf\xbf", 0); /* U+FFFF in four bytes */
}

static void test_labels_utf8_surrogates(void **state) {
    (void)state;
    INVALID("\xed\xa0\x80", 0); /* U+D800 */
    INVALID("ok\xed\xa0\x80", 2);
    INVALID("\xed\xbf\xbf", 0);             /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb8\x80", 0); /* CESU-8 pair */
}

static void test_labels_utf8_beyond_max(void **state) {
    (void)state;
    INVALID("\xf4\x90\x80\x80", 0); /* U+110000 */
    INVALID("caf\xc3\xa9\xf4\x90\x80\x80", 5);
    INVALID("\xf5\x80\x80\x80", 0);
    INVALID("\xf7\xbf\xbf\xbf", 0);
    INVALID("\xf8\x88\x80\x80\x80", 0);
    INVALID("\xfe", 0);
    INVALID("a\xff", 1);
}

static void test_labels_utf8_truncated(void **state) {
    (void)state;
    INVALID("\xc3", 0);
    INVALID("abc\xe2\x82", 3);
    INVALID("\xf0\x9f\x98", 0);
    INVALID("\xe2\x82"
            "A",
            0); /* continuation expected, got ASCII */
    INVALID("\xf0\x9f\x98"
            "\n",
            0);
    INVALID("\xc3\xa9\xc3", 2); /* a good é, then a cut one */
    INVALID("\xe2\xc3\xa9", 0); /* a lead byte where a continuation belongs */
}

static void test_labels_utf8_stray_continuation(void **state) {
    (void)state;
    INVALID("\x80", 0);
    INVALID("a\x80"
            "b",
            1);
    INVALID("\xbf", 0);
    INVALID("\xc3\xa9\x80", 2); /* é then one continuation too many */
    INVALID("\xf0\x9f\x98\x80\xbf", 4);
}

static void test_labels_strips_spaces_tabs_cr(void **state) {
    EXPECT_LABELS(state, "  alpha  \n\tbeta\t\n gamma \r\n two words \n\v\fdelta\x1c\x1f\n",
                  "alpha|beta|gamma|two words|delta", 5);
}

static void test_labels_crlf_file(void **state) {
    EXPECT_LABELS(state, "user_login\r\npage_view\r\n\r\napi_call\r\n",
                  "user_login|page_view|api_call", 3);
}

static void test_labels_skips_blank_lines(void **state) {
    char *path = write_input(state, "in.txt", "\n\n  \n\t\r\nonly\n \t \n\r\n", 19);
    label_reader r;
    char err[512];
    const char *label;
    size_t len;
    assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 1);
    assert_string_equal(label, "only");
    assert_int_equal(len, 4);
    assert_int_equal(r.lineno, 5);
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 0);
    assert_int_equal(r.lineno, 7);
    labels_close(&r);
    free(path);
}

static void test_labels_bom_on_first_line(void **state) {
    EXPECT_LABELS(state,
                  "\xef\xbb\xbf"
                  "first\nsecond\n",
                  "first|second", 2);
    EXPECT_LABELS(state, "\xef\xbb\xbf  first \n", "first", 1);
    EXPECT_LABELS(state, "\xef\xbb\xbf\nsecond\n", "second", 1);
    EXPECT_LABELS(state, "\xef\xbb\xbf", "", 0);
    /* Only line 1's mark is an encoding marker; later ones are label text. */
    EXPECT_LABELS(state,
                  "a\n\xef\xbb\xbf"
                  "b\n",
                  "a|\xef\xbb\xbf"
                  "b",
                  2);
}

/* Read labels until labels_next stops with an error; returns that status and the message. */
static int read_until_error(const char *path, char *err, size_t errlen, int *good) {
    label_reader r;
    const char *label;
    size_t len;
    int got;
    *good = 0;
    assert_int_equal(labels_open(&r, path, err, errlen), 0);
    while ((got = labels_next(&r, &label, &len, err, errlen)) == 1)
        ++*good;
    labels_close(&r);
    return got;
}

static void expect_contains(const char *text, const char *needle) {
    if (strstr(text, needle) == NULL) fail_msg("'%s' does not contain '%s'", text, needle);
}

static void test_labels_invalid_utf8_names_line(void **state) {
    static const char data[] = "one\ntwo\n\nth\xffree\nfive\n";
    char *path = write_input(state, "bad.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 2);
    expect_contains(err, "line 4");
    expect_contains(err, "UTF-8");
    expect_contains(err, path);
    assert_null(strchr(err, '\n'));
    free(path);
}

static void test_labels_invalid_utf8_line_three(void **state) {
    static const char data[] = "a\r\nb\r\n\xed\xa0\x80\r\n";
    char *path = write_input(state, "bad.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 2);
    expect_contains(err, "line 3");
    free(path);
}

static void test_labels_invalid_utf8_after_bom(void **state) {
    static const char data[] = "\xef\xbb\xbf\xc0\x80\n";
    char *path = write_input(state, "bad.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 0);
    expect_contains(err, "line 1");
    free(path);
}

static void test_labels_nul_byte_names_line(void **state) {
    static const char data[] = "a\nb\nc\0d\ne\n";
    char *path = write_input(state, "nul.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 2);
    expect_contains(err, "line 3");
    expect_contains(err, "NUL");
    free(path);
}

static void test_labels_nul_byte_first_line(void **state) {
    static const char data[] = "\0\n";
    char *path = write_input(state, "nul.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 0);
    expect_contains(err, "line 1");
    free(path);
}

/* A NUL on a whitespace-only line, or trailing in a label, is still an error. */
static void test_labels_nul_byte_in_whitespace(void **state) {
    static const char data[] = "ok\n  \0  \n";
    char *path = write_input(state, "nul.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 1);
    expect_contains(err, "line 2");
    free(path);
}

/* Python's str.strip() also removes Unicode white space (NBSP, U+3000, U+2003, U+2028), but
 * not a zero-width space (U+200B) or other letters at the edges. */
static void test_labels_strips_unicode_whitespace(void **state) {
    EXPECT_LABELS(state,
                  "\xc2\xa0nb\xc2\xa0\n\xe3\x80\x80wide\xe2\x80\x83\n\xe2\x80\xa8\xc2\x85\n"
                  "\xe2\x80\x8bzw\n\xc3\xa9t\xc3\xa9\n",
                  "nb|wide|\xe2\x80\x8bzw|\xc3\xa9t\xc3\xa9", 4);
}

/* As in Python's text mode, a lone CR ends a line too, and counts as one. */
static void test_labels_lone_cr_ends_line(void **state) {
    static const char data[] = "a\rb\r\rc\nd\re\xff\n";
    char *path = write_input(state, "cr.txt", data, sizeof data - 1);
    char err[512] = "";
    int good;
    EXPECT_LABELS(state, "a\rb\r\rc\r\nd", "a|b|c|d", 4);
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 4);
    expect_contains(err, "line 6");
    free(path);
}

static void test_labels_empty_file(void **state) {
    expect_labels(state, "", 0, "", 0);
    EXPECT_LABELS(state, "\n\n\r\n   \n", "", 0);
}

static void test_labels_no_trailing_newline(void **state) {
    EXPECT_LABELS(state, "first\nlast", "first|last", 2);
    EXPECT_LABELS(state, "only", "only", 1);
    EXPECT_LABELS(state, "x\n  last  ", "x|last", 2);
    EXPECT_LABELS(state, "x\nlast\r", "x|last", 2);
}

static void test_labels_long_line_round_trips(void **state) {
    const size_t n = (size_t)1 << 20;
    char *data = malloc(n + 64), *path;
    label_reader r;
    char err[512];
    const char *label;
    size_t len, k = 0;

    assert_non_null(data);
    memcpy(data + k, "short\n  ", 8);
    k += 8;
    /* 1 MiB of label: ASCII with a 3-byte character every so often. */
    for (size_t i = 0; i < n;) {
        if (i % 1000 == 999 && n - i >= 3) {
            memcpy(data + k + i, "\xe2\x82\xac", 3);
            i += 3;
        } else {
            data[k + i] = (char)('a' + (char)(i % 26));
            i++;
        }
    }
    memcpy(data + k + n, " \r\nafter\n", 9);
    path = write_input(state, "long.txt", data, k + n + 9);

    assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 1);
    assert_string_equal(label, "short");
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 1);
    assert_int_equal(len, n);
    assert_memory_equal(label, data + k, n);
    assert_int_equal(label[len], '\0');
    assert_int_equal(r.lineno, 2);
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 1);
    assert_string_equal(label, "after");
    assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 0);
    labels_close(&r);
    free(path);
    free(data);
}

static void test_labels_open_missing_file(void **state) {
    char *path = testutil_format("%s/no-such-file.txt", (const char *)*state);
    label_reader r;
    char err[512] = "";
    assert_int_equal(labels_open(&r, path, err, sizeof err), EXIT_NOINPUT);
    expect_contains(err, path);
    assert_null(r.file);
    labels_close(&r); /* harmless after a failed open */
    free(path);
}

static void test_labels_open_folder(void **state) {
    label_reader r;
    char err[512] = "";
    assert_int_equal(labels_open(&r, (const char *)*state, err, sizeof err), EXIT_NOINPUT);
    expect_contains(err, (const char *)*state);
    expect_contains(err, "folder");
    assert_null(r.file);
    labels_close(&r);
}

static void test_labels_open_unreadable(void **state) {
    char *path = write_input(state, "secret.txt", "x\n", 2);
    label_reader r;
    char err[512] = "";
    assert_int_equal(chmod(path, 0), 0);
    if (access(path, R_OK) == 0) {
        /* Running as root (or with CAP_DAC_OVERRIDE): mode 000 does not stop reading. */
        free(path);
        skip();
    }
    assert_int_equal(labels_open(&r, path, err, sizeof err), EXIT_NOINPUT);
    expect_contains(err, path);
    labels_close(&r);
    free(path);
}

/* labels_line names the line each label came from, blank lines and \r\n endings counted. */
static void test_labels_line_of_each_label(void **state) {
    static const char data[] = "one\n\n  \r\ntwo\r\n\rthree";
    static const long lines[] = {1, 4, 6};
    char *path = write_input(state, "in.txt", data, sizeof data - 1);
    label_reader r;
    char err[512] = "";
    const char *label;
    size_t len;
    int i = 0;
    assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
    while (labels_next(&r, &label, &len, err, sizeof err) == 1) {
        assert_true(i < 3);
        assert_int_equal(labels_line(&r), lines[i++]);
    }
    assert_int_equal(i, 3);
    labels_close(&r);
    free(path);
}

#define MIB ((size_t)1 << 20)
#define LIMIT (64 * MIB) /* the reader's longest line */

/* A file of `lines` lines of `each` bytes of one letter per line, each ending in `end`. */
static char *write_lines(void **state, size_t lines, size_t each, const char *end) {
    size_t endlen = strlen(end), k = 0;
    char *data = malloc(lines * (each + endlen)), *path;
    assert_non_null(data);
    for (size_t i = 0; i < lines; i++) {
        memset(data + k, 'a' + (int)(i % 26), each);
        memcpy(data + k + each, end, endlen);
        k += each + endlen;
    }
    path = write_input(state, "lines.txt", data, k);
    free(data);
    return path;
}

/* Lone CRs split the input into lines before the length limit applies: 65 MiB of 1 MiB
 * lines ended by CR alone is 65 labels, not one line too long. */
static void test_labels_lone_cr_file_over_line_limit(void **state) {
    char *path = write_lines(state, 65, MIB, "\r");
    label_reader r;
    char err[512] = "";
    const char *label;
    size_t len;
    int got, n = 0;
    assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
    while ((got = labels_next(&r, &label, &len, err, sizeof err)) == 1) {
        assert_int_equal(len, MIB);
        assert_int_equal(label[0], 'a' + n % 26);
        assert_int_equal(labels_line(&r), ++n);
    }
    if (got != 0) fail_msg("labels_next returned %d: %s", got, err);
    assert_int_equal(n, 65);
    labels_close(&r);
    free(path);
}

/* A NUL byte far into a CR-only file (past the first 64 KiB block) names its own line. */
static void test_labels_nul_past_first_block_of_cr_file(void **state) {
    static const char tail[] = "c\0d\re\r";
    size_t n = 40000, k = 0;
    char *data = malloc(n * 3 + sizeof tail), *path;
    char err[512] = "";
    int good;
    assert_non_null(data);
    for (size_t i = 0; i < n; i++, k += 3)
        memcpy(data + k, "ab\r", 3);
    memcpy(data + k, tail, sizeof tail - 1);
    path = write_input(state, "nul.txt", data, k + sizeof tail - 1);
    assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
    assert_int_equal(good, 40000);
    expect_contains(err, "line 40001: contains a NUL byte");
    free(path);
    free(data);
}

/* The limit is on the line's text, not its ending: a 64 MiB label is read whole, whether
 * the line ends in LF, CRLF or nothing; one byte more is refused, naming the line. */
static void test_labels_label_of_exactly_64_mib(void **state) {
    static const char *const ends[] = {"\n", "\r\n", ""};
    for (size_t e = 0; e < 3; e++) {
        char *path = write_lines(state, 1, LIMIT, ends[e]);
        label_reader r;
        char err[512] = "";
        const char *label;
        size_t len;
        assert_int_equal(labels_open(&r, path, err, sizeof err), 0);
        if (labels_next(&r, &label, &len, err, sizeof err) != 1) fail_msg("%s", err);
        assert_int_equal(len, LIMIT);
        assert_int_equal(strspn(label, "a"), LIMIT);
        assert_int_equal(labels_next(&r, &label, &len, err, sizeof err), 0);
        labels_close(&r);
        free(path);
    }
    {
        char *path = write_lines(state, 1, LIMIT + 1, "\n");
        char err[512] = "";
        int good;
        assert_int_equal(read_until_error(path, err, sizeof err, &good), EXIT_DATAERR);
        assert_int_equal(good, 0);
        expect_contains(err, "line 1: longer than 67108864 bytes");
        free(path);
    }
}

/* Open a 256 KiB file of short lines and read its first label: the reader is then one
 * block (64 KiB) into the file. */
static char *open_partly_read(void **state, label_reader *r) {
    char *path = write_lines(state, 256 * 1024 / 8, 7, "\n");
    char err[512] = "";
    const char *label;
    size_t len;
    assert_int_equal(labels_open(r, path, err, sizeof err), 0);
    assert_int_equal(labels_next(r, &label, &len, err, sizeof err), 1);
    return path;
}

/* Read on to the end: the reader must notice that the file changed and refuse it. */
static void expect_changed(label_reader *r, const char *path, const char *what) {
    char err[512] = "";
    const char *label;
    size_t len;
    int got;
    while ((got = labels_next(r, &label, &len, err, sizeof err)) == 1)
        continue;
    if (got != EXIT_IOERR) fail_msg("labels_next returned %d (%s), not EXIT_IOERR", got, err);
    expect_contains(err, path);
    expect_contains(err, "changed while it was read");
    expect_contains(err, what);
    assert_null(strchr(err, '\n'));
    labels_close(r);
}

/* A file truncated while it is read is refused, not taken as a shorter input. */
static void test_labels_file_shrinks_while_read(void **state) {
    label_reader r;
    char *path = open_partly_read(state, &r);
    assert_int_equal(truncate(path, 100 * 1024), 0);
    expect_changed(&r, path, "262144 to 102400 bytes");
    free(path);
}

/* Same size, rewritten in place (its modification time moves): refused too. */
static void test_labels_file_rewritten_while_read(void **state) {
    label_reader r;
    char *path = open_partly_read(state, &r);
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 200 * 1024, SEEK_SET), 0);
    assert_int_equal(fputc('Z', f), 'Z');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0); /* even within one clock tick */
    expect_changed(&r, path, "modified");
    free(path);
}

/* A sysfs file says 4096 bytes and gives 18, a /proc file says 0 and gives more: on those
 * filesystems the size means nothing, so the reader holds them to their modification time
 * only, and reads them whole. */
static void test_labels_sysfs_and_proc_files_read(void **state) {
    static const char *const paths[] = {"/sys/class/net/lo/address",
                                        "/sys/kernel/mm/transparent_hugepage/enabled",
                                        "/proc/self/stat"};
    int tried = 0;
    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct stat sb;
        int count;
        char *got;
        if (stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode) || access(paths[i], R_OK) != 0)
            continue;
        got = read_all(paths[i], &count);
        if (count < 1) fail_msg("no label read from %s", paths[i]);
        free(got);
        tried++;
    }
    if (tried == 0) skip(); /* no /sys nor /proc here: nothing to show */
}

static const struct CMUnitTest tests[] = {
    T(test_labels_utf8_valid_multibyte),
    T(test_labels_utf8_overlong),
    T(test_labels_utf8_surrogates),
    T(test_labels_utf8_beyond_max),
    T(test_labels_utf8_truncated),
    T(test_labels_utf8_stray_continuation),
    T(test_labels_strips_spaces_tabs_cr),
    T(test_labels_crlf_file),
    T(test_labels_strips_unicode_whitespace),
    T(test_labels_lone_cr_ends_line),
    T(test_labels_skips_blank_lines),
    T(test_labels_bom_on_first_line),
    T(test_labels_invalid_utf8_names_line),
    T(test_labels_invalid_utf8_line_three),
    T(test_labels_invalid_utf8_after_bom),
    T(test_labels_nul_byte_names_line),
    T(test_labels_nul_byte_first_line),
    T(test_labels_nul_byte_in_whitespace),
    T(test_labels_empty_file),
    T(test_labels_no_trailing_newline),
    T(test_labels_long_line_round_trips),
    T(test_labels_open_missing_file),
    T(test_labels_open_folder),
    T(test_labels_open_unreadable),
    T(test_labels_line_of_each_label),
    T(test_labels_lone_cr_file_over_line_limit),
    T(test_labels_nul_past_first_block_of_cr_file),
    T(test_labels_label_of_exactly_64_mib),
    T(test_labels_file_shrinks_while_read),
    T(test_labels_file_rewritten_while_read),
    T(test_labels_sysfs_and_proc_files_read),
};

SQLPOOL_TEST_MAIN(tests)
