/*
 * kd-sync-tool: a syncrepl consumer in its own process, for tests that
 * kill the consumer (SIGKILL at random points) and check the store after
 * a restart. Runs kd_sync_run() with the test classifier until SIGTERM or
 * SIGINT, or one refreshOnly with --once.
 *
 *   kd-sync-tool --uri URI --bind-dn DN --pw-file FILE --base DN
 *                --store PATH [--filter F] [--once] [--no-cookie]
 *                [--ldap-timeout S] [--keepalive-idle S]
 *                [--keepalive-interval S] [--keepalive-probes N]
 *                [--tcp-user-timeout-ms MS] [--watchdog-interval S]
 *                [--backoff-max-ms MS]
 *   kd-sync-tool --store PATH --print-state
 *
 * --print-state prints `objects=N` (present objects) and `cookie=TEXT`
 * (empty without one) of the store and exits; it only reads, so it may
 * run beside a consumer on the same store.
 *
 * Exit status: 0 on a clean stop or a completed --once, 1 on errors.
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>

#include "ldap-sync.h"
#include "syncrepl-common.h"

static gboolean
on_signal(gpointer data)
{
    g_cancellable_cancel(data);
    return G_SOURCE_CONTINUE;
}

static gpointer
run_thread(gpointer data)
{
    gpointer *args = data;

    kd_sync_run(args[0], args[1], NULL);
    g_main_loop_quit(args[2]);
    return NULL;
}

static int
print_store_state(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdStore) store = kd_store_open(path, &error);
    g_autoptr(KdSyncState) state = NULL;
    gint64 n;

    state = store != NULL ? kd_store_get_sync_state(store, &error) : NULL;
    n = state != NULL ? kd_store_count_objects(store, 1, &error) : -1;
    if (n < 0) {
        fprintf(stderr, "kd-sync-tool: %s\n", error->message);
        return 1;
    }
    printf("objects=%" G_GINT64_FORMAT "\n", n);
    if (state->cookie != NULL) {
        gsize len = 0;
        const char *data = g_bytes_get_data(state->cookie, &len);

        printf("cookie=%.*s\n", (int)len, data);
    } else {
        printf("cookie=\n");
    }
    return 0;
}

int
main(int argc, char **argv)
{
    g_autofree char *uri = NULL, *bind_dn = NULL, *pw_file = NULL;
    g_autofree char *base = NULL, *store = NULL, *filter = NULL;
    g_autofree char *pw = NULL;
    gboolean once = FALSE, no_cookie = FALSE, print_state = FALSE;
    int ldap_timeout = 0, ka_idle = 0, ka_interval = 0, ka_probes = 0;
    int user_timeout_ms = 0, watchdog = 0, backoff_max_ms = 1000;
    GOptionEntry entries[] = {
        {"uri", 0, 0, G_OPTION_ARG_STRING, &uri, "LDAP URI", NULL},
        {"bind-dn", 0, 0, G_OPTION_ARG_STRING, &bind_dn, "bind DN", NULL},
        {"pw-file", 0, 0, G_OPTION_ARG_FILENAME, &pw_file, "password file",
         NULL},
        {"base", 0, 0, G_OPTION_ARG_STRING, &base, "search base", NULL},
        {"store", 0, 0, G_OPTION_ARG_FILENAME, &store, "store path", NULL},
        {"filter", 0, 0, G_OPTION_ARG_STRING, &filter, "filter", NULL},
        {"once", 0, 0, G_OPTION_ARG_NONE, &once, "one refreshOnly", NULL},
        {"no-cookie", 0, 0, G_OPTION_ARG_NONE, &no_cookie,
         "ignore the stored cookie (with --once)", NULL},
        {"ldap-timeout", 0, 0, G_OPTION_ARG_INT, &ldap_timeout,
         "connect and operation timeout (s)", NULL},
        {"keepalive-idle", 0, 0, G_OPTION_ARG_INT, &ka_idle,
         "TCP keepalive idle (s)", NULL},
        {"keepalive-interval", 0, 0, G_OPTION_ARG_INT, &ka_interval,
         "TCP keepalive interval (s)", NULL},
        {"keepalive-probes", 0, 0, G_OPTION_ARG_INT, &ka_probes,
         "TCP keepalive probes", NULL},
        {"tcp-user-timeout-ms", 0, 0, G_OPTION_ARG_INT, &user_timeout_ms,
         "TCP_USER_TIMEOUT (ms)", NULL},
        {"watchdog-interval", 0, 0, G_OPTION_ARG_INT, &watchdog,
         "contextCSN watchdog interval (s), 0: off", NULL},
        {"backoff-max-ms", 0, 0, G_OPTION_ARG_INT, &backoff_max_ms,
         "reconnect backoff cap (ms)", NULL},
        {"print-state", 0, 0, G_OPTION_ARG_NONE, &print_state,
         "print object count and cookie, then exit", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KdSync) sync = NULL;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_autoptr(GMainLoop) loop = NULL;
    KdSyncParams params;
    GThread *thread;
    gpointer args[3];

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "kd-sync-tool: %s\n", error->message);
        return 1;
    }
    if (print_state && store != NULL) {
        return print_store_state(store);
    }
    if (uri == NULL || base == NULL || store == NULL) {
        fprintf(stderr, "kd-sync-tool: %s\n",
                error ? error->message : "--uri, --base, --store required");
        return 1;
    }
    if (pw_file != NULL && !g_file_get_contents(pw_file, &pw, NULL, &error)) {
        fprintf(stderr, "kd-sync-tool: %s\n", error->message);
        return 1;
    }
    kd_sync_params_init(&params);
    params.ldap.uri = uri;
    params.ldap.bind_dn = bind_dn;
    params.ldap.bind_pw = pw != NULL ? g_strchomp(pw) : NULL;
    params.base = base;
    params.filter = filter != NULL ? filter : KD_TEST_FILTER;
    params.attrs = kd_test_attrs;
    params.tuning.delete_max_count = 0;
    params.tuning.delete_max_percent = 0;
    params.backoff_min_ms = 100;
    params.backoff_max_ms = (guint)MAX(backoff_max_ms, 100);
    params.ldap.network_timeout_s = ldap_timeout;
    params.ldap.op_timeout_s = ldap_timeout;
    params.ldap.keepalive_idle_s = ka_idle;
    params.ldap.keepalive_interval_s = ka_interval;
    params.ldap.keepalive_probes = ka_probes;
    params.ldap.tcp_user_timeout_ms = user_timeout_ms;
    params.watchdog_interval_s = (guint)MAX(watchdog, 0);
    sync = kd_sync_new(&params, store, kd_test_classify, NULL, &error);
    if (sync == NULL) {
        fprintf(stderr, "kd-sync-tool: %s\n", error->message);
        return 1;
    }
    if (once) {
        if (!kd_sync_refresh_once(sync, !no_cookie, NULL, &error)) {
            fprintf(stderr, "kd-sync-tool: %s\n", error->message);
            return 1;
        }
        return 0;
    }
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, cancel);
    g_unix_signal_add(SIGINT, on_signal, cancel);
    args[0] = sync;
    args[1] = cancel;
    args[2] = loop;
    thread = g_thread_new("sync", run_thread, args);
    g_main_loop_run(loop);
    g_thread_join(thread);
    return 0;
}
