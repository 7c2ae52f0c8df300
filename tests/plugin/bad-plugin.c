/*
 * bad-plugin: check-only plugins that kolabd must refuse to load, one per
 * define (see plugins/local.mk): a wrong ABI version (KD_BAD_ABI), no
 * kolabd_placement_plugin symbol (KD_BAD_NOSYM), a NULL choose
 * (KD_BAD_NULLFN), a struct_size too small (KD_BAD_SIZE), a name that is
 * not the file's (KD_BAD_NAME). Their functions must never run.
 */

#include <stdlib.h>

#include "kolabd-plugin.h"

static void *
bad_init(const KolabdHost *host, const KolabdConfig *config, KolabdError *error)
{
    (void)host;
    (void)config;
    (void)error;
    abort(); /* a refused plugin must not run */
}

#ifndef KD_BAD_NULLFN
static KolabdPlacementResult
bad_choose(void *state, const KolabdPlacementRequest *request,
           const KolabdBackend *const *backends, size_t n_backends,
           size_t *choice_out, KolabdError *error)
{
    (void)state;
    (void)request;
    (void)backends;
    (void)n_backends;
    (void)choice_out;
    (void)error;
    abort();
}
#endif

static void
bad_deinit(void *state)
{
    (void)state;
    abort();
}

#if defined(KD_BAD_ABI)
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    .abi_version = KOLABD_PLACEMENT_ABI_VERSION + 41,
    .struct_size = sizeof(KolabdPlacementPlugin),
    .name = "badabi",
    .init = bad_init,
    .choose = bad_choose,
    .deinit = bad_deinit,
};
#elif defined(KD_BAD_NOSYM)
/* a near miss: the loader looks for kolabd_placement_plugin exactly */
extern const KolabdPlacementPlugin kolabd_placement_plugin_v0;
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin_v0 = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "nosym",      .init = bad_init,
    .choose = bad_choose,           .deinit = bad_deinit,
};
#elif defined(KD_BAD_NULLFN)
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER,
    .name = "nullfn",
    .init = bad_init,
    .choose = NULL,
    .deinit = bad_deinit,
};
#elif defined(KD_BAD_SIZE)
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    .abi_version = KOLABD_PLACEMENT_ABI_VERSION,
    /* as if built against a header that ended after init */
    .struct_size = offsetof(KolabdPlacementPlugin, choose),
    .name = "small",
    .init = bad_init,
    .choose = bad_choose,
    .deinit = bad_deinit,
};
#elif defined(KD_BAD_NAME)
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "someone-else", .init = bad_init,
    .choose = bad_choose,           .deinit = bad_deinit,
};
#else
#error "define one of KD_BAD_ABI, _NOSYM, _NULLFN, _SIZE, _NAME"
#endif
