//go:build amd64 && !purego

#include "textflag.h"

// func sgd4(w, grad *float64, n int, lr float64)
// w[i] -= lr*grad[i] for n elements, n a multiple of 4: a product, then a
// difference, each rounded, as the Go loop does.
TEXT ·sgd4(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD lr+24(FP), Y0

sgd16:
	CMPQ CX, $16
	JLT  sgd4tail
	VMULPD (SI), Y0, Y1
	VMULPD 32(SI), Y0, Y2
	VMULPD 64(SI), Y0, Y3
	VMULPD 96(SI), Y0, Y4
	VMOVUPD (DI), Y5
	VMOVUPD 32(DI), Y6
	VMOVUPD 64(DI), Y7
	VMOVUPD 96(DI), Y8
	VSUBPD Y1, Y5, Y5
	VSUBPD Y2, Y6, Y6
	VSUBPD Y3, Y7, Y7
	VSUBPD Y4, Y8, Y8
	VMOVUPD Y5, (DI)
	VMOVUPD Y6, 32(DI)
	VMOVUPD Y7, 64(DI)
	VMOVUPD Y8, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $16, CX
	JMP  sgd16

sgd4tail:
	CMPQ CX, $4
	JLT  sgddone
	VMULPD (SI), Y0, Y1
	VMOVUPD (DI), Y5
	VSUBPD Y1, Y5, Y5
	VMOVUPD Y5, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  sgd4tail

sgddone:
	VZEROUPPER
	RET

// func bytesToFloats8(dst *float64, src *byte, n int, scale float64)
// dst[i] = float64(src[i]) * scale for n elements, n a multiple of 8: the
// conversion is exact and the product rounded once, as in Go.
TEXT ·bytesToFloats8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD scale+24(FP), Y0

b8:
	CMPQ CX, $8
	JLT  bdone
	VPMOVZXBD (SI), X1
	VPMOVZXBD 4(SI), X2
	VCVTDQ2PD X1, Y1
	VCVTDQ2PD X2, Y2
	VMULPD Y0, Y1, Y1
	VMULPD Y0, Y2, Y2
	VMOVUPD Y1, (DI)
	VMOVUPD Y2, 32(DI)
	ADDQ $8, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JMP  b8

bdone:
	VZEROUPPER
	RET
