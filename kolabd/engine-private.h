/*
 * engine-private: what the scheduler (engine.c) and the workers
 * (worker.c) share. Not for other modules.
 */
#ifndef KOLABD_ENGINE_PRIVATE_H
#define KOLABD_ENGINE_PRIVATE_H

#include "engine.h"
#include "imap.h"

typedef struct KdBackendPool KdBackendPool;

/* One planned piece of work, and then its result. */
typedef struct {
    guint8 uuid[KD_UUID_LEN];
    gint64 gen;
    gint attempts;
    KdObject *object;     /* desired state (owned) */
    gboolean present;
    KdApplied *applied;   /* may be NULL (owned) */
    KdPlan plan;
    KdBackendPool *pool;  /* where plan.server lives */

    /* result, filled by the worker */
    gboolean ok;
    gboolean transient;   /* on failure: retry with backoff, else hold */
    char *error;          /* on failure */
    char *created_on;     /* servername where CREATE succeeded */
    char *elsewhere;      /* CREATE found the mailbox on this server */
    gboolean deleted;     /* DELETE done (mailbox gone) */
    gboolean vetoed;      /* pre-delete hook vetoed */
    gboolean mailhost_written;
    char *old_mailhost;
    gboolean placed;      /* pool->pending counts this job */
    gboolean acl_changed;
    gboolean quota_changed;
    gboolean annotations_skipped; /* Cyrus 3.6.1 bug 1 */
    guint imap_changes;
    guint would;          /* dry run: KdStep bits that would change */
} KdJob;

void kd_job_free(KdJob *job);

/* A backend and its workers. */
struct KdBackendPool {
    KdEngine *engine;
    char *name;
    char *uri;
    char *servername;
    char *partition;
    guint weight;
    gboolean up;
    gboolean shared_annotation_bug;
    gint namespace_hint;  /* KD_NAMESPACE_* (provision.h), atomic */
    gint64 mailboxes;     /* top-level mailboxes it holds */
    gint64 pending;       /* placed here, creation not yet recorded */
    GAsyncQueue *jobs;    /* KdJob*, or the pool itself to stop a worker */
    GPtrArray *threads;
};

/* The engine's state the workers read. */
const KdEngineConfig *kd_engine_config(KdEngine *engine);
/* Hands a finished job back to the scheduler (thread-safe). */
void kd_engine_job_finished(KdEngine *engine, KdJob *job);
/* A worker reports whether its backend answers (thread-safe). */
void kd_engine_backend_state(KdEngine *engine, KdBackendPool *pool,
                             gboolean up);

/* Worker thread body; @data is the KdBackendPool. */
gpointer kd_worker_main(gpointer data);

#endif /* KOLABD_ENGINE_PRIVATE_H */
