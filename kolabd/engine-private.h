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


/* ---- shared by engine.c, engine-dispatch.c, engine-record.c ---------- */

#define RESULT_BATCH 256
#define DUE_BATCH 512
#define BACKOFF_MAX_S 300
/* How long a dispatched item is claimed (see kd_store_work_lease); longer
 * than any one job, which its IMAP and LDAP timeouts bound. */
#define LEASE_S 120

/* engine-folders.c: users whose default folders all exist, from the
 * murder's listing (@all: mailbox -> servername). NULL unless there are
 * 1..64 default folders. */
typedef struct KdFolderIndex KdFolderIndex;
KdFolderIndex *kd_folder_index_new(const GPtrArray *folders, GHashTable *all);
void kd_folder_index_free(KdFolderIndex *index);
/* TRUE when @mailbox ("user/x@dom") has every default folder, on its own
 * server; FALSE when unknown (@index NULL). */
gboolean kd_folder_index_complete(const KdFolderIndex *index,
                                  const char *mailbox);

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
    KdFolderIndex *folder_index; /* deep check only; scheduler thread */

    GAsyncQueue *results; /* KdJob*, or the engine itself to wake */
    GHashTable *in_flight; /* uuid hex -> NULL */
    GThread *scheduler;
    GThread *prober; /* backends up/down */
    gint stopping;
    gboolean started;
};


/* The pool of the backend called @servername (any case), or NULL. */
KdBackendPool *kd_engine_pool_for_server(KdEngine *engine,
                                         const char *servername);
/* Sets (@server NULL: removes) where @mailbox lives and keeps the pools'
 * mailbox counts. Caller holds engine->lock. */
void kd_engine_set_location(KdEngine *engine, const char *mailbox,
                            const char *server);
/* A domain's shared folders follow the first one: records `shared@domain`
 * on @server unless known. Caller holds engine->lock. */
void kd_engine_remember_shared_parent(KdEngine *engine,
                                      const KdObject *object,
                                      const char *server);
/* Retry delay after @attempts failures: 2^n s, capped, with jitter. */
gint64 kd_engine_backoff_s(gint attempts);
/* The mail, mailbox or DN of @job's object: for log lines. */
const char *kd_job_name(const KdJob *job);
/* Records a successful @job inside the caller's store transaction. */
gboolean kd_engine_record_success(KdEngine *engine, KdJob *job,
                                  GError **error);
/* Records finished @jobs in one store transaction and frees them. */
void kd_engine_record_results(KdEngine *engine, GPtrArray *jobs);
/* Plans due work and dispatches it; returns the number of items fetched,
 * *@dispatched_out how many went to workers. */
guint kd_engine_dispatch_due(KdEngine *engine, guint *dispatched_out);

#endif /* KOLABD_ENGINE_PRIVATE_H */
