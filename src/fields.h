/* Settings and knob structs that R fills by name. Each lists its int and double members once,
 * as a macro NAME_FIELDS(INT, DOUBLE) beside the struct: the struct declares them with
 * CS_DECLARE_FIELDS, and the glue copies each from the element of the same name of an R list
 * (R_READ_FIELDS in r_util.h). A new setting is one entry in the list and one on the R side. */
#ifndef CS_FIELDS_H
#define CS_FIELDS_H

#define CS_INT_MEMBER(name) int name;
#define CS_DOUBLE_MEMBER(name) double name;
#define CS_DECLARE_FIELDS(FIELDS) FIELDS(CS_INT_MEMBER, CS_DOUBLE_MEMBER)

#endif
