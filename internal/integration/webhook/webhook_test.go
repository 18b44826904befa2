package webhook

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vectorFile mirrors testdata/standard-webhooks-vectors.json.
type vectorFile struct {
	Spec  string `json:"spec"`
	Valid []struct {
		Secret    string `json:"secret"`
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	} `json:"valid"`
	Invalid []struct {
		Case      string `json:"case"`
		Signature string `json:"signature"`
	} `json:"invalid"`
	MultiSignature string `json:"multi_signature"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/standard-webhooks-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		t.Fatal("vector file has no vectors")
	}
	return v
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestValidVectors(t *testing.T) {
	v := loadVectors(t)
	for i, vec := range v.Valid {
		t.Run(vec.ID, func(t *testing.T) {
			ts := time.Unix(vec.Timestamp, 0)
			got, err := Sign(vec.Secret, vec.ID, ts, []byte(vec.Payload))
			if err != nil {
				t.Fatalf("vector %d: Sign: %v", i, err)
			}
			if got != vec.Signature {
				t.Fatalf("vector %d: Sign = %q, want %q", i, got, vec.Signature)
			}
			for _, now := range []time.Time{ts, ts.Add(Tolerance), ts.Add(-Tolerance)} {
				if err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp, vec.Signature), []byte(vec.Payload), now); err != nil {
					t.Errorf("vector %d: Verify at now=ts%+v: %v", i, now.Sub(ts), err)
				}
			}
			// A single changed byte of payload, id or timestamp breaks it.
			if err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp, vec.Signature), []byte(vec.Payload+" "), ts); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered payload: err = %v, want ErrNoMatchingSignature", err)
			}
			if err := Verify(vec.Secret, headers(vec.ID+"x", vec.Timestamp, vec.Signature), []byte(vec.Payload), ts); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered id: err = %v, want ErrNoMatchingSignature", err)
			}
			if err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp+1, vec.Signature), []byte(vec.Payload), ts); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered timestamp: err = %v, want ErrNoMatchingSignature", err)
			}
		})
	}
}

func TestInvalidVectors(t *testing.T) {
	v := loadVectors(t)
	first := v.Valid[0]
	ts := time.Unix(first.Timestamp, 0)

	// Negative vectors without a signature describe a class of failures; each
	// is covered by a check here, keyed by a phrase of its "case".
	described := map[string]func(t *testing.T){
		"missing webhook-id": func(t *testing.T) {
			for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
				h := headers(first.ID, first.Timestamp, first.Signature)
				h.Del(name)
				if err := Verify(first.Secret, h, []byte(first.Payload), ts); !errors.Is(err, ErrMissingHeader) {
					t.Errorf("without %s: err = %v, want ErrMissingHeader", name, err)
				}
				h.Set(name, "")
				if err := Verify(first.Secret, h, []byte(first.Payload), ts); !errors.Is(err, ErrMissingHeader) {
					t.Errorf("with empty %s: err = %v, want ErrMissingHeader", name, err)
				}
			}
		},
		"timestamp older than": func(t *testing.T) {
			h := headers(first.ID, first.Timestamp, first.Signature)
			if err := Verify(first.Secret, h, []byte(first.Payload), ts.Add(Tolerance+time.Second)); !errors.Is(err, ErrTimestampTooOld) {
				t.Errorf("old: err = %v, want ErrTimestampTooOld", err)
			}
			if err := Verify(first.Secret, h, []byte(first.Payload), ts.Add(-Tolerance-time.Second)); !errors.Is(err, ErrTimestampTooNew) {
				t.Errorf("new: err = %v, want ErrTimestampTooNew", err)
			}
		},
		"empty secret": func(t *testing.T) {
			for _, secret := range []string{"", SecretPrefix} {
				if _, err := Sign(secret, first.ID, ts, []byte(first.Payload)); !errors.Is(err, ErrInvalidSecret) {
					t.Errorf("Sign(secret %q): err = %v, want ErrInvalidSecret", secret, err)
				}
				h := headers(first.ID, first.Timestamp, first.Signature)
				if err := Verify(secret, h, []byte(first.Payload), ts); !errors.Is(err, ErrInvalidSecret) {
					t.Errorf("Verify(secret %q): err = %v, want ErrInvalidSecret", secret, err)
				}
			}
		},
	}

	for _, neg := range v.Invalid {
		t.Run(neg.Case, func(t *testing.T) {
			if neg.Signature == "" {
				for phrase, check := range described {
					if strings.Contains(neg.Case, phrase) {
						check(t)
						return
					}
				}
				t.Fatalf("negative vector %q is not covered by any check", neg.Case)
			}
			// A signature-bearing negative vector must fail against every
			// valid vector's secret, id, timestamp and payload.
			for _, vec := range v.Valid {
				err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp, neg.Signature), []byte(vec.Payload), time.Unix(vec.Timestamp, 0))
				if !errors.Is(err, ErrNoMatchingSignature) {
					t.Errorf("against %s: err = %v, want ErrNoMatchingSignature", vec.ID, err)
				}
			}
		})
	}
}

func TestMultiSignatureVector(t *testing.T) {
	v := loadVectors(t)
	if v.MultiSignature == "" {
		t.Fatal("vector file lacks multi_signature")
	}
	vec := v.Valid[1]
	bad := v.Invalid[0].Signature                                    // a well-formed but wrong v1 signature
	_, badSig, _ := strings.Cut(bad, ",")                            // its base64 part
	v2 := "v2," + strings.TrimPrefix(vec.Signature, "v1,")           // right bytes, wrong version: skipped
	header := bad + " " + v2 + " " + vec.Signature + " v1," + badSig // 'v1,<bad> v2,<bad> <valid> v1,<bad>'
	ts := time.Unix(vec.Timestamp, 0)
	if err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp, header), []byte(vec.Payload), ts); err != nil {
		t.Fatalf("Verify(%q) = %v, want nil", header, err)
	}
	// Without the valid entry the same list fails; the v2 entry alone never counts.
	header = bad + " " + v2 + " v1," + badSig
	if err := Verify(vec.Secret, headers(vec.ID, vec.Timestamp, header), []byte(vec.Payload), ts); !errors.Is(err, ErrNoMatchingSignature) {
		t.Fatalf("Verify(%q) = %v, want ErrNoMatchingSignature", header, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	v := loadVectors(t)
	vec := v.Valid[0]
	ts := time.Unix(vec.Timestamp, 0)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		signature string
		want      error
	}{
		{"secret without prefix", strings.TrimPrefix(vec.Secret, SecretPrefix), "", vec.Signature, ErrInvalidSecret},
		{"secret not base64", "whsec_***", "", vec.Signature, ErrInvalidSecret},
		{"timestamp with letters", vec.Secret, "16142653x0", vec.Signature, ErrInvalidTimestamp},
		{"timestamp negative", vec.Secret, "-1614265330", vec.Signature, ErrInvalidTimestamp},
		{"timestamp plus sign", vec.Secret, "+1614265330", vec.Signature, ErrInvalidTimestamp},
		{"timestamp fractional", vec.Secret, "1614265330.0", vec.Signature, ErrInvalidTimestamp},
		{"timestamp in milliseconds", vec.Secret, "1614265330000", vec.Signature, ErrTimestampTooNew},
		{"timestamp overflow", vec.Secret, "99999999999999999999", vec.Signature, ErrInvalidTimestamp},
		{"timestamp zero", vec.Secret, "0", vec.Signature, ErrTimestampTooOld},
		{"signature without version", vec.Secret, "", strings.TrimPrefix(vec.Signature, "v1,"), ErrNoMatchingSignature},
		{"signature only other versions", vec.Secret, "", "v1a," + strings.TrimPrefix(vec.Signature, "v1,"), ErrNoMatchingSignature},
		{"signature not base64", vec.Secret, "", "v1,!!!!", ErrNoMatchingSignature},
		{"signature unpadded", vec.Secret, "", strings.TrimSuffix(vec.Signature, "="), ErrNoMatchingSignature},
		{"signature whitespace only", vec.Secret, "", "   ", ErrNoMatchingSignature},
		{"signature valid with extra spaces", vec.Secret, "", "  " + vec.Signature + "  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers(vec.ID, vec.Timestamp, tt.signature)
			if tt.timestamp != "" {
				h.Set(HeaderTimestamp, tt.timestamp)
			}
			err := Verify(tt.secret, h, []byte(vec.Payload), ts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignRejectsEmptyID(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(secret, "", time.Now(), []byte("{}")); !errors.Is(err, ErrInvalidMessageID) {
		t.Fatalf("err = %v, want ErrInvalidMessageID", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two secrets are equal")
	}
	for _, s := range []string{a, b} {
		enc, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			t.Fatalf("%q lacks the %q prefix", s, SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if len(key) < 24 || len(key) > 32 {
			t.Fatalf("%q: key is %d bytes, want 24–32", s, len(key))
		}
	}
	now := time.Unix(1_700_000_000, 0)
	payload := []byte(`{"type":"referral.converted"}`)
	sig, err := Sign(a, "msg_1", now, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(a, headers("msg_1", now.Unix(), sig), payload, now); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if err := Verify(b, headers("msg_1", now.Unix(), sig), payload, now); !errors.Is(err, ErrNoMatchingSignature) {
		t.Fatalf("other secret: err = %v, want ErrNoMatchingSignature", err)
	}
	// Key rotation: both signatures in one header, either secret verifies.
	sigB, err := Sign(b, "msg_1", now, payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{a, b} {
		if err := Verify(s, headers("msg_1", now.Unix(), sig+" "+sigB), payload, now); err != nil {
			t.Fatalf("rotation: %v", err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	for _, vec := range v.Valid {
		f.Add(vec.Secret, vec.ID, strconv.FormatInt(vec.Timestamp, 10), vec.Signature, []byte(vec.Payload))
	}
	for _, neg := range v.Invalid {
		f.Add(v.Valid[0].Secret, v.Valid[0].ID, "1614265330", neg.Signature, []byte(v.Valid[0].Payload))
	}
	f.Add("whsec_", "", "", "", []byte(nil))
	f.Add("whsec_====", "a", "-0", "v1,, ,v1 v1,=", []byte{0xff})
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, secret, id, ts, sig string, payload []byte) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := Verify(secret, h, payload, now)
		if err == nil {
			// Acceptance implies a genuine v1 signature for exactly these inputs.
			unix, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil {
				t.Fatalf("accepted unparsable timestamp %q", ts)
			}
			want, serr := Sign(secret, id, time.Unix(unix, 0), payload)
			if serr != nil {
				t.Fatalf("accepted but Sign fails: %v", serr)
			}
			if !strings.Contains(" "+strings.Join(strings.Fields(sig), " ")+" ", " "+want+" ") {
				t.Fatalf("accepted %q without the genuine signature %q", sig, want)
			}
		}
	})
}
