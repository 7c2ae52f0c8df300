/*
 * test-hooks: provisioning hooks with real processes. Each test writes
 * small hook scripts into its own temporary hooks_dir; the scripts record
 * what they received (environment, stdin, order, attempts) in files the
 * test reads back.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "hooks-exec.h"
#include "hooks-json.h"
#include "hooks.h"

typedef struct {
    char *tmp;       /* removed at teardown */
    char *hooks_dir; /* tmp/hooks */
    char *out;       /* tmp/out: where hooks write */
    char *db_path;   /* tmp/store.db */
} Fixture;

static int
setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->tmp = g_dir_make_tmp("kd-test-hooks-XXXXXX", NULL);
    assert_non_null(f->tmp);
    assert_int_equal(chmod(f->tmp, 0755), 0);
    f->hooks_dir = g_build_filename(f->tmp, "hooks", NULL);
    f->out = g_build_filename(f->tmp, "out", NULL);
    f->db_path = g_build_filename(f->tmp, "store.db", NULL);
    assert_int_equal(g_mkdir(f->hooks_dir, 0755), 0);
    assert_int_equal(g_mkdir(f->out, 0755), 0);
    *state = f;
    return 0;
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

static int
teardown(void **state)
{
    Fixture *f = *state;

    remove_tree(f->tmp);
    g_free(f->tmp);
    g_free(f->hooks_dir);
    g_free(f->out);
    g_free(f->db_path);
    g_free(f);
    return 0;
}

/* Writes hooks_dir/EVENT.d/NAME: "#!/bin/sh" and @body, with @mode. */
static char *
write_hook(Fixture *f, const char *event, const char *name, mode_t mode,
           const char *body)
{
    g_autofree char *dir = g_strconcat(f->hooks_dir, "/", event, ".d", NULL);
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strconcat("#!/bin/sh\n", body, "\n", NULL);

    g_mkdir(dir, 0755);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static char *
out_path(Fixture *f, const char *name)
{
    return g_build_filename(f->out, name, NULL);
}

static char *
read_out(Fixture *f, const char *name)
{
    g_autofree char *path = out_path(f, name);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return NULL;
    }
    return text;
}

static KdHooks *
open_hooks(Fixture *f, guint timeout_ms)
{
    KdHooksOptions o = {
        .hooks_dir = f->hooks_dir,
        .timeout_ms = timeout_ms,
        .retry_base_s = 2,
        .retry_max_s = 60,
    };
    g_autoptr(GError) error = NULL;
    KdHooks *hooks = kd_hooks_open(f->db_path, &o, &error);

    assert_null(error);
    assert_non_null(hooks);
    return hooks;
}

static gint64
now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static void
test_hooks_json_escapes_hostile_values(void **state)
{
    g_autoptr(GString) s = g_string_new(NULL);

    kd_hooks_json_append_string(s, "a\"b\\c\n\t\x01\x7f/");
    assert_string_equal(s->str, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f/\"");

    /* Invalid UTF-8: each bad byte becomes U+FFFD; valid text is kept. */
    g_string_truncate(s, 0);
    kd_hooks_json_append_string(s, "x\xff\xc3(\xc3\xa9\xe2\x80\xa8");
    assert_string_equal(s->str, "\"x\\ufffd\\ufffd(\xc3\xa9\\u2028\"");
    assert_true(g_utf8_validate(s->str, -1, NULL));

    g_string_truncate(s, 0);
    kd_hooks_json_append_string(s, NULL);
    assert_string_equal(s->str, "null");
}

static void
test_hooks_json_payload_has_object(void **state)
{
    guint8 uuid[KD_UUID_LEN] = {0xab, 0xcd};
    g_autoptr(KdObject) o = kd_object_new(uuid);
    KdHookEvent ev = {
        .event = KD_HOOK_QUOTA_CHANGED,
        .mail = "a@b.c",
        .object = NULL,
    };
    g_autofree char *json = NULL;

    o->kind = KD_OBJECT_USER;
    o->mail = g_strdup("a@b.c");
    o->quota_kib = KD_QUOTA_UNLIMITED;
    o->attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(o->attrs, g_strdup("zz"), g_strdup("2"));
    g_hash_table_insert(o->attrs, g_strdup("aa"), g_strdup("1"));
    ev.object = o;
    json = kd_hooks_json_payload(&ev, "id-1");
    assert_non_null(strstr(json, "\"event\":\"quota-changed\","
                                 "\"event_id\":\"id-1\",\"uuid\":null"));
    assert_non_null(strstr(json, "\"object\":{\"kind\":\"user\",\"uuid\":"
                                 "\"abcd0000000000000000000000000000\""));
    assert_non_null(strstr(json, "\"quota_kib\":-1"));
    assert_non_null(strstr(json, "\"attrs\":{\"aa\":\"1\",\"zz\":\"2\"}"));
    assert_true(g_str_has_suffix(json, "\"error\":null}}\n"));
}

static void
test_hooks_name_filter(void **state)
{
    assert_true(kd_hooks_exec_name_is_candidate("10-notify"));
    assert_true(kd_hooks_exec_name_is_candidate("a.sh"));
    assert_false(kd_hooks_exec_name_is_candidate(".hidden"));
    assert_false(kd_hooks_exec_name_is_candidate("10-notify~"));
    assert_false(kd_hooks_exec_name_is_candidate("10-notify.dpkg-old"));
    assert_false(kd_hooks_exec_name_is_candidate("10-notify.dpkg-dist"));
    assert_false(kd_hooks_exec_name_is_candidate("10-notify.rpmnew"));
    assert_false(kd_hooks_exec_name_is_candidate("bad\nname"));
}

/* Splits `env -0` output into a table. */
static GHashTable *
parse_env0(const char *text, gsize len)
{
    GHashTable *env =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *p = text;

    while (p < text + len) {
        const char *eq = strchr(p, '=');
        assert_non_null(eq);
        g_hash_table_insert(env, g_strndup(p, eq - p), g_strdup(eq + 1));
        p += strlen(p) + 1;
    }
    return env;
}

static void
test_hooks_env_and_stdin(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) env = NULL;
    g_autofree char *body = g_strdup_printf(
        "/usr/bin/env -0 > '%s/env'\ncat > '%s/stdin'\n"
        "ls /proc/$$/fd > '%s/fds'",
        f->out, f->out, f->out);
    g_autofree char *hook =
        write_hook(f, "mailbox-renamed", "10-rec", 0755, body);
    g_autofree char *env_text = NULL;
    g_autofree char *env_path = out_path(f, "env");
    g_autofree char *stdin_text = NULL;
    g_autofree char *expected = NULL;
    gsize env_len = 0;
    GHashTableIter it;
    gpointer key;
    KdHookEvent ev = {
        .event = KD_HOOK_MAILBOX_RENAMED,
        .event_id = "evt-42",
        .uuid = "0123456789abcdef0123456789abcdef",
        .dn = "uid=jane,ou=People,dc=example,dc=org",
        .mail = "jane@example.org",
        .mailbox = "user/jane.doe@example.org",
        .mailhost = "imap1.example.org",
        .old_mailbox = "user/jane@example.org",
    };

    g_autofree char *fds = NULL;
    g_autofree char *leak_line = NULL;
    /* A descriptor without close-on-exec must not reach the hook. */
    int leak = open("/dev/null", O_RDONLY);

    assert_true(leak > 2 && leak < 10);
    leak_line = g_strdup_printf("\n%d\n", leak);
    g_setenv("KD_SECRET_TOKEN", "do-not-leak", TRUE);
    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_null(error);
    assert_int_equal(kd_hooks_run_due(hooks, now_s(), 10, NULL, &error), 1);
    assert_null(error);

    assert_true(g_file_get_contents(env_path, &env_text, &env_len, NULL));
    env = parse_env0(env_text, env_len);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_EVENT"),
                        "mailbox-renamed");
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_EVENT_ID"), "evt-42");
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_ATTEMPT"), "1");
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_UUID"), ev.uuid);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_DN"), ev.dn);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_MAIL"), ev.mail);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_MAILBOX"), ev.mailbox);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_MAILHOST"),
                        ev.mailhost);
    assert_string_equal(g_hash_table_lookup(env, "KOLABD_OLD_MAILBOX"),
                        ev.old_mailbox);
    assert_null(g_hash_table_lookup(env, "KOLABD_OLD_MAILHOST"));
    assert_string_equal(g_hash_table_lookup(env, "PATH"),
                        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                        "/sbin:/bin");
    /* Nothing inherited: only ours and what sh itself sets. */
    g_hash_table_iter_init(&it, env);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *k = key;
        if (!g_str_has_prefix(k, "KOLABD_") && strcmp(k, "PATH") != 0 &&
            strcmp(k, "HOME") != 0 && strcmp(k, "PWD") != 0 &&
            strcmp(k, "SHLVL") != 0 && strcmp(k, "_") != 0) {
            fail_msg("unexpected variable %s in the hook environment", k);
        }
    }
    assert_null(g_hash_table_lookup(env, "KD_SECRET_TOKEN"));

    fds = read_out(f, "fds");
    assert_non_null(fds);
    assert_true(g_str_has_prefix(fds, "0\n1\n"));
    assert_null(strstr(fds, leak_line));
    close(leak);

    stdin_text = read_out(f, "stdin");
    assert_non_null(stdin_text);
    expected = kd_hooks_json_payload(&ev, "evt-42");
    assert_string_equal(stdin_text, expected);
    assert_non_null(strstr(stdin_text, "\"old_mailbox\":"
                                       "\"user/jane@example.org\""));
}

static void
test_hooks_metacharacters_are_data(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autofree char *pwned1 = out_path(f, "pwned1");
    g_autofree char *pwned2 = out_path(f, "pwned2");
    g_autofree char *mail = g_strdup_printf(
        "$(touch %s); `touch %s`; \"quotes\" 'q' | & > <\nline2 \\", pwned1,
        pwned2);
    g_autofree char *body = g_strdup_printf(
        "printf '%%s' \"$KOLABD_MAIL\" > '%s/mail'\ncat > '%s/stdin'", f->out,
        f->out);
    g_autofree char *hook = write_hook(f, "pre-delete", "10-rec", 0755, body);
    g_autofree char *got = NULL;
    g_autofree char *json = NULL;
    g_autoptr(GString) escaped = g_string_new(NULL);
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE, .mail = mail};
    g_autofree char *reason = NULL;

    assert_true(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_null(reason);
    got = read_out(f, "mail");
    assert_non_null(got);
    assert_string_equal(got, mail);
    assert_false(g_file_test(pwned1, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(pwned2, G_FILE_TEST_EXISTS));
    json = read_out(f, "stdin");
    kd_hooks_json_append_string(escaped, mail);
    assert_non_null(strstr(json, escaped->str));
    assert_non_null(strstr(json, "\\\"quotes\\\""));
    assert_non_null(strstr(json, "\\nline2 \\\\\""));
}

static void
test_hooks_name_order_and_skips(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    const char *names[] = {"20-c",  "02-a",          "10-b",     ".hidden",
                           "10-b~", "10-b.dpkg-old", "15-noexec"};
    g_autofree char *order = NULL;
    KdHookEvent ev = {.event = KD_HOOK_MAILBOX_CREATED, .mail = "a@b.c"};
    guint i;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *body =
            g_strdup_printf("echo '%s' >> '%s/order'", names[i], f->out);
        g_autofree char *p = write_hook(f, "mailbox-created", names[i],
                                        i == 6 ? 0644 : 0755, body);
    }
    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_int_equal(kd_hooks_run_due(hooks, now_s(), 10, NULL, &error), 1);
    order = read_out(f, "order");
    assert_non_null(order);
    assert_string_equal(order, "02-a\n10-b\n20-c\n");
}

/* TRUE when @pid is gone (or only a zombie waiting for its reaper). */
static gboolean
process_gone(pid_t pid)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *paren;

    if (kill(pid, 0) != 0 && errno == ESRCH) {
        return TRUE;
    }
    if (!g_file_get_contents(stat_path, &text, NULL, NULL)) {
        return TRUE;
    }
    paren = strrchr(text, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

static void
test_hooks_timeout_kills_process_group(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 300);
    g_autofree char *body =
        g_strdup_printf("trap '' TERM\nsleep 30 &\necho $! > '%s/child'\n"
                        "echo started\nwait",
                        f->out);
    g_autofree char *hook = write_hook(f, "pre-delete", "10-slow", 0755, body);
    g_autofree char *reason = NULL;
    g_autofree char *child_text = NULL;
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE, .mail = "a@b.c"};
    gint64 start = g_get_monotonic_time();
    pid_t child;
    int i;

    /* The hook ignores SIGTERM: only the SIGKILL to the group ends it. */
    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
    assert_non_null(reason);
    assert_non_null(strstr(reason, hook));
    assert_non_null(strstr(reason, "timed out after 300 ms"));
    assert_non_null(strstr(reason, "started"));
    child_text = read_out(f, "child");
    assert_non_null(child_text);
    child = (pid_t)g_ascii_strtoll(child_text, NULL, 10);
    assert_true(child > 1);
    for (i = 0; i < 100 && !process_gone(child); i++) {
        g_usleep(20 * 1000);
    }
    assert_true(process_gone(child));
}

static void
test_hooks_retry_with_backoff(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    g_autofree char *flag = out_path(f, "flag");
    g_autofree char *body = g_strdup_printf(
        "echo \"$KOLABD_EVENT_ID $KOLABD_ATTEMPT\" >> '%s/attempts'\n"
        "[ -e '%s' ] || { echo 'backend down' >&2; exit 3; }",
        f->out, flag);
    g_autofree char *hook = write_hook(f, "quota-changed", "10-q", 0755, body);
    g_autofree char *last = NULL;
    g_autofree char *attempts = NULL;
    KdHookEvent ev = {
        .event = KD_HOOK_QUOTA_CHANGED, .mail = "q@b.c", .event_id = "q-1"};
    KdHooksQueueStats st;
    gint64 now = now_s();

    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    /* The same event id again (a replay) is not queued twice. */
    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_int_equal(kd_hooks_run_due(hooks, now, 10, NULL, &error), 1);
    assert_true(kd_hooks_queue_stats(hooks, &st, &error));
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.failing, 1);
    assert_int_equal(st.next_try, now + 2);
    last = kd_hooks_queue_last_error(hooks, &error);
    assert_non_null(strstr(last, hook));
    assert_non_null(strstr(last, "exited with status 3: backend down"));

    /* Not due yet: nothing runs. */
    assert_int_equal(kd_hooks_run_due(hooks, now + 1, 10, NULL, &error), 0);
    /* Second failure doubles the delay. */
    assert_int_equal(kd_hooks_run_due(hooks, now + 2, 10, NULL, &error), 1);
    assert_true(kd_hooks_queue_stats(hooks, &st, &error));
    assert_int_equal(st.next_try, now + 2 + 4);

    assert_true(g_file_set_contents(flag, "", 0, NULL));
    assert_int_equal(kd_hooks_run_due(hooks, now + 6, 10, NULL, &error), 1);
    assert_true(kd_hooks_queue_stats(hooks, &st, &error));
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.next_try, 0);
    attempts = read_out(f, "attempts");
    assert_string_equal(attempts, "q-1 1\nq-1 2\nq-1 3\n");
}

static void
test_hooks_retry_skips_hooks_already_done(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    g_autofree char *flag = out_path(f, "flag");
    g_autofree char *b1 = g_strdup_printf("echo 1 >> '%s/ran'", f->out);
    g_autofree char *b2 = g_strdup_printf(
        "[ -e '%s' ] || exit 1\necho 2 >> '%s/ran'", flag, f->out);
    g_autofree char *h1 = write_hook(f, "acl-changed", "01-first", 0755, b1);
    g_autofree char *h2 = write_hook(f, "acl-changed", "02-second", 0755, b2);
    g_autofree char *ran = NULL;
    KdHookEvent ev = {.event = KD_HOOK_ACL_CHANGED, .mail = "a@b.c"};
    gint64 now = now_s();

    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_int_equal(kd_hooks_run_due(hooks, now, 10, NULL, &error), 1);
    assert_true(g_file_set_contents(flag, "", 0, NULL));
    assert_int_equal(kd_hooks_run_due(hooks, now + 60, 10, NULL, &error), 1);
    ran = read_out(f, "ran");
    assert_string_equal(ran, "1\n2\n");
}

static void
test_hooks_events_of_one_object_stay_in_order(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    g_autofree char *flag = out_path(f, "flag");
    g_autofree char *b1 = g_strdup_printf(
        "[ -e '%s' ] || exit 1\necho \"$KOLABD_EVENT\" >> '%s/seq'", flag,
        f->out);
    g_autofree char *b2 = g_strdup_printf(
        "echo \"$KOLABD_EVENT $KOLABD_MAIL\" >> '%s/seq'", f->out);
    g_autofree char *h1 = write_hook(f, "mailbox-created", "10", 0755, b1);
    g_autofree char *h2 = write_hook(f, "mailbox-deleted", "10", 0755, b2);
    g_autofree char *seq = NULL;
    KdHookEvent created = {.event = KD_HOOK_MAILBOX_CREATED, .uuid = "u1"};
    KdHookEvent deleted = {
        .event = KD_HOOK_MAILBOX_DELETED, .uuid = "u1", .mail = "one"};
    KdHookEvent other = {
        .event = KD_HOOK_MAILBOX_DELETED, .uuid = "u2", .mail = "two"};
    gint64 now = now_s();

    assert_true(kd_hooks_enqueue(hooks, NULL, &created, &error));
    assert_true(kd_hooks_enqueue(hooks, NULL, &deleted, &error));
    assert_true(kd_hooks_enqueue(hooks, NULL, &other, &error));
    /* u1's create fails and holds back u1's delete; u2 is independent. */
    assert_int_equal(kd_hooks_run_due(hooks, now, 10, NULL, &error), 2);
    seq = read_out(f, "seq");
    assert_string_equal(seq, "mailbox-deleted two\n");
    g_clear_pointer(&seq, g_free);

    assert_true(g_file_set_contents(flag, "", 0, NULL));
    assert_int_equal(kd_hooks_run_due(hooks, now + 60, 10, NULL, &error), 1);
    assert_int_equal(kd_hooks_run_due(hooks, now + 60, 10, NULL, &error), 1);
    seq = read_out(f, "seq");
    assert_string_equal(seq, "mailbox-deleted two\nmailbox-created\n"
                             "mailbox-deleted one\n");
}

static void
test_hooks_at_least_once_across_crash(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autofree char *body = g_strdup_printf(
        "echo \"$KOLABD_EVENT_ID $KOLABD_MAIL\" >> '%s/ran'", f->out);
    g_autofree char *hook = write_hook(f, "mailhost-changed", "10", 0755, body);
    g_autofree char *ran = NULL;
    KdHookEvent kept = {.event = KD_HOOK_MAILHOST_CHANGED,
                        .mail = "kept",
                        .event_id = "e-kept",
                        .old_mailhost = "imap1"};
    KdHookEvent lost = {.event = KD_HOOK_MAILHOST_CHANGED,
                        .mail = "lost",
                        .event_id = "e-lost"};
    KdHooks *hooks = open_hooks(f, 5000);
    sqlite3 *db = NULL;

    /* The engine enqueues on its own connection, in its transaction. */
    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_true(kd_hooks_queue_init_schema(db, &error));
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_true(kd_hooks_enqueue(NULL, db, &kept, &error));
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_true(kd_hooks_enqueue(NULL, db, &lost, &error));
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* "Crash": the runner goes away without running anything. */
    kd_hooks_free(hooks);
    assert_null(read_out(f, "ran"));

    hooks = open_hooks(f, 5000);
    assert_int_equal(kd_hooks_run_due(hooks, now_s(), 10, NULL, &error), 1);
    assert_null(error);
    ran = read_out(f, "ran");
    assert_string_equal(ran, "e-kept kept\n");
    kd_hooks_free(hooks);
}

static void
test_hooks_pre_delete_veto_by_exit_code(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autofree char *reason = NULL;
    g_autofree char *h1 = write_hook(f, "pre-delete", "10-ok", 0755, "exit 0");
    g_autofree char *h2 = NULL;
    KdHookEvent ev = {.event = KD_HOOK_MAILBOX_DELETED, .mail = "a@b.c"};

    assert_true(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_null(reason);
    h2 = write_hook(f, "pre-delete", "20-keep", 0755,
                    "echo \"keep $KOLABD_EVENT\"\nexit 1");
    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_non_null(reason);
    assert_non_null(strstr(reason, h2));
    assert_non_null(strstr(reason, "exited with status 1: keep pre-delete"));
}

static void
test_hooks_nothing_to_run_is_success(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(KdHooks) none = kd_hooks_open(f->db_path, NULL, NULL);
    g_autoptr(GError) error = NULL;
    KdHookEvent ev = {.event = KD_HOOK_SYNC_ERROR, .detail = "x"};
    KdHooksQueueStats st;

    /* No EVENT.d: delivered (nothing to run) and removed. */
    assert_true(kd_hooks_run_pre_delete(hooks, &ev, NULL));
    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_int_equal(kd_hooks_run_due(hooks, now_s(), 10, NULL, &error), 1);
    assert_true(kd_hooks_queue_stats(hooks, &st, &error));
    assert_int_equal(st.pending, 0);

    /* No hooks_dir: not even queued. */
    assert_non_null(none);
    assert_true(kd_hooks_enqueue(none, NULL, &ev, &error));
    assert_true(kd_hooks_queue_stats(none, &st, &error));
    assert_int_equal(st.pending, 0);
    assert_true(kd_hooks_run_pre_delete(none, &ev, NULL));
    assert_true(kd_hooks_run_pre_delete(NULL, &ev, NULL));

    /* Unknown events and pre-delete cannot be queued. */
    ev.event = "rm -rf";
    assert_false(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    assert_true(g_error_matches(error, KD_HOOKS_ERROR, KD_HOOKS_ERROR_EVENT));
    g_clear_error(&error);
    ev.event = KD_HOOK_PRE_DELETE;
    assert_false(kd_hooks_enqueue(hooks, NULL, &ev, &error));
}

static void
test_hooks_refuses_writable_hooks(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autoptr(GError) error = NULL;
    g_autofree char *ran = out_path(f, "ran");
    g_autofree char *body = g_strdup_printf("touch '%s'", ran);
    g_autofree char *hook = write_hook(f, "pre-delete", "10", 0757, body);
    g_autofree char *reason = NULL;
    g_autofree char *dir = g_strconcat(f->hooks_dir, "/pre-delete.d", NULL);
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE, .mail = "a@b.c"};

    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_non_null(strstr(reason, "world-writable"));
    assert_non_null(strstr(reason, hook));
    assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));
    g_clear_pointer(&reason, g_free);

    /* A writable EVENT.d is refused as a whole. */
    assert_int_equal(chmod(hook, 0755), 0);
    assert_int_equal(chmod(dir, 0775), 0);
    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_non_null(strstr(reason, "group- or world-writable"));
    assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));

    assert_int_equal(chmod(dir, 0755), 0);
    assert_true(kd_hooks_run_pre_delete(hooks, &ev, NULL));
    assert_true(g_file_test(ran, G_FILE_TEST_EXISTS));
}

static void
test_hooks_forbid_root(void **state)
{
    Fixture *f = *state;
    KdHooksOptions o = {.hooks_dir = f->hooks_dir, .forbid_root = TRUE};
    g_autoptr(KdHooks) hooks = kd_hooks_open(NULL, &o, NULL);
    g_autofree char *ran = out_path(f, "ran");
    g_autofree char *body = g_strdup_printf("touch '%s'", ran);
    g_autofree char *hook = write_hook(f, "pre-delete", "10", 0755, body);
    g_autofree char *reason = NULL;
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE};

    if (geteuid() != 0) {
        /* Not root: the rule does not apply and the hook runs. */
        assert_true(kd_hooks_run_pre_delete(hooks, &ev, NULL));
        assert_true(g_file_test(ran, G_FILE_TEST_EXISTS));
        return;
    }
    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_non_null(strstr(reason, "runs as root"));
    assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));
}

static void
test_hooks_output_is_bounded(void **state)
{
    Fixture *f = *state;
    KdHooksOptions o = {.hooks_dir = f->hooks_dir, .output_max = 100};
    g_autoptr(KdHooks) hooks = kd_hooks_open(NULL, &o, NULL);
    g_autofree char *hook = write_hook(
        f, "pre-delete", "10", 0755,
        "i=0\nwhile [ $i -lt 2000 ]; do\n"
        "  echo 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n"
        "  i=$((i+1))\ndone\nexit 2");
    g_autofree char *reason = NULL;
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE};

    assert_false(kd_hooks_run_pre_delete(hooks, &ev, &reason));
    assert_non_null(strstr(reason, "exited with status 2: xxx"));
    assert_non_null(strstr(reason, "[output truncated]"));
    assert_true(strlen(reason) < strlen(hook) + 300);
}

static gpointer
cancel_later(gpointer data)
{
    g_usleep(200 * 1000);
    g_cancellable_cancel(data);
    return NULL;
}

static void
test_hooks_cancel_kills_running_hook(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 30000);
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_autofree char *hook = write_hook(f, "sync-error", "10", 0755, "sleep 30");
    KdHookEvent ev = {.event = KD_HOOK_SYNC_ERROR, .detail = "boom"};
    KdHooksQueueStats st;
    gint64 start = g_get_monotonic_time();
    GThread *thread;

    assert_true(kd_hooks_enqueue(hooks, NULL, &ev, &error));
    thread = g_thread_new("cancel", cancel_later, cancel);
    /* Interrupted: not counted as handled, not as a failed attempt. */
    assert_int_equal(kd_hooks_run_due(hooks, now_s(), 10, cancel, &error), 0);
    g_thread_join(thread);
    assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
    assert_true(kd_hooks_queue_stats(hooks, &st, &error));
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.failing, 0);
}

/* kolabd started with 0-2 closed must still give hooks stdin/stdout. */
static void
test_hooks_work_with_std_fds_closed(void **state)
{
    Fixture *f = *state;
    g_autoptr(KdHooks) hooks = open_hooks(f, 5000);
    g_autofree char *body =
        g_strdup_printf("cat > '%s/stdin'\necho out; echo err >&2\nexit 1",
                        f->out);
    g_autofree char *hook = write_hook(f, "pre-delete", "10", 0755, body);
    g_autofree char *got = NULL;
    KdHookEvent ev = {.event = KD_HOOK_PRE_DELETE, .mail = "closed@b.c"};
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        g_autofree char *reason = NULL;
        close(0);
        close(1);
        close(2);
        kd_hooks_run_pre_delete(hooks, &ev, &reason);
        /* The veto reason carries the hook's stdout and stderr. */
        _exit(reason != NULL && strstr(reason, "out\\nerr") != NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    got = read_out(f, "stdin");
    assert_non_null(got);
    assert_non_null(strstr(got, "\"mail\":\"closed@b.c\""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks_json_escapes_hostile_values),
        cmocka_unit_test(test_hooks_json_payload_has_object),
        cmocka_unit_test(test_hooks_name_filter),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_hooks_env_and_stdin),
        T(test_hooks_metacharacters_are_data),
        T(test_hooks_name_order_and_skips),
        T(test_hooks_timeout_kills_process_group),
        T(test_hooks_retry_with_backoff),
        T(test_hooks_retry_skips_hooks_already_done),
        T(test_hooks_events_of_one_object_stay_in_order),
        T(test_hooks_at_least_once_across_crash),
        T(test_hooks_pre_delete_veto_by_exit_code),
        T(test_hooks_nothing_to_run_is_success),
        T(test_hooks_refuses_writable_hooks),
        T(test_hooks_forbid_root),
        T(test_hooks_output_is_bounded),
        T(test_hooks_cancel_kills_running_hook),
        T(test_hooks_work_with_std_fds_closed),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
