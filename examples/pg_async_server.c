/*
 * pg_async_server.c: epoll_server.c on PostgreSQL, where the query itself is asynchronous
 * too. Each request is a line "N\n"; the answer is the line "2N\n", from SELECT $1 * 2.
 *
 *   pg_async_server [--db URL] [--requests N] PORT   (URL: else $SQLPOOL_TEST_PG; PORT 0: any)
 *
 * A request's way: the client's line -> sqlpool_acquire_async() -> the pool's event fd turns
 * readable -> sqlpool_dispatch() runs the callback, which sends the query with libpq's
 * PQsendQueryParams() and adds the connection's socket, PQsocket(), to the epoll set -> the
 * socket turns readable -> PQconsumeInput(), and PQgetResult() until libpq is no longer busy
 * -> the answer goes out, the socket leaves the epoll set, and sqlpool_release_async() gives
 * the connection back (its reset, if it needs one, runs on the pool's threads). No call on
 * the loop's thread waits for the server.
 * With --requests N the server stops after N answers, closing the pool from the loop's thread.
 */
#define _GNU_SOURCE /* accept4 */
#include <sqlpool.h>
#include <libpq-fe.h>

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
    sqlpool_conn *conn;   /* non-NULL while a query is in flight on it */
    watch pg_w;           /* its socket's events */
};

static void query_end(client *c, int broken);

/* Closed, not freed: an event for it may still be in the batch epoll_wait() returned. */
static void client_close(client *c) {
    if (c->fd < 0) return;
    if (c->conn != NULL) query_end(c, 1); /* a query in flight: its result is never read */
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
    if (c->fd < 0 || c->req != NULL || c->conn != NULL || memchr(c->in, '\n', c->in_len) == NULL)
        return;
    c->in[c->in_len] = '\0'; /* for strtol (in keeps one byte spare) */
    if (sqlpool_acquire_async(c->srv->pool, SQLPOOL_DEADLINE_DEFAULT, on_connection, c, &c->req) !=
        SQLPOOL_OK) {
        fprintf(stderr, "pg_async_server: %s\n", sqlpool_errmsg());
        client_close(c);
    }
}

/* The answer to the client's first line: write it, drop the line, start on the next. */
static void client_answer(client *c, const char *answer) {
    c->srv->answered++;
    size_t used = (size_t)((char *)memchr(c->in, '\n', c->in_len) - c->in) + 1;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    /* Short: a non-blocking write takes it whole unless the client stopped reading, which
     * this example treats as a broken client (MSG_NOSIGNAL: a client gone is an
     * error, not a SIGPIPE). */
    size_t len = strlen(answer);
    if (send(c->fd, answer, len, MSG_NOSIGNAL) != (ssize_t)len) client_close(c);
    client_next(c);
}

/* The query is over: the socket leaves the epoll set (the pool may close it, or lend the
 * connection to another client), libpq goes back to blocking mode, which the pool expects,
 * and the connection goes back. A connection whose query failed midway is discarded. */
static void query_end(client *c, int broken) {
    PGconn *pg = sqlpool_conn_pg(c->conn);
    epoll_ctl(c->srv->ep, EPOLL_CTL_DEL, PQsocket(pg), NULL);
    PQsetnonblocking(pg, 0);
    if (broken)
        sqlpool_discard_async(c->conn);
    else
        sqlpool_release_async(c->conn);
    c->conn = NULL;
}

/* Step 4: the connection's socket is ready. libpq reads what has come; PQisBusy() says
 * whether a PQgetResult() would block. The query gives one result, then NULL. */
static void on_pg(void *ctx, uint32_t events) {
    client *c = ctx;
    PGconn *pg;
    char answer[128];
    (void)events;
    if (c->conn == NULL) return; /* ended earlier in this turn */
    pg = sqlpool_conn_pg(c->conn);
    if (!PQconsumeInput(pg)) { /* the connection is lost */
        snprintf(answer, sizeof answer, "error: %s", PQerrorMessage(pg));
        query_end(c, 1);
        client_answer(c, answer);
        return;
    }
    snprintf(answer, sizeof answer, "error: no result\n");
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL) { /* done: answer, give the connection back */
            query_end(c, 0);
            client_answer(c, answer);
            return;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            snprintf(answer, sizeof answer, "%s\n", PQgetvalue(res, 0, 0));
        else
            snprintf(answer, sizeof answer, "error: %s", PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* Step 2: the pool's answer, run by sqlpool_dispatch() on the loop's thread. Step 3: send
 * the query without waiting, and watch the connection's socket for the result. */
static void on_connection(int rc, sqlpool_conn *conn, void *ctx) {
    client *c = ctx;
    char answer[128];
    PGconn *pg;

    c->req = NULL;          /* the request is gone once its callback runs */
    if (rc != SQLPOOL_OK) { /* SQLPOOL_ETIMEDOUT after acquire_timeout, a failed connect... */
        snprintf(answer, sizeof answer, "error: %s\n", sqlpool_strerror(rc));
        client_answer(c, answer);
        return;
    }
    c->conn = conn;
    pg = sqlpool_conn_pg(conn);
    /* The line, up to its newline, is the parameter: the server parses it as an int. */
    char param[32];
    int len = (int)((char *)memchr(c->in, '\n', c->in_len) - c->in);
    snprintf(param, sizeof param, "%.*s", len, c->in);
    const char *values[1] = {param};
    /* Non-blocking, so that sending never waits either (a query this small is sent whole:
     * a PQflush() left over would need EPOLLOUT). */
    if (PQsetnonblocking(pg, 1) != 0 ||
        !PQsendQueryParams(pg, "SELECT $1::int * 2", 1, NULL, values, NULL, NULL, 0) ||
        PQflush(pg) != 0) {
        snprintf(answer, sizeof answer, "error: %s", PQerrorMessage(pg));
        query_end(c, 1);
        client_answer(c, answer);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->pg_w};
    if (epoll_ctl(c->srv->ep, EPOLL_CTL_ADD, PQsocket(pg), &ev) != 0) {
        snprintf(answer, sizeof answer, "error: epoll_ctl\n");
        query_end(c, 1);
        client_answer(c, answer);
    }
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
    *c = (client){
        .srv = srv, .next = srv->clients, .fd = fd, .w = {on_client, c}, .pg_w = {on_pg, c}};
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
        perror("pg_async_server: listen");
        exit(1);
    }
    printf("pg_async_server: listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv) {
    server srv = {0};
    sqlpool_config cfg;
    const char *db = getenv("SQLPOOL_TEST_PG");
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--requests") == 0)
            srv.stop_after = atol(argv[i + 1]);
        else
            break;
    }
    if (i != argc - 1 || db == NULL || *db == '\0') {
        fprintf(stderr, "usage: pg_async_server [--db URL] [--requests N] PORT\n");
        return 2;
    }
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.max_open = 4; /* fewer than the clients: requests queue, first come first served */
    if (sqlpool_open(&cfg, &srv.pool) != SQLPOOL_OK) {
        fprintf(stderr, "pg_async_server: %s\n", sqlpool_errmsg());
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
        perror("pg_async_server: epoll_ctl");
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
    printf("pg_async_server: answered %ld requests\n", srv.answered);
    return 0;
}
