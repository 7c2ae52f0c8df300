/*
 * sandbox.c -- C front end of tests/sandbox/kd-sandbox (see sandbox.h).
 */
#include "config.h"

#include "sandbox.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct KdSandbox {
    char *script;
    char *dir;
    GHashTable *env;     /* key -> value; both owned by strings */
    GPtrArray *strings;  /* every string handed out, freed at the end */
    gboolean failed;
};

G_DEFINE_QUARK(kd-sandbox-error-quark, kd_sandbox_error)

/* Sandboxes started and not yet freed: torn down by the exit hook.  The
 * lock lets tests start sandboxes from several threads at once. */
static GPtrArray *live_sandboxes;
G_LOCK_DEFINE_STATIC(live_sandboxes);

static void teardown(KdSandbox *sb, gboolean remove_dir);

static void exit_hook(void)
{
    for (;;) {
        KdSandbox *sb = NULL;

        G_LOCK(live_sandboxes);
        if (live_sandboxes != NULL && live_sandboxes->len > 0) {
            sb = g_ptr_array_steal_index(live_sandboxes, 0);
        }
        G_UNLOCK(live_sandboxes);
        if (sb == NULL) {
            break;
        }

        /* never freed: the test did not get to its end */
        fprintf(stderr, "kd-sandbox: sandbox %s was not freed (failed "
                "test?); server logs follow\n", sb->dir);
        kd_sandbox_print_logs(sb);
        sb->failed = TRUE;
        teardown(sb, FALSE);
    }
}

static void track(KdSandbox *sb)
{
    G_LOCK(live_sandboxes);
    if (live_sandboxes == NULL) {
        live_sandboxes = g_ptr_array_new();
        atexit(exit_hook);
    }
    g_ptr_array_add(live_sandboxes, sb);
    G_UNLOCK(live_sandboxes);
}

static void untrack(KdSandbox *sb)
{
    G_LOCK(live_sandboxes);
    if (live_sandboxes != NULL) {
        g_ptr_array_remove(live_sandboxes, sb);
    }
    G_UNLOCK(live_sandboxes);
}

/*
 * Runs argv (no shell) with stdout sent to our stderr, so that nothing the
 * script prints mixes with a test's TAP output on stdout.  stdin_text is
 * written to its stdin when not NULL.
 */
static gboolean run(const char *const *argv, const char *stdin_text,
                    GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    GSubprocessFlags flags = G_SUBPROCESS_FLAGS_NONE;
    int fd;

    if (stdin_text != NULL) {
        flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
    }
    launcher = g_subprocess_launcher_new(flags);
    fd = dup(STDERR_FILENO);
    if (fd >= 0) {
        g_subprocess_launcher_take_stdout_fd(launcher, fd);
    }
    proc = g_subprocess_launcher_spawnv(launcher, argv, error);
    if (proc == NULL) {
        return FALSE;
    }
    if (!g_subprocess_communicate_utf8(proc, stdin_text, NULL, NULL, NULL,
                                       error)) {
        return FALSE;
    }
    if (!g_subprocess_get_if_exited(proc)
        || g_subprocess_get_exit_status(proc) != 0) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv);

        g_set_error(error, KD_SANDBOX_ERROR, KD_SANDBOX_ERROR_FAILED,
                    "'%s' failed (%s %d); see its messages above", cmd,
                    g_subprocess_get_if_exited(proc) ? "exit status"
                                                     : "wait status",
                    g_subprocess_get_if_exited(proc)
                        ? g_subprocess_get_exit_status(proc)
                        : g_subprocess_get_status(proc));
        return FALSE;
    }
    return TRUE;
}

/* Undoes the quoting of kd-sandbox's q(): plain text, '...' and \x. */
static char *unquote(const char *s)
{
    GString *out = g_string_new(NULL);

    while (*s != '\0') {
        if (*s == '\'') {
            s++;
            while (*s != '\0' && *s != '\'') {
                g_string_append_c(out, *s++);
            }
            if (*s == '\'') {
                s++;
            }
        } else if (*s == '\\' && s[1] != '\0') {
            g_string_append_c(out, s[1]);
            s += 2;
        } else {
            g_string_append_c(out, *s++);
        }
    }
    return g_string_free(out, FALSE);
}

static gboolean load_env(KdSandbox *sb, GError **error)
{
    g_autofree char *path = g_build_filename(sb->dir, "sandbox.env", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, KD_SANDBOX_ERROR, KD_SANDBOX_ERROR_ENV,
                    "kd-sandbox: %s", local->message);
        return FALSE;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        const char *eq = strchr(*l, '=');
        char *key, *value;

        if (**l == '#' || **l == '\0' || eq == NULL || eq == *l) {
            continue;
        }
        key = g_strndup(*l, (gsize)(eq - *l));
        value = unquote(eq + 1);
        /* old values stay valid: the strings array owns every copy */
        g_ptr_array_add(sb->strings, key);
        g_ptr_array_add(sb->strings, value);
        g_hash_table_replace(sb->env, key, value);
    }
    return TRUE;
}

static char *script_path(GError **error)
{
    const char *s = g_getenv("KD_SANDBOX");
    const char *top = g_getenv("KD_TOP_SRCDIR");

    if (s != NULL && *s != '\0') {
        return g_strdup(s);
    }
    if (top != NULL && *top != '\0') {
        return g_build_filename(top, "tests", "sandbox", "kd-sandbox", NULL);
    }
    g_set_error(error, KD_SANDBOX_ERROR, KD_SANDBOX_ERROR_SETUP,
                "neither KD_SANDBOX nor KD_TOP_SRCDIR is set; run the test "
                "through 'make check'");
    return NULL;
}

static void kd_sandbox_destroy(KdSandbox *sb)
{
    g_hash_table_destroy(sb->env);
    g_ptr_array_free(sb->strings, TRUE);
    g_free(sb->script);
    g_free(sb->dir);
    g_free(sb);
}

KdSandbox *kd_sandbox_start(const KdSandboxOptions *opts, GError **error)
{
    g_autofree char *script = script_path(error);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir = NULL;
    KdSandbox *sb;

    if (script == NULL) {
        return NULL;
    }
    if (!g_file_test(script, G_FILE_TEST_IS_EXECUTABLE)) {
        g_set_error(error, KD_SANDBOX_ERROR, KD_SANDBOX_ERROR_SETUP,
                    "kd-sandbox script %s is missing or not executable",
                    script);
        return NULL;
    }
    dir = g_dir_make_tmp("kd-sandbox-XXXXXX", error);
    if (dir == NULL) {
        return NULL;
    }
    g_ptr_array_add(argv, g_strdup(script));
    g_ptr_array_add(argv, g_strdup("up"));
    if (opts != NULL && opts->no_cyrus) {
        g_ptr_array_add(argv, g_strdup("--no-cyrus"));
    } else if (opts != NULL && opts->single) {
        g_ptr_array_add(argv, g_strdup("--single"));
    }
    if (opts != NULL && opts->sessionlog > 0) {
        g_ptr_array_add(argv, g_strdup("--sessionlog"));
        g_ptr_array_add(argv, g_strdup_printf("%u", opts->sessionlog));
    }
    if (opts != NULL && opts->reloadhint) {
        g_ptr_array_add(argv, g_strdup("--reloadhint"));
    }
    if (opts != NULL && opts->tls) {
        g_ptr_array_add(argv, g_strdup("--tls"));
    }
    if (opts != NULL && opts->data_ldif != NULL) {
        g_ptr_array_add(argv, g_strdup("--data"));
        g_ptr_array_add(argv, g_strdup(opts->data_ldif));
    }
    g_ptr_array_add(argv, g_strdup("--watch-pid"));
    g_ptr_array_add(argv, g_strdup_printf("%ld", (long)getpid()));
    g_ptr_array_add(argv, g_strdup(dir));
    g_ptr_array_add(argv, NULL);

    sb = g_new0(KdSandbox, 1);
    sb->script = g_strdup(script);
    sb->dir = g_steal_pointer(&dir);
    sb->env = g_hash_table_new(g_str_hash, g_str_equal);
    sb->strings = g_ptr_array_new_with_free_func(g_free);

    if (!run((const char *const *)argv->pdata, NULL, error)) {
        /* up has stopped what it started and printed the logs */
        fprintf(stderr, "kd-sandbox: kept %s\n", sb->dir);
        kd_sandbox_destroy(sb);
        return NULL;
    }
    if (!load_env(sb, error)) {
        sb->failed = TRUE;
        teardown(sb, FALSE);
        return NULL;
    }
    track(sb);
    return sb;
}

const char *kd_sandbox_get(KdSandbox *sb, const char *key)
{
    g_return_val_if_fail(sb != NULL && key != NULL, NULL);
    return g_hash_table_lookup(sb->env, key);
}

const char *kd_sandbox_need(KdSandbox *sb, const char *key)
{
    const char *v = kd_sandbox_get(sb, key);

    if (v == NULL || *v == '\0') {
        g_error("kd-sandbox: %s has no %s in sandbox.env", sb->dir, key);
    }
    return v;
}

int kd_sandbox_get_int(KdSandbox *sb, const char *key)
{
    const char *v = kd_sandbox_need(sb, key);
    gint64 n = 0;

    if (!g_ascii_string_to_signed(v, 10, 0, G_MAXINT, &n, NULL)) {
        g_error("kd-sandbox: %s=%s is not a number", key, v);
    }
    return (int)n;
}

const char *kd_sandbox_dir(KdSandbox *sb)
{
    g_return_val_if_fail(sb != NULL, NULL);
    return sb->dir;
}

gboolean kd_sandbox_ctl(KdSandbox *sb, const char *const *args,
                        GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    g_return_val_if_fail(sb != NULL && args != NULL && args[0] != NULL,
                         FALSE);
    g_ptr_array_add(argv, sb->script);
    g_ptr_array_add(argv, (gpointer)args[0]);
    g_ptr_array_add(argv, sb->dir);
    for (const char *const *a = args + 1; *a != NULL; a++) {
        g_ptr_array_add(argv, (gpointer)*a);
    }
    g_ptr_array_add(argv, NULL);
    if (!run((const char *const *)argv->pdata, NULL, error)
        || !load_env(sb, error)) {
        sb->failed = TRUE;
        return FALSE;
    }
    return TRUE;
}

static gboolean ldap_change(KdSandbox *sb, const char *cmd, const char *ldif,
                            GError **error)
{
    const char *argv[] = { sb->script, cmd, sb->dir, NULL };

    g_return_val_if_fail(ldif != NULL, FALSE);
    if (!run(argv, ldif, error)) {
        sb->failed = TRUE;
        return FALSE;
    }
    return TRUE;
}

gboolean kd_sandbox_ldapmodify(KdSandbox *sb, const char *ldif,
                               GError **error)
{
    g_return_val_if_fail(sb != NULL, FALSE);
    return ldap_change(sb, "ldapmodify", ldif, error);
}

gboolean kd_sandbox_ldapadd(KdSandbox *sb, const char *ldif, GError **error)
{
    g_return_val_if_fail(sb != NULL, FALSE);
    return ldap_change(sb, "ldapadd", ldif, error);
}

char *kd_sandbox_read_secret(KdSandbox *sb, const char *key, GError **error)
{
    const char *path;
    char *text = NULL;

    g_return_val_if_fail(sb != NULL && key != NULL, NULL);
    path = kd_sandbox_get(sb, key);
    if (path == NULL) {
        g_set_error(error, KD_SANDBOX_ERROR, KD_SANDBOX_ERROR_ENV,
                    "kd-sandbox: no %s in %s/sandbox.env", key, sb->dir);
        return NULL;
    }
    if (!g_file_get_contents(path, &text, NULL, error)) {
        return NULL;
    }
    return text;
}

void kd_sandbox_keep(KdSandbox *sb)
{
    g_return_if_fail(sb != NULL);
    sb->failed = TRUE;
}

void kd_sandbox_print_logs(KdSandbox *sb)
{
    const char *argv[] = { sb->script, "logs", sb->dir, NULL };
    g_autoptr(GError) error = NULL;

    g_return_if_fail(sb != NULL);
    if (!run(argv, NULL, &error)) {
        fprintf(stderr, "kd-sandbox: %s\n", error->message);
    }
}

/* Stops the servers, removes or keeps the directory, frees sb. */
static void teardown(KdSandbox *sb, gboolean remove_dir)
{
    const char *down[] = { sb->script, "down", sb->dir, NULL };
    g_autoptr(GError) error = NULL;

    if (!run(down, NULL, &error)) {
        fprintf(stderr, "kd-sandbox: %s\n", error->message);
        remove_dir = FALSE;
    }
    if (remove_dir) {
        const char *rm[] = { "rm", "-rf", "--", sb->dir, NULL };

        g_clear_error(&error);
        if (!run(rm, NULL, &error)) {
            fprintf(stderr, "kd-sandbox: cannot remove %s: %s\n", sb->dir,
                    error->message);
        }
    } else {
        fprintf(stderr, "kd-sandbox: kept %s\n", sb->dir);
    }
    kd_sandbox_destroy(sb);
}

void kd_sandbox_free(KdSandbox *sb)
{
    const char *keep = g_getenv("KD_SANDBOX_KEEP");

    if (sb == NULL) {
        return;
    }
    untrack(sb);
    if (sb->failed) {
        kd_sandbox_print_logs(sb);
    }
    teardown(sb, !sb->failed && (keep == NULL || *keep == '\0'
                                 || g_str_equal(keep, "0")));
}
