/* hooks-json: see hooks-json.h. */
#include <config.h>

#include "hooks-json.h"

#include <stdlib.h>
#include <string.h>

#include "object.h"

void
kd_hooks_json_append_string(GString *out, const char *value)
{
    const char *p;
    const char *end;

    g_return_if_fail(out != NULL);

    if (value == NULL) {
        g_string_append(out, "null");
        return;
    }
    end = value + strlen(value);
    g_string_append_c(out, '"');
    for (p = value; p < end;) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            /* Not UTF-8: one replacement character per bad byte. */
            g_string_append(out, "\\ufffd");
            p++;
            continue;
        }
        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
                g_string_append_printf(out, "\\u%04x", (unsigned)c);
            } else {
                g_string_append_len(out, p, g_unichar_to_utf8(c, NULL));
            }
            break;
        }
        p += g_unichar_to_utf8(c, NULL);
    }
    g_string_append_c(out, '"');
}

static void
member(GString *out, const char *name, const char *value)
{
    if (out->str[out->len - 1] != '{') {
        g_string_append_c(out, ',');
    }
    kd_hooks_json_append_string(out, name);
    g_string_append_c(out, ':');
    kd_hooks_json_append_string(out, value);
}

static int
compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
append_attrs(GString *out, GHashTable *attrs)
{
    g_autofree gpointer *keys = NULL;
    guint n = 0;
    guint i;

    g_string_append(out, ",\"attrs\":{");
    if (attrs != NULL) {
        keys = g_hash_table_get_keys_as_array(attrs, &n);
        qsort(keys, n, sizeof *keys, compare_keys);
    }
    for (i = 0; i < n; i++) {
        member(out, keys[i], g_hash_table_lookup(attrs, keys[i]));
    }
    g_string_append_c(out, '}');
}

static void
append_object(GString *out, const KdObject *o)
{
    static const char *const kinds[] = {"none", "user", "shared"};
    char uuid[33];

    kd_uuid_to_hex(o->uuid, uuid);
    g_string_append_c(out, '{');
    member(out, "kind", o->kind <= KD_OBJECT_SHARED ? kinds[o->kind] : NULL);
    member(out, "uuid", uuid);
    member(out, "dn", o->dn);
    member(out, "mail", o->mail);
    member(out, "domain", o->domain);
    member(out, "mailbox", o->mailbox);
    if (o->quota_kib == KD_QUOTA_UNSET) {
        g_string_append(out, ",\"quota_kib\":null");
    } else {
        g_string_append_printf(out, ",\"quota_kib\":%" G_GINT64_FORMAT,
                               o->quota_kib < 0 ? (gint64)-1 : o->quota_kib);
    }
    member(out, "acl", o->acl);
    member(out, "folder_type", o->folder_type);
    member(out, "mailhost", o->mailhost);
    append_attrs(out, o->attrs);
    member(out, "error", o->error);
    g_string_append_c(out, '}');
}

char *
kd_hooks_json_payload(const KdHookEvent *ev, const char *event_id)
{
    GString *out = g_string_new("{");

    g_return_val_if_fail(ev != NULL && event_id != NULL, NULL);

    member(out, "event", ev->event);
    member(out, "event_id", event_id);
    member(out, "uuid", ev->uuid);
    member(out, "dn", ev->dn);
    member(out, "mail", ev->mail);
    member(out, "mailbox", ev->mailbox);
    member(out, "mailhost", ev->mailhost);
    member(out, "old_mailbox", ev->old_mailbox);
    member(out, "old_mailhost", ev->old_mailhost);
    member(out, "detail", ev->detail);
    g_string_append(out, ",\"object\":");
    if (ev->object != NULL) {
        append_object(out, ev->object);
    } else {
        g_string_append(out, "null");
    }
    g_string_append(out, "}\n");
    return g_string_free(out, FALSE);
}
