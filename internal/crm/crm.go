// Package crm syncs Parrain with the customer's CRM (HubSpot or
// Salesforce): a converted referral creates or updates the friend's
// contact, tagged with the advocate, and a won deal; a partner's lead
// creates or updates its company (by domain), contact (by email) and deal,
// tagged with the partner; deal stages are polled back and a change of a
// partner deal is announced (partner.deal_stage_changed) and handed to
// OnDealStage. Records are upserted (searched first, then created), and
// every record Parrain created is linked in the store, so a retry never
// duplicates one. Rate limits are paced in the clients; a limit reached
// postpones the job.
//
// It imports the domain, the store and the CRM clients; never the HTTP or
// job-runner packages.
package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Contact is a person to upsert by email.
type Contact struct {
	Email      string
	FirstName  string
	LastName   string
	CompanyID  string
	ReferredBy string // "Alice Martin (alice@example.com, code K7MPR2X)"
	Partner    string // for partner leads
	Code       string
}

// Company is a company to upsert by domain.
type Company struct {
	Domain  string
	Name    string
	Partner string
}

// Deal is a deal to upsert by name.
type Deal struct {
	Name        string
	Amount      int64
	Currency    string
	Pipeline    string
	Stage       string
	ContactID   string
	CompanyID   string
	ReferredBy  string
	Description string
	CloseDate   time.Time
}

// Client is what the sync needs from a CRM.
type Client interface {
	UpsertContact(ctx context.Context, c Contact) (string, error)
	UpsertCompany(ctx context.Context, c Company) (string, error)
	UpsertDeal(ctx context.Context, d Deal) (string, error)
	DealStages(ctx context.Context, ids []string) (map[string]string, error)
}

// Syncer runs the CRM jobs.
type Syncer struct {
	st      *store.Store
	log     *slog.Logger
	clients map[parrain.CRMProvider]Client
	// OnDealStage, when set, is called when a partner lead's deal changed
	// stage in the CRM, before the new stage is recorded: the app moves the
	// partner deal in Parrain (which announces partner.deal_stage_changed).
	// An error that is a domain error (an unknown or closed stage) is logged
	// and the stage recorded; another error stops the poll, which retries.
	OnDealStage func(ctx context.Context, change store.DealStageChange, conn parrain.CRMConnection) error
}

// New returns a Syncer; a nil client means that CRM is not configured.
func New(st *store.Store, log *slog.Logger, hs *hubspot.Client, sf *salesforce.Client) *Syncer {
	s := &Syncer{st: st, log: log, clients: map[parrain.CRMProvider]Client{}}
	if hs != nil {
		s.clients[parrain.CRMHubSpot] = HubSpot{hs}
	}
	if sf != nil {
		s.clients[parrain.CRMSalesforce] = Salesforce{sf}
	}
	return s
}

// ErrNotConfigured: the program's CRM has no credentials.
var ErrNotConfigured = errors.New("CRM not configured")

// connection returns the program's connection and its client; ok is false
// when the program has no CRM any more.
func (s *Syncer) connection(ctx context.Context, programID string) (parrain.CRMConnection, Client, bool, error) {
	conn, err := s.st.CRMConnection(ctx, programID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		return conn, nil, false, nil
	}
	if err != nil {
		return conn, nil, false, err
	}
	c := s.clients[conn.Provider]
	if c == nil {
		err := fmt.Errorf("%w: %s credentials are not set (see docs/integrations.md)", ErrNotConfigured, conn.Provider)
		_ = s.st.RecordCRMSync(ctx, programID, err.Error())
		return conn, nil, false, err
	}
	return conn, c, true, nil
}

// outcome records a sync's result and turns a rate limit into a later run.
func (s *Syncer) outcome(ctx context.Context, programID string, err error) (time.Time, error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := s.st.RecordCRMSync(ctx, programID, msg); rerr != nil && err == nil {
		err = rerr
	}
	var hl *hubspot.RateLimitedError
	var sl *salesforce.RateLimitedError
	switch {
	case errors.As(err, &hl):
		return s.st.Clock().Now().Add(hl.RetryAfter), nil
	case errors.As(err, &sl):
		return s.st.Clock().Now().Add(sl.RetryAfter), nil
	}
	return time.Time{}, err
}

func splitName(name, email string) (string, string) {
	name = strings.TrimSpace(name)
	if name == "" {
		local, _, _ := strings.Cut(email, "@")
		return "", local
	}
	first, last, ok := strings.Cut(name, " ")
	if !ok {
		return "", first
	}
	return first, strings.TrimSpace(last)
}

func label(p parrain.Participant) string {
	s := p.ExternalID
	if p.Name != "" {
		s = p.Name
	}
	var extra []string
	if p.Email != "" {
		extra = append(extra, p.Email)
	}
	if p.Code != "" {
		extra = append(extra, "code "+p.Code)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// SyncReferral is the crm.sync_referral job: the friend's contact, tagged
// with the advocate, and a deal at the connection's won stage.
func (s *Syncer) SyncReferral(ctx context.Context, a parrain.CRMReferralArgs) (time.Time, error) {
	conn, c, ok, err := s.connection(ctx, a.ProgramID)
	if !ok {
		return time.Time{}, err
	}
	d, err := s.st.CRMReferralData(ctx, a.ReferralID)
	if err != nil {
		return time.Time{}, err
	}
	if d.Friend.Email == "" {
		s.log.Info("CRM sync skipped: the referred friend has no email", "referral", a.ReferralID)
		return time.Time{}, nil
	}
	if d.Friend.DoNotSell || d.Advocate.DoNotSell {
		// CCPA "do not sell or share" (docs/privacy.md): nothing about
		// them leaves for the CRM.
		s.log.Info("CRM sync skipped: the friend or the advocate chose do not sell or share", "referral", a.ReferralID)
		return time.Time{}, nil
	}
	err = s.syncReferral(ctx, conn, c, d, a)
	return s.outcome(ctx, a.ProgramID, err)
}

func (s *Syncer) syncReferral(ctx context.Context, conn parrain.CRMConnection, c Client, d store.CRMReferral, a parrain.CRMReferralArgs) error {
	first, last := splitName(d.Friend.Name, d.Friend.Email)
	ref := label(d.Advocate)
	contactID, err := c.UpsertContact(ctx, Contact{Email: d.Friend.Email, FirstName: first, LastName: last, ReferredBy: ref, Code: d.Referral.Code})
	if err != nil {
		return fmt.Errorf("upserting contact: %w", err)
	}
	if err := s.st.SaveCRMLink(ctx, store.CRMLink{Provider: conn.Provider, ProgramID: a.ProgramID, Object: store.CRMContact,
		LocalRef: d.Friend.ID, CRMID: contactID}); err != nil {
		return err
	}
	deal := Deal{Name: fmt.Sprintf("Referral: %s [Parrain %s]", d.Friend.Email, d.Referral.ID), Amount: a.Amount, Currency: a.Currency,
		Pipeline: conn.Pipeline, Stage: conn.DealStage, ContactID: contactID, ReferredBy: ref, CloseDate: s.st.Clock().Now(),
		Description: fmt.Sprintf("Referred by %s through Parrain; first order %s.", ref, a.OrderID)}
	dealID, err := c.UpsertDeal(ctx, deal)
	if err != nil {
		return fmt.Errorf("upserting deal: %w", err)
	}
	s.log.Info("referral synced to CRM", "crm", conn.Provider, "referral", a.ReferralID, "contact", contactID, "deal", dealID)
	return s.st.SaveCRMLink(ctx, store.CRMLink{Provider: conn.Provider, ProgramID: a.ProgramID, Object: store.CRMDeal,
		LocalRef: "referral:" + d.Referral.ID, CRMID: dealID, Stage: conn.DealStage})
}

// SyncLead is the crm.sync_lead job: the lead's company (by domain), its
// contact (by email, in the company) and a deal at the connection's lead
// stage, all tagged with the partner.
func (s *Syncer) SyncLead(ctx context.Context, lead store.CRMLead) (time.Time, error) {
	if err := lead.Normalize(); err != nil {
		return time.Time{}, nil // cannot succeed; logged by the caller's validation
	}
	conn, c, ok, err := s.connection(ctx, lead.ProgramID)
	if !ok {
		return time.Time{}, err
	}
	err = s.syncLead(ctx, conn, c, lead)
	return s.outcome(ctx, lead.ProgramID, err)
}

func (s *Syncer) syncLead(ctx context.Context, conn parrain.CRMConnection, c Client, lead store.CRMLead) error {
	partner := lead.PartnerExternalID
	if lead.PartnerName != "" {
		partner = lead.PartnerName
	}
	if lead.PartnerEmail != "" {
		partner += " (" + lead.PartnerEmail + ")"
	}
	name := lead.CompanyName
	if name == "" {
		name = lead.CompanyDomain
	}
	companyID, err := c.UpsertCompany(ctx, Company{Domain: lead.CompanyDomain, Name: name, Partner: partner})
	if err != nil {
		return fmt.Errorf("upserting company: %w", err)
	}
	if err := s.st.SaveCRMLink(ctx, store.CRMLink{Provider: conn.Provider, ProgramID: lead.ProgramID, Object: store.CRMCompany,
		LocalRef: lead.CompanyDomain, CRMID: companyID}); err != nil {
		return err
	}
	contactID := ""
	if lead.ContactEmail != "" {
		first, last := splitName(lead.ContactName, lead.ContactEmail)
		if contactID, err = c.UpsertContact(ctx, Contact{Email: lead.ContactEmail, FirstName: first, LastName: last, CompanyID: companyID, Partner: partner}); err != nil {
			return fmt.Errorf("upserting contact: %w", err)
		}
		if err := s.st.SaveCRMLink(ctx, store.CRMLink{Provider: conn.Provider, ProgramID: lead.ProgramID, Object: store.CRMContact,
			LocalRef: "email:" + parrain.CanonicalEmail(lead.ContactEmail), CRMID: contactID}); err != nil {
			return err
		}
	}
	dealName := lead.DealName
	if dealName == "" {
		dealName = "Partner lead: " + name
	}
	stage := conn.LeadStage
	if l, ok, err := s.st.CRMLinkFor(ctx, conn.Provider, lead.ProgramID, store.CRMDeal, "lead:"+lead.Key); err != nil {
		return err
	} else if ok && l.Stage != "" {
		stage = "" // the CRM owns the stage once the deal exists
	}
	dealID, err := c.UpsertDeal(ctx, Deal{Name: fmt.Sprintf("%s [Parrain lead %s]", dealName, lead.Key), Amount: lead.Amount, Currency: lead.Currency,
		Pipeline: conn.Pipeline, Stage: stage, ContactID: contactID, CompanyID: companyID, ReferredBy: partner,
		CloseDate: s.st.Clock().Now().AddDate(0, 3, 0), Description: "Registered by partner " + partner + " through Parrain."})
	if err != nil {
		return fmt.Errorf("upserting deal: %w", err)
	}
	if stage == "" {
		l, _, _ := s.st.CRMLinkFor(ctx, conn.Provider, lead.ProgramID, store.CRMDeal, "lead:"+lead.Key)
		stage = l.Stage
	}
	s.log.Info("partner lead synced to CRM", "crm", conn.Provider, "lead", lead.Key, "company", companyID, "deal", dealID)
	return s.st.SaveCRMLink(ctx, store.CRMLink{Provider: conn.Provider, ProgramID: lead.ProgramID, Object: store.CRMDeal,
		LocalRef: "lead:" + lead.Key, CRMID: dealID, Stage: stage})
}

// Poll is the crm.poll job: it reads the stages of the program's deals and
// records the changes. It returns the next poll time while the connection
// that started this loop is still in place.
func (s *Syncer) Poll(ctx context.Context, a parrain.CRMPollArgs) (time.Time, error) {
	conn, c, ok, err := s.connection(ctx, a.ProgramID)
	if err != nil && errors.Is(err, ErrNotConfigured) {
		return s.st.Clock().Now().Add(store.CRMPollInterval), nil // keep polling: credentials may come
	}
	if !ok || conn.UpdatedAt.UnixMilli() != a.Generation {
		return time.Time{}, err // disconnected or replaced: this loop ends
	}
	deals, err := s.st.CRMDeals(ctx, conn.Provider, a.ProgramID)
	if err != nil {
		return time.Time{}, err
	}
	ids := make([]string, 0, len(deals))
	for _, d := range deals {
		ids = append(ids, d.CRMID)
	}
	var stages map[string]string
	if len(ids) > 0 {
		stages, err = c.DealStages(ctx, ids)
	}
	if err == nil {
		err = s.applyStages(ctx, conn, deals, stages)
	}
	retry, err := s.outcome(ctx, a.ProgramID, err)
	if err != nil {
		// Recorded on the connection; the loop goes on (a CRM down for
		// days must not end the polling).
		s.log.Warn("CRM poll failed", "program", a.ProgramID, "crm", conn.Provider, "err", err)
	}
	if retry.IsZero() {
		retry = s.st.Clock().Now().Add(store.CRMPollInterval)
	}
	return retry, nil
}

// applyStages hands each changed partner deal to OnDealStage, then records
// its stage.
func (s *Syncer) applyStages(ctx context.Context, conn parrain.CRMConnection, deals []store.CRMLink, stages map[string]string) error {
	for _, d := range deals {
		stage, ok := stages[d.CRMID]
		if !ok || stage == "" || stage == d.Stage {
			continue
		}
		change, err := s.st.CRMStageChange(ctx, d, stage)
		if err != nil {
			return err
		}
		if change == nil {
			continue
		}
		if change.LeadKey != "" && s.OnDealStage != nil {
			err := s.OnDealStage(ctx, *change, conn)
			switch e := parrain.AsError(err); {
			case err == nil:
				s.log.Info("partner deal moved from the CRM", "crm", conn.Provider, "lead", change.LeadKey, "from", change.PreviousStage, "to", change.Stage)
			case e != nil && e.Code != parrain.CodeInternal:
				s.log.Info("CRM stage not applied to the partner deal", "crm", conn.Provider, "lead", change.LeadKey, "stage", change.Stage, "why", e.Message)
			default:
				return err
			}
		}
		if err := s.st.SetCRMDealStage(ctx, d, stage); err != nil {
			return err
		}
	}
	return nil
}
