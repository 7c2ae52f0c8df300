/* cli: see cli.h. Global options and dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imap.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: kolabd [-c FILE] [-f] [-d LEVEL]\n"
            "       kolabd resync [-c FILE] [--dry-run] [--json] [--fast] "
            "[MAIL...]\n"
            "       kolabd status [-c FILE] [--json]\n"
            "       kolabd check-config [-c FILE]\n"
            "       kolabd --version\n");
}

int
kd_cli_main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *command = NULL;
    g_autoptr(GPtrArray) rest = g_ptr_array_new();
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (++i >= argc) {
                usage(stderr);
                return KD_EXIT_USAGE;
            }
            config_path = argv[i];
        } else if (g_str_has_prefix(a, "--config=")) {
            config_path = a + strlen("--config=");
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return KD_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("kolabd %s\n", PACKAGE_VERSION);
            return KD_EXIT_OK;
        } else if (command == NULL && rest->len == 0 &&
                   (strcmp(a, "resync") == 0 || strcmp(a, "status") == 0 ||
                    strcmp(a, "check-config") == 0 ||
                    strcmp(a, "daemon") == 0)) {
            command = a;
            g_ptr_array_add(rest, (char *)a);
        } else {
            if (rest->len == 0) {
                g_ptr_array_add(rest, (char *)"daemon");
            }
            g_ptr_array_add(rest, (char *)a);
        }
    }
    if (rest->len == 0) {
        g_ptr_array_add(rest, (char *)"daemon");
    }
    g_ptr_array_add(rest, NULL);
    command = g_ptr_array_index(rest, 0);

    /* Before any thread starts (libetpan's globals, SIGPIPE). */
    kd_imap_global_init();

    if (strcmp(command, "resync") == 0) {
        return kd_cli_resync(config_path, (int)rest->len - 1,
                             (char **)rest->pdata);
    }
    if (strcmp(command, "status") == 0) {
        return kd_cli_status(config_path, (int)rest->len - 1,
                             (char **)rest->pdata);
    }
    if (strcmp(command, "check-config") == 0) {
        return kd_cli_check_config(config_path, (int)rest->len - 1,
                                   (char **)rest->pdata);
    }
    return kd_cli_daemon(config_path, (int)rest->len - 1,
                         (char **)rest->pdata);
}
