/* Registration of every .Call entry point, and nothing else.
 * Each topic's glue file declares its entry points in its r_<topic>.h. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

/* entry point declarations */
#include "r_bgm.h"

#define CALLDEF(name, n) { #name, (DL_FUNC) &name, n }

static const R_CallMethodDef call_methods[] = {
    /* engine core: rng, threads, nn */

    /* schema */

    /* causalmix */

    /* simulate */

    /* estimators and glm */

    /* fidelity */

    /* causalbgm */
    CALLDEF(bgm_fit, 6),
    CALLDEF(bgm_predict, 8),
    CALLDEF(bgm_encode, 3),

    /* synthetic potential outcomes */

    { NULL, NULL, 0 }
};

void attribute_visible R_init_causalsandbox(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
