// Command server predicts inside an HTTP handler. It serves the model in
// -model (a checkpoint written by gputrain train --save or fit's
// Model.Save, trained on rows of numbers), or else trains a small
// classifier first, and answers
//
//	POST /predict {"rows": [[0.1, 2.9], [3.2, 0.2]]}
//
// with the predictions as JSON. It prints "listening on http://ADDR" once
// it accepts requests.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/gputrain/gputrain/fit"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	model := flag.String("model", "", "checkpoint to serve; empty: train a small classifier")
	flag.Parse()
	m, err := load(*model)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	http.Handle("POST /predict", predictHandler(m))
	log.Fatal(http.Serve(ln, nil))
}

// request is the body of POST /predict.
type request struct {
	Rows [][]float64 `json:"rows"`
}

// response is its answer: classes and probabilities of a classifier, or
// values of a regression.
type response struct {
	Classes       []int       `json:"classes,omitempty"`
	Probabilities [][]float64 `json:"probabilities,omitempty"`
	Values        []float64   `json:"values,omitempty"`
}

// predictHandler answers POST /predict with m's predictions. fit.Model
// serialises its calls, so concurrent requests are safe.
func predictHandler(m *fit.Model) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		p, err := m.Predict(req.Rows)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response{Classes: p.Classes, Probabilities: p.Probs, Values: p.Values})
	})
}

// load loads the checkpoint at path, or trains a classifier of points
// around (0, 0), (0, 3) and (3, 0) when path is empty.
func load(path string) (*fit.Model, error) {
	if path != "" {
		return fit.Load(path, nil)
	}
	var x [][]float64
	var labels []int
	for i := range 300 {
		c := i % 3
		dx, dy := float64(i%7)/10-0.3, float64(i%5)/10-0.2
		x = append(x, []float64{3*float64(c/2) + dx, 3*float64(c%2) + dy})
		labels = append(labels, c)
	}
	d, err := fit.Classification(x, labels)
	if err != nil {
		return nil, err
	}
	return fit.Train(context.Background(), d, nil)
}
