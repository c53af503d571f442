// Package sweep trains many small models at once: a grid of hyperparameter
// configurations, each with several seeds and, optionally, cross-validated
// on stratified folds, grouped into model arrays (nn.NewArray,
// nn.TrainArray) that share one device's dispatches.
//
// A Grid lists the values of each hyperparameter (architectures,
// activations, optimizers, batch sizes, learning rates, seeds). Its
// configurations and trials (a configuration with one seed) form an
// ordered list that is the same on every machine, so a sweep can be cut
// into shards (Shard: slice I of N, e.g. one per Slurm array task or
// Kubernetes Indexed Job pod) whose result files Merge puts back together
// into exactly the results of one run of the whole grid.
//
// A Plan adds how each trial is trained and validated: epochs, K-fold
// cross-validation (KFold) or one held-out part (HoldOut), early stopping,
// and the metric configurations are ranked by. New plans a sweep: it draws
// the folds, slices the trial list for a shard and groups the trials into
// model arrays (Chunk) of members that share an architecture, activation,
// optimizer, batch size and row counts (learning rates, seeds and folds
// vary inside an array), split into chunks that fit the device's memory
// (Limits, EstimateArray), refusing before any training a configuration of
// which not even one model fits. Sweep.Run trains them and returns
// Results: per trial the configuration, seed and every fold's history,
// best epoch and validation figures; per configuration the mean ± standard
// deviation over its models, ranked.
//
// Test figures are not part of a sweep: choosing a configuration on them
// would make them a validation set. Retrain trains the best configuration
// on every training row, a normal model to test and save.
package sweep
