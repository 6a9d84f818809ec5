/* summary.c: the summary's JSON text, streamed. Every byte goes through put_bytes, which
 * copies it to stdout when asked and keeps the first failure's errno for summary_flush. */
#include "summary.h"

#include "exitcodes.h"
#include "jsonout.h"

#include <errno.h>
#include <string.h>

static void put_bytes(summary *s, const char *data, size_t len) {
    if (fwrite(data, 1, len, s->file) != len && s->error == 0) s->error = errno ? errno : EIO;
    if (s->tee && fwrite(data, 1, len, stdout) != len && s->tee_error == 0)
        s->tee_error = errno ? errno : EIO;
}

static void put(summary *s, const char *text) {
    put_bytes(s, text, strlen(text));
}

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *format_id(char *end, long long v) {
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) *--end = '-';
    return end;
}

void summary_rows_begin(summary *s, long long rows_inserted) {
    char digits[24], *d = format_id(digits + sizeof digits, rows_inserted);
    put(s, "{\n  \"rows_inserted\": ");
    put_bytes(s, d, (size_t)(digits + sizeof digits - d));
    put(s, ",\n  \"rows\": [");
}

/* 1 when label's JSON form is the label between quotes: printable ASCII, no '"' or '\\'.
 * Such labels (nearly all) are copied as they are; every other one goes through jansson. */
static int needs_no_escaping(const char *label, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return 0;
    }
    return 1;
}

/* Append n bytes to the row being assembled in buf at *at. */
static void append(char *buf, size_t *at, const char *data, size_t n) {
    memcpy(buf + *at, data, n);
    *at += n;
}

int summary_row(summary *s, long long id, const char *label, size_t len) {
    static const char head[] = ",\n    {\n      \"id\": ";
    static const char middle[] = ",\n      \"label\": ";
    static const char tail[] = "\n    }";
    char row[512], digits[24], *d = format_id(digits + sizeof digits, id);
    const char *text = label;
    size_t at = 0, text_len = len;
    int quote = needs_no_escaping(label, len);

    if (!quote) {
        if (json_string_setn(s->scratch, label, len) != 0) return -1;
        if (jsonout_dump(s->scratch, JSON_ENCODE_ANY | JSON_ENSURE_ASCII, &s->text, &s->text_cap,
                         &text_len) != 0)
            return -1;
        text = s->text;
    }
    /* One write per row: stdio's per-call locking costs more than the copying. */
    append(row, &at, head + (s->rows ? 0 : 1), sizeof head - (s->rows ? 1 : 2));
    append(row, &at, d, (size_t)(digits + sizeof digits - d));
    append(row, &at, middle, sizeof middle - 1);
    if (at + text_len + 2 + sizeof tail <= sizeof row) {
        if (quote) row[at++] = '"';
        append(row, &at, text, text_len);
        if (quote) row[at++] = '"';
        append(row, &at, tail, sizeof tail - 1);
        put_bytes(s, row, at);
    } else {
        put_bytes(s, row, at);
        if (quote) put_bytes(s, "\"", 1);
        put_bytes(s, text, text_len);
        if (quote) put_bytes(s, "\"", 1);
        put_bytes(s, tail, sizeof tail - 1);
    }
    s->rows++;
    return 0;
}

void summary_rows_end(summary *s) {
    put(s, s->rows ? "\n  ],\n" : "],\n");
}

/* jansson's 2-space output, indented two more spaces: it nests one level down. */
static void put_indented(summary *s, const char *text, size_t len) {
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        put_bytes(s, text + from, i + 1 - from);
        put(s, "  ");
        from = i + 1;
    }
    put_bytes(s, text + from, len - from);
}

void summary_object(summary *s, const char *key, json_t *obj, int last) {
    size_t len;
    put(s, "  \"");
    put(s, key);
    put(s, "\": ");
    if (jsonout_dump(obj, JSON_INDENT(2) | JSON_ENSURE_ASCII, &s->text, &s->text_cap, &len) != 0) {
        if (s->error == 0) s->error = ENOMEM;
    } else {
        put_indented(s, s->text, len);
    }
    put(s, last ? "\n}\n" : ",\n");
}

int summary_flush(summary *s, char *err, size_t errlen) {
    if (fflush(s->file) != 0 && s->error == 0) s->error = errno ? errno : EIO;
    if (s->error == 0 && ferror(s->file)) s->error = EIO;
    if (s->tee && fflush(stdout) != 0 && s->tee_error == 0) s->tee_error = errno ? errno : EIO;
    if (s->error != 0) {
        (void)snprintf(err, errlen, "cannot write output '%s': %s", s->path, strerror(s->error));
        return EXIT_IOERR;
    }
    if (s->tee_error != 0) {
        (void)snprintf(err, errlen, "cannot write to standard output: %s", strerror(s->tee_error));
        return EXIT_IOERR;
    }
    return 0;
}
