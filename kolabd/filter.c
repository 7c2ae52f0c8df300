/* filter: see filter.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "filter.h"

G_DEFINE_QUARK(kd-filter-error-quark, kd_filter_error)

#define MAX_DEPTH 64
#define MAX_TEXT (16 * 1024)

typedef enum {
    NODE_AND,
    NODE_OR,
    NODE_NOT,
    NODE_EQUAL,
    NODE_APPROX,
    NODE_GE,
    NODE_LE,
    NODE_PRESENT,
    NODE_SUBSTRING,
} NodeType;

struct KdFilter {
    NodeType type;
    char *attr;         /* items: attribute description as written */
    GBytes *value;      /* EQUAL, APPROX, GE, LE */
    GBytes *initial;    /* SUBSTRING, may be NULL */
    GPtrArray *any;     /* SUBSTRING: GBytes*, may be empty */
    GBytes *final;      /* SUBSTRING, may be NULL */
    GPtrArray *children; /* AND, OR, NOT: KdFilter* */
};

typedef struct {
    const char *text;
    const char *p;
    GError **error;
} Parser;

static gboolean
parse_error(Parser *ps, const char *what)
{
    g_set_error(ps->error, KD_FILTER_ERROR, KD_FILTER_ERROR_PARSE,
                "invalid LDAP filter \"%s\" at offset %" G_GSIZE_FORMAT
                ": %s",
                ps->text, (gsize)(ps->p - ps->text), what);
    return FALSE;
}

void
kd_filter_free(KdFilter *filter)
{
    if (filter == NULL) {
        return;
    }
    g_free(filter->attr);
    g_clear_pointer(&filter->value, g_bytes_unref);
    g_clear_pointer(&filter->initial, g_bytes_unref);
    g_clear_pointer(&filter->final, g_bytes_unref);
    g_clear_pointer(&filter->any, g_ptr_array_unref);
    g_clear_pointer(&filter->children, g_ptr_array_unref);
    g_free(filter);
}

static void
skip_space(Parser *ps)
{
    while (*ps->p == ' ') {
        ps->p++;
    }
}

static KdFilter *parse_filter(Parser *ps, int depth);

/* attr = descr / numericoid, with ";option"s */
static char *
parse_attr(Parser *ps)
{
    const char *start = ps->p;

    if (g_ascii_isalpha(*ps->p)) {
        while (g_ascii_isalnum(*ps->p) || *ps->p == '-') {
            ps->p++;
        }
    } else if (g_ascii_isdigit(*ps->p)) {
        while (g_ascii_isdigit(*ps->p) || *ps->p == '.') {
            ps->p++;
        }
        if (ps->p[-1] == '.') {
            parse_error(ps, "bad numeric OID");
            return NULL;
        }
    } else {
        parse_error(ps, "expected an attribute name");
        return NULL;
    }
    while (*ps->p == ';') {
        ps->p++;
        if (!g_ascii_isalnum(*ps->p)) {
            parse_error(ps, "bad attribute option");
            return NULL;
        }
        while (g_ascii_isalnum(*ps->p) || *ps->p == '-') {
            ps->p++;
        }
    }
    return g_strndup(start, (gsize)(ps->p - start));
}

/*
 * Parses an assertion value up to (not including) ')' or, when @star_ends
 * is set, '*'. Decodes \XX escapes.
 */
static GBytes *
parse_value(Parser *ps, gboolean star_ends)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();

    for (;;) {
        char c = *ps->p;

        if (c == ')' || (star_ends && c == '*')) {
            break;
        }
        if (c == '\0') {
            parse_error(ps, "unterminated value (missing ')')");
            return NULL;
        }
        if (c == '(' || (!star_ends && c == '*')) {
            parse_error(ps, "unescaped special character in value");
            return NULL;
        }
        if (c == '\\') {
            if (!g_ascii_isxdigit(ps->p[1]) || !g_ascii_isxdigit(ps->p[2])) {
                parse_error(ps, "bad escape (expected \\XX)");
                return NULL;
            }
            guint8 b = (guint8)(g_ascii_xdigit_value(ps->p[1]) << 4 |
                                g_ascii_xdigit_value(ps->p[2]));
            g_byte_array_append(buf, &b, 1);
            ps->p += 3;
            continue;
        }
        g_byte_array_append(buf, (const guint8 *)&c, 1);
        ps->p++;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

static gboolean
parse_substrings(Parser *ps, KdFilter *node, GBytes *first)
{
    node->type = NODE_SUBSTRING;
    node->any = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if (g_bytes_get_size(first) > 0) {
        node->initial = g_bytes_ref(first);
    }
    /* ps->p is at the first '*' */
    while (*ps->p == '*') {
        g_autoptr(GBytes) part = NULL;

        ps->p++;
        part = parse_value(ps, TRUE);
        if (part == NULL) {
            return FALSE;
        }
        if (*ps->p == ')') {
            if (g_bytes_get_size(part) > 0) {
                node->final = g_steal_pointer(&part);
            }
            break;
        }
        if (g_bytes_get_size(part) == 0) {
            return parse_error(ps, "empty substring between '*'");
        }
        g_ptr_array_add(node->any, g_steal_pointer(&part));
    }
    return TRUE;
}

static gboolean
parse_item(Parser *ps, KdFilter *node)
{
    g_autoptr(GBytes) value = NULL;

    node->attr = parse_attr(ps);
    if (node->attr == NULL) {
        return FALSE;
    }
    switch (*ps->p) {
    case '=':
        ps->p++;
        if (ps->p[0] == '*' && ps->p[1] == ')') {
            node->type = NODE_PRESENT;
            ps->p++;
            return TRUE;
        }
        value = parse_value(ps, TRUE);
        if (value == NULL) {
            return FALSE;
        }
        if (*ps->p == '*') {
            return parse_substrings(ps, node, value);
        }
        node->type = NODE_EQUAL;
        break;
    case '~':
    case '>':
    case '<':
        node->type = *ps->p == '~' ? NODE_APPROX
                     : *ps->p == '>' ? NODE_GE
                                     : NODE_LE;
        if (ps->p[1] != '=') {
            ps->p++;
            return parse_error(ps, "expected '='");
        }
        ps->p += 2;
        value = parse_value(ps, FALSE);
        if (value == NULL) {
            return FALSE;
        }
        break;
    case ':':
        return parse_error(ps, "extensible match is not supported");
    default:
        return parse_error(ps, "expected '=', '~=', '>=' or '<='");
    }
    node->value = g_steal_pointer(&value);
    return TRUE;
}

static KdFilter *
parse_filter(Parser *ps, int depth)
{
    g_autoptr(KdFilter) node = g_new0(KdFilter, 1);

    if (depth > MAX_DEPTH) {
        parse_error(ps, "nested too deeply");
        return NULL;
    }
    skip_space(ps);
    if (*ps->p != '(') {
        parse_error(ps, "expected '('");
        return NULL;
    }
    ps->p++;
    skip_space(ps);
    switch (*ps->p) {
    case '&':
    case '|':
    case '!':
        node->type = *ps->p == '&' ? NODE_AND
                     : *ps->p == '|' ? NODE_OR
                                     : NODE_NOT;
        node->children =
            g_ptr_array_new_with_free_func((GDestroyNotify)kd_filter_free);
        ps->p++;
        skip_space(ps);
        while (*ps->p == '(') {
            KdFilter *child = parse_filter(ps, depth + 1);

            if (child == NULL) {
                return NULL;
            }
            g_ptr_array_add(node->children, child);
            skip_space(ps);
        }
        if (node->type == NODE_NOT && node->children->len != 1) {
            parse_error(ps, "'!' takes exactly one filter");
            return NULL;
        }
        break;
    default:
        if (!parse_item(ps, node)) {
            return NULL;
        }
        break;
    }
    if (*ps->p != ')') {
        parse_error(ps, "expected ')'");
        return NULL;
    }
    ps->p++;
    return g_steal_pointer(&node);
}

KdFilter *
kd_filter_parse(const char *text, GError **error)
{
    g_autofree char *wrapped = NULL;
    g_autoptr(KdFilter) filter = NULL;
    Parser ps = {text, text, error};
    const char *t = text;

    g_return_val_if_fail(text != NULL, NULL);
    if (strlen(text) > MAX_TEXT) {
        parse_error(&ps, "longer than 16 KiB");
        return NULL;
    }
    while (*t == ' ') {
        t++;
    }
    if (*t != '(' && *t != '\0') {
        wrapped = g_strdup_printf("(%s)", t);
        ps.text = ps.p = wrapped;
    }
    filter = parse_filter(&ps, 0);
    if (filter == NULL) {
        return NULL;
    }
    skip_space(&ps);
    if (*ps.p != '\0') {
        parse_error(&ps, "trailing characters after the filter");
        return NULL;
    }
    return g_steal_pointer(&filter);
}

/* ---- evaluation ---- */

/* The attribute name without options, for KdEntry lookups. */
static const char *
base_attr(const char *attr, char *buf, gsize size)
{
    const char *semi = strchr(attr, ';');

    if (semi == NULL) {
        return attr;
    }
    g_strlcpy(buf, attr, MIN(size, (gsize)(semi - attr) + 1));
    return buf;
}

static gboolean
parse_integer(const char *data, gsize len, gint64 *out)
{
    gsize i = 0;

    if (len == 0 || len > 18 + (data[0] == '-')) {
        return FALSE;
    }
    if (data[0] == '-') {
        i = 1;
        if (len == 1) {
            return FALSE;
        }
    }
    for (gsize j = i; j < len; j++) {
        if (!g_ascii_isdigit(data[j])) {
            return FALSE;
        }
    }
    *out = g_ascii_strtoll(data, NULL, 10);
    return TRUE;
}

static int
compare_ci(const char *a, gsize alen, const char *b, gsize blen)
{
    gsize n = MIN(alen, blen);

    for (gsize i = 0; i < n; i++) {
        int ca = g_ascii_tolower(a[i]);
        int cb = g_ascii_tolower(b[i]);

        if (ca != cb) {
            return (guchar)ca < (guchar)cb ? -1 : 1;
        }
    }
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int
compare_ordered(const KdValue *v, GBytes *assertion)
{
    gsize alen;
    const char *a = g_bytes_get_data(assertion, &alen);
    gint64 x, y;

    if (parse_integer(v->data, v->len, &x) && parse_integer(a, alen, &y)) {
        return x < y ? -1 : x > y ? 1 : 0;
    }
    return compare_ci(v->data, v->len, a, alen);
}

/* Finds @needle in [@hay + *pos, @hay + @len) ignoring case. */
static gboolean
find_ci(const char *hay, gsize len, gsize *pos, GBytes *needle)
{
    gsize nlen;
    const char *n = g_bytes_get_data(needle, &nlen);

    for (gsize i = *pos; i + nlen <= len; i++) {
        if (compare_ci(hay + i, nlen, n, nlen) == 0) {
            *pos = i + nlen;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
match_substring(const KdFilter *f, const KdValue *v)
{
    gsize pos = 0;
    gsize end = v->len;

    if (f->initial != NULL) {
        gsize n;
        const char *s = g_bytes_get_data(f->initial, &n);

        if (n > end || compare_ci(v->data, n, s, n) != 0) {
            return FALSE;
        }
        pos = n;
    }
    if (f->final != NULL) {
        gsize n;
        const char *s = g_bytes_get_data(f->final, &n);

        if (n > end - pos ||
            compare_ci(v->data + end - n, n, s, n) != 0) {
            return FALSE;
        }
        end -= n;
    }
    for (guint i = 0; i < f->any->len; i++) {
        if (!find_ci(v->data, end, &pos, g_ptr_array_index(f->any, i))) {
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
match_value(const KdFilter *f, const KdValue *v)
{
    gsize alen;
    const char *a;

    switch (f->type) {
    case NODE_EQUAL:
    case NODE_APPROX:
        a = g_bytes_get_data(f->value, &alen);
        return compare_ci(v->data, v->len, a, alen) == 0;
    case NODE_GE:
        return compare_ordered(v, f->value) >= 0;
    case NODE_LE:
        return compare_ordered(v, f->value) <= 0;
    case NODE_SUBSTRING:
        return match_substring(f, v);
    default:
        g_assert_not_reached();
    }
    return FALSE;
}

gboolean
kd_filter_match(const KdFilter *filter, const KdEntry *entry)
{
    char buf[128];
    const char *attr;
    guint n;

    g_return_val_if_fail(filter != NULL && entry != NULL, FALSE);
    switch (filter->type) {
    case NODE_AND:
        for (guint i = 0; i < filter->children->len; i++) {
            if (!kd_filter_match(filter->children->pdata[i], entry)) {
                return FALSE;
            }
        }
        return TRUE;
    case NODE_OR:
        for (guint i = 0; i < filter->children->len; i++) {
            if (kd_filter_match(filter->children->pdata[i], entry)) {
                return TRUE;
            }
        }
        return FALSE;
    case NODE_NOT:
        return !kd_filter_match(filter->children->pdata[0], entry);
    default:
        break;
    }
    attr = base_attr(filter->attr, buf, sizeof buf);
    n = kd_entry_count(entry, attr);
    if (filter->type == NODE_PRESENT) {
        return n > 0;
    }
    for (guint i = 0; i < n; i++) {
        if (match_value(filter, kd_entry_value(entry, attr, i))) {
            return TRUE;
        }
    }
    return FALSE;
}

/* ---- output ---- */

static void
append_escaped(GString *out, GBytes *bytes)
{
    gsize n;
    const guint8 *d = g_bytes_get_data(bytes, &n);

    for (gsize i = 0; i < n; i++) {
        if (d[i] < 0x20 || d[i] > 0x7e || strchr("*()\\", d[i]) != NULL) {
            g_string_append_printf(out, "\\%02x", d[i]);
        } else {
            g_string_append_c(out, (char)d[i]);
        }
    }
}

static void
append_filter(GString *out, const KdFilter *f)
{
    static const char *const ops[] = {
        [NODE_EQUAL] = "=", [NODE_APPROX] = "~=",
        [NODE_GE] = ">=",   [NODE_LE] = "<=",
    };

    g_string_append_c(out, '(');
    switch (f->type) {
    case NODE_AND:
    case NODE_OR:
    case NODE_NOT:
        g_string_append_c(out, f->type == NODE_AND  ? '&'
                               : f->type == NODE_OR ? '|'
                                                    : '!');
        for (guint i = 0; i < f->children->len; i++) {
            append_filter(out, f->children->pdata[i]);
        }
        break;
    case NODE_PRESENT:
        g_string_append_printf(out, "%s=*", f->attr);
        break;
    case NODE_SUBSTRING:
        g_string_append_printf(out, "%s=", f->attr);
        if (f->initial != NULL) {
            append_escaped(out, f->initial);
        }
        g_string_append_c(out, '*');
        for (guint i = 0; i < f->any->len; i++) {
            append_escaped(out, f->any->pdata[i]);
            g_string_append_c(out, '*');
        }
        if (f->final != NULL) {
            append_escaped(out, f->final);
        }
        break;
    default:
        g_string_append_printf(out, "%s%s", f->attr, ops[f->type]);
        append_escaped(out, f->value);
        break;
    }
    g_string_append_c(out, ')');
}

char *
kd_filter_to_string(const KdFilter *filter)
{
    GString *out = g_string_new(NULL);

    g_return_val_if_fail(filter != NULL, NULL);
    append_filter(out, filter);
    return g_string_free(out, FALSE);
}

void
kd_filter_collect_attrs(const KdFilter *filter, GPtrArray *names)
{
    g_autofree char *lower = NULL;
    const char *semi;

    g_return_if_fail(filter != NULL && names != NULL);
    if (filter->children != NULL) {
        for (guint i = 0; i < filter->children->len; i++) {
            kd_filter_collect_attrs(filter->children->pdata[i], names);
        }
        return;
    }
    semi = strchr(filter->attr, ';');
    lower = g_ascii_strdown(filter->attr,
                            semi ? semi - filter->attr : -1);
    for (guint i = 0; i < names->len; i++) {
        if (g_ascii_strcasecmp(names->pdata[i], lower) == 0) {
            return;
        }
    }
    g_ptr_array_add(names, g_steal_pointer(&lower));
}
