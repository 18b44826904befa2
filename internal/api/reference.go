package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
)

//go:embed reference.html
var referenceHTML string

// referenceTmpl renders the API reference page from the document.
var referenceTmpl = template.Must(template.New("reference").Funcs(template.FuncMap{
	"anchor": func(s string) string {
		return strings.NewReplacer(" ", "-", "/", "-", "{", "", "}", "").Replace(strings.ToLower(s))
	},
	"upper": strings.ToUpper,
}).Parse(referenceHTML))

// refDoc is the part of the OpenAPI document the reference page shows.
type refDoc struct {
	Info struct {
		Title, Version, Description string
	} `json:"info"`
	Tags []struct {
		Name, Description string
	} `json:"tags"`
	Paths      map[string]map[string]refOp `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type refOp struct {
	OperationID string            `json:"operationId"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Parameters  []json.RawMessage `json:"parameters"`
	RequestBody *struct {
		Required bool                       `json:"required"`
		Content  map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// refPage is what the template renders.
type refPage struct {
	Title, Version, Description string
	Tags                        []refTag
	Schemas                     []refSchema
}

type refTag struct {
	Name, Description string
	Ops               []refOpView
}

type refOpView struct {
	ID, Method, Path, Summary, Description string
	Params                                 []refParam
	Request                                string
	Responses                              []refResponse
}

type refParam struct {
	Name, In, Type, Description string
	Required                    bool
}

type refResponse struct {
	Status, Description, Body string
}

type refSchema struct {
	Name, JSON string
}

var (
	referenceOnce sync.Once
	referencePage []byte
	referenceErr  error
)

// Reference serves GET /api/docs: the API reference, rendered on the
// server from the embedded document (operations by tag, their parameters,
// bodies, answers and examples, then the schemas). No script, no CDN.
func Reference(w http.ResponseWriter, r *http.Request) {
	referenceOnce.Do(func() { referencePage, referenceErr = renderReference(OpenAPIDoc) })
	if referenceErr != nil {
		http.Error(w, "the API reference could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(referencePage)
}

func renderReference(doc []byte) ([]byte, error) {
	var d refDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var params map[string]json.RawMessage
	var full struct {
		Components struct {
			Parameters map[string]json.RawMessage `json:"parameters"`
			Responses  map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &full); err != nil {
		return nil, err
	}
	params = full.Components.Parameters
	page := refPage{Title: d.Info.Title, Version: d.Info.Version, Description: d.Info.Description}
	byTag := map[string]*refTag{}
	for _, t := range d.Tags {
		page.Tags = append(page.Tags, refTag{Name: t.Name, Description: t.Description})
	}
	for i := range page.Tags {
		byTag[page.Tags[i].Name] = &page.Tags[i]
	}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	order := map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4, "options": 5}
	for _, p := range paths {
		methods := make([]string, 0, len(d.Paths[p]))
		for m := range d.Paths[p] {
			methods = append(methods, m)
		}
		sort.Slice(methods, func(i, j int) bool { return order[methods[i]] < order[methods[j]] })
		for _, m := range methods {
			op := d.Paths[p][m]
			v := refOpView{ID: op.OperationID, Method: m, Path: p, Summary: op.Summary, Description: op.Description}
			for _, raw := range op.Parameters {
				var prm struct {
					Ref         string `json:"$ref"`
					Name, In    string
					Required    bool
					Description string
					Schema      struct {
						Type any `json:"type"`
					}
				}
				if err := json.Unmarshal(raw, &prm); err != nil {
					return nil, err
				}
				if prm.Ref != "" {
					if err := json.Unmarshal(params[strings.TrimPrefix(prm.Ref, "#/components/parameters/")], &prm); err != nil {
						return nil, err
					}
				}
				v.Params = append(v.Params, refParam{Name: prm.Name, In: prm.In, Required: prm.Required, Description: prm.Description, Type: typeName(prm.Schema.Type)})
			}
			if op.RequestBody != nil {
				v.Request = contentText(op.RequestBody.Content)
			}
			codes := make([]string, 0, len(op.Responses))
			for c := range op.Responses {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			for _, c := range codes {
				var res struct {
					Ref         string `json:"$ref"`
					Description string
					Content     map[string]json.RawMessage
				}
				if err := json.Unmarshal(op.Responses[c], &res); err != nil {
					return nil, err
				}
				if res.Ref != "" {
					if err := json.Unmarshal(full.Components.Responses[strings.TrimPrefix(res.Ref, "#/components/responses/")], &res); err != nil {
						return nil, err
					}
				}
				v.Responses = append(v.Responses, refResponse{Status: c, Description: res.Description, Body: contentText(res.Content)})
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			t, ok := byTag[tag]
			if !ok {
				page.Tags = append(page.Tags, refTag{Name: tag})
				byTag = map[string]*refTag{}
				for i := range page.Tags {
					byTag[page.Tags[i].Name] = &page.Tags[i]
				}
				t = byTag[tag]
			}
			t.Ops = append(t.Ops, v)
		}
	}
	names := make([]string, 0, len(d.Components.Schemas))
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		page.Schemas = append(page.Schemas, refSchema{Name: n, JSON: indent(d.Components.Schemas[n])})
	}
	var buf bytes.Buffer
	if err := referenceTmpl.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// contentText shows each media type's schema and example.
func contentText(content map[string]json.RawMessage) string {
	var b strings.Builder
	types := make([]string, 0, len(content))
	for ct := range content {
		types = append(types, ct)
	}
	sort.Strings(types)
	for _, ct := range types {
		b.WriteString(ct + "\n" + indent(content[ct]) + "\n")
	}
	return b.String()
}

func indent(raw json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return string(raw)
	}
	return out.String()
}

func typeName(t any) string {
	switch x := t.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, p := range x {
			if s, ok := p.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " | ")
	}
	return ""
}
