/*
 * kd-mailbox-where: asks the murder (as kolabd.conf configures it, not
 * kolabd's store) where a mailbox is, so that tests can check that a
 * mailbox exists or is gone independently of kolabd.
 *
 * usage: kd-mailbox-where -c kolabd.conf MAILBOX
 *
 * MAILBOX is the admin-namespace name, e.g. user/jane@example.org. Prints
 * the servername and exits 0 when the mailbox exists, exits 1 when it
 * does not, 2 on usage errors or when the murder cannot be asked.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "imap.h"

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *mailbox = NULL;
    const char *server;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(GHashTable) where = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (mailbox == NULL) {
            mailbox = argv[i];
        } else {
            mailbox = NULL;
            break;
        }
    }
    if (config_path == NULL || mailbox == NULL) {
        fprintf(stderr, "usage: kd-mailbox-where -c kolabd.conf MAILBOX\n");
        return 2;
    }
    kd_imap_global_init();
    app = kd_app_new(config_path, &error);
    if (app == NULL ||
        !kd_murder_list_all(kd_app_get_murder(app), &where, &error)) {
        fprintf(stderr, "kd-mailbox-where: %s\n", error->message);
        return 2;
    }
    server = g_hash_table_lookup(where, mailbox);
    if (server == NULL) {
        return 1;
    }
    printf("%s\n", server);
    return 0;
}
