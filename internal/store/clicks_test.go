package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// Batches cross the 100-row chunks of InsertClicks at every boundary; each
// click is stored once, with its own values (a placeholder off by one in a
// chunk would shift them).
func TestInsertClicksBatches(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		total := 0
		for _, n := range []int{0, 1, 99, 100, 101, 250} {
			cs := make([]store.Click, n)
			for i := range cs {
				cs[i] = store.Click{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true,
					UserAgent: fmt.Sprintf("ua-%d-%d", n, i), Referer: fmt.Sprintf("https://r.example/%d", i), IP: "192.0.2.1",
					At: t0.Add(-time.Duration(i) * time.Second)}
			}
			if err := e.St.InsertClicks(ctx, cs); err != nil {
				t.Fatalf("batch of %d: %v", n, err)
			}
			total += n
			valid, invalid, err := e.St.ClickCounts(ctx)
			if err != nil || valid != int64(total) || invalid != 0 {
				t.Fatalf("after a batch of %d: valid %d invalid %d %v", n, valid, invalid, err)
			}
			if n == 0 {
				continue
			}
			var mismatched int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM clicks WHERE user_agent LIKE $1 AND
				referer <> 'https://r.example/' || substr(user_agent, length($2) + 1)`, fmt.Sprintf("ua-%d-%%", n), fmt.Sprintf("ua-%d-", n)).Scan(&mismatched); err != nil {
				t.Fatal(err)
			}
			if mismatched != 0 {
				t.Errorf("batch of %d: %d clicks with another click's values", n, mismatched)
			}
		}
		st, err := e.St.ParticipantStats(ctx, adv.ID)
		if err != nil || st.Clicks != int64(total) {
			t.Errorf("participant clicks %d %v, want %d", st.Clicks, err, total)
		}
	})
}

func TestClickValidityAndUnknownCodes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		cs := []store.Click{
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true, At: t0},
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true, Automated: true, UserAgent: "HeadlessChrome", At: t0},
			{Code: "UNKNOWN1", At: t0}, // no program, no participant: NULLs
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: false, At: t0}, // disabled code
		}
		if err := e.St.InsertClicks(ctx, cs); err != nil {
			t.Fatal(err)
		}
		valid, invalid, err := e.St.ClickCounts(ctx)
		if err != nil || valid != 1 || invalid != 2 {
			t.Errorf("valid %d invalid %d %v", valid, invalid, err)
		}
		if n, err := e.St.AutomatedClickCount(ctx); err != nil || n != 1 {
			t.Errorf("automated %d %v", n, err)
		}
		var nulls int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM clicks WHERE program_id IS NULL AND participant_id IS NULL AND code = 'UNKNOWN1'`).Scan(&nulls); err != nil || nulls != 1 {
			t.Errorf("unknown code stored with NULL links: %d %v", nulls, err)
		}
		if st, err := e.St.ParticipantStats(ctx, adv.ID); err != nil || st.Clicks != 1 {
			t.Errorf("an automated click counted: %d %v", st.Clicks, err)
		}
	})
}

func TestClicksOfWindow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		adv, other := e.Advocate(a.ID, "adv", ""), e.Advocate(b.ID, "adv", "")
		var cs []store.Click
		for i := range 5 {
			cs = append(cs, store.Click{ProgramID: a.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true, IP: fmt.Sprintf("192.0.2.%d", i),
				UserAgent: "ua", Params: "gclid=x", At: t0.Add(time.Duration(i) * time.Minute)})
			cs = append(cs, store.Click{ProgramID: b.ID, ParticipantID: other.ID, Code: other.Code, Valid: true, At: t0.Add(time.Duration(i) * time.Minute)})
		}
		if err := e.St.InsertClicks(ctx, cs); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name     string
			from, to time.Time
			limit    int
			want     []string // IPs, newest first
		}{
			{"all", t0, t0.Add(time.Hour), 10, []string{"192.0.2.4", "192.0.2.3", "192.0.2.2", "192.0.2.1", "192.0.2.0"}},
			{"both bounds inclusive", t0.Add(time.Minute), t0.Add(3 * time.Minute), 10, []string{"192.0.2.3", "192.0.2.2", "192.0.2.1"}},
			{"a millisecond inside", t0.Add(time.Minute + time.Millisecond), t0.Add(3*time.Minute - time.Millisecond), 10, []string{"192.0.2.2"}},
			{"limit keeps the newest", t0, t0.Add(time.Hour), 2, []string{"192.0.2.4", "192.0.2.3"}},
			{"before any", t0.Add(-time.Hour), t0.Add(-time.Millisecond), 10, nil},
		}
		for _, c := range cases {
			var got []store.ClickRow
			err := e.St.InTx(ctx, func(tx *store.Tx) error {
				var err error
				got, err = tx.ClicksOf(ctx, adv.ID, c.from, c.to, c.limit)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ips []string
			for _, r := range got {
				ips = append(ips, r.IP)
				if r.UserAgent != "ua" || r.Params == "" {
					t.Errorf("%s: row %+v", c.name, r)
				}
			}
			if fmt.Sprint(ips) != fmt.Sprint(c.want) {
				t.Errorf("%s: %v, want %v", c.name, ips, c.want)
			}
		}
	})
}
