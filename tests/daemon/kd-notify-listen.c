/*
 * kd-notify-listen: a stand-in for the service manager's end of the
 * sd_notify protocol, for the daemon lifecycle tests.
 *
 * usage: kd-notify-listen SOCKET_PATH MAX_SECONDS
 *
 * Binds an AF_UNIX datagram socket at SOCKET_PATH (a filesystem path; an
 * old socket there is removed first), makes it writable by everyone (the
 * daemon sends after dropping root), and prints every datagram it
 * receives as one line on stdout, its newlines replaced by spaces and
 * other control bytes by '?', flushed at once. It exits 0 on SIGTERM or
 * SIGINT, or after MAX_SECONDS (1-3600) so that a forgotten listener
 * cannot outlive its test; it removes the socket on the way out. Exit 2
 * on usage errors, 1 when the socket cannot be set up.
 */
#include <errno.h>
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

static volatile sig_atomic_t stop_requested;

static void
on_signal(int signum)
{
    (void)signum;
    stop_requested = 1;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints one datagram as one line; FALSE (0) when stdout fails. */
static int
print_datagram(const char *buf, size_t n)
{
    char line[4098];
    size_t j = 0;

    for (size_t i = 0; i < n && j < sizeof line - 2; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (c == '\n') {
            line[j++] = ' ';
        } else if (c < 0x20 || c == 0x7f) {
            line[j++] = '?';
        } else {
            line[j++] = (char)c;
        }
    }
    line[j++] = '\n';
    return fwrite(line, 1, j, stdout) == j && fflush(stdout) == 0;
}

int
main(int argc, char **argv)
{
    struct sockaddr_un addr;
    struct sigaction sa;
    char *end = NULL;
    long max_s;
    double deadline;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: kd-notify-listen SOCKET_PATH MAX_SECONDS\n");
        return 2;
    }
    max_s = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || max_s < 1 || max_s > 3600) {
        fprintf(stderr, "kd-notify-listen: MAX_SECONDS must be 1-3600\n");
        return 2;
    }
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (argv[1][0] != '/' || strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "kd-notify-listen: %s: need an absolute path of at "
                        "most %zu bytes\n",
                argv[1], sizeof addr.sun_path - 1);
        return 2;
    }
    memcpy(addr.sun_path, argv[1], strlen(argv[1]));

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("kd-notify-listen: socket");
        return 1;
    }
    unlink(argv[1]);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        chmod(argv[1], 0666) < 0) {
        fprintf(stderr, "kd-notify-listen: %s: %s\n", argv[1],
                strerror(errno));
        close(fd);
        return 1;
    }
    deadline = now_s() + (double)max_s;
    while (!stop_requested) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        double left = deadline - now_s();
        char buf[4096];
        ssize_t n;
        int rc;

        if (left <= 0) {
            break;
        }
        rc = poll(&p, 1, left > 0.2 ? 200 : (int)(left * 1000) + 1);
        if (rc < 0 && errno != EINTR) {
            perror("kd-notify-listen: poll");
            break;
        }
        if (rc <= 0) {
            continue;
        }
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                perror("kd-notify-listen: recv");
                break;
            }
            continue;
        }
        if (!print_datagram(buf, (size_t)n)) {
            break;
        }
    }
    close(fd);
    unlink(argv[1]);
    return 0;
}
