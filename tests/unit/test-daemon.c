/*
 * test-daemon: lifecycle helpers with the real system underneath: a
 * notification socket owned by the test, real signals, and (as root) a
 * forked child that really drops to user nobody.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "daemon.h"
#include "hooks.h"
#include "notify.h"

static char *
make_tmp(void)
{
    char *tmp = g_dir_make_tmp("kd-test-daemon-XXXXXX", NULL);

    assert_non_null(tmp);
    assert_int_equal(chmod(tmp, 0755), 0);
    return tmp;
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir != NULL) {
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
                remove_tree(child);
            } else {
                g_unlink(child);
            }
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

/* A datagram socket bound at @address ("/path" or "@abstract"). */
static int
bind_notify_socket(const char *address)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 2};
    size_t len = strlen(address);
    socklen_t salen;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_true(len < sizeof sa.sun_path);
    memcpy(sa.sun_path, address, len);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (address[0] == '@') {
        sa.sun_path[0] = '\0';
    } else {
        salen++;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
                     0);
    return fd;
}

/* The next datagram (within 2 s), as a string. */
static char *
receive(int fd)
{
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

    assert_true(n > 0);
    return g_strndup(buf, (gsize)n);
}

static void
test_notify_reaches_notify_socket(void **state)
{
    g_autofree char *tmp = make_tmp();
    g_autofree char *path = g_build_filename(tmp, "notify.sock", NULL);
    g_autofree char *msg = NULL;
    int fd = bind_notify_socket(path);

    g_setenv("NOTIFY_SOCKET", path, TRUE);
    assert_true(kd_notify_ready());
    msg = receive(fd);
    assert_string_equal(msg, "READY=1");
    g_clear_pointer(&msg, g_free);

    assert_true(kd_notify_reloading());
    msg = receive(fd);
    assert_true(g_str_has_prefix(msg, "RELOADING=1\nMONOTONIC_USEC="));
    g_clear_pointer(&msg, g_free);

    assert_true(kd_notify_ready());
    msg = receive(fd);
    assert_string_equal(msg, "READY=1");
    g_clear_pointer(&msg, g_free);

    assert_true(kd_notify_status("syncing\nREADY=1 \xc3\xa9"));
    msg = receive(fd);
    assert_string_equal(msg, "STATUS=syncing READY=1 \xc3\xa9");
    g_clear_pointer(&msg, g_free);

    assert_true(kd_notify_stopping());
    msg = receive(fd);
    assert_string_equal(msg, "STOPPING=1");

    g_unsetenv("NOTIFY_SOCKET");
    assert_false(kd_notify_ready());
    close(fd);
    remove_tree(tmp);
}

static void
test_notify_own_protocol_path_and_abstract(void **state)
{
    g_autofree char *tmp = make_tmp();
    g_autofree char *path = g_build_filename(tmp, "n.sock", NULL);
    g_autofree char *abstract =
        g_strdup_printf("@kd-test-notify-%d", (int)getpid());
    g_autoptr(GError) error = NULL;
    g_autofree char *msg = NULL;
    int fd = bind_notify_socket(path);
    int afd = bind_notify_socket(abstract);

    assert_true(kd_notify_send_to(path, "READY=1", &error));
    msg = receive(fd);
    assert_string_equal(msg, "READY=1");
    g_clear_pointer(&msg, g_free);

    assert_true(kd_notify_send_to(abstract, "STOPPING=1", &error));
    msg = receive(afd);
    assert_string_equal(msg, "STOPPING=1");

    assert_false(kd_notify_send_to("relative", "READY=1", &error));
    assert_true(
        g_error_matches(error, KD_NOTIFY_ERROR, KD_NOTIFY_ERROR_ADDRESS));
    g_clear_error(&error);
    g_unlink(path);
    assert_false(kd_notify_send_to(path, "READY=1", &error));
    assert_true(g_error_matches(error, KD_NOTIFY_ERROR, KD_NOTIFY_ERROR_SEND));
    close(fd);
    close(afd);
    remove_tree(tmp);
}

typedef struct {
    guint reloads;
    guint reconnects;
    guint stops;
    int last_stop_signal;
    guint last_stop_count;
} Seen;

static void
on_reload(gpointer data)
{
    ((Seen *)data)->reloads++;
}

static void
on_reconnect(gpointer data)
{
    ((Seen *)data)->reconnects++;
}

static void
on_stop(int signum, guint count, gpointer data)
{
    Seen *seen = data;
    seen->stops++;
    seen->last_stop_signal = signum;
    seen->last_stop_count = count;
}

/* Iterates the default context until *@counter reaches @want (2 s max). */
static void
iterate_until(const guint *counter, guint want)
{
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

    while (*counter < want && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    assert_int_equal(*counter, want);
}

static void
test_daemon_signals_call_back_in_loop(void **state)
{
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    Seen seen = {0};
    KdDaemonCallbacks cb = {
        .on_reload = on_reload,
        .on_stop = on_stop,
        .on_reconnect = on_reconnect,
        .data = &seen,
    };
    KdDaemonSignals *signals = kd_daemon_install_signals(loop, &cb);

    assert_non_null(signals);
    raise(SIGHUP);
    iterate_until(&seen.reloads, 1);
    raise(SIGUSR1);
    iterate_until(&seen.reconnects, 1);
    raise(SIGTERM);
    iterate_until(&seen.stops, 1);
    assert_int_equal(seen.last_stop_signal, SIGTERM);
    assert_int_equal(seen.last_stop_count, 1);
    raise(SIGINT);
    iterate_until(&seen.stops, 2);
    assert_int_equal(seen.last_stop_signal, SIGINT);
    assert_int_equal(seen.last_stop_count, 2);
    assert_int_equal(seen.reloads, 1);
    /* SIGPIPE is ignored: a write to a closed peer must not kill us. */
    raise(SIGPIPE);
    kd_daemon_signals_free(signals);
}

static gboolean
fail_safe_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static gboolean
send_sigint(gpointer data)
{
    raise(SIGINT);
    return G_SOURCE_REMOVE;
}

static void
test_daemon_default_stop_quits_loop(void **state)
{
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(KdDaemonSignals) signals = kd_daemon_install_signals(loop, NULL);
    gint64 start = g_get_monotonic_time();
    guint guard = g_timeout_add(5000, fail_safe_quit, loop);

    g_idle_add(send_sigint, NULL);
    g_main_loop_run(loop);
    assert_true(g_get_monotonic_time() - start < 4 * G_USEC_PER_SEC);
    g_source_remove(guard);
}

static gboolean
is_true(gpointer data)
{
    return *(gboolean *)data;
}

static gboolean
set_true(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static void
test_daemon_wait_bounded(void **state)
{
    gboolean never = FALSE, soon = FALSE;
    gint64 start = g_get_monotonic_time();
    gint64 took;

    assert_false(kd_daemon_wait_bounded(NULL, 200, is_true, &never));
    took = g_get_monotonic_time() - start;
    assert_true(took >= 200 * 1000 && took < 2 * G_USEC_PER_SEC);

    g_timeout_add(50, set_true, &soon);
    start = g_get_monotonic_time();
    assert_true(kd_daemon_wait_bounded(NULL, 5000, is_true, &soon));
    assert_true(g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC);
}

static void
test_daemon_check_not_root(void **state)
{
    g_autoptr(GError) error = NULL;

    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("INVOCATION_ID");
    assert_false(kd_daemon_under_systemd());
    if (geteuid() == 0) {
        assert_false(kd_daemon_check_not_root(&error));
        assert_true(
            g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_ROOT));
    } else {
        assert_true(kd_daemon_check_not_root(&error));
    }
    g_setenv("INVOCATION_ID", "0123", TRUE);
    assert_true(kd_daemon_under_systemd());
    assert_true(kd_daemon_check_not_root(NULL));
    g_unsetenv("INVOCATION_ID");
}

static void
test_daemon_drop_privileges_refuses_root_and_unknown(void **state)
{
    g_autoptr(GError) error = NULL;

    assert_false(kd_daemon_drop_privileges("root", NULL, &error));
    assert_true(g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_ROOT));
    g_clear_error(&error);
    assert_false(kd_daemon_drop_privileges("nobody", "root", &error));
    assert_true(g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_ROOT));
    g_clear_error(&error);
    assert_false(
        kd_daemon_drop_privileges("kd-no-such-user-4711", NULL, &error));
    assert_true(
        g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_NO_USER));
    g_clear_error(&error);
    if (geteuid() != 0) {
        assert_false(kd_daemon_drop_privileges("nobody", NULL, &error));
        assert_true(
            g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_NOT_ROOT));
    }
    /* Nothing above changed who we are. */
    assert_int_equal(getuid(), geteuid());
}

/*
 * The child's half of the privilege test. Exit codes name the check that
 * failed; messages go to stderr.
 */
static int
dropped_child(const char *tmp)
{
    g_autoptr(GError) error = NULL;
    struct passwd *pw = getpwnam("nobody");
    gid_t groups[64];
    int n, i;
    g_autofree char *hooks_dir = g_build_filename(tmp, "hooks", NULL);
    g_autofree char *out = g_build_filename(tmp, "out", NULL);
    g_autofree char *uid_file = g_build_filename(out, "uid", NULL);
    g_autofree char *got = NULL;
    KdHooksOptions o = {.hooks_dir = hooks_dir, .forbid_root = TRUE};
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE, .mail = "a@b.c"};
    g_autofree char *reason = NULL;
    g_autofree char *want = NULL;
    KdHooks *hooks;

    if (pw == NULL) {
        return 2;
    }
    if (!kd_daemon_drop_privileges("nobody", NULL, &error)) {
        g_printerr("drop: %s\n", error->message);
        return 3;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
        getgid() != pw->pw_gid || getegid() != pw->pw_gid) {
        return 4;
    }
    n = getgroups(G_N_ELEMENTS(groups), groups);
    if (n < 0) {
        return 5;
    }
    for (i = 0; i < n; i++) {
        if (groups[i] == 0) {
            return 6;
        }
    }
    if (setuid(0) != -1 || errno != EPERM) {
        return 7;
    }
    if (seteuid(0) != -1 || setgid(0) != -1) {
        return 8;
    }
    /* Hooks inherit the dropped user; forbid_root no longer bites. */
    hooks = kd_hooks_open(NULL, &o, NULL);
    if (!kd_hooks_run_pre_delete(hooks, &ev, &reason)) {
        g_printerr("hook: %s\n", reason);
        kd_hooks_free(hooks);
        return 9;
    }
    kd_hooks_free(hooks);
    want = g_strdup_printf("%u\n", (unsigned)pw->pw_uid);
    if (!g_file_get_contents(uid_file, &got, NULL, NULL) ||
        strcmp(got, want) != 0) {
        return 10;
    }
    return 0;
}

static void
test_daemon_drop_privileges_to_nobody(void **state)
{
    g_autofree char *tmp = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *hook = NULL;
    g_autofree char *out = NULL;
    g_autofree char *body = NULL;
    int status = 0, i;
    pid_t pid, r = 0;

    if (geteuid() != 0) {
        skip();
    }
    if (getpwnam("nobody") == NULL) {
        fail_msg("user nobody is missing");
    }
    tmp = make_tmp();
    dir = g_build_filename(tmp, "hooks", "pre-delete.d", NULL);
    out = g_build_filename(tmp, "out", NULL);
    hook = g_build_filename(dir, "10-id", NULL);
    body = g_strdup_printf("#!/bin/sh\nid -u > '%s/uid'\n", out);
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    assert_int_equal(g_mkdir(out, 0755), 0);
    assert_int_equal(chmod(out, 0777), 0);
    assert_true(g_file_set_contents(hook, body, -1, NULL));
    assert_int_equal(chmod(hook, 0755), 0);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(dropped_child(tmp));
    }
    for (i = 0; i < 1000 && r == 0; i++) {
        r = waitpid(pid, &status, WNOHANG);
        if (r == 0) {
            g_usleep(10 * 1000);
        }
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("privilege drop child did not finish in 10 s");
    }
    remove_tree(tmp);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent is untouched. */
    assert_int_equal(geteuid(), 0);
}

static void
test_daemon_prepare_state_dir(void **state)
{
    g_autofree char *tmp = make_tmp();
    g_autofree char *sd = g_build_filename(tmp, "state", NULL);
    g_autofree char *db = g_build_filename(sd, "store.db", NULL);
    g_autofree char *link = g_build_filename(sd, "evil", NULL);
    g_autofree char *target = g_build_filename(tmp, "target", NULL);
    g_autofree char *sd_link = g_build_filename(tmp, "state-link", NULL);
    g_autoptr(GError) error = NULL;
    struct passwd *pw = getpwnam("nobody");
    struct stat st;

    assert_false(kd_daemon_prepare_state_dir("relative", NULL, NULL, &error));
    assert_true(
        g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_STATE_DIR));
    g_clear_error(&error);

    assert_true(kd_daemon_prepare_state_dir(sd, NULL, NULL, &error));
    assert_int_equal(stat(sd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750);

    assert_int_equal(symlink(sd, sd_link), 0);
    assert_false(kd_daemon_prepare_state_dir(sd_link, NULL, NULL, &error));
    assert_true(
        g_error_matches(error, KD_DAEMON_ERROR, KD_DAEMON_ERROR_STATE_DIR));
    g_clear_error(&error);

    if (geteuid() == 0 && pw != NULL) {
        /* A store left by a run as root, and a symlink to be left alone. */
        assert_true(g_file_set_contents(db, "", 0, NULL));
        assert_true(g_file_set_contents(target, "", 0, NULL));
        assert_int_equal(symlink(target, link), 0);
        assert_true(kd_daemon_prepare_state_dir(sd, "nobody", NULL, &error));
        assert_int_equal(stat(sd, &st), 0);
        assert_int_equal(st.st_uid, pw->pw_uid);
        assert_int_equal(st.st_gid, pw->pw_gid);
        assert_int_equal(stat(db, &st), 0);
        assert_int_equal(st.st_uid, pw->pw_uid);
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(lstat(link, &st), 0);
        assert_int_equal(st.st_uid, 0);
    }
    remove_tree(tmp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_reaches_notify_socket),
        cmocka_unit_test(test_notify_own_protocol_path_and_abstract),
        cmocka_unit_test(test_daemon_signals_call_back_in_loop),
        cmocka_unit_test(test_daemon_default_stop_quits_loop),
        cmocka_unit_test(test_daemon_wait_bounded),
        cmocka_unit_test(test_daemon_check_not_root),
        cmocka_unit_test(test_daemon_drop_privileges_refuses_root_and_unknown),
        cmocka_unit_test(test_daemon_drop_privileges_to_nobody),
        cmocka_unit_test(test_daemon_prepare_state_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
