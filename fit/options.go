package fit

import (
	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

// Options configure Train. A nil *Options means Defaults(d); a non-nil one
// is used as it is (build it with Defaults and change fields).
type Options struct {
	// Hidden lists the widths of the hidden layers; empty for a linear
	// model.
	Hidden []int
	// Activation is the nonlinearity of the hidden layers.
	Activation backend.Activation
	// Init is the weight initialisation (nn.InitAuto: He for ReLU, Xavier
	// otherwise).
	Init nn.Init
	// Config is the training: epochs, batch, learning rate, optimizer,
	// seed, standardisation, validation and early stopping (see
	// nn.Config). Config.Seed seeds the initial weights too.
	nn.Config
	// Backend runs the model. When it is nil, Train opens the device that
	// device.Open picks for "auto" (the best hardware GPU, else the CPU
	// reference), and the Model owns it: Model.Close closes it. A Backend
	// given here is the caller's to close, after the Model.
	Backend backend.Backend
	// Hooks are Train's callbacks (see nn.Hooks); the zero value calls
	// none.
	Hooks nn.Hooks
	// Checkpoint, if not empty, is a file Train saves the model to during
	// training, one epoch behind (see nn.Checkpointer): a run that
	// diverges or is cancelled leaves the last sound state in it. The
	// final state is written at the end.
	Checkpoint string
}

// Kind is the kind of data set, which chooses the defaults.
type Kind uint8

const (
	// Images are small pixel sets (data.Set.Pixels of fewer than
	// LargeImagePixels pixels), e.g. data.Digits' 8x8.
	Images Kind = iota
	// Classes are float features with class labels: rows or a table.
	Classes
	// Values are float features with values to predict: rows or a table.
	Values
	// LargeImages are pixel sets of LargeImagePixels pixels or more:
	// MNIST, Fashion-MNIST and other 28x28 IDX sets.
	LargeImages
)

// LargeImagePixels is the size (28x28) from which a pixel set is of kind
// LargeImages.
const LargeImagePixels = 28 * 28

// KindOf returns the kind of s: Images or LargeImages for pixels (by
// their number), else Classes when s has classes and Values when it does
// not.
func KindOf(s *data.Set) Kind {
	switch {
	case s.Pixels != nil && s.Cols >= LargeImagePixels:
		return LargeImages
	case s.Pixels != nil:
		return Images
	case s.Classes > 0:
		return Classes
	}
	return Values
}

// DefaultsFor returns the options the gputrain command trains data of kind
// k with (the same values: its defaults are these). Every kind trains with
// Adam, seed 1 (weights, shuffling and validation split) and no
// validation on the default device:
//
//	Images:      hidden 128,64 sigmoid, lr 0.01, batch 32, 20 epochs
//	LargeImages: hidden 256,128 relu, lr 0.002, batch 64, 10 epochs, cosine schedule
//	Classes:     hidden 64,32 relu, lr 0.001, batch 16, 50 epochs, standardised, L2 weight decay 0.003
//	Values:      hidden 64,32 relu, lr 0.001, batch 16, 150 epochs, standardised
//
// The 8x8 digits reach about 97% with theirs; 28x28 sets want ReLU, a
// smaller rate and a cosine decay of it (docs/regularisation.md has the
// measurements).
func DefaultsFor(k Kind) Options {
	o := Options{Config: nn.Config{Optimizer: nn.Adam, Seed: 1, ValSeed: 1}}
	switch k {
	case Images:
		o.Hidden, o.Activation = []int{128, 64}, backend.Sigmoid
		o.LR, o.Batch, o.Epochs = 0.01, 32, 20
	case LargeImages:
		o.Hidden, o.Activation = []int{256, 128}, backend.ReLU
		o.LR, o.Batch, o.Epochs = 0.002, 64, 10
		o.Schedule = nn.Schedule{Kind: nn.CosineLR}
	default:
		o.Hidden, o.Activation = []int{64, 32}, backend.ReLU
		o.LR, o.Batch, o.Epochs = 0.001, 16, 50
		o.Standardize = true
		if k == Values {
			o.Epochs = 150
		} else {
			o.WeightDecay = 0.003
		}
	}
	return o
}

// Defaults returns DefaultsFor(KindOf(d.Train)).
func Defaults(d *Data) Options { return DefaultsFor(KindOf(d.Train)) }
