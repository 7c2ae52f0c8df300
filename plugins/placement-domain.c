/*
 * placement-domain: each mail domain lives on its own list of backends.
 *
 *     [placement domain]
 *     example.org = imap1, imap2
 *     example.net = imap3
 *
 * A domain's shared folders all go to the first backend of its list, so
 * they stay together (and with the domain's shared-folder ACL holders).
 * Its users are spread over the up backends of the list by weighted
 * rendezvous hashing on their mail (stable, like the hash plugin). A
 * domain that is not listed gets no opinion. Shared folders whose first
 * backend is down, or users of a domain with no backend up, get an error:
 * the mailbox waits rather than leave its domain's backends.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kolabd-plugin.h"
#include "rendezvous.h"

#define DOMAIN_MAX_BACKENDS 64

typedef struct {
    char *domain; /* lower-cased */
    char **backends;
    size_t n_backends;
} DomainRule;

typedef struct {
    DomainRule *rules;
    size_t n_rules;
} DomainMap;

typedef struct {
    const KolabdHost *host;
    DomainMap map;
} DomainState;

static void
domain_map_clear(DomainMap *map)
{
    size_t i, j;

    for (i = 0; i < map->n_rules; i++) {
        for (j = 0; j < map->rules[i].n_backends; j++) {
            free(map->rules[i].backends[j]);
        }
        free(map->rules[i].backends);
        free(map->rules[i].domain);
    }
    free(map->rules);
    map->rules = NULL;
    map->n_rules = 0;
}

static int
domain_name_valid(const char *domain)
{
    size_t i;

    if (domain[0] == '\0' || domain[0] == '.' || domain[0] == '-') {
        return 0;
    }
    for (i = 0; domain[i] != '\0'; i++) {
        unsigned char c = (unsigned char)domain[i];

        if (!isalnum(c) && c != '.' && c != '-') {
            return 0;
        }
    }
    return 1;
}

/* Splits @value at commas into @rule, trimming blanks; -1 on error. */
static int
domain_parse_list(const KolabdHost *host, const KolabdConfig *config,
                  const char *domain, const char *value, DomainRule *rule,
                  KolabdError *error)
{
    const char *p = value;

    rule->backends = calloc(DOMAIN_MAX_BACKENDS, sizeof *rule->backends);
    if (rule->backends == NULL) {
        kolabd_error_set(error, "out of memory");
        return -1;
    }
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len;
        size_t i;
        char *name;

        if (end == NULL) {
            end = p + strlen(p);
        }
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        len = (size_t)(end - p);
        while (len > 0 && isspace((unsigned char)p[len - 1])) {
            len--;
        }
        if (len == 0) {
            kolabd_error_set(error, "[%s] %s: empty backend name in '%s'",
                             config->group, domain, value);
            return -1;
        }
        if (rule->n_backends == DOMAIN_MAX_BACKENDS) {
            kolabd_error_set(error, "[%s] %s: more than %d backends",
                             config->group, domain, DOMAIN_MAX_BACKENDS);
            return -1;
        }
        name = strndup(p, len);
        if (name == NULL) {
            kolabd_error_set(error, "out of memory");
            return -1;
        }
        rule->backends[rule->n_backends++] = name;
        for (i = 0; i + 1 < rule->n_backends; i++) {
            if (strcmp(rule->backends[i], name) == 0) {
                kolabd_error_set(error, "[%s] %s: backend '%s' listed twice",
                                 config->group, domain, name);
                return -1;
            }
        }
        if (host->backend_known(host, name) == 0) {
            kolabd_error_set(error, "[%s] %s: backend '%s' is not configured",
                             config->group, domain, name);
            return -1;
        }
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && *p == '\0') {
            kolabd_error_set(error, "[%s] %s: trailing comma in '%s'",
                             config->group, domain, value);
            return -1;
        }
    }
    if (rule->n_backends == 0) {
        kolabd_error_set(error, "[%s] %s: no backend listed", config->group,
                         domain);
        return -1;
    }
    return 0;
}

static int
domain_parse(const KolabdHost *host, const KolabdConfig *config,
             DomainMap *map_out, KolabdError *error)
{
    DomainMap map = {NULL, 0};
    size_t i, j;

    if (config->n_items == 0) {
        kolabd_error_set(error, "[%s] maps no domain (DOMAIN = BACKEND, ...)",
                         config->group);
        return -1;
    }
    map.rules = calloc(config->n_items, sizeof *map.rules);
    if (map.rules == NULL) {
        kolabd_error_set(error, "out of memory");
        return -1;
    }
    for (i = 0; i < config->n_items; i++) {
        const KolabdConfigItem *item = &config->items[i];
        DomainRule *rule = &map.rules[map.n_rules++];

        if (!domain_name_valid(item->key)) {
            kolabd_error_set(error, "[%s] '%s' is not a mail domain",
                             config->group, item->key);
            domain_map_clear(&map);
            return -1;
        }
        rule->domain = strdup(item->key);
        if (rule->domain == NULL) {
            kolabd_error_set(error, "out of memory");
            domain_map_clear(&map);
            return -1;
        }
        for (j = 0; rule->domain[j] != '\0'; j++) {
            rule->domain[j] = (char)tolower((unsigned char)rule->domain[j]);
        }
        for (j = 0; j + 1 < map.n_rules; j++) {
            if (strcmp(map.rules[j].domain, rule->domain) == 0) {
                kolabd_error_set(error, "[%s] domain '%s' mapped twice",
                                 config->group, rule->domain);
                domain_map_clear(&map);
                return -1;
            }
        }
        if (domain_parse_list(host, config, rule->domain, item->value, rule,
                              error) < 0) {
            domain_map_clear(&map);
            return -1;
        }
    }
    *map_out = map;
    return 0;
}

static void *
domain_init(const KolabdHost *host, const KolabdConfig *config,
            KolabdError *error)
{
    DomainState *state = calloc(1, sizeof *state);

    if (state == NULL) {
        kolabd_error_set(error, "out of memory");
        return NULL;
    }
    state->host = host;
    if (domain_parse(host, config, &state->map, error) < 0) {
        free(state);
        return NULL;
    }
    return state;
}

static size_t
domain_find_backend(const KolabdBackend *const *backends, size_t n_backends,
                    const char *name)
{
    size_t i;

    for (i = 0; i < n_backends; i++) {
        if (strcmp(backends[i]->name, name) == 0) {
            return i;
        }
    }
    return n_backends;
}

static KolabdPlacementResult
domain_choose(void *data, const KolabdPlacementRequest *request,
              const KolabdBackend *const *backends, size_t n_backends,
              size_t *choice_out, KolabdError *error)
{
    DomainState *state = data;
    const KolabdHost *host = state->host;
    const char *domain = host->request_domain(request);
    const DomainRule *rule = NULL;
    size_t candidates[DOMAIN_MAX_BACKENDS];
    const char *key;
    size_t i;

    if (domain == NULL) {
        return KOLABD_PLACEMENT_NO_OPINION;
    }
    for (i = 0; i < state->map.n_rules && rule == NULL; i++) {
        if (strcasecmp(state->map.rules[i].domain, domain) == 0) {
            rule = &state->map.rules[i];
        }
    }
    if (rule == NULL) {
        return KOLABD_PLACEMENT_NO_OPINION;
    }
    for (i = 0; i < rule->n_backends; i++) {
        candidates[i] =
            domain_find_backend(backends, n_backends, rule->backends[i]);
        if (candidates[i] == n_backends) {
            kolabd_error_set(error,
                             "backend '%s' of domain %s is not "
                             "configured",
                             rule->backends[i], rule->domain);
            return KOLABD_PLACEMENT_ERROR;
        }
    }
    if (host->request_kind(request) == KOLABD_PLACEMENT_KIND_SHARED) {
        if (!backends[candidates[0]]->up) {
            kolabd_error_set(error,
                             "backend '%s' for shared folders of %s is down",
                             rule->backends[0], rule->domain);
            return KOLABD_PLACEMENT_ERROR;
        }
        *choice_out = candidates[0];
        return KOLABD_PLACEMENT_CHOSEN;
    }
    key = host->request_mail(request);
    if (key == NULL) {
        key = host->request_mailbox(request);
    }
    if (key == NULL ||
        kd_rendezvous_pick(backends, n_backends, candidates, rule->n_backends,
                           key, choice_out) < 0) {
        kolabd_error_set(error, "no backend of domain %s is up", rule->domain);
        return KOLABD_PLACEMENT_ERROR;
    }
    return KOLABD_PLACEMENT_CHOSEN;
}

static int
domain_reload(void *data, const KolabdConfig *config, KolabdError *error)
{
    DomainState *state = data;
    DomainMap map;

    if (domain_parse(state->host, config, &map, error) < 0) {
        return -1;
    }
    domain_map_clear(&state->map);
    state->map = map;
    return 0;
}

static void
domain_deinit(void *data)
{
    DomainState *state = data;

    if (state != NULL) {
        domain_map_clear(&state->map);
        free(state);
    }
}

KOLABD_PLUGIN_EXPORT const KolabdPlacementPlugin kolabd_placement_plugin = {
    KOLABD_PLACEMENT_PLUGIN_HEADER,
    .name = "domain",
    .config_keys = NULL, /* the keys are domains; domain_parse checks */
    .init = domain_init,
    .choose = domain_choose,
    .reload = domain_reload,
    .deinit = domain_deinit,
};
