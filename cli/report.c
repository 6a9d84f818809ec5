/* report.c: the health and pool statistics objects of the summary. */
#include "report.h"

#include <string.h>

const char *report_version_key(const sqlpool_health *h) {
    return strcmp(h->backend, "postgresql") == 0 ? "server_version" : "sqlite_version";
}

json_t *report_health(const sqlpool_health *h) {
    if (h->healthy)
        return json_pack("{s:s, s:s}", "status", "healthy", report_version_key(h), h->version);
    return json_pack("{s:s, s:s}", "status", "unhealthy", "error", h->error);
}

/* Add one counter; returns -1 when out of memory. */
static int put_int(json_t *obj, const char *key, long long v) {
    return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static int put_real(json_t *obj, const char *key, double v) {
    return json_object_set_new(obj, key, json_real(v));
}

json_t *report_stats(const sqlpool_stats *st) {
    json_t *o = json_object();
    int bad = o == NULL;
    bad = bad || put_int(o, "created", st->created) || put_int(o, "reused", st->reused) ||
          put_int(o, "idle", st->idle) || put_int(o, "pool_size", st->max_idle) ||
          put_int(o, "peak_in_use", st->peak_in_use) || put_int(o, "in_use", st->in_use) ||
          put_int(o, "open", st->open) || put_int(o, "max_open", st->max_open) ||
          put_int(o, "connecting", st->connecting) || put_int(o, "waiting", st->waiting) ||
          put_int(o, "closed", st->closed) || put_int(o, "closed_idle", st->closed_idle) ||
          put_int(o, "closed_lifetime", st->closed_lifetime) ||
          put_int(o, "closed_broken", st->closed_broken) ||
          put_int(o, "closed_max_idle", st->closed_max_idle) ||
          put_int(o, "closed_pool", st->closed_pool) ||
          put_int(o, "closed_shrink", st->closed_shrink) ||
          put_int(o, "closed_close_idle", st->closed_close_idle) ||
          put_int(o, "discarded_by_hook", st->discarded_by_hook) ||
          put_int(o, "closed_evicted", st->closed_evicted) ||
          put_int(o, "discarded", st->discarded) ||
          put_int(o, "connect_retries", st->connect_retries) ||
          put_int(o, "connect_failures", st->connect_failures) ||
          put_int(o, "acquires", st->acquires) || put_int(o, "wait_count", st->wait_count) ||
          put_int(o, "timeouts", st->timeouts) || put_real(o, "wait_seconds", st->wait_seconds) ||
          put_real(o, "wait_p50", st->wait_p50) || put_real(o, "wait_p90", st->wait_p90) ||
          put_real(o, "wait_p99", st->wait_p99) || put_real(o, "wait_max", st->wait_max);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
