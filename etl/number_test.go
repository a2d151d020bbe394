package etl

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestParseFixed(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64 // units of 0.0001
		err  error
	}{
		{"0", 0, nil},
		{"1", 10_000, nil},
		{"-1", -10_000, nil},
		{"+1", 10_000, nil},
		{"-0", 0, nil},
		{"007", 70_000, nil},
		{"12.5", 125_000, nil},
		{"20.0", 200_000, nil},
		{"0.0001", 1, nil},
		{".5", 5_000, nil},
		{"5.", 50_000, nil},
		{"116.54", 1_165_400, nil},
		// Beyond four decimals the first dropped digit rounds, half away from zero.
		{"0.00005", 1, nil},
		{"-0.00005", -1, nil},
		{"0.00004999", 0, nil},
		{"1.23455", 12_346, nil},
		{"1.23454999", 12_345, nil},
		{"-1.23455", -12_346, nil},
		{"0.99995", 10_000, nil},
		{"396.23599999999999", 3_962_360, nil},
		// Exponents.
		{"1.5e3", 15_000_000, nil},
		{"1.5E+3", 15_000_000, nil},
		{"-2.5e-1", -2_500, nil},
		{"4e-05", 0, nil},
		{"5e-05", 1, nil},
		{"-5e-5", -1, nil},
		{"1.23456e-2", 123, nil},
		{"1.234567E+03", 12_345_670, nil}, // digits past the mantissa's fourth decimal still count
		{"1.00005e1", 100_005, nil},
		{"1.000049e1", 100_005, nil},
		{"0.00012345e2", 123, nil},
		{"5.e1", 500_000, nil},
		{".5e1", 50_000, nil},
		{"0e99", 0, nil},
		{"1e-99", 0, nil},
		{"0.00005e99", 0, errTooLarge},
		{"1e40", 0, errTooLarge},
		{"1e15", 0, errTooLarge},
		{"9e14", 9_000_000_000_000_000_000, nil},
		// Range: close to MaxInt64 units (the digit-by-digit overflow check is conservative by
		// a few units, far beyond any amount the rules accept).
		{"922337203685477.5799", math.MaxInt64 - 8, nil},
		{"-922337203685477.5799", -(math.MaxInt64 - 8), nil},
		{"922337203685477.5808", 0, errTooLarge},
		{"922337203685477.58075", 0, errTooLarge}, // rounding up overflows
		{"922337203685478", 0, errTooLarge},
		{"99999999999999999999", 0, errTooLarge},
		// Not numbers.
		{"", 0, errNotNumber},
		{"-", 0, errNotNumber},
		{"+", 0, errNotNumber},
		{".", 0, errNotNumber},
		{"-.", 0, errNotNumber},
		{"abc", 0, errNotNumber},
		{"1.2.3", 0, errNotNumber},
		{"1,5", 0, errNotNumber},
		{"1 000", 0, errNotNumber},
		{" 1", 0, errNotNumber}, // the rules trim first
		{"--1", 0, errNotNumber},
		{"+-1", 0, errNotNumber},
		{"1-", 0, errNotNumber},
		{"1e", 0, errNotNumber},
		{"1e+", 0, errNotNumber},
		{"1e5x", 0, errNotNumber},
		{"1e-99x", 0, errNotNumber},
		{"1e99x", 0, errNotNumber},
		{"1e1.5", 0, errNotNumber},
		{"e5", 0, errNotNumber},
		{".e5", 0, errNotNumber},
		{"0x10", 0, errNotNumber},
		{"1_000", 0, errNotNumber},
		{"NaN", 0, errNotNumber},
		{"Inf", 0, errNotNumber},
		{"١٢", 0, errNotNumber}, // digits of other scripts
	} {
		got, err := parseFixed([]byte(tt.in))
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("parseFixed(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFixedToCents(t *testing.T) {
	for _, tt := range []struct{ in, want int64 }{
		{0, 0},
		{49, 0},
		{50, 1}, // 0.005 rounds up
		{149, 1},
		{150, 2},
		{-49, 0},
		{-50, -1}, // and -0.005 down: half away from zero
		{-150, -2},
		{-151, -2},
		{1_234_567, 12_346},
		{-1_234_567, -12_346},
		{1_165_400, 11_654},
		{maxMoney, maxMoney / 100},
		{-maxMoney, -maxMoney / 100},
	} {
		if got := fixedToCents(tt.in); got != tt.want {
			t.Errorf("fixedToCents(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTotalValueOff(t *testing.T) {
	// 4 × 116.54 less 15 % is 396.236.
	const q, price, disc = 4, 1_165_400, 150_000
	for _, tt := range []struct {
		name                      string
		quantity, price, discount int64
		total                     int64
		off                       bool
	}{
		{"exact", q, price, disc, 3_962_360, false},
		{"0.01 over", q, price, disc, 3_962_460, false},
		{"0.0101 over", q, price, disc, 3_962_461, true},
		{"0.01 under", q, price, disc, 3_962_260, false},
		{"0.0101 under", q, price, disc, 3_962_259, true},
		{"no discount", q, price, 0, 4_661_600, false},
		{"full discount", q, price, 1_000_000, 0, false},
		{"full discount, 0.01", q, price, 1_000_000, 100, false},
		{"full discount, 0.0101", q, price, 1_000_000, 101, true},
		{"zero price", 7, 0, 0, 0, false},
		// quantity × price × 10^6 needs more than 64 bits: the comparison stays exact.
		{"large", 1_000, 10_000_000_000_000, 0, 10_000_000_000_000_000, false},
		{"large, 0.0101 over", 1_000, 10_000_000_000_000, 0, 10_000_000_000_000_101, true},
		{"large, 12.5 %", 1_000, 10_000_000_000_000, 125_000, 8_750_000_000_000_000, false},
		{"large, 12.5 %, 0.0101 under", 1_000, 10_000_000_000_000, 125_000, 8_749_999_999_999_899, true},
		{"product beyond 64 bits", math.MaxInt32, maxMoney, 0, maxMoney, true},
	} {
		if got := totalValueOff(tt.quantity, tt.price, tt.discount, tt.total); got != tt.off {
			t.Errorf("%s: totalValueOff = %v, want %v", tt.name, got, tt.off)
		}
	}
}

func TestProductOff(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		quantity, unit, total int64
		off                   bool
	}{
		{"exact", 4, 627_800, 2_511_200, false},
		{"0.01 over", 4, 627_800, 2_511_300, false},
		{"0.0101 over", 4, 627_800, 2_511_301, true},
		{"0.01 under", 4, 627_800, 2_511_100, false},
		{"0.0101 under", 4, 627_800, 2_511_099, true},
		{"beyond int64", math.MaxInt32, math.MaxInt64 / 2, 0, true},
		{"beyond 64 bits", math.MaxInt32, math.MaxInt64, 0, true},
	} {
		if got := productOff(tt.quantity, tt.unit, tt.total); got != tt.off {
			t.Errorf("%s: productOff = %v, want %v", tt.name, got, tt.off)
		}
	}
}

func TestDifferenceOff(t *testing.T) {
	for _, tt := range []struct {
		name                string
		value, cost, profit int64
		off                 bool
	}{
		{"exact", 3_962_400, 2_511_200, 1_451_200, false},
		{"0.01 over", 3_962_400, 2_511_200, 1_451_300, false},
		{"0.0101 over", 3_962_400, 2_511_200, 1_451_301, true},
		{"0.01 under", 3_962_400, 2_511_200, 1_451_100, false},
		{"0.0101 under", 3_962_400, 2_511_200, 1_451_099, true},
		{"loss", 1_000, 10_000, -9_000, false},
		{"loss, 0.0101", 1_000, 10_000, -8_899, true},
		{"largest", maxMoney, 0, maxMoney, false},
		{"largest loss", 0, maxMoney, -maxMoney, false},
	} {
		if got := differenceOff(tt.value, tt.cost, tt.profit); got != tt.off {
			t.Errorf("%s: differenceOff = %v, want %v", tt.name, got, tt.off)
		}
	}
}

func TestFormatFixed(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0.00", 1_451_200: "145.12", 3_962_360: "396.2360", 1: "0.0001", -837_700: "-83.77", -5: "-0.0005",
	} {
		if got := formatFixed(in); got != want {
			t.Errorf("formatFixed(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestSaleKey(t *testing.T) {
	uuid := func(s string) pgtype.UUID {
		u, ok := parseUUID([]byte(s))
		if !ok {
			t.Fatalf("bad test UUID %q", s)
		}
		return pgtype.UUID{Bytes: u, Valid: true}
	}
	own := pgtype.UUID{Bytes: [16]byte{0xfb, 0xb2, 0x6b, 0xaa, 0x95, 0x8c, 0x40, 0x15, 0x83, 0xec, 0x0e, 0xe2, 0x31, 0x9e, 0x54, 0x64}, Valid: true}

	// A UUID id is its own key, in any letter case.
	for _, id := range []string{
		"fbb26baa-958c-4015-83ec-0ee2319e5464",
		"FBB26BAA-958C-4015-83EC-0EE2319E5464",
		"fbB26BaA-958c-4015-83Ec-0eE2319e5464",
	} {
		if got := saleKey([]byte(id)); got != own {
			t.Errorf("saleKey(%q) = %x, want its own bytes %x", id, got.Bytes, own.Bytes)
		}
	}

	// Other ids get the version-5 UUID of the namespace and the id as written; the expected
	// values come from Python's uuid.uuid5.
	for id, want := range map[string]string{
		"ORD-1001": "c31b67c3-6215-5209-aa79-dd346065a0a7",
		"ord-1001": "edd64c7e-21e2-5713-9516-a338ed7f6818",
		"":         "87bf106f-9ce2-5352-9152-8370e1c47050",
		"João-7":   "d5f24648-bea6-57cf-a587-9ed4aac497a2",
	} {
		if got := saleKey([]byte(id)); got != uuid(want) {
			t.Errorf("saleKey(%q) = %x, want %s", id, got.Bytes, want)
		}
	}

	// Near-UUIDs are names, not UUIDs; each gets a distinct, stable version-5 key.
	seen := map[[16]byte]string{own.Bytes: "the UUID itself"}
	for _, id := range []string{
		"fbb26baa-958c-4015-83ec-0ee2319e546",    // one digit short
		"fbb26baa-958c-4015-83ec-0ee2319e54640",  // one digit more
		"{fbb26baa-958c-4015-83ec-0ee2319e5464}", // braces
		"fbb26baa958c401583ec0ee2319e5464",       // no hyphens
		"fbb26baa-958c-4015-83ec-0ee2319e546g",   // not hex
		"fbb26baa+958c-4015-83ec-0ee2319e5464",   // hyphen misplaced
		"ORD-1002",
		strings.Repeat("é", maxTextRunes), // the longest id there can be
	} {
		k := saleKey([]byte(id))
		if !k.Valid || k.Bytes[6]>>4 != 5 || k.Bytes[8]>>6 != 2 {
			t.Errorf("saleKey(%q) = %x: not a version-5 RFC 4122 UUID", id, k.Bytes)
		}
		if k != saleKey([]byte(id)) {
			t.Errorf("saleKey(%q) is not stable", id)
		}
		if prev, dup := seen[k.Bytes]; dup {
			t.Errorf("saleKey(%q) = saleKey(%q)", id, prev)
		}
		seen[k.Bytes] = id
	}
}

func TestParseDecimalComma(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64 // units of 0.0001
		err  error
	}{
		{"0", 0, nil},
		{"12,5", 125_000, nil},
		{"-12,50", -125_000, nil},
		{"+1", 10_000, nil},
		{"116,54", 1_165_400, nil},
		{"1234,56", 12_345_600, nil},
		{"1.234,56", 12_345_600, nil},
		{"1.234", 12_340_000, nil},
		{"12.345.678,9", 123_456_789_000, nil},
		{"-1.000.000", -10_000_000_000, nil},
		{"0,00005", 1, nil}, // rounding as parseFixed's
		{"1,23455", 12_346, nil},
		{",5", 5_000, nil},
		{"5,", 50_000, nil},
		{"007", 70_000, nil},
		{"922.337.203.685.477,5808", 0, errTooLarge},
		// Not numbers this way.
		{"", 0, errNotNumber},
		{"-", 0, errNotNumber},
		{",", 0, errNotNumber},
		{"12.5", 0, errNotNumber},     // a point before fewer than three digits
		{"1234.567", 0, errNotNumber}, // a first group of four
		{"0.123", 0, errNotNumber},    // a first group starting with 0
		{"1.23.456", 0, errNotNumber},
		{"1.2345", 0, errNotNumber},
		{".123", 0, errNotNumber},
		{"1.", 0, errNotNumber},
		{"1.234.", 0, errNotNumber},
		{"1,2,3", 0, errNotNumber},
		{"1,234.5", 0, errNotNumber},
		{"1,5e3", 0, errNotNumber},
		{"1e3", 0, errNotNumber},
		{"1 234,5", 0, errNotNumber},
		{"R$ 1,00", 0, errNotNumber},
		{"--1", 0, errNotNumber},
		{"1,-5", 0, errNotNumber},
	} {
		got, err := parseDecimalComma([]byte(tt.in))
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("parseDecimalComma(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestShowFixed(t *testing.T) {
	for v, want := range map[int64]string{0: "0", 12_340: "1.234", 12_340_000: "1234", 125_000: "12.5", -125_000: "-12.5", 1: "0.0001", 10_000_000: "1000"} {
		if got := showFixed(v); got != want {
			t.Errorf("showFixed(%d) = %q, want %q", v, got, want)
		}
	}
}
