/*
 * store-extra: store accessors the engine needs besides store.h.
 */
#ifndef KOLABD_STORE_EXTRA_H
#define KOLABD_STORE_EXTRA_H

#include <sqlite3.h>

#include "store.h"

/*
 * When @uuid was first seen absent (unix seconds) into *@since_out; the
 * current time when the object is present or unknown.
 */
gboolean kd_store_get_absent_since(KdStore *store,
                                   const guint8 uuid[KD_UUID_LEN],
                                   gint64 *since_out, GError **error);

/*
 * The store's SQLite connection, for modules that keep a table of their
 * own in the same transaction (hooks). Owned by @store.
 */
sqlite3 *kd_store_get_db(KdStore *store);

#endif /* KOLABD_STORE_EXTRA_H */
