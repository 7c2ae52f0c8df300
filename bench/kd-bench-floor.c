/*
 * kd-bench-floor: the "Cyrus floor" of the provisioning benchmark, i.e.
 * what the servers alone cost for the work kolabd does.
 *
 *   kd-bench-floor create -c kolabd.conf [--workers N]
 *       Reads kolabd.conf like kolabd, searches LDAP once for the Kolab
 *       users and shared folders (kolabd's filter), classifies them with
 *       kolabd's model (only to get the same mailbox names), and then,
 *       with N raw IMAP sessions per backend (default: the config's
 *       workers_per_backend) and one LDAP connection per session, sends
 *       for every object the same CREATEs kolabd sends (INBOX and the
 *       configured folders; shared folders with their `shared@domain`
 *       parent, created once per domain) and one mailHost modify. No
 *       store, no annotations, no subscriptions, no ACLs, no checks.
 *       Objects alternate between backends (a domain's shared folders
 *       stay on one). Prints one JSON line; exit 1 if any step failed.
 *       With --full it also sends the other writes kolabd sends for a
 *       user's folders (shared folder types as admin; private folder
 *       types and SUBSCRIBE in a session as the user), but none of its
 *       reads (LIST, GETACL, the mailHost read): the floor for IMAP work
 *       rather than for CREATEs alone.
 *
 *   kd-bench-floor list -c kolabd.conf
 *       One complete murder mailbox listing (kd_murder_list_all), the read
 *       floor's second half. Prints one JSON line.
 *
 * Must run against a sandbox kolabd has not provisioned, or it would
 * measure "already exists" replies.
 */
#include <stdio.h>
#include <string.h>

#include <ldap.h>

#include "app.h"
#include "folders.h"
#include "imap.h"

typedef struct {
    char *mailbox;
    char *dn;
    char *mail;
    gboolean user;
} FloorObject;

typedef struct {
    const char *uri;
    char *servername; /* lower-cased: the mailHost value */
    GPtrArray *objects; /* FloorObject*, not owned */
    gint next;        /* atomic index into objects */
} FloorBackend;

typedef struct {
    KdApp *app;
    const KdConfig *config;
    KdSyncParams params;
    FloorBackend *backend;
    gboolean full; /* also the folder annotations and subscriptions */
    gint creates;  /* atomic counters */
    gint others;
    gint modifies;
    gint errors;
} FloorRun;

typedef struct {
    FloorRun *run;
    FloorBackend *backend;
} FloorThread;

static void
floor_object_free(gpointer data)
{
    FloorObject *o = data;

    g_free(o->mailbox);
    g_free(o->dn);
    g_free(o->mail);
    g_free(o);
}

static KdEntry *
entry_from_message(LDAP *ld, LDAPMessage *e)
{
    BerElement *ber = NULL;
    char *dn = ldap_get_dn(ld, e);
    KdEntry *entry = kd_entry_new(dn);

    ldap_memfree(dn);
    for (char *a = ldap_first_attribute(ld, e, &ber); a != NULL;
         a = ldap_next_attribute(ld, e, ber)) {
        struct berval **vals = ldap_get_values_len(ld, e, a);

        for (int i = 0; vals != NULL && vals[i] != NULL; i++) {
            kd_entry_add_value(entry, a, vals[i]->bv_val, vals[i]->bv_len);
        }
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    ber_free(ber, 0);
    return entry;
}

/* Reads every Kolab object; users into @users, shared folders grouped by
 * domain into @shared (domain -> GPtrArray of FloorObject*). */
static gboolean
read_objects(FloorRun *run, GPtrArray *users, GHashTable *shared,
             GError **error)
{
    static const guint8 zero[KD_UUID_LEN];
    LDAPMessage *res = NULL;
    LDAP *ld = kd_ldap_connect(&run->params.ldap, error);
    int rc;

    if (ld == NULL) {
        return FALSE;
    }
    rc = ldap_search_ext_s(ld, run->params.base, LDAP_SCOPE_SUBTREE,
                           run->params.filter, (char **)run->params.attrs,
                           0, NULL, NULL, NULL, 0, &res);
    if (rc != LDAP_SUCCESS) {
        g_set_error(error, KD_LDAP_ERROR, rc, "search: %s",
                    ldap_err2string(rc));
        ldap_msgfree(res);
        ldap_unbind_ext(ld, NULL, NULL);
        return FALSE;
    }
    for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL;
         e = ldap_next_entry(ld, e)) {
        g_autoptr(KdEntry) entry = entry_from_message(ld, e);
        g_autoptr(KdObject) o =
            kd_model_classify(kd_app_get_model(run->app), zero, entry);
        FloorObject *fo;

        if (o->kind == KD_OBJECT_NONE || o->mailbox == NULL) {
            continue;
        }
        fo = g_new0(FloorObject, 1);
        fo->mailbox = g_strdup(o->mailbox);
        fo->dn = g_strdup(o->dn);
        fo->mail = g_strdup(o->mail);
        fo->user = o->kind == KD_OBJECT_USER;
        if (fo->user) {
            g_ptr_array_add(users, fo);
        } else {
            const char *at = strrchr(o->mailbox, '@');
            const char *domain = at ? at + 1 : "";
            GPtrArray *list = g_hash_table_lookup(shared, domain);

            if (list == NULL) {
                list = g_ptr_array_new_with_free_func(floor_object_free);
                g_hash_table_insert(shared, g_strdup(domain), list);
            }
            g_ptr_array_add(list, fo);
        }
    }
    ldap_msgfree(res);
    ldap_unbind_ext(ld, NULL, NULL);
    return TRUE;
}

static gboolean
create(FloorRun *run, KdImap *imap, const char *mailbox)
{
    g_autoptr(GError) error = NULL;

    if (!kd_imap_create(imap, mailbox, NULL, &error) &&
        !g_error_matches(error, KD_IMAP_ERROR, KD_IMAP_ERROR_EXISTS)) {
        fprintf(stderr, "kd-bench-floor: CREATE %s: %s\n", mailbox,
                error->message);
        g_atomic_int_inc(&run->errors);
        return FALSE;
    }
    g_atomic_int_inc(&run->creates);
    return TRUE;
}

static void
modify(FloorRun *run, LDAP *ld, const char *dn, const char *value)
{
    char *vals[] = {(char *)value, NULL};
    LDAPMod mod = {LDAP_MOD_REPLACE,
                   (char *)run->config->mailserver_attribute, {vals}};
    LDAPMod *mods[] = {&mod, NULL};
    int rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);

    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "kd-bench-floor: modify %s: %s\n", dn,
                ldap_err2string(rc));
        g_atomic_int_inc(&run->errors);
        return;
    }
    g_atomic_int_inc(&run->modifies);
}

static void
count(FloorRun *run, gboolean ok, const char *what, GError *error)
{
    if (ok) {
        g_atomic_int_inc(&run->others);
        return;
    }
    fprintf(stderr, "kd-bench-floor: %s: %s\n", what, error->message);
    g_atomic_int_inc(&run->errors);
}

/* --full: what kolabd writes besides CREATE for each folder, without its
 * reads: the shared folder type as admin, then, in a session as the user
 * (altnamespace off: "INBOX/Name"), the private type and SUBSCRIBE. */
static void
full_folders(FloorRun *run, FloorBackend *b, KdImap *imap,
             const FloorObject *o)
{
    const KdConfig *config = run->config;
    g_autoptr(KdImap) user = NULL;
    g_autoptr(GError) error = NULL;

    for (guint f = 0; f < config->folders->len; f++) {
        const KdFolderSpec *spec = g_ptr_array_index(config->folders, f);
        g_autofree char *name =
            kd_folders_mailbox(o->mailbox, spec->name_mutf7);

        if (spec->shared_type != NULL) {
            gboolean ok = kd_imap_setmetadata(
                imap, name, "/shared/vendor/kolab/folder-type",
                spec->shared_type, &error);

            count(run, ok, name, error);
            g_clear_error(&error);
        }
    }
    user = kd_imap_connect(b->uri, 60, &error);
    if (user == NULL ||
        !kd_imap_authenticate_plain(user, o->mail, config->admin_login,
                                    config->admin_password, &error)) {
        count(run, FALSE, o->mail, error);
        return;
    }
    for (guint f = 0; f < config->folders->len; f++) {
        const KdFolderSpec *spec = g_ptr_array_index(config->folders, f);
        g_autofree char *name = g_strdup_printf("INBOX/%s", spec->name_mutf7);
        g_autofree char *cmd = g_strdup_printf("SUBSCRIBE %s", name);
        gboolean ok;

        if (spec->private_type != NULL) {
            ok = kd_imap_setmetadata(user, name,
                                     "/private/vendor/kolab/folder-type",
                                     spec->private_type, &error);
            count(run, ok, name, error);
            g_clear_error(&error);
        }
        if (spec->subscribe) {
            ok = kd_imap_command(user, name, cmd, NULL, &error);
            count(run, ok, name, error);
            g_clear_error(&error);
        }
    }
}

static gpointer
worker_main(gpointer data)
{
    FloorThread *t = data;
    FloorRun *run = t->run;
    FloorBackend *b = t->backend;
    const KdConfig *config = run->config;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = kd_imap_connect(b->uri, 60, &error);
    LDAP *ld = NULL;

    if (imap == NULL ||
        !kd_imap_login(imap, config->admin_login, config->admin_password,
                       &error) ||
        (ld = kd_ldap_connect(&run->params.ldap, &error)) == NULL) {
        fprintf(stderr, "kd-bench-floor: %s: %s\n", b->uri, error->message);
        g_atomic_int_inc(&run->errors);
        return NULL;
    }
    for (;;) {
        gint i = g_atomic_int_add(&b->next, 1);
        FloorObject *o;

        if (i >= (gint)b->objects->len) {
            break;
        }
        o = g_ptr_array_index(b->objects, i);
        if (!create(run, imap, o->mailbox)) {
            continue;
        }
        for (guint f = 0; o->user && f < config->folders->len; f++) {
            const KdFolderSpec *spec = g_ptr_array_index(config->folders, f);
            g_autofree char *name =
                kd_folders_mailbox(o->mailbox, spec->name_mutf7);

            create(run, imap, name);
        }
        if (o->user && run->full) {
            full_folders(run, b, imap, o);
        }
        modify(run, ld, o->dn, b->servername);
    }
    ldap_unbind_ext(ld, NULL, NULL);
    return NULL;
}

/* CREATE shared@domain once per domain, on the backend of its folders. */
static gboolean
create_shared_parents(FloorRun *run, FloorBackend *backends, guint nb,
                      GHashTable *domain_backend)
{
    const KdConfig *config = run->config;

    for (guint i = 0; i < nb; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(KdImap) imap = NULL;
        GHashTableIter it;
        gpointer k, v;

        g_hash_table_iter_init(&it, domain_backend);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            g_autofree char *parent = NULL;

            if (GPOINTER_TO_UINT(v) != i) {
                continue;
            }
            if (imap == NULL) {
                imap = kd_imap_connect(backends[i].uri, 60, &error);
                if (imap == NULL ||
                    !kd_imap_login(imap, config->admin_login,
                                   config->admin_password, &error)) {
                    fprintf(stderr, "kd-bench-floor: %s: %s\n",
                            backends[i].uri, error->message);
                    return FALSE;
                }
            }
            parent = g_strdup_printf("shared@%s", (char *)k);
            if (!create(run, imap, parent)) {
                return FALSE;
            }
        }
    }
    return TRUE;
}

static int
cmd_create(FloorRun *run, guint workers)
{
    const KdConfig *config = run->config;
    guint nb = config->backends->len;
    g_autoptr(GPtrArray) users =
        g_ptr_array_new_with_free_func(floor_object_free);
    g_autoptr(GHashTable) shared = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    g_autoptr(GHashTable) domain_backend =
        g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) threads = g_ptr_array_new();
    g_autofree FloorBackend *backends = g_new0(FloorBackend, MAX(nb, 1));
    g_autofree FloorThread *targs = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time(), end;
    guint n = 0, d = 0;
    GHashTableIter it;
    gpointer k, v;

    if (nb == 0) {
        fprintf(stderr, "kd-bench-floor: no [backend] in the config\n");
        return 2;
    }
    if (!read_objects(run, users, shared, &error)) {
        fprintf(stderr, "kd-bench-floor: %s\n", error->message);
        return 2;
    }
    for (guint i = 0; i < nb; i++) {
        const KdBackendConfig *bc = g_ptr_array_index(config->backends, i);

        backends[i].uri = bc->uri;
        backends[i].servername = g_ascii_strdown(bc->servername, -1);
        backends[i].objects = g_ptr_array_new();
    }
    for (guint i = 0; i < users->len; i++) {
        g_ptr_array_add(backends[i % nb].objects, users->pdata[i]);
    }
    n = users->len;
    g_hash_table_iter_init(&it, shared);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GPtrArray *list = v;

        g_hash_table_insert(domain_backend, k, GUINT_TO_POINTER(d % nb));
        for (guint i = 0; i < list->len; i++) {
            g_ptr_array_add(backends[d % nb].objects, list->pdata[i]);
        }
        n += list->len;
        d++;
    }
    if (!create_shared_parents(run, backends, nb, domain_backend)) {
        return 1;
    }
    targs = g_new0(FloorThread, nb * workers);
    for (guint i = 0; i < nb; i++) {
        for (guint w = 0; w < workers; w++) {
            FloorThread *t = &targs[i * workers + w];

            t->run = run;
            t->backend = &backends[i];
            g_ptr_array_add(threads,
                            g_thread_new("floor", worker_main, t));
        }
    }
    for (guint i = 0; i < threads->len; i++) {
        g_thread_join(g_ptr_array_index(threads, i));
    }
    end = g_get_monotonic_time();
    for (guint i = 0; i < nb; i++) {
        g_free(backends[i].servername);
        g_ptr_array_unref(backends[i].objects);
    }
    printf("{\"objects\":%u,\"creates\":%d,\"mailhost_modifies\":%d,"
           "\"other_imap\":%d,\"errors\":%d,\"backends\":%u,"
           "\"workers_per_backend\":%u,\"seconds\":%.3f}\n",
           n, run->creates, run->modifies, run->others, run->errors, nb,
           workers,
           (end - start) / 1e6);
    return run->errors == 0 ? 0 : 1;
}

static int
cmd_list(FloorRun *run)
{
    g_autoptr(GHashTable) all = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();

    if (!kd_murder_list_all(kd_app_get_murder(run->app), &all, &error)) {
        fprintf(stderr, "kd-bench-floor: %s\n", error->message);
        return 1;
    }
    printf("{\"mailboxes\":%u,\"seconds\":%.3f}\n", g_hash_table_size(all),
           (g_get_monotonic_time() - start) / 1e6);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    guint workers = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    FloorRun run = {0};

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--full") == 0) {
            run.full = TRUE;
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            workers = (guint)g_ascii_strtoull(argv[++i], NULL, 10);
        } else {
            argc = 0;
        }
    }
    if (argc < 2 || config_path == NULL ||
        (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "list") != 0)) {
        fprintf(stderr, "usage: kd-bench-floor create|list -c CONF "
                        "[--workers N] [--full]\n");
        return 2;
    }
    kd_imap_global_init();
    app = kd_app_new(config_path, &error);
    if (app == NULL) {
        fprintf(stderr, "kd-bench-floor: %s\n", error->message);
        return 2;
    }
    run.app = app;
    run.config = kd_app_get_config(app);
    kd_app_sync_params(app, &run.params);
    if (workers == 0) {
        workers = MAX(1, (guint)run.config->workers_per_backend);
    }
    if (strcmp(argv[1], "list") == 0) {
        return cmd_list(&run);
    }
    return cmd_create(&run, workers);
}
