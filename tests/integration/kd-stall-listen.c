/*
 * kd-stall-listen: a stalling IMAP stub for tests. Listens on 127.0.0.1
 * (port 0: a free one, printed on stdout), accepts every connection and
 * never sends a byte, until SIGTERM or @seconds pass (bounded).
 *
 * usage: kd-stall-listen SECONDS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    struct sockaddr_in sin = {0};
    socklen_t len = sizeof sin;
    int fd, limit = argc > 1 ? atoi(argv[1]) : 60;
    time_t end = time(NULL) + (limit > 0 ? limit : 60);
    int held[256];
    int n_held = 0;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        perror("kd-stall-listen");
        return 1;
    }
    printf("%d\n", ntohs(sin.sin_port));
    fflush(stdout);
    while (time(NULL) < end) {
        struct pollfd p = {fd, POLLIN, 0};

        if (poll(&p, 1, 200) > 0) {
            int c = accept(fd, NULL, NULL);

            if (c >= 0 && n_held < (int)(sizeof held / sizeof held[0])) {
                held[n_held++] = c; /* keep it open, say nothing */
            } else if (c >= 0) {
                close(c);
            }
        }
    }
    return 0;
}
