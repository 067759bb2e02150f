/* .Call entry points of CausalBGM (R/causalbgm.R). */
#ifndef CS_R_BGM_H
#define CS_R_BGM_H

#include <Rinternals.h>

SEXP bgm_fit(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
             SEXP settings, SEXP seeds, SEXP progress);
SEXP bgm_predict(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
                 SEXP params, SEXP z_start, SEXP settings, SEXP seed, SEXP progress);
SEXP bgm_encode(SEXP columns, SEXP center, SEXP scale, SEXP spec, SEXP params);

#endif
