package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSchedulerLR checks each schedule's learning rate per epoch against
// PyTorch's formulas, worked by hand, for base 0.1 over 6 epochs.
func TestSchedulerLR(t *testing.T) {
	cos := func(u, n float64) float64 { return 0.001 + (0.1-0.001)*(1+math.Cos(math.Pi*u/n))/2 }
	tests := []struct {
		name string
		s    Schedule
		want []float64
	}{
		{"constant", Schedule{}, []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1}},
		{"warm-up 2 then constant", Schedule{Warmup: 2}, []float64{0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.1, 0.1}},
		{"cosine", Schedule{Kind: CosineLR, MinLR: 0.001}, []float64{cos(0, 6), cos(1, 6), cos(2, 6), cos(3, 6), cos(4, 6), cos(5, 6)}},
		{"warm-up 2 then cosine", Schedule{Kind: CosineLR, MinLR: 0.001, Warmup: 2}, []float64{0.1 / 3, 0.2 / 3, cos(0, 4), cos(1, 4), cos(2, 4), cos(3, 4)}},
		{"step", Schedule{Kind: StepLR, StepEvery: 2, StepGamma: 0.5}, []float64{0.1, 0.1, 0.05, 0.05, 0.025, 0.025}},
		{"step, default gamma", Schedule{Kind: StepLR, StepEvery: 4}, []float64{0.1, 0.1, 0.1, 0.1, 0.01, 0.01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.s.withDefaults()
			require.NoError(t, err)
			c := newScheduler(s, 0.1, 6)
			for e, want := range tt.want {
				assert.InDelta(t, want, c.lr(e), 1e-15, "epoch %d", e)
			}
		})
	}
}

// TestSchedulerPlateau: the rate drops by the factor once the loss has not
// improved by a relative 1e-4 for more than patience epochs, not below
// MinLR, and the count restarts after a drop.
func TestSchedulerPlateau(t *testing.T) {
	s, err := Schedule{Kind: PlateauLR, PlateauPatience: 1, PlateauFactor: 0.5, MinLR: 0.02}.withDefaults()
	require.NoError(t, err)
	c := newScheduler(s, 0.1, 10)
	losses := []float64{1, 0.9, 0.89995, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8}
	// Epoch 2 improves by less than 1e-4 (bad 1), epoch 3 is worse (bad 2
	// > 1: drop to 0.05), epoch 4 improves, 5 and 6 do not (drop to
	// 0.025), 7 and 8 (drop to 0.0125, floored at 0.02).
	want := []float64{0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02}
	for e, l := range losses {
		assert.InDelta(t, want[e], c.lr(e), 1e-15, "epoch %d", e)
		c.observe(e, l)
	}
}

func TestScheduleRejects(t *testing.T) {
	for _, tt := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{Kind: ScheduleKind(9)}, "unknown schedule"},
		{Schedule{Warmup: -1}, "warm-up -1"},
		{Schedule{MinLR: -1}, "MinLR -1"},
		{Schedule{Kind: StepLR}, "StepEvery"},
		{Schedule{Kind: StepLR, StepEvery: 1, StepGamma: 2}, "StepGamma"},
		{Schedule{Kind: PlateauLR, PlateauFactor: 1}, "PlateauFactor"},
		{Schedule{Kind: PlateauLR, PlateauPatience: -1}, "PlateauPatience"},
	} {
		_, err := tt.s.withDefaults()
		assert.ErrorContains(t, err, tt.want, "%+v", tt.s)
	}
	k, err := ParseSchedule("Cosine")
	require.NoError(t, err)
	assert.Equal(t, CosineLR, k)
	_, err = ParseSchedule("linear")
	assert.ErrorContains(t, err, `unknown schedule "linear" (want one of constant, cosine, step, plateau)`)
}
