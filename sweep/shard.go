package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is slice Index of Count of a sweep's ordered trial list (see
// Grid.Trials): the trials from Index·T/Count up to (Index+1)·T/Count of T,
// so that Count shards cover every trial once. The zero Shard is the whole
// list.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Whole reports whether s is the whole trial list.
func (s Shard) Whole() bool { return s.Count <= 1 }

// String formats s as ParseShard reads it, e.g. "2/4"; the whole list is
// "0/1".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// Range returns the slice [lo, hi) of n trials that s covers.
func (s Shard) Range(n int) (lo, hi int) {
	if s.Whole() {
		return 0, n
	}
	return s.Index * n / s.Count, (s.Index + 1) * n / s.Count
}

// validate checks 0 <= Index < Count.
func (s Shard) validate() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("sweep: shard %d/%d: want I/N with 0 <= I < N", s.Index, s.Count)
	}
	return nil
}

// ParseShard parses "I/N": slice I (from 0) of N.
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return Shard{}, fmt.Errorf("sweep: shard %q: want I/N, e.g. 0/4 for the first of four slices", v)
	}
	si, err1 := strconv.Atoi(strings.TrimSpace(i))
	sn, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("sweep: shard %q: want two integers I/N, e.g. 0/4", v)
	}
	s := Shard{Index: si, Count: sn}
	if err := s.validate(); err != nil {
		return Shard{}, err
	}
	return s, nil
}

// The environment variables ShardFromEnv reads.
const (
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskStep  = "SLURM_ARRAY_TASK_STEP"
	EnvJobIndex       = "JOB_COMPLETION_INDEX"
)

// ShardFromEnv returns the shard a job array task runs, read with getenv
// (os.Getenv): a Slurm array task (sbatch --array) is shard
// (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN)/SLURM_ARRAY_TASK_STEP of
// SLURM_ARRAY_TASK_COUNT (MIN 0 and STEP 1 when unset, so --array=0-3 and
// --array=1-4 both make shards 0..3 of 4); a Kubernetes Indexed Job's pod
// is shard JOB_COMPLETION_INDEX of shards, which the caller must give (the
// Job's completions; Kubernetes does not export it). Slurm's variables win
// over Kubernetes'. ok is false when neither is set: the whole list.
// shards > 0 without JOB_COMPLETION_INDEX, or values that do not make a
// shard (an --array list with gaps), are errors naming the variables.
func ShardFromEnv(getenv func(string) string, shards int) (s Shard, ok bool, err error) {
	num := func(name string, def int) (int, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("sweep: %s=%q is not an integer", name, v)
		}
		return n, nil
	}
	if getenv(EnvSlurmTaskID) != "" {
		id, err := num(EnvSlurmTaskID, 0)
		if err != nil {
			return s, false, err
		}
		count, err := num(EnvSlurmTaskCount, 0)
		if err != nil {
			return s, false, err
		}
		lo, err := num(EnvSlurmTaskMin, 0)
		if err != nil {
			return s, false, err
		}
		step, err := num(EnvSlurmTaskStep, 1)
		if err != nil {
			return s, false, err
		}
		if count < 1 {
			return s, false, fmt.Errorf("sweep: %s=%d but %s is %q: want the array's task count", EnvSlurmTaskID, id, EnvSlurmTaskCount, getenv(EnvSlurmTaskCount))
		}
		step = max(step, 1)
		s = Shard{Index: (id - lo) / step, Count: count}
		if (id-lo)%step != 0 || s.validate() != nil {
			return Shard{}, false, fmt.Errorf("sweep: Slurm array task %s=%d (min %d, step %d) of %s=%d is not a shard: submit a contiguous range such as --array=0-%d, or give --shard I/N",
				EnvSlurmTaskID, id, lo, step, EnvSlurmTaskCount, count, count-1)
		}
		return s, true, nil
	}
	if getenv(EnvJobIndex) != "" {
		id, err := num(EnvJobIndex, 0)
		if err != nil {
			return s, false, err
		}
		if shards < 1 {
			return s, false, fmt.Errorf("sweep: %s=%d needs the number of shards (the Job's completions): give --shards N", EnvJobIndex, id)
		}
		s = Shard{Index: id, Count: shards}
		if err := s.validate(); err != nil {
			return Shard{}, false, fmt.Errorf("sweep: %s=%d with %d shards: %w", EnvJobIndex, id, shards, err)
		}
		return s, true, nil
	}
	if shards > 0 {
		return s, false, fmt.Errorf("sweep: %d shards given but %s is not set: give --shard I/N to run one slice by hand", shards, EnvJobIndex)
	}
	return Shard{}, false, nil
}
