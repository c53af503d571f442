package sweep_test

import (
	"context"
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/sweep"
)

// Architectures are separated by commas, layers of one by x.
func ExampleParseHidden() {
	h, err := sweep.ParseHidden("64,128,128x64")
	if err != nil {
		panic(err)
	}
	for _, arch := range h {
		fmt.Println(len(arch), "hidden layer(s):", sweep.HiddenString(arch))
	}
	// Output:
	// 1 hidden layer(s): 64
	// 1 hidden layer(s): 128
	// 2 hidden layer(s): 128x64
}

// The trial list is ordered configuration by configuration, seeds inside.
func ExampleGrid_Trials() {
	g := sweep.Grid{Hidden: [][]int{{64}, {128}}, Activation: []backend.Activation{backend.Sigmoid},
		Optimizer: []nn.Optimizer{nn.Adam}, Batch: []int{32}, LR: []float64{0.001, 0.01}, Seeds: sweep.SeedList(2)}
	configs := g.Configs()
	for _, t := range g.Trials() {
		fmt.Printf("trial %d: %v, seed %d\n", t.Index, configs[t.Config], t.Seed)
	}
	// Output:
	// trial 0: hidden 64, sigmoid, adam, batch 32, lr 0.001, seed 1
	// trial 1: hidden 64, sigmoid, adam, batch 32, lr 0.001, seed 2
	// trial 2: hidden 64, sigmoid, adam, batch 32, lr 0.01, seed 1
	// trial 3: hidden 64, sigmoid, adam, batch 32, lr 0.01, seed 2
	// trial 4: hidden 128, sigmoid, adam, batch 32, lr 0.001, seed 1
	// trial 5: hidden 128, sigmoid, adam, batch 32, lr 0.001, seed 2
	// trial 6: hidden 128, sigmoid, adam, batch 32, lr 0.01, seed 1
	// trial 7: hidden 128, sigmoid, adam, batch 32, lr 0.01, seed 2
}

// Four shards of ten trials: each runs a slice of the ordered list.
func ExampleShard_Range() {
	for i := range 4 {
		lo, hi := sweep.Shard{Index: i, Count: 4}.Range(10)
		fmt.Printf("shard %d/4: trials %d..%d\n", i, lo, hi-1)
	}
	// Output:
	// shard 0/4: trials 0..1
	// shard 1/4: trials 2..4
	// shard 2/4: trials 5..6
	// shard 3/4: trials 7..9
}

// A Slurm array task finds its shard in the environment.
func ExampleShardFromEnv() {
	env := map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}
	s, ok, err := sweep.ShardFromEnv(func(k string) string { return env[k] }, 0)
	fmt.Println(s, ok, err)
	// Output: 2/4 true <nil>
}

// Ten rows in three folds: every fold validates on three rows, and the one
// row left over always trains.
func ExampleKFold() {
	s := &data.Set{Name: "ten", Rows: 10, Cols: 1, Outputs: 1, Features: make([]float64, 10), Labels: make([]float64, 10)}
	folds, err := sweep.KFold(s, 3, 1)
	if err != nil {
		panic(err)
	}
	for i, f := range folds {
		fmt.Printf("fold %d: %d validate, %d train\n", i, len(f.Val), len(f.Train))
	}
	// Output:
	// fold 0: 3 validate, 7 train
	// fold 1: 3 validate, 7 train
	// fold 2: 3 validate, 7 train
}

// Two shards of a sweep, run separately (as two Slurm array tasks would),
// merge into the results of the whole grid.
func ExampleMerge() {
	set := data.Synthetic(120, 10, 1).Train
	p := sweep.Plan{Epochs: 2, Folds: 2, SplitSeed: 1, Grid: sweep.Grid{
		Hidden: [][]int{{16}}, Activation: []backend.Activation{backend.ReLU}, Optimizer: []nn.Optimizer{nn.Adam},
		Batch: []int{32}, LR: []float64{0.001, 0.01}, Seeds: sweep.SeedList(2)}}
	b := cpuref.New()
	defer b.Close()
	var files []sweep.File
	for i := range 2 {
		shard := sweep.Shard{Index: i, Count: 2}
		s, err := sweep.New(p, set, shard, sweep.Limits{})
		if err != nil {
			panic(err)
		}
		r, err := s.Run(context.Background(), b, nn.Scaling{}, "cpu", sweep.Hooks{})
		if err != nil {
			panic(err)
		}
		fmt.Printf("shard %v: %d trials, %d models in %d array(s)\n", shard, len(r.Trials), s.Models(), len(s.Chunks))
		files = append(files, sweep.File{Name: fmt.Sprintf("shard%d.json", i), Results: r})
	}
	all, err := sweep.Merge(files...)
	if err != nil {
		panic(err)
	}
	for _, c := range all.Configs {
		fmt.Printf("rank %d: lr %v, %d models\n", c.Rank, c.Params.LR, c.Models)
	}
	// Output:
	// shard 0/2: 2 trials, 4 models in 1 array(s)
	// shard 1/2: 2 trials, 4 models in 1 array(s)
	// rank 1: lr 0.01, 4 models
	// rank 2: lr 0.001, 4 models
}
