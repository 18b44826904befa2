package crm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Connect connects a program to a CRM (replacing another), starts polling
// its deal stages (a crm.poll job, store.CRMPollInterval from now, whose
// generation retires the previous connection's polls) and audits the
// change, in one transaction.
func Connect(ctx context.Context, st *store.Store, programID string, c parrain.CRMConnection) (parrain.CRMConnection, error) {
	if err := c.Normalize(); err != nil {
		return c, err
	}
	var out parrain.CRMConnection
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Program(ctx, programID); err != nil {
			return err
		}
		var err error
		if out, err = tx.SetCRMConnection(ctx, programID, c); err != nil {
			return err
		}
		// The generation is the connection's time as stored: a poll of an
		// older connection finds another one and stops.
		gen := out.UpdatedAt.UnixMilli()
		payload, err := json.Marshal(parrain.CRMPollArgs{ProgramID: programID, Generation: gen})
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, parrain.JobCRMPoll, fmt.Sprintf("%s:%s:%d", parrain.JobCRMPoll, programID, gen), payload, out.UpdatedAt.Add(store.CRMPollInterval)); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditCRMConnected, "program", programID, programID, map[string]any{"provider": c.Provider})
	})
	return out, err
}

// Disconnect stops a program's CRM sync (not found when it has none) and
// audits it; the links to CRM records are kept in case it is connected
// again.
func Disconnect(ctx context.Context, st *store.Store, programID string) error {
	return st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteCRMConnection(ctx, programID); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditCRMDisconnected, "program", programID, programID, nil)
	})
}
