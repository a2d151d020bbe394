package etl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Numbers are read exactly as fixed point with four decimals (units of 0.0001): enough for
// money written in cents, discounts such as 12.5, and the noise of producers that print
// binary floating point (digits beyond the fourth are rounded half away from zero).
const fixedScale = 10_000

var (
	errNotNumber = errors.New("not a number")
	errTooLarge  = errors.New("too large")
)

// parseFixed reads [+-]digits[.digits][e[+-]digits] into units of 0.0001.
func parseFixed(b []byte) (int64, error) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64 // significant digits, scaled by 10^-frac
	frac, digits, dropped := 0, 0, false
	roundUp := false
	intPart := true
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if !intPart && frac >= 4 {
				// Beyond four decimals only rounding matters: the first dropped digit decides.
				if !dropped {
					roundUp = c >= '5'
					dropped = true
				}
				continue
			}
			if mant > (math.MaxInt64-9)/10 {
				return 0, errTooLarge
			}
			mant = mant*10 + uint64(c-'0')
			if !intPart {
				frac++
			}
		case c == '.' && intPart:
			intPart = false
		case (c == 'e' || c == 'E') && digits > 0:
			return parseExponent(b, i, neg)
		default:
			return 0, errNotNumber
		}
	}
	if digits == 0 {
		return 0, errNotNumber
	}
	return finishFixed(neg, mant, frac, roundUp)
}

// parseDecimalComma reads a number written with a decimal comma, [+-]digits[,digits], whose
// integer digits may be grouped in threes with points (1.234.567,89), into units of 0.0001.
// It is parseFixed for the other way of writing numbers, rounding included; no exponent.
func parseDecimalComma(b []byte) (int64, error) {
	var buf [40]byte
	point, ok := commaToPoint(buf[:0], b)
	if !ok {
		return 0, errNotNumber
	}
	return parseFixed(point)
}

// commaToPoint appends b, a decimal-comma number, to dst as parseFixed reads numbers: without
// the grouping points and with a point for the comma. It reports whether b is well formed:
// grouping points stand between groups of exactly three digits after a first group of one to
// three that does not start with 0, so "1.234" may be grouped but "0.123" and "12.34" are not.
func commaToPoint(dst, b []byte) ([]byte, bool) {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		dst = append(dst, b[0])
		b = b[1:]
	}
	whole, frac, hasComma := bytes.Cut(b, []byte{','})
	digits := 0
	group, grouped := 0, false // digits since the last grouping point
	for i, c := range whole {
		switch {
		case c >= '0' && c <= '9':
			dst = append(dst, c)
			digits++
			group++
		case c == '.' && (grouped && group == 3 || !grouped && group >= 1 && group <= 3 && whole[0] != '0'):
			grouped, group = true, 0
		default:
			return nil, false
		}
		if i == len(whole)-1 && grouped && group != 3 {
			return nil, false
		}
	}
	if hasComma {
		dst = append(dst, '.')
		for _, c := range frac {
			if c < '0' || c > '9' {
				return nil, false
			}
			dst = append(dst, c)
			digits++
		}
	}
	return dst, digits > 0
}

func finishFixed(neg bool, mant uint64, frac int, roundUp bool) (int64, error) {
	for ; frac < 4; frac++ {
		if mant > math.MaxInt64/10 {
			return 0, errTooLarge
		}
		mant *= 10
	}
	if roundUp {
		mant++
	}
	if mant > math.MaxInt64 {
		return 0, errTooLarge
	}
	if neg {
		return -int64(mant), nil
	}
	return int64(mant), nil
}

// parseExponent handles the rare 1.5e3 or 4e-05 form; at is the index of the e, and the
// mantissa before it is well formed. Its digits are read again with the decimal point moved
// by the exponent, so rounding happens at the fourth decimal of the value itself.
func parseExponent(b []byte, at int, neg bool) (int64, error) {
	j, eneg := at+1, false
	if j < len(b) && (b[j] == '+' || b[j] == '-') {
		eneg = b[j] == '-'
		j++
	}
	if j == len(b) {
		return 0, errNotNumber
	}
	exp := 0
	for ; j < len(b); j++ {
		if b[j] < '0' || b[j] > '9' {
			return 0, errNotNumber
		}
		exp = min(exp*10+int(b[j]-'0'), 1000) // beyond this the value is 0 or too large anyway
	}
	if eneg {
		exp = -exp
	}
	m := b[:at]
	if m[0] == '+' || m[0] == '-' {
		m = m[1:]
	}
	point := bytes.IndexByte(m, '.')
	if point < 0 {
		point = len(m)
	}
	// place is the decimal position of the next digit once shifted: 1 for the first decimal,
	// 0 for units, -1 for tens. Digits up to the fourth decimal are kept, the fifth rounds.
	place := 1 - point - exp
	last := place - 1 // decimal position of mant's last digit
	var mant uint64
	roundUp := false
	for _, c := range m {
		if c == '.' {
			continue
		}
		switch {
		case place <= 4:
			if mant > (math.MaxInt64-9)/10 {
				return 0, errTooLarge
			}
			mant = mant*10 + uint64(c-'0')
			last = place
		case place == 5:
			roundUp = c >= '5'
		}
		place++
	}
	return finishFixed(neg, mant, last, roundUp)
}

// fixedToCents rounds units of 0.0001 to cents, half away from zero.
func fixedToCents(v int64) int64 {
	if v < 0 {
		return -((-v + 50) / 100)
	}
	return (v + 50) / 100
}

// tolerance is the 0.01 a derived amount may differ by, in units of 0.0001.
const tolerance = 100

// totalValueOff reports whether total differs from quantity × price × (1 − discount/100)
// by more than 0.01. price, discount (a percentage) and total are fixed point, all ≥ 0.
// The product needs up to 128 bits; it is compared exactly, without rounding.
func totalValueOff(quantity int64, price, discount, total int64) bool {
	// quantity × price × (100·10^4 − discount) is the value in units of 10^-10.
	hi, lo := bits.Mul64(uint64(quantity), uint64(price))
	if hi != 0 {
		return true
	}
	hi, lo = mul128(hi, lo, uint64(100*fixedScale-discount))
	// total in the same units: total × 10^6.
	thi, tlo := bits.Mul64(uint64(total), 1_000_000)
	// |value − total| ≤ 0.01 = 10^8 units of 10^-10.
	dhi, dlo := absDiff128(hi, lo, thi, tlo)
	return dhi != 0 || dlo > 100_000_000
}

func mul128(hi, lo, m uint64) (uint64, uint64) {
	h1, l1 := bits.Mul64(lo, m)
	_, l2 := bits.Mul64(hi, m)
	return h1 + l2, l1
}

func absDiff128(ahi, alo, bhi, blo uint64) (uint64, uint64) {
	if ahi < bhi || (ahi == bhi && alo < blo) {
		ahi, alo, bhi, blo = bhi, blo, ahi, alo
	}
	lo, borrow := bits.Sub64(alo, blo, 0)
	hi, _ := bits.Sub64(ahi, bhi, borrow)
	return hi, lo
}

// productOff reports whether total differs from quantity × unit by more than 0.01.
func productOff(quantity, unit, total int64) bool {
	hi, lo := bits.Mul64(uint64(quantity), uint64(unit))
	if hi != 0 || lo > math.MaxInt64 {
		return true
	}
	d := int64(lo) - total
	return d > tolerance || d < -tolerance
}

// differenceOff reports whether profit differs from value − cost by more than 0.01.
func differenceOff(value, cost, profit int64) bool {
	d := value - cost - profit // magnitudes are far below overflow: each fits in 63 bits / 4
	return d > tolerance || d < -tolerance
}

// parseNumber reads b in one of the number formats.
func parseNumber(format int, b []byte) (int64, error) {
	if format == numberComma {
		return parseDecimalComma(b)
	}
	return parseFixed(b)
}

// showFixed prints fixed point with as few decimals as it needs: 1.234, 1234, -12.5.
func showFixed(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%04d", sign, v/fixedScale, v%fixedScale)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
