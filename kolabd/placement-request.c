/* placement-request: what a placement plugin learns of a mailbox; see
 * placement.h */

#include <string.h>

#include "placement.h"

struct KolabdPlacementRequest {
    KolabdPlacementKind kind;
    char *mail;
    char *domain;
    char *mailbox;
    GHashTable *attrs; /* lower-cased name -> value */
};

KdPlacementRequest *
kd_placement_request_new(KolabdPlacementKind kind, const char *mail,
                         const char *domain, const char *mailbox)
{
    KdPlacementRequest *request = g_new0(KdPlacementRequest, 1);
    const char *at;

    request->kind = kind;
    request->mail = mail != NULL ? g_ascii_strdown(mail, -1) : NULL;
    if (domain != NULL) {
        request->domain = g_ascii_strdown(domain, -1);
    } else if (mail != NULL && (at = strrchr(mail, '@')) != NULL &&
               at[1] != '\0') {
        request->domain = g_ascii_strdown(at + 1, -1);
    }
    request->mailbox = g_strdup(mailbox);
    request->attrs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return request;
}

KdPlacementRequest *
kd_placement_request_new_from_object(const KdObject *object)
{
    KdPlacementRequest *request;

    g_return_val_if_fail(object != NULL, NULL);

    request = kd_placement_request_new(
        object->kind == KD_OBJECT_SHARED ? KOLABD_PLACEMENT_KIND_SHARED
                                         : KOLABD_PLACEMENT_KIND_USER,
        object->mail, object->domain, object->mailbox);
    if (object->attrs != NULL) {
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, object->attrs);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
            if (value != NULL) {
                kd_placement_request_set_attribute(request, key, value);
            }
        }
    }
    if (object->mailhost != NULL) {
        kd_placement_request_set_attribute(request, "mailhost",
                                           object->mailhost);
    }
    return request;
}

void
kd_placement_request_free(KdPlacementRequest *request)
{
    if (request == NULL) {
        return;
    }
    g_free(request->mail);
    g_free(request->domain);
    g_free(request->mailbox);
    g_hash_table_unref(request->attrs);
    g_free(request);
}

void
kd_placement_request_set_attribute(KdPlacementRequest *request,
                                   const char *name, const char *value)
{
    g_return_if_fail(name != NULL && value != NULL);

    g_hash_table_replace(request->attrs, g_ascii_strdown(name, -1),
                         g_strdup(value));
}

const char *
kd_placement_request_describe(const KdPlacementRequest *request)
{
    if (request->mail != NULL) {
        return request->mail;
    }
    if (request->mailbox != NULL) {
        return request->mailbox;
    }
    return "(unnamed)";
}

KolabdPlacementKind
kd_placement_request_get_kind(const KdPlacementRequest *request)
{
    return request->kind;
}

const char *
kd_placement_request_get_mail(const KdPlacementRequest *request)
{
    return request->mail;
}

const char *
kd_placement_request_get_domain(const KdPlacementRequest *request)
{
    return request->domain;
}

const char *
kd_placement_request_get_mailbox(const KdPlacementRequest *request)
{
    return request->mailbox;
}

const char *
kd_placement_request_get_attribute(const KdPlacementRequest *request,
                                   const char *name)
{
    g_autofree char *lower = NULL;

    if (name == NULL) {
        return NULL;
    }
    lower = g_ascii_strdown(name, -1);
    return g_hash_table_lookup(request->attrs, lower);
}
