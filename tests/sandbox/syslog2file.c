/*
 * syslog2file -- LD_PRELOAD shim that appends syslog(3) messages to a file.
 *
 * The sandbox has no syslog daemon and no /dev/log, yet Cyrus and slapd log
 * only through syslog.  kd-sandbox compiles this file into a shared object
 * and starts every server with LD_PRELOAD=<it> and SYSLOG2FILE=<log file>;
 * children inherit both.  glibc's fortified __syslog_chk/__vsyslog_chk are
 * overridden too because Debian builds with _FORTIFY_SOURCE.  LOG_DEBUG
 * lines are dropped unless SYSLOG2FILE_DEBUG is set.
 *
 * Build (no sanitizers: it is loaded into foreign programs):
 *     cc -shared -fPIC -O2 -o syslog2file.so syslog2file.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

void openlog(const char *id, int option, int facility);
void closelog(void);
void syslog(int pri, const char *fmt, ...);
void vsyslog(int pri, const char *fmt, va_list ap);
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

static char ident[64] = "?";

void openlog(const char *id, int option, int facility)
{
    (void)option;
    (void)facility;
    if (id != NULL) {
        snprintf(ident, sizeof ident, "%s", id);
    }
}

void closelog(void)
{
}

/*
 * The log file stays open between calls (an open+close per line halves
 * slapd's throughput with loglevel stats).  Programs that close or reuse
 * descriptors are handled by checking that the descriptor still refers to
 * the same file before every write.  One write(2) per line with O_APPEND
 * keeps lines of concurrent processes whole.
 */
static int log_fd = -1;
static dev_t log_dev;
static ino_t log_ino;

static int log_open(const char *fn)
{
    struct stat st;

    if (log_fd >= 0 && fstat(log_fd, &st) == 0 && st.st_dev == log_dev
        && st.st_ino == log_ino) {
        return log_fd;
    }
    log_fd = open(fn, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log_fd >= 0 && fstat(log_fd, &st) == 0) {
        log_dev = st.st_dev;
        log_ino = st.st_ino;
    }
    return log_fd;
}

void vsyslog(int pri, const char *fmt, va_list ap)
{
    int saved = errno;
    const char *fn = getenv("SYSLOG2FILE");
    char line[8192];
    struct timeval tv;
    int n, m, fd;

    if (fn == NULL || ((pri & LOG_PRIMASK) == LOG_DEBUG
                       && getenv("SYSLOG2FILE_DEBUG") == NULL)) {
        return;
    }
    gettimeofday(&tv, NULL);
    n = snprintf(line, sizeof line, "%ld.%03ld %s[%d] <%d>: ",
                 (long)tv.tv_sec, (long)(tv.tv_usec / 1000), ident,
                 (int)getpid(), pri & LOG_PRIMASK);
    if (n < 0 || (size_t)n >= sizeof line / 2) {
        n = 0;
    }
    errno = saved; /* keeps %m working */
    m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0) {
        m = 0;
    }
    n += m;
    if ((size_t)n > sizeof line - 2) {
        n = (int)sizeof line - 2;
    }
    while (n > 0 && line[n - 1] == '\n') {
        n--; /* slapd ends its messages with a newline of its own */
    }
    line[n++] = '\n';
    fd = log_open(fn);
    if (fd >= 0 && write(fd, line, (size_t)n) < 0) {
        /* nowhere to report it */
    }
    errno = saved;
}

void syslog(int pri, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    (void)flag;
    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(pri, fmt, ap);
}
