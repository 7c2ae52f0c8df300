/*
 * placement-least-used: the up backend with the fewest mailboxes per unit
 * of weight; ties go to the smaller name. It has no configuration.
 *
 * Counts come from the host, which adds each placement to the chosen
 * backend's count as it goes, so filling empty backends in one run keeps
 * their counts (per weight) within one of each other.
 */

#include <stdlib.h>
#include <string.h>

#include "kolabd-plugin.h"

static const char *const least_used_keys[] = {NULL};
static int least_used_state; /* stateless: init returns its address */

/*
 * Compares a_count / a_weight with b_count / b_weight exactly, as
 * a_count * b_weight against b_count * a_weight in 96 bits.
 */
static int
least_used_compare(uint64_t a_count, unsigned int a_weight, uint64_t b_count,
                   unsigned int b_weight)
{
    uint64_t a_lo = (a_count & 0xffffffffu) * b_weight;
    uint64_t a_hi = (a_count >> 32) * b_weight + (a_lo >> 32);
    uint64_t b_lo = (b_count & 0xffffffffu) * a_weight;
    uint64_t b_hi = (b_count >> 32) * a_weight + (b_lo >> 32);

    a_lo &= 0xffffffffu;
    b_lo &= 0xffffffffu;
    if (a_hi != b_hi) {
        return a_hi < b_hi ? -1 : 1;
    }
    if (a_lo != b_lo) {
        return a_lo < b_lo ? -1 : 1;
    }
    return 0;
}

static void *
least_used_init(const KolabdHost *host, const KolabdConfig *config,
                KolabdError *error)
{
    (void)host;
    (void)config;
    (void)error;
    return &least_used_state;
}

static KolabdPlacementResult
least_used_choose(void *state, const KolabdPlacementRequest *request,
                  const KolabdBackend *const *backends, size_t n_backends,
                  size_t *choice_out, KolabdError *error)
{
    const KolabdBackend *best = NULL;
    size_t best_index = 0;
    size_t i;

    (void)state;
    (void)request;
    for (i = 0; i < n_backends; i++) {
        const KolabdBackend *b = backends[i];
        int cmp;

        if (!b->up || b->weight == 0) {
            continue;
        }
        if (best != NULL) {
            cmp = least_used_compare(b->mailbox_count, b->weight,
                                     best->mailbox_count, best->weight);
            if (cmp > 0 || (cmp == 0 && strcmp(b->name, best->name) >= 0)) {
                continue;
            }
        }
        best = b;
        best_index = i;
    }
    if (best == NULL) {
        kolabd_error_set(error, "no backend is up with a weight above 0");
        return KOLABD_PLACEMENT_ERROR;
    }
    *choice_out = best_index;
    return KOLABD_PLACEMENT_CHOSEN;
}

static void
least_used_deinit(void *state)
{
    (void)state;
}

/* No reload: with nothing to configure, init and deinit do. */
KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "least-used",
    .config_keys = least_used_keys, .init = least_used_init,
    .choose = least_used_choose,    .reload = NULL,
    .deinit = least_used_deinit,
};
