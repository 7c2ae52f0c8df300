/* cli-daemon: `kolabd [-f] [-d LEVEL]`, the long-running service. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "daemon.h"
#include "notify.h"

typedef struct {
    KdApp *app;
    KdEngine *engine;
    KdSync *sync;
    GMainLoop *loop;
    GCancellable *cancel;
    GThread *sync_thread;
    GThread *hooks_thread;
    gint stop_hooks;
    GCancellable *hooks_cancel; /* kills a running hook at shutdown */
} KdDaemon;

static void
sync_notify(guint n_dirty, gpointer data)
{
    KdDaemon *d = data;

    kd_engine_wake(d->engine);
}

static gpointer
sync_main(gpointer data)
{
    KdDaemon *d = data;
    g_autoptr(GError) error = NULL;

    if (!kd_sync_run(d->sync, d->cancel, &error) && error != NULL) {
        g_critical("syncrepl: %s", error->message);
    }
    return NULL;
}

/* Post-event hooks run here, away from the engine and the main loop. */
static gpointer
hooks_main(gpointer data)
{
    KdDaemon *d = data;
    KdHooks *hooks = kd_app_get_hooks(d->app);

    while (!g_atomic_int_get(&d->stop_hooks)) {
        g_autoptr(GError) error = NULL;

        if (hooks != NULL &&
            kd_hooks_run_due(hooks, g_get_real_time() / G_USEC_PER_SEC, 32,
                             d->hooks_cancel, &error) < 0) {
            g_warning("hooks: %s", error->message);
        }
        g_usleep(G_USEC_PER_SEC / 2);
    }
    return NULL;
}

static gboolean
start_sync(KdDaemon *d, GError **error)
{
    d->cancel = g_cancellable_new();
    d->sync_thread = g_thread_try_new("kd-sync", sync_main, d, error);
    return d->sync_thread != NULL;
}

static void
stop_sync(KdDaemon *d)
{
    if (d->sync_thread == NULL) {
        return;
    }
    g_cancellable_cancel(d->cancel);
    g_thread_join(d->sync_thread);
    d->sync_thread = NULL;
    g_clear_object(&d->cancel);
}

static void
on_reload(gpointer data)
{
    KdDaemon *d = data;
    g_autoptr(GError) error = NULL;

    kd_notify_reloading();
    if (kd_app_reload(d->app, &error)) {
        g_message("configuration reloaded");
    } else {
        g_warning("reload failed, keeping the running configuration: %s",
                  error->message);
    }
    kd_notify_ready();
}

static void
on_stop(int signum, guint count, gpointer data)
{
    KdDaemon *d = data;

    g_message("signal %d: stopping", signum);
    g_main_loop_quit(d->loop);
}

static void
on_reconnect(gpointer data)
{
    KdDaemon *d = data;
    g_autoptr(GError) error = NULL;

    g_message("SIGUSR1: reconnecting");
    stop_sync(d);
    if (!kd_engine_refresh_locations(d->engine, &error)) {
        g_warning("%s", error->message);
        g_clear_error(&error);
    }
    if (!start_sync(d, &error)) {
        g_critical("cannot restart the syncrepl reader: %s", error->message);
        g_main_loop_quit(d->loop);
    }
}

/* Drops root before anything opens the store or connects. */
static gboolean
become_daemon_user(const KdConfig *config, GError **error)
{
    if (geteuid() == 0 && config->user != NULL) {
        return kd_daemon_prepare_state_dir(config->state_dir, config->user,
                                           config->group, error) &&
               kd_daemon_drop_privileges(config->user, config->group, error);
    }
    return kd_daemon_prepare_state_dir(config->state_dir, NULL, NULL,
                                       error) &&
           kd_daemon_check_not_root(error);
}

int
kd_cli_daemon(const char *config_path, int argc, char **argv)
{
    KdDaemon d = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(KdDaemonSignals) signals = NULL;
    KdDaemonCallbacks callbacks = {on_reload, on_stop, on_reconnect, &d};
    int rc = KD_EXIT_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--foreground") ==
                                              0) {
            continue; /* kolabd always runs in the foreground */
        }
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            if (atoi(argv[++i]) >= 7) {
                g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
            }
            continue;
        }
        fprintf(stderr, "kolabd: unknown option %s\n", argv[i]);
        return KD_EXIT_USAGE;
    }
    app = kd_app_new(config_path, &error);
    if (app == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_USAGE;
    }
    d.app = app;
    if (!become_daemon_user(kd_app_get_config(app), &error) ||
        !kd_app_check_ldap(app, &error)) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    d.engine = kd_app_new_engine(app, FALSE, FALSE, &error);
    if (d.engine == NULL || !kd_engine_start(d.engine, &error)) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        kd_engine_free(d.engine);
        return KD_EXIT_FAILURE;
    }
    d.sync = kd_app_new_sync(app, &error);
    if (d.sync == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        kd_engine_free(d.engine);
        return KD_EXIT_FAILURE;
    }
    kd_sync_set_notify(d.sync, sync_notify, &d);
    d.loop = g_main_loop_new(NULL, FALSE);
    signals = kd_daemon_install_signals(d.loop, &callbacks);
    d.hooks_cancel = g_cancellable_new();
    d.hooks_thread = g_thread_new("kd-hooks", hooks_main, &d);
    if (!start_sync(&d, &error)) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        rc = KD_EXIT_FAILURE;
    } else {
        g_message("kolabd %s ready", PACKAGE_VERSION);
        kd_notify_ready();
        g_main_loop_run(d.loop);
    }
    kd_notify_stopping();
    stop_sync(&d);
    /* In-flight jobs finish (bounded by the IMAP/LDAP timeouts); queued
     * ones are abandoned and stay dirty in the store. */
    kd_engine_stop(d.engine, 20000);
    /* A running hook is killed; its event stays queued (at least once). */
    g_atomic_int_set(&d.stop_hooks, 1);
    g_cancellable_cancel(d.hooks_cancel);
    g_thread_join(d.hooks_thread);
    g_object_unref(d.hooks_cancel);
    kd_engine_free(d.engine);
    kd_sync_free(d.sync);
    g_main_loop_unref(d.loop);
    g_message("kolabd stopped");
    return rc;
}
