/*
 * placement-static: every new mailbox goes to one named backend.
 *
 *     [placement static]
 *     backend = imap1
 *
 * Meant for a single-backend setup, or last in a chain as a catch-all.
 * When the backend is down the answer is an error (the mailbox waits and
 * is retried), never another backend.
 */

#include <stdlib.h>
#include <string.h>

#include "kolabd-plugin.h"

typedef struct {
    const KolabdHost *host;
    char *backend;
} StaticState;

static const char *const static_keys[] = {"backend", NULL};

static char *
static_parse(const KolabdHost *host, const KolabdConfig *config,
             KolabdError *error)
{
    const char *backend = kolabd_config_get(config, "backend");
    char *copy;

    if (backend == NULL || backend[0] == '\0') {
        kolabd_error_set(error, "[%s] needs 'backend = NAME'", config->group);
        return NULL;
    }
    if (host->backend_known(host, backend) == 0) {
        kolabd_error_set(error, "[%s] backend '%s' is not configured",
                         config->group, backend);
        return NULL;
    }
    copy = strdup(backend);
    if (copy == NULL) {
        kolabd_error_set(error, "out of memory");
    }
    return copy;
}

static void *
static_init(const KolabdHost *host, const KolabdConfig *config,
            KolabdError *error)
{
    StaticState *state;
    char *backend = static_parse(host, config, error);

    if (backend == NULL) {
        return NULL;
    }
    state = calloc(1, sizeof *state);
    if (state == NULL) {
        free(backend);
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    state->host = host;
    state->backend = backend;
    return state;
}

static KolabdPlacementResult
static_choose(void *data, const KolabdPlacementRequest *request,
              const KolabdBackend *const *backends, size_t n_backends,
              size_t *choice_out, KolabdError *error)
{
    StaticState *state = data;
    size_t i;

    (void)request;
    for (i = 0; i < n_backends; i++) {
        if (strcmp(backends[i]->name, state->backend) != 0) {
            continue;
        }
        if (!backends[i]->up) {
            kolabd_error_set(error, "backend '%s' is down", state->backend);
            return KOLABD_PLACEMENT_ERROR;
        }
        *choice_out = i;
        return KOLABD_PLACEMENT_CHOSEN;
    }
    kolabd_error_set(error, "backend '%s' is not configured", state->backend);
    return KOLABD_PLACEMENT_ERROR;
}

static int
static_reload(void *data, const KolabdConfig *config, KolabdError *error)
{
    StaticState *state = data;
    char *backend = static_parse(state->host, config, error);

    if (backend == NULL) {
        return -1;
    }
    free(state->backend);
    state->backend = backend;
    return 0;
}

static void
static_deinit(void *data)
{
    StaticState *state = data;

    if (state != NULL) {
        free(state->backend);
        free(state);
    }
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "static",
    .config_keys = static_keys,     .init = static_init,
    .choose = static_choose,        .reload = static_reload,
    .deinit = static_deinit,
};
