/*
 * epoll_server.c: a TCP server on one thread, an epoll loop, and a pool, without a blocking
 * pool call on the loop. Each request is a line "N\n"; the answer is the line "2N\n", from
 * SELECT ?1 * 2 on a connection borrowed from the pool.
 *
 *   epoll_server [--db PATH] [--requests N] PORT     (PORT 0: any free port, printed)
 *
 * How a request travels:
 *   1. A client's line arrives; the loop asks for a connection with sqlpool_acquire_async(),
 *      which returns at once (a connect or a check, if one is needed, runs on the pool's own
 *      threads).
 *   2. When a connection is granted, the pool's event fd (sqlpool_event_fd(), in the same
 *      epoll set as the sockets) turns readable; the loop calls sqlpool_dispatch(), which runs
 *      the callback, here, on the loop's thread: no locks needed.
 *   3. The callback runs the query (SQLite: a local call, quick), writes the answer, and gives
 *      the connection back with sqlpool_release_async() (sqlpool_release() may roll back on
 *      the calling thread; this one never does).
 * With --requests N the server stops after N answers, closing the pool from the loop's thread.
 */
#define _GNU_SOURCE /* accept4 */
#include <sqlpool.h>
#include <sqlite3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* What epoll reports: each watched fd carries one of these, the function to call. */
typedef struct watch {
    void (*on_event)(void *ctx, uint32_t events);
    void *ctx;
} watch;

typedef struct client client;

typedef struct server {
    int ep, listener;
    sqlpool *pool;
    watch listen_w, pool_w;
    client *clients;           /* all of them, closed ones until the end of the loop's turn */
    long answered, stop_after; /* stop_after 0: run for ever */
} server;

/* One client connection: its socket, the bytes read but not yet answered, and the request
 * waiting for a connection (one at a time: the client's lines are answered in order). */
struct client {
    server *srv;
    client *next;
    int fd; /* -1 once closed */
    watch w;
    char in[512];
    size_t in_len;
    sqlpool_request *req; /* non-NULL while a request is pending */
};

/* Closed, not freed: an event for it may still be in the batch epoll_wait() returned. */
static void client_close(client *c) {
    if (c->fd < 0) return;
    /* A request still waiting is withdrawn: its callback never runs, and a connection
     * already granted to it goes back to the pool. */
    if (c->req != NULL) sqlpool_cancel(c->req);
    c->req = NULL;
    close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
}

/* After each turn of the loop (and at the end): free the clients closed. */
static void sweep(server *srv, int all) {
    for (client **p = &srv->clients; *p != NULL;) {
        client *c = *p;
        if (all) client_close(c);
        if (c->fd >= 0) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        free(c);
    }
}

static void on_connection(int rc, sqlpool_conn *conn, void *ctx);

/* Step 1: a whole line is there and nothing is pending: ask for a connection. */
static void client_next(client *c) {
    if (c->fd < 0 || c->req != NULL || memchr(c->in, '\n', c->in_len) == NULL) return;
    c->in[c->in_len] = '\0'; /* for strtol (in keeps one byte spare) */
    if (sqlpool_acquire_async(c->srv->pool, SQLPOOL_DEADLINE_DEFAULT, on_connection, c, &c->req) !=
        SQLPOOL_OK) {
        fprintf(stderr, "epoll_server: %s\n", sqlpool_errmsg());
        client_close(c);
    }
}

/* Step 2: the pool's answer, run by sqlpool_dispatch() on the loop's thread. */
static void on_connection(int rc, sqlpool_conn *conn, void *ctx) {
    client *c = ctx;
    sqlite3_stmt *stmt;
    char answer[64];
    long n = strtol(c->in, NULL, 10);

    c->req = NULL;          /* the request is gone once its callback runs */
    if (rc != SQLPOOL_OK) { /* SQLPOOL_ETIMEDOUT after acquire_timeout, a failed connect... */
        snprintf(answer, sizeof answer, "error: %s\n", sqlpool_strerror(rc));
    } else if (sqlpool_conn_prepare(conn, "SELECT ?1 * 2", &stmt) != SQLPOOL_OK) {
        snprintf(answer, sizeof answer, "error: %s\n", sqlpool_errmsg());
        sqlpool_release_async(conn);
    } else {
        /* The statement lives in the connection's cache: reset it, never finalize it. */
        sqlite3_bind_int64(stmt, 1, n);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            snprintf(answer, sizeof answer, "%lld\n", sqlite3_column_int64(stmt, 0));
        else
            snprintf(answer, sizeof answer, "error: %s\n", sqlite3_errmsg(sqlite3_db_handle(stmt)));
        sqlite3_reset(stmt);
        sqlpool_release_async(conn); /* step 3: back to the pool, no round trip here */
    }
    c->srv->answered++;

    /* Drop the line answered. The answer is short: a non-blocking send takes it whole unless
     * the client stopped reading or left, which this example treats as a broken client
     * (MSG_NOSIGNAL: a client gone is an error, not a SIGPIPE). */
    size_t used = (size_t)((char *)memchr(c->in, '\n', c->in_len) - c->in) + 1;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    size_t len = strlen(answer);
    if (send(c->fd, answer, len, MSG_NOSIGNAL) != (ssize_t)len) client_close(c);
    client_next(c); /* the next line, if it has arrived */
}

static void on_client(void *ctx, uint32_t events) {
    client *c = ctx;
    (void)events;
    if (c->fd < 0) return; /* closed earlier in this turn */
    ssize_t got = read(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {
        client_close(c); /* end of file, an error, or a line longer than the buffer */
        return;
    }
    c->in_len += (size_t)got;
    client_next(c);
}

static void on_listener(void *ctx, uint32_t events) {
    server *srv = ctx;
    int fd = accept4(srv->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    (void)events;
    if (fd < 0) return;
    client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    *c = (client){.srv = srv, .next = srv->clients, .fd = fd, .w = {on_client, c}};
    srv->clients = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->w};
    if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &ev) != 0) client_close(c);
}

/* Step 2: callbacks are ready. The fd is level-triggered: it stays readable until they
 * have all run, so one dispatch per wake-up is enough. */
static void on_pool(void *ctx, uint32_t events) {
    server *srv = ctx;
    (void)events;
    sqlpool_dispatch(srv->pool);
}

static int listen_on(int port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("epoll_server: listen");
        exit(1);
    }
    printf("epoll_server: listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv) {
    server srv = {0};
    sqlpool_config cfg;
    const char *db = ":memory:";
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--requests") == 0)
            srv.stop_after = atol(argv[i + 1]);
        else
            break;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: epoll_server [--db PATH] [--requests N] PORT\n");
        return 2;
    }
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.max_open = 4; /* fewer than the clients: requests queue, first come first served */
    if (sqlpool_open(&cfg, &srv.pool) != SQLPOOL_OK) {
        fprintf(stderr, "epoll_server: %s\n", sqlpool_errmsg());
        return 1;
    }
    srv.ep = epoll_create1(EPOLL_CLOEXEC);
    srv.listener = listen_on(atoi(argv[i]));
    srv.listen_w = (watch){on_listener, &srv};
    srv.pool_w = (watch){on_pool, &srv};
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &srv.listen_w};
    struct epoll_event pev = {.events = EPOLLIN, .data.ptr = &srv.pool_w};
    /* The pool's event fd sits in the epoll set beside the sockets. */
    if (epoll_ctl(srv.ep, EPOLL_CTL_ADD, srv.listener, &lev) != 0 ||
        epoll_ctl(srv.ep, EPOLL_CTL_ADD, sqlpool_event_fd(srv.pool), &pev) != 0) {
        perror("epoll_server: epoll_ctl");
        return 1;
    }

    while (srv.stop_after == 0 || srv.answered < srv.stop_after) {
        struct epoll_event evs[64];
        int n = epoll_wait(srv.ep, evs, 64, -1);
        for (int k = 0; k < n; k++) {
            watch *w = evs[k].data.ptr;
            w->on_event(w->ctx, evs[k].events);
        }
        sweep(&srv, 0);
    }

    /* Stop watching the pool's fd before sqlpool_close() closes it. The close runs on the
     * loop's thread: a request still pending is called back inside it, with SQLPOOL_ECLOSED;
     * closing the clients first withdraws theirs instead. */
    epoll_ctl(srv.ep, EPOLL_CTL_DEL, sqlpool_event_fd(srv.pool), NULL);
    sweep(&srv, 1);
    sqlpool_close(srv.pool);
    close(srv.listener);
    close(srv.ep);
    printf("epoll_server: answered %ld requests\n", srv.answered);
    return 0;
}
