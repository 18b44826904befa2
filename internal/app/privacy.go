package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/privacy"
)

// periodFlag is a retention period: whole days ("30d", "30") or a Go
// duration ("720h"); 0 keeps forever.
type periodFlag struct{ d *time.Duration }

func (p periodFlag) String() string {
	if p.d == nil {
		return ""
	}
	if *p.d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(*p.d/(24*time.Hour)), 10) + "d"
	}
	return p.d.String()
}

func (p periodFlag) Set(v string) error {
	d, err := parsePeriod(v)
	if err != nil {
		return err
	}
	*p.d = d
	return nil
}

func parsePeriod(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil {
		if n < 0 {
			return 0, errors.New("a period cannot be negative")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("expected days (30d) or a duration (720h): %w", err)
	}
	if d < 0 {
		return 0, errors.New("a period cannot be negative")
	}
	return d, nil
}

// privacyFlags declares the retention periods and the evidence period
// (docs/privacy.md), defaulting to privacy.DefaultConfig.
func privacyFlags(fs *flag.FlagSet, ev *envParser, c *privacy.Config) {
	*c = privacy.DefaultConfig()
	for _, f := range []struct {
		name, env, help string
		d               *time.Duration
	}{
		{"retain-raw-payloads", "PARRAIN_RETAIN_RAW_PAYLOADS", "how long inbound provider payloads, stored API answers and finished jobs are kept", &c.Retention.RawPayloads},
		{"retain-click-ips", "PARRAIN_RETAIN_CLICK_IPS", "how long clicks' raw IP and user agent are kept", &c.Retention.ClickIPs},
		{"retain-email-bodies", "PARRAIN_RETAIN_EMAIL_BODIES", "how long the subject and bodies of sent emails are kept", &c.Retention.EmailBodies},
		{"retain-webhook-bodies", "PARRAIN_RETAIN_WEBHOOK_BODIES", "how long delivered webhook bodies and answers are kept", &c.Retention.WebhookBodies},
		{"privacy-evidence-days", "PARRAIN_PRIVACY_EVIDENCE_DAYS", "how long an erased person's hashed fraud evidence is kept", &c.Evidence},
	} {
		if v, ok := os.LookupEnv(f.env); ok && v != "" {
			d, err := parsePeriod(v)
			if err != nil {
				ev.fail(f.env, v, err)
			} else {
				*f.d = d
			}
		}
		fs.Var(periodFlag{f.d}, f.name, f.help+"; days (30d) or a duration, 0 = forever ("+f.env+"; docs/privacy.md)")
	}
}

// wirePrivacy prepares the personal-data use cases and their daily job.
func (m *Main) wirePrivacy() {
	m.privacy = privacy.New(m.st, m.log, m.cfg.Privacy)
	m.privacy.RegisterJobs(m.runner)
}

// personCmd is `parrain person export|erase`: the personal-data rights
// from the command line (docs/privacy.md).
func personCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("person: expected export or erase")
	}
	fs := flag.NewFlagSet("person "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	programID := fs.String("program", "", "the program id")
	externalID := fs.String("external-id", "", "the participant's external id (the customer's user id)")
	out := fs.String("out", "", "write the export to this file instead of stdout (export)")
	force := fs.Bool("force", false, "erase even when money is owed: it is forfeited, reversed in the ledger (erase)")
	var cfg privacy.Config
	ev := &envParser{}
	privacyFlags(fs, ev, &cfg)
	if err := ev.err(); err != nil {
		return err
	}
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	if *programID == "" || *externalID == "" {
		return fmt.Errorf("person %s: --program ID and --external-id X are required", args[0])
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := privacy.New(st, newLogger("text", stderr), cfg)
	switch args[0] {
	case "export":
		doc, err := svc.Export(ctx, *programID, *externalID)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if *out != "" {
			return os.WriteFile(*out, b, 0o600)
		}
		_, err = stdout.Write(b)
		return err
	case "erase":
		res, err := svc.Erase(ctx, *programID, *externalID, *force)
		if err != nil {
			if e := parrain.AsError(err); e != nil && e.Field == "force" {
				return fmt.Errorf("person erase: %s (--force)", e.Message)
			}
			return err
		}
		fmt.Fprintf(stdout, "erased %d record(s); %d hashed evidence value(s) kept until %s\n", len(res.Erased), res.EvidenceKept,
			res.EvidenceUntil.Format(time.DateOnly))
		for _, f := range res.Forfeited {
			fmt.Fprintf(stdout, "forfeited %s: %d pending, %d approved (minor units)\n", f.Currency, f.Pending, f.Approved)
		}
		return nil
	}
	return fmt.Errorf("person: unknown subcommand %q", args[0])
}
