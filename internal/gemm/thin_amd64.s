//go:build amd64 && !purego

#include "textflag.h"

// func thinDot4(k int, a *float64, lda int, b *float64, s *[16]float64)
//
// For the four rows of a (lda apart) and the contiguous b, the partial sums
// of thin's dot product, four lanes a row: lane l of row r is
// Σ a[r][p]·b[p] over p ≡ l (mod 4), p < k (k a multiple of 4), each
// product rounded, then added in p order (VMULPD, VADDPD: no fusion), as
// thin's s0..s3. Row r's lanes go to s[4r:4r+4].
TEXT ·thinDot4(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ b+24(FP), DI
	MOVQ s+32(FP), DX
	LEAQ (R8)(R8*2), R9
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX
	SHRQ $2, CX
	JEQ done
loop:
	VMOVUPD (DI)(AX*1), Y4
	VMULPD (SI)(AX*1), Y4, Y5
	VADDPD Y5, Y0, Y0
	LEAQ (SI)(R8*1), BX
	VMULPD (BX)(AX*1), Y4, Y6
	VADDPD Y6, Y1, Y1
	LEAQ (SI)(R8*2), BX
	VMULPD (BX)(AX*1), Y4, Y7
	VADDPD Y7, Y2, Y2
	LEAQ (SI)(R9*1), BX
	VMULPD (BX)(AX*1), Y4, Y8
	VADDPD Y8, Y3, Y3
	ADDQ $32, AX
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, 0(DX)
	VMOVUPD Y1, 32(DX)
	VMOVUPD Y2, 64(DX)
	VMOVUPD Y3, 96(DX)
	VZEROUPPER
	RET

// func thinAxpy16(k int, x *float64, sx int, a *float64, lda int, c *float64)
//
// c[0:16] = Σ over p < k, in p order, of x[p·sx]·a[p·lda : p·lda+16]:
// each product rounded, then added (no fusion), starting from zero, as
// thin's transposed loop does one element at a time.
TEXT ·thinAxpy16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ x+8(FP), DI
	MOVQ sx+16(FP), R9
	SHLQ $3, R9
	MOVQ a+24(FP), SI
	MOVQ lda+32(FP), R8
	SHLQ $3, R8
	MOVQ c+40(FP), DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	TESTQ CX, CX
	JEQ done
loop:
	VBROADCASTSD (DI), Y4
	VMULPD 0(SI), Y4, Y5
	VADDPD Y5, Y0, Y0
	VMULPD 32(SI), Y4, Y6
	VADDPD Y6, Y1, Y1
	VMULPD 64(SI), Y4, Y7
	VADDPD Y7, Y2, Y2
	VMULPD 96(SI), Y4, Y8
	VADDPD Y8, Y3, Y3
	ADDQ R9, DI
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPD Y0, 0(DX)
	VMOVUPD Y1, 32(DX)
	VMOVUPD Y2, 64(DX)
	VMOVUPD Y3, 96(DX)
	VZEROUPPER
	RET
