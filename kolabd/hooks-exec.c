/* hooks-exec: see hooks-exec.h. */
#include <config.h>

#include "hooks-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KD_HOOKS_TERM_GRACE_MS 1000
#define KD_HOOKS_DESCRIBE_MAX 512
#define KD_HOOKS_DRAIN_READS 64

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
#define KD_HAVE_ADDCLOSEFROM 1
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 29)
#define KD_HAVE_ADDCHDIR 1
#endif

void
kd_hooks_exec_result_clear(KdHooksExecResult *result)
{
    if (result != NULL) {
        g_clear_pointer(&result->output, g_free);
    }
}

gboolean
kd_hooks_exec_name_is_candidate(const char *name)
{
    static const char *const suffixes[] = {
        "~", ".rpmsave", ".rpmnew", ".rpmorig", ".swp", ".bak", NULL,
    };
    int i;

    if (name == NULL || name[0] == '\0' || name[0] == '.') {
        return FALSE;
    }
    if (strstr(name, ".dpkg-") != NULL || strstr(name, ".ucf-") != NULL) {
        return FALSE;
    }
    for (i = 0; name[i] != '\0'; i++) {
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
            return FALSE;
        }
    }
    for (i = 0; suffixes[i] != NULL; i++) {
        if (g_str_has_suffix(name, suffixes[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
kd_hooks_exec_check_owner(const char *path, GError **error)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        int saved = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "%s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s is owned by uid %u, neither root nor the daemon "
                    "user (uid %u): refused",
                    path, (unsigned)st.st_uid, (unsigned)geteuid());
        return FALSE;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s is group- or world-writable (mode %04o): refused", path,
                    (unsigned)(st.st_mode & 07777));
        return FALSE;
    }
    return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
kd_hooks_exec_list(const char *event_dir, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = NULL;
    const char *name;
    struct stat st;
    guint i;

    if (stat(event_dir, &st) != 0) {
        int saved = errno;
        if (saved == ENOENT) {
            return g_steal_pointer(&paths);
        }
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "%s: %s",
                    event_dir, g_strerror(saved));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                    "%s is not a directory", event_dir);
        return NULL;
    }
    if (!kd_hooks_exec_check_owner(event_dir, error)) {
        return NULL;
    }
    dir = g_dir_open(event_dir, 0, error);
    if (dir == NULL) {
        return NULL;
    }
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (kd_hooks_exec_name_is_candidate(name)) {
            g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_sort(names, compare_names);
    for (i = 0; i < names->len; i++) {
        g_autofree char *path =
            g_build_filename(event_dir, names->pdata[i], NULL);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0 ||
            faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0) {
            g_debug("hooks: skipping %s (not an executable file)", path);
            continue;
        }
        g_ptr_array_add(paths, g_steal_pointer(&path));
    }
    return g_steal_pointer(&paths);
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Reads what @fd has now into @out (bounded); closes @fd at EOF. */
static ssize_t
read_output(int *fd, GString *out, gsize output_max, KdHooksExecResult *result)
{
    char buf[4096];
    ssize_t n = read(*fd, buf, sizeof buf);

    if (n > 0) {
        gsize room = output_max > out->len ? output_max - out->len : 0;
        g_string_append_len(out, buf, MIN((gsize)n, room));
        if ((gsize)n > room) {
            result->truncated = TRUE;
        }
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_fd(fd);
    }
    return n;
}

static gboolean
reap(pid_t pid, int *wstatus_out)
{
    pid_t r;

    do {
        r = waitpid(pid, wstatus_out, WNOHANG);
    } while (r < 0 && errno == EINTR);
    return r == pid || (r < 0 && errno == ECHILD);
}

/* SIGTERM to the group, a grace period, SIGKILL to the group, reap. */
static void
terminate_group(pid_t pid, int signum, int *wstatus_out)
{
    int i;

    kill(-pid, signum);
    for (i = 0; signum != SIGKILL && i < KD_HOOKS_TERM_GRACE_MS / 10; i++) {
        if (reap(pid, wstatus_out)) {
            break;
        }
        g_usleep(10 * 1000);
    }
    /* Children that ignore SIGTERM, or outlive the leader, go too. */
    kill(-pid, SIGKILL);
    while (waitpid(pid, wstatus_out, 0) < 0 && errno == EINTR) {
    }
}

/*
 * Moves @fd above 2. If kolabd ran with 0-2 closed, a pipe could land
 * there, and dup2(fd, fd) would keep its close-on-exec flag.
 */
static void
move_high(int *fd)
{
    int high;

    if (*fd >= 0 && *fd <= 2) {
        high = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (high >= 0) {
            close(*fd);
            *fd = high;
        }
    }
}

static pid_t
spawn(const char *path, char *const *envp, int in_fd, int out_fd, int *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t mask, defaults;
    char *argv[] = {g_strdup(path), NULL};
    pid_t pid = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
#ifdef KD_HAVE_ADDCLOSEFROM
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
#ifdef KD_HAVE_ADDCHDIR
    posix_spawn_file_actions_addchdir_np(&fa, "/");
#endif
    posix_spawnattr_init(&attr);
    sigemptyset(&mask);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    *err = posix_spawn(&pid, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    g_free(argv[0]);
    return *err == 0 ? pid : -1;
}

static void
finish_status(int wstatus, KdHooksExecResult *result)
{
    if (WIFEXITED(wstatus)) {
        result->code = WEXITSTATUS(wstatus);
        result->status =
            result->code == 0 ? KD_HOOKS_EXEC_OK : KD_HOOKS_EXEC_FAILED;
    } else if (WIFSIGNALED(wstatus)) {
        result->code = WTERMSIG(wstatus);
        result->status = KD_HOOKS_EXEC_SIGNALED;
    } else {
        result->status = KD_HOOKS_EXEC_FAILED;
        result->code = -1;
    }
}

void
kd_hooks_exec_run(const char *path, char *const *envp, const char *input,
                  gsize input_len, guint timeout_ms, gsize output_max,
                  GCancellable *cancellable, KdHooksExecResult *result_out)
{
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)timeout_ms * 1000;
    g_autoptr(GString) out = g_string_new(NULL);
    int sv[2] = {-1, -1}, pipe_fds[2] = {-1, -1};
    int in_fd, out_fd, pidfd = -1, err = 0, wstatus = 0, i;
    gsize written = 0;
    pid_t pid;

    memset(result_out, 0, sizeof *result_out);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(pipe_fds, O_CLOEXEC) != 0) {
        err = errno;
        pid = -1;
    } else {
        move_high(&sv[0]);
        move_high(&sv[1]);
        move_high(&pipe_fds[0]);
        move_high(&pipe_fds[1]);
        pid = spawn(path, envp, sv[1], pipe_fds[1], &err);
    }
    close_fd(&sv[1]);
    close_fd(&pipe_fds[1]);
    in_fd = sv[0];
    out_fd = pipe_fds[0];
    if (pid < 0) {
        close_fd(&in_fd);
        close_fd(&out_fd);
        result_out->status = KD_HOOKS_EXEC_SPAWN;
        result_out->code = err;
        result_out->output = g_strdup("");
        return;
    }
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
    fcntl(out_fd, F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    if (input_len == 0) {
        close_fd(&in_fd);
    }

    for (;;) {
        struct pollfd fds[3];
        nfds_t n = 0;
        gint64 now;
        int wait_ms;

        if (reap(pid, &wstatus)) {
            finish_status(wstatus, result_out);
            /* What the hook wrote before it exited is in the pipe now;
             * do not wait for descendants that still hold it open. */
            for (i = 0; out_fd >= 0 && i < KD_HOOKS_DRAIN_READS; i++) {
                if (read_output(&out_fd, out, output_max, result_out) < 0 &&
                    errno == EAGAIN) {
                    break;
                }
            }
            break;
        }
        now = g_get_monotonic_time();
        if (g_cancellable_is_cancelled(cancellable)) {
            terminate_group(pid, SIGKILL, &wstatus);
            result_out->status = KD_HOOKS_EXEC_CANCELLED;
            break;
        }
        if (now >= deadline) {
            terminate_group(pid, SIGTERM, &wstatus);
            result_out->status = KD_HOOKS_EXEC_TIMEOUT;
            break;
        }
        if (out_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
        }
        if (in_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = in_fd, .events = POLLOUT};
        }
        if (pidfd >= 0) {
            fds[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        }
        /* Short ticks without a pidfd (exit) and for cancellation. */
        wait_ms = (int)MIN((deadline - now) / 1000 + 1, pidfd >= 0 ? 100 : 20);
        if (poll(fds, n, wait_ms) <= 0) {
            continue;
        }
        for (i = 0; i < (int)n; i++) {
            if (fds[i].revents == 0) {
                continue;
            }
            if (fds[i].fd == out_fd) {
                read_output(&out_fd, out, output_max, result_out);
            } else if (fds[i].fd == in_fd) {
                ssize_t w = send(in_fd, input + written, input_len - written,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    written += (gsize)w;
                }
                /* EPIPE: the hook does not read stdin; that is fine. */
                if (written == input_len ||
                    (w < 0 && errno != EAGAIN && errno != EINTR)) {
                    close_fd(&in_fd);
                }
            }
        }
    }
    close_fd(&in_fd);
    close_fd(&out_fd);
    close_fd(&pidfd);
    result_out->elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    result_out->output = g_string_free(g_steal_pointer(&out), FALSE);
}

static void
append_sanitized(GString *line, const char *text, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(text, -1);
    gsize len = strlen(valid);
    gsize i;

    while (len > 0 && (valid[len - 1] == '\n' || valid[len - 1] == '\r')) {
        len--;
    }
    for (i = 0; i < len && line->len < max; i++) {
        unsigned char c = (unsigned char)valid[i];
        if (c == '\n') {
            g_string_append(line, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(line, "\\x%02x", c);
        } else {
            g_string_append_c(line, (char)c);
        }
    }
    if (i < len) {
        /* Cut on a character boundary. */
        const char *end = NULL;
        g_utf8_validate(line->str, (gssize)line->len, &end);
        g_string_truncate(line, (gsize)(end - line->str));
        g_string_append(line, "...");
    }
}

char *
kd_hooks_exec_describe(const KdHooksExecResult *result, guint timeout_ms)
{
    GString *line = g_string_new(NULL);

    switch (result->status) {
    case KD_HOOKS_EXEC_OK:
    case KD_HOOKS_EXEC_FAILED:
        g_string_printf(line, "exited with status %d", result->code);
        break;
    case KD_HOOKS_EXEC_SIGNALED:
        g_string_printf(line, "killed by signal %d (%s)", result->code,
                        g_strsignal(result->code));
        break;
    case KD_HOOKS_EXEC_TIMEOUT:
        g_string_printf(line, "timed out after %u ms and was killed",
                        timeout_ms);
        break;
    case KD_HOOKS_EXEC_CANCELLED:
        g_string_printf(line, "was killed: the daemon is stopping");
        break;
    case KD_HOOKS_EXEC_SPAWN:
        g_string_printf(line, "could not be started: %s",
                        g_strerror(result->code));
        break;
    }
    if (result->output != NULL && result->output[0] != '\0') {
        g_string_append(line, ": ");
        append_sanitized(line, result->output, KD_HOOKS_DESCRIBE_MAX);
        if (result->truncated && !g_str_has_suffix(line->str, "...")) {
            g_string_append(line, " [output truncated]");
        }
    }
    return g_string_free(line, FALSE);
}
