/* rendezvous: weighted rendezvous hashing; see rendezvous.h. */
#include "rendezvous.h"

#include <math.h>
#include <string.h>

/*
 * A fixed SipHash key: placement must be stable across runs and hosts, so
 * the key is part of the on-disk contract and must never change.
 */
#define KD_RENDEZVOUS_K0 UINT64_C(0x6b6f6c6162642d70) /* "kolabd-p" */
#define KD_RENDEZVOUS_K1 UINT64_C(0x6c6163656d656e74) /* "lacement" */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)

static uint64_t
load_le64(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

uint64_t
kd_rendezvous_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v0 = KD_RENDEZVOUS_K0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = KD_RENDEZVOUS_K1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = KD_RENDEZVOUS_K0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = KD_RENDEZVOUS_K1 ^ UINT64_C(0x7465646279746573);
    size_t left = len;
    uint64_t m;

    for (; left >= 8; left -= 8, p += 8) {
        m = load_le64(p, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    m = load_le64(p, left) | ((uint64_t)(len & 0xff) << 56);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

double
kd_rendezvous_score(const char *name, unsigned int weight, const char *key)
{
    size_t name_len = strlen(name);
    size_t key_len = strlen(key);
    unsigned char buf[512];
    unsigned char *msg = buf;
    uint64_t h;
    double u;

    if (weight == 0) {
        return 0.0;
    }
    /* name NUL key: the NUL keeps ("ab","c") apart from ("a","bc") */
    if (name_len + 1 + key_len > sizeof buf) {
        /* hash the long parts first so the message fits */
        uint64_t parts[2] = {kd_rendezvous_hash(name, name_len),
                             kd_rendezvous_hash(key, key_len)};
        h = kd_rendezvous_hash(parts, sizeof parts);
    } else {
        memcpy(msg, name, name_len);
        msg[name_len] = '\0';
        memcpy(msg + name_len + 1, key, key_len);
        h = kd_rendezvous_hash(msg, name_len + 1 + key_len);
    }
    /* top 53 bits, centred in their interval: u is never 0 nor 1 */
    u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
    return -(double)weight / log(u);
}

int
kd_rendezvous_pick(const KolabdBackend *const *backends, size_t n_backends,
                   const size_t *candidates, size_t n_candidates,
                   const char *key, size_t *choice_out)
{
    size_t n = candidates != NULL ? n_candidates : n_backends;
    size_t best = 0;
    double best_score = 0.0;
    int found = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        size_t idx = candidates != NULL ? candidates[i] : i;
        const KolabdBackend *b;
        double score;

        if (idx >= n_backends) {
            continue;
        }
        b = backends[idx];
        if (!b->up || b->weight == 0) {
            continue;
        }
        score = kd_rendezvous_score(b->name, b->weight, key);
        if (!found || score > best_score ||
            (score == best_score &&
             strcmp(b->name, backends[best]->name) < 0)) {
            best = idx;
            best_score = score;
            found = 1;
        }
    }
    if (!found) {
        return -1;
    }
    *choice_out = best;
    return 0;
}
