// Command classifier trains a classifier from rows of features and
// predicts: the quick start of package fit. The device is the default one
// (the best hardware GPU, else the CPU), the network and the training are
// the gputrain command's defaults for tables.
package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/gputrain/gputrain/fit"
)

func main() {
	x, labels := points() // rows of features, and a class per row
	d, err := fit.Classification(x, labels)
	if err != nil {
		log.Fatal(err)
	}
	m, err := fit.Train(context.Background(), d, nil) // default device, network and training
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	p, err := m.Predict([][]float64{{0.1, 2.9}, {3.2, 0.2}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("classes", p.Classes, "probabilities", p.Probs)
}

// points returns 300 points in three clusters, around (0, 0), (0, 3) and
// (3, 0), and the cluster of each.
func points() ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(1, 2))
	centres := [][2]float64{{0, 0}, {0, 3}, {3, 0}}
	var x [][]float64
	var labels []int
	for i := range 300 {
		c := i % 3
		r, a := 0.8*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
		x = append(x, []float64{centres[c][0] + r*math.Cos(a), centres[c][1] + r*math.Sin(a)})
		labels = append(labels, c)
	}
	return x, labels
}
