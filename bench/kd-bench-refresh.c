/*
 * kd-bench-refresh: the syncrepl side alone, for the store benchmark of
 * the syncrepl issue: one cookie-less refreshOnly of everything kolabd's
 * filters select, classified by kolabd's real model and committed to a
 * fresh store, exactly as `kolabd resync` does before it touches IMAP.
 * Prints the wall time, the objects stored and the peak RSS (VmHWM).
 *
 * usage: kd-bench-refresh -c kolabd.conf
 * The config's state_dir must be empty (a fresh store).
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "store.h"

static long
vm_hwm_kib(void)
{
    g_autofree char *status = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL) ||
        (p = strstr(status, "VmHWM:")) == NULL) {
        return -1;
    }
    return strtol(p + strlen("VmHWM:"), NULL, 10);
}

int
main(int argc, char **argv)
{
    const char *config_path = argc == 3 && strcmp(argv[1], "-c") == 0
                                  ? argv[2]
                                  : NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autoptr(KdSync) sync = NULL;
    g_autoptr(KdStore) store = NULL;
    gint64 start, present;

    if (config_path == NULL) {
        fprintf(stderr, "usage: kd-bench-refresh -c kolabd.conf\n");
        return 2;
    }
    app = kd_app_new(config_path, &error);
    if (app == NULL || (sync = kd_app_new_sync(app, &error)) == NULL) {
        fprintf(stderr, "kd-bench-refresh: %s\n", error->message);
        return 1;
    }
    start = g_get_monotonic_time();
    if (!kd_sync_refresh_once(sync, FALSE, NULL, &error)) {
        fprintf(stderr, "kd-bench-refresh: %s\n", error->message);
        return 1;
    }
    store = kd_store_open(kd_app_get_store_path(app), &error);
    present = store ? kd_store_count_objects(store, 1, &error) : -1;
    printf("{\"seconds\":%.3f,\"objects\":%" G_GINT64_FORMAT
           ",\"vm_hwm_kib\":%ld}\n",
           (g_get_monotonic_time() - start) / 1e6, present, vm_hwm_kib());
    return present > 0 ? 0 : 1;
}
