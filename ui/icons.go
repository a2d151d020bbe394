//go:build !wasm

package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The app icon: a white pulse line on the theme colour, drawn in Go at first use rather
// than committed as binaries. web/icon.svg is the same drawing for browsers that take SVG.
// Each size is drawn at its own resolution, so small icons stay sharp.

// themeColor is the brand colour: the icon, the manifest and the browser's title bar.
const themeColor = "#2563eb"

var (
	iconBackground = color.NRGBA{0x25, 0x63, 0xeb, 0xff}
	iconLine       = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// pulse is the line, in a 0..1 square: flat, a spike up, a deeper one down, flat.
var pulse = [][2]float64{
	{0.16, 0.56}, {0.36, 0.56}, {0.44, 0.30}, {0.55, 0.74}, {0.63, 0.48}, {0.84, 0.48},
}

// icon draws the icon at size pixels. A maskable icon fills the square (the platform cuts
// its own shape) and keeps the line inside the central safe zone; the others have rounded
// corners and a larger line.
func icon(size int, maskable bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	radius, scale := 0.22*s, 1.0
	if maskable {
		radius, scale = 0, 0.72
	}
	width := 0.075 * s * scale
	points := make([][2]float64, len(pulse))
	for i, p := range pulse {
		points[i] = [2]float64{(0.5 + (p[0]-0.5)*scale) * s, (0.5 + (p[1]-0.5)*scale) * s}
	}
	const sub = 4 // 4×4 samples a pixel: smooth edges without an imaging library
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var bg, line float64
			for sy := 0; sy < sub; sy++ {
				for sx := 0; sx < sub; sx++ {
					px, py := float64(x)+(float64(sx)+0.5)/sub, float64(y)+(float64(sy)+0.5)/sub
					if !insideRounded(px, py, s, radius) {
						continue
					}
					bg++
					if distanceToPolyline(px, py, points) <= width/2 {
						line++
					}
				}
			}
			if bg == 0 {
				continue
			}
			n := float64(sub * sub)
			t := line / bg
			img.SetNRGBA(x, y, color.NRGBA{
				R: mix(iconBackground.R, iconLine.R, t),
				G: mix(iconBackground.G, iconLine.G, t),
				B: mix(iconBackground.B, iconLine.B, t),
				A: uint8(math.Round(255 * bg / n)),
			})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic("ui: encoding icon: " + err.Error()) // an in-memory NRGBA image always encodes
	}
	return b.Bytes()
}

func mix(a, b uint8, t float64) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }

// insideRounded reports whether (x, y) is inside the size×size square with corners of
// radius r.
func insideRounded(x, y, size, r float64) bool {
	if r == 0 {
		return true
	}
	cx := math.Max(r, math.Min(size-r, x))
	cy := math.Max(r, math.Min(size-r, y))
	return math.Hypot(x-cx, y-cy) <= r
}

// distanceToPolyline is the distance from (x, y) to the nearest segment; round joins and
// caps come for free.
func distanceToPolyline(x, y float64, pts [][2]float64) float64 {
	best := math.Inf(1)
	for i := 1; i < len(pts); i++ {
		ax, ay, bx, by := pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1]
		dx, dy := bx-ax, by-ay
		t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		best = math.Min(best, math.Hypot(x-(ax+t*dx), y-(ay+t*dy)))
	}
	return best
}
