/*
 * imap: session teardown, state, and the raw-command helper; connecting
 * (greeting, TLS) lives in imap-connect.c, the admin commands in
 * imap-command.c. See imap.h.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "imap-metadata.h"
#include "imap-private.h"
#include "imap-quote.h"
#include "imap.h"

void
kd_imap_global_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        signal(SIGPIPE, SIG_IGN);
        kd_imap_metadata_register();
        g_once_init_leave(&done, 1);
    }
}

char *
kd_imap_find_bye(const KdImap *imap)
{
    const char *bye = NULL;
    const char *p = imap->received->str;

    while ((p = strstr(p, "* BYE")) != NULL) {
        bye = p;
        p += 5;
    }
    if (bye == NULL) {
        return NULL;
    }
    return g_strndup(bye, strcspn(bye, "\r\n"));
}

void
kd_imap_mark_dead(KdImap *imap)
{
    if (!imap->alive) {
        return;
    }
    imap->alive = FALSE;
    if (imap->session->imap_stream != NULL) {
        mailstream_close(imap->session->imap_stream);
        imap->session->imap_stream = NULL;
    }
    imap->session->imap_state = MAILIMAP_STATE_DISCONNECTED;
}

/* Sets a CLOSED error after libetpan code @r, and kills the session. */
static gboolean
fail_dead(KdImap *imap, const char *mailbox, const char *what, int r,
          GError **error)
{
    g_autofree char *bye = kd_imap_find_bye(imap);
    g_autofree char *why = NULL;

    if (bye != NULL) {
        why = g_strdup_printf("server said: %s", bye);
    } else if (r == MAILIMAP_ERROR_PARSE) {
        why = g_strdup("unparsable reply");
    } else {
        why = g_strdup_printf("connection lost or timed out (libetpan %d)",
                              r);
    }
    kd_imap_mark_dead(imap);
    g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED,
                "%s%s%s on %s: session closed, reconnect: %s", what,
                mailbox ? " " : "", mailbox ? mailbox : "", imap->label, why);
    return FALSE;
}

static gboolean
check_alive(KdImap *imap, const char *mailbox, GError **error)
{
    if (!imap->alive) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_CLOSED,
                    "%s%son %s: session is closed, reconnect",
                    mailbox ? mailbox : "", mailbox ? " " : "", imap->label);
        return FALSE;
    }
    return TRUE;
}

void
kd_imap_free(KdImap *imap)
{
    if (imap == NULL) {
        return;
    }
    if (imap->alive) {
        /* mailimap_logout() always closes the stream, even on error */
        mailimap_logout(imap->session);
        imap->alive = FALSE;
    }
    if (imap->session->imap_stream != NULL) {
        mailstream_close(imap->session->imap_stream);
        imap->session->imap_stream = NULL;
    }
    mailimap_free(imap->session);
    g_string_free(imap->received, TRUE);
    g_free(imap->label);
    g_free(imap->greeting);
    g_free(imap->servername);
    g_free(imap->version);
    g_free(imap->identity);
    g_free(imap);
}

const char *
kd_imap_get_label(const KdImap *imap)
{
    return imap->label;
}

const char *
kd_imap_get_servername(const KdImap *imap)
{
    return imap->servername;
}

const char *
kd_imap_server_version(const KdImap *imap)
{
    return imap->version;
}

gboolean
kd_imap_has_shared_annotation_bug(const KdImap *imap)
{
    guint64 v[3] = {0, 0, 0};
    const char *p = imap->version;

    if (p == NULL) {
        return FALSE;
    }
    for (int i = 0; i < 3; i++) {
        char *end = NULL;

        v[i] = g_ascii_strtoull(p, &end, 10);
        if (end == p) {
            return FALSE;
        }
        p = end;
        if (*p == '.') {
            p++;
        } else if (i < 2) {
            return FALSE;
        }
    }
    return v[0] == 3 && ((v[1] == 6 && v[2] < 3) || v[1] == 7);
}

gboolean
kd_imap_is_alive(const KdImap *imap)
{
    return imap->alive;
}

gboolean
kd_imap_has_capability(KdImap *imap, const char *capability)
{
    return imap->alive &&
           mailimap_has_extension(imap->session, (char *) capability) != 0;
}

void
kd_imap_reply_free(KdImapReply *reply)
{
    if (reply == NULL) {
        return;
    }
    g_free(reply->status);
    g_free(reply->code);
    g_free(reply->code_value);
    g_free(reply->text);
    if (reply->untagged != NULL) {
        g_ptr_array_unref(reply->untagged);
    }
    g_free(reply);
}

static void
read_code(struct mailimap_resp_text *rt, char **code_out, char **value_out)
{
    struct mailimap_resp_text_code *c;

    if (rt == NULL || rt->rsp_code == NULL) {
        return;
    }
    c = rt->rsp_code;
    switch (c->rc_type) {
    case MAILIMAP_RESP_TEXT_CODE_OTHER:
        *code_out = g_strdup(c->rc_data.rc_atom.atom_name);
        *value_out = g_strdup(c->rc_data.rc_atom.atom_value);
        break;
    case MAILIMAP_RESP_TEXT_CODE_TRY_CREATE:
        *code_out = g_strdup("TRYCREATE");
        break;
    case MAILIMAP_RESP_TEXT_CODE_ALERT:
        *code_out = g_strdup("ALERT");
        break;
    case MAILIMAP_RESP_TEXT_CODE_PARSE:
        *code_out = g_strdup("PARSE");
        break;
    default:
        break;
    }
}

static const char *
cond_name(int type)
{
    switch (type) {
    case MAILIMAP_RESP_COND_STATE_OK:
        return "OK";
    case MAILIMAP_RESP_COND_STATE_NO:
        return "NO";
    default:
        return "BAD";
    }
}

static void
collect_untagged(struct mailimap_response *resp, KdImapReply *reply)
{
    clist *list = resp->rsp_cont_req_or_resp_data_list;

    if (list == NULL) {
        return;
    }
    for (clistiter *it = clist_begin(list); it != NULL; it = clist_next(it)) {
        struct mailimap_cont_req_or_resp_data *d = clist_content(it);
        struct mailimap_response_data *rd;

        if (d->rsp_type != MAILIMAP_RESP_RESP_DATA) {
            continue;
        }
        rd = d->rsp_data.rsp_resp_data;
        if (rd->rsp_type == MAILIMAP_RESP_DATA_TYPE_COND_STATE) {
            struct mailimap_resp_cond_state *cs = rd->rsp_data.rsp_cond_state;
            const char *t = cs->rsp_text ? cs->rsp_text->rsp_text : NULL;

            g_ptr_array_add(reply->untagged,
                            g_strdup_printf("%s %s", cond_name(cs->rsp_type),
                                            t ? t : ""));
        } else if (rd->rsp_type == MAILIMAP_RESP_DATA_TYPE_COND_BYE) {
            struct mailimap_resp_text *bt = rd->rsp_data.rsp_bye->rsp_text;

            g_ptr_array_add(reply->untagged,
                            g_strdup_printf("BYE %s", bt && bt->rsp_text
                                                          ? bt->rsp_text
                                                          : ""));
        }
    }
}

/* After MAILIMAP_ERROR_PROTOCOL: was it a tagged BAD for our tag? */
static gboolean
tagged_bad(KdImap *imap, const char *tag)
{
    g_autofree char *needle = g_strdup_printf("%s BAD", tag);
    const char *buf = imap->session->imap_stream_buffer->str;
    const char *p = strstr(buf, needle);

    return p != NULL && (p == buf || p[-1] == '\n');
}

/* Checks @args and writes "<tag> @args CRLF"; returns the tag or NULL. */
static char *
send_line(KdImap *imap, const char *mailbox, const char *what,
          const char *args, GError **error)
{
    mailimap *s = imap->session;
    int r;

    if (!check_alive(imap, mailbox, error)) {
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *) args; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_INVALID_NAME,
                        "%s %s: command contains a control or 8-bit "
                        "character (refused before sending)",
                        what, mailbox ? mailbox : "");
            return NULL;
        }
    }
    /* received is not cleared: a BYE always ends the session */
    r = mailimap_send_current_tag(s);
    if (r == MAILIMAP_NO_ERROR &&
        (mailstream_write(s->imap_stream, args, strlen(args)) < 0 ||
         mailstream_write(s->imap_stream, "\r\n", 2) < 0 ||
         mailstream_flush(s->imap_stream) < 0)) {
        r = MAILIMAP_ERROR_STREAM;
    }
    if (r != MAILIMAP_NO_ERROR) {
        fail_dead(imap, mailbox, what, r, error);
        return NULL;
    }
    return g_strdup_printf("%d", s->imap_tag);
}

/* Reads the reply to @tag up to its tagged line and classifies it. */
static gboolean
finish(KdImap *imap, const char *mailbox, const char *what, const char *tag,
       KdImapReply **reply_out, GError **error)
{
    mailimap *s = imap->session;
    struct mailimap_response *resp = NULL;
    g_autoptr(KdImapReply) reply = NULL;
    struct mailimap_resp_cond_state *cs;
    KdImapError code;
    int r = MAILIMAP_NO_ERROR;

    if (mailimap_read_line(s) == NULL) {
        r = MAILIMAP_ERROR_STREAM;
    }
    if (r == MAILIMAP_NO_ERROR) {
        r = mailimap_parse_response(s, &resp);
    }
    if (r == MAILIMAP_ERROR_PROTOCOL && tagged_bad(imap, tag)) {
        g_set_error(error, KD_IMAP_ERROR, KD_IMAP_ERROR_BUG,
                    "%s%s%s on %s: BAD %s", what, mailbox ? " " : "",
                    mailbox ? mailbox : "", imap->label,
                    s->imap_response ? s->imap_response : "");
        return FALSE;
    }
    if (r != MAILIMAP_NO_ERROR) {
        return fail_dead(imap, mailbox, what, r, error);
    }
    reply = g_new0(KdImapReply, 1);
    reply->untagged = g_ptr_array_new_with_free_func(g_free);
    collect_untagged(resp, reply);
    cs = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state;
    reply->status = g_strdup(cond_name(cs->rsp_type));
    reply->text = g_strdup(cs->rsp_text && cs->rsp_text->rsp_text
                               ? cs->rsp_text->rsp_text
                               : "");
    read_code(cs->rsp_text, &reply->code, &reply->code_value);
    mailimap_response_free(resp);
    for (guint i = 0; i < reply->untagged->len; i++) {
        if (g_str_has_prefix(reply->untagged->pdata[i], "BYE ")) {
            return fail_dead(imap, mailbox, what, MAILIMAP_ERROR_FATAL, error);
        }
    }
    if (strcmp(reply->status, "OK") != 0) {
        code = kd_imap_error_classify(reply->status, reply->code,
                                      reply->text);
        g_set_error(error, KD_IMAP_ERROR, code, "%s%s%s on %s: %s %s%s%s%s",
                    what, mailbox ? " " : "", mailbox ? mailbox : "",
                    imap->label, reply->status, reply->code ? "[" : "",
                    reply->code ? reply->code : "",
                    reply->code ? "] " : "", reply->text);
        return FALSE;
    }
    if (reply_out != NULL) {
        *reply_out = g_steal_pointer(&reply);
    }
    return TRUE;
}

gboolean
kd_imap_run(KdImap *imap, const char *mailbox, const char *what,
            const char *args, KdImapReply **reply_out, GError **error)
{
    g_autofree char *tag = send_line(imap, mailbox, what, args, error);

    if (tag == NULL) {
        return FALSE;
    }
    return finish(imap, mailbox, what, tag, reply_out, error);
}

gboolean
kd_imap_run_continued(KdImap *imap, const char *args, const char *data,
                      GError **error)
{
    mailimap *s = imap->session;
    g_autofree char *tag = send_line(imap, NULL, args, args, error);
    const char *line;

    if (tag == NULL) {
        return FALSE;
    }
    line = mailimap_read_line(s);
    if (line == NULL) {
        return fail_dead(imap, NULL, args, MAILIMAP_ERROR_STREAM, error);
    }
    if (line[0] != '+') {
        /* an immediate tagged reply: parse it from the buffer */
        struct mailimap_response *resp = NULL;
        int r = mailimap_parse_response(s, &resp);

        if (resp != NULL) {
            mailimap_response_free(resp);
        }
        g_set_error(error, KD_IMAP_ERROR,
                    r == MAILIMAP_ERROR_PROTOCOL ? KD_IMAP_ERROR_BUG
                                                 : KD_IMAP_ERROR_FAILED,
                    "%s on %s: %s", args, imap->label,
                    s->imap_response ? s->imap_response : "refused");
        return FALSE;
    }
    if (mailstream_write(s->imap_stream, data, strlen(data)) < 0 ||
        mailstream_write(s->imap_stream, "\r\n", 2) < 0 ||
        mailstream_flush(s->imap_stream) < 0) {
        return fail_dead(imap, NULL, args, MAILIMAP_ERROR_STREAM, error);
    }
    return finish(imap, NULL, args, tag, NULL, error);
}

gboolean
kd_imap_command(KdImap *imap, const char *mailbox, const char *args,
                KdImapReply **reply_out, GError **error)
{
    g_autofree char *what = g_strndup(args, strcspn(args, " "));

    return kd_imap_run(imap, mailbox, what, args, reply_out, error);
}

gboolean
kd_imap_noop(KdImap *imap, GError **error)
{
    return kd_imap_run(imap, NULL, "NOOP", "NOOP", NULL, error);
}

