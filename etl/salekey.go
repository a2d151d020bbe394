package etl

import (
	"crypto/sha1"

	"github.com/jackc/pgx/v5/pgtype"
)

// saleKeyNamespace is the UUID namespace of sale ids that are not UUIDs themselves.
var saleKeyNamespace = [16]byte{0x6b, 0x1f, 0x2a, 0x5e, 0x93, 0x0c, 0x4d, 0x21, 0x8e, 0x47, 0x3d, 0x90, 0x5a, 0x11, 0xc2, 0x7f}

// saleKey identifies a sale by its id: a UUID id is its own key, whatever its letter case;
// any other id gets its name-based UUID (version 5, SHA-1), so equal ids share a key.
func saleKey(id []byte) pgtype.UUID {
	if u, ok := parseUUID(id); ok {
		return pgtype.UUID{Bytes: u, Valid: true}
	}
	var buf [16 + maxTextRunes*4]byte
	sum := sha1.Sum(append(append(buf[:0], saleKeyNamespace[:]...), id...))
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return pgtype.UUID{Bytes: u, Valid: true}
}

// parseUUID reads the canonical 8-4-4-4-12 hexadecimal form.
func parseUUID(b []byte) ([16]byte, bool) {
	var u [16]byte
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		i, j = i+2, j+1
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
