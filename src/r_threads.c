#include "r_entry_points.h"
#include "r_util.h"
#include "threads.h"

SEXP threads_cap(SEXP requested)
{
    return ScalarInteger(cs_threads(r_int(requested, "threads")));
}
