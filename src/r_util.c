#include "r_util.h"
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static void check_interrupt(void *unused)
{
    (void) unused;
    R_CheckUserInterrupt();
}

/* R_CheckUserInterrupt() would jump out of the engine and leak its buffers, so the engine
 * asks through R_ToplevelExec(), which catches the jump but consumes the pending interrupt. */
int r_interrupt_pending(void)
{
    if (r_progress_unwinding()) return 1;
    return !R_ToplevelExec(check_interrupt, NULL);
}

/* Re-raises the interrupt the engine stopped for, as R itself does for Ctrl-C: a condition of
 * class "interrupt" (caught by tryCatch(interrupt = ), never by error handlers or try()),
 * then back to the top level. */
static void raise_interrupt(void)
{
    SEXP cond = PROTECT(allocVector(VECSXP, 0));
    SEXP cls = PROTECT(allocVector(STRSXP, 2));
    SET_STRING_ELT(cls, 0, mkChar("interrupt"));
    SET_STRING_ELT(cls, 1, mkChar("condition"));
    setAttrib(cond, R_ClassSymbol, cls);
    SEXP signal = PROTECT(lang2(install("signalCondition"), cond));
    eval(signal, R_BaseEnv);
    SEXP name = PROTECT(mkString("abort"));
    SEXP abort = PROTECT(lang2(install("invokeRestart"), name));
    eval(abort, R_BaseEnv);
    UNPROTECT(5);
}

uint64_t r_seed(SEXP seed)
{
    if (!isInteger(seed) || XLENGTH(seed) != 2)
        error("internal: the engine seed must be an integer vector of length 2");
    const int *s = INTEGER(seed);
    return ((uint64_t)(uint32_t) s[0] << 32) | (uint64_t)(uint32_t) s[1];
}

void r_stop_on_status(cs_status status, const char *what)
{
    switch (status) {
    case CS_OK:
        return;
    case CS_ERR_NOMEM:
        error("%s: out of memory", what);
    case CS_ERR_INTERRUPTED:
        raise_interrupt();
        error("%s: interrupted by the user", what);  /* not reached */
    case CS_ERR_NONFINITE:
        error("%s: the computation produced NaN or infinite values; "
              "try a smaller learning rate or check the data for extreme values", what);
    case CS_ERR_ARGUMENT:
        error("%s: invalid sizes or settings reached the engine", what);
    case CS_ERR_SINGULAR:
        error("%s: a linear system is singular (collinear columns?)", what);
    }
    error("%s: unknown engine status %d", what, (int) status);
}

SEXP r_list_get(SEXP list, const char *name)
{
    SEXP names = getAttrib(list, R_NamesSymbol);
    if (isNull(names)) return R_NilValue;
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
        if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
    return R_NilValue;
}

SEXP r_named_list(const char **names, const SEXP *values)
{
    SEXP list = PROTECT(mkNamed(VECSXP, names));
    for (R_xlen_t i = 0; i < XLENGTH(list); i++) SET_VECTOR_ELT(list, i, values[i]);
    UNPROTECT(1);
    return list;
}

int r_int(SEXP x, const char *name)
{
    if (XLENGTH(x) != 1 || !(isInteger(x) || isReal(x) || isLogical(x)))
        error("`%s` must be a single number", name);
    int v = asInteger(x);
    if (v == NA_INTEGER) error("`%s` must not be NA", name);
    return v;
}

double r_double(SEXP x, const char *name)
{
    if (XLENGTH(x) != 1 || !(isInteger(x) || isReal(x) || isLogical(x)))
        error("`%s` must be a single number", name);
    double v = asReal(x);
    if (ISNAN(v)) error("`%s` must not be NA", name);
    return v;
}

int r_list_int(SEXP list, const char *name)
{
    return r_int(r_list_get(list, name), name);
}

double r_list_double(SEXP list, const char *name)
{
    return r_double(r_list_get(list, name), name);
}

SEXP r_alloc_output(SEXPTYPE type, R_xlen_t n)
{
    SEXP v = allocVector(type, n);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* only whole 2 MB pages inside the vector; a refusal changes nothing */
    const uintptr_t huge = (uintptr_t) 1 << 21;
    size_t bytes = (size_t) n * (type == REALSXP ? sizeof(double) : sizeof(int));
    uintptr_t data = type == REALSXP ? (uintptr_t) REAL(v)
                     : type == LGLSXP ? (uintptr_t) LOGICAL(v) : (uintptr_t) INTEGER(v);
    uintptr_t start = (data + huge - 1) & ~(huge - 1);
    uintptr_t end = (data + bytes) & ~(huge - 1);
    if (end > start) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
    return v;
}

/* Set while an R progress call has jumped (an error or interrupt in a progress handler):
 * the engine is told to stop at its next interrupt check, and the jump is resumed by
 * r_progress_finish() once the engine has freed its memory. */
static int progress_unwinding = 0;

void r_progress_init(r_progress *p, SEXP fun)
{
    p->fun = isFunction(fun) ? fun : R_NilValue;
    p->failed = 0;
    p->continuation = R_NilValue;
    progress_unwinding = 0;
    if (p->fun != R_NilValue) {
        p->continuation = R_MakeUnwindCont();
        R_PreserveObject(p->continuation);
    }
}

static SEXP progress_eval(void *call)
{
    return eval((SEXP) call, R_GlobalEnv);
}

static void progress_cleanup(void *jump_buffer, Rboolean jump)
{
    if (jump) longjmp(*(jmp_buf *) jump_buffer, 1);
}

void r_progress_step(void *context, int amount)
{
    r_progress *p = context;
    if (p->fun == R_NilValue || p->failed || amount <= 0) return;
    /* the call sees the caller's condition handlers (progressr listens through them); a jump
     * out of it (a handler's error, Ctrl-C) is caught here and resumed after the engine has
     * cleaned up, never taken through the engine's frames */
    SEXP call = PROTECT(lang2(p->fun, ScalarInteger(amount)));
    jmp_buf jump_buffer;
    if (setjmp(jump_buffer)) {
        p->failed = 1;
        progress_unwinding = 1;
        UNPROTECT(1);
        return;
    }
    R_UnwindProtect(progress_eval, call, progress_cleanup, &jump_buffer, p->continuation);
    UNPROTECT(1);
}

int r_progress_unwinding(void)
{
    return progress_unwinding;
}

void r_progress_finish(r_progress *p)
{
    if (p->continuation == R_NilValue) return;
    SEXP continuation = p->continuation;
    p->continuation = R_NilValue;
    if (progress_unwinding) {
        progress_unwinding = 0;
        PROTECT(continuation);
        R_ReleaseObject(continuation);
        R_ContinueUnwind(continuation);
    }
    R_ReleaseObject(continuation);
}
