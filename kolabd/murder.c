/* murder: topology and mailbox locations; see murder.h. */
#include "config.h"

#include <string.h>

#include "imap-quote.h"
#include "imap.h"
#include "murder.h"
#include "mupdate.h"

#define SERVER_ENTRY "/shared/vendor/cmu/cyrus-imapd/server"

struct KdMurder {
    GMutex lock;
    GPtrArray *backends; /* KdMurderBackend */
    char *frontend_uri;
    char *mupdate_host;
    guint16 mupdate_port;
    char *mupdate_user;
    char *mupdate_password;
    char *admin_user;
    char *admin_password;
    int timeout_s;
    KdImapTls *tls;     /* NULL: system trust */
    KdMupdate *mupdate; /* cached, may be NULL */
    gboolean mupdate_starttls;
    KdImap *frontend;   /* cached, may be NULL */
    GPtrArray *probes;  /* KdImap * per backend (admin), may hold NULL */
};

static void
backend_free(KdMurderBackend *b)
{
    g_free(b->name);
    g_free(b->uri);
    g_free(b->servername);
    g_free(b->last_error);
    g_free(b);
}

static void
close_imap(gpointer p)
{
    kd_imap_free(p);
}

KdMurder *
kd_murder_new(const KdMurderConfig *cfg, GError **error)
{
    g_autoptr(KdMurder) m = NULL;

    if (cfg->n_backends == 0 || cfg->backends == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                    "murder: at least one backend is required");
        return NULL;
    }
    if (cfg->admin_user == NULL || cfg->admin_password == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                    "murder: admin credentials are required");
        return NULL;
    }
    m = g_new0(KdMurder, 1);
    g_mutex_init(&m->lock);
    m->backends = g_ptr_array_new_with_free_func(
        (GDestroyNotify) backend_free);
    m->probes = g_ptr_array_new_with_free_func(close_imap);
    for (gsize i = 0; i < cfg->n_backends; i++) {
        const KdMurderBackendConfig *c = &cfg->backends[i];
        KdMurderBackend *b;

        if (c->name == NULL || c->uri == NULL) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "murder: backend %zu needs a name and a uri", i + 1);
            return NULL;
        }
        for (guint j = 0; j < m->backends->len; j++) {
            KdMurderBackend *o = m->backends->pdata[j];

            if (strcmp(o->name, c->name) == 0 ||
                (c->servername && o->servername &&
                 strcmp(o->servername, c->servername) == 0)) {
                g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                            "murder: backends %s and %s have the same name "
                            "or servername",
                            o->name, c->name);
                return NULL;
            }
        }
        b = g_new0(KdMurderBackend, 1);
        b->name = g_strdup(c->name);
        b->uri = g_strdup(c->uri);
        b->servername = g_strdup(c->servername);
        b->up = TRUE;
        g_ptr_array_add(m->backends, b);
        g_ptr_array_add(m->probes, NULL);
    }
    m->frontend_uri = g_strdup(cfg->frontend_uri);
    m->mupdate_host = g_strdup(cfg->mupdate_host);
    m->mupdate_port = cfg->mupdate_port ? cfg->mupdate_port : 3905;
    m->admin_user = g_strdup(cfg->admin_user);
    m->admin_password = g_strdup(cfg->admin_password);
    m->mupdate_user = g_strdup(cfg->mupdate_user ? cfg->mupdate_user
                                                 : cfg->admin_user);
    m->mupdate_password =
        g_strdup(cfg->mupdate_password ? cfg->mupdate_password
                                       : cfg->admin_password);
    m->timeout_s = cfg->timeout_s;
    m->tls = cfg->tls != NULL ? kd_imap_tls_ref(cfg->tls) : NULL;
    m->mupdate_starttls = cfg->mupdate_starttls;
    return g_steal_pointer(&m);
}

void
kd_murder_free(KdMurder *murder)
{
    if (murder == NULL) {
        return;
    }
    kd_mupdate_free(murder->mupdate);
    kd_imap_free(murder->frontend);
    if (murder->probes != NULL) {
        g_ptr_array_unref(murder->probes);
    }
    if (murder->backends != NULL) {
        g_ptr_array_unref(murder->backends);
    }
    kd_imap_tls_unref(murder->tls);
    g_free(murder->frontend_uri);
    g_free(murder->mupdate_host);
    g_free(murder->mupdate_user);
    if (murder->mupdate_password != NULL) {
        memset(murder->mupdate_password, 0, strlen(murder->mupdate_password));
    }
    g_free(murder->mupdate_password);
    g_free(murder->admin_user);
    if (murder->admin_password != NULL) {
        memset(murder->admin_password, 0, strlen(murder->admin_password));
    }
    g_free(murder->admin_password);
    g_mutex_clear(&murder->lock);
    g_free(murder);
}

KdMurderMode
kd_murder_get_mode(const KdMurder *murder)
{
    if (murder->mupdate_host != NULL) {
        return KD_MURDER_MODE_MUPDATE;
    }
    if (murder->frontend_uri != NULL) {
        return KD_MURDER_MODE_FRONTEND;
    }
    return KD_MURDER_MODE_BACKENDS;
}

gsize
kd_murder_get_n_backends(const KdMurder *murder)
{
    return murder->backends->len;
}

const KdMurderBackend *
kd_murder_get_backend(const KdMurder *murder, gsize index)
{
    g_return_val_if_fail(index < murder->backends->len, NULL);
    return murder->backends->pdata[index];
}

const KdMurderBackend *
kd_murder_backend_by_servername(KdMurder *murder, const char *servername)
{
    const KdMurderBackend *found = NULL;

    g_mutex_lock(&murder->lock);
    for (guint i = 0; i < murder->backends->len && !found; i++) {
        KdMurderBackend *b = murder->backends->pdata[i];

        if (b->servername && g_ascii_strcasecmp(b->servername, servername) == 0) {
            found = b;
        }
    }
    g_mutex_unlock(&murder->lock);
    return found;
}

const KdMurderBackend *
kd_murder_backend_by_name(KdMurder *murder, const char *name)
{
    for (guint i = 0; i < murder->backends->len; i++) {
        KdMurderBackend *b = murder->backends->pdata[i];

        if (strcmp(b->name, name) == 0) {
            return b;
        }
    }
    return NULL;
}

/* Records what a connection attempt taught us about @b. Lock held. */
static void
learn(KdMurderBackend *b, KdImap *imap, const GError *error)
{
    g_clear_pointer(&b->last_error, g_free);
    if (imap == NULL) {
        b->up = FALSE;
        b->last_error = g_strdup(error ? error->message : "unreachable");
        return;
    }
    b->up = TRUE;
    if (kd_imap_get_servername(imap) == NULL) {
        return;
    }
    if (b->servername == NULL) {
        b->servername = g_strdup(kd_imap_get_servername(imap));
    } else if (strcmp(b->servername, kd_imap_get_servername(imap)) != 0) {
        b->last_error = g_strdup_printf(
            "configured servername %s but the greeting says %s",
            b->servername, kd_imap_get_servername(imap));
    }
}

static KdImap *
connect_admin(KdMurder *m, const char *uri, GError **error)
{
    g_autoptr(KdImap) imap =
        kd_imap_connect_tls(uri, m->tls, m->timeout_s, error);

    if (imap == NULL ||
        !kd_imap_login(imap, m->admin_user, m->admin_password, error)) {
        return NULL;
    }
    return g_steal_pointer(&imap);
}

gsize
kd_murder_probe(KdMurder *murder)
{
    gsize up = 0;

    g_mutex_lock(&murder->lock);
    for (guint i = 0; i < murder->backends->len; i++) {
        KdMurderBackend *b = murder->backends->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(KdImap) imap = kd_imap_connect_tls(
            b->uri, murder->tls, murder->timeout_s, &error);

        learn(b, imap, error);
        up += b->up ? 1 : 0;
    }
    g_mutex_unlock(&murder->lock);
    return up;
}

gboolean
kd_murder_probe_frontend(KdMurder *murder, const char **uri_out,
                         GError **error)
{
    g_autoptr(KdImap) imap = NULL;

    if (uri_out != NULL) {
        *uri_out = murder->frontend_uri;
    }
    if (murder->frontend_uri == NULL) {
        return TRUE;
    }
    imap = kd_imap_connect_tls(murder->frontend_uri, murder->tls,
                               murder->timeout_s, error);
    return imap != NULL;
}

KdImap *
kd_murder_connect_backend(KdMurder *murder, const KdMurderBackend *backend,
                          GError **error)
{
    GError *local = NULL;
    KdImap *imap = connect_admin(murder, backend->uri, &local);

    g_mutex_lock(&murder->lock);
    learn((KdMurderBackend *) backend, imap, local);
    g_mutex_unlock(&murder->lock);
    if (local != NULL) {
        g_propagate_error(error, local);
    }
    return imap;
}

/* The cached mupdate connection, (re)connected as needed. Lock held. */
static KdMupdate *
get_mupdate(KdMurder *m, GError **error)
{
    if (m->mupdate != NULL && !kd_mupdate_is_alive(m->mupdate)) {
        g_clear_pointer(&m->mupdate, kd_mupdate_free);
    }
    if (m->mupdate == NULL) {
        m->mupdate =
            kd_mupdate_connect_tls(m->mupdate_host, m->mupdate_port,
                                   m->mupdate_starttls, m->tls,
                                   m->mupdate_user, m->mupdate_password,
                                   m->timeout_s, error);
    }
    return m->mupdate;
}

/* A cached admin session: the frontend or backend @index. Lock held. */
static KdImap *
get_session(KdMurder *m, KdImap **slot, const char *uri,
            KdMurderBackend *backend, GError **error)
{
    GError *local = NULL;

    if (*slot != NULL && !kd_imap_is_alive(*slot)) {
        g_clear_pointer(slot, kd_imap_free);
    }
    if (*slot == NULL) {
        *slot = connect_admin(m, uri, &local);
        if (backend != NULL) {
            learn(backend, *slot, local);
        }
        if (local != NULL) {
            g_propagate_error(error, local);
        }
    }
    return *slot;
}

static gboolean
where_mupdate(KdMurder *m, const char *mailbox, char **out, GError **error)
{
    g_autofree char *internal = kd_mupdate_name_to_internal(mailbox, error);
    KdMupdate *mu;

    if (internal == NULL) {
        return FALSE;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        GError *local = NULL;

        mu = get_mupdate(m, error);
        if (mu == NULL) {
            return FALSE;
        }
        if (kd_mupdate_find(mu, internal, out, NULL, &local)) {
            return TRUE;
        }
        if (local->code != KD_IMAP_ERROR_CLOSED || attempt == 1) {
            if (local->code == KD_IMAP_ERROR_NONEXISTENT) {
                g_prefix_error(&local, "%s: ", mailbox);
            }
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local); /* stale cached connection: once more */
    }
    return FALSE;
}

static gboolean
where_frontend(KdMurder *m, const char *mailbox, char **out, GError **error)
{
    static const char *const entries[] = {SERVER_ENTRY, NULL};

    for (int attempt = 0; attempt < 2; attempt++) {
        g_autoptr(GPtrArray) items = NULL;
        GError *local = NULL;
        KdImap *fe = get_session(m, &m->frontend, m->frontend_uri, NULL,
                                 error);

        if (fe == NULL) {
            return FALSE;
        }
        if (kd_imap_getmetadata(fe, mailbox, FALSE, entries, &items,
                                &local)) {
            for (guint i = 0; i < items->len; i++) {
                KdImapMetadata *it = items->pdata[i];

                if (it->value != NULL && *it->value != '\0') {
                    *out = g_strdup(it->value);
                    return TRUE;
                }
            }
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT,
                        "%s: Mailbox does not exist (the frontend %s knows "
                        "no server for it)",
                        mailbox, m->frontend_uri);
            return FALSE;
        }
        if (local->code != KD_IMAP_ERROR_CLOSED || attempt == 1) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
    }
    return FALSE;
}

/* LIST on backend @i: does it hold @pattern? Fills @names_out. */
static gboolean
list_backend(KdMurder *m, guint i, const char *pattern, GPtrArray **names_out,
             GError **error)
{
    KdMurderBackend *b = m->backends->pdata[i];

    for (int attempt = 0; attempt < 2; attempt++) {
        GError *local = NULL;
        KdImap *imap = get_session(m, (KdImap **) &m->probes->pdata[i], b->uri,
                                   b, error);

        if (imap == NULL) {
            g_prefix_error(error, "backend %s: ", b->name);
            return FALSE;
        }
        if (kd_imap_list(imap, pattern, names_out, &local)) {
            return TRUE;
        }
        if (local->code != KD_IMAP_ERROR_CLOSED || attempt == 1) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
    }
    return FALSE;
}

static gboolean
where_backends(KdMurder *m, const char *mailbox, char **out, GError **error)
{
    if (!kd_imap_quote_check_mailbox(mailbox, FALSE, error)) {
        return FALSE;
    }
    for (guint i = 0; i < m->backends->len; i++) {
        KdMurderBackend *b = m->backends->pdata[i];
        g_autoptr(GPtrArray) names = NULL;

        if (!list_backend(m, i, mailbox, &names, error)) {
            return FALSE;
        }
        for (guint j = 0; j < names->len; j++) {
            if (strcmp(names->pdata[j], mailbox) == 0) {
                if (b->servername == NULL) {
                    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                                "backend %s hides its servername "
                                "(serverinfo: off); configure it",
                                b->name);
                    return FALSE;
                }
                *out = g_strdup(b->servername);
                return TRUE;
            }
        }
    }
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT,
                "%s: Mailbox does not exist on any backend", mailbox);
    return FALSE;
}

gboolean
kd_murder_where(KdMurder *murder, const char *mailbox, char **servername_out,
                GError **error)
{
    gboolean ok;

    g_return_val_if_fail(mailbox != NULL && servername_out != NULL, FALSE);
    g_mutex_lock(&murder->lock);
    switch (kd_murder_get_mode(murder)) {
    case KD_MURDER_MODE_MUPDATE:
        ok = where_mupdate(murder, mailbox, servername_out, error);
        break;
    case KD_MURDER_MODE_FRONTEND:
        ok = where_frontend(murder, mailbox, servername_out, error);
        break;
    default:
        ok = where_backends(murder, mailbox, servername_out, error);
        break;
    }
    g_mutex_unlock(&murder->lock);
    return ok;
}

static gboolean
add_from_mupdate(const char *internal_name, const char *server,
                 const char *partition, const char *acl, gpointer data)
{
    GHashTable *map = data;
    g_autoptr(GError) error = NULL;
    char *name = kd_mupdate_name_from_internal(internal_name, &error);

    (void) partition;
    if (acl == NULL) {
        g_free(name); /* only reserved, not (yet) a mailbox */
        return TRUE;
    }
    if (name == NULL) {
        g_warning("mupdate lists an unconvertible mailbox name: %s",
                  error->message);
        return TRUE;
    }
    g_hash_table_replace(map, name, g_strdup(server));
    return TRUE;
}

static gboolean
list_mupdate(KdMurder *m, GHashTable *map, GError **error)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        GError *local = NULL;
        KdMupdate *mu = get_mupdate(m, error);

        if (mu == NULL) {
            return FALSE;
        }
        g_hash_table_remove_all(map);
        if (kd_mupdate_list(mu, NULL, add_from_mupdate, map, &local)) {
            return TRUE;
        }
        if (local->code != KD_IMAP_ERROR_CLOSED || attempt == 1) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
    }
    return FALSE;
}

static gboolean
list_frontend(KdMurder *m, GHashTable *map, GError **error)
{
    static const char *const entries[] = {SERVER_ENTRY, NULL};

    for (int attempt = 0; attempt < 2; attempt++) {
        g_autoptr(GPtrArray) items = NULL;
        GError *local = NULL;
        KdImap *fe = get_session(m, &m->frontend, m->frontend_uri, NULL,
                                 error);

        if (fe == NULL) {
            return FALSE;
        }
        if (kd_imap_getmetadata(fe, "*", TRUE, entries, &items, &local)) {
            for (guint i = 0; i < items->len; i++) {
                KdImapMetadata *it = items->pdata[i];

                if (it->value != NULL && *it->value != '\0') {
                    g_hash_table_replace(map, g_strdup(it->mailbox),
                                         g_strdup(it->value));
                }
            }
            return TRUE;
        }
        if (local->code != KD_IMAP_ERROR_CLOSED || attempt == 1) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
    }
    return FALSE;
}

static gboolean
list_backends(KdMurder *m, GHashTable *map, GError **error)
{
    for (guint i = 0; i < m->backends->len; i++) {
        KdMurderBackend *b = m->backends->pdata[i];
        g_autoptr(GPtrArray) names = NULL;

        if (!list_backend(m, i, "*", &names, error)) {
            return FALSE;
        }
        if (b->servername == NULL) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "backend %s hides its servername (serverinfo: off); "
                        "configure it",
                        b->name);
            return FALSE;
        }
        for (guint j = 0; j < names->len; j++) {
            g_hash_table_replace(map, g_strdup(names->pdata[j]),
                                 g_strdup(b->servername));
        }
    }
    return TRUE;
}

gboolean
kd_murder_list_all(KdMurder *murder, GHashTable **mailbox_to_server_out,
                   GError **error)
{
    g_autoptr(GHashTable) map =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gboolean ok;

    g_mutex_lock(&murder->lock);
    switch (kd_murder_get_mode(murder)) {
    case KD_MURDER_MODE_MUPDATE:
        ok = list_mupdate(murder, map, error);
        break;
    case KD_MURDER_MODE_FRONTEND:
        ok = list_frontend(murder, map, error);
        break;
    default:
        ok = list_backends(murder, map, error);
        break;
    }
    g_mutex_unlock(&murder->lock);
    if (ok) {
        *mailbox_to_server_out = g_steal_pointer(&map);
    }
    return ok;
}
