/* model: see model.h. */
#include "config.h"

#include <string.h>

#include "acl.h"
#include "filter.h"
#include "folders.h"
#include "model.h"
#include "mutf7.h"

#define MAX_VALUE 1024

struct KdModel {
    KdFilter *user_filter;
    KdFilter *shared_filter;
    char *sync_filter;
    char *mailserver_attr;
    char *quota_attr;
    char *acl_attr;
    char *type_attr;
    char *delivery_attr;
    char *primary_domain;
    gint64 default_quota;
    gint64 now;
    char **extra_attrs;
    GPtrArray *wanted; /* char*, NULL-terminated */
};

static void
rebuild_wanted(KdModel *model)
{
    const char *fixed[] = {"objectclass",          "mail",
                           "alias",                "cn",
                           "kolabtargetfolder",    model->mailserver_attr,
                           model->quota_attr,      model->acl_attr,
                           model->type_attr,       model->delivery_attr};
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++) {
        gboolean seen = FALSE;

        for (guint j = 0; j < names->len && !seen; j++) {
            seen = g_ascii_strcasecmp(names->pdata[j], fixed[i]) == 0;
        }
        if (!seen) {
            g_ptr_array_add(names, g_ascii_strdown(fixed[i], -1));
        }
    }
    kd_filter_collect_attrs(model->user_filter, names);
    kd_filter_collect_attrs(model->shared_filter, names);
    for (guint i = 0; model->extra_attrs && model->extra_attrs[i]; i++) {
        gboolean seen = FALSE;

        for (guint j = 0; j < names->len && !seen; j++) {
            seen = g_ascii_strcasecmp(names->pdata[j],
                                      model->extra_attrs[i]) == 0;
        }
        if (!seen) {
            g_ptr_array_add(names, g_ascii_strdown(model->extra_attrs[i],
                                                   -1));
        }
    }
    g_ptr_array_add(names, NULL);
    if (model->wanted != NULL) {
        g_ptr_array_unref(model->wanted);
    }
    model->wanted = names;
}

KdModel *
kd_model_new(const KdConfig *config, GError **error)
{
    g_autoptr(KdModel) model = g_new0(KdModel, 1);

    g_return_val_if_fail(config != NULL, NULL);
    model->user_filter = kd_filter_parse(config->user_filter, error);
    if (model->user_filter == NULL) {
        return NULL;
    }
    model->shared_filter = kd_filter_parse(config->sharedfolder_filter,
                                           error);
    if (model->shared_filter == NULL) {
        return NULL;
    }
    model->sync_filter = kd_config_sync_filter(config);
    model->mailserver_attr = g_strdup(config->mailserver_attribute);
    model->quota_attr = g_strdup(config->quota_attribute);
    model->acl_attr = g_strdup(config->acl_attribute);
    model->type_attr = g_strdup(config->folder_type_attribute);
    model->delivery_attr = g_strdup(config->delivery_address_attribute);
    model->primary_domain = g_ascii_strdown(config->primary_domain, -1);
    model->default_quota = config->default_quota;
    rebuild_wanted(model);
    return g_steal_pointer(&model);
}

void
kd_model_free(KdModel *model)
{
    if (model == NULL) {
        return;
    }
    kd_filter_free(model->user_filter);
    kd_filter_free(model->shared_filter);
    g_free(model->sync_filter);
    g_free(model->mailserver_attr);
    g_free(model->quota_attr);
    g_free(model->acl_attr);
    g_free(model->type_attr);
    g_free(model->delivery_attr);
    g_free(model->primary_domain);
    g_strfreev(model->extra_attrs);
    if (model->wanted != NULL) {
        g_ptr_array_unref(model->wanted);
    }
    g_free(model);
}

void
kd_model_set_extra_attrs(KdModel *model, const char *const *attrs)
{
    g_strfreev(model->extra_attrs);
    model->extra_attrs = g_strdupv((char **)attrs);
    rebuild_wanted(model);
}

void
kd_model_set_now(KdModel *model, gint64 now)
{
    model->now = now;
}

const char *const *
kd_model_wanted_attrs(const KdModel *model)
{
    return (const char *const *)model->wanted->pdata;
}

const char *
kd_model_sync_filter(const KdModel *model)
{
    return model->sync_filter;
}

/* ---- value checks ---- */

/* A printable, bounded rendering of an untrusted value for messages. */
static char *
describe(const char *data, gsize len)
{
    GString *out = g_string_new("\"");

    for (gsize i = 0; i < len && i < 64; i++) {
        guchar c = (guchar)data[i];

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    g_string_append(out, len > 64 ? "...\"" : "\"");
    return g_string_free(out, FALSE);
}

static void
refuse(KdObject *obj, const char *attr, const KdValue *v, const char *why)
{
    g_autofree char *d = v ? describe(v->data, v->len) : NULL;

    if (obj->error != NULL) {
        return;
    }
    obj->error = d ? g_strdup_printf("%s: %s %s", attr, d, why)
                   : g_strdup_printf("%s: %s", attr, why);
    g_clear_pointer(&obj->mailbox, g_free);
}

/*
 * First value of @attr as UTF-8 text without control characters, or NULL
 * (absent, or refused with the reason set on @obj when @obj is not NULL).
 */
static const char *
text_value(const KdEntry *entry, const char *attr, KdObject *obj,
           const KdValue **v_out)
{
    const KdValue *v = kd_entry_value(entry, attr, 0);
    const char *why = NULL;

    if (v_out != NULL) {
        *v_out = v;
    }
    if (v == NULL) {
        return NULL;
    }
    if (v->len == 0) {
        why = "is empty";
    } else if (v->len > MAX_VALUE) {
        why = "is longer than 1024 bytes";
    } else if (memchr(v->data, '\0', v->len) != NULL) {
        why = "contains a NUL byte";
    } else if (!g_utf8_validate_len(v->data, v->len, NULL)) {
        why = "is not valid UTF-8";
    } else {
        for (gsize i = 0; i < v->len && why == NULL; i++) {
            guchar c = (guchar)v->data[i];

            if (c == '\r' || c == '\n') {
                why = "contains CR or LF";
            } else if (c < 0x20 || c == 0x7f) {
                why = "contains a control character";
            }
        }
    }
    if (why != NULL) {
        if (obj != NULL) {
            refuse(obj, attr, v, why);
        }
        return NULL;
    }
    return v->data;
}

static gboolean
valid_domain(const char *d, gsize len)
{
    if (len == 0 || len > 253 || d[0] == '.' || d[len - 1] == '.') {
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isalnum(d[i]) && d[i] != '-' && d[i] != '.') {
            return FALSE;
        }
        if (d[i] == '.' && d[i + 1] == '.') {
            return FALSE;
        }
        if (d[i] == '-' && (i == 0 || d[i - 1] == '.' || d[i + 1] == '.' ||
                            i + 1 == len)) {
            return FALSE;
        }
    }
    return TRUE;
}

char *
kd_model_check_mail(const char *mail, const char **why_out)
{
    const char *at = strchr(mail, '@');
    gsize n = strlen(mail);
    const char *why = NULL;

    for (gsize i = 0; i < n && why == NULL; i++) {
        guchar c = (guchar)mail[i];

        if (c <= 0x20 || c >= 0x7f) {
            why = c > 0x7f ? "is not ASCII" : "contains a blank or control "
                                              "character";
        } else if (!g_ascii_isalnum(c) && strchr("#$'+-.=_~@", c) == NULL) {
            /* Cyrus' mailbox-name policy (GOODCHARS in mboxname.c) less
             * what kolabd's own names reserve (space , : / ^) */
            why = "contains a character not allowed in a mailbox name";
        }
    }
    if (why == NULL) {
        if (at == NULL) {
            why = "has no '@'";
        } else if (strchr(at + 1, '@') != NULL) {
            why = "has more than one '@'";
        } else if (at == mail) {
            why = "has an empty local part";
        } else if (mail[0] == '.' || at[-1] == '.' ||
                   g_strstr_len(mail, at - mail, "..") != NULL) {
            why = "has a local part with a leading, trailing or double dot";
        } else if (!valid_domain(at + 1, strlen(at + 1))) {
            why = "has an invalid domain";
        } else if (n > 254) {
            why = "is longer than 254 bytes";
        }
    }
    if (why != NULL) {
        if (why_out != NULL) {
            *why_out = why;
        }
        return NULL;
    }
    return g_ascii_strdown(mail, -1);
}

/* Sets obj->mailbox from the UTF-8 @name, refusing over-long names. */
static void
set_mailbox(KdObject *obj, const char *attr, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *wire = kd_mutf7_encode(name, &error);

    if (wire == NULL) {
        refuse(obj, attr, NULL, error->message);
    } else if (strlen(wire) > KD_MAILBOX_NAME_MAX) {
        refuse(obj, attr, NULL, "gives a mailbox name longer than 490 bytes");
    } else {
        obj->mailbox = g_steal_pointer(&wire);
    }
}

static gint64
decide_quota(const KdModel *model, const KdEntry *entry, KdObject *obj)
{
    const KdValue *v;
    const char *text = text_value(entry, model->quota_attr, obj, &v);
    gint64 q;

    if (v == NULL) {
        return model->default_quota;
    }
    if (text == NULL) {
        return KD_QUOTA_UNSET; /* refused */
    }
    if (!g_ascii_string_to_signed(text, 10, G_MININT64 / 2,
                                  G_MAXINT64 / 1024, &q, NULL)) {
        refuse(obj, model->quota_attr, v, "is not a whole number of KiB");
        return KD_QUOTA_UNSET;
    }
    if (q == -1) {
        return KD_QUOTA_UNLIMITED;
    }
    return q > 0 ? q : model->default_quota;
}

static void
classify_user(const KdModel *model, const KdEntry *entry, KdObject *obj)
{
    const KdValue *v;
    const char *mail = text_value(entry, "mail", obj, &v);
    const char *why = NULL;
    g_autofree char *name = NULL;

    obj->quota_kib = decide_quota(model, entry, obj);
    if (v == NULL) {
        refuse(obj, "mail", NULL, "missing: a user needs a mail address");
        return;
    }
    if (mail == NULL) {
        return;
    }
    obj->mail = kd_model_check_mail(mail, &why);
    if (obj->mail == NULL) {
        refuse(obj, "mail", v, why);
        return;
    }
    obj->domain = g_strdup(strchr(obj->mail, '@') + 1);
    if (obj->error != NULL) {
        return;
    }
    name = g_strconcat("user/", obj->mail, NULL);
    set_mailbox(obj, "mail", name);
}

/* Lower-cased, checked address from @attr, or NULL (absent or refused). */
static char *
address_of(const KdEntry *entry, const char *attr, KdObject *obj)
{
    const KdValue *v;
    const char *text = text_value(entry, attr, obj, &v);
    const char *why = NULL;
    char *mail;

    if (text == NULL) {
        return NULL;
    }
    mail = kd_model_check_mail(text, &why);
    if (mail == NULL) {
        refuse(obj, attr, v, why);
    }
    return mail;
}

/*
 * Derives the folder path (UTF-8, without "shared/" and "@domain") and
 * the domain of a shared folder. FALSE when refused.
 */
static gboolean
shared_path(const KdModel *model, const KdEntry *entry, const char *delivery,
            KdObject *obj, char **path_out, char **domain_out)
{
    const KdValue *v = NULL;
    const char *source_attr = "kolabtargetfolder";
    const char *text = text_value(entry, source_attr, obj, &v);
    g_autofree char *path = NULL;
    const char *p;
    const char *at;
    g_autoptr(GError) error = NULL;

    if (v != NULL && text == NULL) {
        return FALSE;
    }
    if (text == NULL && delivery != NULL && strchr(delivery, '+') != NULL &&
        strchr(delivery, '+') < strchr(delivery, '@')) {
        source_attr = model->delivery_attr;
        text = strchr(delivery, '+') + 1;
        v = NULL;
    }
    if (text == NULL) {
        source_attr = "cn";
        text = text_value(entry, "cn", obj, &v);
        if (text == NULL) {
            if (v == NULL) {
                refuse(obj, "cn", NULL, "missing: a shared folder needs "
                                        "kolabTargetFolder or cn");
            }
            return FALSE;
        }
    }
    p = text;
    while (g_str_has_prefix(p, "shared/")) {
        p += strlen("shared/");
    }
    at = strrchr(p, '@');
    if (at != NULL) {
        g_autofree char *domain = g_strdup(at + 1);

        if (strchr(domain, '/') != NULL) {
            refuse(obj, source_attr, v, "has a domain containing '/'");
            return FALSE;
        }
        if (!valid_domain(domain, strlen(domain))) {
            refuse(obj, source_attr, v, "has an invalid domain");
            return FALSE;
        }
        *domain_out = g_ascii_strdown(domain, -1);
        path = g_strndup(p, (gsize)(at - p));
    } else {
        path = g_strdup(p);
        if (obj->mail != NULL) {
            *domain_out = g_strdup(strchr(obj->mail, '@') + 1);
        } else if (delivery != NULL) {
            *domain_out = g_strdup(strchr(delivery, '@') + 1);
        } else {
            *domain_out = g_strdup(model->primary_domain);
        }
    }
    if (!kd_folders_check_path(path, strlen(path), &error)) {
        g_autofree char *why = g_strdup_printf(
            "cannot name a folder: %s", error->message);

        refuse(obj, source_attr, v, why);
        g_clear_pointer(domain_out, g_free);
        return FALSE;
    }
    *path_out = g_steal_pointer(&path);
    return TRUE;
}

static void
shared_acl(const KdModel *model, const KdEntry *entry, gboolean postable,
           KdObject *obj)
{
    g_autoptr(KdAcl) acl = kd_acl_new();
    guint n = kd_entry_count(entry, model->acl_attr);
    gint64 now = model->now ? model->now : g_get_real_time() / G_USEC_PER_SEC;

    for (guint i = 0; i < n; i++) {
        const KdValue *v = kd_entry_value(entry, model->acl_attr, i);
        g_autoptr(GError) error = NULL;

        if (!kd_acl_add_ldap_value(acl, v->data, v->len, now, NULL,
                                   &error)) {
            g_autofree char *why = g_strdup_printf("value %u: %s", i + 1,
                                                   error->message);

            refuse(obj, model->acl_attr, NULL, why);
            return;
        }
    }
    if (postable) {
        kd_acl_add(acl, "anyone", "+p", NULL);
    }
    obj->acl = kd_acl_to_string(acl);
}

static void
classify_shared(const KdModel *model, const KdEntry *entry, KdObject *obj)
{
    g_autofree char *delivery = NULL;
    g_autofree char *path = NULL;
    g_autofree char *domain = NULL;
    g_autofree char *name = NULL;
    const KdValue *v;
    const char *type;

    obj->mail = address_of(entry, "mail", obj);
    if (g_ascii_strcasecmp(model->delivery_attr, "mail") == 0) {
        delivery = g_strdup(obj->mail);
    } else {
        delivery = address_of(entry, model->delivery_attr, obj);
    }
    if (obj->error != NULL) {
        return;
    }
    type = text_value(entry, model->type_attr, obj, &v);
    if (type != NULL) {
        g_autoptr(GError) error = NULL;

        if (!kd_folders_check_type(type, v->len, &error)) {
            refuse(obj, model->type_attr, v, error->message);
            return;
        }
        obj->folder_type = g_strdup(type);
    } else if (v != NULL) {
        return;
    }
    shared_acl(model, entry, kd_entry_count(entry, model->delivery_attr) > 0,
               obj);
    if (obj->error != NULL) {
        return;
    }
    if (!shared_path(model, entry, delivery, obj, &path, &domain)) {
        return;
    }
    obj->domain = g_steal_pointer(&domain);
    name = g_strdup_printf("shared/%s@%s", path, obj->domain);
    set_mailbox(obj, "kolabtargetfolder", name);
}

static void
copy_mailhost_and_extras(const KdModel *model, const KdEntry *entry,
                         KdObject *obj)
{
    const char *host = text_value(entry, model->mailserver_attr, NULL, NULL);

    /* A garbage mailHost is not an error: kolabd will overwrite it. */
    if (host != NULL && strpbrk(host, " \t/@\"\\") == NULL &&
        strlen(host) <= 255) {
        obj->mailhost = g_ascii_strdown(host, -1);
    }
    for (guint i = 0; model->extra_attrs && model->extra_attrs[i]; i++) {
        const char *value =
            text_value(entry, model->extra_attrs[i], NULL, NULL);

        if (value == NULL) {
            continue;
        }
        if (obj->attrs == NULL) {
            obj->attrs = g_hash_table_new_full(g_str_hash, g_str_equal,
                                               g_free, g_free);
        }
        g_hash_table_insert(obj->attrs,
                            g_ascii_strdown(model->extra_attrs[i], -1),
                            g_strdup(value));
    }
}

KdObject *
kd_model_classify(const KdModel *model, const guint8 uuid[KD_UUID_LEN],
                  const KdEntry *entry)
{
    KdObject *obj = kd_object_new(uuid);

    g_return_val_if_fail(model != NULL && entry != NULL, obj);
    obj->dn = g_strdup(kd_entry_get_dn(entry));
    if (kd_filter_match(model->user_filter, entry)) {
        obj->kind = KD_OBJECT_USER;
        classify_user(model, entry, obj);
    } else if (kd_filter_match(model->shared_filter, entry)) {
        obj->kind = KD_OBJECT_SHARED;
        classify_shared(model, entry, obj);
    } else {
        return obj;
    }
    copy_mailhost_and_extras(model, entry, obj);
    if (obj->error != NULL) {
        g_clear_pointer(&obj->mailbox, g_free);
    }
    return obj;
}
