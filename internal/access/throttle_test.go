package access_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

func TestBackoffWait(t *testing.T) {
	b := access.Backoff{Free: 3, Base: 10 * time.Second, Max: time.Minute, Forget: time.Hour}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		n     int
		since time.Duration
		want  time.Duration
	}{
		{0, 0, 0},
		{2, 0, 0},                // still free
		{3, 0, 10 * time.Second}, // the first wait
		{4, 0, 20 * time.Second}, // doubled
		{5, 5 * time.Second, 35 * time.Second},
		{6, 0, time.Minute},      // capped
		{60, 0, time.Minute},     // no overflow
		{4, 20 * time.Second, 0}, // waited long enough
		{60, time.Hour, 0},       // forgotten
	}
	for _, c := range cases {
		if got := b.Wait(c.n, t0, t0.Add(c.since)); got != c.want {
			t.Errorf("Wait(%d failures, %s later) = %s, want %s", c.n, c.since, got, c.want)
		}
	}
}

// TestConsoleSignInThrottle (issue 13, item 5): a stranger failing on an
// administrator's email is slowed down with a growing backoff from their
// address, while the administrator, from theirs, signs in with the right
// password at once.
func TestConsoleSignInThrottle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.user("admin@corp.example", parrain.UserRoleOwner)
		const stranger, home = "203.0.113.66", "198.51.100.7"
		fail := func(ip string) error {
			_, _, _, err := e.acc.SignIn(ctx, admin.Email, "guess guess guess", ip, "")
			return err
		}
		free := access.DefaultConsoleThrottle.PerSource.Free
		for i := range free {
			if err := fail(stranger); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		// Throttled now: even the right password is not checked from there.
		_, _, _, err := e.acc.SignIn(ctx, admin.Email, pw, stranger, "")
		first := access.RetryAfter(err)
		if parrain.ErrorCode(err) != parrain.CodeRateLimited || first != access.DefaultConsoleThrottle.PerSource.Base {
			t.Fatalf("throttled stranger: %v (retry after %s)", err, first)
		}
		// The administrator is not locked out.
		if _, _, u, err := e.acc.SignIn(ctx, "Admin@Corp.example", pw, home, "Firefox"); err != nil || u.ID != admin.ID {
			t.Fatalf("the administrator from home: %+v %v", u, err)
		}
		// The stranger's wait grows with each failure after it.
		e.Clock.Advance(first)
		if err := fail(stranger); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("guess after waiting: %v", err)
		}
		if err := fail(stranger); access.RetryAfter(err) != 2*first {
			t.Fatalf("second wait: %v %s", err, access.RetryAfter(err))
		}
		// Nor is the administrator locked out after it, and their success
		// does not clear the stranger's count.
		if _, _, _, err := e.acc.SignIn(ctx, admin.Email, pw, home, ""); err != nil {
			t.Fatalf("the administrator again: %v", err)
		}
		if err := fail(stranger); parrain.ErrorCode(err) != parrain.CodeRateLimited {
			t.Fatalf("the stranger after the administrator's success: %v", err)
		}
		// Per address: guessing across many accounts from one address is
		// throttled too, also on an account it never tried.
		spray := "203.0.113.99"
		perIP := access.DefaultConsoleThrottle.PerAddress.Free
		for i := range perIP {
			_, _, _, err := e.acc.SignIn(ctx, "user"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@corp.example", "guess guess guess", spray, "")
			if parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Fatalf("spray %d: %v", i, err)
			}
		}
		if _, _, _, err := e.acc.SignIn(ctx, admin.Email, pw, spray, ""); parrain.ErrorCode(err) != parrain.CodeRateLimited {
			t.Fatalf("sprayer on a fresh account: %v", err)
		}
		// Counters store neither emails nor addresses.
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM sign_in_failures WHERE key LIKE '%corp.example%' OR key LIKE '%203.0.113%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("clear keys stored: %d %v", n, err)
		}
		// The administrator's successes were audited from home.
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: store.AuditSignIn}, store.Page{})
		if err != nil || len(log) != 2 || log[0].UserID != admin.ID || log[0].IP != home {
			t.Fatalf("sign-in audit %+v %v", log, err)
		}
	})
}

// partnerEnv adds a partner program with an active partner.
func (e *env) partner(email string) (parrain.Program, parrain.Partner) {
	e.T.Helper()
	ps := partner.New(e.St, e.Clock, e.Ref)
	prog := e.Program(func(p *parrain.Program) { p.Name = "Acme partners" })
	if _, err := ps.PutProgram(ctx, prog.ID, parrain.PartnerSettings{Slug: "acme"}, []parrain.Tier{{Key: "basic", Name: "Basic"}}); err != nil {
		e.T.Fatal(err)
	}
	p, _, err := ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: email, Name: "Alice"}, partner.SourceInvite, store.Idem{})
	if err != nil || p.Status != parrain.PartnerActive {
		e.T.Fatalf("partner: %+v %v", p, err)
	}
	return prog, p
}

// TestPartnerSignIn (issue 13, item 4): per account and source, per
// account and per address with a backoff; unknown emails cost a hash like
// known ones; changing a password needs the current one and ends the other
// sessions.
func TestPartnerSignIn(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, alice := e.partner("alice@advisors.example")
		if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, pw, "192.0.2.1"); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("no password set yet: %v", err)
		}
		first, err := e.acc.StartPartnerSession(ctx, alice.ID) // by magic link
		if err != nil {
			t.Fatal(err)
		}
		if err := e.acc.SetPartnerPassword(ctx, alice.ID, first.Token, "", pw); err != nil {
			t.Fatalf("first password: %v", err)
		}
		other, err := e.acc.PartnerSignIn(ctx, prog.ID, "ALICE@advisors.example", pw, "192.0.2.2")
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		// Changing it needs the current one…
		if err := e.acc.SetPartnerPassword(ctx, alice.ID, first.Token, "not the password", "a brand new secret"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "current" {
			t.Fatalf("change without the current password: %v", err)
		}
		if err := e.acc.SetPartnerPassword(ctx, alice.ID, first.Token, pw, "short"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "password" {
			t.Fatalf("short password: %v", err)
		}
		// …and signs the other sessions out, not this one.
		if err := e.acc.SetPartnerPassword(ctx, alice.ID, first.Token, pw, "a brand new secret"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.acc.PartnerSessionOf(ctx, other.Token); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("the other session survived: %v", err)
		}
		if id, _, err := e.acc.PartnerSessionOf(ctx, first.Token); err != nil || id != alice.ID {
			t.Fatalf("the changing session ended: %v", err)
		}
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: store.AuditPartnerPassword}, store.Page{})
		if err != nil || len(log) != 2 || log[0].Details["sessions_ended"] != float64(1) || log[0].Details["changed"] != true {
			t.Fatalf("password audit %+v %v", log, err)
		}
		const newPW = "a brand new secret"

		// Per account and source: five guesses from one address, then a wait.
		for range access.DefaultPortalThrottle.PerSource.Free {
			if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, "guess guess guess", "203.0.113.1"); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Fatal(err)
			}
		}
		if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, newPW, "203.0.113.1"); parrain.ErrorCode(err) != parrain.CodeRateLimited {
			t.Fatalf("throttled source: %v", err)
		}
		if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, newPW, "192.0.2.3"); err != nil {
			t.Fatalf("alice from elsewhere: %v", err)
		}
		// Per account: guesses spread over many addresses slow the account
		// down (Alice can still use a magic link).
		for i := range access.DefaultPortalThrottle.PerAccount.Free {
			ip := "198.51.100." + string(rune('0'+i/10)) + string(rune('0'+i%10))
			if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, "guess guess guess", ip); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Fatalf("guess from %s: %v", ip, err)
			}
		}
		_, err = e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, newPW, "192.0.2.4")
		if parrain.ErrorCode(err) != parrain.CodeRateLimited || access.RetryAfter(err) != access.DefaultPortalThrottle.PerAccount.Base {
			t.Fatalf("account throttled: %v", err)
		}
		e.Clock.Advance(access.RetryAfter(err))
		if _, err := e.acc.PartnerSignIn(ctx, prog.ID, alice.Email, newPW, "192.0.2.4"); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

// TestPartnerSignInTiming: an unknown email costs one password hash, like
// a wrong password on a known one, so timing does not tell them apart.
func TestPartnerSignInTiming(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, alice := e.partner("alice@advisors.example")
		s, err := e.acc.StartPartnerSession(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.acc.SetPartnerPassword(ctx, alice.ID, s.Token, "", pw); err != nil {
			t.Fatal(err)
		}
		median := func(email string) time.Duration {
			var ds []time.Duration
			for i := range 5 {
				start := time.Now()
				_, err := e.acc.PartnerSignIn(ctx, prog.ID, email, "wrong password!", "192.0.2."+string(rune('1'+i)))
				ds = append(ds, time.Since(start))
				if parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
					t.Fatalf("%s: %v", email, err)
				}
			}
			slices.Sort(ds)
			return ds[2]
		}
		median(alice.Email) // warm up (the dummy hash is made on first use)
		known, unknown := median(alice.Email), median("nobody@nowhere.example")
		// A hash takes tens of milliseconds; a database lookup alone well
		// under one.
		if unknown < known/2 {
			t.Fatalf("unknown email answered in %s, a known one in %s: timing tells them apart", unknown, known)
		}
	})
}

// TestMagicLinkLimit (issue 13, item 4): at most three links an hour per
// partner, and the same answer whether the email is known or not.
func TestMagicLinkLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, alice := e.partner("alice@advisors.example")
		var links []string
		mail := func(tok string) (string, smtp.Message) {
			links = append(links, tok)
			return "http://x/" + tok, smtp.Message{}
		}
		for i := range 5 {
			if err := e.acc.SendMagicLink(ctx, prog.ID, "Alice@Advisors.example", mail); err != nil {
				t.Fatalf("link %d: %v", i+1, err)
			}
			if err := e.acc.SendMagicLink(ctx, prog.ID, "nobody@nowhere.example", mail); err != nil {
				t.Fatalf("unknown email %d: %v", i+1, err)
			}
		}
		count := func() int {
			t.Helper()
			var n int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM partner_magic_links WHERE partner_id = $1`, alice.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if len(links) != 3 || count() != 3 {
			t.Fatalf("links made %d, stored %d: want 3", len(links), count())
		}
		// Each still works once.
		if _, err := e.acc.ConsumeMagicLink(ctx, prog.ID, links[2]); err != nil {
			t.Fatalf("third link: %v", err)
		}
		if _, err := e.acc.ConsumeMagicLink(ctx, prog.ID, links[2]); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("reused link: %v", err)
		}
		e.Clock.Advance(time.Hour + time.Second)
		if err := e.acc.SendMagicLink(ctx, prog.ID, alice.Email, mail); err != nil || len(links) != 4 || count() != 4 {
			t.Fatalf("an hour later: %d links %v", len(links), err)
		}
		// An expired link does not work.
		e.Clock.Advance(access.MagicLinkTTL)
		if _, err := e.acc.ConsumeMagicLink(ctx, prog.ID, links[3]); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("expired link: %v", err)
		}
	})
}
