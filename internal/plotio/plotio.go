// Package plotio holds what gputrain's plots share: a colour palette and an
// atomic PNG writer for gonum/plot canvases.
package plotio

import (
	"fmt"
	"image/color"
	"io"

	"github.com/gputrain/gputrain/internal/atomicfile"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is the colour cycle of every gputrain plot.
var Palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255},
}

// Color returns the i-th colour of the palette, cycling.
func Color(i int) color.Color { return Palette[i%len(Palette)] }

// WritePNG writes img as a PNG to path atomically: a temporary file in the
// same folder, then a rename, so a reader never sees half a picture.
func WritePNG(path string, img *vgimg.Canvas) error {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
