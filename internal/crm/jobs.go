package crm

import (
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/store"
)

// RegisterJobs installs the CRM sync jobs: pushing referrals and leads, and
// polling the CRM for deal stages.
func (s *Syncer) RegisterJobs(r *jobs.Runner) {
	r.Handle(store.JobCRMSyncReferral, jobs.WithArgs(store.JobCRMSyncReferral, s.SyncReferral))
	r.Handle(store.JobCRMSyncLead, jobs.WithArgs(store.JobCRMSyncLead, s.SyncLead))
	r.Handle(store.JobCRMPoll, jobs.WithArgs(store.JobCRMPoll, s.Poll))
}
