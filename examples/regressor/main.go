// Command regressor trains a regressor on a CSV table through the table
// encoder (numbers standardised, text one-hot), scores it on the held-out
// rows, saves it, loads it back and predicts new rows given as CSV text.
// The table is generated here: house prices from area, rooms and district.
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/table"
)

func main() {
	t, err := table.ReadFrom(strings.NewReader(houses(400)), "houses.csv")
	if err != nil {
		log.Fatal(err)
	}
	d, _, err := fit.FromTable(t, nil, table.Defaults("price")) // a fifth held out as d.Test
	if err != nil {
		log.Fatal(err)
	}
	m, err := fit.Train(context.Background(), d, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	score, err := m.Evaluate(d.Test)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("test:", score)

	dir, err := os.MkdirTemp("", "regressor")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "houses.safetensors") // gputrain predict --model reads it too
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := fit.Load(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer loaded.Close()
	rows, err := table.ReadFrom(strings.NewReader("area,rooms,district\n80,3,north\n120,4,south\n"), "new houses")
	if err != nil {
		log.Fatal(err)
	}
	p, err := loaded.PredictTable(rows)
	if err != nil {
		log.Fatal(err)
	}
	for i, v := range p.Values {
		fmt.Printf("house %d: predicted price %.0f\n", p.Rows[i]+1, v)
	}
}

// houses returns a CSV table of n houses: area (m²), rooms, district and a
// price of 2000 a square metre, 5000 a room and 50000 more in the south,
// with noise.
func houses(n int) string {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("area,rooms,district,price\n")
	districts := []string{"north", "south", "east"}
	for range n {
		area, rooms, di := 40+rng.IntN(120), 1+rng.IntN(5), rng.IntN(3)
		price := 2000*float64(area) + 5000*float64(rooms) + 10000*rng.NormFloat64()
		if districts[di] == "south" {
			price += 50000
		}
		fmt.Fprintf(&b, "%d,%d,%s,%.0f\n", area, rooms, districts[di], price)
	}
	return b.String()
}
