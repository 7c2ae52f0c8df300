/*
 * hooks-exec: finding and running the hook executables of one event
 * directory. Used by hooks.c; see hooks.h for the rules (name order,
 * skipped names, ownership and mode checks, no shell, process group,
 * timeout, bounded output). Nothing here touches the queue.
 */
#ifndef KOLABD_HOOKS_EXEC_H
#define KOLABD_HOOKS_EXEC_H

#include <gio/gio.h>

typedef enum {
    KD_HOOKS_EXEC_OK,        /* exited with status 0 */
    KD_HOOKS_EXEC_FAILED,    /* exited non-zero (code) */
    KD_HOOKS_EXEC_SIGNALED,  /* killed by signal (code) */
    KD_HOOKS_EXEC_TIMEOUT,   /* ran longer than the timeout; killed */
    KD_HOOKS_EXEC_CANCELLED, /* the caller cancelled; killed */
    KD_HOOKS_EXEC_SPAWN,     /* could not be started (code = errno) */
} KdHooksExecStatus;

typedef struct {
    KdHooksExecStatus status;
    int code;     /* exit status, signal number or errno */
    char *output; /* stdout+stderr, first output_max bytes (g_free) */
    gboolean truncated;
    gint64 elapsed_ms;
} KdHooksExecResult;

void kd_hooks_exec_result_clear(KdHooksExecResult *result);

/*
 * FALSE for names that are never hooks: ".*", "*~", "*.dpkg-*", "*.rpmnew"
 * and the like, and names with control characters.
 */
gboolean kd_hooks_exec_name_is_candidate(const char *name);

/*
 * The hooks of @event_dir: full paths of regular, executable files whose
 * names pass kd_hooks_exec_name_is_candidate(), sorted by name (strcmp).
 * A missing @event_dir gives an empty array. Fails (G_IO_ERROR) when the
 * directory cannot be read or fails kd_hooks_exec_check_owner().
 */
GPtrArray *kd_hooks_exec_list(const char *event_dir, GError **error);

/*
 * Refuses (G_IO_ERROR_PERMISSION_DENIED, message naming @path) a file or
 * directory that is group/world-writable or owned by someone else than
 * root or the effective uid. Symlinks are followed.
 */
gboolean kd_hooks_exec_check_owner(const char *path, GError **error);

/*
 * Runs @path with argv {path} and environment @envp, feeds @input
 * (@input_len bytes; a hook that does not read it is fine) on stdin,
 * collects output, and waits up to @timeout_ms. Always fills @result_out.
 */
void kd_hooks_exec_run(const char *path, char *const *envp, const char *input,
                       gsize input_len, guint timeout_ms, gsize output_max,
                       GCancellable *cancellable,
                       KdHooksExecResult *result_out);

/*
 * A one-line summary of @result for logs and veto reasons, e.g.
 * "exited with status 3: <output with newlines as \n>", cut to 512 bytes.
 */
char *kd_hooks_exec_describe(const KdHooksExecResult *result, guint timeout_ms);

#endif /* KOLABD_HOOKS_EXEC_H */
