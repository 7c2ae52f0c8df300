/*
 * sandbox.h -- real slapd and Cyrus servers for integration tests.
 *
 * An integration test calls kd_sandbox_start() to get a private,
 * throwaway OpenLDAP slapd (syncprov, the project's schema) and a Cyrus
 * IMAP discrete murder (mupdate master, backend1, backend2, frontend1) or
 * one standalone Cyrus server, all on free 127.0.0.1 ports in a fresh
 * temporary directory.  The work is done by the shell script
 * tests/sandbox/kd-sandbox (found through $KD_SANDBOX, which `make check`
 * sets); this module spawns it without a shell, reads the KEY=value lines
 * it writes to DIR/sandbox.env and offers them through kd_sandbox_get().
 * The keys are listed in tests/sandbox/README.md; the most used ones are
 * LDAP_URI, BASE_DN, ROOT_DN, ROOT_PW_FILE, SERVICE_DN, SERVICE_PW_FILE,
 * BE1_PORT, BE1_SERVERNAME, FE_PORT, CYRUS_ADMIN, CYRUS_ADMIN_PW_FILE.
 * Passwords are only ever handed out as file names.
 *
 * Teardown: kd_sandbox_free() stops every server and removes the
 * directory.  A test that dies before it gets there (a failed cmocka
 * assertion jumps out of the test function, skipping g_autoptr cleanup)
 * still leaves nothing running: sandboxes that were never freed are torn
 * down at exit() -- their directory is kept and its path and the server
 * logs are printed -- and a watchdog started by `kd-sandbox up` tears the
 * sandbox down within a second if the test process is killed.
 *
 * Not thread safe: use one sandbox from one thread.
 */
#ifndef KOLABD_TESTS_SANDBOX_H
#define KOLABD_TESTS_SANDBOX_H

#include <glib.h>

G_BEGIN_DECLS

#define KD_SANDBOX_ERROR (kd_sandbox_error_quark())

typedef enum {
    KD_SANDBOX_ERROR_SETUP,  /* no kd-sandbox script, no temporary dir */
    KD_SANDBOX_ERROR_FAILED, /* kd-sandbox (or ldapmodify) failed */
    KD_SANDBOX_ERROR_ENV,    /* sandbox.env missing or unreadable */
} KdSandboxError;

typedef struct KdSandbox KdSandbox;

/* Options for kd_sandbox_start(); zero-initialise and set what you need. */
typedef struct {
    gboolean single;        /* one standalone Cyrus server "imap" (keys
                               IMAP_PORT, IMAP_SERVERNAME) instead of a
                               murder */
    gboolean no_cyrus;      /* slapd only */
    guint sessionlog;       /* syncprov-sessionlog; 0 = default (10000) */
    gboolean reloadhint;    /* syncprov-reloadhint TRUE */
    const char *data_ldif;  /* extra LDIF file loaded after the base
                               entries, or NULL */
    gboolean tls;           /* up --tls: CA, certificates, imaps listeners
                               (keys TLS_CA_FILE, *_IMAPS_PORT, ...) */
} KdSandboxOptions;

GQuark kd_sandbox_error_quark(void);

/*
 * Starts a sandbox in a new directory under g_get_tmp_dir() and waits
 * until every server is ready.  opts NULL means a murder with defaults.
 * Returns a new sandbox (free with kd_sandbox_free()), or NULL with
 * *error set; kd-sandbox's diagnostics and the server logs then went to
 * stderr.
 */
KdSandbox *kd_sandbox_start(const KdSandboxOptions *opts, GError **error);

/*
 * Returns the value of key from sandbox.env (e.g. "LDAP_URI"), or NULL if
 * the sandbox has no such key.  The string belongs to sb and stays valid
 * until kd_sandbox_free(), even across kd_sandbox_ctl() calls (which
 * re-read sandbox.env, e.g. for a restarted server's new *_PID).
 */
const char *kd_sandbox_get(KdSandbox *sb, const char *key);

/* Like kd_sandbox_get() but fails the test (g_error) if key is missing. */
const char *kd_sandbox_need(KdSandbox *sb, const char *key);

/* kd_sandbox_need() parsed as a port number / decimal integer. */
int kd_sandbox_get_int(KdSandbox *sb, const char *key);

/* The sandbox directory (owned by sb). */
const char *kd_sandbox_dir(KdSandbox *sb);

/*
 * Runs `kd-sandbox args[0] DIR args[1...]`, e.g.
 * {"stop", "backend1", "--kill", NULL}, {"start", "slapd", NULL},
 * {"kick", NULL} or {"slapd-restart", "--sessionlog", "5", NULL}, and
 * re-reads sandbox.env.  args must hold at least the command.  Returns
 * FALSE with *error set if the script fails; the sandbox is then kept at
 * kd_sandbox_free() for inspection.
 */
gboolean kd_sandbox_ctl(KdSandbox *sb, const char *const *args,
                        GError **error);

/*
 * Feeds ldif to ldapmodify (kd_sandbox_ldapmodify) or ldapmodify -a
 * (kd_sandbox_ldapadd) bound as the root DN.  FALSE with *error set if
 * ldapmodify fails; its messages went to stderr.
 */
gboolean kd_sandbox_ldapmodify(KdSandbox *sb, const char *ldif,
                               GError **error);
gboolean kd_sandbox_ldapadd(KdSandbox *sb, const char *ldif,
                            GError **error);

/* Reads the whole password file named by key (e.g. "SERVICE_PW_FILE").
 * Returns a new string (g_free) or NULL with *error set. */
char *kd_sandbox_read_secret(KdSandbox *sb, const char *key, GError **error);

/* Marks the sandbox as failed: kd_sandbox_free() keeps its directory. */
void kd_sandbox_keep(KdSandbox *sb);

/* Prints the tail of every server log to stderr. */
void kd_sandbox_print_logs(KdSandbox *sb);

/*
 * Stops all servers of sb and frees it.  The directory is removed unless
 * the sandbox was marked failed (kd_sandbox_keep(), a failed
 * kd_sandbox_ctl()/ldapmodify) or $KD_SANDBOX_KEEP is set; a kept
 * directory's path is printed to stderr.  Accepts NULL.
 */
void kd_sandbox_free(KdSandbox *sb);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSandbox, kd_sandbox_free)

G_END_DECLS

#endif /* KOLABD_TESTS_SANDBOX_H */
