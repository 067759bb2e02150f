/* Glue for rng_draw / rng_stream / rng_philox: one value per stream, many values from one
 * stream, and the raw Philox block for known-answer tests. */
#include "r_entry_points.h"
#include "r_util.h"
#include "rng.h"
#include "threads.h"

#include <math.h>
#include <string.h>

static const char *distribution_names[] = {
    "u32", "uniform", "normal", "bernoulli", "categorical", "gamma", "poisson", "exponential"
};

/* Checks the name and parameters once, before any parallel region. */
static cs_dist read_distribution(SEXP distribution, SEXP parameters)
{
    if (!isString(distribution) || XLENGTH(distribution) != 1)
        error("`distribution` must be a single string");
    const char *name = CHAR(STRING_ELT(distribution, 0));
    int kind = -1;
    for (int i = 0; i < (int) (sizeof(distribution_names) / sizeof(distribution_names[0])); i++)
        if (strcmp(name, distribution_names[i]) == 0) kind = i;
    if (kind < 0) error("`distribution` \"%s\" is not one of u32, uniform, normal, bernoulli, "
                        "categorical, gamma, poisson, exponential", name);
    if (!isReal(parameters)) error("`parameters` must be a double vector");
    cs_dist spec = { (cs_dist_kind) kind, REAL(parameters), (int) XLENGTH(parameters) };
    const double *p = spec.par;
    switch (spec.kind) {
    case CS_DIST_BERNOULLI:
        if (spec.n_par != 1 || !(p[0] >= 0.0 && p[0] <= 1.0))
            error("`parameters` must be one probability in [0, 1] for bernoulli");
        break;
    case CS_DIST_CATEGORICAL: {
        double total = 0.0;
        for (int j = 0; j < spec.n_par; j++) {
            if (!(p[j] >= 0.0) || !isfinite(p[j]))
                error("`parameters` must be finite non-negative weights for categorical");
            total += p[j];
        }
        if (!(total > 0.0)) error("`parameters` must contain a positive weight for categorical");
        break;
    }
    case CS_DIST_GAMMA:
        if (spec.n_par != 1 || !(p[0] > 0.0) || !isfinite(p[0]))
            error("`parameters` must be one positive finite shape for gamma");
        break;
    case CS_DIST_POISSON:
        if (spec.n_par != 1 || !(p[0] >= 0.0) || !isfinite(p[0]))
            error("`parameters` must be one non-negative finite mean for poisson");
        break;
    default:
        break;
    }
    return spec;
}

static uint64_t read_index(SEXP x, const char *name)
{
    double v = r_double(x, name);
    if (!(v >= 0.0) || v != floor(v) || v > 9007199254740992.0)
        error("`%s` must be a non-negative whole number below 2^53", name);
    return (uint64_t) v;
}

SEXP rng_draw(SEXP seed, SEXP n, SEXP distribution, SEXP parameters, SEXP first_index,
              SEXP threads)
{
    uint64_t key = r_seed(seed);
    int count = r_int(n, "n");
    if (count < 0) error("`n` must be non-negative");
    uint64_t first = read_index(first_index, "first_index");
    int n_threads = cs_threads(r_int(threads, "threads"));
    cs_dist spec = read_distribution(distribution, parameters);

    SEXP out = PROTECT(allocVector(REALSXP, count));
    cs_rng_fill_streams(key, first, count, &spec, n_threads, REAL(out));
    UNPROTECT(1);
    return out;
}

SEXP rng_stream(SEXP seed, SEXP index, SEXP n, SEXP distribution, SEXP parameters)
{
    uint64_t key = r_seed(seed);
    uint64_t stream = read_index(index, "index");
    int count = r_int(n, "n");
    if (count < 0) error("`n` must be non-negative");
    cs_dist spec = read_distribution(distribution, parameters);
    SEXP out = PROTECT(allocVector(REALSXP, count));
    double *values = REAL(out);
    cs_rng rng;
    cs_rng_init(&rng, key, stream);
    for (int i = 0; i < count; i++) values[i] = cs_rng_draw(&rng, &spec);
    UNPROTECT(1);
    return out;
}

static void read_words(SEXP x, int len, uint32_t *words, const char *name)
{
    if (!isReal(x) || XLENGTH(x) != len) error("`%s` must be a double vector of length %d", name, len);
    for (int i = 0; i < len; i++) {
        double v = REAL(x)[i];
        if (!(v >= 0.0 && v <= 4294967295.0) || v != floor(v))
            error("`%s` must hold whole numbers in [0, 2^32)", name);
        words[i] = (uint32_t) v;
    }
}

SEXP rng_philox(SEXP counter, SEXP key)
{
    uint32_t c[4], k[2], out[4];
    read_words(counter, 4, c, "counter");
    read_words(key, 2, k, "key");
    cs_philox4x32_10(c, k, out);
    SEXP result = PROTECT(allocVector(REALSXP, 4));
    for (int i = 0; i < 4; i++) REAL(result)[i] = (double) out[i];
    UNPROTECT(1);
    return result;
}

/* The derived seed as its (low, high) 32-bit words, for tests. */
SEXP rng_derive_seed(SEXP seed, SEXP tag)
{
    uint64_t derived = cs_rng_derive_seed(r_seed(seed), read_index(tag, "tag"));
    SEXP result = PROTECT(allocVector(REALSXP, 2));
    REAL(result)[0] = (double) (uint32_t) derived;
    REAL(result)[1] = (double) (uint32_t) (derived >> 32);
    UNPROTECT(1);
    return result;
}
