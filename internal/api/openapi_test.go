package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

// TestOpenAPIClosedSchemasMatchInputs: a request schema that forbids
// additional properties must declare every field the server decodes,
// or a client validating against the contract cannot send what the server
// uses. Participant upserts accepted a context (used by the fraud checks)
// that their schema forbade.
func TestOpenAPIClosedSchemasMatchInputs(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				AdditionalProperties *bool                     `json:"additionalProperties"`
				Properties           map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]reflect.Type{
		"ParticipantInput": reflect.TypeFor[parrain.ParticipantInput](),
		"RequestContext":   reflect.TypeFor[parrain.EventContext](),
	} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s: additionalProperties should be false", name)
		}
		for i := range typ.NumField() {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if _, ok := s.Properties[tag]; !ok {
				t.Errorf("%s: the server decodes %q but the schema forbids it", name, tag)
			}
		}
	}
	if ref := doc.Components.Schemas["ParticipantInput"].Properties["context"]["$ref"]; ref != "#/components/schemas/RequestContext" {
		t.Errorf("ParticipantInput.context is %v, want the RequestContext schema", ref)
	}
	if ref := doc.Components.Schemas["Event"].Properties["context"]["$ref"]; ref != "#/components/schemas/RequestContext" {
		t.Errorf("Event.context is %v, want the RequestContext schema", ref)
	}
}
