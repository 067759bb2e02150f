/* Helpers shared by the r_*.c glue files. */
#ifndef CS_R_UTIL_H
#define CS_R_UTIL_H

#include <stdint.h>
#include <R.h>
#include <Rinternals.h>
#include "status.h"

/* Non-zero when the user pressed Ctrl-C; never jumps, so the caller can free memory first. */
int r_interrupt_pending(void);
/* A seed arrives from R as an integer vector of length 2 (two 31-bit draws of R's RNG). */
uint64_t r_seed(SEXP seed);
/* Raises an R error for a non-OK status; `what` names the computation ("causalmix training"). */
void r_stop_on_status(cs_status status, const char *what);
/* allocVector() for a vector the engine is about to fill: on Linux a large one is advised
 * to use transparent huge pages, which makes its first writes (page faults) far cheaper. */
SEXP r_alloc_output(SEXPTYPE type, R_xlen_t n);
/* A list of values[i] named names[i] (names ends with "", as for mkNamed); unprotected. */
SEXP r_named_list(const char **names, const SEXP *values);
/* Named element of a list, or R_NilValue. */
SEXP r_list_get(SEXP list, const char *name);
/* Checked scalar extraction, erroring with the argument name. */
int r_int(SEXP x, const char *name);
double r_double(SEXP x, const char *name);
/* The same for a named element of a settings list. */
int r_list_int(SEXP list, const char *name);
double r_list_double(SEXP list, const char *name);
/* Copies the members a struct lists in FIELDS (fields.h) from the elements of the R list of
 * the same names: R_READ_FIELDS(CS_KNOBS_FIELDS, cs_knobs, knobs, &kn). */
#define R_READ_INT_FIELD(name) fields_out_->name = r_list_int(fields_list_, #name);
#define R_READ_DOUBLE_FIELD(name) fields_out_->name = r_list_double(fields_list_, #name);
#define R_READ_FIELDS(FIELDS, type, list, out)                                               \
    do {                                                                                     \
        SEXP fields_list_ = (list);                                                          \
        type *fields_out_ = (out);                                                           \
        FIELDS(R_READ_INT_FIELD, R_READ_DOUBLE_FIELD)                                        \
    } while (0)

/* An R progress reporter: `fun` is NULL or an R function(amount) (a progressr progressor
 * wrapped on the R side). r_progress_step() matches cs_step_fn; it calls `fun` on the main
 * thread and never jumps. If the call jumps (an error in a progress handler, Ctrl-C), later
 * reports are skipped, r_interrupt_pending() turns true so the engine stops and frees its
 * memory, and r_progress_finish() (call it after the engine returns, before checking its
 * status) resumes the jump. */
typedef struct {
    SEXP fun;
    int failed;
    SEXP continuation;
} r_progress;
void r_progress_init(r_progress *p, SEXP fun);
void r_progress_step(void *context, int amount);
int r_progress_unwinding(void);
void r_progress_finish(r_progress *p);

#endif
