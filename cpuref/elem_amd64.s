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

// func colSum4(d, s *float64, n, stride, rows int)
// d[j] = s[j] + s[stride+j] + … + s[(rows−1)·stride+j] for j < n, n a
// multiple of 4, rows ≥ 1: each column summed row after row, as
// columnSumModel's Go loop does, four or sixteen columns at a time.
TEXT ·colSum4(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ stride+24(FP), DX
	MOVQ rows+32(FP), R8
	SHLQ $3, DX

cs16:
	CMPQ CX, $16
	JLT  cs4
	MOVQ SI, R9
	MOVQ R8, R10
	VMOVUPD (R9), Y0
	VMOVUPD 32(R9), Y1
	VMOVUPD 64(R9), Y2
	VMOVUPD 96(R9), Y3

cs16row:
	DECQ R10
	JZ   cs16store
	ADDQ DX, R9
	VADDPD (R9), Y0, Y0
	VADDPD 32(R9), Y1, Y1
	VADDPD 64(R9), Y2, Y2
	VADDPD 96(R9), Y3, Y3
	JMP  cs16row

cs16store:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $16, CX
	JMP  cs16

cs4:
	CMPQ CX, $4
	JLT  csdone
	MOVQ SI, R9
	MOVQ R8, R10
	VMOVUPD (R9), Y0

cs4row:
	DECQ R10
	JZ   cs4store
	ADDQ DX, R9
	VADDPD (R9), Y0, Y0
	JMP  cs4row

cs4store:
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  cs4

csdone:
	VZEROUPPER
	RET

// func sigmoidGrad4(d, y *float64, n int)
// d[i] *= y[i]·(1 − y[i]) for n elements, n a multiple of 4: a difference,
// a product and a product, each rounded, as activationGradRange's Go loop.
TEXT ·sigmoidGrad4(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ $0x3ff0000000000000, AX
	MOVQ AX, X0
	VBROADCASTSD X0, Y0

sg8:
	CMPQ CX, $8
	JLT  sg4
	VMOVUPD (SI), Y1
	VMOVUPD 32(SI), Y2
	VSUBPD Y1, Y0, Y3
	VSUBPD Y2, Y0, Y4
	VMULPD Y3, Y1, Y1
	VMULPD Y4, Y2, Y2
	VMULPD (DI), Y1, Y1
	VMULPD 32(DI), Y2, Y2
	VMOVUPD Y1, (DI)
	VMOVUPD Y2, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JMP  sg8

sg4:
	CMPQ CX, $4
	JLT  sgdone4
	VMOVUPD (SI), Y1
	VSUBPD Y1, Y0, Y3
	VMULPD Y3, Y1, Y1
	VMULPD (DI), Y1, Y1
	VMOVUPD Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  sg4

sgdone4:
	VZEROUPPER
	RET

// func adam4(w, grad, m, v *float64, n int, k *[9]float64, decoupled bool)
// One Adam update of n elements, n a multiple of 4, with k = {β1, 1−β1,
// β2, 1−β2, c1, c2, eps, lr, dw}: m = β1·m + (1−β1)·grad; v = β2·v +
// ((1−β2)·grad)·grad; u = (m/c1) / (sqrt(v/c2) + eps); with decoupled,
// u = u + (0 + dw·w); w = w − lr·u. Every operation rounded on its own, in
// adamRange's order, so the bits are its Go loop's.
TEXT ·adam4(SB), NOSPLIT, $0-49
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R9
	MOVQ v+24(FP), R10
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), R8
	MOVBLZX decoupled+48(FP), DX
	VBROADCASTSD 0(R8), Y0
	VBROADCASTSD 8(R8), Y1
	VBROADCASTSD 16(R8), Y2
	VBROADCASTSD 24(R8), Y3
	VBROADCASTSD 32(R8), Y4
	VBROADCASTSD 40(R8), Y5
	VBROADCASTSD 48(R8), Y6
	VBROADCASTSD 56(R8), Y7
	VBROADCASTSD 64(R8), Y8
	VXORPD Y9, Y9, Y9

adamloop:
	CMPQ CX, $4
	JLT  adamdone
	VMOVUPD (SI), Y10
	VMULPD (R9), Y0, Y11
	VMULPD Y10, Y1, Y12
	VADDPD Y12, Y11, Y11
	VMOVUPD Y11, (R9)
	VMULPD (R10), Y2, Y13
	VMULPD Y10, Y3, Y14
	VMULPD Y10, Y14, Y14
	VADDPD Y14, Y13, Y13
	VMOVUPD Y13, (R10)
	VDIVPD Y4, Y11, Y11
	VDIVPD Y5, Y13, Y13
	VSQRTPD Y13, Y13
	VADDPD Y6, Y13, Y13
	VDIVPD Y13, Y11, Y11
	VMOVUPD (DI), Y15
	TESTQ DX, DX
	JZ   adamstep
	VMULPD Y15, Y8, Y14
	VADDPD Y14, Y9, Y14
	VADDPD Y14, Y11, Y11

adamstep:
	VMULPD Y11, Y7, Y11
	VSUBPD Y11, Y15, Y15
	VMOVUPD Y15, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R9
	ADDQ $32, R10
	SUBQ $4, CX
	JMP  adamloop

adamdone:
	VZEROUPPER
	RET

// func momentum4(w, grad, v *float64, n int, mu, lr float64)
// v = mu·v + grad, then w = w − lr·v, for n elements, n a multiple of 4:
// each product, sum and difference rounded on its own, as momentumRange's
// Go loop does.
TEXT ·momentum4(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), R9
	MOVQ n+24(FP), CX
	VBROADCASTSD mu+32(FP), Y0
	VBROADCASTSD lr+40(FP), Y1

momloop:
	CMPQ CX, $4
	JLT  momdone
	VMULPD (R9), Y0, Y2
	VADDPD (SI), Y2, Y2
	VMOVUPD Y2, (R9)
	VMULPD Y2, Y1, Y3
	VMOVUPD (DI), Y4
	VSUBPD Y3, Y4, Y4
	VMOVUPD Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R9
	SUBQ $4, CX
	JMP  momloop

momdone:
	VZEROUPPER
	RET
