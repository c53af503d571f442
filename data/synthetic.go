package data

import (
	"math"
	"runtime"
	"sync"
)

// Default sizes of the built-in synthetic digits set.
const (
	DefaultSyntheticTrain = 6000
	DefaultSyntheticTest  = 1000
)

// SyntheticName is the name prefix of the built-in synthetic sets.
const SyntheticName = "synthetic digits (generated)"

// Size of a synthetic image, the same as MNIST.
const (
	synthSide = 28
	synthCols = synthSide * synthSide
)

// Synthetic generates the built-in digits data set: trainN training and testN
// test images of 28x28 bytes, ten classes (the digits 0..9 drawn as
// anti-aliased strokes, MNIST-like: 0 background, 255 ink). Each image has its
// own random jitter: a smooth warp of the glyph, one of two shapes for some
// digits, translation by up to ±2 pixels, scale ±10%, rotation up to ±10°,
// shear, stroke width 1.5-3 pixels, ink intensity, and pixel noise. A small
// MLP learns it well above chance but not perfectly.
//
// The result depends only on the sizes and seed (the same on every platform
// and Go version); the training and test sets are drawn from independent
// streams. Generation runs on all CPUs. Set names start with
// "synthetic digits (generated)"; Split.Synthetic is true and Source is
// "built-in".
func Synthetic(trainN, testN int, seed uint64) *Split {
	train := synthSet(SyntheticName+" train", max(trainN, 0), seed, 1)
	test := synthSet(SyntheticName+" test", max(testN, 0), seed, 2)
	return &Split{Train: train, Test: test, Synthetic: true, Source: "built-in"}
}

func synthSet(name string, n int, seed, stream uint64) *Set {
	s := &Set{
		Name:       name,
		Rows:       n,
		Cols:       synthCols,
		Width:      synthSide,
		Height:     synthSide,
		Pixels:     make([]byte, n*synthCols),
		Labels:     make([]float64, n),
		Outputs:    1,
		Classes:    10,
		ClassNames: append([]string(nil), digitClassNames...),
	}
	workers := min(runtime.GOMAXPROCS(0), max(n/256, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ink [synthCols]float64
			for i := w; i < n; i += workers {
				r := newRNG(seed, stream, uint64(i))
				digit := int(r.uint64() % 10)
				s.Labels[i] = float64(digit)
				renderDigit(digit, &r, &ink, s.Pixels[i*synthCols:(i+1)*synthCols])
			}
		}()
	}
	wg.Wait()
	return s
}

// rng is a small deterministic generator (SplitMix64), so that synthetic data
// never changes with the Go version.
type rng struct{ state uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func newRNG(seed, stream, index uint64) rng {
	return rng{state: mix64(mix64(seed^0x6a09e667f3bcc909) ^ mix64(stream*0x9e3779b97f4a7c15+index))}
}

func (r *rng) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// uniform returns a uniform value in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

type pt struct{ x, y float64 }

// stroke is a polyline in glyph units: x in [0, 1] left to right, y in
// [0, 1] top to bottom.
type stroke []pt

func line(ps ...float64) stroke {
	s := make(stroke, 0, len(ps)/2)
	for i := 0; i+1 < len(ps); i += 2 {
		s = append(s, pt{ps[i], ps[i+1]})
	}
	return s
}

// arc returns an elliptic arc from angle a0 to a1 (degrees; 0 = right,
// 90 = down, since y grows downwards).
func arc(cx, cy, rx, ry, a0, a1 float64) stroke {
	n := max(int(math.Abs(a1-a0)/15), 2)
	s := make(stroke, n+1)
	for i := range s {
		a := (a0 + (a1-a0)*float64(i)/float64(n)) * math.Pi / 180
		s[i] = pt{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	return s
}

func join(a, b stroke) stroke { return append(append(stroke{}, a...), b...) }

// glyphs holds, per digit, one or more shapes, each a list of strokes.
var glyphs = [10][][]stroke{
	0: {
		{arc(0.5, 0.5, 0.4, 0.5, 0, 360)},
		{arc(0.5, 0.5, 0.33, 0.5, -80, 285)},
	},
	1: {
		{line(0.3, 0.22, 0.55, 0, 0.55, 1)},
		{line(0.35, 0.18, 0.52, 0, 0.52, 1), line(0.25, 1, 0.8, 1)},
	},
	2: {
		{join(arc(0.5, 0.28, 0.38, 0.28, 190, 400), line(0.1, 1, 0.92, 1))},
		{join(arc(0.5, 0.3, 0.36, 0.3, 200, 380), line(0.15, 1, 0.5, 0.85, 0.95, 0.97))},
	},
	3: {
		{arc(0.47, 0.26, 0.33, 0.26, 200, 450), arc(0.47, 0.74, 0.38, 0.26, 270, 520)},
		{line(0.1, 0, 0.85, 0, 0.45, 0.42), arc(0.47, 0.7, 0.38, 0.3, 270, 510)},
	},
	4: {
		{line(0.72, 1, 0.72, 0, 0.05, 0.68, 0.95, 0.68)},
		{line(0.18, 0, 0.12, 0.6, 0.95, 0.6), line(0.72, 0.2, 0.72, 1)},
	},
	5: {
		{line(0.88, 0, 0.22, 0, 0.17, 0.45), arc(0.48, 0.68, 0.38, 0.32, 235, 500)},
		{line(0.85, 0.02, 0.25, 0, 0.2, 0.42, 0.6, 0.4, 0.86, 0.62, 0.8, 0.88, 0.5, 1, 0.12, 0.9)},
	},
	6: {
		{join(line(0.75, 0, 0.42, 0.22, 0.22, 0.5), arc(0.5, 0.72, 0.34, 0.28, 180, 540))},
		{join(arc(0.62, 0.6, 0.45, 0.6, 260, 180), arc(0.5, 0.72, 0.33, 0.28, 180, 530))},
	},
	7: {
		{line(0.08, 0, 0.92, 0, 0.4, 1)},
		{line(0.08, 0.08, 0.12, 0, 0.92, 0, 0.45, 1), line(0.35, 0.52, 0.82, 0.52)},
	},
	8: {
		{arc(0.5, 0.25, 0.3, 0.25, 0, 360), arc(0.5, 0.74, 0.37, 0.26, -90, 270)},
		{arc(0.5, 0.27, 0.26, 0.27, 0, 360), arc(0.5, 0.74, 0.4, 0.26, 0, 360)},
	},
	9: {
		{arc(0.5, 0.3, 0.36, 0.3, 0, 360), line(0.86, 0.3, 0.78, 1)},
		{arc(0.5, 0.3, 0.35, 0.3, 0, 360), arc(0.45, 0.3, 0.4, 0.7, 0, 110)},
	},
}

// renderDigit draws one jittered digit into pix (28x28), using ink as
// scratch space.
func renderDigit(digit int, r *rng, ink *[synthCols]float64, pix []byte) {
	shapes := glyphs[digit]
	shape := shapes[int(r.uint64()%uint64(len(shapes)))]

	// Glyph box to pixels: about 12x19 pixels, then per-image scale,
	// rotation, shear and translation around the image centre.
	sc := r.uniform(0.9, 1.1)
	sx := 12 * sc * r.uniform(0.85, 1.15)
	sy := 19 * sc
	rot := r.uniform(-12, 12) * math.Pi / 180
	shear := r.uniform(-0.2, 0.2)
	tx := 14 + r.uniform(-2, 2)
	ty := 14 + r.uniform(-2, 2)
	cr, sr := math.Cos(rot), math.Sin(rot)

	// A smooth random warp in glyph units, so no two glyphs share a shape.
	var wa, wf, wp [4]float64
	for k := range wa {
		wa[k] = r.uniform(-0.08, 0.08)
		wf[k] = r.uniform(1.5, 4)
		wp[k] = r.uniform(0, 2*math.Pi)
	}
	transform := func(p pt) pt {
		x := p.x + wa[0]*math.Sin(wf[0]*p.y+wp[0]) + wa[1]*math.Sin(wf[1]*p.x+wp[1])
		y := p.y + wa[2]*math.Sin(wf[2]*p.x+wp[2]) + wa[3]*math.Sin(wf[3]*p.y+wp[3])
		x = (x - 0.5) * sx
		y = (y - 0.5) * sy
		x += shear * y
		return pt{tx + cr*x - sr*y, ty + sr*x + cr*y}
	}

	half := r.uniform(1.5, 3) / 2
	peak := r.uniform(0.75, 1)
	*ink = [synthCols]float64{}
	for _, st := range shape {
		if len(st) == 0 {
			continue
		}
		prev := transform(st[0])
		for _, q := range st[1:] {
			cur := transform(q)
			drawSegment(ink, prev, cur, half)
			prev = cur
		}
	}
	sigma := r.uniform(4, 20)
	for i := range pix {
		// One draw per pixel: four 15-bit uniforms summed give near-normal
		// noise (Irwin-Hall), the top bits pick sparse speckles.
		u := r.uint64()
		sum := float64(u&0x7fff + u>>15&0x7fff + u>>30&0x7fff + u>>45&0x7fff)
		v := ink[i]*peak*255 + sigma*(sum/0x8000-2)*math.Sqrt(3)
		if u>>60 == 0 && u>>58&3 == 0 { // sparse speckle, 1 in 64
			v += 40 + 120*float64(u&0xffff)/0x10000
		}
		pix[i] = byte(math.Round(min(max(v, 0), 255)))
	}
}

// drawSegment adds an anti-aliased segment a-b of half width half to ink,
// keeping the maximum coverage per pixel. Pixel (x, y) has its centre at
// (x+0.5, y+0.5).
func drawSegment(ink *[synthCols]float64, a, b pt, half float64) {
	pad := half + 1
	x0 := max(int(math.Floor(min(a.x, b.x)-pad)), 0)
	x1 := min(int(math.Ceil(max(a.x, b.x)+pad)), synthSide-1)
	y0 := max(int(math.Floor(min(a.y, b.y)-pad)), 0)
	y1 := min(int(math.Ceil(max(a.y, b.y)+pad)), synthSide-1)
	dx, dy := b.x-a.x, b.y-a.y
	l2 := dx*dx + dy*dy
	for y := y0; y <= y1; y++ {
		py := float64(y) + 0.5
		for x := x0; x <= x1; x++ {
			px := float64(x) + 0.5
			t := 0.0
			if l2 > 0 {
				t = min(max(((px-a.x)*dx+(py-a.y)*dy)/l2, 0), 1)
			}
			ex, ey := px-(a.x+t*dx), py-(a.y+t*dy)
			c := half + 0.5 - math.Sqrt(ex*ex+ey*ey)
			if c <= 0 {
				continue
			}
			c = min(c, 1)
			if i := y*synthSide + x; c > ink[i] {
				ink[i] = c
			}
		}
	}
}
