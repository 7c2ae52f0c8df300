/*
 * engine-record: the scheduler's side of a finished job -- the store
 * transaction that records it (applied state, work queue, hook events) and
 * the location map update. See engine.h; runs in the scheduler thread.
 */
#include <string.h>

#include "engine-private.h"
#include "store.h"

gint64
kd_engine_backoff_s(gint attempts)
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

const char *
kd_job_name(const KdJob *job)
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

gboolean
kd_engine_record_success(KdEngine *engine, KdJob *job, GError **error)
{
    const KdObject *o = job->object;
    guint steps = job->plan.steps;
    g_autoptr(KdApplied) applied = NULL;

    if (steps & KD_STEP_FORGET) {
        if (job->deleted) {
            g_message("%s: mailbox %s deleted on %s", kd_job_name(job),
                      job->plan.old_mailbox, job->plan.server);
            enqueue_hook(engine, job, KD_HOOK_MAILBOX_DELETED, NULL);
        } else if (job->plan.reason != NULL) {
            g_message("%s: %s", kd_job_name(job), job->plan.reason);
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

        g_message("%s: %s on %s done", kd_job_name(job), names,
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
                  kd_job_name(job), o->mailbox, job->elsewhere);
        return kd_store_work_retry(engine->store, o->uuid, job->gen, now,
                                   job->error, error);
    }
    if (job->transient) {
        gint64 delay = kd_engine_backoff_s(job->attempts);

        g_warning("%s: %s (retry in %" G_GINT64_FORMAT " s)", kd_job_name(job),
                  job->error, delay);
        return kd_store_work_retry(engine->store, o->uuid, job->gen,
                                   now + delay, job->error, error);
    }
    g_warning("%s: held: %s", kd_job_name(job), job->error);
    enqueue_hook(engine, job, KD_HOOK_SYNC_ERROR, job->error);
    return kd_store_work_hold(engine->store, o->uuid, job->error, error);
}

void
kd_engine_record_results(KdEngine *engine, GPtrArray *jobs)
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
            kd_engine_set_location(engine, job->object->mailbox, job->created_on);
            kd_engine_remember_shared_parent(engine, job->object, job->created_on);
        }
        if (job->elsewhere != NULL) {
            kd_engine_set_location(engine, job->object->mailbox, job->elsewhere);
        }
        if (job->ok && (job->plan.steps & KD_STEP_RENAME)) {
            kd_engine_set_location(engine, job->plan.old_mailbox, NULL);
            kd_engine_set_location(engine, job->object->mailbox, job->plan.server);
        }
        if (job->ok && job->deleted) {
            kd_engine_set_location(engine, job->plan.old_mailbox, NULL);
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
                                            kd_job_name(job), job->plan.server));
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
            ok = job->ok ? kd_engine_record_success(engine, job, &error)
                         : record_failure(engine, job, now, &error);
        }
        if (!ok) {
            g_critical("store: recording %s: %s", kd_job_name(job),
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

