/*
 * reconcile: what to do for one object, decided from three views of it.
 *
 * kolabd is level-triggered: the syncrepl stream only updates the desired
 * state (store `objects`), and this module compares it with the applied
 * state (what kolabd last confirmed in Cyrus, store `applied`) and with
 * where the murder says the mailbox is right now. The result is a plan: a
 * set of idempotent steps that the engine's workers execute on the backend
 * holding the mailbox. Planning is pure (no I/O) so that the daemon and
 * `kolabd resync` share it and unit tests can cover every case.
 *
 * Principles kept here: a mailbox that exists is never moved or recreated
 * elsewhere; a mailbox is deleted only when its object is absent from LDAP
 * and the delete policy allows it; kolabd's own mailHost write compares
 * equal and plans nothing.
 */
#ifndef KOLABD_RECONCILE_H
#define KOLABD_RECONCILE_H

#include <glib.h>

#include "object.h"
#include "config.h" /* KdDeleteMode */
#include "store.h"  /* KdApplied */


typedef struct {
    KdDeleteMode delete_mode;
    gint64 delete_grace_s;   /* for KD_DELETE_DELAYED */
    gboolean annotate_shared; /* FALSE on Cyrus 3.6.1 (bug 1) */
    gboolean verify;   /* resync: check every setting in Cyrus rather
                        * than trust the applied state */
} KdReconcilePolicy;

typedef enum {
    KD_STEP_CREATE = 1 << 0,      /* CREATE the mailbox on plan->server */
    KD_STEP_RENAME = 1 << 1,      /* RENAME plan->old_mailbox -> mailbox */
    KD_STEP_FOLDERS = 1 << 2,     /* default folders + their annotations */
    KD_STEP_QUOTA = 1 << 3,       /* SETQUOTA to the desired value */
    KD_STEP_ACL = 1 << 4,         /* make the ACL equal the desired one */
    KD_STEP_FOLDER_TYPE = 1 << 5, /* shared folder-type annotation */
    KD_STEP_MAILHOST = 1 << 6,    /* write mailHost = server in LDAP */
    KD_STEP_DELETE = 1 << 7,      /* DELETE plan->old_mailbox */
    KD_STEP_FORGET = 1 << 8,      /* drop applied state and the object */
    KD_STEP_PLACE = 1 << 9,       /* no home yet: ask placement first */
} KdStep;

typedef enum {
    KD_PLAN_WORK,  /* execute plan->steps (possibly none: converged) */
    KD_PLAN_WAIT,  /* nothing now; look again at plan->not_before */
    KD_PLAN_HOLD,  /* refuse until an operator acts; plan->reason */
} KdPlanKind;

typedef struct {
    KdPlanKind kind;
    guint steps;         /* KdStep bits */
    char *server;        /* backend to work on; NULL with KD_STEP_PLACE */
    char *old_mailbox;   /* for RENAME / DELETE */
    gint64 not_before;   /* KD_PLAN_WAIT */
    char *reason;        /* KD_PLAN_HOLD, and a log text otherwise */
} KdPlan;

void kd_plan_clear(KdPlan *plan);

/*
 * Plans the work for one object.
 * @desired: the object from the store (never NULL; for an object that is
 *   gone from LDAP, the last known desired state).
 * @present: FALSE when LDAP no longer has the object (or it left the
 *   filters); @absent_since: when that was noticed (unix seconds).
 * @applied: what kolabd last confirmed, or NULL if nothing yet.
 * @observed_server: where the murder says desired->mailbox lives right now,
 *   or NULL if it does not exist; @observed_old_server: the same for
 *   applied->mailbox when it differs (renames), else ignored.
 * @shared_parent_server: for shared folders, where `shared@domain` lives
 *   (NULL if nowhere): a domain's shared folders stay on one backend.
 * Fills @plan_out (cleared first); never fails.
 */
void kd_reconcile_plan(const KdObject *desired, gboolean present,
                       gint64 absent_since, const KdApplied *applied,
                       const char *observed_server,
                       const char *observed_old_server,
                       const char *shared_parent_server,
                       const KdReconcilePolicy *policy, gint64 now,
                       KdPlan *plan_out);

/* "create,quota,mailhost": for logs and dry-run plans. Free with g_free. */
char *kd_plan_steps_to_string(guint steps);

#endif /* KOLABD_RECONCILE_H */
