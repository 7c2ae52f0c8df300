/* engine: see engine.h. The scheduler thread lives here; workers are in
 * worker.c. */

#include <string.h>

#include "engine-private.h"
#include "store.h"

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

KdBackendPool *
kd_engine_pool_for_server(KdEngine *engine, const char *servername)
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
void
kd_engine_set_location(KdEngine *engine, const char *mailbox, const char *server)
{
    const char *old = g_hash_table_lookup(engine->locations, mailbox);
    KdBackendPool *pool;

    if (old != NULL && is_top_level(mailbox) &&
        (pool = kd_engine_pool_for_server(engine, old)) != NULL) {
        pool->mailboxes--;
    }
    if (server == NULL) {
        g_hash_table_remove(engine->locations, mailbox);
        return;
    }
    g_hash_table_insert(engine->locations, g_strdup(mailbox),
                        g_strdup(server));
    if (is_top_level(mailbox) &&
        (pool = kd_engine_pool_for_server(engine, server)) != NULL) {
        pool->mailboxes++;
    }
}

/* A shared folder's creation made `shared@domain` on the same backend;
 * later folders of the domain must follow it. Caller holds the lock. */
void
kd_engine_remember_shared_parent(KdEngine *engine, const KdObject *object,
                       const char *server)
{
    g_autofree char *parent = NULL;

    if (object->kind != KD_OBJECT_SHARED || object->domain == NULL) {
        return;
    }
    parent = g_strdup_printf("shared@%s", object->domain);
    if (!g_hash_table_contains(engine->locations, parent)) {
        kd_engine_set_location(engine, parent, server);
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
    if (engine->cfg.policy.verify) {
        kd_folder_index_free(engine->folder_index);
        engine->folder_index = kd_folder_index_new(engine->cfg.folders, all);
    }
    g_hash_table_iter_init(&it, all);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        /* Sub-folders are not needed for planning; keep memory small. */
        if (is_top_level(k)) {
            kd_engine_set_location(engine, k, v);
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
    imap = kd_imap_connect_tls(pool->uri, engine->cfg.imap_tls, 5, error);
    if (imap == NULL) {
        return FALSE;
    }
    greeted = kd_imap_get_servername(imap);
    if (pool->servername == NULL) {
        if (greeted != NULL && kd_imap_greeting_in_clear(imap)) {
            /* mailHost must not come from bytes an attacker could set */
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                        "backend %s greets before STARTTLS, so its "
                        "servername cannot be trusted; set servername in "
                        "[backend %s] or use imaps://",
                        pool->name, pool->name);
            return FALSE;
        }
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

/* Every few seconds, and at once when @force (the queue just drained, or
 * the engine stops): publish the backends for status (the prober thread
 * keeps their up/down state). */
static void
housekeeping(KdEngine *engine, gint64 *last, gboolean force)
{
    gint64 now = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;

    if (!force && now - *last < 10 * G_TIME_SPAN_SECOND) {
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
            g_autoptr(KdImap) imap = kd_imap_connect_tls(
                pool->uri, engine->cfg.imap_tls, 5, NULL);

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
    gboolean was_idle = TRUE;

    while (!abandoned || g_hash_table_size(engine->in_flight) > 0) {
        gpointer item;
        guint fetched = 0, dispatched = 0;
        gboolean idle;
        gint64 wait;

        if (!g_atomic_int_get(&engine->stopping)) {
            fetched = kd_engine_dispatch_due(engine, &dispatched);
        } else if (!abandoned) {
            abandon_queued(engine);
            abandoned = TRUE;
        }
        if (abandoned && g_hash_table_size(engine->in_flight) == 0) {
            break; /* nothing left to wait for */
        }
        idle = fetched == 0 && g_hash_table_size(engine->in_flight) == 0;
        if (idle && !was_idle) {
            housekeeping(engine, &last_housekeeping, TRUE); /* drained */
        }
        was_idle = idle;
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
        kd_engine_record_results(engine, done);
        housekeeping(engine, &last_housekeeping, FALSE);
    }
    housekeeping(engine, &last_housekeeping, TRUE);
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
    kd_folder_index_free(engine->folder_index);
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
