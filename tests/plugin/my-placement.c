/*
 * my-placement: an example of a placement plugin built outside kolabd's
 * tree, against the installed kolabd-plugin.h only:
 *
 *     cc -shared -fPIC $(pkg-config --cflags kolabd-plugin) \
 *        -o placement-my.so my-placement.c
 *
 * It sends mail of one local-part prefix to one backend and has no
 * opinion on anything else:
 *
 *     [placement my]
 *     prefix = vip-
 *     backend = imap-fast
 */
#include <stdlib.h>
#include <string.h>

#include <kolabd-plugin.h>

typedef struct {
    const KolabdHost *host;
    char *prefix;
    char *backend;
} MyState;

static const char *const my_keys[] = {"prefix", "backend", NULL};

static void *
my_init(const KolabdHost *host, const KolabdConfig *config, KolabdError *error)
{
    const char *prefix = kolabd_config_get(config, "prefix");
    const char *backend = kolabd_config_get(config, "backend");
    MyState *state;

    if (prefix == NULL || backend == NULL) {
        kolabd_error_set(error, "[%s] needs prefix and backend", config->group);
        return NULL;
    }
    state = calloc(1, sizeof *state);
    if (state == NULL) {
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    state->host = host;
    state->prefix = malloc(strlen(prefix) + 1);
    state->backend = malloc(strlen(backend) + 1);
    if (state->prefix == NULL || state->backend == NULL) {
        free(state->prefix);
        free(state->backend);
        free(state);
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    strcpy(state->prefix, prefix);
    strcpy(state->backend, backend);
    return state;
}

static KolabdPlacementResult
my_choose(void *data, const KolabdPlacementRequest *request,
          const KolabdBackend *const *backends, size_t n_backends,
          size_t *choice_out, KolabdError *error)
{
    MyState *state = data;
    const char *mail = state->host->request_mail(request);
    size_t i;

    if (mail == NULL ||
        strncmp(mail, state->prefix, strlen(state->prefix)) != 0) {
        return KOLABD_PLACEMENT_NO_OPINION;
    }
    for (i = 0; i < n_backends; i++) {
        if (strcmp(backends[i]->name, state->backend) == 0 && backends[i]->up) {
            kolabd_host_log(state->host, KOLABD_LOG_DEBUG, "%s -> %s", mail,
                            state->backend);
            *choice_out = i;
            return KOLABD_PLACEMENT_CHOSEN;
        }
    }
    kolabd_error_set(error, "backend '%s' is not up", state->backend);
    return KOLABD_PLACEMENT_ERROR;
}

static void
my_deinit(void *data)
{
    MyState *state = data;

    free(state->prefix);
    free(state->backend);
    free(state);
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER,
    .name = "my",
    .config_keys = my_keys,
    .init = my_init,
    .choose = my_choose,
    .reload = NULL,
    .deinit = my_deinit,
};
