/* jsonout.h: JSON text from jansson in the bytes Python's json.dumps(ensure_ascii=True)
 * would write: jansson escapes with upper-case hex (\u00E9), Python with lower (\u00e9), and
 * jansson leaves DEL (0x7f) as it is, where Python writes \u007f. */
#ifndef SQLPOOL_CLI_JSONOUT_H
#define SQLPOOL_CLI_JSONOUT_H

#include <jansson.h>
#include <stddef.h>

/* Dump json into *buf (grown as needed; *cap is its size), set *len, lower-case the hex of
 * every \u escape and escape DEL as \u007f. Returns 0, or -1 when out of memory or json cannot be
 * encoded. */
int jsonout_dump(const json_t *json, size_t flags, char **buf, size_t *cap, size_t *len);

/* Lower-case the four hex digits of each \u escape in JSON text buf[0..len). */
void jsonout_lower_escapes(char *buf, size_t len);

#endif
