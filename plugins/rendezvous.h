/*
 * rendezvous: weighted rendezvous (highest random weight) hashing, shared
 * by the hash and domain placement plugins and compiled into each of them
 * (it is not part of the installed API).
 *
 * Every backend gets a score for a key, -weight / ln(u), where u in (0, 1)
 * comes from a 64-bit SipHash-2-4 of the backend's name and the key; the
 * highest score wins. A backend's score for a key never depends on the
 * other backends, so adding a backend moves exactly the keys it now wins
 * (its weight's share) and removing one moves only its own keys. With
 * this score a backend wins a share of keys proportional to its weight.
 */
#ifndef KOLABD_RENDEZVOUS_H
#define KOLABD_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>

#include "kolabd-plugin.h"

/* SipHash-2-4 of @len bytes at @data under a fixed key. */
uint64_t kd_rendezvous_hash(const void *data, size_t len);

/*
 * The score of backend @name with @weight for @key (both NUL-terminated);
 * 0 when @weight is 0, otherwise > 0.
 */
double kd_rendezvous_score(const char *name, unsigned int weight,
                           const char *key);

/*
 * Among the @n_backends backends whose index is listed in @candidates (or
 * all of them when @candidates is NULL; @n_candidates is then ignored),
 * picks the up backend with weight > 0 and the highest score for @key,
 * ties broken by the smaller name. Returns 0 and stores the index into
 * @backends in *@choice_out, or -1 when no candidate is up with weight.
 */
int kd_rendezvous_pick(const KolabdBackend *const *backends, size_t n_backends,
                       const size_t *candidates, size_t n_candidates,
                       const char *key, size_t *choice_out);

#endif /* KOLABD_RENDEZVOUS_H */
