/*
 * config: kolabd's configuration file, /etc/kolab/kolabd.conf by default.
 *
 * Everything kolabd reads from the file is declared once, in the option
 * table in config.c (section, key, type, default, description); the
 * parser, the defaults, kd_config_dump() and the documentation all come
 * from that table. Keys shared with pykolab's kolab.conf keep their
 * section, name and meaning (notes/kolab.md 2).
 *
 * The file is INI as read by GKeyFile, but values are taken raw (no
 * GKeyFile escape processing, so LDAP filters keep their backslashes) and
 * stripped of surrounding blanks. Because GKeyFile does not report line
 * numbers, the file is also scanned line by line, and every message names
 * `file:LINE: [section] key: reason`. Unknown sections and keys give
 * warnings (kd_config_warnings()); bad values, unreadable secret files and
 * syntax errors are errors, all of them collected into one GError, one
 * line each. Passwords never appear in messages or in kd_config_dump().
 *
 * Repeated groups: [backend NAME] (one per Cyrus backend), [placement
 * NAME] (free-form keys for the placement plugin NAME) and [folder NAME]
 * (default folders; when at least one exists they replace Kolab's default
 * list, see folders.h).
 */
#ifndef KOLABD_CONFIG_H
#define KOLABD_CONFIG_H

#include <glib.h>

#define KD_CONFIG_ERROR (kd_config_error_quark())
GQuark kd_config_error_quark(void);

typedef enum {
    KD_CONFIG_ERROR_READ,    /* the file (or a *_file secret) is unreadable */
    KD_CONFIG_ERROR_INVALID, /* syntax or value errors; see the message */
} KdConfigError;

#define KD_CONFIG_DEFAULT_PATH KD_SYSCONFDIR "/kolab/kolabd.conf"

typedef enum {
    KD_DELETE_KEEP,    /* never delete mailboxes; report them */
    KD_DELETE_DELAYED, /* delete after delete_grace seconds */
    KD_DELETE_DELETE,  /* delete as soon as the guard allows */
} KdDeleteMode;

typedef enum {
    KD_TRISTATE_AUTO,
    KD_TRISTATE_YES,
    KD_TRISTATE_NO,
} KdTristate;

/* One [backend NAME] group. */
typedef struct {
    char *name;
    char *uri;        /* imap:// or imaps:// */
    char *servername; /* Cyrus servername = mailHost; default host[:port]
                       * of uri */
    char *partition;  /* NULL: the backend's default partition */
    guint64 weight;   /* relative share for placement, default 100 */
} KdBackendConfig;

/* One [placement NAME] group: key -> raw value, for plugin NAME. */
typedef struct {
    char *name;
    GHashTable *keys; /* char* -> char*, owned */
} KdPlacementConfig;

typedef struct KdConfigSource KdConfigSource;

typedef struct {
    char *path; /* the file that was read */

    /* [ldap] */
    char *ldap_uri; /* one or more space-separated ldap/ldaps/ldapi URIs */
    char *base_dn;
    char *bind_dn;
    char *bind_pw; /* from bind_pw or bind_pw_file; NULL if neither */
    char *user_filter;        /* kolab_user_filter, canonical */
    char *sharedfolder_filter; /* canonical */
    char *mailserver_attribute; /* attribute names: lower-case */
    char *quota_attribute;
    char *acl_attribute;           /* sharedfolder_acl_entry_attribute */
    char *folder_type_attribute;   /* sharedfolder_type_attribute */
    char *delivery_address_attribute; /* sharedfolder_delivery_address_... */
    guint64 ldap_timeout;          /* seconds */
    guint64 ldap_keepalive_idle;     /* seconds */
    guint64 ldap_keepalive_interval; /* seconds */
    guint64 ldap_keepalive_probes;
    guint64 ldap_tcp_user_timeout;  /* seconds */
    guint64 ldap_watchdog_interval; /* seconds, 0: off */

    /* [cyrus-imap] */
    char *imap_uri; /* frontend (or single server) */
    char *admin_login;
    char *admin_password;
    char *imap_tls_ca_file; /* NULL: system trust store */
    gboolean imap_starttls; /* imap:// URIs must use STARTTLS */

    /* [kolab] */
    char *primary_domain; /* lower-case */
    gint64 default_quota; /* KiB > 0, KD_QUOTA_UNLIMITED or KD_QUOTA_UNSET */

    /* [kolabd] */
    char *state_dir;
    char **placement; /* plugin chain, NULL-terminated, may be empty */
    char *plugin_dir;
    char *hooks_dir;
    KdDeleteMode delete_mode;
    guint64 delete_grace;             /* seconds */
    guint64 delete_threshold;         /* objects; 0 = no count limit */
    guint64 delete_threshold_percent; /* 0 = no percentage limit */
    guint64 workers_per_backend;
    char *user;
    char *group;
    guint64 hook_timeout; /* seconds */
    KdTristate annotate_shared_folders;

    /* [murder] */
    char *mupdate_uri;  /* mupdate://host[:port], or NULL */
    char *frontend_uri; /* imap(s):// of a frontend, default imap_uri */
    char *mupdate_user;
    char *mupdate_password;
    gboolean mupdate_starttls; /* STARTTLS to the mupdate master */

    /* repeated groups, in file order */
    GPtrArray *backends;   /* KdBackendConfig* */
    GPtrArray *placements; /* KdPlacementConfig* */
    GPtrArray *folders;    /* KdFolderSpec* (folders.h): configured ones,
                            * or Kolab's defaults */
    gboolean folders_configured;

    KdConfigSource *source; /* private: line map and warnings */
} KdConfig;

/* Types of the option table, for kd_config_options(). */
typedef enum {
    KD_OPT_STRING,
    KD_OPT_SECRET,      /* a password; never printed */
    KD_OPT_SECRET_FILE, /* file holding the secret named in `extra` */
    KD_OPT_URI,         /* `extra`: allowed schemes, comma-separated */
    KD_OPT_URI_LIST,    /* space-separated URIs */
    KD_OPT_FILTER,      /* RFC 4515 filter, validated by filter.c */
    KD_OPT_ATTRIBUTE,   /* LDAP attribute name, stored lower-case */
    KD_OPT_DOMAIN,      /* DNS domain, stored lower-case */
    KD_OPT_PATH,        /* absolute path */
    KD_OPT_NAME,        /* user/group/identifier: no blanks or controls */
    KD_OPT_ATOM,        /* Cyrus partition name */
    KD_OPT_UINT,        /* `extra`: "min-max" */
    KD_OPT_DURATION,    /* 30, 30s, 5m, 2h, 7d, 1w or sums like 1d12h */
    KD_OPT_QUOTA,       /* KiB; -1 unlimited; 0 = unset */
    KD_OPT_FOLDER_QUOTA, /* KiB; 0 = own quota root without limit */
    KD_OPT_ENUM,        /* `extra`: values separated by '|' */
    KD_OPT_BOOL,        /* true/false/yes/no/1/0/on/off */
    KD_OPT_LIST,        /* names separated by ',', ';' or blanks */
    KD_OPT_FOLDER_TYPE, /* folder-type annotation value */
    KD_OPT_ACL,         /* ';'-separated "subject rights" (acl.h) */
} KdOptionType;

typedef struct {
    const char *section; /* "ldap", ... or "backend" for [backend NAME] */
    const char *key;
    KdOptionType type;
    const char *def;     /* default as it would be written, or NULL */
    const char *extra;   /* type-specific, see KdOptionType */
    const char *description;
    gsize offset;        /* field in KdConfig or the group's struct */
} KdOption;

/* The option table (fixed sections, then backend and folder groups). */
const KdOption *kd_config_options(guint *n_out);

/*
 * Reads @path. Returns a new config, or NULL with @error set:
 * KD_CONFIG_ERROR_READ when the file cannot be read, else
 * KD_CONFIG_ERROR_INVALID with one "file:LINE: ..." line per problem.
 */
KdConfig *kd_config_load(const char *path, GError **error);

/* Frees @config; accepts NULL. Secrets are wiped before freeing. */
void kd_config_free(KdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdConfig, kd_config_free)

/* Warnings from loading ("file:LINE: ..."), owned by @config. */
const GPtrArray *kd_config_warnings(const KdConfig *config);

/*
 * "file:LINE" of @key in [@group] (@key NULL: the group header), or just
 * "file" when absent from the file. Newly allocated. For plugins that
 * validate their own [placement NAME] keys.
 */
char *kd_config_where(const KdConfig *config, const char *group,
                      const char *key);

/* The backend called @name, or NULL. */
const KdBackendConfig *kd_config_find_backend(const KdConfig *config,
                                              const char *name);
/* The backend whose servername is @servername (ASCII case-insensitive). */
const KdBackendConfig *
kd_config_find_backend_by_servername(const KdConfig *config,
                                     const char *servername);
/* The [placement @name] group, or NULL when the file has none. */
const KdPlacementConfig *kd_config_find_placement(const KdConfig *config,
                                                  const char *name);

/*
 * The filter kolabd gives the syncrepl search: "(|USER SHARED)" from the
 * canonical forms of both filters. Newly allocated.
 */
char *kd_config_sync_filter(const KdConfig *config);

/*
 * The effective configuration as INI text (every option with its value,
 * defaults included, secrets shown as "<hidden>"), for check-config.
 * Newly allocated.
 */
char *kd_config_dump(const KdConfig *config);

/*
 * Problems that do not stop loading but will stop kolabd from working
 * (no admin password, bind DN without password, backends with the same
 * servername, a placement chain naming a plugin that is not a valid
 * name, ...). Returns a new array of messages (empty when fine).
 */
GPtrArray *kd_config_check(const KdConfig *config);

#endif /* KOLABD_CONFIG_H */
