/* jsonout.c: jansson output, normalised to Python's escaping. */
#include "jsonout.h"

#include <stdlib.h>
#include <string.h>

void jsonout_lower_escapes(char *buf, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (buf[i] != '\\') {
            i++;
            continue;
        }
        /* An escape: "\\" or "\"" are two bytes; "\uXXXX" six. */
        if (i + 5 < len && buf[i + 1] == 'u') {
            for (size_t k = i + 2; k < i + 6; k++)
                if (buf[k] >= 'A' && buf[k] <= 'F') buf[k] = (char)(buf[k] - 'A' + 'a');
            i += 6;
        } else {
            i += 2;
        }
    }
}

/* Python escapes DEL (0x7f) as \u007f; jansson writes the byte. It can only be inside a
 * string, so every one is replaced, the text growing 5 bytes each. Returns 0 or -1. */
static int escape_del(char **buf, size_t *cap, size_t *len) {
    size_t n = 0, from, to;
    for (const char *p = *buf; (p = memchr(p, 0x7f, *len - (size_t)(p - *buf))) != NULL; p++)
        n++;
    if (n == 0) return 0;
    if (*len + 5 * n > *cap) {
        char *bigger = realloc(*buf, *len + 5 * n);
        if (bigger == NULL) return -1;
        *buf = bigger;
        *cap = *len + 5 * n;
    }
    /* Back to front, so nothing is overwritten before it is moved. */
    for (from = *len, to = *len + 5 * n; from > 0;) {
        char c = (*buf)[--from];
        if (c != 0x7f) {
            (*buf)[--to] = c;
            continue;
        }
        to -= 6;
        memcpy(*buf + to, "\\u007f", 6);
    }
    *len += 5 * n;
    return 0;
}

int jsonout_dump(const json_t *json, size_t flags, char **buf, size_t *cap, size_t *len) {
    size_t need = json_dumpb(json, *buf, *cap, flags);
    if (need == 0) return -1;
    if (need > *cap) {
        size_t grown = need * 2;
        char *bigger = realloc(*buf, grown);
        if (bigger == NULL) return -1;
        *buf = bigger;
        *cap = grown;
        if (json_dumpb(json, *buf, *cap, flags) != need) return -1;
    }
    jsonout_lower_escapes(*buf, need);
    *len = need;
    return escape_del(buf, cap, len);
}
