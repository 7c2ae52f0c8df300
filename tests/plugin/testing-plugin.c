/*
 * testing-plugin: a check-only plugin that answers what its group says,
 * so the chain's own rules can be tested:
 *
 *     [placement testing]
 *     answer = none | index | error    what choose returns
 *     index = N                        for answer = index (may be wrong)
 *     fail_init = yes                  init fails
 *     fail_reload = yes                reload fails (state unchanged)
 *
 * Each choose also logs one line through the host.
 */

#include <stdlib.h>
#include <string.h>

#include "kolabd-plugin.h"

typedef enum { ANSWER_NONE, ANSWER_INDEX, ANSWER_ERROR } Answer;

typedef struct {
    const KolabdHost *host;
    Answer answer;
    size_t index;
} TestingState;

static const char *const testing_keys[] = {"answer", "index", "fail_init",
                                           "fail_reload", NULL};

static int
testing_parse(const KolabdConfig *config, TestingState *out, KolabdError *error)
{
    const char *answer = kolabd_config_get(config, "answer");
    const char *index = kolabd_config_get(config, "index");

    if (answer == NULL || strcmp(answer, "none") == 0) {
        out->answer = ANSWER_NONE;
    } else if (strcmp(answer, "index") == 0) {
        out->answer = ANSWER_INDEX;
    } else if (strcmp(answer, "error") == 0) {
        out->answer = ANSWER_ERROR;
    } else {
        kolabd_error_set(error, "[%s] bad answer '%s'", config->group, answer);
        return -1;
    }
    out->index = index != NULL ? (size_t)strtoull(index, NULL, 10) : 0;
    return 0;
}

static void *
testing_init(const KolabdHost *host, const KolabdConfig *config,
             KolabdError *error)
{
    TestingState parsed = {host, ANSWER_NONE, 0};
    TestingState *state;

    if (kolabd_config_get(config, "fail_init") != NULL) {
        kolabd_error_set(error, "[%s] init fails as asked", config->group);
        return NULL;
    }
    if (testing_parse(config, &parsed, error) < 0) {
        return NULL;
    }
    state = malloc(sizeof *state);
    if (state == NULL) {
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    *state = parsed;
    return state;
}

static KolabdPlacementResult
testing_choose(void *data, const KolabdPlacementRequest *request,
               const KolabdBackend *const *backends, size_t n_backends,
               size_t *choice_out, KolabdError *error)
{
    TestingState *state = data;

    (void)backends;
    kolabd_host_log(state->host, KOLABD_LOG_DEBUG, "asked for %s of %zu",
                    state->host->request_mailbox(request), n_backends);
    switch (state->answer) {
    case ANSWER_INDEX:
        *choice_out = state->index;
        return KOLABD_PLACEMENT_CHOSEN;
    case ANSWER_ERROR:
        kolabd_error_set(error, "fails as asked");
        return KOLABD_PLACEMENT_ERROR;
    case ANSWER_NONE:
    default:
        return KOLABD_PLACEMENT_NO_OPINION;
    }
}

static int
testing_reload(void *data, const KolabdConfig *config, KolabdError *error)
{
    TestingState *state = data;
    TestingState parsed = *state;

    if (kolabd_config_get(config, "fail_reload") != NULL) {
        kolabd_error_set(error, "[%s] reload fails as asked", config->group);
        return -1;
    }
    if (testing_parse(config, &parsed, error) < 0) {
        return -1;
    }
    *state = parsed;
    return 0;
}

static void
testing_deinit(void *state)
{
    free(state);
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "testing",
    .config_keys = testing_keys,    .init = testing_init,
    .choose = testing_choose,       .reload = testing_reload,
    .deinit = testing_deinit,
};
