/* Registration of every .Call entry point, and nothing else; r_entry_points.h declares them. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

#include "r_entry_points.h"

/* the detour through void (*)(void) keeps -Wcast-function-type quiet */
#define CALLDEF(name, n) { #name, (DL_FUNC) (void (*)(void)) &name, n }

static const R_CallMethodDef call_methods[] = {
    /* engine core: rng, threads, nn */
    CALLDEF(rng_draw, 6),
    CALLDEF(rng_stream, 5),
    CALLDEF(rng_philox, 2),
    CALLDEF(rng_derive_seed, 2),
    CALLDEF(lane_math, 2),
    CALLDEF(small_gemm_product, 5),
    CALLDEF(threads_cap, 1),
    CALLDEF(nn_init, 4),
    CALLDEF(nn_forward, 7),
    CALLDEF(nn_loss, 7),
    CALLDEF(nn_loss_each, 8),
    CALLDEF(nn_train, 10),

    /* schema */

    /* causalmix */
    CALLDEF(causalmix_train, 10),
    CALLDEF(causalmix_predict, 5),
    CALLDEF(causalmix_draw, 8),
    CALLDEF(causalmix_posterior, 3),
    CALLDEF(prior_fit_aggregate, 5),
    CALLDEF(marginal_encode, 3),
    CALLDEF(marginal_moments, 4),

    /* time-to-event outcomes */
    CALLDEF(survival_train, 10),
    CALLDEF(survival_predict, 5),
    CALLDEF(survival_draw, 7),
    CALLDEF(survival_aipcw, 9),
    CALLDEF(survival_step_areas, 5),
    CALLDEF(survival_aipcw_rmst, 10),

    /* simulate */
    CALLDEF(simulate_knobs, 4),
    CALLDEF(simulate_logit_constants, 4),
    CALLDEF(simulate_outcomes, 13),
    CALLDEF(cohort_summary, 3),

    /* estimators and glm */
    CALLDEF(glm_irls, 6),

    /* fidelity */
    CALLDEF(distance_nearest, 5),
    CALLDEF(distance_mean, 3),
    CALLDEF(classifier_cv, 6),

    /* causalbgm */
    CALLDEF(bgm_fit, 9),
    CALLDEF(bgm_predict, 11),
    CALLDEF(bgm_encode, 5),

    /* synthetic potential outcomes */
    CALLDEF(moments_by_arm, 6),

    { NULL, NULL, 0 }
};

void attribute_visible R_init_causalsandbox(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
