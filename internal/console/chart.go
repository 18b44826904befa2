package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Charts are inline SVG drawn by the server: no chart library, no CDN, no
// JavaScript. Every chart is shown with a table of the same numbers and a
// CSV export.

// series is one bar chart's data.
type series struct {
	ID     string // element id prefix
	Title  string
	Color  string // CSS class suffix: clicks, signups, conversions
	Days   []time.Time
	Values []int64
	// Label formats a value (thousands separators when nil): money
	// charts show amounts.
	Label func(int64) string
}

// barChart draws a series as bars with a baseline, the maximum as a
// gridline label, and the first and last dates. Each bar has a <title> so
// hovering (or a screen reader exploring the graphic) gives the value.
func barChart(s series) template.HTML {
	const w, h, bottom, top = 720, 150, 20, 12
	left := 36
	if s.Label != nil {
		left = 72 // room for an amount
	}
	plotW, plotH := w-left-4, h-bottom-top
	label := s.Label
	if label == nil {
		label = thousands
	}
	var max int64
	var total int64
	for _, v := range s.Values {
		max = maxI(max, v)
		total += v
	}
	scale := max
	if scale == 0 {
		scale = 1
	}
	n := len(s.Values)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart chart-%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc">`,
		s.Color, w, h, s.ID, s.ID)
	fmt.Fprintf(&b, `<title id="%s-title">%s per day</title>`, s.ID, template.HTMLEscapeString(s.Title))
	desc := fmt.Sprintf("%s in total over %d days, at most %s in a day.", label(total), n, label(max))
	if n > 0 {
		desc = fmt.Sprintf("%s in total from %s to %s, at most %s in a day.", label(total), s.Days[0].Format("2006-01-02"), s.Days[n-1].Format("2006-01-02"), label(max))
	}
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, s.ID, template.HTMLEscapeString(desc))
	// Gridlines at 0 and max.
	fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, w-4, top)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top+plotH, w-4, top+plotH)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, left-4, top+4, label(max))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">0</text>`, left-4, top+plotH+4)
	if n > 0 {
		slot := float64(plotW) / float64(n)
		bw := slot * 0.75
		if bw < 1 {
			bw = 1
		}
		for i, v := range s.Values {
			bh := float64(v) * float64(plotH) / float64(scale)
			x := float64(left) + float64(i)*slot + (slot-bw)/2
			y := float64(top+plotH) - bh
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
				x, y, bw, bh, s.Days[i].Format("Mon 2 Jan"), label(v))
		}
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, left, h-4, s.Days[0].Format("2 Jan"))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, w-4, h-4, s.Days[n-1].Format("2 Jan"))
	}
	b.WriteString(`</svg>`)
	// The string is built from numbers, dates and escaped text only.
	return template.HTML(b.String()) //nolint:gosec // see above
}

func maxI(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
