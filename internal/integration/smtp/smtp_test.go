package smtp_test

import (
	"context"
	"net"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/integration/smtp/smtptest"
)

var ctx = context.Background()

func mailer(t *testing.T, s *smtptest.Server, mod func(*smtp.Config)) *smtp.Mailer {
	t.Helper()
	cfg := smtp.Config{Host: s.Host, Port: s.Port, TLS: smtp.TLSNone, From: "Acme Referrals <referrals@acme.example>"}
	if mod != nil {
		mod(&cfg)
	}
	m, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendMultipartWithUnsubscribeHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  smtptest.Options
		mod  func(*smtp.Config)
	}{
		{"plain", smtptest.Options{}, nil},
		{"starttls+auth", smtptest.Options{TLS: true, Username: "u", Password: "p4ss"}, func(c *smtp.Config) {
			c.TLS, c.Username, c.Password, c.InsecureSkipVerify = smtp.TLSStartTLS, "u", "p4ss", true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := smtptest.Start(t, tc.opt)
			m := mailer(t, s, tc.mod)
			err := m.Send(ctx, smtp.Message{To: "bob@example.org", Subject: "Votre récompense de 10,00 € est confirmée",
				Text: "Bonjour Bob,\n\nC'est confirmé.", HTML: "<p>Bonjour Bob,</p><p>C'est confirmé.</p>",
				MessageID: "msg_123@parrain.test", UnsubscribeURL: "https://refer.example/u/tok",
				Headers: map[string]string{"X-Parrain-Kind": "reward_approved"}})
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			got := msgs[0]
			if got.From != "referrals@acme.example" || len(got.To) != 1 || got.To[0] != "bob@example.org" {
				t.Errorf("envelope: %+v", got)
			}
			if tc.opt.TLS && (!got.TLS || got.Auth != "u") {
				t.Errorf("session not encrypted and authenticated: tls=%v auth=%q", got.TLS, got.Auth)
			}
			p, err := got.Parse()
			if err != nil {
				t.Fatal(err)
			}
			h := p.Header
			checks := map[string]string{
				"List-Unsubscribe":      "<https://refer.example/u/tok>",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
				"Message-Id":            "<msg_123@parrain.test>",
				"X-Parrain-Kind":        "reward_approved",
				"To":                    "<bob@example.org>",
			}
			for k, want := range checks {
				if v := h.Get(k); v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
			if !strings.Contains(h.Get("From"), "Acme Referrals") || !strings.Contains(h.Get("From"), "<referrals@acme.example>") {
				t.Errorf("From = %q", h.Get("From"))
			}
			if p.Subject() != "Votre récompense de 10,00 € est confirmée" {
				t.Errorf("Subject = %q", p.Subject())
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "multipart/alternative") {
				t.Errorf("Content-Type = %q", h.Get("Content-Type"))
			}
			if !strings.Contains(p.Text, "C'est confirmé.") || !strings.Contains(p.HTML, "<p>C'est confirmé.</p>") {
				t.Errorf("parts: text %q html %q", p.Text, p.HTML)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "u", Password: "right", Reject: func(to string) error {
		switch {
		case strings.HasPrefix(to, "gone@"):
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case strings.HasPrefix(to, "busy@"):
			return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	m := mailer(t, s, func(c *smtp.Config) { c.Username, c.Password = "u", "right" })
	msg := func(to string) smtp.Message { return smtp.Message{To: to, Subject: "s", Text: "t"} }
	if err := m.Send(ctx, msg("gone@example.org")); err == nil || !smtp.Permanent(err) {
		t.Errorf("550: %v permanent=%v", err, smtp.Permanent(err))
	}
	if err := m.Send(ctx, msg("busy@example.org")); err == nil || smtp.Permanent(err) {
		t.Errorf("451: %v permanent=%v", err, smtp.Permanent(err))
	}
	if err := m.Send(ctx, smtp.Message{To: "x@example.org", Subject: "two\r\nBcc: evil@example.org", Text: "t"}); err == nil || !smtp.Permanent(err) {
		t.Errorf("header injection: %v", err)
	}
	wrong := mailer(t, s, func(c *smtp.Config) { c.Username, c.Password = "u", "wrong" })
	if err := wrong.Send(ctx, msg("ok@example.org")); err == nil {
		t.Error("wrong password accepted")
	}
	if len(s.Messages()) != 0 {
		t.Errorf("%d messages accepted", len(s.Messages()))
	}
	// Nobody listening: a temporary failure.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	down, _ := smtp.New(smtp.Config{Host: "127.0.0.1", Port: port, TLS: smtp.TLSNone, From: "a@b.example"})
	if err := down.Send(ctx, msg("ok@example.org")); err == nil || smtp.Permanent(err) {
		t.Errorf("connection refused: %v permanent=%v", err, smtp.Permanent(err))
	}
	// A server without STARTTLS is refused in starttls mode.
	plain := mailer(t, s, func(c *smtp.Config) { c.TLS = smtp.TLSStartTLS })
	if err := plain.Send(ctx, msg("ok@example.org")); err == nil {
		t.Error("starttls mode sent without TLS")
	}
}

func TestConfig(t *testing.T) {
	bad := []smtp.Config{
		{From: "a@b.example"},
		{Host: "h", From: "not an address"},
		{Host: "h", From: "a@b.example", TLS: "ssl3"},
		{Host: "h", From: "a@b.example", Port: 70000},
		{Host: "h", From: "a@b.example", Password: "p"},
	}
	for _, c := range bad {
		if _, err := smtp.New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if m, err := smtp.New(smtp.Config{Host: "h", From: "Acme <a@b.example>"}); err != nil || m.From().Name != "Acme" {
		t.Errorf("default config: %v", err)
	}
}
