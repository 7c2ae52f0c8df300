/* mupdate: RFC 3656 client for the mupdate master; see mupdate.h. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "imap.h"
#include "mupdate.h"
#include "tls.h"

#define MAX_LINE (64 * 1024)
#define MAX_LITERAL (1024 * 1024)
#define MAX_TOKENS 64
#define MAX_BANNER_LINES 32

struct KdMupdate {
    GSocketConnection *conn;
    GDataInputStream *in;
    GOutputStream *out;
    char *label;
    char *servername;
    KdTlsClient *tls; /* after STARTTLS, else NULL */
    guint tag;
    gboolean alive;
    gboolean offers_starttls; /* "* STARTTLS" in the last banner */
};

static gboolean
fail_dead(KdMupdate *m, const char *what, GError *cause, GError **error)
{
    m->alive = FALSE;
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED,
                "mupdate %s on %s: connection closed, reconnect: %s", what,
                m->label, cause ? cause->message : "end of stream");
    g_clear_error(&cause);
    if (m->conn != NULL) {
        g_io_stream_close(G_IO_STREAM(m->conn), NULL, NULL);
    }
    return FALSE;
}

/* Appends the tokens of @line from @pos; returns the literal size that
 * ends the line, or -1 when the line ends normally. */
static gssize
tokenize(const char *line, GPtrArray *tokens, gboolean *bad)
{
    const char *p = line;

    while (*p) {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (*p == '"') {
            GString *s = g_string_new(NULL);

            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
                g_string_append_c(s, *p);
            }
            if (*p != '"') {
                *bad = TRUE;
            } else {
                p++;
            }
            g_ptr_array_add(tokens, g_string_free(s, FALSE));
        } else if (*p == '{') {
            char *end = NULL;
            guint64 n = g_ascii_strtoull(p + 1, &end, 10);

            if (end == p + 1 || !g_ascii_isdigit(p[1])) {
                *bad = TRUE;
                return -1;
            }
            if (*end == '+') {
                end++;
            }
            /* a literal must end the line */
            if (end[0] != '}' || end[1] != '\0' || n > MAX_LITERAL) {
                *bad = TRUE;
                return -1;
            }
            return (gssize) n;
        } else {
            gsize n = strcspn(p, " ");

            g_ptr_array_add(tokens, g_strndup(p, n));
            p += n;
        }
        if (tokens->len > MAX_TOKENS) {
            *bad = TRUE;
            return -1;
        }
    }
    return -1;
}

/* Reads one response (a line plus any literals it continues into). */
static gboolean
read_response(KdMupdate *m, const char *what, GPtrArray **tokens_out,
              GError **error)
{
    g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func(g_free);
    GError *local = NULL;
    gboolean bad = FALSE;

    for (int round = 0; round <= MAX_TOKENS; round++) {
        gsize len = 0;
        g_autofree char *line =
            g_data_input_stream_read_line(m->in, &len, NULL, &local);
        gssize lit;

        if (line == NULL) {
            return fail_dead(m, what, local, error);
        }
        if (len > MAX_LINE || strlen(line) != len) {
            return fail_dead(m, what,
                             g_error_new_literal(KD_IMAP_ERROR, 0,
                                                 "overlong or binary line"),
                             error);
        }
        if (len > 0 && line[len - 1] == '\r') {
            line[len - 1] = '\0';
        }
        lit = tokenize(line, tokens, &bad);
        if (bad) {
            return fail_dead(m, what,
                             g_error_new(KD_IMAP_ERROR, 0,
                                         "unparsable reply \"%.80s\"", line),
                             error);
        }
        if (lit < 0) {
            *tokens_out = g_steal_pointer(&tokens);
            return TRUE;
        } else {
            char *buf = g_malloc((gsize) lit + 1);
            gsize got = 0;

            if (!g_input_stream_read_all(G_INPUT_STREAM(m->in), buf,
                                         (gsize) lit, &got, NULL, &local) ||
                got != (gsize) lit) {
                g_free(buf);
                return fail_dead(m, what, local, error);
            }
            buf[lit] = '\0';
            g_ptr_array_add(tokens, buf);
        }
    }
    return fail_dead(m, what,
                     g_error_new_literal(KD_IMAP_ERROR, 0, "too many literals"),
                     error);
}

static gboolean
send_line(KdMupdate *m, const char *what, const char *line, GError **error)
{
    GError *local = NULL;

    if (!m->alive) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED,
                    "mupdate %s on %s: connection is closed, reconnect", what,
                    m->label);
        return FALSE;
    }
    if (!g_output_stream_write_all(m->out, line, strlen(line), NULL, NULL,
                                   &local) ||
        !g_output_stream_write_all(m->out, "\r\n", 2, NULL, NULL, &local) ||
        !g_output_stream_flush(m->out, NULL, &local)) {
        return fail_dead(m, what, local, error);
    }
    return TRUE;
}

/* Quoted mupdate string: printable 7-bit without '"' and '\'. */
static gboolean
check_string(const char *s, const char *what, GError **error)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_INVALID_NAME,
                        "mupdate %s: refused name \"%s\" (control, 8-bit, "
                        "quote or backslash)",
                        what, s);
            return FALSE;
        }
    }
    return TRUE;
}

typedef gboolean (*LineFunc)(GPtrArray *tokens, gpointer data);

/*
 * Sends "<tag> @args" and reads until the tagged OK/NO/BAD; every other
 * response with our tag goes to @func.
 */
static gboolean
run(KdMupdate *m, const char *what, const char *args, LineFunc func,
    gpointer data, GError **error)
{
    g_autofree char *tag = g_strdup_printf("K%u", ++m->tag);
    g_autofree char *line = g_strdup_printf("%s %s", tag, args);

    if (!send_line(m, what, line, error)) {
        return FALSE;
    }
    for (;;) {
        g_autoptr(GPtrArray) t = NULL;
        const char *kind;

        if (!read_response(m, what, &t, error)) {
            return FALSE;
        }
        if (t->len < 2 || strcmp(t->pdata[0], tag) != 0) {
            continue; /* untagged or foreign: ignore */
        }
        kind = t->pdata[1];
        if (strcmp(kind, "OK") == 0) {
            return TRUE;
        }
        if (strcmp(kind, "NO") == 0 || strcmp(kind, "BAD") == 0) {
            const char *text = t->len > 2 ? t->pdata[2] : "";
            int code = strcmp(kind, "BAD") == 0
                           ? KD_IMAP_ERROR_BUG
                           : kd_imap_error_classify("NO", NULL, text);

            g_set_error(error, KD_IMAP_ERROR, code, "mupdate %s on %s: %s %s",
                        what, m->label, kind, text);
            return FALSE;
        }
        if (func != NULL && !func(t, data)) {
            func = NULL;
        }
    }
}

static gboolean
read_banner(KdMupdate *m, GError **error)
{
    m->offers_starttls = FALSE;
    for (int i = 0; i < MAX_BANNER_LINES; i++) {
        g_autoptr(GPtrArray) t = NULL;

        if (!read_response(m, "banner", &t, error)) {
            return FALSE;
        }
        if (t->len >= 2 && strcmp(t->pdata[0], "*") == 0 &&
            strcmp(t->pdata[1], "BYE") == 0) {
            m->alive = FALSE;
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT,
                        "mupdate master %s refused the connection: %s",
                        m->label, t->len > 2 ? (char *) t->pdata[2] : "");
            return FALSE;
        }
        if (t->len == 2 && strcmp(t->pdata[0], "*") == 0 &&
            g_ascii_strcasecmp(t->pdata[1], "STARTTLS") == 0) {
            m->offers_starttls = TRUE;
        }
        if (t->len >= 3 && strcmp(t->pdata[0], "*") == 0 &&
            strcmp(t->pdata[1], "OK") == 0 &&
            strcmp(t->pdata[2], "MUPDATE") == 0) {
            if (t->len > 3) {
                g_free(m->servername);
                m->servername = g_strdup(t->pdata[3]);
            }
            return TRUE;
        }
    }
    m->alive = FALSE;
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CONFIG,
                "%s: no \"* OK MUPDATE\" banner; not a mupdate server?",
                m->label);
    return FALSE;
}

static gboolean
authenticate(KdMupdate *m, const char *user, const char *password,
             GError **error)
{
    g_autoptr(GByteArray) raw = g_byte_array_new();
    g_autofree char *b64 = NULL;
    g_autofree char *args = NULL;

    if (!check_string(user, "AUTHENTICATE", error)) {
        return FALSE;
    }
    g_byte_array_append(raw, (const guint8 *) "", 1);
    g_byte_array_append(raw, (const guint8 *) user, strlen(user));
    g_byte_array_append(raw, (const guint8 *) "", 1);
    g_byte_array_append(raw, (const guint8 *) password, strlen(password));
    b64 = g_base64_encode(raw->data, raw->len);
    memset(raw->data, 0, raw->len);
    args = g_strdup_printf("AUTHENTICATE \"PLAIN\" \"%s\"", b64);
    if (!run(m, "AUTHENTICATE", args, NULL, NULL, error)) {
        if (*error != NULL && (*error)->code != KD_IMAP_ERROR_CLOSED) {
            (*error)->code = KD_IMAP_ERROR_AUTH;
        }
        g_prefix_error(error, "login as %s: ", user);
        return FALSE;
    }
    return TRUE;
}

/* A TLS error on @m's connection @uri; kills the connection. */
static gboolean
fail_tls(KdMupdate *m, const char *uri, const char *why, GError **error)
{
    m->alive = FALSE;
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TLS,
                "%s: STARTTLS %s ([murder] mupdate_starttls = true); no "
                "credentials sent",
                uri, why);
    return FALSE;
}

/*
 * STARTTLS (Cyrus: "* STARTTLS" in the banner, "<tag> STARTTLS", "<tag> OK
 * Begin TLS negotiation now", handshake, then the banner again), with the
 * certificate verified for @host before anything else is sent.
 */
static gboolean
starttls(KdMupdate *m, KdImapTls *trust, const char *host, const char *uri,
         GError **error)
{
    GError *local = NULL;
    GSocket *sock = g_socket_connection_get_socket(m->conn);

    if (!m->offers_starttls) {
        return fail_tls(m, uri,
                        "not offered by the master (give it tls_server_cert "
                        "and tls_server_key)",
                        error);
    }
    if (!run(m, "STARTTLS", "STARTTLS", NULL, NULL, &local)) {
        g_autofree char *why =
            g_strdup_printf("refused: %s", local->message);

        g_error_free(local);
        return fail_tls(m, uri, why, error);
    }
    /* bytes after the OK came in plain text: a man in the middle */
    if (g_buffered_input_stream_get_available(
            G_BUFFERED_INPUT_STREAM(m->in)) > 0) {
        return fail_tls(m, uri, "reply followed by unexpected plain-text data",
                        error);
    }
    m->tls = kd_tls_client_new(sock, trust, host, uri, error);
    if (m->tls == NULL) {
        m->alive = FALSE;
        return FALSE;
    }
    /* the plain-text reader goes; the socket stays open */
    g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(m->in),
                                                FALSE);
    g_clear_object(&m->in);
    m->in = g_data_input_stream_new(kd_tls_client_get_input_stream(m->tls));
    g_data_input_stream_set_newline_type(m->in,
                                         G_DATA_STREAM_NEWLINE_TYPE_LF);
    m->out = kd_tls_client_get_output_stream(m->tls);
    return read_banner(m, error);
}

static KdMupdate *
start(KdMupdate *m, KdImapTls *trust, const char *host, const char *user,
      const char *password, GError **error)
{
    GError *local = NULL;
    g_autofree char *uri = NULL;

    m->alive = TRUE;
    m->in = g_data_input_stream_new(
        g_io_stream_get_input_stream(G_IO_STREAM(m->conn)));
    g_data_input_stream_set_newline_type(m->in,
                                         G_DATA_STREAM_NEWLINE_TYPE_LF);
    m->out = g_io_stream_get_output_stream(G_IO_STREAM(m->conn));
    if (host != NULL) {
        uri = g_strdup_printf("mupdate://%s", m->label);
    }
    if (!read_banner(m, &local) ||
        (host != NULL && !starttls(m, trust, host, uri, &local)) ||
        !authenticate(m, user, password, &local)) {
        if (local->code == KD_IMAP_ERROR_CLOSED) {
            local->code = KD_IMAP_ERROR_TRANSIENT;
        }
        g_propagate_error(error, local);
        kd_mupdate_free(m);
        return NULL;
    }
    return m;
}

KdMupdate *
kd_mupdate_connect(const char *host, guint16 port, const char *user,
                   const char *password, int timeout_s, GError **error)
{
    return kd_mupdate_connect_tls(host, port, FALSE, NULL, user, password,
                                  timeout_s, error);
}

KdMupdate *
kd_mupdate_connect_tls(const char *host, guint16 port, gboolean starttls,
                       KdImapTls *trust, const char *user,
                       const char *password, int timeout_s, GError **error)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    GError *local = NULL;
    KdMupdate *m;

    g_return_val_if_fail(host != NULL && user != NULL && password != NULL,
                         NULL);
    g_socket_client_set_timeout(client, timeout_s > 0 ? (guint) timeout_s
                                                      : 60);
    m = g_new0(KdMupdate, 1);
    m->label = strchr(host, ':') != NULL
                   ? g_strdup_printf("[%s]:%u", host, port)
                   : g_strdup_printf("%s:%u", host, port);
    m->conn = g_socket_client_connect_to_host(client, host, port, NULL,
                                              &local);
    if (m->conn == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT,
                    "cannot connect to mupdate master %s: %s", m->label,
                    local->message);
        g_error_free(local);
        kd_mupdate_free(m);
        return NULL;
    }
    g_socket_set_keepalive(g_socket_connection_get_socket(m->conn), TRUE);
    return start(m, trust, starttls ? host : NULL, user, password, error);
}

KdMupdate *
kd_mupdate_connect_fd(int fd, const char *label, const char *user,
                      const char *password, int timeout_s, GError **error)
{
    GError *local = NULL;
    g_autoptr(GSocket) sock = g_socket_new_from_fd(fd, &local);
    KdMupdate *m;

    if (sock == NULL) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_TRANSIENT, "%s: %s",
                    label, local->message);
        g_error_free(local);
        return NULL;
    }
    g_socket_set_timeout(sock, timeout_s > 0 ? (guint) timeout_s : 60);
    m = g_new0(KdMupdate, 1);
    m->label = g_strdup(label);
    m->conn = g_socket_connection_factory_create_connection(sock);
    return start(m, NULL, NULL, user, password, error);
}

void
kd_mupdate_free(KdMupdate *mupdate)
{
    if (mupdate == NULL) {
        return;
    }
    if (mupdate->alive) {
        /* best effort; the reply is not awaited */
        g_autofree char *line = g_strdup_printf("K%u LOGOUT\r\n",
                                                ++mupdate->tag);

        (void) g_output_stream_write_all(mupdate->out, line, strlen(line),
                                         NULL, NULL, NULL);
    }
    g_clear_object(&mupdate->in);
    if (mupdate->conn != NULL) {
        g_io_stream_close(G_IO_STREAM(mupdate->conn), NULL, NULL);
        g_object_unref(mupdate->conn);
    }
    kd_tls_client_free(mupdate->tls);
    g_free(mupdate->label);
    g_free(mupdate->servername);
    g_free(mupdate);
}

const char *
kd_mupdate_get_servername(const KdMupdate *mupdate)
{
    return mupdate->servername;
}

gboolean
kd_mupdate_is_tls(const KdMupdate *mupdate)
{
    return mupdate->tls != NULL;
}

gboolean
kd_mupdate_is_alive(const KdMupdate *mupdate)
{
    return mupdate->alive;
}

void
kd_mupdate_split_location(const char *location, char **server_out,
                          char **partition_out)
{
    const char *bang = strchr(location, '!');

    if (bang == NULL) {
        *server_out = g_strdup(location);
        if (partition_out != NULL) {
            *partition_out = g_strdup("");
        }
        return;
    }
    *server_out = g_strndup(location, (gsize) (bang - location));
    if (partition_out != NULL) {
        *partition_out = g_strdup(bang + 1);
    }
}

typedef struct {
    KdMupdateListFunc func;
    gpointer data;
    char *server;    /* FIND result */
    char *partition; /* FIND result */
} Walk;

/* "<tag> MAILBOX name location acl" or "<tag> RESERVE name location" */
static gboolean
on_entry(GPtrArray *t, gpointer data)
{
    Walk *w = data;
    g_autofree char *server = NULL;
    g_autofree char *partition = NULL;
    gboolean reserve = strcmp(t->pdata[1], "RESERVE") == 0;

    if ((!reserve && strcmp(t->pdata[1], "MAILBOX") != 0) || t->len < 4) {
        return TRUE;
    }
    kd_mupdate_split_location(t->pdata[3], &server, &partition);
    if (w->func != NULL) {
        return w->func(t->pdata[2], server, partition,
                       reserve || t->len < 5 ? NULL : t->pdata[4], w->data);
    }
    g_free(w->server);
    g_free(w->partition);
    w->server = g_steal_pointer(&server);
    w->partition = g_steal_pointer(&partition);
    return TRUE;
}

gboolean
kd_mupdate_find(KdMupdate *mupdate, const char *internal_name,
                char **server_out, char **partition_out, GError **error)
{
    Walk w = {0};
    g_autofree char *args = NULL;

    if (!check_string(internal_name, "FIND", error)) {
        return FALSE;
    }
    args = g_strdup_printf("FIND \"%s\"", internal_name);
    if (!run(mupdate, "FIND", args, on_entry, &w, error)) {
        g_free(w.server);
        g_free(w.partition);
        return FALSE;
    }
    if (w.server == NULL) {
        g_free(w.partition);
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_NONEXISTENT,
                    "mupdate FIND %s on %s: Mailbox does not exist",
                    internal_name, mupdate->label);
        return FALSE;
    }
    *server_out = w.server;
    if (partition_out != NULL) {
        *partition_out = w.partition;
    } else {
        g_free(w.partition);
    }
    return TRUE;
}

gboolean
kd_mupdate_list(KdMupdate *mupdate, const char *prefix,
                KdMupdateListFunc func, gpointer user_data, GError **error)
{
    Walk w = {.func = func, .data = user_data};
    g_autofree char *args = NULL;

    g_return_val_if_fail(func != NULL, FALSE);
    if (prefix != NULL) {
        if (!check_string(prefix, "LIST", error)) {
            return FALSE;
        }
        args = g_strdup_printf("LIST \"%s\"", prefix);
    } else {
        args = g_strdup("LIST");
    }
    return run(mupdate, "LIST", args, on_entry, &w, error);
}
