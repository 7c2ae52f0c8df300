/* reconcile: see reconcile.h. */

#include <string.h>

#include "reconcile.h"

void
kd_plan_clear(KdPlan *plan)
{
    g_free(plan->server);
    g_free(plan->old_mailbox);
    g_free(plan->reason);
    memset(plan, 0, sizeof *plan);
}

static gboolean
same_host(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return g_ascii_strcasecmp(a, b) == 0;
}

/* Steps that bring an existing mailbox's settings to the desired state;
 * with @applied NULL (adopting or creating) every configured setting. */
static guint
settings_steps(const KdObject *desired, const KdApplied *applied,
               const KdReconcilePolicy *policy)
{
    guint steps = 0;

    if (desired->quota_kib != KD_QUOTA_UNSET &&
        (applied == NULL || applied->quota_kib != desired->quota_kib)) {
        steps |= KD_STEP_QUOTA;
    }
    if (desired->acl != NULL &&
        (applied == NULL || g_strcmp0(applied->acl, desired->acl) != 0)) {
        steps |= KD_STEP_ACL;
    }
    if (desired->kind == KD_OBJECT_USER &&
        (applied == NULL || !applied->folders_done)) {
        steps |= KD_STEP_FOLDERS;
    }
    if (desired->kind == KD_OBJECT_SHARED && desired->folder_type != NULL &&
        policy->annotate_shared &&
        (applied == NULL ||
         g_strcmp0(applied->folder_type, desired->folder_type) != 0)) {
        steps |= KD_STEP_FOLDER_TYPE;
    }
    return steps;
}

static void
plan_gone(const KdObject *desired, gint64 absent_since,
          const KdApplied *applied, const char *server,
          const KdReconcilePolicy *policy, gint64 now, KdPlan *plan)
{
    const char *mailbox = applied ? applied->mailbox : desired->mailbox;

    plan->kind = KD_PLAN_WORK;
    plan->steps = KD_STEP_FORGET;
    if (mailbox == NULL || server == NULL) {
        /* Nothing in Cyrus: just forget the object. */
        return;
    }
    switch (policy->delete_mode) {
    case KD_DELETE_KEEP:
        plan->reason = g_strdup_printf(
            "object removed from LDAP; mailbox %s on %s kept "
            "(delete_mode keep)",
            mailbox, server);
        return;
    case KD_DELETE_DELAYED:
        if (now < absent_since + policy->delete_grace_s) {
            plan->kind = KD_PLAN_WAIT;
            plan->steps = 0;
            plan->not_before = absent_since + policy->delete_grace_s;
            return;
        }
        break;
    case KD_DELETE_DELETE:
        break;
    }
    plan->steps = KD_STEP_DELETE | KD_STEP_FORGET;
    plan->server = g_strdup(server);
    plan->old_mailbox = g_strdup(mailbox);
}

void
kd_reconcile_plan(const KdObject *desired, gboolean present,
                  gint64 absent_since, const KdApplied *applied,
                  const char *observed_server,
                  const char *observed_old_server,
                  const char *shared_parent_server,
                  const KdReconcilePolicy *policy, gint64 now,
                  KdPlan *plan_out)
{
    KdPlan *plan = plan_out;
    gboolean renamed;
    const char *server;

    memset(plan, 0, sizeof *plan);
    renamed = applied != NULL && applied->mailbox != NULL &&
              g_strcmp0(applied->mailbox, desired->mailbox) != 0;

    if (!present || desired->kind == KD_OBJECT_NONE) {
        plan_gone(desired, absent_since, applied,
                  renamed ? observed_old_server : observed_server, policy,
                  now, plan);
        return;
    }
    if (desired->error != NULL || desired->mailbox == NULL) {
        plan->kind = KD_PLAN_HOLD;
        plan->reason = g_strdup(desired->error ? desired->error
                                               : "no mailbox name");
        return;
    }

    plan->kind = KD_PLAN_WORK;
    if (renamed && observed_server == NULL && observed_old_server != NULL) {
        /* The mail address changed: rename where the mailbox is. */
        plan->steps = KD_STEP_RENAME | settings_steps(desired, applied, policy);
        plan->old_mailbox = g_strdup(applied->mailbox);
        server = observed_old_server;
    } else if (renamed && observed_server != NULL &&
               observed_old_server != NULL) {
        plan->kind = KD_PLAN_HOLD;
        plan->reason = g_strdup_printf(
            "cannot rename %s to %s: both mailboxes exist", applied->mailbox,
            desired->mailbox);
        return;
    } else if (observed_server != NULL) {
        /* Exists (perhaps renamed already, or made by someone else):
         * never move it, bring its settings in line. */
        plan->steps = settings_steps(
            desired, renamed || policy->verify ? NULL : applied, policy);
        server = observed_server;
    } else {
        /* Missing: create it. Prefer the backend it was on, then the
         * backend holding the domain's shared parent, then placement. */
        plan->steps = KD_STEP_CREATE | settings_steps(desired, NULL, policy);
        if (applied != NULL && applied->server != NULL) {
            server = applied->server;
        } else if (desired->kind == KD_OBJECT_SHARED &&
                   shared_parent_server != NULL) {
            server = shared_parent_server;
        } else {
            server = NULL;
            plan->steps |= KD_STEP_PLACE;
        }
    }
    plan->server = g_strdup(server);
    if (server == NULL || !same_host(desired->mailhost, server)) {
        plan->steps |= KD_STEP_MAILHOST;
    }
}

char *
kd_plan_steps_to_string(guint steps)
{
    static const struct {
        KdStep step;
        const char *name;
    } names[] = {
        {KD_STEP_PLACE, "place"},     {KD_STEP_CREATE, "create"},
        {KD_STEP_RENAME, "rename"},   {KD_STEP_FOLDERS, "folders"},
        {KD_STEP_QUOTA, "quota"},     {KD_STEP_ACL, "acl"},
        {KD_STEP_FOLDER_TYPE, "folder-type"},
        {KD_STEP_MAILHOST, "mailhost"}, {KD_STEP_DELETE, "delete"},
        {KD_STEP_FORGET, "forget"},
    };
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (steps & names[i].step) {
            if (out->len > 0) {
                g_string_append_c(out, ',');
            }
            g_string_append(out, names[i].name);
        }
    }
    if (out->len == 0) {
        g_string_append(out, "none");
    }
    return g_string_free(out, FALSE);
}
