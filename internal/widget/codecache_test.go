package widget

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// credited reports whether a redirect of code answered with the referral
// (ref= in the Location and the attribution cookie).
func credited(t *testing.T, h http.Handler, code string) bool {
	t.Helper()
	r := request("HEAD", "/r/"+code, "203.0.113.9:1", nil, "") // HEAD: redirected, not recorded
	r.SetPathValue("code", code)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusFound {
		t.Fatalf("/r/%s: status %d", code, w.Code)
	}
	hasRef := strings.Contains(w.Header().Get("Location"), "ref="+parrain.NormalizeCode(code))
	hasCookie := strings.Contains(w.Header().Get("Set-Cookie"), CookieName+"=")
	if hasRef != hasCookie {
		t.Fatalf("/r/%s: Location %q but Set-Cookie %q", code, w.Header().Get("Location"), w.Header().Get("Set-Cookie"))
	}
	return hasRef
}

// TestCodeCacheSeesChangesAtOnce changes, through this process's store,
// what cached codes resolve to and checks that the very next redirect
// answers the new way: a participant suspended and restored, the program
// paused and resumed, a code first clicked while unknown and then created.
func TestCodeCacheSeesChangesAtOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		red := NewRedirect(e.st, slog.New(slog.DiscardHandler), e.clicks, "https://fallback.example/", "", false, httpx.IPResolver{})
		code := e.alice.Code
		for range 2 {
			if !credited(t, red, code) {
				t.Fatal("alice's code is not credited")
			}
		}
		if known, _ := red.Codes().Len(); known != 1 {
			t.Fatalf("%d codes cached after two redirects of one, want 1", known)
		}
		set := func(st parrain.ParticipantStatus) {
			t.Helper()
			if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "alice", Status: st}, store.Idem{}); err != nil {
				t.Fatal(err)
			}
		}
		set(parrain.ParticipantDisabled)
		if credited(t, red, code) {
			t.Error("a disabled participant's code is still credited")
		}
		set(parrain.ParticipantActive)
		if !credited(t, red, code) {
			t.Error("a participant enabled again is not credited")
		}
		progs := program.New(e.st)
		if _, err := progs.SetStatus(ctx, e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		if credited(t, red, code) {
			t.Error("the code of a paused program is still credited")
		}
		if _, err := progs.SetStatus(ctx, e.prog.ID, parrain.ProgramActive); err != nil {
			t.Fatal(err)
		}
		if !credited(t, red, code) {
			t.Error("the code of a resumed program is not credited")
		}
		// Clicked before it exists: remembered as unknown, then created.
		if credited(t, red, "BOBCODE") {
			t.Fatal("an unknown code is credited")
		}
		if _, unknown := red.Codes().Len(); unknown != 1 {
			t.Fatalf("%d unknown codes cached, want 1", unknown)
		}
		if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "bob", Email: "bob@example.com", Code: "BOBCODE"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if !credited(t, red, "bobcode") {
			t.Error("a code created after it was clicked is not credited")
		}
	})
}

// TestCodeCacheOtherReplica runs two stores on one database, as two server
// processes would: a change made through one is seen by the other's
// redirect within a second (the shared change version, read at most every
// DefaultVersionPoll).
func TestCodeCacheOtherReplica(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		other, err := store.Open(ctx, dbURL, store.Options{Keys: dbtest.Keys()})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		log := slog.New(slog.DiscardHandler)
		clicks := NewClickRecorder(other, log, 100, time.Hour, 1000)
		defer clicks.Close()
		red := NewRedirect(other, log, clicks, "https://fallback.example/", "", false, httpx.IPResolver{})
		code := e.alice.Code
		if !credited(t, red, code) {
			t.Fatal("alice's code is not credited")
		}
		// Changed through the first store: the second process hears
		// nothing from it, it reads the shared version.
		if _, err := program.New(e.st).SetStatus(ctx, e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		time.Sleep(DefaultVersionPoll + 100*time.Millisecond)
		if credited(t, red, code) {
			t.Errorf("a program paused by another process is still credited %s later", DefaultVersionPoll+100*time.Millisecond)
		}
		if _, err := program.New(e.st).SetStatus(ctx, e.prog.ID, parrain.ProgramActive); err != nil {
			t.Fatal(err)
		}
		time.Sleep(DefaultVersionPoll + 100*time.Millisecond)
		if !credited(t, red, code) {
			t.Error("a program resumed by another process is not credited")
		}
		// A participant created by another process, its code clicked
		// before: forgotten as unknown within a second.
		if credited(t, red, "CAROLCODE") {
			t.Fatal("an unknown code is credited")
		}
		if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "carol", Email: "carol@example.com", Code: "CAROLCODE"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(unknownTTL + 100*time.Millisecond)
		if !credited(t, red, "CAROLCODE") {
			t.Error("a code created by another process is not credited a second later")
		}
	})
}

// TestUnknownCodesBounded floods the cache with made-up codes: it keeps at
// most its bound of them, and the known codes it holds stay.
func TestUnknownCodesBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, filepath.Join(t.TempDir(), "u.db"), httpx.IPResolver{})
	ctx := context.Background()
	c := NewCodeCache(e.st, 1000, 128, DefaultVersionPoll, "https://fallback.example/", "", false)
	if r, err := c.resolve(ctx, e.alice.Code); err != nil || !r.found {
		t.Fatalf("alice: %+v, %v", r, err)
	}
	for i := range 5000 {
		r, err := c.resolve(ctx, fmt.Sprintf("NOPE%d", i))
		if err != nil || r.found || r.target != "https://shop.example/join?utm=mail" {
			t.Fatalf("unknown code %d: %+v, %v", i, r, err)
		}
	}
	known, unknown := c.Len()
	if unknown > 128 || unknown == 0 {
		t.Errorf("%d unknown codes cached after a flood of 5000, want at most 128", unknown)
	}
	if known != 1 {
		t.Errorf("%d known codes cached after the flood, want alice's", known)
	}
}

// TestClickRecorderDrainsOnClose records clicks that no timer or batch
// would write yet, closes the recorder (as SIGTERM does) and finds every
// one of them in the database.
func TestClickRecorderDrainsOnClose(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c := NewClickRecorder(st, slog.New(slog.DiscardHandler), 5000, time.Hour, 100000)
		const n = 3000 // several statements of each size
		for i := range n {
			c.Record(store.Click{Code: fmt.Sprintf("C%05d", i), IP: "198.51.100.7", UserAgent: browser, At: time.Now().UTC()})
		}
		c.Close()
		if d := c.Dropped.Load(); d != 0 {
			t.Fatalf("%d clicks dropped", d)
		}
		var count, hashed int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN ip_hash = $1 THEN 1 END) FROM clicks`,
			hashIP(st.Secret(), "198.51.100.7")).Scan(&count, &hashed); err != nil {
			t.Fatal(err)
		}
		if count != n || hashed != n {
			t.Errorf("%d clicks written (%d with the IP's hash), want %d", count, hashed, n)
		}
	})
}
