package server

import (
	"math"
	"strings"

	"github.com/corvid-db/corvid/internal/command"
	"github.com/corvid-db/corvid/internal/resp"
)

// LOLWUT [VERSION v] [arg ...]: a piece of computer art and the version
// line. Redis draws a different piece for some of its versions and only
// the version line for the others, its current one included; Corvid keeps
// that contract (art for VERSION 5 and 6, the bare line otherwise, always
// ending "Redis ver. <Version>\n", the server's version whatever VERSION
// asked) but draws its own pieces, in Unicode braille: each character is
// a 2x4 grid of dots, so a terminal shows a fine bitmap. The pieces are
// deterministic, unlike Redis's, so a test can hold them.
//
// The arguments after VERSION v size the picture and must be integers
// (Redis's reply otherwise); they are clamped to limits that keep the
// command cheap, as Redis does.

func lolwutCommands() []*command.Command {
	return []*command.Command{
		{Name: "lolwut", Arity: -1, Flags: command.ReadOnly | command.Fast | command.NoKeyspace,
			ACL: command.CatRead | command.CatFast, Group: "server", Since: "5.0.0",
			Summary: "Shows a piece of computer art and the server's version.", Handler: lolwutCommand},
	}
}

func lolwutCommand(c *command.Ctx) {
	version := int64(-1)
	args := c.Args[1:]
	if len(c.Args) >= 3 && strings.EqualFold(string(c.Args[1]), "version") {
		v, ok := resp.ParseInt(c.Args[2])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		version, args = v, c.Args[3:]
	}
	var draw func(sizes []int64) (*brailleCanvas, string)
	var defaults, limits []int64
	switch version {
	case 5:
		draw, defaults, limits = drawCrows, []int64{66, 8, 12}, []int64{1000, 200, 200}
	case 6:
		draw, defaults, limits = drawHills, []int64{80, 20}, []int64{1000, 1000}
	default:
		c.W.Verbatim("txt", []byte(lolwutVersionLine))
		return
	}
	sizes := append([]int64(nil), defaults...)
	for i := 0; i < len(args) && i < len(sizes); i++ {
		n, ok := resp.ParseInt(args[i])
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		sizes[i] = min(max(n, 1), limits[i])
	}
	canvas, caption := draw(sizes)
	var b strings.Builder
	canvas.render(&b)
	b.WriteString("\n")
	b.WriteString(caption)
	b.WriteString(" ")
	b.WriteString(lolwutVersionLine)
	c.W.Verbatim("txt", []byte(b.String()))
}

// lolwutVersionLine ends every LOLWUT reply, in Redis's shape.
const lolwutVersionLine = "Redis ver. " + Version + "\n"

// brailleCanvas is a bitmap drawn as braille characters.
type brailleCanvas struct {
	w, h int // in dots
	dots []bool
}

func newBrailleCanvas(cols, rows int) *brailleCanvas {
	return &brailleCanvas{w: cols * 2, h: rows * 4, dots: make([]bool, cols*2*rows*4)}
}

func (c *brailleCanvas) set(x, y int) {
	if x >= 0 && y >= 0 && x < c.w && y < c.h {
		c.dots[y*c.w+x] = true
	}
}

// line draws a segment with Bresenham's algorithm.
func (c *brailleCanvas) line(x0, y0, x1, y1 int) {
	dx, dy := iabs(x1-x0), -iabs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		c.set(x0, y0)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func iabs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// brailleBits maps a dot's place in its 2x4 cell to its bit in the
// character U+2800+bits (Unicode's braille numbering).
var brailleBits = [4][2]rune{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}

// render writes the canvas, one line of characters per four rows of dots.
func (c *brailleCanvas) render(b *strings.Builder) {
	for cy := 0; cy < c.h; cy += 4 {
		if cy > 0 {
			b.WriteByte('\n')
		}
		for cx := 0; cx < c.w; cx += 2 {
			r := rune(0x2800)
			for dy := 0; dy < 4; dy++ {
				for dx := 0; dx < 2; dx++ {
					if c.dots[(cy+dy)*c.w+cx+dx] {
						r |= brailleBits[dy][dx]
					}
				}
			}
			b.WriteRune(r)
		}
	}
}

// artJitter is a small deterministic hash of a position, in [0, 1).
func artJitter(a, b int) float64 {
	x := uint32(a)*0x9e3779b1 ^ uint32(b)*0x85ebca6b
	x ^= x >> 15
	x *= 0x2c1b3c6d
	x ^= x >> 12
	return float64(x%1000) / 1000
}

// drawCrows (VERSION 5; cols, crows per row, rows of crows) is a flock
// read as a flip book: row by row the crows beat their wings, from raised
// to lowered, each a little off its place in the grid.
func drawCrows(sizes []int64) (*brailleCanvas, string) {
	cols, perRow, rowsOfCrows := int(sizes[0]), int(sizes[1]), int(sizes[2])
	cell := max(cols*2/perRow, 2) // a crow's square, in dots
	rows := (cell*rowsOfCrows + 3) / 4
	c := newBrailleCanvas(cols, rows)
	for row := 0; row < rowsOfCrows; row++ {
		// The wings' angle, from 50° up to 50° down.
		phase := 0.0
		if rowsOfCrows > 1 {
			phase = float64(row) / float64(rowsOfCrows-1)
		}
		angle := (0.5 - phase) * 100 * math.Pi / 180
		for i := 0; i < perRow; i++ {
			span := float64(cell) * 0.4 * (0.8 + 0.4*artJitter(row, i))
			cx := float64(i*cell+cell/2) + (artJitter(i, row)-0.5)*float64(cell)*0.3
			cy := float64(row*cell+cell/2) + (artJitter(row+7, i+3)-0.5)*float64(cell)*0.3
			tipDX, tipDY := span*math.Cos(angle), -span*math.Sin(angle)
			bx, by := int(math.Round(cx)), int(math.Round(cy))
			// Each wing bends once, at its middle, as a bird's does.
			mx, my := span*0.5, -span*0.5*math.Sin(angle)*0.4-span*0.15
			for _, side := range []float64{-1, 1} {
				ex, ey := int(math.Round(cx+side*mx)), int(math.Round(cy+my))
				c.line(bx, by, ex, ey)
				c.line(ex, ey, int(math.Round(cx+side*tipDX)), int(math.Round(cy+tipDY)))
			}
		}
	}
	return c, "A murder of crows, in braille."
}

// drawHills (VERSION 6; cols, rows) is a landscape at dusk: three ridges
// from far to near, each drawn where the nearer ones do not hide it, a
// moon, and stars above the far ridge.
func drawHills(sizes []int64) (*brailleCanvas, string) {
	cols, rows := int(sizes[0]), int(sizes[1])
	c := newBrailleCanvas(cols, rows)
	w, h := float64(c.w), float64(c.h)
	ridge := func(k int, x float64) float64 {
		f := float64(k + 1)
		base := h * (0.35 + 0.2*float64(k))
		return base + h*0.08*math.Sin(x/w*math.Pi*2*f*0.7+f) + h*0.05*math.Sin(x/w*math.Pi*6.3*f*0.5+2*f)
	}
	horizon := make([]int, c.w) // the highest ridge dot drawn in each column
	for x := range horizon {
		horizon[x] = c.h
	}
	for k := 2; k >= 0; k-- { // nearest first: it hides the others
		prev := -1
		for x := 0; x < c.w; x++ {
			y := int(math.Round(ridge(k, float64(x))))
			if y < horizon[x] {
				if prev >= 0 && iabs(y-prev) > 1 {
					c.line(x-1, prev, x, y)
				} else {
					c.set(x, y)
				}
				horizon[x] = y
				prev = y
			} else {
				prev = -1
			}
		}
	}
	mx, my, mr := w*0.8, h*0.18, math.Max(h*0.1, 2)
	for a := 0.0; a < 2*math.Pi; a += 0.5 / mr {
		x, y := int(math.Round(mx+mr*math.Cos(a))), int(math.Round(my+mr*math.Sin(a)))
		if x >= 0 && x < c.w && y < horizon[x] {
			c.set(x, y)
		}
	}
	for i := 0; i < cols*rows/12; i++ {
		x, y := int(artJitter(i, 1)*w), int(artJitter(2, i)*h*0.5)
		if y < horizon[x]-2 && math.Hypot(float64(x)-mx, float64(y)-my) > mr+2 {
			c.set(x, y)
		}
	}
	return c, "Three ridges and a moon, in braille."
}
