/*
 * kd-where: prints, for every Kolab user and shared folder in LDAP, its
 * mailbox, the backend the murder says holds it, and its mailHost, and
 * whether they agree. It reads kolabd.conf like kolabd, but asks LDAP and
 * the murder directly (one search, one complete mailbox listing), so it is
 * an independent check of kolabd's work: the demo prints its table, and
 * integration tests use its exit code (0: every mailHost is right).
 *
 * usage: kd-where -c kolabd.conf [--quiet]
 */
#include <stdio.h>
#include <string.h>

#include <ldap.h>

#include "app.h"
#include "imap.h"

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    gboolean quiet = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(GHashTable) where = NULL;
    g_autoptr(LDAPMessage) res = NULL;
    KdSyncParams params;
    LDAP *ld;
    int rc, n = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = TRUE;
        }
    }
    kd_imap_global_init();
    app = kd_app_new(config_path, &error);
    if (app == NULL ||
        !kd_murder_list_all(kd_app_get_murder(app), &where, &error)) {
        fprintf(stderr, "kd-where: %s\n", error->message);
        return 2;
    }
    kd_app_sync_params(app, &params);
    ld = kd_ldap_connect(&params.ldap, &error);
    if (ld == NULL) {
        fprintf(stderr, "kd-where: %s\n", error->message);
        return 2;
    }
    rc = ldap_search_ext_s(ld, params.base, LDAP_SCOPE_SUBTREE,
                           params.filter, (char **)params.attrs, 0, NULL,
                           NULL, NULL, 0, &res);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "kd-where: search: %s\n", ldap_err2string(rc));
        kd_ldap_unbind(ld);
        return 2;
    }
    if (!quiet) {
        printf("%-34s %-44s %-18s %-18s %s\n", "mail", "mailbox",
               "backend (murder)", "mailHost (LDAP)", "");
    }
    for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL;
         e = ldap_next_entry(ld, e)) {
        static const guint8 zero[KD_UUID_LEN];
        g_autoptr(KdEntry) entry = NULL;
        g_autoptr(KdObject) o = NULL;
        BerElement *ber = NULL;
        char *dn = ldap_get_dn(ld, e);
        const char *backend;
        gboolean ok;

        entry = kd_entry_new(dn);
        ldap_memfree(dn);
        for (char *a = ldap_first_attribute(ld, e, &ber); a != NULL;
             a = ldap_next_attribute(ld, e, ber)) {
            struct berval **vals = ldap_get_values_len(ld, e, a);

            for (int i = 0; vals != NULL && vals[i] != NULL; i++) {
                kd_entry_add_value(entry, a, vals[i]->bv_val,
                                   vals[i]->bv_len);
            }
            ldap_value_free_len(vals);
            ldap_memfree(a);
        }
        ber_free(ber, 0);
        o = kd_model_classify(kd_app_get_model(app), zero, entry);
        if (o->kind == KD_OBJECT_NONE) {
            continue;
        }
        n++;
        backend = o->mailbox ? g_hash_table_lookup(where, o->mailbox) : NULL;
        ok = o->error == NULL && backend != NULL && o->mailhost != NULL &&
             g_ascii_strcasecmp(backend, o->mailhost) == 0;
        bad += ok ? 0 : 1;
        if (!quiet || !ok) {
            g_autofree char *shown = NULL;

            if (o->mailbox != NULL) {
                shown = g_convert(o->mailbox, -1, "UTF-8", "UTF-7-IMAP",
                                  NULL, NULL, NULL);
            }
            printf("%-34s %-44s %-18s %-18s %s\n",
                   o->mail ? o->mail : "-",
                   shown ? shown : (o->mailbox ? o->mailbox : "(refused)"),
                   backend ? backend : "(none)",
                   o->mailhost ? o->mailhost : "(none)",
                   ok ? "ok" : (o->error ? o->error : "MISMATCH"));
        }
    }
    kd_ldap_unbind(ld);
    printf("%d objects, %d with mailHost equal to the murder's location, "
           "%d not\n",
           n, n - bad, bad);
    return bad == 0 && n > 0 ? 0 : 1;
}
