/* engine: see engine.h. The scheduler thread lives here; workers are in
 * worker.c. */

#include <string.h>

#include "engine-private.h"
#include "store.h"

#define KD_LOG_DOMAIN "kolabd"
#define RESULT_BATCH 256
#define DUE_BATCH 512
#define BACKOFF_MAX_S 300
/* How long a dispatched item is claimed (see kd_store_work_lease); longer
 * than any one job, which its IMAP and LDAP timeouts bound. */
#define LEASE_S 120

struct KdEngine {
    KdEngineConfig cfg;
    KdStore *store; /* scheduler thread only (and kd_engine_new) */
    GPtrArray *pools;
    GHashTable *pools_by_server; /* lower-cased servername -> pool */

    GMutex lock; /* guards locations, stats, idle */
    GCond idle_cond;
    GHashTable *locations; /* mailbox -> servername */
    KdEngineStats stats;
    gboolean idle;
    gboolean annotation_warned;
    gboolean locations_loaded; /* no planning without the murder's map */
    gint64 locations_tried;    /* monotonic us of the last attempt */
    GPtrArray *plan_report; /* dry run: "steps\tname\tserver" */

    GAsyncQueue *results; /* KdJob*, or the engine itself to wake */
    GHashTable *in_flight; /* uuid hex -> NULL */
    GThread *scheduler;
    GThread *prober; /* backends up/down */
    gint stopping;
    gboolean started;
};

void
kd_job_free(KdJob *job)
{
    if (job == NULL) {
        return;
    }
    kd_object_free(job->object);
    kd_applied_free(job->applied);
    kd_plan_clear(&job->plan);
    g_free(job->error);
    g_free(job->created_on);
    g_free(job->elsewhere);
    g_free(job->old_mailhost);
    g_free(job);
}

const KdEngineConfig *
kd_engine_config(KdEngine *engine)
{
    return &engine->cfg;
}

void
kd_engine_job_finished(KdEngine *engine, KdJob *job)
{
    g_async_queue_push(engine->results, job);
}

void
kd_engine_wake(KdEngine *engine)
{
    g_async_queue_push(engine->results, engine);
}

void
kd_engine_backend_state(KdEngine *engine, KdBackendPool *pool, gboolean up)
{
    g_mutex_lock(&engine->lock);
    if (pool->up != up) {
        if (up) {
            g_message("backend %s (%s) is up", pool->name, pool->servername);
        } else {
            g_warning("backend %s (%s) is down", pool->name,
                      pool->servername);
        }
    }
    pool->up = up;
    g_mutex_unlock(&engine->lock);
}

char *
kd_engine_location(KdEngine *engine, const char *mailbox)
{
    char *server;

    g_mutex_lock(&engine->lock);
    server = g_strdup(g_hash_table_lookup(engine->locations, mailbox));
    g_mutex_unlock(&engine->lock);
    return server;
}

void
kd_engine_get_stats(KdEngine *engine, KdEngineStats *stats_out)
{
    g_mutex_lock(&engine->lock);
    *stats_out = engine->stats;
    g_mutex_unlock(&engine->lock);
}

static KdBackendPool *
pool_for_server(KdEngine *engine, const char *servername)
{
    g_autofree char *key = NULL;

    if (servername == NULL) {
        return NULL;
    }
    key = g_ascii_strdown(servername, -1);
    return g_hash_table_lookup(engine->pools_by_server, key);
}

/* Mailboxes that count for placement: user INBOXes and shared folders. */
static gboolean
is_top_level(const char *mailbox)
{
    if (g_str_has_prefix(mailbox, "user/")) {
        return strchr(mailbox + 5, '/') == NULL;
    }
    return g_str_has_prefix(mailbox, "shared");
}

/* Caller holds engine->lock. */
static void
set_location(KdEngine *engine, const char *mailbox, const char *server)
{
    const char *old = g_hash_table_lookup(engine->locations, mailbox);
    KdBackendPool *pool;

    if (old != NULL && is_top_level(mailbox) &&
        (pool = pool_for_server(engine, old)) != NULL) {
        pool->mailboxes--;
    }
    if (server == NULL) {
        g_hash_table_remove(engine->locations, mailbox);
        return;
    }
    g_hash_table_insert(engine->locations, g_strdup(mailbox),
                        g_strdup(server));
    if (is_top_level(mailbox) &&
        (pool = pool_for_server(engine, server)) != NULL) {
        pool->mailboxes++;
    }
}

/* A shared folder's creation made `shared@domain` on the same backend;
 * later folders of the domain must follow it. Caller holds the lock. */
static void
remember_shared_parent(KdEngine *engine, const KdObject *object,
                       const char *server)
{
    g_autofree char *parent = NULL;

    if (object->kind != KD_OBJECT_SHARED || object->domain == NULL) {
        return;
    }
    parent = g_strdup_printf("shared@%s", object->domain);
    if (!g_hash_table_contains(engine->locations, parent)) {
        set_location(engine, parent, server);
    }
}

gboolean
kd_engine_refresh_locations(KdEngine *engine, GError **error)
{
    g_autoptr(GHashTable) all = NULL;
    GHashTableIter it;
    gpointer k, v;

    if (!kd_murder_list_all(engine->cfg.murder, &all, error)) {
        g_prefix_error(error, "reading the murder's mailbox list: ");
        return FALSE;
    }
    g_mutex_lock(&engine->lock);
    g_hash_table_remove_all(engine->locations);
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);

        pool->mailboxes = 0;
    }
    g_hash_table_iter_init(&it, all);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        /* Sub-folders are not needed for planning; keep memory small. */
        if (is_top_level(k)) {
            set_location(engine, k, v);
        }
    }
    engine->locations_loaded = TRUE;
    g_mutex_unlock(&engine->lock);
    return TRUE;
}

static KdBackendPool *
pool_new(KdEngine *engine, const KdEngineBackend *b)
{
    KdBackendPool *pool = g_new0(KdBackendPool, 1);

    pool->engine = engine;
    pool->name = g_strdup(b->name);
    pool->uri = g_strdup(b->uri);
    pool->servername = g_strdup(b->servername);
    pool->partition = g_strdup(b->partition);
    pool->weight = b->weight;
    pool->jobs = g_async_queue_new();
    pool->threads = g_ptr_array_new();
    return pool;
}

static void
pool_free(gpointer data)
{
    KdBackendPool *pool = data;

    g_free(pool->name);
    g_free(pool->uri);
    g_free(pool->servername);
    g_free(pool->partition);
    g_async_queue_unref(pool->jobs);
    g_ptr_array_unref(pool->threads);
    g_free(pool);
}

/* Connects once to learn the servername and the server's version. */
static gboolean
probe_backend(KdEngine *engine, KdBackendPool *pool, GError **error)
{
    g_autoptr(KdImap) imap = NULL;
    const char *greeted;

    /* Short: a silent backend must not hold up the daemon's start. */
    imap = kd_imap_connect(pool->uri, 5, error);
    if (imap == NULL) {
        return FALSE;
    }
    greeted = kd_imap_get_servername(imap);
    if (pool->servername == NULL) {
        if (greeted == NULL) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "backend %s hides its servername (serverinfo: off);"
                        " set servername in [backend %s]",
                        pool->name, pool->name);
            return FALSE;
        }
        pool->servername = g_strdup(greeted);
    } else if (greeted != NULL &&
               g_ascii_strcasecmp(greeted, pool->servername) != 0) {
        g_warning("backend %s: configured servername %s, but the server "
                  "greets as %s; using %s",
                  pool->name, pool->servername, greeted, pool->servername);
    }
    pool->shared_annotation_bug = kd_imap_has_shared_annotation_bug(imap);
    pool->up = TRUE;
    return TRUE;
}

KdEngine *
kd_engine_new(const KdEngineConfig *config, GError **error)
{
    g_autoptr(KdEngine) engine = g_new0(KdEngine, 1);

    engine->cfg = *config;
    if (engine->cfg.workers_per_backend == 0) {
        engine->cfg.workers_per_backend = 4;
    }
    g_mutex_init(&engine->lock);
    g_cond_init(&engine->idle_cond);
    engine->pools = g_ptr_array_new_with_free_func(pool_free);
    engine->pools_by_server =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    engine->locations =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    engine->results = g_async_queue_new();
    engine->plan_report = g_ptr_array_new_with_free_func(g_free);
    engine->in_flight =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    engine->store = kd_store_open(config->store_path, error);
    if (engine->store == NULL) {
        return NULL;
    }
    for (guint i = 0; i < config->backends->len; i++) {
        KdBackendPool *pool =
            pool_new(engine, g_ptr_array_index(config->backends, i));
        g_autoptr(GError) local = NULL;

        g_ptr_array_add(engine->pools, pool);
        if (!probe_backend(engine, pool, &local)) {
            if (pool->servername == NULL) {
                g_propagate_prefixed_error(
                    error, g_steal_pointer(&local),
                    "backend %s: cannot learn its servername: ", pool->name);
                return NULL;
            }
            g_warning("backend %s is down: %s", pool->name, local->message);
        }
        g_hash_table_insert(engine->pools_by_server,
                            g_ascii_strdown(pool->servername, -1), pool);
    }
    if (!kd_engine_refresh_locations(engine, error)) {
        if (config->dry_run || config->policy.verify) {
            return NULL; /* resync needs the map now */
        }
        /* The daemon starts anyway and plans nothing until the map can
         * be read (mupdate master or frontend down). */
        g_warning("%s; retrying", (*error)->message);
        g_clear_error(error);
        engine->locations_tried = g_get_monotonic_time();
    }
    return g_steal_pointer(&engine);
}

/* ---- recording results ------------------------------------------------ */

static gint64
backoff_s(gint attempts)
{
    gint64 base = 1;

    for (gint i = 0; i < attempts && base < BACKOFF_MAX_S; i++) {
        base *= 2;
    }
    base = MIN(base, BACKOFF_MAX_S);
    /* jitter: 75% .. 125% */
    return MAX(1, base * g_random_int_range(75, 126) / 100);
}

static void
enqueue_hook(KdEngine *engine, const KdJob *job, const char *event,
             const char *old_value)
{
    const KdObject *o = job->object;
    char hex[33];
    g_autofree char *event_id = NULL;
    g_autoptr(GError) error = NULL;
    KdHookEvent ev = {0};

    if (engine->cfg.hooks == NULL) {
        return;
    }
    kd_uuid_to_hex(o->uuid, hex);
    /* Stable across a replay of the same change. */
    event_id = g_strdup_printf("%s-%s-%" G_GINT64_FORMAT, event, hex,
                               job->gen);
    ev.event = event;
    ev.event_id = event_id;
    ev.uuid = hex;
    ev.dn = o->dn;
    ev.mail = o->mail;
    ev.mailbox = job->deleted ? job->plan.old_mailbox : o->mailbox;
    ev.mailhost = job->plan.server;
    if (g_strcmp0(event, KD_HOOK_MAILBOX_RENAMED) == 0) {
        ev.old_mailbox = old_value;
    } else if (g_strcmp0(event, KD_HOOK_MAILHOST_CHANGED) == 0) {
        ev.old_mailhost = old_value;
    } else if (g_strcmp0(event, KD_HOOK_SYNC_ERROR) == 0) {
        ev.detail = old_value;
    }
    ev.object = o;
    if (!kd_hooks_enqueue(engine->cfg.hooks, kd_store_get_db(engine->store),
                          &ev, &error)) {
        g_warning("%s: cannot queue hook %s: %s", o->mail ? o->mail : hex,
                  event, error->message);
    }
}

static const char *
job_name(const KdJob *job)
{
    const KdObject *o = job->object;

    if (o->mail != NULL) {
        return o->mail;
    }
    if (o->mailbox != NULL) {
        return o->mailbox;
    }
    if (job->plan.old_mailbox != NULL) {
        return job->plan.old_mailbox;
    }
    /* A refused entry has neither: name it by its DN. */
    return o->dn != NULL && o->dn[0] != '\0' ? o->dn : "(no DN)";
}

static gboolean
record_success(KdEngine *engine, KdJob *job, GError **error)
{
    const KdObject *o = job->object;
    guint steps = job->plan.steps;
    g_autoptr(KdApplied) applied = NULL;

    if (steps & KD_STEP_FORGET) {
        if (job->deleted) {
            g_message("%s: mailbox %s deleted on %s", job_name(job),
                      job->plan.old_mailbox, job->plan.server);
            enqueue_hook(engine, job, KD_HOOK_MAILBOX_DELETED, NULL);
        } else if (job->plan.reason != NULL) {
            g_message("%s: %s", job_name(job), job->plan.reason);
        }
        return kd_store_delete_applied(engine->store, o->uuid, error) &&
               kd_store_delete_object(engine->store, o->uuid, error) &&
               kd_store_work_done(engine->store, o->uuid, job->gen, error);
    }
    applied = g_new0(KdApplied, 1);
    memcpy(applied->uuid, o->uuid, KD_UUID_LEN);
    applied->kind = o->kind;
    applied->mailbox = g_strdup(o->mailbox);
    applied->server = g_strdup(job->plan.server);
    applied->quota_kib = o->quota_kib;
    applied->acl = g_strdup(o->acl);
    applied->folder_type = g_strdup(o->folder_type);
    applied->folders_done = o->kind == KD_OBJECT_USER;
    if (job->imap_changes > 0 || job->mailhost_written) {
        g_autofree char *names = kd_plan_steps_to_string(steps);

        g_message("%s: %s on %s done", job_name(job), names,
                  job->plan.server);
    }
    if (job->created_on != NULL) {
        enqueue_hook(engine, job, KD_HOOK_MAILBOX_CREATED, NULL);
    }
    if (steps & KD_STEP_RENAME) {
        enqueue_hook(engine, job, KD_HOOK_MAILBOX_RENAMED,
                     job->plan.old_mailbox);
    }
    if (job->mailhost_written) {
        enqueue_hook(engine, job, KD_HOOK_MAILHOST_CHANGED,
                     job->old_mailhost);
    }
    if (job->quota_changed && job->created_on == NULL) {
        enqueue_hook(engine, job, KD_HOOK_QUOTA_CHANGED, NULL);
    }
    if (job->acl_changed && job->created_on == NULL) {
        enqueue_hook(engine, job, KD_HOOK_ACL_CHANGED, NULL);
    }
    return kd_store_put_applied(engine->store, applied, error) &&
           kd_store_work_done(engine->store, o->uuid, job->gen, error);
}

static gboolean
record_failure(KdEngine *engine, KdJob *job, gint64 now, GError **error)
{
    const KdObject *o = job->object;

    if (job->elsewhere != NULL) {
        g_message("%s: %s already exists on %s; not creating it elsewhere",
                  job_name(job), o->mailbox, job->elsewhere);
        return kd_store_work_retry(engine->store, o->uuid, job->gen, now,
                                   job->error, error);
    }
    if (job->transient) {
        gint64 delay = backoff_s(job->attempts);

        g_warning("%s: %s (retry in %" G_GINT64_FORMAT " s)", job_name(job),
                  job->error, delay);
        return kd_store_work_retry(engine->store, o->uuid, job->gen,
                                   now + delay, job->error, error);
    }
    g_warning("%s: held: %s", job_name(job), job->error);
    enqueue_hook(engine, job, KD_HOOK_SYNC_ERROR, job->error);
    return kd_store_work_hold(engine->store, o->uuid, job->error, error);
}

static void
record_results(KdEngine *engine, GPtrArray *jobs)
{
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    if (jobs->len == 0) {
        return;
    }
    if (!kd_store_begin(engine->store, &error)) {
        g_critical("store: %s; %u results not recorded (they stay dirty)",
                   error->message, jobs->len);
        for (guint i = 0; i < jobs->len; i++) {
            KdJob *job = g_ptr_array_index(jobs, i);
            char hex[33];

            kd_uuid_to_hex(job->uuid, hex);
            g_hash_table_remove(engine->in_flight, hex);
            kd_job_free(job);
        }
        g_ptr_array_set_size(jobs, 0);
        return;
    }
    for (guint i = 0; i < jobs->len; i++) {
        KdJob *job = g_ptr_array_index(jobs, i);
        char hex[33];
        gboolean ok;

        kd_uuid_to_hex(job->uuid, hex);
        g_hash_table_remove(engine->in_flight, hex);
        g_mutex_lock(&engine->lock);
        if (job->placed) {
            job->pool->pending--;
        }
        if (job->created_on != NULL) {
            set_location(engine, job->object->mailbox, job->created_on);
            remember_shared_parent(engine, job->object, job->created_on);
        }
        if (job->elsewhere != NULL) {
            set_location(engine, job->object->mailbox, job->elsewhere);
        }
        if (job->ok && (job->plan.steps & KD_STEP_RENAME)) {
            set_location(engine, job->plan.old_mailbox, NULL);
            set_location(engine, job->object->mailbox, job->plan.server);
        }
        if (job->ok && job->deleted) {
            set_location(engine, job->plan.old_mailbox, NULL);
        }
        if (job->ok) {
            engine->stats.jobs_done++;
            engine->stats.jobs_changed +=
                job->imap_changes > 0 || job->mailhost_written ? 1 : 0;
            engine->stats.creates += job->created_on ? 1 : 0;
            engine->stats.mailhost_writes += job->mailhost_written ? 1 : 0;
            engine->stats.imap_changes += job->imap_changes;
        } else {
            engine->stats.jobs_failed++;
            engine->stats.jobs_held += job->transient ? 0 : 1;
        }
        if (job->annotations_skipped && !engine->annotation_warned) {
            engine->annotation_warned = TRUE;
            g_warning("shared-folder annotations skipped: Cyrus 3.6.1 "
                      "kills the session on any annotation of a non-user "
                      "mailbox (cyrus-imapd#4611); upgrade to 3.6.3 or set "
                      "annotate_shared_folders = no");
        }
        if (engine->cfg.dry_run && job->ok && job->would != 0) {
            g_autofree char *steps = kd_plan_steps_to_string(job->would);

            g_ptr_array_add(engine->plan_report,
                            g_strdup_printf("%s\t%s\t%s", steps,
                                            job_name(job), job->plan.server));
        }
        g_mutex_unlock(&engine->lock);
        if (engine->cfg.dry_run) {
            /* The dry run works on a copy of the store: settle the item,
             * or keep it as a failure for the report. */
            ok = job->ok ? kd_store_work_done(engine->store, job->uuid,
                                              job->gen, &error)
                         : kd_store_work_hold(engine->store, job->uuid,
                                              job->error, &error);
        } else {
            ok = job->ok ? record_success(engine, job, &error)
                         : record_failure(engine, job, now, &error);
        }
        if (!ok) {
            g_critical("store: recording %s: %s", job_name(job),
                       error->message);
            g_clear_error(&error);
        }
    }
    if (!kd_store_commit(engine->store, &error)) {
        g_critical("store: %s; results stay dirty and will be redone",
                   error->message);
        kd_store_rollback(engine->store);
    }
    for (guint i = 0; i < jobs->len; i++) {
        kd_job_free(g_ptr_array_index(jobs, i));
    }
    g_ptr_array_set_size(jobs, 0);
}

/* ---- planning and dispatch -------------------------------------------- */

static gboolean
place(KdEngine *engine, KdJob *job, GError **error)
{
    g_autoptr(KdPlacementRequest) request =
        kd_placement_request_new_from_object(job->object);
    g_autofree KolabdBackend *view =
        g_new0(KolabdBackend, MAX(1, engine->pools->len));
    gsize index = 0;
    const char *plugin = NULL;

    g_mutex_lock(&engine->lock);
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);

        view[i].name = pool->name;
        view[i].servername = pool->servername;
        view[i].weight = pool->weight;
        view[i].mailbox_count =
            (guint64)MAX(0, pool->mailboxes + pool->pending);
        view[i].up = pool->up;
        view[i].free_kib = -1;
    }
    g_mutex_unlock(&engine->lock);
    if (!kd_placement_choose(engine->cfg.placement, request, view,
                             engine->pools->len, &index, &plugin, error)) {
        return FALSE;
    }
    job->pool = g_ptr_array_index(engine->pools, index);
    g_mutex_lock(&engine->lock);
    job->pool->pending++;
    job->placed = TRUE;
    /* The domain's next shared folders follow this one at once, not only
     * once it is created (its job creates `shared@domain` first). */
    remember_shared_parent(engine, job->object, job->pool->servername);
    g_mutex_unlock(&engine->lock);
    g_free(job->plan.server);
    job->plan.server = g_strdup(job->pool->servername);
    g_debug("%s: placed on %s by %s", job_name(job), job->pool->name,
            plugin);
    return TRUE;
}

/* Plans one work item. Returns the job to dispatch, or NULL when the item
 * was settled here (converged, held, waiting). */
static KdJob *
plan_item(KdEngine *engine, const KdWorkItem *item, gint64 now)
{
    g_autoptr(GError) error = NULL;
    KdJob *job = g_new0(KdJob, 1);
    g_autofree char *observed = NULL;
    g_autofree char *observed_old = NULL;
    g_autofree char *parent = NULL;
    gint64 absent_since = now;
    KdStore *store = engine->store;

    memcpy(job->uuid, item->uuid, KD_UUID_LEN);
    job->gen = item->gen;
    job->attempts = item->attempts;
    job->object = kd_store_get_object(store, item->uuid, &job->present,
                                      &error);
    if (job->object == NULL) {
        if (error == NULL) {
            kd_store_work_done(store, item->uuid, item->gen, &error);
        }
        goto settled;
    }
    job->applied = kd_store_get_applied(store, item->uuid, &error);
    if (error != NULL ||
        (!job->present &&
         !kd_store_get_absent_since(store, item->uuid, &absent_since,
                                    &error))) {
        goto settled;
    }
    if (job->object->mailbox != NULL) {
        observed = kd_engine_location(engine, job->object->mailbox);
    }
    if (job->applied != NULL && job->applied->mailbox != NULL) {
        observed_old = kd_engine_location(engine, job->applied->mailbox);
    }
    if (job->object->kind == KD_OBJECT_SHARED && job->object->domain) {
        g_autofree char *name =
            g_strdup_printf("shared@%s", job->object->domain);

        parent = kd_engine_location(engine, name);
    }
    kd_reconcile_plan(job->object, job->present, absent_since, job->applied,
                      observed, observed_old, parent, &engine->cfg.policy,
                      now, &job->plan);
    switch (job->plan.kind) {
    case KD_PLAN_HOLD:
        g_warning("%s: held: %s", job_name(job), job->plan.reason);
        kd_store_work_hold(store, item->uuid, job->plan.reason, &error);
        goto settled;
    case KD_PLAN_WAIT:
        kd_store_work_retry(store, item->uuid, item->gen,
                            job->plan.not_before,
                            "waiting for the delete grace period", &error);
        goto settled;
    case KD_PLAN_WORK:
        break;
    }
    if (job->plan.steps == 0) {
        kd_store_work_done(store, item->uuid, item->gen, &error);
        goto settled;
    }
    if (job->plan.steps == KD_STEP_FORGET) {
        /* Nothing to do in Cyrus (delete_mode keep, or no mailbox). */
        job->ok = TRUE;
        if (!engine->cfg.dry_run &&
            !record_success(engine, job, &error)) {
            g_critical("store: %s", error->message);
            g_clear_error(&error);
        }
        goto settled;
    }
    if (job->plan.steps & KD_STEP_PLACE) {
        if (!place(engine, job, &error)) {
            g_warning("%s: %s", job_name(job), error->message);
            kd_store_work_retry(store, item->uuid, item->gen,
                                now + backoff_s(item->attempts),
                                error->message, NULL);
            g_clear_error(&error);
            goto settled;
        }
    } else {
        job->pool = pool_for_server(engine, job->plan.server);
        if (job->pool == NULL) {
            g_autofree char *why = g_strdup_printf(
                "mailbox %s lives on %s, which is not a configured backend",
                job->plan.old_mailbox ? job->plan.old_mailbox
                                      : job->object->mailbox,
                job->plan.server);

            g_warning("%s: held: %s", job_name(job), why);
            kd_store_work_hold(store, item->uuid, why, &error);
            goto settled;
        }
    }
    return job;

settled:
    if (error != NULL) {
        g_critical("store: %s", error->message);
    }
    kd_job_free(job);
    return NULL;
}

static guint
capacity(KdEngine *engine)
{
    return engine->pools->len * engine->cfg.workers_per_backend * 4;
}

/* Returns the number of items fetched as due; *@dispatched_out gets how
 * many of them went to workers (the others were settled here). */
static guint
dispatch_due(KdEngine *engine, guint *dispatched_out)
{
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(KdWorkItem));
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    guint room, fetched = 0;
    gint n;

    *dispatched_out = 0;
    if (!engine->locations_loaded) {
        g_autoptr(GError) local = NULL;

        if (g_get_monotonic_time() - engine->locations_tried <
            5 * G_TIME_SPAN_SECOND) {
            return 1; /* not idle: work waits for the map */
        }
        engine->locations_tried = g_get_monotonic_time();
        if (!kd_engine_refresh_locations(engine, &local)) {
            g_warning("%s; retrying", local->message);
            return 1;
        }
        g_message("read the murder's mailbox list");
    }
    room = capacity(engine) > g_hash_table_size(engine->in_flight)
               ? capacity(engine) - g_hash_table_size(engine->in_flight)
               : 0;
    if (room == 0) {
        return 1;
    }
    /* Fetch more than there is room for: most items of a converged
     * directory are settled here without a worker. */
    n = kd_store_work_due(engine->store, now,
                          DUE_BATCH + g_hash_table_size(engine->in_flight),
                          items, &error);
    if (n < 0) {
        g_critical("store: %s", error->message);
        return 0;
    }
    if (!kd_store_begin(engine->store, &error)) {
        g_critical("store: %s", error->message);
        return 0;
    }
    for (guint i = 0; i < items->len && room > 0; i++) {
        const KdWorkItem *item = &g_array_index(items, KdWorkItem, i);
        char hex[33];
        KdJob *job;

        kd_uuid_to_hex(item->uuid, hex);
        if (g_hash_table_contains(engine->in_flight, hex) ||
            (engine->cfg.only != NULL &&
             !g_hash_table_contains(engine->cfg.only, hex))) {
            continue;
        }
        fetched++;
        job = plan_item(engine, item, now);
        if (job == NULL) {
            continue;
        }
        if (!kd_store_work_lease(engine->store, item->uuid, item->gen,
                                 now + LEASE_S, &error)) {
            g_critical("store: %s", error->message);
            g_clear_error(&error);
        }
        g_hash_table_add(engine->in_flight, g_strdup(hex));
        room--;
        (*dispatched_out)++;
        g_async_queue_push(job->pool->jobs, job);
    }
    if (!kd_store_commit(engine->store, &error)) {
        g_critical("store: %s", error->message);
        kd_store_rollback(engine->store);
    }
    return fetched;
}

/* Every few seconds: publish the backends for status (the prober thread
 * keeps their up/down state). */
static void
housekeeping(KdEngine *engine, gint64 *last)
{
    gint64 now = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;

    if (now - *last < 10 * G_TIME_SPAN_SECOND) {
        return;
    }
    *last = now;
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);
        KdBackendRow row = {0};

        g_mutex_lock(&engine->lock);
        row.name = pool->name;
        row.servername = pool->servername;
        row.mailboxes = pool->mailboxes;
        row.up = pool->up;
        row.updated_at = g_get_real_time() / G_USEC_PER_SEC;
        row.note = pool->shared_annotation_bug && engine->cfg.policy.annotate_shared
                       ? (char *)"shared-folder annotations skipped: Cyrus "
                                 "3.6.1 kills the session on them "
                                 "(cyrus-imapd#4611)"
                       : NULL;
        g_mutex_unlock(&engine->lock);
        if (!engine->cfg.dry_run &&
            !kd_store_put_backend(engine->store, &row, &error)) {
            g_warning("store: %s", error->message);
            g_clear_error(&error);
        }
    }
}

/*
 * At shutdown, in the scheduler thread (so that no dispatch races it):
 * jobs still queued for workers are handed back as abandoned, so they stay
 * dirty in the store, and every worker gets its stop token after them.
 */
static void
abandon_queued(KdEngine *engine)
{
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);
        KdJob *job;

        while ((job = g_async_queue_try_pop(pool->jobs)) != NULL) {
            job->ok = FALSE;
            job->transient = TRUE;
            job->error = g_strdup("abandoned at shutdown");
            kd_engine_job_finished(engine, job);
        }
        for (guint t = 0; t < pool->threads->len; t++) {
            g_async_queue_push(pool->jobs, pool);
        }
    }
}

/*
 * Its own thread, so that a slow greeting never delays dispatch: every
 * 10 s each backend must greet (placement avoids those that do not; an
 * idle backend that went away must not look up).
 */
static gpointer
prober_main(gpointer data)
{
    KdEngine *engine = data;

    while (!g_atomic_int_get(&engine->stopping)) {
        for (guint i = 0; i < engine->pools->len; i++) {
            KdBackendPool *pool = g_ptr_array_index(engine->pools, i);
            g_autoptr(KdImap) imap = kd_imap_connect(pool->uri, 5, NULL);

            kd_engine_backend_state(engine, pool, imap != NULL);
        }
        for (guint t = 0; t < 100 && !g_atomic_int_get(&engine->stopping);
             t++) {
            g_usleep(G_USEC_PER_SEC / 10);
        }
    }
    return NULL;
}

static gpointer
scheduler_main(gpointer data)
{
    KdEngine *engine = data;
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    gint64 last_housekeeping = 0;
    gboolean abandoned = FALSE;

    while (!abandoned || g_hash_table_size(engine->in_flight) > 0) {
        gpointer item;
        guint fetched = 0, dispatched = 0;
        gboolean idle;
        gint64 wait;

        if (!g_atomic_int_get(&engine->stopping)) {
            fetched = dispatch_due(engine, &dispatched);
        } else if (!abandoned) {
            abandon_queued(engine);
            abandoned = TRUE;
        }
        idle = fetched == 0 && g_hash_table_size(engine->in_flight) == 0;
        g_mutex_lock(&engine->lock);
        engine->idle = idle;
        if (idle) {
            g_cond_broadcast(&engine->idle_cond);
        }
        g_mutex_unlock(&engine->lock);

        /* Wait for a result or a wake-up, unless this round only settled
         * items (more may be due at once); then take what else is there. */
        if (idle) {
            wait = G_USEC_PER_SEC;
        } else if (fetched > 0 && dispatched == 0 &&
                   fetched < DUE_BATCH + g_hash_table_size(engine->in_flight)) {
            wait = 20 * G_TIME_SPAN_MILLISECOND; /* all settled, none due */
        } else if (fetched > 0 && dispatched == 0) {
            wait = 0;
        } else {
            wait = 20 * G_TIME_SPAN_MILLISECOND;
        }
        item = wait > 0 ? g_async_queue_timeout_pop(engine->results, wait)
                        : g_async_queue_try_pop(engine->results);
        while (item != NULL) {
            if (item != engine) {
                g_ptr_array_add(done, item);
            }
            if (done->len >= RESULT_BATCH) {
                break;
            }
            item = g_async_queue_try_pop(engine->results);
        }
        record_results(engine, done);
        housekeeping(engine, &last_housekeeping);
    }
    g_mutex_lock(&engine->lock);
    engine->idle = TRUE;
    g_cond_broadcast(&engine->idle_cond);
    g_mutex_unlock(&engine->lock);
    return NULL;
}

gboolean
kd_engine_start(KdEngine *engine, GError **error)
{
    if (engine->started) {
        return TRUE;
    }
    g_atomic_int_set(&engine->stopping, 0);
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);

        for (guint t = 0; t < engine->cfg.workers_per_backend; t++) {
            g_autofree char *name = g_strdup_printf("kd-w-%s-%u", pool->name,
                                                    t);
            GThread *thread = g_thread_try_new(name, kd_worker_main, pool,
                                               error);

            if (thread == NULL) {
                return FALSE;
            }
            g_ptr_array_add(pool->threads, thread);
        }
    }
    engine->scheduler = g_thread_try_new("kd-scheduler", scheduler_main,
                                         engine, error);
    if (engine->scheduler == NULL) {
        return FALSE;
    }
    if (!engine->cfg.dry_run) {
        engine->prober = g_thread_try_new("kd-prober", prober_main, engine,
                                          error);
        if (engine->prober == NULL) {
            return FALSE;
        }
    }
    engine->started = TRUE;
    return TRUE;
}

gboolean
kd_engine_run_until_idle(KdEngine *engine, guint timeout_s)
{
    gint64 end = g_get_monotonic_time() + timeout_s * G_TIME_SPAN_SECOND;
    gboolean idle = FALSE;

    if (!kd_engine_start(engine, NULL)) {
        return FALSE;
    }
    g_mutex_lock(&engine->lock);
    engine->idle = FALSE;
    g_mutex_unlock(&engine->lock);
    kd_engine_wake(engine);
    g_mutex_lock(&engine->lock);
    while (!engine->idle) {
        if (!g_cond_wait_until(&engine->idle_cond, &engine->lock, end)) {
            break;
        }
    }
    idle = engine->idle;
    g_mutex_unlock(&engine->lock);
    return idle;
}

void
kd_engine_stop(KdEngine *engine, guint timeout_ms)
{
    if (!engine->started) {
        return;
    }
    g_atomic_int_set(&engine->stopping, 1);
    kd_engine_wake(engine);
    /* The scheduler abandons what is still queued, waits for the jobs in
     * flight (each bounded by the IMAP and LDAP timeouts), records them
     * and stops the workers; then it exits. */
    g_thread_join(engine->scheduler);
    engine->scheduler = NULL;
    if (engine->prober != NULL) {
        g_thread_join(engine->prober);
        engine->prober = NULL;
    }
    for (guint i = 0; i < engine->pools->len; i++) {
        KdBackendPool *pool = g_ptr_array_index(engine->pools, i);

        for (guint t = 0; t < pool->threads->len; t++) {
            g_thread_join(g_ptr_array_index(pool->threads, t));
        }
        g_ptr_array_set_size(pool->threads, 0);
    }
    engine->started = FALSE;
}

void
kd_engine_free(KdEngine *engine)
{
    gpointer item;

    if (engine == NULL) {
        return;
    }
    kd_engine_stop(engine, 30000);
    while ((item = g_async_queue_try_pop(engine->results)) != NULL) {
        if (item != engine) {
            kd_job_free(item);
        }
    }
    g_async_queue_unref(engine->results);
    g_ptr_array_unref(engine->plan_report);
    g_hash_table_unref(engine->in_flight);
    g_hash_table_unref(engine->locations);
    g_hash_table_unref(engine->pools_by_server);
    g_ptr_array_unref(engine->pools);
    kd_store_free(engine->store);
    g_mutex_clear(&engine->lock);
    g_cond_clear(&engine->idle_cond);
    g_free(engine);
}

GPtrArray *
kd_engine_dup_plan_report(KdEngine *engine)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_mutex_lock(&engine->lock);
    for (guint i = 0; i < engine->plan_report->len; i++) {
        g_ptr_array_add(out,
                        g_strdup(g_ptr_array_index(engine->plan_report, i)));
    }
    g_mutex_unlock(&engine->lock);
    return out;
}

GHashTable *
kd_engine_dup_locations(KdEngine *engine)
{
    GHashTable *copy =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer k, v;

    g_mutex_lock(&engine->lock);
    g_hash_table_iter_init(&it, engine->locations);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_hash_table_insert(copy, g_strdup(k), g_strdup(v));
    }
    g_mutex_unlock(&engine->lock);
    return copy;
}
