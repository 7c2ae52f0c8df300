/*
 * mupdate-name: conversion between admin-namespace mailbox names and Cyrus
 * internal names; see mupdate.h.
 */
#include "config.h"

#include <string.h>

#include "imap.h"
#include "mupdate.h"

static char *
refuse(const char *name, const char *why, GError **error)
{
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_INVALID_NAME,
                "mailbox name \"%s\": %s", name, why);
    return NULL;
}

/*
 * Rewrites @path: @sep_in separates components and becomes @sep_out;
 * @map_in inside a component becomes @map_out; @invalid is refused, as is
 * an empty component.
 */
static char *
convert_path(const char *name, const char *path, char sep_in, char sep_out,
             char map_in, char map_out, char invalid, GError **error)
{
    g_autoptr(GString) out = g_string_new(NULL);
    gboolean empty = TRUE;

    for (const char *p = path; *p; p++) {
        if (*p == sep_in) {
            if (empty) {
                return refuse(name, "empty hierarchy component", error);
            }
            g_string_append_c(out, sep_out);
            empty = TRUE;
            continue;
        }
        if (*p == invalid) {
            return refuse(name, "invalid character in a component", error);
        }
        g_string_append_c(out, *p == map_in ? map_out : *p);
        empty = FALSE;
    }
    if (empty) {
        return refuse(name, "empty hierarchy component", error);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
kd_mupdate_name_to_internal(const char *admin_name, GError **error)
{
    const char *at = strrchr(admin_name, '@');
    g_autofree char *path = NULL;
    g_autofree char *converted = NULL;

    if (strchr(admin_name, '!') != NULL) {
        return refuse(admin_name, "'!' is not allowed", error);
    }
    path = at ? g_strndup(admin_name, (gsize) (at - admin_name))
              : g_strdup(admin_name);
    if (at != NULL && (at[1] == '\0' || strchr(at, '/') != NULL)) {
        return refuse(admin_name, "bad domain part", error);
    }
    /* '/' separates; '.' inside a component is stored as '^' */
    converted = convert_path(admin_name, path, '/', '.', '.', '^', '^', error);
    if (converted == NULL) {
        return NULL;
    }
    if (at == NULL) {
        return g_steal_pointer(&converted);
    }
    return g_strdup_printf("%s!%s", at + 1, converted);
}

char *
kd_mupdate_name_from_internal(const char *internal_name, GError **error)
{
    const char *bang = strchr(internal_name, '!');
    const char *path = bang ? bang + 1 : internal_name;
    g_autofree char *converted = NULL;

    if (bang == internal_name || (bang && strchr(path, '!') != NULL)) {
        return refuse(internal_name, "bad domain part", error);
    }
    /* '.' separates; '^' stands for '.'; '/' is invalid */
    converted = convert_path(internal_name, path, '.', '/', '^', '.', '/', error);
    if (converted == NULL) {
        return NULL;
    }
    if (bang == NULL) {
        return g_steal_pointer(&converted);
    }
    return g_strdup_printf("%s@%.*s", converted,
                           (int) (bang - internal_name), internal_name);
}
