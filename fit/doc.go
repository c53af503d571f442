// Package fit trains a gputrain model from rows in a few lines. It is a
// package of its own, above nn, table and device, so that those stay free
// of defaults and device policy while a program needs one import.
//
// Build the data from rows ([Classification], [Regression]) or from a CSV
// table ([ReadCSV], [FromTable]), train with [Train] (nil options take
// [Defaults], the gputrain command's), then predict ([Model.Predict],
// [Model.PredictTable]), score ([Model.Evaluate]), save ([Model.Save], the
// checkpoint nn.Load and the gputrain command read) and [Load]. One
// [Model.Close] frees the model and the device Train opened:
//
//	d, err := fit.Classification(x, labels) // x: rows×features, labels: class per row
//	m, err := fit.Train(ctx, d, nil)        // the default device, network and training
//	defer m.Close()
//	p, err := m.Predict(rows)               // p.Classes[i], p.Probs[i][class]
//
// # Shapes
//
// x holds one row of features per example, every row as long as the first
// and every value finite. A classifier's labels are class indices 0..C-1
// (C ≥ 2 distinct labels); a regressor's targets are one finite value per
// row. Two classes train a binary head, more a softmax head, values a
// regression head (nn.HeadFor); float features (and targets) are
// standardised with the training rows' means and deviations, one-hot table
// inputs left as they are, and the scaling is kept with the model, so rows
// are always given in their own units.
//
// # Errors
//
// Constructors return errors naming the row and the column at fault.
// Train and the methods of Model return nn's, table's and the device's
// errors, wrapped. Methods of a closed Model return ErrClosed.
package fit
