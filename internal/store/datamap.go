package store

import (
	"fmt"
	"sort"
	"strings"
)

// DataClass says what a column can hold about a person. The data map
// (DataMap, rendered into docs/privacy.md) gives one class to every column
// of every table; a test fails when the live schema has a column the map
// does not classify, so the map cannot go stale.
type DataClass string

// Data classes, from most to least sensitive.
const (
	// ClassPersonal is direct personal data: an email, a name, the
	// customer's user id, an IP address, a user agent, bank details, text a
	// person typed. Erasure blanks or pseudonymises it.
	ClassPersonal DataClass = "personal"
	// ClassText is JSON or free text that may hold copies of personal data
	// (event payloads, stored API answers, job arguments, webhook bodies,
	// email bodies, audit details). Erasure searches it for the erased
	// person's identifiers and redacts every occurrence.
	ClassText DataClass = "text"
	// ClassHashed is a keyed hash of personal data (an IP, a token): not
	// reversible without the installation secret and a guess.
	ClassHashed DataClass = "hashed"
	// ClassID is a pseudonymous reference: Parrain's own ids and referral
	// codes. An erased participant's row stays as a tombstone so these
	// references (the ledger's among them) keep pointing somewhere.
	ClassID DataClass = "id"
	// ClassStaff is about console users and the installation's staff, or
	// written by them (a reviewer's email in a ledger memo), not about
	// advocates, friends or partners.
	ClassStaff DataClass = "staff"
	// ClassNone holds no personal data: amounts, states, timestamps,
	// settings.
	ClassNone DataClass = "none"
)

// TableMap is one table of the data map.
type TableMap struct {
	Table string
	// Purpose says why the table exists; Retention how long its rows are
	// kept; Export and Erasure what those rights do to it.
	Purpose, Retention, Export, Erasure string
	// Of selects the rows about one person for the export, in SQL with the
	// parameters :p (the participant's id), :email (their canonical email)
	// and :partner (their partner id, or ''). Empty: not exported (copies
	// of exported data, or nobody's data).
	Of string
	// Columns lists the columns by class, space separated.
	Personal, Text, Hashed, ID, Staff, None string
	// NoSweep keeps erasure's search-and-redact out of the table: the
	// append-only ledger (its rows reference people by id only) and the
	// console's own users.
	NoSweep bool
}

// Columns returns every column of the table with its class.
func (t TableMap) Columns() map[string]DataClass {
	out := map[string]DataClass{}
	for _, g := range []struct {
		c    DataClass
		list string
	}{{ClassPersonal, t.Personal}, {ClassText, t.Text}, {ClassHashed, t.Hashed}, {ClassID, t.ID}, {ClassStaff, t.Staff}, {ClassNone, t.None}} {
		for _, col := range strings.Fields(g.list) {
			out[col] = g.c
		}
	}
	return out
}

// Retention wording shared by several tables.
const (
	keptWhileProgram = "as long as the program exists"
	copiesNotExport  = "not exported: copies of what the export already contains"
)

// DataMap is the data map: every table and column Parrain stores, what it
// holds about people, why, for how long, and what export and erasure do to
// it. docs/privacy.md shows it (TestDataMapDoc keeps the two equal) and
// erasure sweeps every personal and text column it lists.
var DataMap = []TableMap{
	{Table: "participants", Purpose: "advocates, friends and partners as the customer identifies them", Retention: keptWhileProgram,
		Export: "the profile", Erasure: "tombstone: email, name, locale, attributes blanked; external id and code replaced by random values; status erased",
		Of: "id = :p", Personal: "external_id email email_canonical name locale", Text: "attributes", ID: "id program_id code",
		None: "status created_at updated_at do_not_sell erased_at"},
	{Table: "participant_traits", Purpose: "IPs, devices, payment fingerprints, addresses and user agents seen, for fraud checks", Retention: keptWhileProgram,
		Export: "listed", Erasure: "deleted; their keyed hashes move to erased_evidence", Of: "participant_id = :p",
		Personal: "value", ID: "participant_id program_id", None: "kind first_seen last_seen"},
	{Table: "participant_name_keys", Purpose: "refer-by-name index", Retention: keptWhileProgram, Export: "not exported: derived from the name",
		Erasure: "deleted", Personal: "name_key name_src", ID: "participant_id program_id"},
	{Table: "erased_evidence", Purpose: "keyed hashes of an erased person's email, IPs, devices, payment fingerprints, addresses and user agents (fraud defence)",
		Retention: "the evidence period (--privacy-evidence-days, default 365 days), then deleted by the daily retention job",
		Export:    "not exported: not readable", Erasure: "kept until it expires", Hashed: "value_hash", ID: "id program_id participant_id",
		None: "kind created_at expires_at"},
	{Table: "clicks", Purpose: "clicks on referral links: attribution and fraud checks", Retention: "raw IP and user agent: --retain-click-ips (default 30 days); rows: as long as the program exists",
		Export: "not exported: the visitors' data, not the advocate's", Erasure: "the erased advocate's old code replaced; the erased person's own IP and user agent redacted wherever found",
		Personal: "ip user_agent referer", Text: "params", Hashed: "ip_hash", ID: "id program_id participant_id code", None: "valid created_at automated"},
	{Table: "events", Purpose: "the customer's events (signups, purchases, …) as received", Retention: "as long as the program exists (replays and dry runs re-read them)",
		Export: "the person's events and their referrals' events", Erasure: "payload searched and redacted",
		Of:   "participant_id = :p OR referral_id IN (SELECT id FROM referrals WHERE advocate_id = :p OR friend_id = :p)",
		Text: "payload", ID: "id program_id participant_id referral_id", None: "type occurred_at created_at"},
	{Table: "referrals", Purpose: "who referred whom", Retention: keptWhileProgram, Export: "both directions (as advocate and as friend)",
		Erasure: "kept (the other party's rewards depend on it); the erased advocate's old code replaced; text fields searched and redacted",
		Of:      "advocate_id = :p OR friend_id = :p", Text: "reason risk_signals", ID: "id program_id advocate_id friend_id code",
		None: "status via clicked_at signed_up_at converted_at created_at risk_score risk_action review_status review_deadline succeeded_at cancelled_at voided_at"},
	{Table: "referral_stages", Purpose: "stages each referral reached", Retention: keptWhileProgram, Export: "with the referrals",
		Of: "referral_id IN (SELECT id FROM referrals WHERE advocate_id = :p OR friend_id = :p)", Erasure: "kept (no personal data)",
		ID: "referral_id program_id event_id", None: "stage value currency occurred_at created_at"},
	{Table: "purchases", Purpose: "purchases the rewards are computed from", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "kept (amounts); references the tombstone", ID: "id program_id participant_id referral_id order_id event_id",
		None: "amount currency refunded occurred_at created_at"},
	{Table: "refunds", Purpose: "refunds of purchases", Retention: keptWhileProgram, Export: "listed",
		Of: "purchase_id IN (SELECT id FROM purchases WHERE participant_id = :p)", Erasure: "kept (amounts)",
		ID: "id program_id purchase_id event_id", None: "amount created_at"},
	{Table: "rewards", Purpose: "rewards granted", Retention: keptWhileProgram, Export: "listed with their ledger entries", Of: "participant_id = :p",
		Erasure: "kept (money); pending and approved ones forfeited only when erasure is forced; text fields searched and redacted",
		Text:    "description explanation review_reason details", ID: "id program_id participant_id referral_id purchase_id event_id rule_id",
		None: "rule_version role trigger_type kind amount_type amount currency reversed status hold_until approved_at created_at updated_at occurred_at stage rate_bps base_amount base_currency fx_rate review void_reason"},
	{Table: "ledger_entries", Purpose: "the append-only ledger of every movement of money", Retention: "forever (accounting)",
		Export: "listed", Of: "participant_id = :p",
		Erasure: "never changed (append-only): rows reference the tombstone by id only; a forced erasure appends the reversal of what is forfeited",
		ID:      "id program_id participant_id reward_id", Staff: "memo", None: "type bucket amount currency created_at", NoSweep: true},
	{Table: "reward_fulfilments", Purpose: "delivery of non-cash rewards", Retention: keptWhileProgram, Export: "listed",
		Of: "reward_id IN (SELECT id FROM rewards WHERE participant_id = :p)", Erasure: "kept; text searched and redacted",
		Text: "last_error", ID: "reward_id program_id code", None: "kind status pool feature days attempts fulfilled_at created_at updated_at"},
	{Table: "coupon_codes", Purpose: "code pools", Retention: keptWhileProgram, Export: "through the fulfilments", Erasure: "kept",
		ID: "id pool_id program_id code reward_id", None: "assigned_at created_at"},
	{Table: "coupon_pools", Purpose: "code pools", Retention: keptWhileProgram, Export: "-", Erasure: "-",
		ID: "id program_id", None: "name generate_prefix generate_length low_water created_at"},
	{Table: "contests", Purpose: "contests", Retention: keptWhileProgram, Export: "-", Erasure: "-", ID: "id program_id", None: "document starts_at ends_at finished_at created_at"},
	{Table: "contest_winners", Purpose: "contest winners", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "kept; references the tombstone", ID: "contest_id participant_id reward_id", None: "rank score"},
	{Table: "terms_acceptances", Purpose: "proof the participant accepted the terms", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "kept; references the tombstone", ID: "id program_id participant_id", None: "terms_version accepted_at"},
	{Table: "fraud_reviews", Purpose: "fraud decisions and their signals", Retention: keptWhileProgram, Export: "listed with the referrals",
		Of: "referral_id IN (SELECT id FROM referrals WHERE advocate_id = :p OR friend_id = :p)", Erasure: "kept; text searched and redacted",
		Text: "reason signals", Staff: "reviewer", ID: "id program_id referral_id", None: "decision score created_at"},
	{Table: "shares", Purpose: "share buttons used (KPI)", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "kept (no personal data)", ID: "id program_id participant_id", None: "channel created_at"},
	{Table: "invites", Purpose: "email invitations an advocate typed", Retention: keptWhileProgram,
		Export: "those they sent and those addressed to them", Of: "participant_id = :p OR email_canonical = :email",
		Erasure: "deleted (sent by them, or addressed to them)", Personal: "email email_canonical note", ID: "id program_id participant_id",
		None: "locale created_at"},
	{Table: "consents", Purpose: "contact consent with its wording and version", Retention: keptWhileProgram, Export: "listed with wording and version",
		Of: "participant_id = :p", Erasure: "kept as the record of what was consented; the hashed IP blanked",
		Text: "wording", Hashed: "ip_hash", ID: "id program_id participant_id code", None: "granted wording_version locale source created_at"},
	{Table: "unsubscribes", Purpose: "addresses that unsubscribed", Retention: keptWhileProgram, Export: "listed", Of: "email_canonical = :email",
		Erasure: "deleted (the erased person gets no email anyway)", Personal: "email_canonical", ID: "program_id", None: "source created_at"},
	{Table: "notifications", Purpose: "the in-app notification feed", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "deleted", Text: "data", ID: "id program_id participant_id dedupe_key", None: "kind read_at created_at"},
	{Table: "email_messages", Purpose: "every email composed, as sent", Retention: "bodies: --retain-email-bodies (default 90 days); rows: as long as the program exists",
		Export: "listed (emails sent to them)", Of: "participant_id = :p OR to_canonical = :email",
		Erasure:  "address, subject and bodies blanked; a queued one is suppressed",
		Personal: "to_email to_canonical", Text: "subject text_body html_body unsubscribe_url error", ID: "id program_id participant_id dedupe_key",
		None: "kind locale status attempts created_at sent_at"},
	{Table: "moment_trigger_state", Purpose: "trigger cooldowns", Retention: keptWhileProgram, Export: "-", Erasure: "deleted",
		ID: "trigger_id participant_id", None: "last_fired_at"},
	{Table: "moment_firings", Purpose: "trigger firings and their effects", Retention: keptWhileProgram, Export: "listed", Of: "participant_id = :p",
		Erasure: "kept; effects searched and redacted", Text: "effects", ID: "id trigger_id program_id participant_id event_id", None: "created_at"},
	{Table: "payout_accounts", Purpose: "where a participant is paid", Retention: "until changed or deleted", Export: "the account, bank details in full",
		Of: "participant_id = :p", Erasure: "deleted", Personal: "stripe_account paypal_email bank", ID: "participant_id program_id",
		None: "method created_at updated_at"},
	{Table: "payouts", Purpose: "payments made", Retention: "forever (accounting)", Export: "listed",
		Of: "participant_id = :p", Erasure: "kept (amounts); destination and bank details blanked; an open payout blocks erasure",
		Personal: "destination bank", Text: "failure_reason last_error provider_status", ID: "id batch_id program_id participant_id idempotency_key provider_ref",
		None: "method amount currency status attempts sent_at paid_at failed_at created_at updated_at"},
	{Table: "payout_items", Purpose: "rewards a payout settles", Retention: "forever (accounting)", Export: "listed with the payouts",
		Of: "payout_id IN (SELECT id FROM payouts WHERE participant_id = :p)", Erasure: "kept", ID: "payout_id reward_id", None: "amount planned status"},
	{Table: "payout_batches", Purpose: "payout runs", Retention: "forever (accounting)", Export: "-", Erasure: "skips searched and redacted",
		Text: "skipped", Staff: "approved_by", ID: "id program_id", None: "status trigger_type scheduled_for payout_count totals approved_at created_at updated_at"},
	{Table: "payout_settings", Purpose: "payout policy", Retention: keptWhileProgram, Export: "-", Erasure: "-",
		ID: "program_id", None: "schedule day hour minimum_amount auto_approve_limit next_run_at updated_at"},
	{Table: "inbound_events", Purpose: "provider webhooks received (Stripe, Shopify)", Retention: "payload: --retain-raw-payloads (default 365 days), then blanked (it is kept only while the event waits for what it refers to)",
		Export: copiesNotExport, Erasure: "payload and detail searched and redacted", Text: "payload detail", ID: "provider event_id program_id",
		None: "type status received_at processed_at"},
	{Table: "inbound_waits", Purpose: "provider events waiting for what they refer to", Retention: "until processed", Export: "-", Erasure: "-",
		ID: "provider ref event_id"},
	{Table: "provider_links", Purpose: "provider customers and charges linked to participants and orders", Retention: keptWhileProgram,
		Export: "listed", Of: "participant_id = :p", Erasure: "the person's links deleted (later provider events are not attributed to them)",
		ID: "provider kind ref program_id participant_id order_id", None: "canceled_at created_at"},
	{Table: "webhook_endpoints", Purpose: "outgoing webhook endpoints", Retention: "until deleted", Export: "-", Erasure: "-",
		Staff: "url description", ID: "id program_id", None: "secret event_types status disabled_reason failing_since last_success_at created_at updated_at"},
	{Table: "webhook_deliveries", Purpose: "outgoing webhook messages", Retention: "delivered bodies: --retain-webhook-bodies (default 30 days), then blanked",
		Export: copiesNotExport, Erasure: "bodies searched and redacted (also those still to deliver)", Text: "payload last_error",
		ID: "id endpoint_id program_id", None: "event_type status attempts next_attempt_at last_status_code created_at completed_at"},
	{Table: "webhook_attempts", Purpose: "the delivery log", Retention: "with the deliveries", Export: copiesNotExport,
		Erasure: "answers searched and redacted", Text: "response_body error", ID: "id delivery_id", None: "attempt status_code duration_ms created_at"},
	{Table: "crm_connections", Purpose: "CRM connection", Retention: "until disconnected", Export: "-", Erasure: "-",
		ID: "program_id", Text: "last_error", None: "provider options last_sync_at created_at updated_at"},
	{Table: "crm_links", Purpose: "CRM records Parrain created", Retention: keptWhileProgram, Export: "listed", Of: "local_ref = :p OR local_ref = 'partner:' || :partner",
		Erasure: "the person's links deleted; the CRM is told through the participant.erased webhook", ID: "provider program_id object local_ref crm_id",
		None: "stage synced_at"},
	{Table: "jobs", Purpose: "the job queue", Retention: "finished jobs: --retain-raw-payloads", Export: copiesNotExport,
		Erasure: "arguments searched and redacted; the person's pending notices, emails and CRM syncs cancelled", Text: "payload last_error",
		ID: "id unique_key", None: "kind state attempts max_attempts run_at locked_by locked_until created_at finished_at rerun"},
	{Table: "participant_imports", Purpose: "bulk imports of existing customers and their progress", Retention: keptWhileProgram,
		Export: "-", Erasure: "-", ID: "id program_id", Staff: "created_by",
		None: "format dry_run status total_rows processed created updated unchanged rejected created_at updated_at finished_at"},
	{Table: "participant_import_rows", Purpose: "the lines of an import file: the participant each describes until processed, then the outcome",
		Retention: "a line's data until the import job processes it (then blanked); outcomes and reasons as long as the program exists",
		Export:    copiesNotExport, Erasure: "data and reasons searched and redacted", Text: "data message",
		ID: "import_id", None: "row_number state field"},
	{Table: "idempotency_keys", Purpose: "stored API answers for safe retries", Retention: "--retain-raw-payloads", Export: copiesNotExport,
		Erasure: "stored answers searched and redacted (a replay answers the redacted copy)", Text: "response", ID: "scope key", None: "request_hash created_at"},
	{Table: "audit_log", Purpose: "who did what, when", Retention: "forever", Export: "entries about them or made by them",
		Of:       "target_id = :p OR user_id = :p OR (:partner <> '' AND (target_id = :partner OR user_id = :partner))",
		Erasure:  "the person's IP, label and identifiers in details redacted; the erasure itself is audited without personal data",
		Personal: "user_email ip", Text: "details", ID: "id user_id target_id program_id", None: "action target_type created_at actor_type"},
	{Table: "alerts", Purpose: "alerts for managers", Retention: "until resolved", Export: "-", Erasure: "searched and redacted",
		Text: "subject message", ID: "id program_id", None: "kind occurrences created_at updated_at resolved_at"},
	{Table: "partners", Purpose: "partners (B2B)", Retention: keptWhileProgram, Export: "the partner record", Of: "id = :partner",
		Erasure:  "tombstone: email replaced by a random value, name, company, website, message, password and notes blanked",
		Personal: "email name company website message password_hash", Staff: "decision_note", ID: "id program_id participant_id",
		None: "status tier source agreement_version agreement_at kickoff_at training_at applied_at approved_at created_at updated_at"},
	{Table: "partner_leads", Purpose: "leads partners registered", Retention: keptWhileProgram,
		Export: "leads they registered and leads naming them as the contact", Of: "partner_id = :partner OR lower(contact_email) = :email",
		Erasure:  "where they are the contact: contact name and email blanked; text searched and redacted",
		Personal: "contact_name contact_email", Text: "notes", ID: "id program_id partner_id referral_id",
		None: "company_name domain company_key company_size industry consent credit stage stage_kind value currency tier_at_close expires_at registered_at closed_at updated_at"},
	{Table: "partner_claims", Purpose: "lead exclusivity", Retention: "until expired", Export: "-", Erasure: "-",
		ID: "program_id lead_id partner_id", None: "account_key expires_at"},
	{Table: "partner_extensions", Purpose: "lead extension requests", Retention: keptWhileProgram, Export: "listed", Of: "partner_id = :partner",
		Erasure: "text searched and redacted", Text: "reason decision", Staff: "decided_by", ID: "id program_id lead_id partner_id",
		None: "days status created_at decided_at"},
	{Table: "partner_exclusions", Purpose: "accounts excluded from partner credit", Retention: "until deleted", Export: "-", Erasure: "searched and redacted",
		Text: "reason", ID: "id program_id", None: "kind domain company_name engaged_at created_at"},
	{Table: "partner_decisions", Purpose: "lead decisions, explained", Retention: keptWhileProgram, Export: "listed", Of: "partner_id = :partner",
		Erasure: "text searched and redacted", Text: "reason explanation", Staff: "actor", ID: "id program_id partner_id lead_id",
		None: "kind domain company_name outcome created_at"},
	{Table: "partner_deal_stages", Purpose: "deal stage history", Retention: keptWhileProgram, Export: "-", Erasure: "kept",
		Staff: "actor", ID: "id lead_id program_id event_id", None: "from_stage to_stage value source created_at"},
	{Table: "partner_tier_history", Purpose: "partner tier changes", Retention: keptWhileProgram, Export: "listed", Of: "partner_id = :partner",
		Erasure: "kept", Text: "reason", ID: "id partner_id program_id", None: "from_tier to_tier direction seen_at created_at"},
	{Table: "partner_assets", Purpose: "sales material", Retention: "until deleted", Export: "-", Erasure: "-",
		ID: "id program_id", None: "title kind description filename content_type size content min_tier downloads created_at"},
	{Table: "partner_asset_downloads", Purpose: "asset downloads", Retention: keptWhileProgram, Export: "listed", Of: "partner_id = :partner",
		Erasure: "kept", ID: "id asset_id partner_id", None: "created_at"},
	{Table: "partner_surveys", Purpose: "partner surveys", Retention: "until deleted", Export: "-", Erasure: "-",
		ID: "id program_id", None: "title questions period_days active created_at"},
	{Table: "partner_survey_answers", Purpose: "survey answers", Retention: keptWhileProgram, Export: "listed", Of: "partner_id = :partner",
		Erasure: "deleted", Text: "answers", ID: "id survey_id partner_id", None: "period created_at"},
	{Table: "partner_sessions", Purpose: "portal sign-in", Retention: "until expired", Export: "-", Erasure: "deleted",
		Hashed: "token_hash", ID: "partner_id", None: "csrf expires_at created_at"},
	{Table: "partner_magic_links", Purpose: "portal sign-in links", Retention: "until used or expired", Export: "-", Erasure: "deleted",
		Hashed: "token_hash", ID: "partner_id", None: "expires_at used_at created_at"},
	{Table: "partner_programs", Purpose: "partner program settings", Retention: keptWhileProgram, Export: "-", Erasure: "-",
		ID: "program_id", None: "slug settings tiers created_at updated_at"},
	{Table: "users", Purpose: "console users (staff)", Retention: "until deleted; disabled users stay for the audit log", Export: "-",
		Erasure: "not a participant's data", Staff: "email name password_hash", ID: "id", None: "role created_at updated_at last_login_at disabled_at", NoSweep: true},
	{Table: "sessions", Purpose: "console sign-in sessions", Retention: "until expired", Export: "-", Erasure: "not a participant's data",
		Staff: "ip user_agent", Hashed: "token_hash", ID: "id user_id", None: "csrf_token created_at last_seen_at expires_at", NoSweep: true},
	{Table: "settings", Purpose: "installation settings", Retention: "-", Export: "-", Erasure: "-", None: "key value", NoSweep: true},
	{Table: "schema_migrations", Purpose: "applied migrations", Retention: "-", Export: "-", Erasure: "-", None: "version name applied_at", NoSweep: true},
	{Table: "api_keys", Purpose: "API keys", Retention: "until revoked", Export: "-", Erasure: "-",
		Staff: "name", Hashed: "hash", ID: "id program_id", None: "prefix scopes rate_limit created_at last_used_at revoked_at", NoSweep: true},
	{Table: "sign_in_failures", Purpose: "failed sign-ins counted per account and source, for throttling (docs/security.md)", Retention: "until the backoff has passed",
		Export: "-", Erasure: "keys are keyed hashes of an email and an address; nothing to erase", Hashed: "key", None: "failures last_failure_at", NoSweep: true},
	{Table: "payout_account_changes", Purpose: "when a payout destination was first set and last changed (cooling-off)", Retention: "with the participant",
		Export: "-", Erasure: "ids and times only; the participant's row stays as a tombstone", ID: "participant_id program_id", None: "first_set_at changed_at", NoSweep: true},
	{Table: "code_cache_version", Purpose: "a counter that tells replicas to drop their referral-code cache", Retention: "-", Export: "-", Erasure: "-",
		None: "id version", NoSweep: true},
	{Table: "programs", Purpose: "programs", Retention: "-", Export: "-", Erasure: "-",
		ID: "id program_key", None: "fulfilment_secret name landing_url currency cookie_window_days attribution_model hold_days status rules version created_at updated_at fraud_policy settings"},
	{Table: "program_versions", Purpose: "program history", Retention: "-", Export: "-", Erasure: "-", ID: "program_id", None: "version document created_at"},
	{Table: "program_terms", Purpose: "terms versions", Retention: "-", Export: "-", Erasure: "-", ID: "program_id", None: "version program_version sha256 markdown created_at"},
	{Table: "program_branding", Purpose: "branding", Retention: "-", Export: "-", Erasure: "-", ID: "program_id", Staff: "updated_by",
		None: "logo_url primary_color accent_color updated_at"},
	{Table: "program_experience", Purpose: "widget settings and secrets", Retention: "-", Export: "-", Erasure: "-",
		ID: "program_id", None: "widget_secret previous_secret settings secret_version previous_until rotated_at updated_at"},
	{Table: "email_templates", Purpose: "email templates", Retention: "-", Export: "-", Erasure: "-", ID: "program_id", None: "kind locale subject text_body html_body updated_at"},
	{Table: "experiments", Purpose: "A/B experiments of a program", Retention: "-", Export: "-", Erasure: "-",
		ID: "id program_id", None: "name hypothesis unit primary_metric guardrails mde_bps status started_at stopped_at promoted_arm promoted_version created_at updated_at"},
	{Table: "experiment_arms", Purpose: "the arms of experiments and what each overrides", Retention: "-", Export: "-", Erasure: "-",
		ID: "experiment_id", None: "arm position name weight overrides"},
	{Table: "experiment_assignments", Purpose: "which arm an advocate or landing-page visitor was assigned, and when first exposed",
		Retention: "as long as the experiment exists", Export: "the person's assignments", Erasure: "kept: ids, arms and times only; the participant's row stays as a tombstone",
		Of: "unit_id = :p", ID: "experiment_id unit_id", None: "arm first_exposed_at last_exposed_at exposures", NoSweep: true},
	{Table: "experiment_rewards", Purpose: "the experiment arm each reward was priced under", Retention: "as long as the program exists", Export: "-",
		Erasure: "kept (no personal data)", ID: "reward_id experiment_id", None: "arm created_at", NoSweep: true},
	{Table: "moment_triggers", Purpose: "moment triggers", Retention: "-", Export: "-", Erasure: "-", ID: "id program_id", None: "kind status definition deleted_at created_at updated_at"},
}

// DataMapTable returns the map of one table.
func DataMapTable(name string) (TableMap, bool) {
	for _, t := range DataMap {
		if t.Table == name {
			return t, true
		}
	}
	return TableMap{}, false
}

// DataMapMarkdown renders the data map as the Markdown table
// docs/privacy.md shows between its data-map markers.
func DataMapMarkdown() string {
	var b strings.Builder
	b.WriteString("| table | personal | text (searched on erasure) | hashed | ids | staff | purpose | retention | export | erasure |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	tables := append([]TableMap(nil), DataMap...)
	sort.Slice(tables, func(i, j int) bool { return tables[i].Table < tables[j].Table })
	cell := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return ""
		}
		f := strings.Fields(s)
		return "`" + strings.Join(f, "` `") + "`"
	}
	for _, t := range tables {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.Table, cell(t.Personal), cell(t.Text), cell(t.Hashed),
			cell(t.ID), cell(t.Staff), t.Purpose, t.Retention, t.Export, t.Erasure)
	}
	return b.String()
}
