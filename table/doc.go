// Package table reads CSV tables and encodes them into data sets.
//
//   - [LoadCSV] reads chosen numeric columns of a CSV file with a header
//     row into a data.Set.
//   - [Read] reads a CSV table of numbers and text; [Fit] learns from its
//     training rows how to encode it (missing cells by an [NAPolicy],
//     one-hot text, classes or a number to regress) into an [Encoder], and
//     holds out a seeded test split (data.HeldOut).
//   - An [Encoder] is plain data (it marshals to JSON): a model keeps it
//     so that raw rows can be encoded the same way at prediction time
//     ([Encoder.Encode]).
//
// Every error names the file, and the line and column at fault where there
// is one. Nothing is allocated beyond what the file holds.
package table
