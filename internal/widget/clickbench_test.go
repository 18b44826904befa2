package widget

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// BenchmarkInsertClicks measures the click writer's statement: one batch of
// 500 clicks per iteration, as the recorder writes them under load.
func BenchmarkInsertClicks(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "b.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	batch := make([]store.Click, 500)
	for i := range batch {
		batch[i] = store.Click{Code: "ABCDEFG", Valid: true, IP: "10.0.0.1", IPHash: "0123456789abcdef0123456789abcdef",
			UserAgent: browser, At: time.Now()}
	}
	b.ResetTimer()
	for range b.N {
		if err := st.InsertClicks(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "clicks/s")
}
