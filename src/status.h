/* Status codes and callbacks shared by every engine file.
 * Engine files never touch R: they return a status and the r_*.c glue raises the error. */
#ifndef CS_STATUS_H
#define CS_STATUS_H

typedef enum {
    CS_OK = 0,
    CS_ERR_NOMEM,        /* an allocation failed */
    CS_ERR_INTERRUPTED,  /* the user pressed Ctrl-C (reported by the interrupt callback) */
    CS_ERR_NONFINITE,    /* a loss, gradient or draw became NaN or infinite */
    CS_ERR_ARGUMENT,     /* sizes or settings the glue should have refused */
    CS_ERR_SINGULAR      /* a linear system could not be solved */
} cs_status;

/* Returns non-zero when the computation should stop. Engines never call it directly: they
 * poll through poll.h, which calls it on the calling thread only, about every 0.1 s. */
typedef int (*cs_interrupt_fn)(void);

/* Progress: `amount` more units of work are done (main thread only, between parallel
 * regions). The glue forwards it to an R progress reporter. */
typedef void (*cs_step_fn)(void *context, int amount);

/* Progress report from a training loop (main thread only). */
typedef void (*cs_progress_fn)(void *context, int epoch, double train_loss, double valid_loss);

#endif
