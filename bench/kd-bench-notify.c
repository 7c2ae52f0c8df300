/*
 * kd-bench-notify: a test-owned $NOTIFY_SOCKET for the restart benchmark.
 *
 *   kd-bench-notify PATH [TIMEOUT_S]
 *
 * Binds an AF_UNIX datagram socket at PATH (mode 0666, so a daemon that
 * dropped root can send to it), and waits up to TIMEOUT_S (default 300)
 * for a datagram holding the line READY=1 (sd_notify protocol). Then it
 * prints "ready SECONDS.NANOSECONDS" (CLOCK_REALTIME, comparable with
 * `date +%s.%N`) and exits 0; on timeout it exits 1. Removes PATH.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
has_ready(const char *msg)
{
    const char *p = msg;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == 0)) {
            return 1;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timespec start, now;
    long timeout_s = argc > 2 ? atol(argv[2]) : 300;
    int fd, rc = 1;

    if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: kd-bench-notify PATH [TIMEOUT_S]\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(argv[1], 0666) < 0) {
        fprintf(stderr, "kd-bench-notify: %s: %s\n", argv[1],
                strerror(errno));
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        char buf[4096];
        ssize_t n;
        long left_ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        left_ms = timeout_s * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
                                      (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0) {
            fprintf(stderr, "kd-bench-notify: no READY=1 in %ld s\n",
                    timeout_s);
            break;
        }
        n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0) {
            continue;
        }
        buf[n] = '\0';
        if (has_ready(buf)) {
            clock_gettime(CLOCK_REALTIME, &now);
            printf("ready %lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
            fflush(stdout);
            rc = 0;
            break;
        }
    }
    close(fd);
    unlink(argv[1]);
    return rc;
}
