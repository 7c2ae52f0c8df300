/*
 * kd-sandbox-probe -- small network helper for tests/sandbox/kd-sandbox.
 *
 * The sandbox script needs three things bash cannot do well: find free
 * loopback ports that no parallel sandbox will take, wait for a server's
 * greeting with a deadline, and talk to Cyrus's unix-domain kick socket.
 * kd-sandbox compiles this file with ${CC:-cc} into the sandbox directory.
 *
 *   kd-sandbox-probe ports N OWNER_DIR
 *       Print N distinct free TCP ports on 127.0.0.1, one per line.  Ports
 *       are drawn at random below the kernel's ephemeral range (so client
 *       connections never occupy them), must be bindable right now, and are
 *       reserved with a symlink /tmp/kd-sandbox-ports/<port> -> OWNER_DIR.
 *       A reservation is stale (and reused) when OWNER_DIR is gone or holds
 *       run/down.  kd-sandbox down removes its reservations.
 *   kd-sandbox-probe greet PORT PREFIX TIMEOUT_MS [PID]
 *       Connect to 127.0.0.1:PORT every 10 ms until a line the server sends
 *       within 1 s starts with PREFIX.  Fails after TIMEOUT_MS, or at once
 *       when PID (the server's master process) has died.
 *   kd-sandbox-probe kick SOCKET TIMEOUT_MS [PID]
 *       Connect to the unix socket SOCKET (Cyrus's mupdate.target) and wait
 *       for "ok", retrying every 10 ms until TIMEOUT_MS.
 *
 * Exit status 0 on success, 1 on failure (with a message on stderr), 2 on
 * usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RESERVE_DIR "/tmp/kd-sandbox-ports"
#define PORT_LOW 20000

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

static int port_high(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    int lo = 32768, hi = 60999;

    if (f != NULL) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2) {
            lo = 32768;
        }
        fclose(f);
    }
    if (lo - 1 <= PORT_LOW + 1000) {
        return 32767;
    }
    return lo - 1;
}

static int bindable(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok;

    if (fd < 0) {
        return 0;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* no SO_REUSEADDR: ports in TIME_WAIT are skipped as well */
    ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static int reservation_stale(const char *link)
{
    char target[4096], probe[4200];
    ssize_t n = readlink(link, target, sizeof target - 1);
    struct stat st;

    if (n < 0) {
        return errno == ENOENT ? 1 : 0;
    }
    target[n] = '\0';
    if (stat(target, &st) != 0) {
        return 1;
    }
    snprintf(probe, sizeof probe, "%s/run/down", target);
    return stat(probe, &st) == 0;
}

static int reserve(int port, const char *owner)
{
    char link[256];

    snprintf(link, sizeof link, RESERVE_DIR "/%d", port);
    if (symlink(owner, link) == 0) {
        return 1;
    }
    if (errno != EEXIST || !reservation_stale(link)) {
        return 0;
    }
    /* stale: take it over; a concurrent taker loses the second symlink */
    if (unlink(link) != 0 && errno != ENOENT) {
        return 0;
    }
    return symlink(owner, link) == 0;
}

static int cmd_ports(int n, const char *owner)
{
    int high = port_high(), got = 0, tries;
    int *ports;

    if (n < 1 || n > 64) {
        fprintf(stderr, "kd-sandbox-probe: bad port count %d\n", n);
        return 2;
    }
    if (mkdir(RESERVE_DIR, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kd-sandbox-probe: mkdir %s: %s\n", RESERVE_DIR,
                strerror(errno));
        return 1;
    }
    ports = calloc((size_t)n, sizeof *ports);
    if (ports == NULL) {
        return 1;
    }
    srand((unsigned)(getpid() ^ now_ms()));
    for (tries = 0; got < n && tries < 5000; tries++) {
        int port = PORT_LOW + rand() % (high - PORT_LOW + 1);
        int i, dup = 0;

        for (i = 0; i < got; i++) {
            dup |= ports[i] == port;
        }
        if (dup || !bindable(port) || !reserve(port, owner)) {
            continue;
        }
        if (!bindable(port)) {
            /* someone bound it between the test and the reservation */
            char link[256];

            snprintf(link, sizeof link, RESERVE_DIR "/%d", port);
            unlink(link);
            continue;
        }
        ports[got++] = port;
    }
    if (got < n) {
        fprintf(stderr, "kd-sandbox-probe: found only %d of %d free ports\n",
                got, n);
        free(ports);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        printf("%d\n", ports[i]);
    }
    free(ports);
    return 0;
}

static int pid_alive(pid_t pid)
{
    return pid <= 0 || kill(pid, 0) == 0 || errno == EPERM;
}

/* Reads lines from fd until one starts with prefix; 1 = found. */
static int read_prefix(int fd, const char *prefix, long deadline)
{
    char buf[4096];
    size_t len = 0;

    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        long left = deadline - now_ms();
        ssize_t r;
        char *nl;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            return 0;
        }
        r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0) {
            return 0;
        }
        len += (size_t)r;
        buf[len] = '\0';
        for (;;) {
            /* buf starts a line; the kick socket sends "ok" without \n */
            if (strncmp(buf, prefix, strlen(prefix)) == 0) {
                return 1;
            }
            nl = strchr(buf, '\n');
            if (nl == NULL) {
                break;
            }
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof buf - 1) {
            len = 0;
        }
    }
}

static int try_connect(const struct sockaddr *sa, socklen_t salen, int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    if (connect(fd, sa, salen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int wait_for(int unix_sock, const char *where, const char *prefix,
                    long timeout_ms, pid_t pid)
{
    long deadline = now_ms() + timeout_ms;
    struct sockaddr_in in;
    struct sockaddr_un un;

    memset(&in, 0, sizeof in);
    memset(&un, 0, sizeof un);
    if (unix_sock) {
        if (strlen(where) >= sizeof un.sun_path) {
            fprintf(stderr, "kd-sandbox-probe: socket path too long: %s\n",
                    where);
            return 1;
        }
        un.sun_family = AF_UNIX;
        strcpy(un.sun_path, where);
    } else {
        in.sin_family = AF_INET;
        in.sin_port = htons((unsigned short)atoi(where));
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    while (now_ms() < deadline) {
        int fd = unix_sock
                     ? try_connect((struct sockaddr *)&un, sizeof un, AF_UNIX)
                     : try_connect((struct sockaddr *)&in, sizeof in, AF_INET);

        if (fd >= 0) {
            long d = now_ms() + 1000;
            int ok = read_prefix(fd, prefix, d < deadline ? d : deadline);

            close(fd);
            if (ok) {
                return 0;
            }
        }
        if (!pid_alive(pid)) {
            fprintf(stderr, "kd-sandbox-probe: process %d died while "
                    "waiting for %s\n", (int)pid, where);
            return 1;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "kd-sandbox-probe: no \"%s\" from %s within %ld ms\n",
            prefix, where, timeout_ms);
    return 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "ports") == 0) {
        return cmd_ports(atoi(argv[2]), argv[3]);
    }
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "greet") == 0) {
        return wait_for(0, argv[2], argv[3], atol(argv[4]),
                        argc == 6 ? (pid_t)atol(argv[5]) : 0);
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "kick") == 0) {
        return wait_for(1, argv[2], "ok", atol(argv[3]),
                        argc == 5 ? (pid_t)atol(argv[4]) : 0);
    }
    fprintf(stderr, "usage: kd-sandbox-probe ports N OWNER_DIR\n"
                    "       kd-sandbox-probe greet PORT PREFIX TIMEOUT_MS "
                    "[PID]\n"
                    "       kd-sandbox-probe kick SOCKET TIMEOUT_MS [PID]\n");
    return 2;
}
