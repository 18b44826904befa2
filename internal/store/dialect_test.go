package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The SQL written once for both databases answers the same on both: these
// are the constructs the store relies on, each checked on each engine.
func TestSQLConstructsAgreeAcrossDatabases(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		db := e.St.DB()
		cases := []struct {
			name  string
			query string
			args  []any
			want  string
		}{
			{"a placeholder used twice", `SELECT CAST($1 AS TEXT) || CAST($1 AS TEXT)`, []any{"ab"}, "abab"},
			{"out-of-order placeholders", `SELECT CAST($2 AS TEXT) || CAST($1 AS TEXT)`, []any{"1", "2"}, "21"},
			{"BIGINT milliseconds past 2^31", `SELECT CAST(CAST($1 AS BIGINT) + 1 AS TEXT)`, []any{int64(4102444800000)}, "4102444800001"},
			{"lower() folds ASCII", `SELECT lower(CAST($1 AS TEXT))`, []any{"MiXeD@Example.COM"}, "mixed@example.com"},
			{"substr is 1-based and counts characters", `SELECT substr(CAST($1 AS TEXT), 1, 3)`, []any{"Zoé Durand"}, "Zoé"},
			{"length counts characters", `SELECT CAST(length(CAST($1 AS TEXT)) AS TEXT)`, []any{"Zoé"}, "3"},
			{"string order is bytewise for ids", `SELECT CASE WHEN 'ref_0a' < 'ref_0b' AND 'reward.' < 'reward/' AND 'Z' < 'a' THEN 'yes' ELSE 'no' END`, nil, "yes"},
			{"COALESCE of a NULL", `SELECT COALESCE(CAST(NULL AS TEXT), 'none')`, nil, "none"},
			{"COUNT(CASE) skips NULL", `SELECT CAST(COUNT(CASE WHEN 1 = 2 THEN 1 END) AS TEXT)`, nil, "0"},
		}
		for _, c := range cases {
			var got string
			if err := db.QueryRow(c.query, c.args...).Scan(&got); err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if got != c.want {
				t.Errorf("%s: %q, want %q", c.name, got, c.want)
			}
		}
		// ON CONFLICT DO NOTHING reports no row affected on both. (Bind
		// strings to TEXT columns: PostgreSQL refuses to encode an int.)
		for i, want := range []int64{1, 0} {
			res, err := db.Exec(`INSERT INTO settings (key, value) VALUES ('dialect-test', $1) ON CONFLICT DO NOTHING`, fmt.Sprint(i))
			if err != nil {
				t.Fatal(err)
			}
			if n, err := res.RowsAffected(); err != nil || n != want {
				t.Errorf("insert %d: %d rows affected %v, want %d", i, n, err, want)
			}
		}
		// UPDATE … RETURNING returns the new values on both.
		var v string
		if err := db.QueryRow(`UPDATE settings SET value = value || 'x' WHERE key = 'dialect-test' RETURNING value`).Scan(&v); err != nil || v != "0x" {
			t.Errorf("returning: %q %v", v, err)
		}
	})
}

// Times are stored as milliseconds: what a store method returns equals
// what it later reads back, on both databases, whatever the clock's
// precision.
func TestTimesRoundTripAtMilliseconds(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		cases := []struct {
			name string
			at   time.Time
			want time.Time
		}{
			{"sub-millisecond clock", t0.Add(1500 * time.Microsecond), t0.Add(time.Millisecond)},
			{"nanoseconds", t0.Add(999_999 * time.Nanosecond), t0},
			{"before 1970", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)},
			{"far future", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)},
			{"another zone", time.Date(2026, 11, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)), t0},
		}
		for i, c := range cases {
			e.Clock.Set(c.at)
			created, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "t" + string(rune('a'+i))}, store.Idem{})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			read, err := e.St.ParticipantByID(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !created.CreatedAt.Equal(c.want) || !read.CreatedAt.Equal(c.want) || read.CreatedAt.Location() != time.UTC {
				t.Errorf("%s: returned %v, read %v (%v), want %v", c.name, created.CreatedAt, read.CreatedAt, read.CreatedAt.Location(), c.want)
			}
		}
	})
}
