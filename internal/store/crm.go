package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// CRMPollInterval is how often deal stages are polled.
const CRMPollInterval = 15 * time.Minute

// CRM objects Parrain links.
const (
	CRMContact = "contact"
	CRMCompany = "company"
	CRMDeal    = "deal"
)

// CRMLead is a partner's lead to sync: upserted by company domain, its
// contact by email, its deal by the lead key.
type CRMLead struct {
	ProgramID string `json:"program_id"`
	// Key identifies the lead in Parrain (the partner lead's id); it
	// defaults to the company domain.
	Key           string `json:"key"`
	CompanyDomain string `json:"company_domain"`
	CompanyName   string `json:"company_name,omitempty"`
	ContactEmail  string `json:"contact_email,omitempty"`
	ContactName   string `json:"contact_name,omitempty"`
	// The partner who registered the lead: the CRM records are tagged
	// with them.
	PartnerExternalID string `json:"partner_external_id"`
	PartnerName       string `json:"partner_name,omitempty"`
	PartnerEmail      string `json:"partner_email,omitempty"`
	DealName          string `json:"deal_name,omitempty"`
	Amount            int64  `json:"amount,omitempty"`
	Currency          string `json:"currency,omitempty"`
}

// Normalize validates a lead: the company domain is required and is the
// upsert key of the company.
func (l *CRMLead) Normalize() error {
	l.CompanyDomain = parrain.NormalizeDomain(l.CompanyDomain)
	if l.CompanyDomain == "" {
		return parrain.Invalid("company_domain", "is required (a domain such as acme.com)")
	}
	if l.Key == "" {
		l.Key = l.CompanyDomain
	}
	var err error
	if l.ContactEmail, err = parrain.NormalizeEmailField("contact_email", l.ContactEmail); err != nil {
		return err
	}
	if err := parrain.ValidateExternalID("partner_external_id", l.PartnerExternalID); err != nil {
		return err
	}
	if l.Amount < 0 || l.Amount > parrain.MaxAmount {
		return parrain.Invalid("amount", "must be a non-negative integer in the currency's minor unit")
	}
	if l.Amount > 0 {
		if l.Currency, err = parrain.NormalizeCurrency("currency", l.Currency); err != nil {
			return err
		}
	}
	return nil
}

// referralConvertedTx announces a referral's first purchase: the
// referral.converted webhook, and the CRM sync when the program has a CRM.
func (s *Store) referralConvertedTx(ctx context.Context, tx *sql.Tx, ref *parrain.Referral, ev *parrain.Event) error {
	if err := s.emitTx(ctx, tx, ref.ProgramID, parrain.WebhookReferralConverted, ref); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_connections WHERE program_id = $1`, ref.ProgramID).Scan(&n); err != nil {
		return fmt.Errorf("checking CRM connection: %w", err)
	}
	if n == 0 {
		return nil
	}
	payload, _ := json.Marshal(parrain.CRMReferralArgs{ProgramID: ref.ProgramID, ReferralID: ref.ID, OrderID: ev.OrderID, Amount: ev.Amount, Currency: ev.Currency})
	return s.enqueueTx(ctx, tx, parrain.JobCRMSyncReferral, parrain.JobCRMSyncReferral+":"+ref.ID, payload, s.clock.Now())
}

// crmLeadTx queues the CRM sync of a partner's lead in the caller's
// transaction (the partner-program code calls it where a lead is registered
// or changed). Nothing is queued when the program has no CRM.
func (s *Store) crmLeadTx(ctx context.Context, q querier, lead CRMLead) error {
	if err := lead.Normalize(); err != nil {
		return err
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_connections WHERE program_id = $1`, lead.ProgramID).Scan(&n); err != nil {
		return fmt.Errorf("checking CRM connection: %w", err)
	}
	if n == 0 {
		return nil
	}
	payload, _ := json.Marshal(lead)
	now := s.clock.Now()
	return s.enqueueTx(ctx, q, parrain.JobCRMSyncLead, fmt.Sprintf("%s:%s:%s:%d", parrain.JobCRMSyncLead, lead.ProgramID, lead.Key, ms(now)), payload, now)
}

// EnqueueCRMLead queues the CRM sync of a partner's lead on its own.
func (s *Store) EnqueueCRMLead(ctx context.Context, lead CRMLead) error {
	return s.crmLeadTx(ctx, s.w, lead)
}

const crmCols = `program_id, provider, options, last_sync_at, last_error, created_at, updated_at`

type crmOptions struct {
	Pipeline  string            `json:"pipeline,omitempty"`
	DealStage string            `json:"deal_stage,omitempty"`
	LeadStage string            `json:"lead_stage,omitempty"`
	StageMap  map[string]string `json:"stage_map,omitempty"`
}

func scanCRM(sc scanner) (parrain.CRMConnection, error) {
	var c parrain.CRMConnection
	var opts string
	var last sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&c.ProgramID, &c.Provider, &opts, &last, &c.LastError, &created, &updated); err != nil {
		return c, err
	}
	var o crmOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		return c, fmt.Errorf("decoding CRM options: %w", err)
	}
	c.Pipeline, c.DealStage, c.LeadStage, c.StageMap = o.Pipeline, o.DealStage, o.LeadStage, o.StageMap
	c.LastSyncAt, c.CreatedAt, c.UpdatedAt = fromNullMS(last), fromMS(created), fromMS(updated)
	return c, nil
}

// CRMConnection returns a program's CRM connection.
func (s *Store) CRMConnection(ctx context.Context, programID string) (parrain.CRMConnection, error) {
	c, err := scanCRM(s.r.QueryRowContext(ctx, `SELECT `+crmCols+` FROM crm_connections WHERE program_id = $1`, programID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.Program(ctx, programID); err != nil {
			return c, err
		}
		return c, notFound("CRM connection")
	}
	return c, err
}

// SetCRMConnection stores a program's CRM connection (validated by the
// caller), replacing another, and returns it as stored.
func (t *Tx) SetCRMConnection(ctx context.Context, programID string, c parrain.CRMConnection) (parrain.CRMConnection, error) {
	opts, _ := json.Marshal(crmOptions{Pipeline: c.Pipeline, DealStage: c.DealStage, LeadStage: c.LeadStage, StageMap: c.StageMap})
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO crm_connections (program_id, provider, options, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (program_id) DO UPDATE SET provider = $2, options = $3, updated_at = $4`, programID, c.Provider, string(opts), ms(t.s.clock.Now())); err != nil {
		return c, fmt.Errorf("storing CRM connection: %w", err)
	}
	return scanCRM(t.tx.QueryRowContext(ctx, `SELECT `+crmCols+` FROM crm_connections WHERE program_id = $1`, programID))
}

// DeleteCRMConnection removes a program's CRM connection (not found when
// there is none); the links to CRM records are kept in case it is
// connected again.
func (t *Tx) DeleteCRMConnection(ctx context.Context, programID string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM crm_connections WHERE program_id = $1`, programID)
	if err != nil {
		return fmt.Errorf("deleting CRM connection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("CRM connection")
	}
	return nil
}

// RecordCRMSync notes the outcome of a sync or poll on the connection.
func (s *Store) RecordCRMSync(ctx context.Context, programID, errMsg string) error {
	errMsg = truncateStr(errMsg, 1000) // whole characters: PostgreSQL refuses invalid UTF-8
	_, err := s.w.ExecContext(ctx, `UPDATE crm_connections SET last_sync_at = $1, last_error = $2 WHERE program_id = $3`,
		ms(s.clock.Now()), errMsg, programID)
	return err
}

// CRMLink is a CRM record Parrain created or matched.
type CRMLink struct {
	Provider  parrain.CRMProvider
	ProgramID string
	Object    string // CRMContact, CRMCompany, CRMDeal
	LocalRef  string // participant id, company domain, "referral:<id>" or "lead:<key>"
	CRMID     string
	Stage     string // deals only
}

// CRMLinkFor returns the CRM id linked to a local record, or "".
func (s *Store) CRMLinkFor(ctx context.Context, provider parrain.CRMProvider, programID, object, localRef string) (CRMLink, bool, error) {
	l := CRMLink{Provider: provider, ProgramID: programID, Object: object, LocalRef: localRef}
	err := s.r.QueryRowContext(ctx, `SELECT crm_id, stage FROM crm_links WHERE provider = $1 AND program_id = $2 AND object = $3 AND local_ref = $4`,
		provider, programID, object, localRef).Scan(&l.CRMID, &l.Stage)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	return l, err == nil, err
}

// SaveCRMLink records (or updates) the CRM id of a local record.
func (s *Store) SaveCRMLink(ctx context.Context, l CRMLink) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO crm_links (provider, program_id, object, local_ref, crm_id, stage, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (provider, program_id, object, local_ref) DO UPDATE SET crm_id = $5, stage = $6, synced_at = $7`,
		l.Provider, l.ProgramID, l.Object, l.LocalRef, l.CRMID, l.Stage, ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("saving CRM link: %w", err)
	}
	return nil
}

// CRMDeals lists the deals linked for a program, for stage polling.
func (s *Store) CRMDeals(ctx context.Context, provider parrain.CRMProvider, programID string) ([]CRMLink, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT local_ref, crm_id, stage FROM crm_links WHERE provider = $1 AND program_id = $2 AND object = 'deal' ORDER BY local_ref`,
		provider, programID)
	if err != nil {
		return nil, fmt.Errorf("listing CRM deals: %w", err)
	}
	defer rows.Close()
	var out []CRMLink
	for rows.Next() {
		l := CRMLink{Provider: provider, ProgramID: programID, Object: CRMDeal}
		if err := rows.Scan(&l.LocalRef, &l.CRMID, &l.Stage); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DealStageChange is a partner deal's stage change, from the CRM or made in
// Parrain (the data of the partner.deal_stage_changed webhook).
type DealStageChange struct {
	ProgramID     string `json:"program_id"`
	LeadKey       string `json:"lead_key"`
	CRM           string `json:"crm,omitempty"`
	CRMDealID     string `json:"crm_deal_id,omitempty"`
	Stage         string `json:"stage"`
	PreviousStage string `json:"previous_stage"`
	Source        string `json:"source"` // manager, api, crm
}

// CRMStageChange returns the change of a linked deal whose CRM stage is
// now stage, or nil when it did not change. LeadKey is set for a partner
// lead's deal. Nothing is recorded: see SetCRMDealStage.
func (s *Store) CRMStageChange(ctx context.Context, l CRMLink, stage string) (*DealStageChange, error) {
	var old string
	err := s.r.QueryRowContext(ctx, `SELECT stage FROM crm_links WHERE provider = $1 AND program_id = $2 AND object = 'deal' AND local_ref = $3`,
		l.Provider, l.ProgramID, l.LocalRef).Scan(&old)
	if err != nil {
		return nil, fmt.Errorf("loading CRM deal: %w", err)
	}
	if old == stage {
		return nil, nil
	}
	key, _ := strings.CutPrefix(l.LocalRef, "lead:")
	if key == l.LocalRef {
		key = ""
	}
	return &DealStageChange{ProgramID: l.ProgramID, LeadKey: key, CRM: string(l.Provider), CRMDealID: l.CRMID, Stage: stage, PreviousStage: old, Source: "crm"}, nil
}

// SetCRMDealStage records the stage a linked deal has in the CRM.
func (s *Store) SetCRMDealStage(ctx context.Context, l CRMLink, stage string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE crm_links SET stage = $1, synced_at = $2 WHERE provider = $3 AND program_id = $4 AND object = 'deal' AND local_ref = $5`,
		stage, ms(s.clock.Now()), l.Provider, l.ProgramID, l.LocalRef)
	if err != nil {
		return fmt.Errorf("updating CRM deal stage: %w", err)
	}
	return nil
}

// CRMReferral is what the CRM sync of a conversion needs.
type CRMReferral struct {
	Referral parrain.Referral
	Friend   parrain.Participant
	Advocate parrain.Participant
}

// CRMReferralData loads a referral with both its participants.
func (s *Store) CRMReferralData(ctx context.Context, referralID string) (CRMReferral, error) {
	var out CRMReferral
	var err error
	if out.Referral, err = s.referralByID(ctx, s.r, referralID); err != nil {
		return out, err
	}
	if out.Friend, err = scanParticipant(s.r.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, out.Referral.FriendID)); err != nil {
		return out, fmt.Errorf("loading friend: %w", err)
	}
	if out.Advocate, err = scanParticipant(s.r.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, out.Referral.AdvocateID)); err != nil {
		return out, fmt.Errorf("loading advocate: %w", err)
	}
	return out, nil
}

// SyncCRMLead queues the CRM sync of a partner's lead in the transaction
// (see crmLeadTx).
func (t *Tx) SyncCRMLead(ctx context.Context, lead CRMLead) error {
	return t.s.crmLeadTx(ctx, t.tx, lead)
}
