package notify

import (
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/store"
)

// RegisterJobs installs the notification handlers: composing notices,
// sending emails, and the recurring sweep and reminder jobs.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(store.JobNotify, s.HandleNotify)
	r.Handle(store.JobSendEmail, s.HandleSend)
	r.Handle(store.JobNotifySweep, s.HandleSweep)
	r.Handle(store.JobReminders, s.HandleReminders)
}
