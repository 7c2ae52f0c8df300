/*
 * placement-attribute: honour a backend named in the LDAP entry.
 *
 *     [placement attribute]
 *     attribute = mailhost     (the default)
 *
 * The attribute's first value names the backend by its Cyrus servername
 * (what mailHost holds; compared ignoring case) or by its kolabd name.
 * Unset or naming no known backend: no opinion, the next plugin decides.
 * Naming a backend that is down: an error, so the mailbox waits for the
 * backend the operator asked for instead of landing elsewhere.
 *
 * kolabd keeps only some attributes of an entry; the attribute named here
 * must be one it keeps (mailhost always is).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kolabd-plugin.h"

typedef struct {
    const KolabdHost *host;
    char *attribute;
} AttributeState;

static const char *const attribute_keys[] = {"attribute", NULL};

static char *
attribute_parse(const KolabdConfig *config, KolabdError *error)
{
    const char *attr = kolabd_config_get(config, "attribute");
    char *copy;
    size_t i;

    if (attr == NULL) {
        attr = "mailhost";
    }
    if (attr[0] == '\0') {
        kolabd_error_set(error, "[%s] attribute is empty", config->group);
        return NULL;
    }
    for (i = 0; attr[i] != '\0'; i++) {
        char c = attr[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c == '-' && i > 0))) {
            kolabd_error_set(error,
                             "[%s] attribute '%s' is not an LDAP "
                             "attribute name",
                             config->group, attr);
            return NULL;
        }
    }
    copy = strdup(attr);
    if (copy == NULL) {
        kolabd_error_set(error, "out of memory");
    }
    return copy;
}

static void *
attribute_init(const KolabdHost *host, const KolabdConfig *config,
               KolabdError *error)
{
    AttributeState *state;
    char *attr = attribute_parse(config, error);

    if (attr == NULL) {
        return NULL;
    }
    state = calloc(1, sizeof *state);
    if (state == NULL) {
        free(attr);
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    state->host = host;
    state->attribute = attr;
    return state;
}

static KolabdPlacementResult
attribute_choose(void *data, const KolabdPlacementRequest *request,
                 const KolabdBackend *const *backends, size_t n_backends,
                 size_t *choice_out, KolabdError *error)
{
    AttributeState *state = data;
    const char *value =
        state->host->request_attribute(request, state->attribute);
    size_t found = n_backends;
    size_t i;

    if (value == NULL || value[0] == '\0') {
        return KOLABD_PLACEMENT_NO_OPINION;
    }
    /* servername first: that is what mailHost holds */
    for (i = 0; i < n_backends && found == n_backends; i++) {
        if (backends[i]->servername != NULL &&
            strcasecmp(backends[i]->servername, value) == 0) {
            found = i;
        }
    }
    for (i = 0; i < n_backends && found == n_backends; i++) {
        if (strcmp(backends[i]->name, value) == 0) {
            found = i;
        }
    }
    if (found == n_backends) {
        kolabd_host_log(state->host, KOLABD_LOG_INFO,
                        "%s: %s '%s' names no configured backend",
                        state->host->request_mailbox(request), state->attribute,
                        value);
        return KOLABD_PLACEMENT_NO_OPINION;
    }
    if (!backends[found]->up) {
        kolabd_error_set(error, "backend '%s' named by %s is down",
                         backends[found]->name, state->attribute);
        return KOLABD_PLACEMENT_ERROR;
    }
    *choice_out = found;
    return KOLABD_PLACEMENT_CHOSEN;
}

static int
attribute_reload(void *data, const KolabdConfig *config, KolabdError *error)
{
    AttributeState *state = data;
    char *attr = attribute_parse(config, error);

    if (attr == NULL) {
        return -1;
    }
    free(state->attribute);
    state->attribute = attr;
    return 0;
}

static void
attribute_deinit(void *data)
{
    AttributeState *state = data;

    if (state != NULL) {
        free(state->attribute);
        free(state);
    }
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER, .name = "attribute",
    .config_keys = attribute_keys,  .init = attribute_init,
    .choose = attribute_choose,     .reload = attribute_reload,
    .deinit = attribute_deinit,
};
