/* jsonout.c: jansson output, normalised to Python's escaping. */
#include "jsonout.h"

#include <stdlib.h>

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
    return 0;
}
