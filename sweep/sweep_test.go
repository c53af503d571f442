package sweep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/sweep"
)

func TestParseHidden(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    [][]int
		wantErr string
	}{
		{"64", [][]int{{64}}, ""},
		{"64,128,128x64", [][]int{{64}, {128}, {128, 64}}, ""},
		{" 32 x 16 , 8X4 ", [][]int{{32, 16}, {8, 4}}, ""},
		{"", nil, "no architecture"},
		{"64,,128", nil, `"" is not an architecture`},
		{"0", nil, `"0" is not an architecture`},
		{"128x", nil, `"128x" is not`},
		{"a", nil, `"a" is not`},
	} {
		got, err := sweep.ParseHidden(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseHidden(%q) error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseHidden(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func testGrid() sweep.Grid {
	return sweep.Grid{Hidden: [][]int{{8}, {4, 4}}, Activation: []backend.Activation{backend.Tanh},
		Optimizer: []nn.Optimizer{nn.Adam}, Batch: []int{16}, LR: []float64{0.01, 0.05}, Seeds: []uint64{1, 2}}
}

func TestGridTrialsOrder(t *testing.T) {
	g := testGrid()
	configs := g.Configs()
	wantConfigs := []string{
		"hidden 8, tanh, adam, batch 16, lr 0.01",
		"hidden 8, tanh, adam, batch 16, lr 0.05",
		"hidden 4x4, tanh, adam, batch 16, lr 0.01",
		"hidden 4x4, tanh, adam, batch 16, lr 0.05",
	}
	if len(configs) != len(wantConfigs) {
		t.Fatalf("%d configs, want %d", len(configs), len(wantConfigs))
	}
	for i, c := range configs {
		if c.String() != wantConfigs[i] {
			t.Errorf("config %d = %q, want %q", i, c, wantConfigs[i])
		}
	}
	trials := g.Trials()
	if len(trials) != g.Size() || g.Size() != 8 {
		t.Fatalf("%d trials, Size %d, want 8", len(trials), g.Size())
	}
	for i, tr := range trials {
		want := sweep.Trial{Index: i, Config: i / 2, Seed: uint64(i%2 + 1)}
		if tr != want {
			t.Errorf("trial %d = %+v, want %+v", i, tr, want)
		}
	}
}

// TestGridWeightDecay: weight decays vary innermost, after the learning
// rate, and every configuration of one architecture shares a model array.
func TestGridWeightDecay(t *testing.T) {
	g := testGrid()
	g.Hidden = g.Hidden[:1]
	g.WeightDecay = []float64{0, 1e-3}
	var got []string
	for _, c := range g.Configs() {
		got = append(got, c.String())
	}
	want := []string{
		"hidden 8, tanh, adam, batch 16, lr 0.01",
		"hidden 8, tanh, adam, batch 16, lr 0.01, weight decay 0.001",
		"hidden 8, tanh, adam, batch 16, lr 0.05",
		"hidden 8, tanh, adam, batch 16, lr 0.05, weight decay 0.001",
	}
	if !slices.Equal(got, want) {
		t.Errorf("configs %q, want %q", got, want)
	}
	if g.Size() != 4*len(g.Seeds) {
		t.Errorf("Size %d, want %d", g.Size(), 4*len(g.Seeds))
	}
	b, err := json.Marshal(g.Configs()[1])
	if err != nil {
		t.Fatal(err)
	}
	var c sweep.Config
	if err := json.Unmarshal(b, &c); err != nil || c.WeightDecay != 1e-3 {
		t.Errorf("JSON %s read back as %+v, %v", b, c, err)
	}
}

// TestGridScheduleAndClip: schedules and clipping norms are grid lists
// between the batch and the learning rate (each its own model arrays), in
// the configurations' text and JSON, and in the plan's JSON with the
// schedules' constants and the class weights.
func TestGridScheduleAndClip(t *testing.T) {
	g := testGrid()
	g.Hidden, g.LR = g.Hidden[:1], g.LR[:1]
	g.Schedule = []nn.ScheduleKind{nn.ConstantLR, nn.CosineLR}
	g.ClipNorm = []float64{0, 1}
	var got []string
	for _, c := range g.Configs() {
		got = append(got, c.String())
	}
	want := []string{
		"hidden 8, tanh, adam, batch 16, lr 0.01",
		"hidden 8, tanh, adam, batch 16, lr 0.01, clip norm 1",
		"hidden 8, tanh, adam, batch 16, lr 0.01, cosine schedule",
		"hidden 8, tanh, adam, batch 16, lr 0.01, cosine schedule, clip norm 1",
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 4*len(g.Seeds), g.Size())
	for _, c := range g.Configs() {
		b, err := json.Marshal(c)
		require.NoError(t, err)
		var back sweep.Config
		require.NoError(t, json.Unmarshal(b, &back), string(b))
		assert.Equal(t, c, back, string(b))
	}
	p := sweep.Plan{Grid: g, Epochs: 3, ValFraction: 0.2, SplitSeed: 1,
		LRSchedule: nn.Schedule{Warmup: 2, MinLR: 0.001}, ClassWeights: []float64{1, 3}}
	require.NoError(t, p.Validate())
	b, err := json.Marshal(p)
	require.NoError(t, err)
	for _, w := range []string{`"schedule":["constant","cosine"]`, `"clip_norm":[0,1]`, `"schedule_params":{"warmup":2,"lr_min":0.001}`, `"class_weights":[1,3]`} {
		assert.Contains(t, string(b), w)
	}
	var q sweep.Plan
	require.NoError(t, json.Unmarshal(b, &q))
	assert.Equal(t, p, q)
	cfg := p.ConfigFor(g.Configs()[3], 3)
	assert.Equal(t, nn.Schedule{Kind: nn.CosineLR, Warmup: 2, MinLR: 0.001}, cfg.Schedule)
	assert.Equal(t, 1.0, cfg.ClipNorm)
	assert.Equal(t, []float64{1, 3}, cfg.ClassWeights)

	bad := []struct {
		name string
		g    func(*sweep.Grid)
	}{
		{"repeated schedule", func(g *sweep.Grid) { g.Schedule = []nn.ScheduleKind{nn.CosineLR, nn.CosineLR} }},
		{"negative clip", func(g *sweep.Grid) { g.ClipNorm = []float64{-1} }},
		{"empty clip list", func(g *sweep.Grid) { g.ClipNorm = []float64{} }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			h := g
			tt.g(&h)
			assert.Error(t, h.Validate())
		})
	}
}

func TestGridValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*sweep.Grid)
		wantErr string
	}{
		{"ok", func(*sweep.Grid) {}, ""},
		{"no lr", func(g *sweep.Grid) { g.LR = nil }, "grid field lr: no values"},
		{"negative lr", func(g *sweep.Grid) { g.LR = []float64{-1} }, "grid field lr: learning rate -1"},
		{"twice", func(g *sweep.Grid) { g.LR = []float64{0.1, 0.1} }, "grid field lr: 0.1 given twice"},
		{"seed 0", func(g *sweep.Grid) { g.Seeds = []uint64{0} }, "grid field seeds: seed 0"},
		{"identity", func(g *sweep.Grid) { g.Activation = []backend.Activation{backend.Identity} }, "grid field activation"},
		{"batch", func(g *sweep.Grid) { g.Batch = []int{-2} }, "grid field batch: batch -2"},
		{"width", func(g *sweep.Grid) { g.Hidden = [][]int{{0}} }, "grid field hidden: width 0"},
		{"same arch", func(g *sweep.Grid) { g.Hidden = [][]int{{8}, {8}} }, "grid field hidden: 8 given twice"},
		{"weight decays", func(g *sweep.Grid) { g.WeightDecay = []float64{0, 1e-4} }, ""},
		{"no weight decay", func(g *sweep.Grid) { g.WeightDecay = []float64{} }, "grid field weight_decay: no values"},
		{"negative weight decay", func(g *sweep.Grid) { g.WeightDecay = []float64{-1} }, "grid field weight_decay: weight decay -1"},
	} {
		g := testGrid()
		tc.edit(&g)
		err := g.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// classSet is a classification set of n rows: row i has class i%classes
// (or, with skew, more rows of class 0).
func classSet(n, classes int, skew bool) *data.Set {
	s := &data.Set{Name: "test set", Rows: n, Cols: 2, Outputs: 1, Classes: classes}
	for i := range n {
		c := i % classes
		if skew && i%3 == 0 {
			c = 0
		}
		s.Features = append(s.Features, float64(c)+0.1*float64(i%7), float64(i%5)-2)
		s.Labels = append(s.Labels, float64(c))
	}
	return s
}

func TestKFold(t *testing.T) {
	for _, tc := range []struct {
		n, classes, k int
		skew          bool
	}{
		{30, 3, 3, false},
		{31, 3, 3, false},
		{100, 4, 7, true},
		{10, 0, 4, false}, // regression: no classes
		{5, 2, 5, false},
	} {
		s := classSet(tc.n, max(tc.classes, 1), tc.skew)
		s.Classes = tc.classes
		folds, err := sweep.KFold(s, tc.k, 7)
		if err != nil {
			t.Fatalf("KFold(%d rows, %d): %v", tc.n, tc.k, err)
		}
		if len(folds) != tc.k {
			t.Fatalf("%d folds, want %d", len(folds), tc.k)
		}
		size := tc.n / tc.k
		validated := map[int]int{}
		for i, f := range folds {
			if len(f.Val) != size || len(f.Train) != tc.n-size {
				t.Errorf("n=%d k=%d fold %d: %d val, %d train rows; want %d and %d", tc.n, tc.k, i, len(f.Val), len(f.Train), size, tc.n-size)
			}
			if !slices.IsSorted(f.Val) || !slices.IsSorted(f.Train) {
				t.Errorf("fold %d rows not in increasing order", i)
			}
			all := slices.Sorted(slices.Values(slices.Concat(f.Val, f.Train)))
			for r, v := range all {
				if r != v {
					t.Fatalf("fold %d: train and val rows are not a partition of 0..%d", i, tc.n-1)
				}
			}
			for _, r := range f.Val {
				validated[r]++
			}
			if tc.classes > 0 {
				// Stratified: each class's share of a fold is its share of
				// the rows dealt, to within one row.
				counts := s.ClassCounts()
				got := make([]int, tc.classes)
				for _, r := range f.Val {
					got[s.Label(r)]++
				}
				for c := range counts {
					want := float64(counts[c]) / float64(tc.k)
					if math.Abs(float64(got[c])-want) > 1.5 {
						t.Errorf("n=%d k=%d fold %d: %d rows of class %d, want about %.1f", tc.n, tc.k, i, got[c], c, want)
					}
				}
			}
		}
		if len(validated) != size*tc.k {
			t.Errorf("n=%d k=%d: %d rows validated, want %d (the %d leftovers only train)", tc.n, tc.k, len(validated), size*tc.k, tc.n%tc.k)
		}
		for r, c := range validated {
			if c != 1 {
				t.Errorf("row %d validated %d times", r, c)
			}
		}
		again, _ := sweep.KFold(s, tc.k, 7)
		if !reflect.DeepEqual(folds, again) {
			t.Errorf("KFold is not deterministic")
		}
	}
	if _, err := sweep.KFold(classSet(3, 2, false), 4, 1); err == nil || !strings.Contains(err.Error(), "3 rows cannot make 4 folds") {
		t.Errorf("KFold of 3 rows into 4: %v", err)
	}
	if _, err := sweep.KFold(classSet(3, 2, false), 1, 1); err == nil {
		t.Errorf("KFold with k=1 gave no error")
	}
}

func TestHoldOut(t *testing.T) {
	s := classSet(50, 5, false)
	f, err := sweep.HoldOut(s, 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Val) != 10 || len(f.Train) != 40 {
		t.Errorf("%d val, %d train rows; want 10 and 40", len(f.Val), len(f.Train))
	}
	got := make([]int, 5)
	for _, r := range f.Val {
		got[s.Label(r)]++
	}
	if !slices.Equal(got, []int{2, 2, 2, 2, 2}) {
		t.Errorf("held-out rows by class %v, want 2 each", got)
	}
	if _, err := sweep.HoldOut(s, 1, 3); err == nil {
		t.Error("HoldOut(1) gave no error")
	}
}

func TestShard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    sweep.Shard
		wantErr string
	}{
		{"0/4", sweep.Shard{Index: 0, Count: 4}, ""},
		{" 3 / 4 ", sweep.Shard{Index: 3, Count: 4}, ""},
		{"4/4", sweep.Shard{}, "0 <= I < N"},
		{"-1/4", sweep.Shard{}, "0 <= I < N"},
		{"1", sweep.Shard{}, "want I/N"},
		{"a/b", sweep.Shard{}, "two integers"},
	} {
		got, err := sweep.ParseShard(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseShard(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// Every count of shards covers every trial once, in order.
	for n := range 12 {
		for count := 1; count <= 6; count++ {
			next := 0
			for i := range count {
				lo, hi := sweep.Shard{Index: i, Count: count}.Range(n)
				if lo != next || hi < lo {
					t.Fatalf("n=%d shard %d/%d = [%d,%d), want it to start at %d", n, i, count, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("n=%d %d shards end at %d", n, count, next)
			}
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		shards  int
		want    sweep.Shard
		ok      bool
		wantErr string
	}{
		{"none", nil, 0, sweep.Shard{}, false, ""},
		{"slurm", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}, 0, sweep.Shard{Index: 2, Count: 4}, true, ""},
		{"slurm from 1", map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, 0, sweep.Shard{Index: 3, Count: 4}, true, ""},
		{"slurm step", map[string]string{"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"}, 0, sweep.Shard{Index: 3, Count: 4}, true, ""},
		{"slurm gaps", map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"}, 0, sweep.Shard{}, false, "contiguous range"},
		{"slurm no count", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, 0, sweep.Shard{}, false, "SLURM_ARRAY_TASK_COUNT"},
		{"slurm bad", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"}, 0, sweep.Shard{}, false, `SLURM_ARRAY_TASK_ID="x"`},
		{"kubernetes", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 3, sweep.Shard{Index: 1, Count: 3}, true, ""},
		{"kubernetes no shards", map[string]string{"JOB_COMPLETION_INDEX": "1"}, 0, sweep.Shard{}, false, "--shards N"},
		{"kubernetes out of range", map[string]string{"JOB_COMPLETION_INDEX": "3"}, 3, sweep.Shard{}, false, "0 <= I < N"},
		{"shards without index", nil, 3, sweep.Shard{}, false, "JOB_COMPLETION_INDEX is not set"},
		{"slurm wins", map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2", "JOB_COMPLETION_INDEX": "1"}, 3, sweep.Shard{Index: 0, Count: 2}, true, ""},
	} {
		got, ok, err := sweep.ShardFromEnv(func(k string) string { return tc.env[k] }, tc.shards)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || ok != tc.ok || got != tc.want {
			t.Errorf("%s: ShardFromEnv = %v, %v, %v; want %v, %v", tc.name, got, ok, err, tc.want, tc.ok)
		}
	}
}

func testPlan() sweep.Plan {
	return sweep.Plan{Grid: testGrid(), Epochs: 3, Folds: 3, SplitSeed: 1}
}

func TestSchedule(t *testing.T) {
	s := classSet(60, 3, false)
	p := testPlan()
	folds, err := p.Splits(s)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := p.Schedule(s, p.Grid.Trials(), folds, sweep.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Two architectures: two arrays of 2 lrs × 2 seeds × 3 folds.
	if len(chunks) != 2 {
		t.Fatalf("%d chunks, want 2", len(chunks))
	}
	for i, c := range chunks {
		if len(c.Members) != 12 || c.TrainRows != 40 || c.ValRows != 20 {
			t.Errorf("chunk %d: %d members, %d/%d rows; want 12, 40/20", i, len(c.Members), c.TrainRows, c.ValRows)
		}
		if want := [][]int{{8}, {4, 4}}[i]; !slices.Equal(c.Spec.Hidden, want) {
			t.Errorf("chunk %d: hidden %v, want %v", i, c.Spec.Hidden, want)
		}
		if c.Spec.Head != nn.SoftmaxHead || c.Spec.Outputs != 3 || c.Spec.Inputs != 2 {
			t.Errorf("chunk %d: spec %v, want 2 inputs and a 3-class softmax", i, c.Spec)
		}
	}
	// A memory limit splits each array into equal chunks that fit.
	one := sweep.EstimateArray(chunks[0].Spec, nn.Adam, 16, 1, s, 40, 20, false, 4)
	five := sweep.EstimateArray(chunks[0].Spec, nn.Adam, 16, 5, s, 40, 20, false, 4)
	if !(five.Total > one.Total && five.Largest >= one.Largest) {
		t.Fatalf("estimates do not grow with members: %+v, %+v", one, five)
	}
	lim := sweep.Limits{MaxBytes: five.Total}
	chunks, err = p.Schedule(s, p.Grid.Trials(), folds, lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 6 {
		t.Errorf("%d chunks under a limit of 5 models, want 6 (12 = 4+4+4 per architecture)", len(chunks))
	}
	for _, c := range chunks {
		if c.Bytes.Total > lim.MaxBytes || len(c.Members) != 4 {
			t.Errorf("chunk of %d members needs %d bytes, limit %d", len(c.Members), c.Bytes.Total, lim.MaxBytes)
		}
	}
	// Not even one model fits: refused, naming the configuration.
	_, err = p.Schedule(s, p.Grid.Trials(), folds, sweep.Limits{MaxTensorBytes: 64})
	if err == nil || !strings.Contains(err.Error(), "does not fit the device") || !strings.Contains(err.Error(), "tensor of") {
		t.Errorf("Schedule under a 64-byte tensor limit: %v", err)
	}
}

func TestPlanValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*sweep.Plan)
		wantErr string
	}{
		{"ok", func(*sweep.Plan) {}, ""},
		{"holdout", func(p *sweep.Plan) { p.Folds, p.ValFraction = 0, 0.2 }, ""},
		{"no validation", func(p *sweep.Plan) { p.Folds = 0 }, "validation fraction 0"},
		{"both", func(p *sweep.Plan) { p.ValFraction = 0.2 }, "give one"},
		{"one fold", func(p *sweep.Plan) { p.Folds = 1 }, "1 folds"},
		{"epochs", func(p *sweep.Plan) { p.Epochs = 0 }, "0 epochs"},
		{"patience", func(p *sweep.Plan) { p.Patience = -1 }, "patience -1"},
	} {
		p := testPlan()
		tc.edit(&p)
		err := p.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// runSweep runs plan p on s on the CPU reference for shard.
func runSweep(t *testing.T, p sweep.Plan, s *data.Set, shard sweep.Shard) *sweep.Results {
	t.Helper()
	sw, err := sweep.New(p, s, shard, sweep.Limits{FloatBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	b := cpuref.New()
	defer b.Close()
	epochs := 0
	r, err := sw.Run(context.Background(), b, nn.Scaling{}, "cpu", sweep.Hooks{Epoch: func(sweep.Member, nn.EpochStats) { epochs++ }})
	if err != nil {
		t.Fatal(err)
	}
	if want := sw.Models() * p.Epochs; epochs != want {
		t.Errorf("shard %v: %d epoch hooks, want %d", shard, epochs, want)
	}
	return r
}

// withoutRuns returns r's JSON without its runs (times and devices).
func withoutRuns(t *testing.T, r *sweep.Results) string {
	t.Helper()
	c := *r
	c.Runs = nil
	var b bytes.Buffer
	if err := c.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeResults(t *testing.T, dir, name string, r *sweep.Results) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunAndMerge(t *testing.T) {
	s := classSet(60, 3, false)
	p := testPlan()
	whole := runSweep(t, p, s, sweep.Shard{})
	if len(whole.Trials) != 8 || len(whole.Configs) != 4 || whole.Shard != nil {
		t.Fatalf("whole sweep: %d trials, %d configs, shard %v", len(whole.Trials), len(whole.Configs), whole.Shard)
	}
	for i, c := range whole.Configs {
		if c.Rank != i+1 || c.Models != 6 || c.Diverged != 0 || math.IsNaN(float64(c.ValLoss)) || math.IsNaN(float64(c.ValLossStd)) {
			t.Errorf("config %d: %+v", i, c)
		}
		if i > 0 && c.ValLoss < whole.Configs[i-1].ValLoss {
			t.Errorf("configs not ranked by validation loss: %v after %v", c.ValLoss, whole.Configs[i-1].ValLoss)
		}
	}
	for _, tr := range whole.Trials {
		for _, f := range tr.Folds {
			if f.Epochs != 3 || len(f.History) != 3 || f.BestEpoch < 1 || f.ValLoss != f.History[f.BestEpoch-1].ValLoss {
				t.Errorf("trial %d fold %d: %+v", tr.Trial, f.Fold, f)
			}
		}
	}
	// A trial trains on each fold exactly as one model would alone.
	folds, _ := p.Splits(s)
	tr := whole.Trials[5]
	b := cpuref.New()
	defer b.Close()
	m, err := nn.NewModel(b, sweep.SpecFor(tr.Params, s), tr.Seed)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	hist, err := nn.Train(context.Background(), b, m, s.Take(folds[2].Train, s.Name),
		nn.Config{Epochs: 3, Batch: 16, LR: tr.Params.LR, Optimizer: nn.Adam, Seed: tr.Seed, Val: s.Take(folds[2].Val, "val")}, nn.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := float64(tr.Folds[2].History[2].ValLoss), hist.Epochs[2].ValLoss; got != want {
		t.Errorf("trial 5 fold 2 epoch 3 validation loss %v, solo run %v", got, want)
	}

	dir := t.TempDir()
	var files []string
	for i := range 3 {
		r := runSweep(t, p, s, sweep.Shard{Index: i, Count: 3})
		if r.Shard == nil || *r.Shard != (sweep.Shard{Index: i, Count: 3}) {
			t.Errorf("shard %d results say shard %v", i, r.Shard)
		}
		files = append(files, writeResults(t, dir, "shard"+string(rune('0'+i))+".json", r))
	}
	read := func(paths ...string) []sweep.File {
		var out []sweep.File
		for _, p := range paths {
			f, err := sweep.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
		return out
	}
	// Any order of the files merges to the single run.
	merged, err := sweep.Merge(read(files[2], files[0], files[1])...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := withoutRuns(t, merged), withoutRuns(t, whole); got != want {
		t.Errorf("merged shards differ from the single run:\n%s\nwant\n%s", got, want)
	}
	if len(merged.Runs) != 3 {
		t.Errorf("merged runs %v, want the 3 shards'", merged.Runs)
	}

	// Refusals name the file.
	other := p
	other.Epochs = 2
	stranger := writeResults(t, dir, "other.json", runSweep(t, other, s, sweep.Shard{Index: 0, Count: 3}))
	for _, tc := range []struct {
		name    string
		files   []string
		wantErr string
	}{
		{"missing", []string{files[0], files[2]}, "trials 2-4 of 8 are in none of the 2 files"},
		{"duplicate", []string{files[0], files[1], files[1], files[2]}, "is in " + files[1] + " and in " + files[1]},
		{"other grid", []string{files[0], stranger}, stranger + " is another sweep than " + files[0]},
	} {
		_, err := sweep.Merge(read(tc.files...)...)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Merge error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := sweep.Merge(); err == nil {
		t.Error("Merge() of nothing gave no error")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"hello": 1}`), 0o644)
	if _, err := sweep.ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad+": not sweep results") {
		t.Errorf("ReadFile of another JSON: %v", err)
	}
}

func TestResultsJSONRoundTrip(t *testing.T) {
	r := &sweep.Results{Fingerprint: "sha256:x", Plan: testPlan(), TrialCount: 1,
		Trials: []sweep.TrialResult{{Trial: 0, Params: testGrid().Configs()[1], Seed: 1, ValLoss: 0.5, ValAccuracy: sweep.Num(math.NaN()),
			Folds: []sweep.FoldResult{{Fold: 0, Epochs: 1, BestEpoch: 1, ValLoss: 0.5, ValAccuracy: sweep.Num(math.NaN()), Error: "diverged",
				History: []sweep.Epoch{{Epoch: 1, Loss: 0.1, Accuracy: sweep.Num(math.Inf(1))}}}}}}}
	r.Summarize()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"val_accuracy": null`) || !strings.Contains(b.String(), `"activation": "tanh"`) {
		t.Errorf("JSON lacks null for NaN or names for enums:\n%s", b.String())
	}
	var back sweep.Results
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	back.WriteJSON(&b2)
	if b.String() != b2.String() {
		t.Errorf("round trip changed the JSON:\n%s\nthen\n%s", b.String(), b2.String())
	}
	if !reflect.DeepEqual(back.Plan, r.Plan) {
		t.Errorf("plan %+v came back as %+v", r.Plan, back.Plan)
	}
	if c := back.Configs[0]; c.Diverged != 1 || c.Models != 1 {
		t.Errorf("summary of a diverged model: %+v", c)
	}
}

func TestSummarizeRanking(t *testing.T) {
	trial := func(i, config int, losses ...float64) sweep.TrialResult {
		tr := sweep.TrialResult{Trial: i, Config: config}
		for k, l := range losses {
			f := sweep.FoldResult{Fold: k, ValLoss: sweep.Num(l), ValAccuracy: sweep.Num(1 - l), BestEpoch: 2}
			if math.IsNaN(l) {
				f.Error = "diverged"
			}
			tr.Folds = append(tr.Folds, f)
		}
		return tr
	}
	for _, tc := range []struct {
		metric sweep.Metric
		want   []int
	}{
		{sweep.Loss, []int{2, 0, 1, 3}},
		{sweep.Accuracy, []int{2, 0, 1, 3}},
	} {
		r := &sweep.Results{Plan: sweep.Plan{Metric: tc.metric}, Trials: []sweep.TrialResult{
			trial(0, 0, 0.3, 0.5), trial(1, 1, 0.4, 0.4), trial(2, 2, 0.1, 0.2), trial(3, 3, 0.05, math.NaN()),
		}}
		r.Summarize()
		var got []int
		for _, c := range r.Configs {
			got = append(got, c.Config)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("metric %v: ranking %v, want %v (a diverged model ranks its configuration last)", tc.metric, got, tc.want)
		}
		if c := r.Configs[1]; math.Abs(float64(c.ValLoss)-0.4) > 1e-12 || math.Abs(float64(c.ValLossStd)-math.Sqrt(0.02)) > 1e-12 {
			t.Errorf("config 0: mean %v ± %v, want 0.4 ± %v", c.ValLoss, c.ValLossStd, math.Sqrt(0.02))
		}
	}
}

func TestRetrain(t *testing.T) {
	s := classSet(60, 3, false)
	p := testPlan()
	p.Patience = 2
	c := sweep.ConfigResult{BestEpoch: 2.6}
	if got := p.RetrainEpochs(c); got != 3 {
		t.Errorf("RetrainEpochs with patience = %d, want 3 (the mean best epoch rounded)", got)
	}
	p.Patience = 0
	if got := p.RetrainEpochs(c); got != p.Epochs {
		t.Errorf("RetrainEpochs without patience = %d, want %d", got, p.Epochs)
	}
	b := cpuref.New()
	defer b.Close()
	m, hist, err := sweep.Retrain(context.Background(), b, s, nn.Scaling{}, p, p.Grid.Configs()[0], 2, nn.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	if len(hist.Epochs) != 2 || hist.TrainRows != 60 || m.Info.Seed != 1 || m.Info.LR != 0.01 {
		t.Errorf("retrained %d epochs on %d rows, seed %d, lr %v", len(hist.Epochs), hist.TrainRows, m.Info.Seed, m.Info.LR)
	}
}
