package backend

import "fmt"

// The Check functions hold the shape rules of each operation, so that every
// backend panics with the same message for the same wiring mistake. Each
// panics with a message that names the operation and the shapes.

func shape(t Tensor) string {
	if n := t.Models(); n != 1 {
		return fmt.Sprintf("%dx%d %s (%d models)", t.Rows(), t.Cols(), t.DType(), n)
	}
	return fmt.Sprintf("%dx%d %s", t.Rows(), t.Cols(), t.DType())
}

// checkModels checks the model counts of an operation's tensors: the first
// outs are its outputs, which all have the same number of models N; the
// others are inputs, of N models or 1 (shared by every model). nil tensors
// (an absent count or index list) are skipped. It returns N.
func checkModels(op string, outs int, ts ...Tensor) int {
	n := ts[0].Models()
	for i, t := range ts {
		if t == nil {
			continue
		}
		switch m := t.Models(); {
		case i < outs && m != n:
			panic(fmt.Sprintf("%s: outputs %s and %s differ in models", op, shape(ts[0]), shape(t)))
		case m != n && m != 1:
			panic(fmt.Sprintf("%s: input %s has %d models for outputs of %d (want %d or 1)", op, shape(t), m, n, n))
		}
	}
	return n
}

// CheckModels checks the model counts of an operation's tensors for a
// backend's own operations: outs outputs first, of one number of models N,
// then inputs of N models or 1; nil tensors are skipped. It returns N, and
// panics with a message naming op and the shapes otherwise.
func CheckModels(op string, outs int, ts ...Tensor) int { return checkModels(op, outs, ts...) }

func wantFloat(op string, ts ...Tensor) {
	for _, t := range ts {
		if t.DType() != Float {
			panic(fmt.Sprintf("%s: tensor %s is not of type float", op, shape(t)))
		}
	}
}

// CheckMatMul checks the shapes of MatMul and returns m, k and n.
func CheckMatMul(c, a, b Tensor, transA, transB bool) (m, k, n int) {
	wantFloat("MatMul", c, a, b)
	if c == a || c == b {
		panic("MatMul: output aliases an input")
	}
	checkModels("MatMul", 1, c, a, b)
	m, k = a.Rows(), a.Cols()
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows(), b.Cols()
	if transB {
		kb, n = n, kb
	}
	if k != kb || c.Rows() != m || c.Cols() != n {
		panic(fmt.Sprintf("MatMul: shape mismatch: op(a) %dx%d (transA=%v), op(b) %dx%d (transB=%v), c %s",
			m, k, transA, kb, n, transB, shape(c)))
	}
	return m, k, n
}

// CheckMatMulBiasActivate checks the shapes and the dropout of
// MatMulBiasActivate and
// returns m, k and n.
func CheckMatMulBiasActivate(y, x, w, bias Tensor, act Activation, drop Dropout) (m, k, n int) {
	wantFloat("MatMulBiasActivate", y, x, w, bias)
	CheckDropout("MatMulBiasActivate", drop)
	if y == x || y == w {
		panic("MatMulBiasActivate: output aliases an input")
	}
	checkModels("MatMulBiasActivate", 1, y, x, w, bias)
	m, k, n = x.Rows(), x.Cols(), w.Cols()
	if w.Rows() != k || y.Rows() != m || y.Cols() != n {
		panic(fmt.Sprintf("MatMulBiasActivate: shape mismatch: x %s, w %s, y %s", shape(x), shape(w), shape(y)))
	}
	if bias.Rows() != 1 || bias.Cols() != n {
		panic(fmt.Sprintf("MatMulBiasActivate: bias %s does not match y %s (want 1x%d)", shape(bias), shape(y), n))
	}
	checkAct("MatMulBiasActivate", act)
	return m, k, n
}

// CheckMatMulActivationGrad checks the shapes and the dropout of
// MatMulActivationGrad and
// returns m, k and n.
func CheckMatMulActivationGrad(dz, g, w, y Tensor, transW bool, act Activation, drop Dropout) (m, k, n int) {
	wantFloat("MatMulActivationGrad", dz, g, w, y)
	CheckDropout("MatMulActivationGrad", drop)
	if dz == g || dz == w || dz == y {
		panic("MatMulActivationGrad: output aliases an input")
	}
	checkModels("MatMulActivationGrad", 1, dz, g, w, y)
	m, k = g.Rows(), g.Cols()
	kw, n := w.Rows(), w.Cols()
	if transW {
		kw, n = n, kw
	}
	if kw != k || dz.Rows() != m || dz.Cols() != n {
		panic(fmt.Sprintf("MatMulActivationGrad: shape mismatch: g %s, op(w) %dx%d (transW=%v), dz %s", shape(g), kw, n, transW, shape(dz)))
	}
	if y.Rows() != m || y.Cols() != n {
		panic(fmt.Sprintf("MatMulActivationGrad: y %s and dz %s differ in shape", shape(y), shape(dz)))
	}
	checkAct("MatMulActivationGrad", act)
	return m, k, n
}

// CheckGatherMatMulBiasActivate checks the shapes of GatherMatMulBiasActivate
// and returns m, k and n.
func CheckGatherMatMulBiasActivate(x, src, idx Tensor, offset int, y, w, bias Tensor, act Activation, drop Dropout) (m, k, n int) {
	CheckGather(x, src, idx, offset)
	if x == src {
		panic("GatherMatMulBiasActivate: x aliases src")
	}
	if y == src {
		panic("GatherMatMulBiasActivate: output aliases an input")
	}
	checkModels("GatherMatMulBiasActivate", 2, y, x, src, idx, w, bias)
	return CheckMatMulBiasActivate(y, x, w, bias, act, drop)
}

// CheckMatMulColumnSum checks the shapes of MatMulColumnSum and returns m, k
// and n (x is m×k, dy m×n).
func CheckMatMulColumnSum(dw, db, x, dy Tensor) (m, k, n int) {
	wantFloat("MatMulColumnSum", dw, db, x, dy)
	if dw == x || dw == dy || db == x || db == dy || dw == db {
		panic("MatMulColumnSum: output aliases an input or the other output")
	}
	checkModels("MatMulColumnSum", 2, dw, db, x, dy)
	m, k, n = x.Rows(), x.Cols(), dy.Cols()
	if dy.Rows() != m || dw.Rows() != k || dw.Cols() != n {
		panic(fmt.Sprintf("MatMulColumnSum: shape mismatch: x %s, dy %s, dw %s (want %dx%d)", shape(x), shape(dy), shape(dw), k, n))
	}
	if db.Rows() != 1 || db.Cols() != n {
		panic(fmt.Sprintf("MatMulColumnSum: db %s does not match dy %s (want 1x%d)", shape(db), shape(dy), n))
	}
	return m, k, n
}

// CheckBiasActivate checks the shapes of BiasActivate.
func CheckBiasActivate(y, bias Tensor, act Activation) {
	wantFloat("BiasActivate", y, bias)
	checkModels("BiasActivate", 1, y, bias)
	if bias.Rows() != 1 || bias.Cols() != y.Cols() {
		panic(fmt.Sprintf("BiasActivate: bias %s does not match y %s (want 1x%d)", shape(bias), shape(y), y.Cols()))
	}
	checkAct("BiasActivate", act)
}

// CheckActivationGrad checks the shapes of ActivationGrad.
func CheckActivationGrad(d, y Tensor, act Activation) {
	wantFloat("ActivationGrad", d, y)
	checkModels("ActivationGrad", 1, d, y)
	if d.Rows() != y.Rows() || d.Cols() != y.Cols() {
		panic(fmt.Sprintf("ActivationGrad: d %s and y %s differ in shape", shape(d), shape(y)))
	}
	checkAct("ActivationGrad", act)
}

func checkAct(op string, act Activation) {
	if !act.Valid() {
		panic(fmt.Sprintf("%s: unknown activation %v", op, act))
	}
}

// CheckColumnSum checks the shapes of ColumnSum.
func CheckColumnSum(dst, src Tensor) {
	wantFloat("ColumnSum", dst, src)
	checkModels("ColumnSum", 1, dst, src)
	if dst.Rows() != 1 || dst.Cols() != src.Cols() {
		panic(fmt.Sprintf("ColumnSum: dst %s does not match src %s (want 1x%d)", shape(dst), shape(src), src.Cols()))
	}
}

// CheckLoss checks the shapes of out and target for kind.
func CheckLoss(op string, out, target Tensor, kind Loss) {
	wantFloat(op, out, target)
	switch kind {
	case BinaryCrossEntropy:
		if out.Cols() != 1 || target.Rows() != out.Rows() || target.Cols() != 1 {
			panic(fmt.Sprintf("%s(%v): want out and target of shape Bx1, got out %s, target %s", op, kind, shape(out), shape(target)))
		}
	case SoftmaxCrossEntropy:
		if target.Rows() != out.Rows() || target.Cols() != 1 {
			panic(fmt.Sprintf("%s(%v): want out BxC and target Bx1 class indices, got out %s, target %s", op, kind, shape(out), shape(target)))
		}
	case MeanSquaredError:
		if target.Rows() != out.Rows() || target.Cols() != out.Cols() {
			panic(fmt.Sprintf("%s(%v): out %s and target %s differ in shape", op, kind, shape(out), shape(target)))
		}
	default:
		panic(fmt.Sprintf("%s: unknown loss %v", op, kind))
	}
}

func checkScalar(op, name string, t Tensor) {
	wantFloat(op, t)
	if t.Rows() != 1 || t.Cols() != 1 {
		panic(fmt.Sprintf("%s: %s must be 1x1, got %s", op, name, shape(t)))
	}
}

// CheckLossGrad checks the shapes of LossGrad.
func CheckLossGrad(loss, grad, out, target Tensor, kind Loss) {
	CheckLoss("LossGrad", out, target, kind)
	checkScalar("LossGrad", "loss", loss)
	wantFloat("LossGrad", grad)
	if grad.Rows() != out.Rows() || grad.Cols() != out.Cols() {
		panic(fmt.Sprintf("LossGrad: grad %s and out %s differ in shape", shape(grad), shape(out)))
	}
	checkModels("LossGrad", 2, grad, loss, out, target)
}

// CheckCountCorrect checks the shapes of CountCorrect.
func CheckCountCorrect(count, out, target Tensor, kind Loss) {
	if kind == MeanSquaredError {
		panic("CountCorrect: accuracy is not defined for mse")
	}
	CheckLoss("CountCorrect", out, target, kind)
	checkScalar("CountCorrect", "count", count)
	checkModels("CountCorrect", 1, count, out, target)
}

// CheckLossGradCount checks the shapes of LossGradCount.
func CheckLossGradCount(loss, count, grad, out, target, idx Tensor, offset int, kind Loss, weights Tensor) {
	const op = "LossGradCount"
	if weights != nil {
		wantFloat(op, weights)
		want := out.Cols()
		switch kind {
		case BinaryCrossEntropy:
			want = 2
		case MeanSquaredError:
			panic(fmt.Sprintf("%s: class weights %s for mse", op, shape(weights)))
		}
		if weights.Rows() != 1 || weights.Cols() != want {
			panic(fmt.Sprintf("%s(%v): class weights %s, want 1x%d", op, kind, shape(weights), want))
		}
		checkModels(op, 1, grad, weights)
	}
	if idx == nil {
		if offset != 0 {
			panic(fmt.Sprintf("%s: offset %d without an index list", op, offset))
		}
		CheckLoss(op, out, target, kind)
	} else {
		wantFloat(op, out, target)
		want := 1
		switch kind {
		case BinaryCrossEntropy:
			if out.Cols() != 1 {
				panic(fmt.Sprintf("%s(%v): want out of shape Bx1, got %s", op, kind, shape(out)))
			}
		case SoftmaxCrossEntropy:
		case MeanSquaredError:
			want = out.Cols()
		default:
			panic(fmt.Sprintf("%s: unknown loss %v", op, kind))
		}
		if target.Cols() != want {
			panic(fmt.Sprintf("%s(%v): target %s, want %d columns for out %s", op, kind, shape(target), want, shape(out)))
		}
		if idx.DType() != Index {
			panic(fmt.Sprintf("%s: idx %s must be of type index", op, shape(idx)))
		}
		if n := idx.Rows() * idx.Cols(); offset < 0 || offset+out.Rows() > n {
			panic(fmt.Sprintf("%s: rows [%d, %d) outside the %d indices of idx", op, offset, offset+out.Rows(), n))
		}
	}
	checkScalar(op, "loss", loss)
	wantFloat(op, grad)
	if grad.Rows() != out.Rows() || grad.Cols() != out.Cols() {
		panic(fmt.Sprintf("%s: grad %s and out %s differ in shape", op, shape(grad), shape(out)))
	}
	if grad == out || grad == target || grad == loss {
		panic(op + ": grad aliases an input or the loss")
	}
	if count != nil {
		if kind == MeanSquaredError {
			panic(op + ": accuracy is not defined for mse")
		}
		checkScalar(op, "count", count)
		if count == loss || count == grad {
			panic(op + ": count aliases the loss or the gradient")
		}
	}
	checkModels(op, 3, grad, loss, count, out, target, idx)
}

// CheckGather checks the shapes of Gather.
func CheckGather(dst, src, idx Tensor, offset int) {
	wantFloat("Gather", dst)
	if src.DType() == Index {
		panic(fmt.Sprintf("Gather: src %s must be float or byte", shape(src)))
	}
	if idx.DType() != Index {
		panic(fmt.Sprintf("Gather: idx %s must be of type index", shape(idx)))
	}
	if dst.Cols() != src.Cols() {
		panic(fmt.Sprintf("Gather: dst %s and src %s differ in columns", shape(dst), shape(src)))
	}
	if n := idx.Rows() * idx.Cols(); offset < 0 || offset+dst.Rows() > n {
		panic(fmt.Sprintf("Gather: rows [%d, %d) outside the %d indices of idx", offset, offset+dst.Rows(), n))
	}
	checkModels("Gather", 1, dst, src, idx)
}

// CheckSame checks that every tensor is Float and of the same shape as the
// first, and that they all have the same models (outputs of an operation
// that updates them in place, such as Fill).
func CheckSame(op string, ts ...Tensor) {
	wantFloat(op, ts...)
	for _, t := range ts[1:] {
		if t.Rows() != ts[0].Rows() || t.Cols() != ts[0].Cols() {
			panic(fmt.Sprintf("%s: tensors %s and %s differ in shape", op, shape(ts[0]), shape(t)))
		}
	}
	checkModels(op, len(ts), ts...)
}

// CheckOptimizer checks the arguments of an optimizer (SGD,
// SGDCompensated, Momentum): w and its state (the tensors after w) are
// Float tensors of one shape and models, g and decay (unless nil) have
// their shape and their models or 1, and hp is a Float 1×cols table of
// their models or 1.
func CheckOptimizer(op string, cols int, w, g, hp, decay Tensor, state ...Tensor) {
	wantFloat(op, w, g, hp)
	if decay != nil {
		wantFloat(op, decay)
		if decay.Rows() != w.Rows() || decay.Cols() != w.Cols() {
			panic(fmt.Sprintf("%s: decay %s and %s differ in shape", op, shape(decay), shape(w)))
		}
		checkModels(op, 1, w, decay)
	}
	wantFloat(op, state...)
	if g.Rows() != w.Rows() || g.Cols() != w.Cols() {
		panic(fmt.Sprintf("%s: tensors %s and %s differ in shape", op, shape(w), shape(g)))
	}
	for _, t := range state {
		if t.Rows() != w.Rows() || t.Cols() != w.Cols() {
			panic(fmt.Sprintf("%s: tensors %s and %s differ in shape", op, shape(w), shape(t)))
		}
	}
	if hp.Rows() != 1 || hp.Cols() != cols {
		panic(fmt.Sprintf("%s: hyperparameter table %s, want 1x%d per model", op, shape(hp), cols))
	}
	n := w.Models()
	for _, t := range state {
		if t.Models() != n {
			panic(fmt.Sprintf("%s: outputs %s and %s differ in models", op, shape(w), shape(t)))
		}
	}
	checkModels(op, 1, w, g, hp)
}

// CheckGradNormSq checks the arguments of GradNormSq: hp is a Float 1×cols
// table with cols at least SGDHPCols, g a Float tensor of hp's models or 1.
func CheckGradNormSq(hp, g Tensor) {
	wantFloat("GradNormSq", hp, g)
	if hp.Rows() != 1 || hp.Cols() < SGDHPCols {
		panic(fmt.Sprintf("GradNormSq: hyperparameter table %s, want 1xN per model with N at least %d", shape(hp), SGDHPCols))
	}
	checkModels("GradNormSq", 1, hp, g)
}

// CheckAdam checks the arguments of Adam: w, g, m and v are Float tensors of
// one shape (see CheckOptimizer), hp is 1×AdamHPCols, and step (counted
// from 1) is at least 1.
func CheckAdam(w, g, m, v, hp, decay Tensor, step int) {
	CheckOptimizer("Adam", AdamHPCols, w, g, hp, decay, m, v)
	if step < 1 {
		panic(fmt.Sprintf("Adam: step %d must be at least 1", step))
	}
}

// CheckView checks the arguments of View.
func CheckView(t Tensor, rows int) {
	if rows < 1 || rows > t.Rows() {
		panic(fmt.Sprintf("View: %d rows outside [1, %d] of %s", rows, t.Rows(), shape(t)))
	}
}

// CheckSlice checks the arguments of Slice.
func CheckSlice(t Tensor, offset, rows, cols int) {
	wantFloat("Slice", t)
	if rows < 1 || cols < 1 {
		panic(fmt.Sprintf("Slice: shape %dx%d must be at least 1x1", rows, cols))
	}
	if offset < 0 || offset%SliceAlign != 0 {
		panic(fmt.Sprintf("Slice: offset %d is not a multiple of %d (SliceAlign)", offset, SliceAlign))
	}
	if n := t.Rows() * t.Cols(); offset > n || rows*cols > n-offset {
		panic(fmt.Sprintf("Slice: %dx%d at offset %d outside the %d elements of %s", rows, cols, offset, n, shape(t)))
	}
}

// CheckNew checks the arguments of New.
func CheckNew(rows, cols int, dt DType) { CheckNewArray(1, rows, cols, dt) }

// CheckNewArray checks the arguments of NewArray.
func CheckNewArray(models, rows, cols int, dt DType) {
	if models < 1 {
		panic(fmt.Sprintf("NewArray: %d models, want at least 1", models))
	}
	if rows < 1 || cols < 1 {
		panic(fmt.Sprintf("New: shape %dx%d must be at least 1x1", rows, cols))
	}
	if dt > Index {
		panic(fmt.Sprintf("New: unknown %v", dt))
	}
}

// CheckWrite checks that a host slice of length n fits t of type dt.
func CheckWrite(op string, t Tensor, dt DType, n int) {
	if t.DType() != dt {
		panic(fmt.Sprintf("%s: tensor %s is not of type %s", op, shape(t), dt))
	}
	if want := t.Models() * t.Rows() * t.Cols(); n != want {
		panic(fmt.Sprintf("%s: %d values for tensor %s (want %d)", op, n, shape(t), want))
	}
}
