package app

import (
	"strings"
	"testing"
	"time"
)

func TestParseServeEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.PublicRate != 20 || c.PublicBurst != 60 || c.TrustProxy || c.Demo || c.PayoutCoolingOff == nil || *c.PayoutCoolingOff != 72*time.Hour {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "typed values", env: map[string]string{
			"PARRAIN_PUBLIC_RATE": "5.5", "PARRAIN_PUBLIC_BURST": "7", "PARRAIN_TRUST_PROXY": "true",
			"PARRAIN_STRIPE_WEBHOOK_TOLERANCE": "90s",
		}, check: func(t *testing.T, c Config) {
			if c.PublicRate != 5.5 || c.PublicBurst != 7 || !c.TrustProxy || c.Integrations.StripeTolerance != 90*time.Second {
				t.Errorf("parsed: %+v", c)
			}
		}},
		{name: "bad bool", env: map[string]string{"PARRAIN_TRUST_PROXY": "yes please"}, wantErr: "PARRAIN_TRUST_PROXY"},
		{name: "bad int", env: map[string]string{"PARRAIN_PUBLIC_BURST": "sixty"}, wantErr: "PARRAIN_PUBLIC_BURST"},
		{name: "bad float", env: map[string]string{"PARRAIN_PUBLIC_RATE": "fast"}, wantErr: "PARRAIN_PUBLIC_RATE"},
		{name: "bad duration", env: map[string]string{"PARRAIN_STRIPE_WEBHOOK_TOLERANCE": "5"}, wantErr: "PARRAIN_STRIPE_WEBHOOK_TOLERANCE"},
		{name: "no payout cooling-off", env: map[string]string{"PARRAIN_PAYOUT_COOLING_OFF": "0s"}, check: func(t *testing.T, c Config) {
			if c.PayoutCoolingOff == nil || *c.PayoutCoolingOff != 0 {
				t.Errorf("cooling-off %v", c.PayoutCoolingOff)
			}
		}},
		{name: "bad cooling-off", env: map[string]string{"PARRAIN_PAYOUT_COOLING_OFF": "3 days"}, wantErr: "PARRAIN_PAYOUT_COOLING_OFF"},
		{name: "negative cooling-off", env: map[string]string{"PARRAIN_PAYOUT_COOLING_OFF": "-1h"}, wantErr: "payout-cooling-off"},
		{name: "bad smtp port", env: map[string]string{"PARRAIN_SMTP_PORT": "25a"}, wantErr: "PARRAIN_SMTP_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := ParseServe(nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
