//go:build amd64 && !purego

#include "textflag.h"
// go_asm.h, written by the go tool from this package: the offsets of
// strState's fields and the indices of the mask and structure words, so
// that the kernels cannot drift from the Go declarations.
#include "go_asm.h"

DATA backslashes<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+16(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+24(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL backslashes<>(SB), RODATA|NOPTR, $32

// func masksAVX2(p *byte, blocks int, out *uint64)
//
// For each 64-byte block, two halves of 32 bytes; each half stores six
// 32-bit masks at out[k*8 + half*4] (k = mQuote … mKey), so that every
// block's word k is its 64-bit mask. Bytes are folded to lower case by
// OR 0x20, which also maps [ to { and ] to }.
TEXT ·masksAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DI
	TESTQ CX, CX
	JZ   done

	MOVL $0x22, AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y0 // "
	MOVL $0x20, AX
	MOVQ AX, X2
	VPBROADCASTB X2, Y2 // case fold
	MOVL $0x7b, AX
	MOVQ AX, X3
	VPBROADCASTB X3, Y3 // {
	MOVL $0x7d, AX
	MOVQ AX, X4
	VPBROADCASTB X4, Y4 // }
	MOVL $0x6f, AX
	MOVQ AX, X5
	VPBROADCASTB X5, Y5 // o
	MOVL $0x74, AX
	MOVQ AX, X6
	VPBROADCASTB X6, Y6 // t
	MOVL $0x65, AX
	MOVQ AX, X7
	VPBROADCASTB X7, Y7 // e
	MOVL $0x76, AX
	MOVQ AX, X8
	VPBROADCASTB X8, Y8 // v
	MOVL $0x72, AX
	MOVQ AX, X9
	VPBROADCASTB X9, Y9 // r
	MOVL $0x63, AX
	MOVQ AX, X10
	VPBROADCASTB X10, Y10 // c

loop:
	XORQ DX, DX // input offset of the half: 0 or 32
	XORQ R8, R8 // output offset of the half: 0 or 4

half:
	VMOVDQU (SI)(DX*1), Y11 // b0
	VPCMPEQB Y11, Y0, Y12
	VPMOVMSKB Y12, AX
	MOVL AX, (const_mQuote*8)(DI)(R8*1)    // quote
	VPCMPEQB backslashes<>(SB), Y11, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, (const_mBackslash*8)(DI)(R8*1)    // backslash
	VPOR Y11, Y2, Y11       // f0
	VPCMPEQB Y11, Y3, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, (const_mOpen*8)(DI)(R8*1)   // open
	VPCMPEQB Y11, Y4, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, (const_mClose*8)(DI)(R8*1)   // close
	VPCMPEQB Y11, Y5, Y13   // root: f0 == o

	VMOVDQU 1(SI)(DX*1), Y11
	VPOR Y11, Y2, Y11       // f1
	VPCMPEQB Y11, Y5, Y14
	VPAND Y14, Y13, Y13     // root: f1 == o
	VPCMPEQB Y11, Y7, Y14   // ev: f1 == e
	VPCMPEQB Y11, Y9, Y15   // rec: f1 == r

	VMOVDQU 2(SI)(DX*1), Y11
	VPOR Y11, Y2, Y11       // f2
	VPCMPEQB Y11, Y6, Y1
	VPAND Y1, Y13, Y13      // root: f2 == t
	VPCMPEQB Y11, Y8, Y1
	VPAND Y1, Y14, Y14      // ev: f2 == v
	VPCMPEQB Y11, Y7, Y1
	VPAND Y1, Y15, Y15      // rec: f2 == e

	VMOVDQU 3(SI)(DX*1), Y11
	VPCMPEQB Y11, Y0, Y1
	VPAND Y1, Y13, Y13      // root: b3 == "
	VPMOVMSKB Y13, AX
	MOVL AX, (const_mRoot*8)(DI)(R8*1)   // root
	VPOR Y11, Y2, Y11       // f3
	VPCMPEQB Y11, Y10, Y1
	VPAND Y1, Y15, Y15      // rec: f3 == c
	VPOR Y15, Y14, Y14      // ev or rec
	VPAND Y12, Y14, Y14     // after a quote
	VPMOVMSKB Y14, AX
	MOVL AX, (const_mKey*8)(DI)(R8*1)   // key

	CMPQ DX, $0
	JNE  next
	MOVQ $32, DX
	MOVQ $4, R8
	JMP  half

next:
	ADDQ $64, SI
	ADDQ $(const_nMasks*8), DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// CONSTANTS512 broadcasts what both AVX-512 kernels compare bytes with:
// Z0 ", Z1 backslash, Z2 the case fold (0x20), Z3 {, Z4 }, Z5 o, Z6 t,
// Z7 e, Z8 v, Z9 r, Z10 c. It uses AX.
#define CONSTANTS512 \
	MOVL $0x22, AX; VPBROADCASTB AX, Z0; \
	MOVL $0x5c, AX; VPBROADCASTB AX, Z1; \
	MOVL $0x20, AX; VPBROADCASTB AX, Z2; \
	MOVL $0x7b, AX; VPBROADCASTB AX, Z3; \
	MOVL $0x7d, AX; VPBROADCASTB AX, Z4; \
	MOVL $0x6f, AX; VPBROADCASTB AX, Z5; \
	MOVL $0x74, AX; VPBROADCASTB AX, Z6; \
	MOVL $0x65, AX; VPBROADCASTB AX, Z7; \
	MOVL $0x76, AX; VPBROADCASTB AX, Z8; \
	MOVL $0x72, AX; VPBROADCASTB AX, Z9; \
	MOVL $0x63, AX; VPBROADCASTB AX, Z10

// CLASSIFY512 classifies the block at SI (reading 3 bytes past it) into
// K1 quotes, K2 backslashes, K6 { or [, K7 } or ], K3 root marks (oot"
// in any casing starts here) and K4 key candidates (a quote followed by
// ev or rec, any casing). Bytes are folded to lower case by OR 0x20,
// which also maps [ to { and ] to }; a comparison under a mask ANDs with
// it. It uses Z11 and Z12.
#define CLASSIFY512 \
	VMOVDQU64 (SI), Z11; \
	VPCMPEQB Z0, Z11, K1; \
	VPCMPEQB Z1, Z11, K2; \
	VPORQ Z2, Z11, Z11; \
	VPCMPEQB Z3, Z11, K6; \
	VPCMPEQB Z4, Z11, K7; \
	VPCMPEQB Z5, Z11, K3; \
	VMOVDQU64 1(SI), Z12; \
	VPORQ Z2, Z12, Z12; \
	VPCMPEQB Z5, Z12, K3, K3; \
	VPCMPEQB Z7, Z12, K1, K4; \
	VPCMPEQB Z9, Z12, K1, K5; \
	VMOVDQU64 2(SI), Z12; \
	VPORQ Z2, Z12, Z12; \
	VPCMPEQB Z6, Z12, K3, K3; \
	VPCMPEQB Z8, Z12, K4, K4; \
	VPCMPEQB Z7, Z12, K5, K5; \
	VMOVDQU64 3(SI), Z12; \
	VPCMPEQB Z0, Z12, K3, K3; \
	VPORQ Z2, Z12, Z12; \
	VPCMPEQB Z10, Z12, K5, K5; \
	KORQ K4, K5, K4

// func masksAVX512(p *byte, blocks int, out *uint64)
//
// The same masks, a whole block per instruction (CLASSIFY512).
TEXT ·masksAVX512(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DI
	TESTQ CX, CX
	JZ   done512

	CONSTANTS512

loop512:
	CLASSIFY512
	KMOVQ K1, (const_mQuote*8)(DI)
	KMOVQ K2, (const_mBackslash*8)(DI)
	KMOVQ K6, (const_mOpen*8)(DI)
	KMOVQ K7, (const_mClose*8)(DI)
	KMOVQ K3, (const_mRoot*8)(DI)
	KMOVQ K4, (const_mKey*8)(DI)

	ADDQ $64, SI
	ADDQ $(const_nMasks*8), DI
	DECQ CX
	JNZ  loop512

done512:
	VZEROUPPER
	RET

// func structAVX512(p *byte, blocks int, out *uint64, st *strState) int
//
// The masks of masksAVX512 followed through the strings (structure.go),
// four words per block at out: brackets outside strings (open, close),
// opening quotes of possible keys, root marks. A backslash escapes the
// byte after it as in simdjson's branchless scan (runs of backslashes
// starting on odd bits are told from those on even bits by an addition);
// the in-string bits are the prefix XOR of the unescaped quotes, a
// carry-less multiplication by all ones. That reading equals the general
// scanner's as long as every backslash is inside a string; the kernel
// stops before the first block where one is not, and returns the blocks
// done, leaving st as it was after the last.
TEXT ·structAVX512(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DI
	MOVQ st+24(FP), AX
	MOVQ strState_inString(AX), R8 // in a string at the block's start: all ones
	MOVQ strState_escaped(AX), R9  // the block's first byte is escaped: 1
	MOVQ strState_before(AX), R10  // the last block's last byte is in a string: 1
	TESTQ CX, CX
	JZ   sdone

	CONSTANTS512
	MOVQ $-1, AX
	VMOVQ AX, X13 // the multiplier of the prefix XOR

sloop:
	CLASSIFY512

	KMOVQ K1, AX               // quotes
	KMOVQ K2, BX               // backslashes
	MOVQ BX, DX
	ORQ  R9, DX
	JNZ  sescapes
	XORL R12, R12              // no escape into the next block

squotes:
	VMOVQ AX, X14
	VPCLMULQDQ $0, X13, X14, X14
	VMOVQ X14, AX
	XORQ R8, AX                // in: inside a string
	MOVQ AX, DX
	NOTQ DX                    // outside
	TESTQ DX, BX
	JNZ  sdone                 // a backslash outside a string

	KMOVQ K6, R11
	ANDQ DX, R11
	MOVQ R11, (const_sOpen*8)(DI)            // open
	KMOVQ K7, R11
	ANDQ DX, R11
	MOVQ R11, (const_sClose*8)(DI)            // close
	MOVQ AX, R11
	SHLQ $1, R11
	ORQ  R10, R11
	NOTQ R11
	ANDQ AX, R11               // opening quotes
	KMOVQ K4, DX
	ANDQ DX, R11
	MOVQ R11, (const_sKey*8)(DI)           // key
	KMOVQ K3, R11
	MOVQ R11, (const_sRoot*8)(DI)           // root

	MOVQ AX, R10
	SHRQ $63, R10
	SARQ $63, AX
	MOVQ AX, R8
	MOVQ R12, R9
	ADDQ $64, SI
	ADDQ $(const_nStruct*8), DI
	DECQ CX
	JNZ  sloop
	JMP  sdone

sescapes:
	MOVQ R9, DX
	NOTQ DX
	ANDQ BX, DX                // bs: backslashes not themselves escaped
	MOVQ DX, R11
	SHLQ $1, R11
	ORQ  R9, R11               // follows an escape
	MOVQ R11, R12
	NOTQ R12
	ANDQ DX, R12
	MOVQ $0xaaaaaaaaaaaaaaaa, R13
	ANDQ R13, R12              // runs starting on odd bits
	MOVL $0, R13
	ADDQ DX, R12               // runs starting on even bits, cleared of the others
	ADCQ $0, R13               // a run reaches the next block
	SHLQ $1, R12
	MOVQ $0x5555555555555555, DX
	XORQ DX, R12
	ANDQ R11, R12              // escaped bytes
	NOTQ R12
	ANDQ R12, AX               // unescaped quotes
	MOVQ R13, R12
	JMP  squotes

sdone:
	MOVQ st+24(FP), AX
	MOVQ R8, strState_inString(AX)
	MOVQ R9, strState_escaped(AX)
	MOVQ R10, strState_before(AX)
	SUBQ p+0(FP), SI
	SHRQ $6, SI
	MOVQ SI, ret+32(FP)
	VZEROUPPER
	RET
