package sweep

import (
	"fmt"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

// Member is one model of a sweep: a trial on one fold.
type Member struct {
	Trial Trial
	// Fold indexes the Plan's Splits.
	Fold int
}

// Chunk is one model array of a sweep: members that share a Spec, an
// optimizer, a batch size and their row counts, and so train in the same
// dispatches (nn.TrainArray). Learning rates, seeds and folds vary between
// its members.
type Chunk struct {
	Spec      nn.Spec
	Optimizer nn.Optimizer
	Batch     int
	// TrainRows and ValRows are each member's row counts.
	TrainRows, ValRows int
	// Members are in trial order, folds in order within a trial.
	Members []Member
	// Bytes is the estimated device memory of the array.
	Bytes Estimate
}

// Limits are a device's memory limits, as Schedule checks them.
type Limits struct {
	// MaxTensorBytes is the largest tensor the device takes (a GPU's
	// storage-binding limit); 0 means no limit.
	MaxTensorBytes uint64
	// MaxBytes bounds the estimated memory of one array with the data
	// set; 0 means no limit.
	MaxBytes uint64
	// FloatBytes is the size of a Float element: 4 on the GPU (float32),
	// 8 on the CPU reference (float64); 0 means 4.
	FloatBytes int
}

// Estimate is the device memory a model array needs, estimated from its
// Spec, batch and number of members.
type Estimate struct {
	// Total is every tensor of the array together with the data set.
	Total uint64
	// Largest is its largest single tensor, and LargestWhat names it.
	Largest     uint64
	LargestWhat string
}

// EstimateArray estimates the device memory of an array of members models
// of spec with optimizer opt at batch size batch, each training on
// trainRows and validating on valRows rows of s, as the model-array engine
// lays them out: the members' parameters, gradients, optimizer state and
// (with early stopping, keepBest) best weights in one tensor each, their
// activations and gradients for a minibatch (and for a validation chunk of
// the same size), their row index lists, and s itself, which the members
// share. floatBytes is the size of a Float (4 or 8).
func EstimateArray(spec nn.Spec, opt nn.Optimizer, batch, members int, s *data.Set, trainRows, valRows int, keepBest bool, floatBytes int) Estimate {
	f := uint64(max(floatBytes, 1))
	n := uint64(members)
	params, widest, widths := uint64(0), 0, 0
	sizes := spec.Sizes()
	for i := range len(sizes) - 1 {
		params += uint64(sizes[i]*sizes[i+1] + sizes[i+1])
	}
	for i, w := range sizes {
		widest = max(widest, w)
		if i > 0 {
			widths += w
		}
	}
	b := uint64(batch)
	if batch == 0 || batch > trainRows {
		b = uint64(trainRows)
	}
	var e Estimate
	add := func(what string, bytes uint64, copies uint64) {
		e.Total += bytes * copies
		if bytes > e.Largest {
			e.Largest, e.LargestWhat = bytes, what
		}
	}
	state := uint64(2) // parameters and gradients
	switch opt {
	case nn.Momentum:
		state++
	case nn.Adam:
		state += 2
	}
	if keepBest {
		state++
	}
	add(fmt.Sprintf("the parameters of %d models (%d each)", members, params), n*params*f, state)
	add(fmt.Sprintf("a %d-model batch of %d rows × %d", members, b, widest), n*b*uint64(widest)*f, 1)
	// Each layer's outputs, their activations' inputs and gradients, for a
	// training batch and a validation chunk.
	add("activations", n*b*uint64(widths)*f, 6)
	add(fmt.Sprintf("the row indices of %d models", members), n*uint64(trainRows+valRows)*4, 1)
	x := uint64(s.Rows) * uint64(s.Cols)
	if s.Pixels == nil {
		x *= f
	}
	add(fmt.Sprintf("the data set (%d × %d)", s.Rows, s.Cols), x, 1)
	add("the labels", uint64(s.Rows)*uint64(max(s.Outputs, 1))*f, 1)
	return e
}

// fits reports why e does not fit lim, or nil.
func (lim Limits) fits(e Estimate) error {
	switch {
	case lim.MaxTensorBytes > 0 && e.Largest > lim.MaxTensorBytes:
		return fmt.Errorf("%s would need a tensor of %s, more than the device's %s", e.LargestWhat, bytesString(e.Largest), bytesString(lim.MaxTensorBytes))
	case lim.MaxBytes > 0 && e.Total > lim.MaxBytes:
		return fmt.Errorf("it would need %s of device memory, more than the limit of %s", bytesString(e.Total), bytesString(lim.MaxBytes))
	}
	return nil
}

// Schedule groups the members of trials (every trial on every fold) into
// model arrays: one per distinct architecture, activation, optimizer,
// batch size and row counts, in the order of their first trial, each split
// into as few chunks of near-equal size as lim allows. It returns an error,
// before anything is trained, when even one model of a configuration would
// not fit lim.
func (p Plan) Schedule(s *data.Set, trials []Trial, folds []Fold, lim Limits) ([]Chunk, error) {
	configs := p.Grid.Configs()
	type group struct {
		Chunk
		cfg Config
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, t := range trials {
		if t.Config < 0 || t.Config >= len(configs) {
			return nil, fmt.Errorf("sweep: trial %d has configuration %d, outside 0..%d", t.Index, t.Config, len(configs)-1)
		}
		c := configs[t.Config]
		for fi, f := range folds {
			key := fmt.Sprintf("%s/%d/%d", c.arrayKey(), len(f.Train), len(f.Val))
			g := byKey[key]
			if g == nil {
				g = &group{cfg: c, Chunk: Chunk{Spec: SpecFor(c, s), Optimizer: c.Optimizer, Batch: c.Batch, TrainRows: len(f.Train), ValRows: len(f.Val)}}
				byKey[key] = g
				groups = append(groups, g)
			}
			g.Members = append(g.Members, Member{Trial: t, Fold: fi})
		}
	}
	fb := lim.FloatBytes
	if fb == 0 {
		fb = 4
	}
	var out []Chunk
	for _, g := range groups {
		est := func(n int) Estimate {
			return EstimateArray(g.Spec, g.Optimizer, g.Batch, n, s, g.TrainRows, g.ValRows, p.Patience > 0, fb)
		}
		total := len(g.Members)
		// The most members that fit: the estimate grows with the count.
		most := 0
		for lo, hi := 1, total; lo <= hi; {
			mid := (lo + hi) / 2
			if lim.fits(est(mid)) == nil {
				most, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		if most == 0 {
			return nil, fmt.Errorf("sweep: one model of %v (%v) does not fit the device: %w; lower the batch size or the widths",
				g.Spec, g.cfg, lim.fits(est(1)))
		}
		chunks := (total + most - 1) / most
		for i := range chunks {
			lo, hi := i*total/chunks, (i+1)*total/chunks
			c := g.Chunk
			c.Members = g.Members[lo:hi]
			c.Bytes = est(hi - lo)
			out = append(out, c)
		}
	}
	return out, nil
}

// bytesString formats a byte count in binary units, e.g. "1.5 GiB".
func bytesString(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i])
}
