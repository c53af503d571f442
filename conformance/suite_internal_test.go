package conformance

import (
	"strings"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/assert"
)

// runCheck runs the named check of the suite (at Full size) on b, as Run
// does, and returns its failures and logs.
func runCheck(t *testing.T, name string, b backend.Backend) (errs, logs []string) {
	t.Helper()
	res := run(b, Options{Size: Full}, func(n string) bool { return n == name })
	if len(res) == 0 {
		t.Fatalf("no check %q", name)
	}
	for _, r := range res {
		prefix := r.Op
		if r.Case != "" {
			prefix += "/" + r.Case
		}
		for _, e := range r.Failures {
			errs = append(errs, prefix+": "+e)
		}
		for _, l := range r.Logs {
			logs = append(logs, prefix+": "+l)
		}
	}
	return errs, logs
}

// hooked is the reference backend with hook called on each operation's
// outputs after the operation: a way to make deliberately inexact backends.
type hooked struct {
	*cpuref.Backend
	hook func(op string, out ...backend.Tensor)
}

func (h hooked) WriteFloats(t backend.Tensor, src []float64) error {
	err := h.Backend.WriteFloats(t, src)
	h.hook("WriteFloats", t)
	return err
}
func (h hooked) MatMul(c, a, b backend.Tensor, ta, tb bool) {
	h.Backend.MatMul(c, a, b, ta, tb)
	h.hook("MatMul", c)
}
func (h hooked) BiasActivate(y, bias backend.Tensor, act backend.Activation) {
	h.Backend.BiasActivate(y, bias, act)
	h.hook("BiasActivate", y)
}
func (h hooked) ActivationGrad(d, y backend.Tensor, act backend.Activation) {
	h.Backend.ActivationGrad(d, y, act)
	h.hook("ActivationGrad", d)
}
func (h hooked) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	h.Backend.MatMulBiasActivate(y, x, w, bias, act, drop)
	h.hook("MatMulBiasActivate", y)
}
func (h hooked) MatMulActivationGrad(dz, g, w, y backend.Tensor, transW bool, act backend.Activation, drop backend.Dropout) {
	h.Backend.MatMulActivationGrad(dz, g, w, y, transW, act, drop)
	h.hook("MatMulActivationGrad", dz)
}
func (h hooked) GatherMatMulBiasActivate(x, src, idx backend.Tensor, offset int, scale float64, y, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	h.Backend.GatherMatMulBiasActivate(x, src, idx, offset, scale, y, w, bias, act, drop)
	h.hook("GatherMatMulBiasActivate", x, y)
}
func (h hooked) MatMulColumnSum(dw, db, x, dy backend.Tensor) {
	h.Backend.MatMulColumnSum(dw, db, x, dy)
	h.hook("MatMulColumnSum", dw, db)
}
func (h hooked) LossGradCount(loss, count, grad, out, target, idx backend.Tensor, offset int, kind backend.Loss, weights backend.Tensor) {
	h.Backend.LossGradCount(loss, count, grad, out, target, idx, offset, kind, weights)
	if count == nil {
		h.hook("LossGradCount", loss, grad)
		return
	}
	h.hook("LossGradCount", loss, grad, count)
}
func (h hooked) ColumnSum(dst, src backend.Tensor) {
	h.Backend.ColumnSum(dst, src)
	h.hook("ColumnSum", dst)
}
func (h hooked) LossGrad(loss, grad, out, target backend.Tensor, kind backend.Loss) {
	h.Backend.LossGrad(loss, grad, out, target, kind)
	h.hook("LossGrad", loss, grad)
}
func (h hooked) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	h.Backend.Gather(dst, src, idx, offset, scale)
	h.hook("Gather", dst)
}
func (h hooked) SGD(w, g, hp, decay backend.Tensor) {
	h.Backend.SGD(w, g, hp, decay)
	h.hook("SGD", w)
}
func (h hooked) Momentum(w, g, v, hp, decay backend.Tensor) {
	h.Backend.Momentum(w, g, v, hp, decay)
	h.hook("Momentum", w, v)
}
func (h hooked) Adam(w, g, m, v, hp, decay backend.Tensor, step int) {
	h.Backend.Adam(w, g, m, v, hp, decay, step)
	h.hook("Adam", w, m, v)
}

// apply sets each element x of the tensors' storage to f(x).
func apply(f func(float64) float64, ts ...backend.Tensor) {
	for _, t := range ts {
		d := t.(*cpuref.Tensor).Data()
		for i, x := range d {
			d[i] = f(x)
		}
	}
}

func round32(x float64) float64 { return float64(float32(x)) }

// float32Storage is the reference with every stored value rounded to
// float32: the storage half of a float32 backend's error.
func float32Storage() backend.Backend {
	return hooked{cpuref.New(), func(_ string, out ...backend.Tensor) { apply(round32, out...) }}
}

// TestFloat32StoragePasses runs the whole suite on float32Storage, a
// backend every bound must accept, and reports the training run's gap, on
// which TrainingRun's tolerance is based.
func TestFloat32StoragePasses(t *testing.T) {
	for _, c := range checks {
		errs, logs := runCheck(t, c.name, float32Storage())
		assert.Empty(t, errs, c.name)
		if c.name == "TrainingRun" {
			for _, l := range logs {
				t.Log(l)
			}
		}
	}
}

// TestBrokenBackendsFail shows that the suite catches plausible kernel
// bugs, each far smaller than a wrong formula: a matmul off by 1e-3
// relative, a sigmoid off by 1e-5, a column sum that drops a row's worth,
// a wrong tie rule, Adam's bias correction off by one step, a count off by
// one, a slice at the wrong offset.
func TestBrokenBackendsFail(t *testing.T) {
	scale := func(f float64) func(float64) float64 { return func(x float64) float64 { return x * f } }
	hook := func(op string, out int, f func(float64) float64) func() backend.Backend {
		return func() backend.Backend {
			return hooked{cpuref.New(), func(o string, ts ...backend.Tensor) {
				if o == op && out < len(ts) {
					apply(f, ts[out])
				}
			}}
		}
	}
	tests := []struct {
		name   string
		checks []string
		b      func() backend.Backend
	}{
		{"matmul off by 1e-3", []string{"MatMul", "Views", "TrainingRun"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "MatMul" {
					apply(scale(1+1e-3), out...)
				}
			}}
		}},
		{"bias_act off by 1e-5", []string{"BiasActivate"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "BiasActivate" {
					apply(scale(1+1e-5), out...)
				}
			}}
		}},
		{"fused forward off by 1e-5", []string{"MatMulBiasActivate", "Dropout"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "MatMulBiasActivate" {
					apply(scale(1+1e-5), out...)
				}
			}}
		}},
		{"fused backward off by 1e-4", []string{"MatMulActivationGrad", "Dropout"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "MatMulActivationGrad" {
					apply(scale(1+1e-4), out...)
				}
			}}
		}},
		{"loss gradient off by 1e-4", []string{"LossGrad"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "LossGrad" {
					apply(scale(1+1e-4), out[1])
				}
			}}
		}},
		{"column sum off by 1e-4", []string{"ColumnSum"}, func() backend.Backend {
			return hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
				if op == "ColumnSum" {
					apply(scale(1+1e-4), out...)
				}
			}}
		}},
		{"adam step off by one", []string{"Optimizers"}, func() backend.Backend { return offByOneAdam{cpuref.New()} }},
		{"gathered x off by 1e-5", []string{"GatherMatMulBiasActivate"}, hook("GatherMatMulBiasActivate", 0, scale(1+1e-5))},
		{"fused gather and forward off by 1e-5", []string{"GatherMatMulBiasActivate", "Dropout"}, hook("GatherMatMulBiasActivate", 1, scale(1+1e-5))},
		{"fused weight gradient off by 1e-4", []string{"MatMulColumnSum"}, hook("MatMulColumnSum", 0, scale(1+1e-4))},
		{"fused bias gradient off by 1e-4", []string{"MatMulColumnSum", "Slices"}, hook("MatMulColumnSum", 1, scale(1+1e-4))},
		{"fused loss gradient off by 1e-4", []string{"LossGradCount"}, hook("LossGradCount", 1, scale(1+1e-4))},
		{"fused loss sum off by 1e-4", []string{"LossGradCount"}, hook("LossGradCount", 0, scale(1+1e-4))},
		{"fused count off by one", []string{"LossGradCount"}, hook("LossGradCount", 2, func(x float64) float64 { return x + 1 })},
		{"slices all at offset 0", []string{"Slices"}, func() backend.Backend { return sliceAtZero{cpuref.New()} }},
		{"last largest logit wins", []string{"CountCorrect"}, func() backend.Backend { return lastTie{cpuref.New()} }},
		{"dropout mask of the next step", []string{"Dropout"}, func() backend.Backend { return nextStepMask{cpuref.New()} }},
		{"dropout mask left out of the backward", []string{"Dropout"}, func() backend.Backend { return unmaskedGrad{cpuref.New()} }},
		{"dropout mask of model 0 for every model", []string{"Arrays"}, func() backend.Backend { return maskOfModelZero{cpuref.New()} }},
		{"model 0's weights for every model", []string{"Arrays"}, func() backend.Backend { return modelZero{cpuref.New()} }},
		{"model 0's index list for every model", []string{"Arrays"}, func() backend.Backend { return modelZeroIndex{cpuref.New()} }},
	}
	for _, tc := range tests {
		for _, name := range tc.checks {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				errs, _ := runCheck(t, name, tc.b())
				if assert.NotEmpty(t, errs, "the suite missed the bug") {
					t.Log(errs[0])
					assert.True(t, strings.Contains(errs[0], "exceeds bound") || strings.Contains(errs[0], "wrote row"), errs[0])
				}
			})
		}
	}
}

// sliceAtZero takes every slice at the start of its tensor.
type sliceAtZero struct{ *cpuref.Backend }

func (s sliceAtZero) Slice(t backend.Tensor, _, rows, cols int) backend.Tensor {
	return s.Backend.Slice(t, 0, rows, cols)
}

// firstModel returns a tensor of one model holding model 0 of t.
func firstModel(b *cpuref.Backend, t backend.Tensor) backend.Tensor {
	one, err := b.New(t.Rows(), t.Cols(), t.DType())
	if err != nil {
		panic(err)
	}
	n := t.Rows() * t.Cols()
	if t.DType() == backend.Index {
		idx := append([]uint32(nil), t.(*cpuref.Tensor).Indices()[:n]...)
		if err := b.WriteIndices(one, idx); err != nil {
			panic(err)
		}
		return one
	}
	v, err := b.ReadFloats(t)
	if err != nil {
		panic(err)
	}
	if err := b.WriteFloats(one, v[:n]); err != nil {
		panic(err)
	}
	return one
}

// modelZero reads model 0's weights for every model of MatMulBiasActivate.
type modelZero struct{ *cpuref.Backend }

func (m modelZero) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	if w.Models() > 1 {
		w = firstModel(m.Backend, w)
	}
	m.Backend.MatMulBiasActivate(y, x, w, bias, act, drop)
}

// modelZeroIndex gathers every model's rows through model 0's index list.
type modelZeroIndex struct{ *cpuref.Backend }

func (m modelZeroIndex) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	if idx.Models() > 1 {
		idx = firstModel(m.Backend, idx)
	}
	m.Backend.Gather(dst, src, idx, offset, scale)
}

// nextStepMask draws the forward's dropout masks with the next step's
// number.
type nextStepMask struct{ *cpuref.Backend }

func (n nextStepMask) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	drop.Step++
	n.Backend.MatMulBiasActivate(y, x, w, bias, act, drop)
}

func (n nextStepMask) GatherMatMulBiasActivate(x, src, idx backend.Tensor, offset int, scale float64, y, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	drop.Step++
	n.Backend.GatherMatMulBiasActivate(x, src, idx, offset, scale, y, w, bias, act, drop)
}

// unmaskedGrad passes the gradient back through the activation without the
// dropout's mask and scale.
type unmaskedGrad struct{ *cpuref.Backend }

func (g unmaskedGrad) MatMulActivationGrad(dz, gr, w, y backend.Tensor, transW bool, act backend.Activation, _ backend.Dropout) {
	g.Backend.MatMulActivationGrad(dz, gr, w, y, transW, act, backend.Dropout{})
}

// maskOfModelZero gives every model of an array the dropout mask of its
// model 0 (the model left out of the generator's counter).
type maskOfModelZero struct{ *cpuref.Backend }

func (m maskOfModelZero) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	m.Backend.MatMulBiasActivate(y, x, w, bias, act, backend.Dropout{})
	if !drop.On() {
		return
	}
	v := y.(*cpuref.Tensor).Data()
	n := y.Rows() * y.Cols()
	for k := range y.Models() {
		cpuref.DropoutForward(v[k*n:(k+1)*n], drop, 0)
	}
}

type offByOneAdam struct{ *cpuref.Backend }

func (o offByOneAdam) Adam(w, g, m, v, hp, decay backend.Tensor, step int) {
	o.Backend.Adam(w, g, m, v, hp, decay, step+1)
}

// lastTie counts a softmax row right when the last of its largest logits
// is the class.
type lastTie struct{ *cpuref.Backend }

func (l lastTie) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	if kind != backend.SoftmaxCrossEntropy {
		l.Backend.CountCorrect(count, out, target, kind)
		return
	}
	o, tg := out.(*cpuref.Tensor).Data(), target.(*cpuref.Tensor).Data()
	n, c := 0, out.Cols()
	for i, t := range tg {
		best := 0
		for j := range c {
			if o[i*c+j] >= o[i*c+best] {
				best = j
			}
		}
		if float64(best) == t {
			n++
		}
	}
	count.(*cpuref.Tensor).Data()[0] += float64(n)
}
