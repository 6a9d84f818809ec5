/*
 * libuv_server.c: epoll_server.c's server on libuv. Each request is a line "N\n"; the answer
 * is the line "2N\n", from SELECT ?1 * 2 on a connection borrowed from the pool.
 *
 *   libuv_server [--db PATH] [--requests N] PORT     (PORT 0: any free port, printed)
 *
 * The pool joins the loop through a uv_poll_t on sqlpool_event_fd(): readable while
 * callbacks are ready, so its callback calls sqlpool_dispatch(), which runs them on the
 * loop's thread. sqlpool_acquire_async() never blocks (connects and checks run on the pool's
 * own threads), and sqlpool_release_async() gives a connection back without a round trip.
 * With --requests N the server stops listening after N answers and exits when its last
 * client has gone.
 */
#include <sqlpool.h>
#include <sqlite3.h>
#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_poll_t pool_poll; /* watches sqlpool_event_fd() */
    sqlpool *pool;
    long answered, stop_after; /* stop_after 0: run for ever */
    int stopping;
} server;

/* One client: the bytes read but not yet answered, and the request waiting for a
 * connection (one at a time: a client's lines are answered in order). */
typedef struct client {
    uv_tcp_t tcp; /* first: the handle's address is the client's */
    server *srv;
    char in[512];
    size_t in_len;
    sqlpool_request *req; /* non-NULL while a request is pending */
} client;

/* An answer on its way: libuv owns it until on_written. */
typedef struct reply {
    uv_write_t req;
    char text[64];
} reply;

static void on_closed(uv_handle_t *h) {
    free(h); /* the client, whose first member h is */
}

static void client_close(client *c) {
    if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
    /* A request still waiting is withdrawn: its callback never runs, and a connection
     * already granted to it goes back to the pool. */
    if (c->req != NULL) sqlpool_cancel(c->req);
    c->req = NULL;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_written(uv_write_t *req, int status) {
    (void)status;
    free(req); /* the reply, whose first member req is */
}

/* server_stop()'s walk: a client still waiting for a connection will get no answer. */
static void close_waiting(uv_handle_t *h, void *arg) {
    server *srv = arg;
    if (h->type == UV_TCP && h != (uv_handle_t *)&srv->listener && ((client *)h)->req != NULL)
        client_close((client *)h);
}

/* The last answer given: stop listening and stop watching the pool; uv_run() returns once
 * the clients have gone, and main() closes the pool. */
static void server_stop(server *srv) {
    srv->stopping = 1;
    uv_walk(srv->loop, close_waiting, srv);
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_close((uv_handle_t *)&srv->pool_poll, NULL);
}

static void on_connection(int rc, sqlpool_conn *conn, void *ctx);

/* A whole line is there and nothing is pending: ask for a connection. */
static void client_next(client *c) {
    if (c->req != NULL || memchr(c->in, '\n', c->in_len) == NULL) return;
    if (c->srv->stopping) { /* no more answers */
        client_close(c);
        return;
    }
    c->in[c->in_len] = '\0'; /* for strtol (in keeps one byte spare) */
    if (sqlpool_acquire_async(c->srv->pool, SQLPOOL_DEADLINE_DEFAULT, on_connection, c, &c->req) !=
        SQLPOOL_OK) {
        fprintf(stderr, "libuv_server: %s\n", sqlpool_errmsg());
        client_close(c);
    }
}

/* The pool's answer, run by sqlpool_dispatch() on the loop's thread. */
static void on_connection(int rc, sqlpool_conn *conn, void *ctx) {
    client *c = ctx;
    sqlite3_stmt *stmt;
    long n = strtol(c->in, NULL, 10);
    reply *r = malloc(sizeof *r);

    c->req = NULL; /* the request is gone once its callback runs */
    if (r == NULL) {
        if (conn != NULL) sqlpool_release_async(conn);
        client_close(c);
        return;
    }
    if (rc != SQLPOOL_OK) { /* SQLPOOL_ETIMEDOUT after acquire_timeout, a failed connect... */
        snprintf(r->text, sizeof r->text, "error: %s\n", sqlpool_strerror(rc));
    } else if (sqlpool_conn_prepare(conn, "SELECT ?1 * 2", &stmt) != SQLPOOL_OK) {
        snprintf(r->text, sizeof r->text, "error: %s\n", sqlpool_errmsg());
        sqlpool_release_async(conn);
    } else {
        /* The statement lives in the connection's cache: reset it, never finalize it. */
        sqlite3_bind_int64(stmt, 1, n);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            snprintf(r->text, sizeof r->text, "%lld\n", sqlite3_column_int64(stmt, 0));
        else
            snprintf(r->text, sizeof r->text, "error: %s\n",
                     sqlite3_errmsg(sqlite3_db_handle(stmt)));
        sqlite3_reset(stmt);
        sqlpool_release_async(conn); /* back to the pool, no round trip here */
    }

    uv_buf_t buf = uv_buf_init(r->text, (unsigned)strlen(r->text));
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
        free(r);
        client_close(c);
        return;
    }
    /* Drop the line answered, then start on the next one, if it has arrived. */
    size_t used = (size_t)((char *)memchr(c->in, '\n', c->in_len) - c->in) + 1;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (++c->srv->answered == c->srv->stop_after) server_stop(c->srv);
    client_next(c);
}

/* libuv reads into the free end of the client's buffer. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    client *c = (client *)h;
    (void)suggested;
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - 1 - c->in_len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    client *c = (client *)stream;
    (void)buf;
    if (nread < 0) { /* UV_EOF, an error, or UV_ENOBUFS: a line longer than the buffer */
        client_close(c);
        return;
    }
    c->in_len += (size_t)nread;
    client_next(c);
}

static void on_accept(uv_stream_t *listener, int status) {
    server *srv = listener->data;
    client *c;
    if (status != 0 || (c = calloc(1, sizeof *c)) == NULL) return;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        client_close(c);
}

/* Callbacks are ready. The fd is level-triggered: it stays readable until they have all
 * run, so one dispatch per wake-up is enough. */
static void on_pool(uv_poll_t *poll, int status, int events) {
    server *srv = poll->data;
    (void)status;
    (void)events;
    sqlpool_dispatch(srv->pool);
}

int main(int argc, char **argv) {
    server srv = {0};
    sqlpool_config cfg;
    const char *db = ":memory:";
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = (int)sizeof bound, i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--requests") == 0)
            srv.stop_after = atol(argv[i + 1]);
        else
            break;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: libuv_server [--db PATH] [--requests N] PORT\n");
        return 2;
    }
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.max_open = 4; /* fewer than the clients: requests queue, first come first served */
    if (sqlpool_open(&cfg, &srv.pool) != SQLPOOL_OK) {
        fprintf(stderr, "libuv_server: %s\n", sqlpool_errmsg());
        return 1;
    }
    srv.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN); /* a write to a client gone: an error for on_written, not death */

    uv_tcp_init(srv.loop, &srv.listener);
    srv.listener.data = &srv;
    uv_ip4_addr("127.0.0.1", atoi(argv[i]), &addr);
    int rc = uv_tcp_bind(&srv.listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv.listener, 128, on_accept);
    if (rc == 0) rc = uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &len);
    if (rc != 0) {
        fprintf(stderr, "libuv_server: listen: %s\n", uv_strerror(rc));
        return 1;
    }
    printf("libuv_server: listening on 127.0.0.1:%d\n",
           ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);

    /* The pool's event fd, watched like any socket. */
    uv_poll_init(srv.loop, &srv.pool_poll, sqlpool_event_fd(srv.pool));
    srv.pool_poll.data = &srv;
    uv_poll_start(&srv.pool_poll, UV_READABLE, on_pool);

    uv_run(srv.loop, UV_RUN_DEFAULT);

    /* Nothing watches the pool's fd any more (sqlpool_close() closes it), and no request is
     * pending: the close, on the loop's thread, has nothing to call back. */
    sqlpool_close(srv.pool);
    uv_loop_close(srv.loop);
    printf("libuv_server: answered %ld requests\n", srv.answered);
    return 0;
}
