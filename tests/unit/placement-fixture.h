/*
 * placement-fixture: helpers shared by the placement tests: where the
 * built plugins are, and short ways to build configs, chains, backends
 * and requests.
 */
#ifndef KOLABD_TESTS_PLACEMENT_FIXTURE_H
#define KOLABD_TESTS_PLACEMENT_FIXTURE_H

#include <glib.h>

#include "placement.h"

/* $KD_TOP_BUILDDIR/plugins/.libs: the built-in plugins. Static string. */
const char *placement_fixture_plugin_dir(void);
/* $KD_TOP_BUILDDIR/tests/plugin/.libs: the check-only plugins. */
const char *placement_fixture_check_dir(void);

/*
 * A config with plugin dir @dir and chain @chain, then @... pairs of
 * "plugin.key", "value" strings, NULL-terminated. Aborts on a bad chain.
 */
KdPlacementSettings *placement_fixture_settings(const char *dir,
                                                const char *chain,
                                                ...) G_GNUC_NULL_TERMINATED;
/* kd_placement_new() of that config; fails the test on error. */
KdPlacement *placement_fixture_chain(const char *dir, const char *chain,
                                     ...) G_GNUC_NULL_TERMINATED;

/* Fills @b: name @name, servername "NAME.example.net", @weight, up. */
void placement_fixture_backend(KolabdBackend *b, const char *name,
                               unsigned int weight);

/* A user request for @mail (domain derived, mailbox user/@mail). */
KdPlacementRequest *placement_fixture_user(const char *mail);

/* Places @request; returns the chosen index or fails the test. */
gsize placement_fixture_choose(KdPlacement *chain,
                               const KdPlacementRequest *request,
                               KolabdBackend *backends, gsize n);

#endif /* KOLABD_TESTS_PLACEMENT_FIXTURE_H */
