/*
 * engine-dispatch: the scheduler's side of due work -- plan each item
 * (reconcile.h), settle what needs no worker, place new mailboxes, lease
 * and hand the rest to the backend's pool. See engine.h; runs in the
 * scheduler thread.
 */
#include <string.h>

#include "engine-private.h"
#include "store.h"

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
    kd_engine_remember_shared_parent(engine, job->object, job->pool->servername);
    g_mutex_unlock(&engine->lock);
    g_free(job->plan.server);
    job->plan.server = g_strdup(job->pool->servername);
    g_debug("%s: placed on %s by %s", kd_job_name(job), job->pool->name,
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
    if ((job->plan.steps & KD_STEP_FOLDERS) && observed != NULL &&
        !(job->plan.steps & (KD_STEP_CREATE | KD_STEP_RENAME)) &&
        kd_folder_index_complete(engine->folder_index,
                                 job->object->mailbox)) {
        /* The murder lists every default folder: nothing to ask. */
        job->plan.steps &= ~(guint)KD_STEP_FOLDERS;
    }
    switch (job->plan.kind) {
    case KD_PLAN_HOLD:
        g_warning("%s: held: %s", kd_job_name(job), job->plan.reason);
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
            !kd_engine_record_success(engine, job, &error)) {
            g_critical("store: %s", error->message);
            g_clear_error(&error);
        }
        goto settled;
    }
    if (job->plan.steps & KD_STEP_PLACE) {
        if (!place(engine, job, &error)) {
            g_warning("%s: %s", kd_job_name(job), error->message);
            kd_store_work_retry(store, item->uuid, item->gen,
                                now + kd_engine_backoff_s(item->attempts),
                                error->message, NULL);
            g_clear_error(&error);
            goto settled;
        }
    } else {
        job->pool = kd_engine_pool_for_server(engine, job->plan.server);
        if (job->pool == NULL) {
            g_autofree char *why = g_strdup_printf(
                "mailbox %s lives on %s, which is not a configured backend",
                job->plan.old_mailbox ? job->plan.old_mailbox
                                      : job->object->mailbox,
                job->plan.server);

            g_warning("%s: held: %s", kd_job_name(job), why);
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
guint
kd_engine_dispatch_due(KdEngine *engine, guint *dispatched_out)
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

