/* imap-metadata: METADATA response parser for libetpan; see the header. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imap-metadata.h"
#include "imap.h"

/*
 * Parser helpers exported by libetpan 1.9.4 but declared only in its
 * uninstalled private headers (mailimap_parser.h, mailimap_keywords.h).
 */
int mailimap_space_parse(mailstream *fd, MMAPString *buffer, size_t *indx);
int mailimap_token_case_insensitive_parse(mailstream *fd, MMAPString *buffer,
                                          size_t *indx, const char *token);
int mailimap_oparenth_parse(mailstream *fd, MMAPString *buffer,
                            struct mailimap_parser_context *parser_ctx,
                            size_t *indx);
int mailimap_cparenth_parse(mailstream *fd, MMAPString *buffer,
                            struct mailimap_parser_context *parser_ctx,
                            size_t *indx);
int mailimap_mailbox_parse(mailstream *fd, MMAPString *buffer,
                           struct mailimap_parser_context *parser_ctx,
                           size_t *indx, char **result, size_t progr_rate,
                           progress_function *progr_fun);
int mailimap_astring_parse(mailstream *fd, MMAPString *buffer,
                           struct mailimap_parser_context *parser_ctx,
                           size_t *indx, char **result, size_t progr_rate,
                           progress_function *progr_fun);
int mailimap_nstring_parse(mailstream *fd, MMAPString *buffer,
                           struct mailimap_parser_context *parser_ctx,
                           size_t *indx, char **result, size_t *result_len,
                           size_t progr_rate, progress_function *progr_fun);

static int metadata_parse(int calling_parser, mailstream *fd,
                          MMAPString *buffer,
                          struct mailimap_parser_context *parser_ctx,
                          size_t *indx,
                          struct mailimap_extension_data **result,
                          size_t progr_rate, progress_function *progr_fun);
static void metadata_free(struct mailimap_extension_data *ext_data);

static struct mailimap_extension_api metadata_api = {
    .ext_name = (char *) "METADATA",
    .ext_id = -1,
    .ext_parser = metadata_parse,
    .ext_free = metadata_free,
};

static KdImapMetadata *
item_new(const char *mailbox, const char *entry, const char *value)
{
    KdImapMetadata *item = g_new0(KdImapMetadata, 1);

    item->mailbox = g_strdup(mailbox);
    item->entry = g_strdup(entry);
    item->value = g_strdup(value);
    return item;
}

void
kd_imap_metadata_free(KdImapMetadata *item)
{
    if (item == NULL) {
        return;
    }
    g_free(item->mailbox);
    g_free(item->entry);
    g_free(item->value);
    g_free(item);
}

/* "(" entry SP nstring *(SP entry SP nstring) ")" after the mailbox */
static int
parse_pairs(mailstream *fd, MMAPString *buffer,
            struct mailimap_parser_context *ctx, size_t *cur,
            const char *mailbox, GPtrArray *items, size_t progr_rate,
            progress_function *progr_fun)
{
    int r;

    for (;;) {
        char *entry = NULL;
        char *value = NULL;
        size_t value_len = 0;

        r = mailimap_astring_parse(fd, buffer, ctx, cur, &entry, progr_rate,
                                   progr_fun);
        if (r != MAILIMAP_NO_ERROR) {
            return r;
        }
        r = mailimap_space_parse(fd, buffer, cur);
        if (r == MAILIMAP_NO_ERROR) {
            r = mailimap_nstring_parse(fd, buffer, ctx, cur, &value,
                                       &value_len, progr_rate, progr_fun);
        }
        if (r != MAILIMAP_NO_ERROR) {
            mailimap_astring_free(entry);
            return r;
        }
        g_ptr_array_add(items, item_new(mailbox, entry, value));
        mailimap_astring_free(entry);
        if (value != NULL) {
            mailimap_nstring_free(value);
        }
        r = mailimap_space_parse(fd, buffer, cur);
        if (r == MAILIMAP_ERROR_PARSE) {
            return mailimap_cparenth_parse(fd, buffer, ctx, cur);
        }
        if (r != MAILIMAP_NO_ERROR) {
            return r;
        }
    }
}

/* Unsolicited form: entry *(SP entry), no values; consumed and dropped. */
static int
skip_entries(mailstream *fd, MMAPString *buffer,
             struct mailimap_parser_context *ctx, size_t *cur,
             size_t progr_rate, progress_function *progr_fun)
{
    int r;

    for (;;) {
        char *entry = NULL;

        r = mailimap_astring_parse(fd, buffer, ctx, cur, &entry, progr_rate,
                                   progr_fun);
        if (r != MAILIMAP_NO_ERROR) {
            return r;
        }
        mailimap_astring_free(entry);
        r = mailimap_space_parse(fd, buffer, cur);
        if (r == MAILIMAP_ERROR_PARSE) {
            return MAILIMAP_NO_ERROR;
        }
        if (r != MAILIMAP_NO_ERROR) {
            return r;
        }
    }
}

static int
metadata_parse(int calling_parser, mailstream *fd, MMAPString *buffer,
               struct mailimap_parser_context *parser_ctx, size_t *indx,
               struct mailimap_extension_data **result, size_t progr_rate,
               progress_function *progr_fun)
{
    size_t cur = *indx;
    char *mailbox = NULL;
    GPtrArray *items;
    int r;

    if (calling_parser != MAILIMAP_EXTENDED_PARSER_RESPONSE_DATA) {
        return MAILIMAP_ERROR_PARSE;
    }
    r = mailimap_token_case_insensitive_parse(fd, buffer, &cur, "METADATA");
    if (r != MAILIMAP_NO_ERROR) {
        return r;
    }
    r = mailimap_space_parse(fd, buffer, &cur);
    if (r != MAILIMAP_NO_ERROR) {
        return r;
    }
    r = mailimap_mailbox_parse(fd, buffer, parser_ctx, &cur, &mailbox,
                               progr_rate, progr_fun);
    if (r != MAILIMAP_NO_ERROR) {
        return r;
    }
    r = mailimap_space_parse(fd, buffer, &cur);
    if (r != MAILIMAP_NO_ERROR) {
        mailimap_mailbox_free(mailbox);
        return r;
    }
    items = g_ptr_array_new_with_free_func(
        (GDestroyNotify) kd_imap_metadata_free);
    r = mailimap_oparenth_parse(fd, buffer, parser_ctx, &cur);
    if (r == MAILIMAP_NO_ERROR) {
        r = parse_pairs(fd, buffer, parser_ctx, &cur, mailbox, items,
                        progr_rate, progr_fun);
    } else if (r == MAILIMAP_ERROR_PARSE) {
        r = skip_entries(fd, buffer, parser_ctx, &cur, progr_rate, progr_fun);
    }
    mailimap_mailbox_free(mailbox);
    if (r != MAILIMAP_NO_ERROR) {
        g_ptr_array_unref(items);
        return r;
    }
    *result = mailimap_extension_data_new(&metadata_api, 0, items);
    if (*result == NULL) {
        g_ptr_array_unref(items);
        return MAILIMAP_ERROR_MEMORY;
    }
    *indx = cur;
    return MAILIMAP_NO_ERROR;
}

static void
metadata_free(struct mailimap_extension_data *ext_data)
{
    if (ext_data == NULL) {
        return;
    }
    if (ext_data->ext_data != NULL) {
        g_ptr_array_unref(ext_data->ext_data);
    }
    free(ext_data);
}

void
kd_imap_metadata_register(void)
{
    static gboolean registered;

    if (!registered) {
        mailimap_extension_register(&metadata_api);
        registered = TRUE;
    }
}

void
kd_imap_metadata_collect(mailimap *session, GPtrArray *items)
{
    clist *list;

    if (session->imap_response_info == NULL) {
        return;
    }
    list = session->imap_response_info->rsp_extension_list;
    if (list == NULL) {
        return;
    }
    for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
        struct mailimap_extension_data *ext = clist_content(it);
        GPtrArray *found;

        if (ext == NULL || ext->ext_extension != &metadata_api) {
            continue;
        }
        found = ext->ext_data;
        for (guint i = 0; i < found->len; i++) {
            g_ptr_array_add(items, g_steal_pointer(&found->pdata[i]));
        }
        g_ptr_array_set_free_func(found, NULL);
        g_ptr_array_set_size(found, 0);
        g_ptr_array_set_free_func(found,
                                  (GDestroyNotify) kd_imap_metadata_free);
    }
}
