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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void vsyslog(int pri, const char *fmt, va_list ap)
{
    int saved = errno;
    const char *fn = getenv("SYSLOG2FILE");
    struct timeval tv;
    FILE *f;

    if (fn == NULL || ((pri & LOG_PRIMASK) == LOG_DEBUG
                       && getenv("SYSLOG2FILE_DEBUG") == NULL)) {
        return;
    }
    f = fopen(fn, "ae");
    if (f == NULL) {
        errno = saved;
        return;
    }
    gettimeofday(&tv, NULL);
    fprintf(f, "%ld.%03ld %s[%d] <%d>: ", (long)tv.tv_sec,
            (long)(tv.tv_usec / 1000), ident, (int)getpid(),
            pri & LOG_PRIMASK);
    errno = saved; /* keeps %m working */
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fclose(f);
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
