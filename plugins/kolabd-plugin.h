/*
 * kolabd-plugin: the API of kolabd placement plugins (installed header).
 *
 * kolabd asks placement only when a mailbox has no home yet: which Cyrus
 * backend should hold it? The answer is a policy, and each policy is a
 * shared object in kolabd's plugin directory (`pkg-config --variable=
 * plugindir kolabd-plugin`), named placement-NAME.so. The operator lists
 * the policies to ask in order ([kolabd] placement = attribute, domain,
 * least-used) and configures each in its own group ([placement NAME]).
 * The first plugin with an opinion decides; a plugin answers
 * KOLABD_PLACEMENT_NO_OPINION to let the next one decide.
 *
 * A plugin exports exactly one symbol, a const KolabdPlacementPlugin named
 * kolabd_placement_plugin. Start it with KOLABD_PLACEMENT_PLUGIN_HEADER so
 * that kolabd can refuse a plugin built for another ABI:
 *
 *     KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin
 *     kolabd_placement_plugin = {
 *         KOLABD_PLACEMENT_PLUGIN_HEADER,
 *         .name = "my",
 *         .init = my_init, .choose = my_choose, .deinit = my_deinit,
 *     };
 *
 * The API is plain C (C99, no GLib): the host passes in everything a plugin
 * may call (logging, request accessors) as a KolabdHost, and errors travel
 * back as text in a KolabdError the host provides. The host never calls
 * one plugin state from two threads at once.
 *
 * Compatibility: KOLABD_PLACEMENT_ABI_VERSION changes whenever a field of a
 * struct here changes meaning or place. New fields are only ever appended;
 * the host reads a plugin's struct_size so that an older plugin keeps
 * working, and a plugin must check host->struct_size before using a host
 * field that is newer than KolabdHost of ABI version 1.
 */
#ifndef KOLABD_PLUGIN_H
#define KOLABD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KOLABD_PLACEMENT_ABI_VERSION 1u

#if defined(__GNUC__) || defined(__clang__)
#define KOLABD_PLUGIN_EXPORT __attribute__((visibility("default")))
#define KOLABD_PLUGIN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KOLABD_PLUGIN_EXPORT
#define KOLABD_PLUGIN_PRINTF(f, a)
#endif

/* ---- errors --------------------------------------------------------- */

#define KOLABD_ERROR_MAX 512

/*
 * Where a plugin explains a failure. The host clears message[0] before
 * each call; a plugin that fails writes one line of text (no trailing
 * newline) that names what is wrong, e.g. "backend 'imap9' is not
 * configured". The host adds the plugin's name.
 */
typedef struct KolabdError {
    char message[KOLABD_ERROR_MAX];
} KolabdError;

/* Formats into @error (truncating); accepts a NULL @error. */
static inline void kolabd_error_set(KolabdError *error, const char *format, ...)
    KOLABD_PLUGIN_PRINTF(2, 3);

static inline void
kolabd_error_set(KolabdError *error, const char *format, ...)
{
    va_list args;

    if (error == NULL) {
        return;
    }
    va_start(args, format);
    vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
}

/* ---- configuration -------------------------------------------------- */

/* One key = value line of the plugin's [placement NAME] group. */
typedef struct KolabdConfigItem {
    const char *key;
    const char *value;
} KolabdConfigItem;

/*
 * The plugin's configuration group, owned by the host and valid only
 * during the call it is passed to (copy what you keep). Keys are unique.
 */
typedef struct KolabdConfig {
    const char *group; /* "placement NAME", for messages */
    size_t n_items;
    const KolabdConfigItem *items;
} KolabdConfig;

/* The value of @key in @config, or NULL when the key is absent. */
static inline const char *
kolabd_config_get(const KolabdConfig *config, const char *key)
{
    size_t i;

    for (i = 0; config != NULL && i < config->n_items; i++) {
        if (strcmp(config->items[i].key, key) == 0) {
            return config->items[i].value;
        }
    }
    return NULL;
}

/* ---- the request: the mailbox that needs a home --------------------- */

typedef enum KolabdPlacementKind {
    KOLABD_PLACEMENT_KIND_USER = 1,   /* user/...: a kolabInetOrgPerson */
    KOLABD_PLACEMENT_KIND_SHARED = 2, /* shared/...: a kolabSharedFolder */
} KolabdPlacementKind;

/* Opaque; read it through the host's request_* functions below. */
typedef struct KolabdPlacementRequest KolabdPlacementRequest;

/* ---- the backends to choose from ------------------------------------ */

/*
 * One Cyrus backend as the host sees it now. The host passes an array of
 * pointers so that this struct may grow at its end.
 */
typedef struct KolabdBackend {
    const char *name;       /* [backend NAME] in kolabd.conf; unique */
    const char *servername; /* Cyrus servername, the value of mailHost */
    unsigned int weight;    /* relative capacity; 0 takes nothing new */
    uint64_t mailbox_count; /* mailboxes it holds (top-level ones) */
    int up;                 /* 0: down; a plugin must never choose it */
    int64_t free_kib;       /* free space in KiB, -1 when unknown */
} KolabdBackend;

/* ---- the host ------------------------------------------------------- */

typedef enum KolabdLogLevel {
    KOLABD_LOG_ERROR = 3,
    KOLABD_LOG_WARNING = 4,
    KOLABD_LOG_INFO = 6,
    KOLABD_LOG_DEBUG = 7,
} KolabdLogLevel;

/*
 * What kolabd offers a plugin; passed to init, valid until deinit. Every
 * function pointer is set. Strings returned are owned by the host and stay
 * valid during the choose call that received the request.
 */
typedef struct KolabdHost {
    unsigned int abi_version; /* KOLABD_PLACEMENT_ABI_VERSION of kolabd */
    size_t struct_size;       /* sizeof(KolabdHost) in kolabd */

    /* Logs one line (no newline) under the plugin's name. */
    void (*log)(const struct KolabdHost *host, KolabdLogLevel level,
                const char *message);

    /*
     * 1 when a [backend NAME] group exists, 0 when it does not, -1 when
     * the host does not know (it was given no backend list). For init
     * and reload, to refuse a misspelt backend early.
     */
    int (*backend_known)(const struct KolabdHost *host, const char *name);

    KolabdPlacementKind (*request_kind)(const KolabdPlacementRequest *r);
    /* Primary address, lower-cased; NULL for a shared folder without. */
    const char *(*request_mail)(const KolabdPlacementRequest *r);
    /* Mail domain, lower-cased; NULL when unknown. */
    const char *(*request_domain)(const KolabdPlacementRequest *r);
    /* Mailbox in the admin namespace, e.g. "user/jane@example.org". */
    const char *(*request_mailbox)(const KolabdPlacementRequest *r);
    /*
     * First value of the LDAP attribute @name (case-insensitive) of the
     * object, or NULL when absent or when kolabd does not keep it.
     */
    const char *(*request_attribute)(const KolabdPlacementRequest *r,
                                     const char *name);

    void *host_data; /* the host's; a plugin must not touch it */
} KolabdHost;

/* Formats and logs one line through @host. */
static inline void kolabd_host_log(const KolabdHost *host, KolabdLogLevel level,
                                   const char *format, ...)
    KOLABD_PLUGIN_PRINTF(3, 4);

static inline void
kolabd_host_log(const KolabdHost *host, KolabdLogLevel level,
                const char *format, ...)
{
    char line[KOLABD_ERROR_MAX];
    va_list args;

    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    host->log(host, level, line);
}

/* ---- the plugin ----------------------------------------------------- */

/* What choose returns. */
typedef enum KolabdPlacementResult {
    KOLABD_PLACEMENT_ERROR = -1,     /* failed; error says why; retried */
    KOLABD_PLACEMENT_CHOSEN = 0,     /* *choice_out is set */
    KOLABD_PLACEMENT_NO_OPINION = 1, /* let the next plugin decide */
} KolabdPlacementResult;

typedef struct KolabdPlacementPlugin {
    /* Set both with KOLABD_PLACEMENT_PLUGIN_HEADER. */
    unsigned int abi_version;
    size_t struct_size;

    /* Must equal NAME in the file name placement-NAME.so. */
    const char *name;

    /*
     * NULL-terminated list of the keys init accepts; kolabd refuses any
     * other key in [placement NAME]. NULL: the plugin checks keys itself.
     */
    const char *const *config_keys;

    /*
     * Validates @config and returns a new state, or NULL with @error set.
     * A plugin without state returns any non-NULL pointer. Keep @host
     * (it stays valid until deinit); copy what you need from @config.
     */
    void *(*init)(const KolabdHost *host, const KolabdConfig *config,
                  KolabdError *error);

    /*
     * Chooses one of @backends (@n_backends >= 1) for @request: stores
     * its index in *@choice_out and returns KOLABD_PLACEMENT_CHOSEN, or
     * returns KOLABD_PLACEMENT_NO_OPINION, or KOLABD_PLACEMENT_ERROR
     * with @error set (kolabd retries the mailbox later). A backend with
     * up == 0 must never be chosen. Must not block on the network.
     */
    KolabdPlacementResult (*choose)(void *state,
                                    const KolabdPlacementRequest *request,
                                    const KolabdBackend *const *backends,
                                    size_t n_backends, size_t *choice_out,
                                    KolabdError *error);

    /*
     * Optional (NULL: kolabd replaces the state with init and deinit).
     * Switches @state to the new @config. All or nothing: on failure,
     * return -1 with @error set and @state unchanged; 0 on success.
     */
    int (*reload)(void *state, const KolabdConfig *config, KolabdError *error);

    /* Frees @state. */
    void (*deinit)(void *state);
} KolabdPlacementPlugin;

#define KOLABD_PLACEMENT_PLUGIN_HEADER                                         \
    .abi_version = KOLABD_PLACEMENT_ABI_VERSION,                               \
    .struct_size = sizeof(KolabdPlacementPlugin)

/* The one symbol a plugin defines (with KOLABD_PLUGIN_EXPORT). */
extern const KolabdPlacementPlugin kolabd_placement_plugin;

#ifdef __cplusplus
}
#endif

#endif /* KOLABD_PLUGIN_H */
