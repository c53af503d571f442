// Package nn builds and trains neural networks on any backend.Backend.
//
// A Model is a sequential multilayer perceptron described by a Spec: dense
// layers whose weights are stored in×out, so that a layer computes
// Y = act(X·W + b) for a batch X of rows. The last layer is linear (its
// outputs are logits or raw values) and the Head chooses the loss: BinaryHead
// (one logit, sigmoid + binary cross-entropy), SoftmaxHead (C logits, softmax
// + cross-entropy) or RegressionHead (identity + mean squared error).
//
// Everything a training step does runs as backend operations on tensors that
// are allocated once: the data set is uploaded once, each epoch's shuffled
// order is one small index write, each minibatch is gathered on the device,
// and the loss and the number of correct predictions accumulate on the device
// until they are logged. A step therefore neither allocates nor reads back,
// so the GPU backend can record it into one command buffer. That step is a
// Trainer's: Train runs it over epochs, and gputrain bench and the
// benchmarks time it.
//
// Train can watch a validation set (Config.Val, or Config.ValFraction of the
// training set held out by class): it is uploaded once and evaluated on the
// device after every epoch, its loss and correct count read back with the
// epoch's training sums. With Config.Patience, training stops once the
// validation loss has not improved for that many epochs, and the best
// epoch's weights, copied on the device, are put back; the state lives in
// Model.Info.Validation and in checkpoints, so a resumed run continues it.
//
// An Array is N models of one Spec trained by the same dispatches (the
// backend's model arrays): NewArray draws member k as NewModel draws seed k,
// and TrainArray trains every member with its own row order, rows (folds),
// learning rate and optimizer constants (the optimizer's per-model
// hyperparameter table), validation and early stopping; a stopped or
// diverged member is frozen by a learning rate of 0 in that table. A Model's
// training runs the same machinery for one model.
//
// The package never names a backend: the same code runs in float32 on the GPU
// (package gpu) and in float64 on the CPU reference (package cpuref).
//
// The rules a program training from data needs are here too: HeadFor
// picks the head and the output width from a set's classes, Model.Score
// evaluates by head (accuracy, or RMSE, MAE and R² in the target's units),
// Config.Standardize fits the scaling (leaving a table's one-hot inputs as
// they are), and a Checkpointer saves a model during training one loss
// reading behind, so that a file only ever holds a sound state. Package fit
// puts them behind a few calls.
//
// Models are saved as safetensors files that PyTorch can load into an
// nn.Sequential of Linear layers (see Model.Save). A model trained on a CSV
// table keeps the table's encoding (Model.Table, a table.Encoder) in its
// checkpoint, and EvaluateRegression scores a regression in the target's
// units.
package nn
