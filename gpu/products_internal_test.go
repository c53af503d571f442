package gpu

import (
	"fmt"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// productShape is one product of a training step: op(a) m×k by op(b) k×n.
type productShape struct {
	m, k, n        int
	transA, transB bool
}

func (s productShape) String() string {
	t := ""
	if s.transA {
		t = "_tA"
	}
	if s.transB {
		t = "_tB"
	}
	return fmt.Sprintf("%dx%dx%d%s", s.m, s.k, s.n, t)
}

// stepProducts lists the products of one training step of a dense network
// of these layer sizes at this batch: each layer's forward product, weight
// gradient (xᵀ·dy) and, past the first layer, input gradient (dy·wᵀ).
func stepProducts(batch int, sizes ...int) []productShape {
	var out []productShape
	for i := 0; i+1 < len(sizes); i++ {
		in, o := sizes[i], sizes[i+1]
		out = append(out, productShape{batch, in, o, false, false}, productShape{in, batch, o, true, false})
		if i > 0 {
			out = append(out, productShape{batch, o, in, false, true})
		}
	}
	return out
}

// BenchmarkProductConfigs times every product of training steps of
// 784-128-64-10 (batches 1 to 4096) and 64-128-64-10 (batch 32) under each
// configuration the default choice could give it: the 64×64 tiles
// (DefaultMatmul), the direct kernel fitted to the shape (directConfig),
// the current default (defaultConfig) and the split-k kernels of
// SplitCandidates. kernel-us/op is the GPU time of one dispatch (timestamp
// queries; the benchmark is skipped on adapters without them).
//
//	go test -run '^$' -bench ProductConfigs -benchtime 50x ./gpu
func BenchmarkProductConfigs(b *testing.B) {
	be := openInternalWith(b, Options{Device: "any", Timestamps: true})
	if be.ts == nil {
		b.Skipf("%s: no timestamp queries", be.adapter.Name)
	}
	var shapes []productShape
	for _, batch := range []int{1, 32, 64, 512, 4096} {
		shapes = append(shapes, stepProducts(batch, 784, 128, 64, 10)...)
	}
	shapes = append(shapes, stepProducts(32, 64, 128, 64, 10)...)
	seen := map[productShape]bool{}
	for _, s := range shapes {
		if seen[s] {
			continue
		}
		seen[s] = true
		named := []struct {
			name string
			cfg  MatmulConfig
		}{{"tiles", DefaultMatmul}, {"direct", directConfig(s.m, s.n)}, {"default", be.matmulConfig(s.m, s.k, s.n, s.transA, s.transB, 1)}}
		for _, c := range SplitCandidates {
			named = append(named, struct {
				name string
				cfg  MatmulConfig
			}{c.String(), c})
		}
		for _, nc := range named {
			cfg := nc.cfg.forShape(s.m, s.k, s.n, s.transA, s.transB)
			if cfg.valid(be.adapter.Limits) != nil {
				continue
			}
			b.Run(s.String()+"/"+nc.name, func(b *testing.B) { benchProduct(b, be, cfg, s) })
		}
	}
}

func benchProduct(b *testing.B, be *Backend, cfg MatmulConfig, s productShape) {
	ar, ac, br, bc := s.m, s.k, s.k, s.n
	if s.transA {
		ar, ac = s.k, s.m
	}
	if s.transB {
		br, bc = s.n, s.k
	}
	newT := func(r, c int) *Tensor {
		t, err := be.New(r, c, backend.Float)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { be.Free(t) })
		return t.(*Tensor)
	}
	at, bt, ct := newT(ar, ac), newT(br, bc), newT(s.m, s.n)
	op := func() {
		be.mu.Lock()
		be.matmul(cfg, ct, at, bt, s.m, s.k, s.n, s.transA, s.transB)
		be.mu.Unlock()
	}
	op()
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	be.ResetKernelTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op()
		if i%256 == 255 {
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if d, ok := be.KernelTime(); ok {
		b.ReportMetric(float64(d.Nanoseconds())/1e3/float64(b.N), "kernel-us/op")
		b.ReportMetric(2*float64(s.m)*float64(s.k)*float64(s.n)*float64(b.N)/d.Seconds()/1e9, "kernel-GFLOP/s")
	}
}
