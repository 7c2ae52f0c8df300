/*
 * kd-imap-probe: looks at (and, for resync tests, tampers with) the Cyrus
 * murder behind kolabd's back, so that integration scripts can check
 * kolabd's work without a password on any command line. It reads
 * kolabd.conf like kolabd (admin credentials from admin_password_file) and
 * talks to the backends directly: each mailbox is found with
 * kd_murder_where() and handled on the backend that holds it.
 *
 * usage: kd-imap-probe -c kolabd.conf COMMAND [ARGS]
 *   list PATTERN          LIST on every backend: "servername mailbox" lines
 *   where MAILBOX         the servername holding MAILBOX
 *   quota MAILBOX         "root limit_kib" (limit -1: none, root "-": none)
 *   acl MAILBOX           "identifier rights" lines
 *   delete MAILBOX        deletes MAILBOX on its backend
 *   setquota ROOT KIB     sets the STORAGE limit of ROOT on its backend
 *   setacl MAILBOX ID=RIGHTS  SETACL on the mailbox's backend
 * Mailbox names are admin names in modified UTF-7
 * ("user/john@example.org"). Exit 0 on success, 1 when the mailbox does
 * not exist, 2 on any other error (printed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "imap.h"
#include "murder.h"

static int
fail(const GError *error)
{
    fprintf(stderr, "kd-imap-probe: %s\n", error->message);
    return g_error_matches(error, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT)
               ? 1
               : 2;
}

/* An admin session on the backend that holds @mailbox. */
static KdImap *
connect_for(KdMurder *murder, const char *mailbox, GError **error)
{
    g_autofree char *server = NULL;
    const KdMurderBackend *be;

    if (!kd_murder_where(murder, mailbox, &server, error)) {
        return NULL;
    }
    /* Learns the servernames of the backends from their greetings. */
    kd_murder_probe(murder);
    be = kd_murder_backend_by_servername(murder, server);
    if (be == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                    "%s lives on %s, which is not a configured backend",
                    mailbox, server);
        return NULL;
    }
    return kd_murder_connect_backend(murder, be, error);
}

static int
cmd_list(KdMurder *murder, const char *pattern)
{
    for (gsize i = 0; i < kd_murder_get_n_backends(murder); i++) {
        const KdMurderBackend *be = kd_murder_get_backend(murder, i);
        g_autoptr(GError) error = NULL;
        g_autoptr(KdImap) imap = NULL;
        g_autoptr(GPtrArray) names = NULL;

        imap = kd_murder_connect_backend(murder, be, &error);
        if (imap == NULL || !kd_imap_list(imap, pattern, &names, &error)) {
            return fail(error);
        }
        for (guint j = 0; j < names->len; j++) {
            printf("%s %s\n", be->servername ? be->servername : be->name,
                   (const char *)g_ptr_array_index(names, j));
        }
    }
    return 0;
}

static int
cmd_mailbox(KdMurder *murder, const char *cmd, const char *mailbox,
            const char *arg)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KdImap) imap = NULL;

    if (strcmp(cmd, "where") == 0) {
        g_autofree char *server = NULL;

        if (!kd_murder_where(murder, mailbox, &server, &error)) {
            return fail(error);
        }
        printf("%s\n", server);
        return 0;
    }
    imap = connect_for(murder, mailbox, &error);
    if (imap == NULL) {
        return fail(error);
    }
    if (strcmp(cmd, "quota") == 0) {
        g_autofree char *root = NULL;
        gint64 usage = 0, limit = -1;

        if (!kd_imap_getquotaroot(imap, mailbox, &root, &usage, &limit,
                                  &error)) {
            return fail(error);
        }
        printf("%s %" G_GINT64_FORMAT "\n", root ? root : "-", limit);
    } else if (strcmp(cmd, "acl") == 0) {
        g_autoptr(GPtrArray) acl = NULL;

        if (!kd_imap_getacl(imap, mailbox, &acl, &error)) {
            return fail(error);
        }
        for (guint i = 0; i < acl->len; i++) {
            const KdImapAce *ace = g_ptr_array_index(acl, i);

            printf("%s %s\n", ace->identifier, ace->rights);
        }
    } else if (strcmp(cmd, "delete") == 0) {
        if (!kd_imap_delete(imap, mailbox, &error)) {
            return fail(error);
        }
    } else if (strcmp(cmd, "setquota") == 0 && arg != NULL) {
        if (!kd_imap_setquota(imap, mailbox, g_ascii_strtoll(arg, NULL, 10),
                              &error)) {
            return fail(error);
        }
    } else if (strcmp(cmd, "setacl") == 0 && arg != NULL &&
               strrchr(arg, '=') != NULL) {
        g_autofree char *id = g_strndup(arg, strrchr(arg, '=') - arg);

        if (!kd_imap_setacl(imap, mailbox, id, strrchr(arg, '=') + 1,
                            &error)) {
            return fail(error);
        }
    } else {
        fprintf(stderr, "kd-imap-probe: unknown command %s\n", cmd);
        return 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    int i = 1;

    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        config_path = argv[2];
        i = 3;
    }
    if (config_path == NULL || i + 1 >= argc) {
        fprintf(stderr, "usage: kd-imap-probe -c CONF "
                        "list|where|quota|acl|delete|setquota|setacl ARG "
                        "[KIB|ID=RIGHTS]\n");
        return 2;
    }
    kd_imap_global_init();
    app = kd_app_new(config_path, &error);
    if (app == NULL) {
        return fail(error);
    }
    if (strcmp(argv[i], "list") == 0) {
        return cmd_list(kd_app_get_murder(app), argv[i + 1]);
    }
    return cmd_mailbox(kd_app_get_murder(app), argv[i], argv[i + 1],
                       i + 2 < argc ? argv[i + 2] : NULL);
}
