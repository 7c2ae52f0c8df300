/* cli-status: `kolabd status` and `kolabd check-config`. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "hooks-json.h"

int
kd_cli_status(const char *config_path, int argc, char **argv)
{
    gboolean json = argc > 1 && strcmp(argv[1], "--json") == 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdConfig) config = NULL;
    g_autofree char *path = NULL;
    g_autoptr(KdStore) store = NULL;
    g_autoptr(KdSyncState) state = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autoptr(GPtrArray) backends = NULL;
    KdStoreCounts c;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    config = kd_config_load(config_path ? config_path
                                        : KD_CONFIG_DEFAULT_PATH,
                            &error);
    if (config == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_USAGE;
    }
    path = g_build_filename(config->state_dir, "kolabd.db", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "kolabd: no state yet (%s does not exist)\n", path);
        return KD_EXIT_FAILURE;
    }
    store = kd_store_open(path, &error);
    if (store == NULL ||
        (state = kd_store_get_sync_state(store, &error)) == NULL ||
        !kd_store_counts(store, &c, &error) ||
        (problems = kd_store_work_problems(store, 20, &error)) == NULL ||
        (backends = kd_store_list_backends(store, &error)) == NULL) {
        fprintf(stderr, "kolabd: %s\n", error->message);
        return KD_EXIT_FAILURE;
    }
    if (json) {
        g_autoptr(GString) out = g_string_new(NULL);

        g_string_append_printf(
            out,
            "{\"sync\":{\"connected\":%s,\"has_cookie\":%s,"
            "\"cookie_age_s\":%" G_GINT64_FORMAT
            ",\"last_refresh_end\":%" G_GINT64_FORMAT ",\"last_error\":",
            state->connected ? "true" : "false",
            state->cookie ? "true" : "false",
            state->cookie_updated_at ? now - state->cookie_updated_at : -1,
            state->last_refresh_end);
        kd_hooks_json_append_string(out, state->last_error);
        g_string_append(out, ",\"held_deletes_reason\":");
        kd_hooks_json_append_string(out, state->hold_reason);
        g_string_append_printf(
            out,
            "},\"objects\":{\"users\":%" G_GINT64_FORMAT
            ",\"shared_folders\":%" G_GINT64_FORMAT
            ",\"absent\":%" G_GINT64_FORMAT ",\"refused\":%" G_GINT64_FORMAT
            "},\"queue\":{\"length\":%" G_GINT64_FORMAT
            ",\"held\":%" G_GINT64_FORMAT ",\"failing\":%" G_GINT64_FORMAT
            ",\"oldest_age_s\":%" G_GINT64_FORMAT "},\"problems\":[",
            c.users_present, c.shared_present, c.absent, c.refused, c.queue,
            c.held, c.failing,
            c.oldest_enqueued ? now - c.oldest_enqueued : 0);
        for (guint i = 0; i < problems->len; i++) {
            const KdWorkProblem *p = g_ptr_array_index(problems, i);

            g_string_append(out, i ? ",{\"dn\":" : "{\"dn\":");
            kd_hooks_json_append_string(out, p->dn);
            g_string_append(out, ",\"error\":");
            kd_hooks_json_append_string(out, p->text);
            g_string_append_printf(out, ",\"held\":%s,\"attempts\":%d}",
                                   p->held ? "true" : "false", p->attempts);
        }
        g_string_append(out, "],\"backends\":[");
        for (guint i = 0; i < backends->len; i++) {
            const KdBackendRow *b = g_ptr_array_index(backends, i);

            g_string_append(out, i ? ",{\"name\":" : "{\"name\":");
            kd_hooks_json_append_string(out, b->name);
            g_string_append(out, ",\"servername\":");
            kd_hooks_json_append_string(out, b->servername);
            g_string_append_printf(out,
                                   ",\"mailboxes\":%" G_GINT64_FORMAT
                                   ",\"up\":%s,\"note\":",
                                   b->mailboxes, b->up ? "true" : "false");
            kd_hooks_json_append_string(out, b->note);
            g_string_append_c(out, '}');
        }
        g_string_append(out, "]}\n");
        fputs(out->str, stdout);
        return KD_EXIT_OK;
    }
    printf("sync:     %s, cookie %s", state->connected ? "connected"
                                                       : "not connected",
           state->cookie ? "stored" : "none");
    if (state->cookie_updated_at > 0) {
        printf(" (%" G_GINT64_FORMAT " s old)",
               now - state->cookie_updated_at);
    }
    printf("\n");
    if (state->last_error != NULL) {
        printf("          last error: %s\n", state->last_error);
    }
    if (state->hold_reason != NULL) {
        printf("          deletes held: %s\n", state->hold_reason);
    }
    printf("objects:  %" G_GINT64_FORMAT " users, %" G_GINT64_FORMAT
           " shared folders, %" G_GINT64_FORMAT " gone, %" G_GINT64_FORMAT
           " refused\n",
           c.users_present, c.shared_present, c.absent, c.refused);
    printf("queue:    %" G_GINT64_FORMAT " dirty, %" G_GINT64_FORMAT
           " held, %" G_GINT64_FORMAT " failing",
           c.queue, c.held, c.failing);
    if (c.oldest_enqueued > 0) {
        printf(", oldest %" G_GINT64_FORMAT " s", now - c.oldest_enqueued);
    }
    printf("\n");
    for (guint i = 0; i < backends->len; i++) {
        const KdBackendRow *b = g_ptr_array_index(backends, i);

        printf("backend:  %s (%s) %s, %" G_GINT64_FORMAT " mailboxes\n",
               b->name, b->servername ? b->servername : "?",
               b->up ? "up" : "DOWN", b->mailboxes);
        if (b->note != NULL) {
            printf("          %s\n", b->note);
        }
    }
    for (guint i = 0; i < problems->len; i++) {
        const KdWorkProblem *p = g_ptr_array_index(problems, i);

        printf("  %s %s: %s\n", p->held ? "held" : "retrying",
               p->dn ? p->dn : "?", p->text ? p->text : "");
    }
    return KD_EXIT_OK;
}

int
kd_cli_check_config(const char *config_path, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    int rc = KD_EXIT_OK;

    app = kd_app_new(config_path, &error);
    if (app == NULL) {
        fprintf(stderr, "%s\n", error->message);
        return KD_EXIT_USAGE;
    }
    problems = kd_config_check(kd_app_get_config(app));
    for (guint i = 0; i < problems->len; i++) {
        fprintf(stderr, "%s\n", (char *)g_ptr_array_index(problems, i));
        rc = KD_EXIT_USAGE;
    }
    if (!kd_app_check_ldap(app, &error)) {
        fprintf(stderr, "LDAP: %s\n", error->message);
        g_clear_error(&error);
        rc = KD_EXIT_FAILURE;
    } else {
        printf("LDAP: bind as %s works\n",
               kd_app_get_config(app)->bind_dn
                   ? kd_app_get_config(app)->bind_dn
                   : "(anonymous)");
    }
    if (kd_murder_probe(kd_app_get_murder(app)) <
        kd_murder_get_n_backends(kd_app_get_murder(app))) {
        rc = KD_EXIT_FAILURE;
    }
    for (gsize i = 0; i < kd_murder_get_n_backends(kd_app_get_murder(app));
         i++) {
        const KdMurderBackend *b =
            kd_murder_get_backend(kd_app_get_murder(app), i);

        printf("backend %s: %s, servername %s%s%s\n", b->name,
               b->up ? "up" : "DOWN", b->servername ? b->servername : "?",
               b->last_error ? ": " : "", b->last_error ? b->last_error : "");
    }
    {
        const char *fe_uri = NULL;

        if (!kd_murder_probe_frontend(kd_app_get_murder(app), &fe_uri,
                                      &error)) {
            printf("frontend: DOWN: %s\n", error->message);
            g_clear_error(&error);
            rc = KD_EXIT_FAILURE;
        } else if (fe_uri != NULL) {
            printf("frontend %s: up\n", fe_uri);
        }
    }
    if (rc == KD_EXIT_OK) {
        printf("configuration OK\n");
    }
    return rc;
}
