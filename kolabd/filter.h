/*
 * filter: RFC 4515 LDAP search filters, parsed and evaluated locally.
 *
 * kolabd sends one search filter to the server (the union of the user and
 * shared folder filters) and must then tell, for each entry syncrepl
 * delivers, which of the two it matched, without searching again. So the
 * configured filters are parsed into a tree here and evaluated against a
 * KdEntry. config uses kd_filter_parse() to validate filters (errors name
 * the offset), model uses kd_filter_match() to classify entries and
 * kd_filter_collect_attrs() to know which attributes must be requested.
 *
 * Supported: & | ! (including the RFC 4526 absolute true "(&)" and false
 * "(|)"), equality, presence (=*), substrings, >= and <= (numeric when both
 * sides are integers, else ASCII case-insensitive byte order), and ~=
 * (treated as equality). Values may carry \XX escapes. Extensible matches
 * (:=) are refused. All value comparisons ignore ASCII case, which is right
 * for the attributes kolabd filters on (objectClass and IA5 Kolab
 * attributes) and an approximation for case-exact ones. The three-valued
 * "Undefined" logic of LDAP is collapsed to FALSE.
 */
#ifndef KOLABD_FILTER_H
#define KOLABD_FILTER_H

#include <glib.h>

#include "entry.h"

#define KD_FILTER_ERROR (kd_filter_error_quark())
GQuark kd_filter_error_quark(void);

typedef enum {
    KD_FILTER_ERROR_PARSE, /* syntax error; message names the offset */
} KdFilterError;

typedef struct KdFilter KdFilter;

/*
 * Parses @text. A filter without outer parentheses ("objectclass=x") is
 * accepted as libldap does. Nesting is limited to 64 levels and the text
 * to 16 KiB. Returns a new tree, or NULL with @error set.
 */
KdFilter *kd_filter_parse(const char *text, GError **error);

/* Frees @filter; accepts NULL. */
void kd_filter_free(KdFilter *filter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdFilter, kd_filter_free)

/* TRUE when @entry matches @filter. */
gboolean kd_filter_match(const KdFilter *filter, const KdEntry *entry);

/*
 * The canonical text of @filter: fully parenthesised, attribute names as
 * written, values re-escaped (\XX for * ( ) \ NUL and bytes outside
 * printable ASCII). Newly allocated.
 */
char *kd_filter_to_string(const KdFilter *filter);

/*
 * Appends to @names every attribute name @filter mentions, lower-cased and
 * without options, each once (names already in @names are not added
 * again). @names must own its strings (g_free).
 */
void kd_filter_collect_attrs(const KdFilter *filter, GPtrArray *names);

#endif /* KOLABD_FILTER_H */
