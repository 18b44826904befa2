package crm

import (
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
)

// RegisterJobs installs the CRM sync jobs: pushing referrals and leads, and
// polling the CRM for deal stages.
func (s *Syncer) RegisterJobs(r *jobs.Runner) {
	r.Handle(parrain.JobCRMSyncReferral, jobs.WithArgs(parrain.JobCRMSyncReferral, s.SyncReferral))
	r.Handle(parrain.JobCRMSyncLead, jobs.WithArgs(parrain.JobCRMSyncLead, s.SyncLead))
	r.Handle(parrain.JobCRMPoll, jobs.WithArgs(parrain.JobCRMPoll, s.Poll))
}
