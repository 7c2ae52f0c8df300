/*
 * placement-hash: weighted rendezvous hashing over all up backends.
 *
 *     [placement hash]
 *     key = mail      (the default) or domain
 *
 * The same key always lands on the same backend, on any host and in any
 * run; a backend's share of keys follows its weight; adding a backend
 * moves only the keys it now wins (see rendezvous.h). With key = domain a
 * whole domain lands on one backend. A request without the key (a shared
 * folder without mail) is hashed by its mailbox name.
 */

#include <stdlib.h>
#include <string.h>

#include "kolabd-plugin.h"
#include "rendezvous.h"

typedef enum { HASH_KEY_MAIL, HASH_KEY_DOMAIN } HashKey;

typedef struct {
    const KolabdHost *host;
    HashKey key;
} HashState;

static const char *const hash_keys[] = {"key", NULL};

static int
hash_parse(const KolabdConfig *config, HashKey *key_out, KolabdError *error)
{
    const char *key = kolabd_config_get(config, "key");

    if (key == NULL || strcmp(key, "mail") == 0) {
        *key_out = HASH_KEY_MAIL;
    } else if (strcmp(key, "domain") == 0) {
        *key_out = HASH_KEY_DOMAIN;
    } else {
        kolabd_error_set(error, "[%s] key must be 'mail' or 'domain', not '%s'",
                         config->group, key);
        return -1;
    }
    return 0;
}

static void *
hash_init(const KolabdHost *host, const KolabdConfig *config,
          KolabdError *error)
{
    HashState *state;
    HashKey key;

    if (hash_parse(config, &key, error) < 0) {
        return NULL;
    }
    state = calloc(1, sizeof *state);
    if (state == NULL) {
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    state->host = host;
    state->key = key;
    return state;
}

static KolabdPlacementResult
hash_choose(void *data, const KolabdPlacementRequest *request,
            const KolabdBackend *const *backends, size_t n_backends,
            size_t *choice_out, KolabdError *error)
{
    HashState *state = data;
    const KolabdHost *host = state->host;
    const char *key = NULL;

    if (state->key == HASH_KEY_DOMAIN) {
        key = host->request_domain(request);
    }
    if (key == NULL) {
        key = host->request_mail(request);
    }
    if (key == NULL) {
        key = host->request_mailbox(request);
    }
    if (key == NULL) {
        kolabd_error_set(error, "request has neither mail nor mailbox");
        return KOLABD_PLACEMENT_ERROR;
    }
    if (kd_rendezvous_pick(backends, n_backends, NULL, 0, key, choice_out) <
        0) {
        kolabd_error_set(error, "no backend is up with a weight above 0");
        return KOLABD_PLACEMENT_ERROR;
    }
    return KOLABD_PLACEMENT_CHOSEN;
}

static int
hash_reload(void *data, const KolabdConfig *config, KolabdError *error)
{
    HashState *state = data;
    HashKey key;

    if (hash_parse(config, &key, error) < 0) {
        return -1;
    }
    state->key = key;
    return 0;
}

static void
hash_deinit(void *data)
{
    free(data);
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "hash",
    .config_keys = hash_keys,       .init = hash_init,
    .choose = hash_choose,          .reload = hash_reload,
    .deinit = hash_deinit,
};
