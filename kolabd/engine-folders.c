/*
 * engine-folders: which users already have every default folder, read
 * from the murder's mailbox list, so that a deep resync need not ask each
 * backend (a LIST of a user's folders costs Cyrus a scan of its mailbox
 * list: ~27 ms per user at 5,000 users, growing with the directory).
 *
 * Built only for the deep check (policy.verify) with 1..64 default
 * folders: one bit per default folder for each top-level user mailbox,
 * set when the listing has that sub-folder on the user's own server. The
 * daemon keeps no sub-folders (see kd_engine_refresh_locations).
 */
#include <string.h>

#include "engine-private.h"
#include "folders.h"

struct KdFolderIndex {
    GHashTable *by_name; /* folder name (mUTF-7) -> index + 1 */
    GHashTable *masks;   /* "user/x@dom" -> guint64* */
    guint64 full;
};

void
kd_folder_index_free(KdFolderIndex *index)
{
    if (index == NULL) {
        return;
    }
    g_hash_table_unref(index->by_name);
    g_hash_table_unref(index->masks);
    g_free(index);
}

/* Splits "user/x/F@dom" into "user/x@dom" and "F"; FALSE for anything
 * that is not a user's sub-folder. */
static gboolean
split_user_folder(const char *name, char **top_out, char **rel_out)
{
    const char *at, *slash;
    gsize end;

    if (!g_str_has_prefix(name, "user/")) {
        return FALSE;
    }
    at = strrchr(name, '@');
    end = at != NULL ? (gsize)(at - name) : strlen(name);
    slash = memchr(name + 5, '/', end - 5);
    if (slash == NULL || (gsize)(slash - name) + 1 >= end) {
        return FALSE;
    }
    *top_out = g_strdup_printf("%.*s%s", (int)(slash - name), name,
                               at != NULL ? at : "");
    *rel_out = g_strndup(slash + 1, end - (gsize)(slash - name) - 1);
    return TRUE;
}

KdFolderIndex *
kd_folder_index_new(const GPtrArray *folders, GHashTable *all)
{
    KdFolderIndex *index;
    GHashTableIter it;
    gpointer k, v;

    if (folders == NULL || folders->len == 0 || folders->len > 64) {
        return NULL;
    }
    index = g_new0(KdFolderIndex, 1);
    index->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    index->masks =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < folders->len; i++) {
        const KdFolderSpec *spec = g_ptr_array_index(folders, i);

        g_hash_table_insert(index->by_name, spec->name_mutf7,
                            GUINT_TO_POINTER(i + 1));
        index->full |= G_GUINT64_CONSTANT(1) << i;
    }
    g_hash_table_iter_init(&it, all);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *top = NULL;
        g_autofree char *rel = NULL;
        const char *top_server;
        guint bit;
        guint64 *mask;

        if (!split_user_folder(k, &top, &rel) ||
            (bit = GPOINTER_TO_UINT(
                 g_hash_table_lookup(index->by_name, rel))) == 0 ||
            (top_server = g_hash_table_lookup(all, top)) == NULL ||
            g_ascii_strcasecmp(top_server, v) != 0) {
            continue;
        }
        mask = g_hash_table_lookup(index->masks, top);
        if (mask == NULL) {
            mask = g_new0(guint64, 1);
            g_hash_table_insert(index->masks, g_steal_pointer(&top), mask);
        }
        *mask |= G_GUINT64_CONSTANT(1) << (bit - 1);
    }
    return index;
}

gboolean
kd_folder_index_complete(const KdFolderIndex *index, const char *mailbox)
{
    const guint64 *mask;

    if (index == NULL || mailbox == NULL) {
        return FALSE;
    }
    mask = g_hash_table_lookup(index->masks, mailbox);
    return mask != NULL && *mask == index->full;
}
