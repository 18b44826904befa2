package app

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/inbound"
	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/paypal"
	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/integration/stripe"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// IntegrationsConfig holds the payout providers' and integrations'
// credentials (docs/payouts.md, docs/integrations.md). Empty credentials
// leave a provider unconfigured.
type IntegrationsConfig struct {
	StripeSecretKey     string        // platform secret key for Transfers
	StripeAPIURL        string        // Stripe API base URL (stripe-mock in tests)
	StripeWebhookSecret string        // whsec_… of the /webhooks/stripe endpoint
	StripeTolerance     time.Duration // accepted age of a Stripe signature
	StripeProgram       string        // program of Stripe events without parrain_program_id metadata

	PayPalClientID string
	PayPalSecret   string
	PayPalAPIURL   string // https://api-m.paypal.com, https://api-m.sandbox.paypal.com or "sandbox"

	ShopifyWebhookSecret string // the app's client secret (or the shop's webhook signing secret)
	ShopifyProgram       string // program of Shopify orders without a referral code

	HubSpotToken  string // private app access token
	HubSpotAPIURL string

	SalesforceLoginURL     string // My Domain or login.salesforce.com
	SalesforceClientID     string
	SalesforceClientSecret string
	SalesforceAPIVersion   string

	// WebhooksAllowPrivate lets outgoing webhooks reach loopback and private
	// addresses, and plain http (development only).
	WebhooksAllowPrivate bool
}

// integrationFlags registers the integration flags on the serve command.
func integrationFlags(fs *flag.FlagSet, ev *envParser, c *IntegrationsConfig) {
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", env("PARRAIN_STRIPE_SECRET_KEY", ""), "Stripe secret key for payout transfers; prefer the PARRAIN_STRIPE_SECRET_KEY variable")
	fs.StringVar(&c.StripeAPIURL, "stripe-api-url", env("PARRAIN_STRIPE_API_URL", stripe.DefaultAPIURL), "Stripe API base URL (PARRAIN_STRIPE_API_URL)")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", env("PARRAIN_STRIPE_WEBHOOK_SECRET", ""), "signing secret (whsec_…) of the Stripe endpoint /webhooks/stripe (PARRAIN_STRIPE_WEBHOOK_SECRET)")
	tol := ev.Duration("PARRAIN_STRIPE_WEBHOOK_TOLERANCE", 5*time.Minute)
	fs.DurationVar(&c.StripeTolerance, "stripe-webhook-tolerance", tol, "accepted age of a Stripe-Signature timestamp (PARRAIN_STRIPE_WEBHOOK_TOLERANCE)")
	fs.StringVar(&c.StripeProgram, "stripe-program", env("PARRAIN_STRIPE_PROGRAM", ""), "program of Stripe events without parrain_program_id metadata (PARRAIN_STRIPE_PROGRAM; default: the only program)")
	fs.StringVar(&c.PayPalClientID, "paypal-client-id", env("PARRAIN_PAYPAL_CLIENT_ID", ""), "PayPal REST app client id for payouts (PARRAIN_PAYPAL_CLIENT_ID)")
	fs.StringVar(&c.PayPalSecret, "paypal-secret", env("PARRAIN_PAYPAL_SECRET", ""), "PayPal REST app secret; prefer the PARRAIN_PAYPAL_SECRET variable")
	fs.StringVar(&c.PayPalAPIURL, "paypal-api-url", env("PARRAIN_PAYPAL_API_URL", paypal.LiveURL), `PayPal API base URL, or "sandbox" (PARRAIN_PAYPAL_API_URL)`)
	fs.StringVar(&c.ShopifyWebhookSecret, "shopify-webhook-secret", env("PARRAIN_SHOPIFY_WEBHOOK_SECRET", ""), "secret signing Shopify webhooks to /webhooks/shopify (PARRAIN_SHOPIFY_WEBHOOK_SECRET)")
	fs.StringVar(&c.ShopifyProgram, "shopify-program", env("PARRAIN_SHOPIFY_PROGRAM", ""), "program of Shopify orders without a referral code (PARRAIN_SHOPIFY_PROGRAM; default: the only program)")
	fs.StringVar(&c.HubSpotToken, "hubspot-token", env("PARRAIN_HUBSPOT_TOKEN", ""), "HubSpot private app access token for CRM sync; prefer the PARRAIN_HUBSPOT_TOKEN variable")
	fs.StringVar(&c.HubSpotAPIURL, "hubspot-api-url", env("PARRAIN_HUBSPOT_API_URL", hubspot.DefaultAPIURL), "HubSpot API base URL (PARRAIN_HUBSPOT_API_URL)")
	fs.StringVar(&c.SalesforceLoginURL, "salesforce-login-url", env("PARRAIN_SALESFORCE_LOGIN_URL", ""), "Salesforce My Domain URL, e.g. https://acme.my.salesforce.com (PARRAIN_SALESFORCE_LOGIN_URL)")
	fs.StringVar(&c.SalesforceClientID, "salesforce-client-id", env("PARRAIN_SALESFORCE_CLIENT_ID", ""), "Salesforce connected app consumer key (PARRAIN_SALESFORCE_CLIENT_ID)")
	fs.StringVar(&c.SalesforceClientSecret, "salesforce-client-secret", env("PARRAIN_SALESFORCE_CLIENT_SECRET", ""), "Salesforce connected app consumer secret; prefer the PARRAIN_SALESFORCE_CLIENT_SECRET variable")
	fs.StringVar(&c.SalesforceAPIVersion, "salesforce-api-version", env("PARRAIN_SALESFORCE_API_VERSION", salesforce.DefaultAPIVersion), "Salesforce REST API version (PARRAIN_SALESFORCE_API_VERSION)")
	private := ev.Bool("PARRAIN_WEBHOOKS_ALLOW_PRIVATE", false)
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", private, "let outgoing webhooks reach loopback and private addresses over http; development only (PARRAIN_WEBHOOKS_ALLOW_PRIVATE)")
}

// validate checks the integration settings after parsing.
func (c *IntegrationsConfig) validate() error {
	if strings.EqualFold(c.PayPalAPIURL, "sandbox") {
		c.PayPalAPIURL = paypal.SandboxURL
	}
	if (c.PayPalClientID == "") != (c.PayPalSecret == "") {
		return fmt.Errorf("PayPal needs both --paypal-client-id and --paypal-secret")
	}
	if c.SalesforceClientID != "" && (c.SalesforceClientSecret == "" || c.SalesforceLoginURL == "") {
		return fmt.Errorf("the Salesforce integration needs --salesforce-login-url, --salesforce-client-id and --salesforce-client-secret")
	}
	if c.StripeSecretKey != "" && !strings.HasPrefix(c.StripeSecretKey, "sk_") && !strings.HasPrefix(c.StripeSecretKey, "rk_") {
		return fmt.Errorf("--stripe-secret-key must be a secret (sk_…) or restricted (rk_…) key")
	}
	return nil
}

// payoutConfig is the payout providers' clients the configuration sets.
func payoutConfig(c IntegrationsConfig) payout.Config {
	pc := payout.Config{}
	if c.StripeSecretKey != "" {
		pc.Stripe = stripe.New(stripe.Config{SecretKey: c.StripeSecretKey, APIURL: c.StripeAPIURL})
	}
	if c.PayPalClientID != "" {
		pc.PayPal = paypal.New(paypal.Config{ClientID: c.PayPalClientID, Secret: c.PayPalSecret, APIURL: c.PayPalAPIURL})
	}
	return pc
}

// wireIntegrations builds the payout, outgoing webhook, CRM and inbound
// webhook services from the configuration and registers their jobs.
func (m *Main) wireIntegrations() error {
	c := m.cfg.Integrations
	if err := c.validate(); err != nil {
		return err
	}
	var hs *hubspot.Client
	if c.HubSpotToken != "" {
		hs = hubspot.New(hubspot.Config{Token: c.HubSpotToken, APIURL: c.HubSpotAPIURL})
	}
	var sf *salesforce.Client
	if c.SalesforceClientID != "" {
		sf = salesforce.New(salesforce.Config{LoginURL: c.SalesforceLoginURL, ClientID: c.SalesforceClientID, ClientSecret: c.SalesforceClientSecret,
			APIVersion: c.SalesforceAPIVersion})
	}
	m.crm = crm.New(m.st, m.log, hs, sf)
	m.crm.OnDealStage = m.moveDealFromCRM
	m.payouts.RegisterJobs(m.runner)
	outbound.New(m.st, m.log, c.WebhooksAllowPrivate).RegisterJobs(m.runner)
	m.crm.RegisterJobs(m.runner)
	// Reward fulfilment webhooks follow the same private-address setting.
	m.ref.RegisterJobs(m.runner, webhook.NewClient(c.WebhooksAllowPrivate))
	in := inbound.New(m.st, m.ref, m.log, inbound.Config{StripeSecret: c.StripeWebhookSecret, StripeTolerance: c.StripeTolerance, StripeProgram: c.StripeProgram,
		ShopifySecret: c.ShopifyWebhookSecret, ShopifyProgram: c.ShopifyProgram})
	m.hooks = m.api.Integrations(in, m.webhooks, c.WebhooksAllowPrivate)
	return nil
}

// moveDealFromCRM moves a partner lead's deal to the stage its CRM deal
// reached: the connection's stage_map names the Parrain stage of a CRM
// stage, and an unmapped stage is tried as it is.
func (m *Main) moveDealFromCRM(ctx context.Context, ch store.DealStageChange, conn parrain.CRMConnection) error {
	stage := ch.Stage
	if mapped, ok := conn.StageMap[ch.Stage]; ok {
		stage = mapped
	}
	_, _, err := m.partners.MoveDeal(ctx, ch.ProgramID, ch.LeadKey, partner.DealMove{Stage: stage, Source: "crm", Actor: string(conn.Provider)}, store.Idem{})
	return err
}
