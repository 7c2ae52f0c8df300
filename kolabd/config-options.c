/* config-options: the option table of config.h, kept apart from the parser
 * so that the whole user-facing surface can be read in one place. */
#include <stddef.h>

#include "config.h"
#include "folders.h"

#define C(field) offsetof(KdConfig, field)
#define B(field) offsetof(KdBackendConfig, field)
#define F(field) offsetof(KdFolderSpec, field)

static const KdOption options[] = {
    /* [ldap] */
    {"ldap", "ldap_uri", KD_OPT_URI_LIST, "ldap://localhost:389",
     "ldap,ldaps,ldapi", "LDAP server(s) for the sync, reads and writes",
     C(ldap_uri)},
    {"ldap", "base_dn", KD_OPT_STRING, "dc=example,dc=org", NULL,
     "search base of the sync", C(base_dn)},
    {"ldap", "bind_dn", KD_OPT_STRING, NULL, NULL,
     "DN kolabd binds as (needs read and syncrepl access, and write "
     "access to the mail server attribute)",
     C(bind_dn)},
    {"ldap", "bind_pw", KD_OPT_SECRET, NULL, NULL,
     "password of bind_dn (prefer bind_pw_file)", C(bind_pw)},
    {"ldap", "bind_pw_file", KD_OPT_SECRET_FILE, NULL, "bind_pw",
     "file holding the password of bind_dn", C(bind_pw)},
    {"ldap", "kolab_user_filter", KD_OPT_FILTER,
     "(objectclass=kolabinetorgperson)", NULL, "which entries are users",
     C(user_filter)},
    {"ldap", "sharedfolder_filter", KD_OPT_FILTER,
     "(objectclass=kolabsharedfolder)", NULL,
     "which entries are shared folders", C(sharedfolder_filter)},
    {"ldap", "mailserver_attribute", KD_OPT_ATTRIBUTE, "mailhost", NULL,
     "attribute kolabd keeps equal to the backend's servername",
     C(mailserver_attribute)},
    {"ldap", "quota_attribute", KD_OPT_ATTRIBUTE, "mailquota", NULL,
     "user quota in KiB", C(quota_attribute)},
    {"ldap", "sharedfolder_acl_entry_attribute", KD_OPT_ATTRIBUTE, "acl",
     NULL, "shared folder ACL entries", C(acl_attribute)},
    {"ldap", "sharedfolder_type_attribute", KD_OPT_ATTRIBUTE,
     "kolabfoldertype", NULL, "shared folder type annotation",
     C(folder_type_attribute)},
    {"ldap", "sharedfolder_delivery_address_attribute", KD_OPT_ATTRIBUTE,
     "mail", NULL,
     "when a shared folder has this attribute, anyone gets the post right",
     C(delivery_address_attribute)},
    {"ldap", "timeout", KD_OPT_DURATION, "10", NULL,
     "network and operation timeout of LDAP requests", C(ldap_timeout)},
    {"ldap", "keepalive_idle", KD_OPT_DURATION, "60", NULL,
     "idle time before TCP keepalive probes start on LDAP connections",
     C(ldap_keepalive_idle)},
    {"ldap", "keepalive_interval", KD_OPT_DURATION, "10", NULL,
     "time between TCP keepalive probes", C(ldap_keepalive_interval)},
    {"ldap", "keepalive_probes", KD_OPT_UINT, "5", "1-100",
     "unanswered keepalive probes before the connection is dropped",
     C(ldap_keepalive_probes)},
    {"ldap", "tcp_user_timeout", KD_OPT_DURATION, "120", NULL,
     "time sent data may stay unacknowledged before the connection is "
     "dropped (TCP_USER_TIMEOUT)",
     C(ldap_tcp_user_timeout)},
    {"ldap", "watchdog_interval", KD_OPT_DURATION, "60", NULL,
     "while the sync connection is silent, read the provider's contextCSN "
     "this often and reconnect when the provider is ahead or does not "
     "answer (0: off)",
     C(ldap_watchdog_interval)},
    /* [cyrus-imap] */
    {"cyrus-imap", "uri", KD_OPT_URI, "imaps://localhost:993", "imap,imaps",
     "IMAP frontend (or the single server without a murder)", C(imap_uri)},
    {"cyrus-imap", "admin_login", KD_OPT_NAME, "cyrus-admin", NULL,
     "Cyrus admin user", C(admin_login)},
    {"cyrus-imap", "admin_password", KD_OPT_SECRET, NULL, NULL,
     "password of admin_login (prefer admin_password_file)",
     C(admin_password)},
    {"cyrus-imap", "admin_password_file", KD_OPT_SECRET_FILE, NULL,
     "admin_password", "file holding the password of admin_login",
     C(admin_password)},
    {"cyrus-imap", "tls_ca_file", KD_OPT_PATH, NULL, NULL,
     "PEM file with the CA certificate(s) that IMAP servers' certificates "
     "must chain to, instead of the system trust store (every IMAP "
     "connection: frontend and backends)",
     C(imap_tls_ca_file)},
    {"cyrus-imap", "starttls", KD_OPT_BOOL, "false", NULL,
     "imap:// URIs must upgrade with STARTTLS (verified like imaps://)",
     C(imap_starttls)},
    /* [kolab] */
    {"kolab", "primary_domain", KD_OPT_DOMAIN, "example.org", NULL,
     "domain of shared folders whose entry has no mail address",
     C(primary_domain)},
    {"kolab", "default_quota", KD_OPT_QUOTA, NULL, NULL,
     "quota in KiB for users without one (-1 unlimited, 0 or unset: "
     "leave the mailbox alone)",
     C(default_quota)},
    /* [kolabd] */
    {"kolabd", "state_dir", KD_OPT_PATH, KD_LOCALSTATEDIR "/lib/kolabd",
     NULL, "directory of the state database", C(state_dir)},
    {"kolabd", "placement", KD_OPT_LIST, "attribute, hash", NULL,
     "placement plugins asked in order where a new mailbox goes",
     C(placement)},
    {"kolabd", "plugin_dir", KD_OPT_PATH, KD_PLUGINDIR, NULL,
     "directory of placement plugins", C(plugin_dir)},
    {"kolabd", "hooks_dir", KD_OPT_PATH, KD_SYSCONFDIR "/kolab/kolabd-hooks",
     NULL, "directory with EVENT.d/ subdirectories of hook programs",
     C(hooks_dir)},
    {"kolabd", "delete_mode", KD_OPT_ENUM, "delayed", "keep|delayed|delete",
     "what happens to the mailbox of a deleted LDAP object",
     C(delete_mode)},
    {"kolabd", "delete_grace", KD_OPT_DURATION, "7d", NULL,
     "delay before a delayed delete (e.g. 3600, 12h, 7d)", C(delete_grace)},
    {"kolabd", "delete_threshold", KD_OPT_UINT, "25", "0-4294967295",
     "hold inferred deletes when more objects vanish at once (0: no "
     "limit)",
     C(delete_threshold)},
    {"kolabd", "delete_threshold_percent", KD_OPT_UINT, "5", "0-100",
     "hold inferred deletes when this share of all objects vanishes at "
     "once (0: no limit)",
     C(delete_threshold_percent)},
    {"kolabd", "workers_per_backend", KD_OPT_UINT, "4", "1-64",
     "IMAP sessions per backend", C(workers_per_backend)},
    {"kolabd", "user", KD_OPT_NAME, "kolab", NULL,
     "user to run as when started as root", C(user)},
    {"kolabd", "group", KD_OPT_NAME, "kolab", NULL,
     "group to run as when started as root", C(group)},
    {"kolabd", "hook_timeout", KD_OPT_DURATION, "30", NULL,
     "time a hook program may run before it is killed", C(hook_timeout)},
    {"kolabd", "annotate_shared_folders", KD_OPT_ENUM, "auto",
     "auto|yes|no",
     "write the folder type of shared folders (auto: not on Cyrus < 3.6.3, "
     "which crashes)",
     C(annotate_shared_folders)},
    /* [murder] */
    {"murder", "mupdate_uri", KD_OPT_URI, NULL, "mupdate",
     "mupdate master (mupdate://host:3905)", C(mupdate_uri)},
    {"murder", "frontend_uri", KD_OPT_URI, NULL, "imap,imaps",
     "frontend for location lookups (default: [cyrus-imap] uri)",
     C(frontend_uri)},
    {"murder", "mupdate_user", KD_OPT_NAME, NULL, NULL,
     "mupdate user (default: admin_login)", C(mupdate_user)},
    {"murder", "mupdate_password", KD_OPT_SECRET, NULL, NULL,
     "mupdate password (default: admin_password)", C(mupdate_password)},
    {"murder", "mupdate_password_file", KD_OPT_SECRET_FILE, NULL,
     "mupdate_password", "file holding the mupdate password",
     C(mupdate_password)},
    {"murder", "mupdate_starttls", KD_OPT_BOOL, "false", NULL,
     "upgrade the mupdate connection with STARTTLS before authenticating; "
     "the master's certificate is verified like IMAP servers' "
     "([cyrus-imap] tls_ca_file, else the system trust store)",
     C(mupdate_starttls)},
    /* [backend NAME] */
    {"backend", "uri", KD_OPT_URI, NULL, "imap,imaps",
     "direct IMAP URI of the backend (required)", B(uri)},
    {"backend", "servername", KD_OPT_STRING, NULL, NULL,
     "its Cyrus servername, the value of mailHost (default: host[:port] "
     "of uri)",
     B(servername)},
    {"backend", "partition", KD_OPT_ATOM, NULL, NULL,
     "partition for new mailboxes (default: the backend's default)",
     B(partition)},
    {"backend", "weight", KD_OPT_UINT, "100", "0-1000000",
     "relative share of new mailboxes", B(weight)},
    /* [folder NAME] */
    {"folder", "private_type", KD_OPT_FOLDER_TYPE, NULL, NULL,
     "/private/vendor/kolab/folder-type (set as the user)",
     F(private_type)},
    {"folder", "shared_type", KD_OPT_FOLDER_TYPE, NULL, NULL,
     "/shared/vendor/kolab/folder-type", F(shared_type)},
    {"folder", "acl", KD_OPT_ACL, NULL, NULL,
     "';'-separated \"subject rights\" entries", F(acl)},
    {"folder", "subscribe", KD_OPT_BOOL, "true", NULL,
     "subscribe the user to the folder", F(subscribe)},
    {"folder", "quota", KD_OPT_FOLDER_QUOTA, NULL, NULL,
     "own quota root in KiB (0: own root without limit)", F(quota_kib)},
    {"folder", "partition", KD_OPT_ATOM, NULL, NULL,
     "partition of the folder", F(partition)},
};

const KdOption *
kd_config_options(guint *n_out)
{
    if (n_out != NULL) {
        *n_out = G_N_ELEMENTS(options);
    }
    return options;
}
