/*
 * format.h
 *	  format.c: the expanded state to and from the stored and wire forms.
 */
#ifndef LS_FORMAT_H
#define LS_FORMAT_H

#include "fingerprint.h"

extern Fingerprint *ls_state_pack(const LsState *st);
extern void ls_check_version(const Fingerprint *fp);
extern void ls_state_unpack(const Fingerprint *fp, LsState *st);
extern Size ls_wire_size(const LsState *st);
extern Size ls_wire_write(const LsState *st, unsigned char *buf);
extern const char *ls_wire_read(const unsigned char *buf, Size len, LsState *st);

#endif							/* LS_FORMAT_H */
