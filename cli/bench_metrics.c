/*
 * bench_metrics.c: the --metrics-listen server of `sqlpool bench` (see bench_metrics.h). One
 * libmicrohttpd polling thread answers requests; the pool it shows is swapped under a mutex
 * that each request holds while it uses the pool, so a pool is never closed under a request.
 * A reaper thread cuts every connection older than CONN_DEADLINE: libmicrohttpd's own
 * timeout counts idle time only, which a client sending a byte a second resets forever, so
 * CONN_LIMIT such clients would keep everyone else out.
 */
#include "bench_metrics.h"

#include "commands.h"
#include "exitcodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_metrics_parse_listen(const char *value, unsigned char ip[4], int *port) {
    const char *colon = strrchr(value, ':'), *p;
    long n = 0;
    int octet = 0, digits = 0;
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5) return -1;
    /* a.b.c.d: four decimal octets, no sign, no leading zero (which some read as octal). */
    for (p = value; p <= colon; p++) {
        if (*p >= '0' && *p <= '9') {
            if (digits > 0 && n == 0) return -1;
            n = n * 10 + (*p - '0');
            if (n > 255 || ++digits > 3) return -1;
        } else if ((*p == '.' && octet < 3) || (p == colon && octet == 3)) {
            if (digits == 0) return -1;
            ip[octet++] = (unsigned char)n;
            n = 0;
            digits = 0;
        } else {
            return -1;
        }
    }
    if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0) return -1; /* not a wildcard */
    if (colon[1] == '0' && colon[2] != '\0') return -1;                  /* no leading zero */
    for (p = colon + 1, n = 0; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return -1;
        n = n * 10 + (*p - '0');
    }
    if (n > 65535) return -1;
    *port = (int)n;
    return 0;
}

#ifndef SQLPOOL_CLI_HAVE_MHD

int bench_metrics_available(void) {
    return 0;
}

int bench_metrics_start(const unsigned char ip[4], int port, bench_metrics **out) {
    (void)ip;
    (void)port;
    *out = NULL;
    commands_error("--metrics-listen: built without libmicrohttpd");
    return EXIT_USAGE;
}

void bench_metrics_set_pool(bench_metrics *m, sqlpool *pool) {
    (void)m;
    (void)pool;
}

void bench_metrics_stop(bench_metrics *m) {
    (void)m;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_LIMIT 64      /* connections served at once; more are refused */
#define CONN_DEADLINE 5.0  /* seconds a connection may stay open: a scrape takes milliseconds */
#define REAPER_PERIOD 0.25 /* seconds between the reaper's looks */

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* One open connection: its socket and when it was accepted (monotonic seconds). */
typedef struct conn_slot {
    int fd; /* -1: the slot is free */
    double since;
} conn_slot;

struct bench_metrics {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    sqlpool *pool; /* under lock; NULL between pooled runs */

    pthread_mutex_t conns_lock;  /* guards the fields below */
    pthread_cond_t reaper_wake;  /* on CLOCK_MONOTONIC; signalled when stopping */
    conn_slot conns[CONN_LIMIT]; /* set and cleared by libmicrohttpd's notifications */
    int stopping;
    pthread_t reaper;
};

int bench_metrics_available(void) {
    return 1;
}

static void lock(pthread_mutex_t *mu) {
    if (pthread_mutex_lock(mu) != 0) abort();
}

static void unlock(pthread_mutex_t *mu) {
    if (pthread_mutex_unlock(mu) != 0) abort();
}

/* Queue status with body (malloc'd, taken over; NULL: out of memory, 500). */
static mhd_result reply(struct MHD_Connection *c, unsigned status, char *body, const char *type) {
    struct MHD_Response *resp;
    mhd_result ret;
    if (body == NULL) {
        static char oom[] = "out of memory\n";
        resp = MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        type = "text/plain";
    } else {
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    }
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static char *text(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

/* The Prometheus text of pool, malloc'd; NULL when out of memory. Under m->lock. */
static char *metrics_text(sqlpool *pool) {
    size_t needed = 0, len = 4096;
    for (int tries = 0; tries < 4; tries++) {
        char *buf = malloc(len);
        if (buf == NULL) return NULL;
        if (sqlpool_stats_format(pool, SQLPOOL_FORMAT_PROMETHEUS, buf, len, &needed) == SQLPOOL_OK)
            return buf;
        free(buf);
        len = needed + 1024; /* the counters may grow between the calls */
    }
    return NULL;
}

static mhd_result serve_metrics(bench_metrics *m, struct MHD_Connection *c) {
    char *body = NULL;
    int have_pool;
    lock(&m->lock);
    if ((have_pool = m->pool != NULL)) body = metrics_text(m->pool);
    unlock(&m->lock);
    if (have_pool) return reply(c, MHD_HTTP_OK, body, "text/plain; version=0.0.4");
    return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                 text("no pool: no pooled benchmark run is in progress\n"), "text/plain");
}

static char *health_json(int healthy, const sqlpool_health *h, const char *error) {
    json_t *doc = healthy ? json_pack("{s:s, s:s, s:s}", "status", "healthy", "backend", h->backend,
                                      "version", h->version)
                          : json_pack("{s:s, s:s}", "status", "unhealthy", "error", error);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

/* Borrow a connection (an idle one at once, else waiting a little) and check it. A check only
 * reads: on a single-writer pool it takes a reader, never the writer the clients queue for
 * (on a plain pool the read calls are the plain ones). */
static char *health_check(sqlpool *pool, int *healthy) {
    sqlpool_conn *conn = NULL;
    sqlpool_health h;
    int rc = sqlpool_try_acquire_read(pool, &conn);
    memset(&h, 0, sizeof h);
    *healthy = 0;
    if (rc == SQLPOOL_EAGAIN)
        rc = sqlpool_acquire_read_until(pool, &conn,
                                        sqlpool_clock(pool) + BENCH_METRICS_HEALTH_WAIT);
    if (rc != SQLPOOL_OK) return health_json(0, &h, sqlpool_strerror(rc));
    rc = sqlpool_conn_health(conn, &h);
    if (rc == SQLPOOL_OK && h.healthy) {
        sqlpool_release(conn);
        *healthy = 1;
        return health_json(1, &h, NULL);
    }
    if (rc == SQLPOOL_EBROKEN)
        sqlpool_discard(conn);
    else
        sqlpool_release(conn);
    return health_json(0, &h, h.error[0] ? h.error : sqlpool_strerror(rc));
}

static mhd_result serve_health(bench_metrics *m, struct MHD_Connection *c) {
    char *body;
    int healthy = 0;
    lock(&m->lock);
    if (m->pool != NULL)
        body = health_check(m->pool, &healthy);
    else
        body = health_json(0, NULL, "no pooled benchmark run is in progress");
    unlock(&m->lock);
    return reply(c, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body, "application/json");
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls) {
    bench_metrics *m = cls;
    int known = strcmp(url, "/metrics") == 0 || strcmp(url, "/health") == 0;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (!known) return reply(c, MHD_HTTP_NOT_FOUND, text("not found\n"), "text/plain");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text("only GET and HEAD\n"), "text/plain");
    return url[1] == 'm' ? serve_metrics(m, c) : serve_health(m, c);
}

static double now(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libmicrohttpd's connection notifications (its polling thread): note each connection's
 * socket and start time in a free slot, and free the slot when it closes, which it does
 * before it closes the socket. So the reaper, holding conns_lock, only ever shuts down a
 * socket that is still the connection's. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode what) {
    bench_metrics *m = cls;
    lock(&m->conns_lock);
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        for (int i = 0; info != NULL && i < CONN_LIMIT; i++)
            if (m->conns[i].fd < 0) {
                m->conns[i].fd = (int)info->connect_fd;
                m->conns[i].since = now();
                *socket_context = &m->conns[i];
                break;
            }
    } else if (*socket_context != NULL) {
        ((conn_slot *)*socket_context)->fd = -1;
        *socket_context = NULL;
    }
    unlock(&m->conns_lock);
}

/* Cut connections past CONN_DEADLINE: shutdown() makes libmicrohttpd see the end of the
 * stream and close the connection itself. */
static void *reaper_main(void *arg) {
    bench_metrics *m = arg;
    lock(&m->conns_lock);
    while (!m->stopping) {
        double t = now() + REAPER_PERIOD;
        struct timespec ts;
        for (int i = 0; i < CONN_LIMIT; i++)
            if (m->conns[i].fd >= 0 && t - REAPER_PERIOD - m->conns[i].since > CONN_DEADLINE) {
                (void)shutdown(m->conns[i].fd, SHUT_RDWR);
                m->conns[i].since = t; /* again in CONN_DEADLINE if it is still open */
            }
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
        (void)pthread_cond_timedwait(&m->reaper_wake, &m->conns_lock, &ts);
    }
    unlock(&m->conns_lock);
    return NULL;
}

/* The slots free, the condition variable on CLOCK_MONOTONIC: 0, or -1. */
static int conns_init(bench_metrics *m) {
    pthread_condattr_t attr;
    int ok;
    for (int i = 0; i < CONN_LIMIT; i++)
        m->conns[i].fd = -1;
    if (pthread_condattr_init(&attr) != 0) return -1;
    ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&m->reaper_wake, &attr) == 0;
    (void)pthread_condattr_destroy(&attr);
    if (!ok) return -1;
    if (pthread_mutex_init(&m->conns_lock, NULL) == 0) return 0;
    (void)pthread_cond_destroy(&m->reaper_wake);
    return -1;
}

static void reaper_stop(bench_metrics *m) {
    lock(&m->conns_lock);
    m->stopping = 1;
    (void)pthread_cond_signal(&m->reaper_wake);
    unlock(&m->conns_lock);
    (void)pthread_join(m->reaper, NULL);
}

/* A listening socket on ip:port: the fd, or -1 with errno set. */
static int listen_on(const unsigned char ip[4], int port, struct sockaddr_in *sa) {
    socklen_t salen = sizeof *sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, saved;
    if (fd < 0) return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    memcpy(&sa->sin_addr, ip, 4);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, (struct sockaddr *)sa, sizeof *sa) == 0 && listen(fd, 16) == 0 &&
        getsockname(fd, (struct sockaddr *)sa, &salen) == 0)
        return fd;
    saved = errno;
    (void)close(fd);
    errno = saved;
    return -1;
}

/* A server without its daemon yet: locks, free slots, the reaper running. NULL on failure. */
static bench_metrics *metrics_new(void) {
    bench_metrics *m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    if (conns_init(m) == 0) {
        if (pthread_create(&m->reaper, NULL, reaper_main, m) == 0) return m;
        (void)pthread_cond_destroy(&m->reaper_wake);
        (void)pthread_mutex_destroy(&m->conns_lock);
    }
    (void)pthread_mutex_destroy(&m->lock);
    free(m);
    return NULL;
}

/* Stop the reaper (then the daemon, if any) and free m. */
static void metrics_free(bench_metrics *m) {
    reaper_stop(m);
    if (m->daemon != NULL) MHD_stop_daemon(m->daemon); /* closes the listening socket too */
    (void)pthread_cond_destroy(&m->reaper_wake);
    (void)pthread_mutex_destroy(&m->conns_lock);
    (void)pthread_mutex_destroy(&m->lock);
    free(m);
}

int bench_metrics_start(const unsigned char ip[4], int port, bench_metrics **out) {
    struct sockaddr_in sa;
    char addr[INET_ADDRSTRLEN] = "?";
    bench_metrics *m;
    int fd;
    *out = NULL;
    (void)inet_ntop(AF_INET, ip, addr, sizeof addr);
    if ((fd = listen_on(ip, port, &sa)) < 0) {
        commands_error("--metrics-listen: cannot listen on %s:%d: %s", addr, port, strerror(errno));
        return EXIT_UNAVAILABLE;
    }
    if ((m = metrics_new()) == NULL) {
        commands_error("--metrics-listen: cannot start the HTTP server's threads");
        (void)close(fd);
        return EXIT_OSERR;
    }
    m->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONN_DEADLINE, MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_END);
    if (m->daemon == NULL) {
        commands_error("--metrics-listen: cannot start the HTTP server on %s:%d", addr, port);
        (void)close(fd);
        metrics_free(m);
        return EXIT_SOFTWARE;
    }
    (void)fprintf(stderr, "metrics: listening on %s:%u\n", addr, (unsigned)ntohs(sa.sin_port));
    (void)fflush(stderr);
    *out = m;
    return 0;
}

void bench_metrics_set_pool(bench_metrics *m, sqlpool *pool) {
    if (m == NULL) return;
    lock(&m->lock);
    m->pool = pool;
    unlock(&m->lock);
}

void bench_metrics_stop(bench_metrics *m) {
    if (m == NULL) return;
    metrics_free(m);
}

#endif
