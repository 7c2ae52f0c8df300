/*
 * kd-sync-tool: a syncrepl consumer in its own process, for tests that
 * kill the consumer (SIGKILL at random points) and check the store after
 * a restart. Runs kd_sync_run() with the test classifier until SIGTERM or
 * SIGINT, or one refreshOnly with --once.
 *
 *   kd-sync-tool --uri URI --bind-dn DN --pw-file FILE --base DN
 *                --store PATH [--filter F] [--once] [--no-cookie]
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

int
main(int argc, char **argv)
{
    g_autofree char *uri = NULL, *bind_dn = NULL, *pw_file = NULL;
    g_autofree char *base = NULL, *store = NULL, *filter = NULL;
    g_autofree char *pw = NULL;
    gboolean once = FALSE, no_cookie = FALSE;
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
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || uri == NULL ||
        base == NULL || store == NULL) {
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
    params.backoff_max_ms = 1000;
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
