/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Minimal stand-in for <asm/byteorder.h>, written for netwatch: the copied
 * UAPI headers only need the bitfield order and the constant byte swaps. netwatch builds the bpfel target.
 */
#ifndef _ASM_BYTEORDER_H
#define _ASM_BYTEORDER_H

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __LITTLE_ENDIAN_BITFIELD
#define __LITTLE_ENDIAN 1234
#define __constant_htonl(x) ((__be32)__builtin_bswap32(x))
#define __constant_htons(x) ((__be16)__builtin_bswap16(x))
#else
#define __BIG_ENDIAN_BITFIELD
#define __BIG_ENDIAN 4321
#define __constant_htonl(x) ((__be32)(x))
#define __constant_htons(x) ((__be16)(x))
#endif
#define __constant_cpu_to_be32(x) __constant_htonl(x)
#define __constant_cpu_to_be16(x) __constant_htons(x)

#endif /* _ASM_BYTEORDER_H */
