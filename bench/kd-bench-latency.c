/*
 * kd-bench-latency: steady-state latency of kolabd, from "LDAP add
 * returned" to "mailHost visible in LDAP".
 *
 *   kd-bench-latency -c kolabd.conf --root-dn DN --root-pw-file FILE
 *                    [--count 500] [--rate 20] [--prefix lat]
 *                    [--domain example.org] [--timeout 120]
 *
 * Adds @count users uid=PREFIX-NNNNN,ou=People,BASE at @rate per second
 * as the root DN, and between adds polls LDAP (as kolabd's bind DN) every
 * 10 ms for the mailHost of the entries still pending, with one search
 * whose filter names only those (at most 200 at a time), so that polling
 * costs slapd little. Prints one JSON line with p50/p90/p99/max in ms;
 * exit 1 when some entry never got a mailHost before the timeout.
 * Single-threaded; every loop is bounded by the timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "app.h"

#define POLL_US 10000
#define POLL_MAX 200
/* libldap takes char * for strings it never writes. */
#define S(literal) ((char *)(literal))

typedef struct {
    gint64 added_us; /* 0: not yet added */
    gint64 seen_us;  /* 0: no mailHost yet */
} Sample;

static char *
read_secret(const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &text, NULL, &error)) {
        fprintf(stderr, "kd-bench-latency: %s\n", error->message);
        return NULL;
    }
    return g_strdup(g_strchomp(text));
}

static gboolean
add_user(LDAP *ld, const char *base, const char *prefix, const char *domain,
         guint i)
{
    g_autofree char *uid = g_strdup_printf("%s-%05u", prefix, i);
    g_autofree char *dn = g_strdup_printf("uid=%s,ou=People,%s", uid, base);
    g_autofree char *mail = g_strdup_printf("%s@%s", uid, domain);
    char *oc[] = {S("inetOrgPerson"), S("kolabInetOrgPerson"),
                  S("mailRecipient"), NULL};
    char *uidv[] = {uid, NULL};
    char *cnv[] = {uid, NULL};
    char *snv[] = {S("Latency"), NULL};
    char *mailv[] = {mail, NULL};
    LDAPMod m[] = {{LDAP_MOD_ADD, S("objectClass"), {oc}},
                   {LDAP_MOD_ADD, S("uid"), {uidv}},
                   {LDAP_MOD_ADD, S("cn"), {cnv}},
                   {LDAP_MOD_ADD, S("sn"), {snv}},
                   {LDAP_MOD_ADD, S("mail"), {mailv}}};
    LDAPMod *mods[] = {&m[0], &m[1], &m[2], &m[3], &m[4], NULL};
    int rc = ldap_add_ext_s(ld, dn, mods, NULL, NULL);

    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "kd-bench-latency: add %s: %s\n", dn,
                ldap_err2string(rc));
        return FALSE;
    }
    return TRUE;
}

/* One search for the mailHost of the pending entries; marks those seen. */
static gboolean
poll_once(LDAP *ld, const char *base, const char *attr, const char *prefix,
          Sample *s, guint added)
{
    g_autoptr(GString) filter = g_string_new(NULL);
    g_autofree char *people = g_strdup_printf("ou=People,%s", base);
    char *attrs[] = {S("uid"), NULL};
    LDAPMessage *res = NULL;
    guint n = 0;
    gint64 now;
    int rc;

    g_string_printf(filter, "(&(%s=*)(|", attr);
    for (guint i = 0; i < added && n < POLL_MAX; i++) {
        if (s[i].seen_us == 0) {
            g_string_append_printf(filter, "(uid=%s-%05u)", prefix, i);
            n++;
        }
    }
    if (n == 0) {
        return TRUE;
    }
    g_string_append(filter, "))");
    rc = ldap_search_ext_s(ld, people, LDAP_SCOPE_ONELEVEL, filter->str,
                           attrs, 0, NULL, NULL, NULL, 0, &res);
    now = g_get_monotonic_time();
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "kd-bench-latency: poll: %s\n", ldap_err2string(rc));
        ldap_msgfree(res);
        return FALSE;
    }
    for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL;
         e = ldap_next_entry(ld, e)) {
        struct berval **v = ldap_get_values_len(ld, e, "uid");
        const char *dash;

        if (v != NULL && v[0] != NULL &&
            (dash = strrchr(v[0]->bv_val, '-')) != NULL) {
            guint i = (guint)strtoul(dash + 1, NULL, 10);

            if (i < added && s[i].seen_us == 0) {
                s[i].seen_us = now;
            }
        }
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
    return TRUE;
}

static int
cmp_gint64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const gint64 *v, guint n, double p)
{
    guint i = (guint)(p * (n - 1) + 0.5);

    return n == 0 ? -1 : v[MIN(i, n - 1)] / 1000.0;
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL, *root_dn = NULL, *root_pw_file = NULL;
    const char *prefix = "lat", *domain = "example.org";
    guint count = 500, rate = 20, timeout_s = 120, added = 0, seen = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(KdApp) app = NULL;
    g_autofree char *root_pw = NULL;
    g_autofree Sample *s = NULL;
    g_autofree gint64 *lat = NULL;
    KdSyncParams params;
    KdLdapParams root;
    LDAP *adder, *poller;
    gint64 start, deadline;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-c") == 0) {
            config_path = argv[i + 1];
        } else if (strcmp(argv[i], "--root-dn") == 0) {
            root_dn = argv[i + 1];
        } else if (strcmp(argv[i], "--root-pw-file") == 0) {
            root_pw_file = argv[i + 1];
        } else if (strcmp(argv[i], "--count") == 0) {
            count = (guint)atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rate") == 0) {
            rate = (guint)atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--prefix") == 0) {
            prefix = argv[i + 1];
        } else if (strcmp(argv[i], "--domain") == 0) {
            domain = argv[i + 1];
        } else if (strcmp(argv[i], "--timeout") == 0) {
            timeout_s = (guint)atoi(argv[i + 1]);
        }
    }
    if (config_path == NULL || root_dn == NULL || root_pw_file == NULL ||
        count == 0 || rate == 0) {
        fprintf(stderr, "usage: kd-bench-latency -c CONF --root-dn DN "
                        "--root-pw-file FILE [--count N] [--rate R]\n");
        return 2;
    }
    app = kd_app_new(config_path, &error);
    if (app == NULL || (root_pw = read_secret(root_pw_file)) == NULL) {
        fprintf(stderr, "kd-bench-latency: %s\n",
                error ? error->message : "no root password");
        return 2;
    }
    kd_app_sync_params(app, &params);
    root = params.ldap;
    root.bind_dn = root_dn;
    root.bind_pw = root_pw;
    adder = kd_ldap_connect(&root, &error);
    poller = adder ? kd_ldap_connect(&params.ldap, &error) : NULL;
    if (poller == NULL) {
        fprintf(stderr, "kd-bench-latency: %s\n", error->message);
        return 2;
    }
    s = g_new0(Sample, count);
    start = g_get_monotonic_time();
    deadline = start + (gint64)count * G_USEC_PER_SEC / rate +
               (gint64)timeout_s * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        gint64 now = g_get_monotonic_time();
        gint64 next_add = start + (gint64)added * G_USEC_PER_SEC / rate;

        if (added < count && now >= next_add) {
            if (!add_user(adder, params.base, prefix, domain, added)) {
                return 2;
            }
            s[added++].added_us = g_get_monotonic_time();
            continue;
        }
        if (!poll_once(poller, params.base,
                       kd_app_get_config(app)->mailserver_attribute, prefix,
                       s, added)) {
            return 2;
        }
        seen = 0;
        for (guint i = 0; i < added; i++) {
            seen += s[i].seen_us != 0;
        }
        if (added == count && seen == count) {
            break;
        }
        now = g_get_monotonic_time();
        g_usleep(added < count ? CLAMP(next_add - now, 0, POLL_US) : POLL_US);
    }
    ldap_unbind_ext(adder, NULL, NULL);
    ldap_unbind_ext(poller, NULL, NULL);
    lat = g_new0(gint64, MAX(count, 1));
    seen = 0;
    for (guint i = 0; i < added; i++) {
        if (s[i].seen_us != 0) {
            lat[seen++] = s[i].seen_us - s[i].added_us;
        }
    }
    qsort(lat, seen, sizeof(gint64), cmp_gint64);
    printf("{\"adds\":%u,\"rate\":%u,\"visible\":%u,\"p50_ms\":%.1f,"
           "\"p90_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
           "\"poll_interval_ms\":%d,\"seconds\":%.3f}\n",
           added, rate, seen, pct(lat, seen, 0.5), pct(lat, seen, 0.9),
           pct(lat, seen, 0.99), seen ? lat[seen - 1] / 1000.0 : -1.0,
           POLL_US / 1000, (g_get_monotonic_time() - start) / 1e6);
    return seen == count ? 0 : 1;
}
