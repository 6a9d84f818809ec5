/*
 * example_client.c: runs one of the examples' line servers (examples/epoll_server.c,
 * libuv_server.c, pg_async_server.c) and checks its answers, for CTest.
 *
 *   example_client [-c CONNECTIONS] [-n REQUESTS] [-t SECONDS] -- SERVER [ARG...]
 *
 * Starts SERVER ARG... --requests REQUESTS 0 with its stdout on a pipe, reads the port from
 * its first line ("...: listening on 127.0.0.1:PORT"), then sends REQUESTS lines "N\n" in all
 * over CONNECTIONS concurrent connections (a thread each; each sends its next line before
 * reading the last answer, so lines arrive pipelined), checks that each answer is 2N, closes
 * its connections, and waits for the server to exit 0 (it stops after REQUESTS answers).
 * The whole run is bounded: after SECONDS the server is killed and the client fails.
 * Exits 0 when every answer was right and the server exited 0.
 */
#define _GNU_SOURCE /* dprintf, in POSIX since 2008 but not with _POSIX_C_SOURCE in glibc */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t server_pid;
static int port, per_conn;
static atomic_int wrong;

static void on_alarm(int sig) {
    static const char msg[] = "example_client: timed out; killing the server\n";
    (void)sig;
    if (server_pid > 0) kill(server_pid, SIGKILL);
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

/* Read one line from fd into buf (without the newline); 0 at end of file or error. */
static int read_line(int fd, char *buf, size_t size) {
    size_t n = 0;
    while (n + 1 < size) {
        char ch;
        ssize_t got = read(fd, &ch, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return 0;
        if (ch == '\n') break;
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return 1;
}

static void *client_main(void *arg) {
    int id = (int)(long)arg, fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char line[256];
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("example_client: connect");
        atomic_fetch_add(&wrong, per_conn);
        return NULL;
    }
    /* One line ahead: request i+1 is on its way while the answer to i is read. */
    for (int i = 0; i < per_conn; i++) {
        if (i == 0) dprintf(fd, "%d\n", id * 100000);
        if (i + 1 < per_conn) dprintf(fd, "%d\n", id * 100000 + i + 1);
        long want = 2L * (id * 100000 + i);
        if (!read_line(fd, line, sizeof line)) {
            fprintf(stderr, "example_client: connection %d: no answer to request %d\n", id, i);
            atomic_fetch_add(&wrong, per_conn - i);
            break;
        }
        if (strtol(line, NULL, 10) != want || line[0] == 'e') {
            fprintf(stderr, "example_client: connection %d: '%s' for %ld\n", id, line, want / 2);
            atomic_fetch_add(&wrong, 1);
        }
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int conns = 4, total = 200, seconds = 60, opt, out[2], status;
    char line[256], nbuf[32];
    while ((opt = getopt(argc, argv, "c:n:t:")) != -1) {
        if (opt == 'c')
            conns = atoi(optarg);
        else if (opt == 'n')
            total = atoi(optarg);
        else if (opt == 't')
            seconds = atoi(optarg);
        else
            return 64;
    }
    if (optind >= argc || conns < 1 || conns > 64 || total % conns != 0) {
        fprintf(stderr, "usage: example_client [-c CONNECTIONS] [-n REQUESTS (a multiple)] "
                        "[-t SECONDS] -- SERVER [ARG...]\n");
        return 64;
    }
    per_conn = total / conns;
    signal(SIGALRM, on_alarm);
    alarm((unsigned)seconds);

    /* The server: its argv, then --requests TOTAL 0. */
    int sargc = argc - optind;
    char **sargv = calloc((size_t)sargc + 4, sizeof *sargv);
    if (sargv == NULL || pipe(out) != 0) return 1;
    memcpy(sargv, argv + optind, (size_t)sargc * sizeof *sargv);
    snprintf(nbuf, sizeof nbuf, "%d", total);
    sargv[sargc] = "--requests";
    sargv[sargc + 1] = nbuf;
    sargv[sargc + 2] = "0";
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(sargv[0], sargv);
        perror("example_client: exec");
        _exit(127);
    }
    server_pid = pid;
    close(out[1]);
    if (!read_line(out[0], line, sizeof line) || strstr(line, "127.0.0.1:") == NULL) {
        fprintf(stderr, "example_client: the server did not say where it listens\n");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }
    port = atoi(strstr(line, "127.0.0.1:") + strlen("127.0.0.1:"));
    printf("example_client: %s\n", line);

    pthread_t th[64];
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, client_main, (void *)i);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);

    /* The rest of the server's output (its last line says how many it answered). */
    while (read_line(out[0], line, sizeof line))
        printf("example_client: %s\n", line);
    if (waitpid(pid, &status, 0) != pid) return 1;
    server_pid = 0;
    int bad = atomic_load(&wrong);
    printf("example_client: %d requests on %d connections, %d wrong or missing; server %s %d\n",
           total, conns, bad, WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    free(sargv);
    return bad == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
