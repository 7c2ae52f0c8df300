/*
 * engine: the reconciler at work. It takes dirty objects from the store's
 * work queue, plans each (reconcile.h) against the applied state and the
 * murder's location map, asks placement for a backend when a mailbox has
 * no home, and hands the plan to a worker of that backend's pool. Workers
 * (worker.c) own one IMAP session each and write mailHost through their
 * own LDAP connection; they never touch the store. The engine's scheduler
 * thread records their results in the store, in batched transactions,
 * together with the provisioning hook events they caused.
 *
 * The syncrepl reader never waits on the engine: it only commits to the
 * store and calls kd_engine_wake().
 *
 * The same engine runs the daemon (kd_engine_start, forever) and
 * `kolabd resync` (kd_engine_run_until_idle, then stop).
 */
#ifndef KOLABD_ENGINE_H
#define KOLABD_ENGINE_H

#include <glib.h>

#include "directory.h"
#include "hooks.h"
#include "murder.h"
#include "placement.h"
#include "reconcile.h"

typedef struct {
    char *name;        /* [backend NAME] */
    char *uri;         /* imap://host:port of the backend itself */
    char *servername;  /* Cyrus servername (mailHost value); NULL: learn
                        * it from the greeting at start */
    char *partition;   /* NULL: the backend's default */
    guint weight;
} KdEngineBackend;

typedef struct {
    const char *store_path;
    KdLdapParams ldap;          /* for mailHost writes */
    const char *mailhost_attr;  /* NULL = mailHost */
    const char *admin_user;
    const char *admin_password;
    int imap_timeout_s;
    KdImapTls *imap_tls;        /* borrowed; NULL: system trust */
    GPtrArray *backends;        /* KdEngineBackend*, borrowed */
    guint workers_per_backend;  /* 0 = 4 */
    KdReconcilePolicy policy;
    gboolean annotate_shared_auto; /* decide annotate_shared per server */
    GPtrArray *folders;         /* KdFolderSpec*, borrowed */
    KdPlacement *placement;     /* borrowed */
    KdMurder *murder;           /* borrowed */
    KdHooks *hooks;             /* borrowed, may be NULL */
    gboolean dry_run;           /* plan and report, change nothing */
    GHashTable *only;           /* NULL, or uuid hex strings: work on these
                                 * objects only (resync MAIL...) */
} KdEngineConfig;

typedef struct KdEngine KdEngine;

/*
 * Prepares the engine: opens its store connection, probes every backend
 * (learning servernames from greetings) and reads the murder's complete
 * location map once. NULL with @error when the store cannot be opened or
 * a backend's servername cannot be learned. When the map cannot be read
 * (mupdate master down) the engine still starts but plans nothing until a
 * retry (every 5 s) succeeds; a resync fails instead.
 */
KdEngine *kd_engine_new(const KdEngineConfig *config, GError **error);
/* Stops workers (abandoning queued jobs: they stay dirty) and frees. */
void kd_engine_free(KdEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdEngine, kd_engine_free)

/* Starts the scheduler thread and the workers. */
gboolean kd_engine_start(KdEngine *engine, GError **error);
/* Thread-safe: there may be new work (syncrepl committed). */
void kd_engine_wake(KdEngine *engine);
/*
 * Stops taking new work: jobs still queued are abandoned (they stay dirty),
 * jobs in flight finish -- each bounded by the IMAP and LDAP timeouts, not
 * by @timeout_ms, which is unused -- and are recorded; then the threads
 * stop. Call from one thread.
 */
void kd_engine_stop(KdEngine *engine, guint timeout_ms);

/*
 * Runs until the queue holds nothing due (held items and items waiting
 * for a later retry or a delete grace stay), or @timeout_s passes.
 * Returns TRUE when idle. Starts the engine if needed.
 */
gboolean kd_engine_run_until_idle(KdEngine *engine, guint timeout_s);

/* Re-reads the murder's location map (resync; SIGUSR1). */
gboolean kd_engine_refresh_locations(KdEngine *engine, GError **error);

/*
 * The murder's location of @mailbox as the engine knows it (servername,
 * newly allocated) or NULL. Thread-safe.
 */
char *kd_engine_location(KdEngine *engine, const char *mailbox);

/*
 * A copy of the location map: user INBOXes and shared folders (mailbox ->
 * servername, both owned by the table). For the orphan report.
 */
GHashTable *kd_engine_dup_locations(KdEngine *engine);

typedef struct {
    guint64 jobs_done;
    guint64 jobs_changed; /* done jobs that changed something */
    guint64 jobs_failed;
    guint64 jobs_held;
    guint64 creates;
    guint64 mailhost_writes;
    guint64 imap_changes; /* IMAP commands that changed something */
} KdEngineStats;

void kd_engine_get_stats(KdEngine *engine, KdEngineStats *stats_out);

/*
 * Dry run: what would have been done, one "steps<TAB>name<TAB>server" line
 * per object, as a new array of strings.
 */
GPtrArray *kd_engine_dup_plan_report(KdEngine *engine);

#endif /* KOLABD_ENGINE_H */
