package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// UUID is a Kafka UUID: 16 bytes, shown in Kafka's URL-safe base64 without
// padding (22 characters), as topic ids and cluster ids are.
type UUID [16]byte

// NewUUID returns a random UUID that is neither zero nor Kafka's reserved
// metadata topic id (0...01), and whose text form does not start with '-'
// (Kafka avoids ids that look like command-line flags).
func NewUUID() UUID {
	for {
		var u UUID
		if _, err := rand.Read(u[:]); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
		}
		if u != (UUID{}) && u != (UUID{15: 1}) && u.String()[0] != '-' {
			return u
		}
	}
}

// IsZero reports whether u is the zero UUID (Kafka's "no id").
func (u UUID) IsZero() bool { return u == UUID{} }

func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// ParseUUID parses the 22-character form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("invalid uuid %q", s)
	}
	copy(u[:], b)
	return u, nil
}

// MarshalJSON writes the 22-character form.
func (u UUID) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

// UnmarshalJSON reads the 22-character form.
func (u *UUID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseUUID(s)
	*u = v
	return err
}
