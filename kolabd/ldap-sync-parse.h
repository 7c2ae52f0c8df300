/*
 * ldap-sync-parse: RFC 4533 messages as plain events.
 *
 * The syncrepl reader turns each LDAPMessage of its search into one
 * KdSyncEvent (kd_sync_event_from_message) and hands it to the dispatcher
 * (ldap-sync-dispatch.h), which never sees libldap. Unit tests build events
 * by hand, or decode control values they encoded themselves, to drive the
 * dispatcher through messages slapd cannot be made to send.
 *
 * The BER formats are those of RFC 4533 as slapd reads and writes them:
 * the Sync Request control value (kd_sync_encode_request), the Sync State
 * control on entries, the Sync Info intermediate response (newcookie,
 * refreshDelete, refreshPresent, syncIdSet) and the Sync Done control on
 * SearchResultDone. Decoders copy everything they keep, so the message may
 * be freed afterwards. Malformed values give KD_SYNC_PARSE_ERROR.
 */
#ifndef KOLABD_LDAP_SYNC_PARSE_H
#define KOLABD_LDAP_SYNC_PARSE_H

#include <glib.h>
#include <ldap.h>

#include "entry.h"
#include "object.h"

#define KD_SYNC_PARSE_ERROR (kd_sync_parse_error_quark())
GQuark kd_sync_parse_error_quark(void);

typedef enum {
    KD_SYNC_EV_ENTRY,           /* SearchResultEntry with Sync State */
    KD_SYNC_EV_REFERENCE,       /* SearchResultReference: ignored */
    KD_SYNC_EV_NEWCOOKIE,       /* syncInfo newcookie */
    KD_SYNC_EV_REFRESH_DELETE,  /* syncInfo refreshDelete */
    KD_SYNC_EV_REFRESH_PRESENT, /* syncInfo refreshPresent */
    KD_SYNC_EV_ID_SET,          /* syncInfo syncIdSet */
    KD_SYNC_EV_DONE,            /* SearchResultDone (+ Sync Done) */
} KdSyncEventType;

/* Sync State values (RFC 4533). */
typedef enum {
    KD_SYNC_STATE_PRESENT = 0,
    KD_SYNC_STATE_ADD = 1,
    KD_SYNC_STATE_MODIFY = 2,
    KD_SYNC_STATE_DELETE = 3,
} KdSyncEntryState;

typedef struct {
    KdSyncEventType type;
    /* ENTRY */
    int state; /* KD_SYNC_STATE_* */
    guint8 uuid[KD_UUID_LEN];
    KdEntry *entry; /* owned; DN may be empty */
    /* every type: the cookie carried, NULL when absent (may be empty) */
    GBytes *cookie;
    /* REFRESH_DELETE / REFRESH_PRESENT: refreshDone (default TRUE) */
    gboolean refresh_done;
    /* ID_SET and DONE: refreshDeletes (default FALSE) */
    gboolean refresh_deletes;
    /* ID_SET: n_uuids * 16 bytes */
    GByteArray *uuids;
    /* DONE */
    int rc;
    char *text; /* diagnostic message or NULL */
    gboolean has_done_control;
} KdSyncEvent;

/* A zeroed event of @type (refresh_done TRUE). */
KdSyncEvent *kd_sync_event_new(KdSyncEventType type);
void kd_sync_event_free(KdSyncEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdSyncEvent, kd_sync_event_free)
/* Number of UUIDs of an ID_SET event. */
guint kd_sync_event_n_uuids(const KdSyncEvent *event);

/*
 * Encodes the Sync Request control value: mode (LDAP_SYNC_REFRESH_ONLY or
 * LDAP_SYNC_REFRESH_AND_PERSIST), the cookie when @cookie is non-NULL and
 * non-empty, and reloadHint. @value_out gets memory from liblber: free
 * value_out->bv_val with ber_memfree.
 */
gboolean kd_sync_encode_request(int mode, GBytes *cookie, gboolean reload_hint,
                                struct berval *value_out, GError **error);

/* Decoders for control values; they fill the fields of @event. */
gboolean kd_sync_decode_state(const struct berval *value, KdSyncEvent *event,
                              GError **error);
/* Sets event->type from the choice tag. */
gboolean kd_sync_decode_info(const struct berval *value, KdSyncEvent *event,
                             GError **error);
gboolean kd_sync_decode_done(const struct berval *value, KdSyncEvent *event,
                             GError **error);

/*
 * Converts one message of the sync search into an event, or returns NULL
 * with @error set: an entry without exactly one Sync State control or with
 * a UUID that is not 16 bytes, an undecodable control, or an unexpected
 * message type are protocol errors (KD_SYNC_PARSE_ERROR).
 */
KdSyncEvent *kd_sync_event_from_message(LDAP *ld, LDAPMessage *msg,
                                        GError **error);

#endif /* KOLABD_LDAP_SYNC_PARSE_H */
