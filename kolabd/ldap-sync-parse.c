/* ldap-sync-parse: see ldap-sync-parse.h. */
#include "config.h"

#include <string.h>

#include "ldap-sync-parse.h"

G_DEFINE_QUARK(kd - sync - parse - error - quark, kd_sync_parse_error)

/* RFC 4533 tags (ldap.h has the same values under LDAP_TAG_*). */
#define TAG_COOKIE 0x04UL
#define TAG_BOOLEAN 0x01UL
#define TAG_NEWCOOKIE 0x80UL
#define TAG_REFRESH_DELETE 0xa1UL
#define TAG_REFRESH_PRESENT 0xa2UL
#define TAG_ID_SET 0xa3UL

KdSyncEvent *
kd_sync_event_new(KdSyncEventType type)
{
    KdSyncEvent *event = g_new0(KdSyncEvent, 1);

    event->type = type;
    event->refresh_done = TRUE;
    return event;
}

void
kd_sync_event_free(KdSyncEvent *event)
{
    if (event == NULL) {
        return;
    }
    kd_entry_free(event->entry);
    if (event->cookie != NULL) {
        g_bytes_unref(event->cookie);
    }
    if (event->uuids != NULL) {
        g_byte_array_unref(event->uuids);
    }
    g_free(event->text);
    g_free(event);
}

guint
kd_sync_event_n_uuids(const KdSyncEvent *event)
{
    return event->uuids != NULL ? event->uuids->len / KD_UUID_LEN : 0;
}

static gboolean
parse_fail(GError **error, const char *what)
{
    g_set_error(error, KD_SYNC_PARSE_ERROR, 0, "malformed %s", what);
    return FALSE;
}

gboolean
kd_sync_encode_request(int mode, GBytes *cookie, gboolean reload_hint,
                       struct berval *value_out, GError **error)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    gsize len = 0;
    const char *data = cookie ? g_bytes_get_data(cookie, &len) : NULL;
    int rc;

    value_out->bv_val = NULL;
    value_out->bv_len = 0;
    if (ber == NULL) {
        return parse_fail(error, "Sync Request (out of memory)");
    }
    if (len > 0) {
        struct berval bv = {len, (char *)data};

        rc = ber_printf(ber, "{eOb}", (ber_int_t)mode, &bv,
                        (ber_int_t)(reload_hint ? 1 : 0));
    } else {
        rc = ber_printf(ber, "{eb}", (ber_int_t)mode,
                        (ber_int_t)(reload_hint ? 1 : 0));
    }
    if (rc == -1 || ber_flatten2(ber, value_out, 1) == -1) {
        ber_free(ber, 1);
        return parse_fail(error, "Sync Request (encoding failed)");
    }
    ber_free(ber, 1);
    return TRUE;
}

static void
set_cookie(KdSyncEvent *event, const struct berval *bv)
{
    if (event->cookie != NULL) {
        g_bytes_unref(event->cookie);
    }
    event->cookie = g_bytes_new(bv->bv_val, bv->bv_len);
}

/* Reads an optional cookie (0x04) at the current position. */
static gboolean
opt_cookie(BerElement *ber, KdSyncEvent *event)
{
    ber_len_t len;
    struct berval bv;

    if (ber_peek_tag(ber, &len) != TAG_COOKIE) {
        return TRUE;
    }
    if (ber_scanf(ber, "m", &bv) == LBER_ERROR) {
        return FALSE;
    }
    set_cookie(event, &bv);
    return TRUE;
}

/* Reads an optional BOOLEAN (0x01) into *@value (left alone if absent). */
static gboolean
opt_bool(BerElement *ber, gboolean *value)
{
    ber_len_t len;
    ber_int_t b;

    if (ber_peek_tag(ber, &len) != TAG_BOOLEAN) {
        return TRUE;
    }
    if (ber_scanf(ber, "b", &b) == LBER_ERROR) {
        return FALSE;
    }
    *value = b != 0;
    return TRUE;
}

gboolean
kd_sync_decode_state(const struct berval *value, KdSyncEvent *event,
                     GError **error)
{
    BerElement *ber = ber_init((struct berval *)value);
    ber_int_t state;
    struct berval uuid;
    gboolean ok;

    if (ber == NULL) {
        return parse_fail(error, "Sync State control");
    }
    ok = ber_scanf(ber, "{em", &state, &uuid) != LBER_ERROR &&
         opt_cookie(ber, event);
    if (ok && uuid.bv_len != KD_UUID_LEN) {
        ber_free(ber, 1);
        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "Sync State control: entryUUID has %lu bytes, not 16",
                    (unsigned long)uuid.bv_len);
        return FALSE;
    }
    if (ok && (state < KD_SYNC_STATE_PRESENT || state > KD_SYNC_STATE_DELETE)) {
        ber_free(ber, 1);
        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "Sync State control: unknown state %d", (int)state);
        return FALSE;
    }
    if (ok) {
        event->state = state;
        memcpy(event->uuid, uuid.bv_val, KD_UUID_LEN);
    }
    ber_free(ber, 1);
    return ok ? TRUE : parse_fail(error, "Sync State control");
}

static gboolean
decode_id_set(BerElement *ber, KdSyncEvent *event, GError **error)
{
    BerVarray set = NULL;
    ber_tag_t tag;

    if (ber_scanf(ber, "t{", &tag) == LBER_ERROR || !opt_cookie(ber, event) ||
        !opt_bool(ber, &event->refresh_deletes) ||
        ber_scanf(ber, "[W]", &set) == LBER_ERROR) {
        return parse_fail(error, "syncIdSet");
    }
    event->uuids = g_byte_array_new();
    for (guint i = 0; set != NULL && set[i].bv_val != NULL; i++) {
        if (set[i].bv_len != KD_UUID_LEN) {
            ber_bvarray_free(set);
            g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                        "syncIdSet: UUID %u has %lu bytes, not 16", i,
                        (unsigned long)set[i].bv_len);
            return FALSE;
        }
        g_byte_array_append(event->uuids, (const guint8 *)set[i].bv_val,
                            KD_UUID_LEN);
    }
    ber_bvarray_free(set);
    return TRUE;
}

gboolean
kd_sync_decode_info(const struct berval *value, KdSyncEvent *event,
                    GError **error)
{
    BerElement *ber = ber_init((struct berval *)value);
    ber_len_t len;
    ber_tag_t tag;
    struct berval bv;
    gboolean ok = FALSE;

    if (ber == NULL) {
        return parse_fail(error, "syncInfo");
    }
    tag = ber_peek_tag(ber, &len);
    switch (tag) {
    case TAG_NEWCOOKIE:
        event->type = KD_SYNC_EV_NEWCOOKIE;
        ok = ber_scanf(ber, "tm", &tag, &bv) != LBER_ERROR;
        if (ok) {
            set_cookie(event, &bv);
        }
        break;
    case TAG_REFRESH_DELETE:
    case TAG_REFRESH_PRESENT:
        event->type = tag == TAG_REFRESH_DELETE ? KD_SYNC_EV_REFRESH_DELETE
                                                : KD_SYNC_EV_REFRESH_PRESENT;
        event->refresh_done = TRUE;
        ok = ber_scanf(ber, "t{", &tag) != LBER_ERROR &&
             opt_cookie(ber, event) && opt_bool(ber, &event->refresh_done);
        break;
    case TAG_ID_SET:
        event->type = KD_SYNC_EV_ID_SET;
        event->refresh_deletes = FALSE;
        ok = decode_id_set(ber, event, error);
        ber_free(ber, 1);
        return ok;
    default:
        ber_free(ber, 1);
        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "syncInfo: unknown choice tag 0x%lx", (unsigned long)tag);
        return FALSE;
    }
    ber_free(ber, 1);
    return ok ? TRUE : parse_fail(error, "syncInfo");
}

gboolean
kd_sync_decode_done(const struct berval *value, KdSyncEvent *event,
                    GError **error)
{
    BerElement *ber = ber_init((struct berval *)value);
    gboolean ok;

    if (ber == NULL) {
        return parse_fail(error, "Sync Done control");
    }
    event->refresh_deletes = FALSE;
    ok = ber_scanf(ber, "{") != LBER_ERROR && opt_cookie(ber, event) &&
         opt_bool(ber, &event->refresh_deletes);
    ber_free(ber, 1);
    if (ok) {
        event->has_done_control = TRUE;
    }
    return ok ? TRUE : parse_fail(error, "Sync Done control");
}

static KdEntry *
entry_from_message(LDAP *ld, LDAPMessage *msg)
{
    char *dn = ldap_get_dn(ld, msg);
    KdEntry *entry = kd_entry_new(dn != NULL ? dn : "");
    BerElement *ber = NULL;

    ldap_memfree(dn);
    for (char *attr = ldap_first_attribute(ld, msg, &ber); attr != NULL;
         attr = ldap_next_attribute(ld, msg, ber)) {
        struct berval **values = ldap_get_values_len(ld, msg, attr);

        for (guint i = 0; values != NULL && values[i] != NULL; i++) {
            kd_entry_add_value(entry, attr, values[i]->bv_val,
                               values[i]->bv_len);
        }
        ldap_value_free_len(values);
        ldap_memfree(attr);
    }
    ber_free(ber, 0);
    return entry;
}

static KdSyncEvent *
event_from_entry(LDAP *ld, LDAPMessage *msg, GError **error)
{
    g_autoptr(KdSyncEvent) event = kd_sync_event_new(KD_SYNC_EV_ENTRY);
    LDAPControl **ctrls = NULL;
    LDAPControl *state = NULL;
    int rc, n = 0;

    rc = ldap_get_entry_controls(ld, msg, &ctrls);
    if (rc != LDAP_SUCCESS) {
        g_set_error(error, KD_SYNC_PARSE_ERROR, rc,
                    "cannot read entry controls: %s", ldap_err2string(rc));
        return NULL;
    }
    for (guint i = 0; ctrls != NULL && ctrls[i] != NULL; i++) {
        if (strcmp(ctrls[i]->ldctl_oid, LDAP_CONTROL_SYNC_STATE) == 0) {
            state = ctrls[i];
            n++;
        }
    }
    if (n != 1) {
        char *dn = ldap_get_dn(ld, msg);

        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "entry \"%s\" carries %d Sync State controls, not one",
                    dn != NULL ? dn : "", n);
        ldap_memfree(dn);
        ldap_controls_free(ctrls);
        return NULL;
    }
    if (!kd_sync_decode_state(&state->ldctl_value, event, error)) {
        ldap_controls_free(ctrls);
        return NULL;
    }
    ldap_controls_free(ctrls);
    event->entry = entry_from_message(ld, msg);
    return g_steal_pointer(&event);
}

static KdSyncEvent *
event_from_intermediate(LDAP *ld, LDAPMessage *msg, GError **error)
{
    g_autoptr(KdSyncEvent) event = kd_sync_event_new(KD_SYNC_EV_NEWCOOKIE);
    char *oid = NULL;
    struct berval *data = NULL;
    gboolean ok;
    int rc;

    rc = ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0);
    if (rc != LDAP_SUCCESS) {
        g_set_error(error, KD_SYNC_PARSE_ERROR, rc,
                    "cannot parse intermediate response: %s",
                    ldap_err2string(rc));
        return NULL;
    }
    if (oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 || data == NULL) {
        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "unexpected intermediate response %s",
                    oid != NULL ? oid : "(no OID)");
        ok = FALSE;
    } else {
        ok = kd_sync_decode_info(data, event, error);
    }
    ldap_memfree(oid);
    ber_bvfree(data);
    return ok ? g_steal_pointer(&event) : NULL;
}

static KdSyncEvent *
event_from_result(LDAP *ld, LDAPMessage *msg, GError **error)
{
    g_autoptr(KdSyncEvent) event = kd_sync_event_new(KD_SYNC_EV_DONE);
    LDAPControl **ctrls = NULL;
    char *text = NULL;
    int err = 0, rc;
    gboolean ok = TRUE;

    rc = ldap_parse_result(ld, msg, &err, NULL, &text, NULL, &ctrls, 0);
    if (rc != LDAP_SUCCESS) {
        g_set_error(error, KD_SYNC_PARSE_ERROR, rc,
                    "cannot parse search result: %s", ldap_err2string(rc));
        return NULL;
    }
    event->rc = err;
    if (text != NULL && text[0] != '\0') {
        event->text = g_strdup(text);
    }
    ldap_memfree(text);
    for (guint i = 0; ctrls != NULL && ctrls[i] != NULL; i++) {
        if (strcmp(ctrls[i]->ldctl_oid, LDAP_CONTROL_SYNC_DONE) == 0) {
            ok = kd_sync_decode_done(&ctrls[i]->ldctl_value, event, error);
            break;
        }
    }
    ldap_controls_free(ctrls);
    return ok ? g_steal_pointer(&event) : NULL;
}

KdSyncEvent *
kd_sync_event_from_message(LDAP *ld, LDAPMessage *msg, GError **error)
{
    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        return event_from_entry(ld, msg, error);
    case LDAP_RES_SEARCH_REFERENCE:
        return kd_sync_event_new(KD_SYNC_EV_REFERENCE);
    case LDAP_RES_INTERMEDIATE:
        return event_from_intermediate(ld, msg, error);
    case LDAP_RES_SEARCH_RESULT:
        return event_from_result(ld, msg, error);
    default:
        g_set_error(error, KD_SYNC_PARSE_ERROR, 0,
                    "unexpected LDAP message type 0x%x", ldap_msgtype(msg));
        return NULL;
    }
}
