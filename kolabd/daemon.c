/* daemon: see daemon.h. */
#include <config.h>

#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <dirent.h>

G_DEFINE_QUARK(kd - daemon - error - quark, kd_daemon_error)

#define KD_MAX_GROUPS 1024

/* Resolves @user and @group (NULL: the user's primary group). */
static gboolean
lookup_ids(const char *user, const char *group, uid_t *uid_out, gid_t *gid_out,
           GError **error)
{
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    char buf[16384];
    int r;

    r = getpwnam_r(user, &pw, buf, sizeof buf, &pwp);
    if (pwp == NULL) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_NO_USER,
                    "user \"%s\" not found%s%s", user, r != 0 ? ": " : "",
                    r != 0 ? g_strerror(r) : "");
        return FALSE;
    }
    *uid_out = pw.pw_uid;
    *gid_out = pw.pw_gid;
    if (group != NULL) {
        r = getgrnam_r(group, &gr, buf, sizeof buf, &grp);
        if (grp == NULL) {
            g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_NO_USER,
                        "group \"%s\" not found%s%s", group, r != 0 ? ": " : "",
                        r != 0 ? g_strerror(r) : "");
            return FALSE;
        }
        *gid_out = gr.gr_gid;
    }
    return TRUE;
}

static gboolean
syscall_error(GError **error, const char *what, const char *name)
{
    int saved = errno;
    g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_SYSCALL,
                "%s(%s) failed: %s", what, name, g_strerror(saved));
    return FALSE;
}

/* Every supplementary group we hold must be one @user belongs to. */
static gboolean
verify_groups(const char *user, gid_t gid, GError **error)
{
    gid_t held[KD_MAX_GROUPS], allowed[KD_MAX_GROUPS];
    int n_held, n_allowed = KD_MAX_GROUPS;
    int i, j;

    n_held = getgroups(KD_MAX_GROUPS, held);
    if (n_held < 0) {
        return syscall_error(error, "getgroups", user);
    }
    if (getgrouplist(user, gid, allowed, &n_allowed) < 0) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_VERIFY,
                    "user \"%s\" is in too many groups", user);
        return FALSE;
    }
    for (i = 0; i < n_held; i++) {
        gboolean ok = held[i] == gid;
        for (j = 0; !ok && j < n_allowed; j++) {
            ok = held[i] == allowed[j];
        }
        if (!ok) {
            g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_VERIFY,
                        "still in group %u after dropping to user \"%s\"",
                        (unsigned)held[i], user);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
verify_dropped(const char *user, uid_t uid, gid_t gid, GError **error)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
        return syscall_error(error, "getresuid", user);
    }
    if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
        sg != gid) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_VERIFY,
                    "IDs after dropping to \"%s\" are uid %u/%u/%u gid "
                    "%u/%u/%u, wanted %u/%u",
                    user, (unsigned)ru, (unsigned)eu, (unsigned)su,
                    (unsigned)rg, (unsigned)eg, (unsigned)sg, (unsigned)uid,
                    (unsigned)gid);
        return FALSE;
    }
    if (!verify_groups(user, gid, error)) {
        return FALSE;
    }
    /* The proof: root must be out of reach now. */
    if (setuid(0) == 0 || seteuid(0) == 0) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_VERIFY,
                    "could regain root after dropping to \"%s\"", user);
        return FALSE;
    }
    if (setgid(0) == 0 || setegid(0) == 0) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_VERIFY,
                    "could regain group 0 after dropping to \"%s\"", user);
        return FALSE;
    }
    return TRUE;
}

gboolean
kd_daemon_drop_privileges(const char *user, const char *group, GError **error)
{
    uid_t uid;
    gid_t gid;

    g_return_val_if_fail(user != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!lookup_ids(user, group, &uid, &gid, error)) {
        return FALSE;
    }
    if (uid == 0 || gid == 0) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_ROOT,
                    "refusing to run as %s \"%s\" (id 0)",
                    uid == 0 ? "user" : "group",
                    uid == 0 ? user : (group ? group : user));
        return FALSE;
    }
    if (geteuid() != 0) {
        if (getuid() == uid && geteuid() == uid) {
            return TRUE;
        }
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_NOT_ROOT,
                    "cannot switch to user \"%s\": running as uid %u, not "
                    "root",
                    user, (unsigned)geteuid());
        return FALSE;
    }
    /* Groups first: once the uid is gone we may no longer change them. */
    if (initgroups(user, gid) != 0) {
        return syscall_error(error, "initgroups", user);
    }
    if (setresgid(gid, gid, gid) != 0) {
        return syscall_error(error, "setresgid", group ? group : user);
    }
    if (setresuid(uid, uid, uid) != 0) {
        return syscall_error(error, "setresuid", user);
    }
    if (!verify_dropped(user, uid, gid, error)) {
        return FALSE;
    }
    g_info("dropped privileges to user %s (uid %u, gid %u)", user,
           (unsigned)uid, (unsigned)gid);
    return TRUE;
}

/* Chowns @dirfd and the regular files directly inside it. */
static gboolean
chown_state_dir(const char *state_dir, int dirfd, uid_t uid, gid_t gid,
                GError **error)
{
    DIR *dir;
    struct dirent *de;
    int fd2;

    if (fchown(dirfd, uid, gid) != 0) {
        return syscall_error(error, "chown", state_dir);
    }
    fd2 = dup(dirfd);
    if (fd2 < 0 || (dir = fdopendir(fd2)) == NULL) {
        if (fd2 >= 0) {
            close(fd2);
        }
        return syscall_error(error, "opendir", state_dir);
    }
    while ((de = readdir(dir)) != NULL) {
        struct stat st;
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        if (fchownat(dirfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
            g_autofree char *path =
                g_build_filename(state_dir, de->d_name, NULL);
            closedir(dir);
            return syscall_error(error, "chown", path);
        }
    }
    closedir(dir);
    return TRUE;
}

gboolean
kd_daemon_prepare_state_dir(const char *state_dir, const char *user,
                            const char *group, GError **error)
{
    struct stat st;
    gboolean ok;
    int fd;

    g_return_val_if_fail(state_dir != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!g_path_is_absolute(state_dir)) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_STATE_DIR,
                    "state_dir \"%s\" is not an absolute path", state_dir);
        return FALSE;
    }
    if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
        return syscall_error(error, "mkdir", state_dir);
    }
    fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
        }
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_STATE_DIR,
                    "state_dir %s is not a directory (symlinks are "
                    "refused): %s",
                    state_dir, g_strerror(saved));
        return FALSE;
    }
    if (geteuid() == 0 && user != NULL) {
        uid_t uid;
        gid_t gid;
        ok = lookup_ids(user, group, &uid, &gid, error) &&
             chown_state_dir(state_dir, fd, uid, gid, error);
    } else {
        ok = faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) == 0;
        if (!ok) {
            int saved = errno;
            g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_STATE_DIR,
                        "state_dir %s is not writable by uid %u: %s", state_dir,
                        (unsigned)geteuid(), g_strerror(saved));
        }
    }
    close(fd);
    return ok;
}

gboolean
kd_daemon_under_systemd(void)
{
    const char *n = g_getenv("NOTIFY_SOCKET");
    const char *i = g_getenv("INVOCATION_ID");
    return (n != NULL && *n != '\0') || (i != NULL && *i != '\0');
}

gboolean
kd_daemon_check_not_root(GError **error)
{
    if (geteuid() == 0 && !kd_daemon_under_systemd()) {
        g_set_error(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_ROOT,
                    "refusing to run as root: set [kolabd] user, or start "
                    "kolabd from its systemd unit");
        return FALSE;
    }
    return TRUE;
}

/* ---- signals ---- */

enum { SIG_HUP, SIG_TERM, SIG_INT, SIG_USR1, N_SIGS };

struct KdDaemonSignals {
    GMainLoop *loop;
    KdDaemonCallbacks cb;
    GSource *sources[N_SIGS];
    guint stop_count;
};

static void
handle_stop(KdDaemonSignals *s, int signum)
{
    s->stop_count++;
    g_info("received %s (%u)", signum == SIGTERM ? "SIGTERM" : "SIGINT",
           s->stop_count);
    if (s->cb.on_stop != NULL) {
        s->cb.on_stop(signum, s->stop_count, s->cb.data);
    } else {
        g_main_loop_quit(s->loop);
    }
}

static gboolean
on_sighup(gpointer data)
{
    KdDaemonSignals *s = data;
    g_info("received SIGHUP");
    if (s->cb.on_reload != NULL) {
        s->cb.on_reload(s->cb.data);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm(gpointer data)
{
    handle_stop(data, SIGTERM);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint(gpointer data)
{
    handle_stop(data, SIGINT);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sigusr1(gpointer data)
{
    KdDaemonSignals *s = data;
    g_info("received SIGUSR1");
    if (s->cb.on_reconnect != NULL) {
        s->cb.on_reconnect(s->cb.data);
    }
    return G_SOURCE_CONTINUE;
}

KdDaemonSignals *
kd_daemon_install_signals(GMainLoop *loop, const KdDaemonCallbacks *callbacks)
{
    static const int signums[N_SIGS] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
    static const GSourceFunc funcs[N_SIGS] = {on_sighup, on_sigterm, on_sigint,
                                              on_sigusr1};
    KdDaemonSignals *s;
    GMainContext *context;
    int i;

    g_return_val_if_fail(loop != NULL, NULL);

    s = g_new0(KdDaemonSignals, 1);
    s->loop = g_main_loop_ref(loop);
    if (callbacks != NULL) {
        s->cb = *callbacks;
    }
    context = g_main_loop_get_context(loop);
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < N_SIGS; i++) {
        s->sources[i] = g_unix_signal_source_new(signums[i]);
        g_source_set_callback(s->sources[i], funcs[i], s, NULL);
        g_source_attach(s->sources[i], context);
    }
    return s;
}

void
kd_daemon_signals_free(KdDaemonSignals *signals)
{
    int i;

    if (signals == NULL) {
        return;
    }
    for (i = 0; i < N_SIGS; i++) {
        g_source_destroy(signals->sources[i]);
        g_source_unref(signals->sources[i]);
    }
    g_main_loop_unref(signals->loop);
    g_free(signals);
}

static gboolean
tick(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

gboolean
kd_daemon_wait_bounded(GMainContext *context, guint timeout_ms,
                       gboolean (*done)(gpointer data), gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    GSource *ticker;
    gboolean finished;

    g_return_val_if_fail(done != NULL, FALSE);

    ticker = g_timeout_source_new(50);
    g_source_set_callback(ticker, tick, NULL, NULL);
    g_source_attach(ticker, context);
    while (!(finished = done(data)) && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(context, TRUE);
    }
    g_source_destroy(ticker);
    g_source_unref(ticker);
    return finished;
}
