/*
 * imap-metadata: a libetpan extension that parses RFC 5464 METADATA
 * responses.
 *
 * libetpan 1.9.4 knows no METADATA; without a registered parser a
 * "* METADATA ..." line makes mailimap_parse_response() fail and leaves the
 * stream out of step (libetpan#90). kd_imap_metadata_register() adds the
 * parser to libetpan's global, unlocked extension list, so it must run
 * before threads start (kd_imap_global_init() calls it). Parsed responses
 * land in session->imap_response_info->rsp_extension_list, where
 * kd_imap_metadata_collect() finds them after each command.
 */
#ifndef KOLABD_IMAP_METADATA_H
#define KOLABD_IMAP_METADATA_H

#include <glib.h>
#include <libetpan/libetpan.h>

/* Registers the parser once; later calls do nothing. Not thread-safe. */
void kd_imap_metadata_register(void);

/*
 * Moves the METADATA items of the last response of @session into @items
 * (GPtrArray of KdImapMetadata, see imap.h). Unsolicited entry-only
 * METADATA responses (change notifications) carry no values and are
 * skipped.
 */
void kd_imap_metadata_collect(mailimap *session, GPtrArray *items);

#endif /* KOLABD_IMAP_METADATA_H */
