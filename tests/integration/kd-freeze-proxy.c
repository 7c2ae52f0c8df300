/*
 * kd-freeze-proxy: a TCP relay on 127.0.0.1 that can wedge the
 * connections it carries, for the sync watchdog test.
 *
 *   kd-freeze-proxy --target PORT --port-file FILE
 *
 * Listens on a free 127.0.0.1 port (written to FILE once listening) and
 * relays every accepted connection to 127.0.0.1:PORT. SIGUSR1 freezes
 * every connection open at that moment: the relay stops reading and
 * writing them but keeps both sockets open, so the peers' kernels still
 * acknowledge each other's packets (keepalive probes included) and no
 * byte gets through -- a live-looking, silent connection, as behind a
 * wedged provider thread or middlebox. Connections accepted later relay
 * normally. SIGTERM or SIGINT ends the relay. Single-threaded, poll(2).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#define MAX_PAIRS 64

typedef struct {
    int fd[2]; /* client, server; -1 when closed */
    gboolean frozen;
} Pair;

static volatile sig_atomic_t freeze_requested;
static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1) {
        freeze_requested = 1;
    } else {
        stop_requested = 1;
    }
}

static int
listen_loopback(int *port_out)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port_out = ntohs(sa.sin_port);
    return fd;
}

static int
connect_loopback(int port)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((guint16)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
close_pair(Pair *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->fd[i] >= 0) {
            close(p->fd[i]);
            p->fd[i] = -1;
        }
    }
}

/* Copies what is readable on side @from to the other side; FALSE when
 * the pair should close. Blocking writes: test traffic is small. */
static gboolean
relay(Pair *p, int from)
{
    char buf[16384];
    ssize_t n = read(p->fd[from], buf, sizeof buf);
    ssize_t off = 0;

    if (n <= 0) {
        return n < 0 && errno == EINTR;
    }
    while (off < n) {
        ssize_t w = write(p->fd[1 - from], buf + off, (size_t)(n - off));

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return FALSE;
        }
        off += w;
    }
    return TRUE;
}

static void
accept_one(int lfd, int target, Pair *pairs)
{
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    int s;

    if (c < 0) {
        return;
    }
    s = connect_loopback(target);
    for (int i = 0; s >= 0 && i < MAX_PAIRS; i++) {
        if (pairs[i].fd[0] < 0) {
            pairs[i].fd[0] = c;
            pairs[i].fd[1] = s;
            pairs[i].frozen = FALSE;
            return;
        }
    }
    close(c);
    if (s >= 0) {
        close(s);
    }
}

static int
run(int lfd, int target)
{
    Pair pairs[MAX_PAIRS];
    struct pollfd pfd[1 + 2 * MAX_PAIRS];
    int owner[1 + 2 * MAX_PAIRS];

    for (int i = 0; i < MAX_PAIRS; i++) {
        pairs[i].fd[0] = pairs[i].fd[1] = -1;
    }
    while (!stop_requested) {
        nfds_t n = 1;

        if (freeze_requested) {
            freeze_requested = 0;
            for (int i = 0; i < MAX_PAIRS; i++) {
                pairs[i].frozen = pairs[i].fd[0] >= 0;
            }
        }
        pfd[0].fd = lfd;
        pfd[0].events = POLLIN;
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (pairs[i].fd[0] < 0 || pairs[i].frozen) {
                continue;
            }
            for (int side = 0; side < 2; side++) {
                pfd[n].fd = pairs[i].fd[side];
                pfd[n].events = POLLIN;
                owner[n] = i * 2 + side;
                n++;
            }
        }
        if (poll(pfd, n, 200) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 1;
        }
        if (pfd[0].revents & POLLIN) {
            accept_one(lfd, target, pairs);
        }
        for (nfds_t k = 1; k < n; k++) {
            Pair *p = &pairs[owner[k] / 2];

            if (pfd[k].revents == 0 || p->fd[0] < 0 || p->frozen) {
                continue;
            }
            if (!relay(p, owner[k] % 2)) {
                close_pair(p);
            }
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++) {
        close_pair(&pairs[i]);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    int target = 0, port = 0, lfd;
    g_autofree char *port_file = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {
        {"target", 0, 0, G_OPTION_ARG_INT, &target, "port on 127.0.0.1",
         NULL},
        {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
         "where to write the listening port", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    struct sigaction sa = {0};

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || target <= 0 ||
        target > 65535 || port_file == NULL) {
        fprintf(stderr, "kd-freeze-proxy: %s\n",
                error != NULL ? error->message
                              : "--target PORT and --port-file are required");
        return 2;
    }
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lfd = listen_loopback(&port);
    if (lfd < 0) {
        fprintf(stderr, "kd-freeze-proxy: cannot listen: %s\n",
                g_strerror(errno));
        return 1;
    }
    text = g_strdup_printf("%d\n", port);
    if (!g_file_set_contents(port_file, text, -1, &error)) {
        fprintf(stderr, "kd-freeze-proxy: %s\n", error->message);
        return 1;
    }
    return run(lfd, target);
}
