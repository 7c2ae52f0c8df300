/*
 * worker: one thread of a backend's pool. It owns an admin IMAP session to
 * its backend and an LDAP connection for mailHost writes, executes the
 * steps of one job at a time and hands the job back to the scheduler. It
 * never touches the store (see engine.h).
 */

#include "engine-private.h"
#include "provision.h"

typedef struct {
    KdBackendPool *pool;
    const KdEngineConfig *cfg;
    KdImap *imap;
    KdDirectory *dir;
    gboolean fresh; /* the session was opened for the current job */
} KdWorker;

static gboolean
ensure_session(KdWorker *w, GError **error)
{
    KdBackendPool *pool = w->pool;
    g_autoptr(KdImap) imap = NULL;

    if (w->imap != NULL && kd_imap_is_alive(w->imap)) {
        return TRUE;
    }
    kd_imap_free(w->imap);
    w->imap = NULL;
    imap = kd_imap_connect_tls(pool->uri, w->cfg->imap_tls,
                               w->cfg->imap_timeout_s, error);
    if (imap == NULL ||
        !kd_imap_login(imap, w->cfg->admin_user, w->cfg->admin_password,
                       error)) {
        g_prefix_error(error, "backend %s: ", pool->name);
        kd_engine_backend_state(pool->engine, pool, FALSE);
        return FALSE;
    }
    kd_engine_backend_state(pool->engine, pool, TRUE);
    w->imap = g_steal_pointer(&imap);
    w->fresh = TRUE;
    return TRUE;
}

static gboolean
run_pre_delete(KdWorker *w, KdJob *job, GError **error)
{
    const KdObject *o = job->object;
    char hex[33];
    g_autofree char *veto = NULL;
    KdHookEvent ev = {0};

    if (w->cfg->hooks == NULL) {
        return TRUE;
    }
    kd_uuid_to_hex(o->uuid, hex);
    ev.event = KD_HOOK_PRE_DELETE;
    ev.uuid = hex;
    ev.dn = o->dn;
    ev.mail = o->mail;
    ev.mailbox = job->plan.old_mailbox;
    ev.mailhost = job->plan.server;
    ev.object = o;
    if (!kd_hooks_run_pre_delete(w->cfg->hooks, &ev, &veto)) {
        job->vetoed = TRUE;
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_FAILED,
                    "pre-delete hook vetoed deleting %s: %s",
                    job->plan.old_mailbox, veto);
        return FALSE;
    }
    return TRUE;
}

static gboolean
step_create(KdWorker *w, KdJob *job, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *where = NULL;

    if (kd_provision_create(w->imap, job->object, w->pool->partition,
                            &local)) {
        job->created_on = g_strdup(w->pool->servername);
        job->imap_changes++;
        return TRUE;
    }
    if (g_error_matches(local, KD_IMAP_ERROR,
                        KD_IMAP_ERROR_EXISTS_ELSEWHERE)) {
        /* Never recreate elsewhere: learn where it is and replan. */
        if (kd_murder_where(w->cfg->murder, job->object->mailbox, &where,
                            NULL) &&
            where != NULL) {
            job->elsewhere = g_steal_pointer(&where);
        }
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

static gboolean
step_mailhost(KdWorker *w, KdJob *job, GError **error)
{
    g_autofree char *value = g_ascii_strdown(w->pool->servername, -1);

    if (w->dir == NULL) {
        w->dir = kd_directory_new(&w->cfg->ldap, w->cfg->mailhost_attr);
    }
    if (!kd_directory_set_mailhost(w->dir, job->object->dn, value,
                                   &job->mailhost_written, error)) {
        return FALSE;
    }
    if (job->mailhost_written) {
        job->old_mailhost = g_strdup(job->object->mailhost);
    }
    return TRUE;
}

/* resync --dry-run: read what can be read, note what would change. */
static gboolean
check_steps(KdWorker *w, KdJob *job, GError **error)
{
    const KdEngineConfig *cfg = w->cfg;
    const KdObject *o = job->object;
    guint steps = job->plan.steps;
    const char *keep[] = {cfg->admin_user, NULL};
    gboolean changed = FALSE;

    if (steps & (KD_STEP_DELETE | KD_STEP_CREATE | KD_STEP_RENAME)) {
        /* The mailbox is missing or misnamed: everything would change. */
        job->would = steps & ~KD_STEP_PLACE;
        return TRUE;
    }
    if (!ensure_session(w, error)) {
        return FALSE;
    }
    if ((steps & KD_STEP_FOLDERS) && cfg->folders != NULL) {
        if (!kd_provision_folders(w->imap, o, cfg->folders, NULL, FALSE,
                                  TRUE, &changed, error)) {
            return FALSE;
        }
        job->would |= changed ? KD_STEP_FOLDERS : 0;
    }
    if (steps & KD_STEP_QUOTA) {
        if (!kd_provision_quota(w->imap, o->mailbox, o->quota_kib, TRUE,
                                &changed, error)) {
            return FALSE;
        }
        job->would |= changed ? KD_STEP_QUOTA : 0;
    }
    if (steps & KD_STEP_ACL) {
        if (!kd_provision_acl(w->imap, o->mailbox, o->acl, keep, TRUE,
                              &changed, error)) {
            return FALSE;
        }
        job->would |= changed ? KD_STEP_ACL : 0;
    }
    if ((steps & KD_STEP_FOLDER_TYPE) && !w->pool->shared_annotation_bug) {
        job->would |= KD_STEP_FOLDER_TYPE;
    }
    if (steps & KD_STEP_MAILHOST) {
        g_autofree char *current = NULL;

        if (w->dir == NULL) {
            w->dir = kd_directory_new(&cfg->ldap, cfg->mailhost_attr);
        }
        if (!kd_directory_get_mailhost(w->dir, o->dn, &current, error)) {
            return FALSE;
        }
        if (current == NULL ||
            g_ascii_strcasecmp(current, w->pool->servername) != 0) {
            job->would |= KD_STEP_MAILHOST;
        }
    }
    return TRUE;
}

static gboolean
run_steps(KdWorker *w, KdJob *job, GError **error)
{
    const KdEngineConfig *cfg = w->cfg;
    const KdObject *o = job->object;
    guint steps = job->plan.steps;
    const char *keep[] = {cfg->admin_user, NULL};
    KdProvisionAuth auth = {w->pool->uri, cfg->admin_user,
                            cfg->admin_password, cfg->imap_timeout_s,
                            &w->pool->namespace_hint, cfg->imap_tls};
    gboolean changed = FALSE;

    if (cfg->dry_run) {
        return check_steps(w, job, error);
    }
    if (!ensure_session(w, error)) {
        return FALSE;
    }
    if (steps & KD_STEP_DELETE) {
        if (!run_pre_delete(w, job, error) ||
            !kd_provision_delete(w->imap, job->plan.old_mailbox, error)) {
            return FALSE;
        }
        job->deleted = TRUE;
        job->imap_changes++;
        return TRUE;
    }
    if ((steps & KD_STEP_CREATE) && !step_create(w, job, error)) {
        return FALSE;
    }
    if (steps & KD_STEP_RENAME) {
        if (!kd_provision_rename(w->imap, job->plan.old_mailbox, o->mailbox,
                                 error)) {
            return FALSE;
        }
        job->imap_changes++;
    }
    if ((steps & KD_STEP_FOLDERS) && cfg->folders != NULL) {
        if (!kd_provision_folders(w->imap, o, cfg->folders, &auth,
                                  job->created_on != NULL, FALSE, &changed,
                                  error)) {
            return FALSE;
        }
        job->imap_changes += changed ? 1 : 0;
    }
    if (steps & KD_STEP_QUOTA) {
        if (!kd_provision_quota(w->imap, o->mailbox, o->quota_kib, FALSE,
                                &changed, error)) {
            return FALSE;
        }
        job->quota_changed = changed;
        job->imap_changes += changed ? 1 : 0;
    }
    if (steps & KD_STEP_ACL) {
        if (!kd_provision_acl(w->imap, o->mailbox, o->acl, keep, FALSE,
                              &changed, error)) {
            return FALSE;
        }
        job->acl_changed = changed;
        job->imap_changes += changed ? 1 : 0;
    }
    if (steps & KD_STEP_FOLDER_TYPE) {
        if (w->pool->shared_annotation_bug) {
            job->annotations_skipped = TRUE;
        } else if (!kd_provision_folder_type(w->imap, o->mailbox,
                                             o->folder_type, error)) {
            return FALSE;
        } else {
            job->imap_changes++;
        }
    }
    if ((steps & KD_STEP_MAILHOST) && !step_mailhost(w, job, error)) {
        return FALSE;
    }
    return TRUE;
}

static gboolean
error_is_transient(const GError *error)
{
    if (error->domain == KD_IMAP_ERROR) {
        return kd_imap_error_is_transient(error) ||
               error->code == KD_IMAP_ERROR_EXISTS_ELSEWHERE ||
               error->code == KD_IMAP_ERROR_NONEXISTENT;
    }
    if (error->domain == KD_DIRECTORY_ERROR) {
        return error->code != KD_DIRECTORY_ERROR_REFUSED;
    }
    return FALSE;
}

gpointer
kd_worker_main(gpointer data)
{
    KdWorker w = {0};

    w.pool = data;
    w.cfg = kd_engine_config(w.pool->engine);
    for (;;) {
        gpointer item = g_async_queue_pop(w.pool->jobs);
        KdJob *job;
        g_autoptr(GError) error = NULL;

        if (item == w.pool) {
            break;
        }
        job = item;
        w.fresh = FALSE;
        job->ok = run_steps(&w, job, &error);
        if (!job->ok && !w.fresh &&
            g_error_matches(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED)) {
            /* A kept session the server dropped meanwhile (restart, idle
             * timeout): the steps are idempotent, so redo them once on a
             * new connection rather than wait for a retry. */
            g_debug("backend %s: session lost (%s); reconnecting",
                    w.pool->name, error->message);
            g_clear_error(&error);
            kd_imap_free(w.imap);
            w.imap = NULL;
            job->ok = run_steps(&w, job, &error);
        }
        if (!job->ok) {
            job->transient = error_is_transient(error) && !job->vetoed;
            job->error = g_strdup(error->message);
        }
        kd_engine_job_finished(w.pool->engine, job);
    }
    kd_imap_free(w.imap);
    kd_directory_free(w.dir);
    return NULL;
}
