/* Unit tests for the reconcile planner (kolabd/reconcile.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reconcile.h"

/* delete mode, grace, annotate shared folders, verify */
static const KdReconcilePolicy policy_delete = {KD_DELETE_DELETE, 0, TRUE,
                                                FALSE};
static const KdReconcilePolicy policy_keep = {KD_DELETE_KEEP, 0, TRUE, FALSE};
static const KdReconcilePolicy policy_delayed = {KD_DELETE_DELAYED, 3600,
                                                 TRUE, FALSE};
static const KdReconcilePolicy policy_361 = {KD_DELETE_DELETE, 0, FALSE,
                                             FALSE};

static KdObject *
user(const char *mail, gint64 quota, const char *mailhost)
{
    static const guint8 uuid[KD_UUID_LEN] = {1, 2, 3};
    KdObject *o = kd_object_new(uuid);

    o->kind = KD_OBJECT_USER;
    o->mail = g_strdup(mail);
    o->mailbox = g_strdup_printf("user/%s", mail);
    o->quota_kib = quota;
    o->mailhost = g_strdup(mailhost);
    return o;
}

static KdApplied *
applied_from(const KdObject *o, const char *server)
{
    KdApplied *a = g_new0(KdApplied, 1);

    a->kind = o->kind;
    a->mailbox = g_strdup(o->mailbox);
    a->server = g_strdup(server);
    a->quota_kib = o->quota_kib;
    a->acl = g_strdup(o->acl);
    a->folder_type = g_strdup(o->folder_type);
    a->folders_done = TRUE;
    return a;
}

static void
test_reconcile_new_user_is_placed_and_created(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, NULL);
    KdPlan plan;

    kd_reconcile_plan(o, TRUE, 0, NULL, NULL, NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.kind, KD_PLAN_WORK);
    assert_int_equal(plan.steps, KD_STEP_PLACE | KD_STEP_CREATE |
                                     KD_STEP_FOLDERS | KD_STEP_QUOTA |
                                     KD_STEP_MAILHOST);
    assert_null(plan.server);
    kd_plan_clear(&plan);
}

static void
test_reconcile_converged_plans_nothing(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be1:143");
    g_autoptr(KdApplied) a = applied_from(o, "be1:143");
    KdPlan plan;

    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.kind, KD_PLAN_WORK);
    assert_int_equal(plan.steps, 0);
    assert_string_equal(plan.server, "be1:143");
    kd_plan_clear(&plan);
}

static void
test_reconcile_own_mailhost_write_causes_no_imap(void **state)
{
    /* Before the write-back LDAP has no mailHost: only the LDAP write. */
    g_autoptr(KdObject) o = user("john@example.org", 1024, NULL);
    g_autoptr(KdApplied) a = applied_from(o, "be1:143");
    KdPlan plan;

    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.steps, KD_STEP_MAILHOST);
    kd_plan_clear(&plan);

    /* The write comes back through syncrepl in another case. */
    g_free(o->mailhost);
    o->mailhost = g_strdup("BE1:143");
    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.steps, 0);
    kd_plan_clear(&plan);
}

static void
test_reconcile_quota_change_only_sets_quota(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be1:143");
    g_autoptr(KdApplied) a = applied_from(o, "be1:143");
    KdPlan plan;

    o->quota_kib = 2048;
    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.steps, KD_STEP_QUOTA);
    kd_plan_clear(&plan);

    /* An unset quota leaves the mailbox's limit alone. */
    o->quota_kib = KD_QUOTA_UNSET;
    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.steps, 0);
    kd_plan_clear(&plan);
}

static void
test_reconcile_mail_change_renames_in_place(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be2:143");
    g_autoptr(KdApplied) a = applied_from(o, "be2:143");
    KdPlan plan;

    g_free(o->mailbox);
    o->mailbox = g_strdup("user/johnny@example.org");
    kd_reconcile_plan(o, TRUE, 0, a, NULL, "be2:143", NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.kind, KD_PLAN_WORK);
    assert_true(plan.steps & KD_STEP_RENAME);
    assert_false(plan.steps & (KD_STEP_CREATE | KD_STEP_PLACE));
    assert_string_equal(plan.old_mailbox, "user/john@example.org");
    assert_string_equal(plan.server, "be2:143");
    kd_plan_clear(&plan);

    /* Both names exist: refuse, never merge or delete. */
    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", "be2:143", NULL,
                      &policy_delete, 100, &plan);
    assert_int_equal(plan.kind, KD_PLAN_HOLD);
    assert_non_null(strstr(plan.reason, "both"));
    kd_plan_clear(&plan);
}

static void
test_reconcile_existing_mailbox_is_never_moved(void **state)
{
    /* LDAP says be2, the murder says be1: mailHost follows the murder. */
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be2:143");
    KdPlan plan;

    kd_reconcile_plan(o, TRUE, 0, NULL, "be1:143", NULL, NULL,
                      &policy_delete, 100, &plan);
    assert_false(plan.steps & (KD_STEP_CREATE | KD_STEP_PLACE));
    assert_true(plan.steps & KD_STEP_MAILHOST);
    assert_string_equal(plan.server, "be1:143");
    kd_plan_clear(&plan);
}

static void
test_reconcile_deleted_behind_our_back_is_recreated_in_place(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be2:143");
    g_autoptr(KdApplied) a = applied_from(o, "be2:143");
    KdPlan plan;

    kd_reconcile_plan(o, TRUE, 0, a, NULL, NULL, NULL, &policy_delete, 100,
                      &plan);
    assert_true(plan.steps & KD_STEP_CREATE);
    assert_false(plan.steps & KD_STEP_PLACE);
    assert_false(plan.steps & KD_STEP_MAILHOST);
    assert_string_equal(plan.server, "be2:143");
    kd_plan_clear(&plan);
}

static void
test_reconcile_refused_entry_is_held(void **state)
{
    g_autoptr(KdObject) o = user("x@example.org", 0, NULL);
    KdPlan plan;

    o->error = g_strdup("mail contains a line break");
    kd_reconcile_plan(o, TRUE, 0, NULL, NULL, NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.kind, KD_PLAN_HOLD);
    assert_string_equal(plan.reason, "mail contains a line break");
    assert_int_equal(plan.steps, 0);
    kd_plan_clear(&plan);
}

static void
test_reconcile_delete_modes(void **state)
{
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be1:143");
    g_autoptr(KdApplied) a = applied_from(o, "be1:143");
    KdPlan plan;

    kd_reconcile_plan(o, FALSE, 100, a, "be1:143", NULL, NULL, &policy_keep,
                      200, &plan);
    assert_int_equal(plan.kind, KD_PLAN_WORK);
    assert_int_equal(plan.steps, KD_STEP_FORGET);
    assert_non_null(plan.reason);
    kd_plan_clear(&plan);

    kd_reconcile_plan(o, FALSE, 100, a, "be1:143", NULL, NULL,
                      &policy_delayed, 200, &plan);
    assert_int_equal(plan.kind, KD_PLAN_WAIT);
    assert_int_equal(plan.not_before, 3700);
    assert_int_equal(plan.steps, 0);
    kd_plan_clear(&plan);

    kd_reconcile_plan(o, FALSE, 100, a, "be1:143", NULL, NULL,
                      &policy_delayed, 3700, &plan);
    assert_int_equal(plan.steps, KD_STEP_DELETE | KD_STEP_FORGET);
    assert_string_equal(plan.old_mailbox, "user/john@example.org");
    assert_string_equal(plan.server, "be1:143");
    kd_plan_clear(&plan);

    kd_reconcile_plan(o, FALSE, 100, a, "be1:143", NULL, NULL,
                      &policy_delete, 100, &plan);
    assert_int_equal(plan.steps, KD_STEP_DELETE | KD_STEP_FORGET);
    kd_plan_clear(&plan);

    /* Already gone from Cyrus: only forget. */
    kd_reconcile_plan(o, FALSE, 100, a, NULL, NULL, NULL, &policy_delete,
                      100, &plan);
    assert_int_equal(plan.steps, KD_STEP_FORGET);
    kd_plan_clear(&plan);

    /* Out of the filters counts as gone. */
    o->kind = KD_OBJECT_NONE;
    kd_reconcile_plan(o, TRUE, 100, a, "be1:143", NULL, NULL,
                      &policy_delete, 100, &plan);
    assert_int_equal(plan.steps, KD_STEP_DELETE | KD_STEP_FORGET);
    kd_plan_clear(&plan);
}

static void
test_reconcile_shared_folder_follows_domain_parent(void **state)
{
    static const guint8 uuid[KD_UUID_LEN] = {9};
    g_autoptr(KdObject) o = kd_object_new(uuid);
    KdPlan plan;

    o->kind = KD_OBJECT_SHARED;
    o->mailbox = g_strdup("shared/memo@example.org");
    o->acl = g_strdup("anyone lrs");
    o->folder_type = g_strdup("mail");
    kd_reconcile_plan(o, TRUE, 0, NULL, NULL, NULL, "be2:143",
                      &policy_delete, 100, &plan);
    assert_int_equal(plan.steps, KD_STEP_CREATE | KD_STEP_ACL |
                                     KD_STEP_FOLDER_TYPE | KD_STEP_MAILHOST);
    assert_string_equal(plan.server, "be2:143");
    kd_plan_clear(&plan);

    /* Cyrus 3.6.1 bug 1: no shared-folder annotations. */
    kd_reconcile_plan(o, TRUE, 0, NULL, NULL, NULL, "be2:143", &policy_361,
                      100, &plan);
    assert_false(plan.steps & KD_STEP_FOLDER_TYPE);
    kd_plan_clear(&plan);
}

static void
test_reconcile_verify_checks_every_setting(void **state)
{
    static const KdReconcilePolicy verify = {KD_DELETE_DELETE, 0, TRUE, TRUE};
    g_autoptr(KdObject) o = user("john@example.org", 1024, "be1:143");
    g_autoptr(KdApplied) a = applied_from(o, "be1:143");
    KdPlan plan;

    /* Converged by the store's account, yet resync looks at Cyrus. */
    kd_reconcile_plan(o, TRUE, 0, a, "be1:143", NULL, NULL, &verify, 100,
                      &plan);
    assert_int_equal(plan.steps, KD_STEP_FOLDERS | KD_STEP_QUOTA);
    kd_plan_clear(&plan);
}

static void
test_reconcile_steps_to_string(void **state)
{
    g_autofree char *s = kd_plan_steps_to_string(KD_STEP_CREATE |
                                                 KD_STEP_MAILHOST);
    g_autofree char *none = kd_plan_steps_to_string(0);

    assert_string_equal(s, "create,mailhost");
    assert_string_equal(none, "none");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_new_user_is_placed_and_created),
        cmocka_unit_test(test_reconcile_converged_plans_nothing),
        cmocka_unit_test(test_reconcile_own_mailhost_write_causes_no_imap),
        cmocka_unit_test(test_reconcile_quota_change_only_sets_quota),
        cmocka_unit_test(test_reconcile_mail_change_renames_in_place),
        cmocka_unit_test(test_reconcile_existing_mailbox_is_never_moved),
        cmocka_unit_test(
            test_reconcile_deleted_behind_our_back_is_recreated_in_place),
        cmocka_unit_test(test_reconcile_refused_entry_is_held),
        cmocka_unit_test(test_reconcile_delete_modes),
        cmocka_unit_test(test_reconcile_shared_folder_follows_domain_parent),
        cmocka_unit_test(test_reconcile_verify_checks_every_setting),
        cmocka_unit_test(test_reconcile_steps_to_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
