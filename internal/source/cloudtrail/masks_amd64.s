#include "textflag.h"

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
	MOVL AX, 0(DI)(R8*1)    // quote
	VPCMPEQB backslashes<>(SB), Y11, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, 8(DI)(R8*1)    // backslash
	VPOR Y11, Y2, Y11       // f0
	VPCMPEQB Y11, Y3, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, 16(DI)(R8*1)   // open
	VPCMPEQB Y11, Y4, Y13
	VPMOVMSKB Y13, AX
	MOVL AX, 24(DI)(R8*1)   // close
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
	MOVL AX, 32(DI)(R8*1)   // root
	VPOR Y11, Y2, Y11       // f3
	VPCMPEQB Y11, Y10, Y1
	VPAND Y1, Y15, Y15      // rec: f3 == c
	VPOR Y15, Y14, Y14      // ev or rec
	VPAND Y12, Y14, Y14     // after a quote
	VPMOVMSKB Y14, AX
	MOVL AX, 40(DI)(R8*1)   // key

	CMPQ DX, $0
	JNE  next
	MOVQ $32, DX
	MOVQ $4, R8
	JMP  half

next:
	ADDQ $64, SI
	ADDQ $48, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func masksAVX512(p *byte, blocks int, out *uint64)
//
// The same masks, a whole block per instruction: comparisons go to mask
// registers, and a comparison under a mask ANDs with it.
TEXT ·masksAVX512(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DI
	TESTQ CX, CX
	JZ   done512

	MOVL $0x22, AX
	VPBROADCASTB AX, Z0 // "
	MOVL $0x5c, AX
	VPBROADCASTB AX, Z1 // backslash
	MOVL $0x20, AX
	VPBROADCASTB AX, Z2 // case fold
	MOVL $0x7b, AX
	VPBROADCASTB AX, Z3 // {
	MOVL $0x7d, AX
	VPBROADCASTB AX, Z4 // }
	MOVL $0x6f, AX
	VPBROADCASTB AX, Z5 // o
	MOVL $0x74, AX
	VPBROADCASTB AX, Z6 // t
	MOVL $0x65, AX
	VPBROADCASTB AX, Z7 // e
	MOVL $0x76, AX
	VPBROADCASTB AX, Z8 // v
	MOVL $0x72, AX
	VPBROADCASTB AX, Z9 // r
	MOVL $0x63, AX
	VPBROADCASTB AX, Z10 // c

loop512:
	VMOVDQU64 (SI), Z11
	VPCMPEQB Z0, Z11, K1       // quote
	KMOVQ K1, 0(DI)
	VPCMPEQB Z1, Z11, K2
	KMOVQ K2, 8(DI)            // backslash
	VPORQ Z2, Z11, Z11         // f0
	VPCMPEQB Z3, Z11, K2
	KMOVQ K2, 16(DI)           // open
	VPCMPEQB Z4, Z11, K2
	KMOVQ K2, 24(DI)           // close
	VPCMPEQB Z5, Z11, K3       // root: f0 == o

	VMOVDQU64 1(SI), Z12
	VPORQ Z2, Z12, Z12         // f1
	VPCMPEQB Z5, Z12, K3, K3   // root: f1 == o
	VPCMPEQB Z7, Z12, K1, K4   // ev: after a quote, f1 == e
	VPCMPEQB Z9, Z12, K1, K5   // rec: after a quote, f1 == r

	VMOVDQU64 2(SI), Z12
	VPORQ Z2, Z12, Z12         // f2
	VPCMPEQB Z6, Z12, K3, K3   // root: f2 == t
	VPCMPEQB Z8, Z12, K4, K4   // ev: f2 == v
	VPCMPEQB Z7, Z12, K5, K5   // rec: f2 == e

	VMOVDQU64 3(SI), Z12
	VPCMPEQB Z0, Z12, K3, K3   // root: b3 == "
	KMOVQ K3, 32(DI)           // root
	VPORQ Z2, Z12, Z12         // f3
	VPCMPEQB Z10, Z12, K5, K5  // rec: f3 == c
	KORQ K4, K5, K4
	KMOVQ K4, 40(DI)           // key

	ADDQ $64, SI
	ADDQ $48, DI
	DECQ CX
	JNZ  loop512

done512:
	VZEROUPPER
	RET
