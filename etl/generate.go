package etl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// GenerateOptions shapes a generated file.
type GenerateOptions struct {
	Rows     int
	Seed     uint64
	From, To time.Time // sale dates, inclusive
	Snake    bool      // snake_case headers and discounts written 20.0, else display headers
	Comments bool      // include the Customer Comments column
	Invalid  float64   // share of rows made to break a rule (for demos of the reject path)
	// NotAfter, when set, is today: a payment or delivery that would fall after it has not
	// happened yet, so the sale is Pending or its parcel In Transit.
	NotAfter time.Time
	// Products and Reps size the catalogue and the sales force; 0 keeps the small world of
	// 25 products and 40 representatives.
	Products, Reps int
}

// GenerateStats counts what was written.
type GenerateStats struct {
	Rows, Invalid int
}

// worldSeed fixes the company the generator writes sales for.
const worldSeed = 20241026

// A small world: products with stable ids and prices, reps who each work
// one region, and returning customers, as a real business has.
type product struct {
	id, name, category string
	price, cost        int64 // cents
}

var catalogue = []struct {
	category string
	names    []string
	low      int64 // price range in dollars
	high     int64
}{
	{"Technology", []string{"Smartphone", "Laptop", "Tablet", "Headphones", "Smartwatch"}, 80, 1500},
	{"Clothing", []string{"Jeans", "T-Shirt", "Jacket", "Sneakers", "Dress"}, 15, 250},
	{"Furniture", []string{"Sofa", "Desk", "Office Chair", "Bookshelf", "Bed Frame"}, 90, 1800},
	{"Accessories", []string{"Watch", "Backpack", "Sunglasses", "Wallet", "Belt"}, 20, 400},
	{"Appliances", []string{"Coffee Maker", "Blender", "Microwave", "Vacuum Cleaner", "Toaster"}, 30, 600},
}

var (
	regions  = []string{"California", "Texas", "New York", "Florida", "Illinois"}
	channels = []string{"Online Store", "Physical Store", "Marketplace"}
	methods  = []string{"Credit Card", "Pix", "Invoice", "Bank Transfer"}
)

type world struct {
	products  []product
	reps      [][]string // by region
	customers []string
}

func newWorld(f *gofakeit.Faker, r *rand.Rand, products, reps int) *world {
	if products > 0 || reps > 0 {
		return newLargeWorld(f, r, products, reps)
	}
	w := &world{}
	for _, c := range catalogue {
		for _, name := range c.names {
			price := (c.low*100 + r.Int64N((c.high-c.low)*100)) / 100 * 100 // whole dollars
			price += int64(r.IntN(100))                                     // and cents
			w.products = append(w.products, product{
				id:   fmt.Sprintf("PRD%05d", 10000+r.IntN(90000)),
				name: name, category: c.category,
				price: price, cost: price * int64(45+r.IntN(30)) / 100,
			})
		}
	}
	for range regions {
		reps := make([]string, 8)
		for i := range reps {
			reps[i] = f.Name()
		}
		w.reps = append(w.reps, reps)
	}
	w.customers = make([]string, 2000)
	for i := range w.customers {
		w.customers[i] = f.Name()
	}
	return w
}

// newLargeWorld is a company of the given size (0 takes the small world's count): products
// of every category with unique names and ids, and representatives spread over the regions
// (at least one each).
func newLargeWorld(f *gofakeit.Faker, r *rand.Rand, products, reps int) *world {
	if products == 0 {
		products = 25
	}
	if reps == 0 {
		reps = 40
	}
	reps = max(reps, len(regions)) // every region has someone selling

	w := &world{reps: make([][]string, len(regions))}
	for i := range products {
		c := catalogue[i%len(catalogue)]
		price := (c.low*100+r.Int64N((c.high-c.low)*100))/100*100 + int64(r.IntN(100))
		w.products = append(w.products, product{
			id:       fmt.Sprintf("PRD%07d", i+1),
			name:     fmt.Sprintf("%s %s-%d", c.names[(i/len(catalogue))%len(c.names)], strings.ToUpper(f.LetterN(2)), 100+i),
			category: c.category, price: price, cost: price * int64(45+r.IntN(30)) / 100,
		})
	}
	seen := map[string]bool{}
	for i := range reps {
		name := f.Name()
		if seen[name] {
			name = fmt.Sprintf("%s %d", name, i)
		}
		seen[name] = true
		w.reps[i%len(regions)] = append(w.reps[i%len(regions)], name)
	}
	w.customers = make([]string, 2000)
	for i := range w.customers {
		w.customers[i] = f.Name()
	}
	return w
}

// Generate writes a sales CSV: the original's 24 columns (25 with comments), deterministic
// for a seed. Valid rows satisfy every rule; with Invalid > 0 that share of rows breaks one.
func Generate(out io.Writer, opt GenerateOptions) (GenerateStats, error) {
	if opt.Rows < 0 {
		return GenerateStats{}, errors.New("generate: rows must be ≥ 0")
	}
	if opt.To.Before(opt.From) {
		return GenerateStats{}, errors.New("generate: the date range ends before it starts")
	}
	if opt.Invalid < 0 || opt.Invalid > 1 {
		return GenerateStats{}, errors.New("generate: the invalid share must lie in [0, 1]")
	}
	// One company for every file: its catalogue, reps and customers come from a fixed seed,
	// so files of different days (seeds) share them, as a real business's files do.
	if opt.Products < 0 || opt.Reps < 0 {
		return GenerateStats{}, errors.New("generate: products and reps must be ≥ 0")
	}
	w := newWorld(gofakeit.New(worldSeed), rand.New(rand.NewPCG(worldSeed, worldSeed)), opt.Products, opt.Reps)
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5eed))
	f := gofakeit.New(opt.Seed)
	days := int(opt.To.Sub(opt.From).Hours()/24) + 1
	comments := make([]string, 200)
	for i := range comments {
		comments[i] = f.Sentence()
	}

	bw := bufio.NewWriterSize(out, 1<<20)
	header := displayHeader(opt.Comments)
	if opt.Snake {
		header = snakeHeader(opt.Comments)
	}
	bw.WriteString(strings.Join(header, ",") + "\n")

	var st GenerateStats
	var b []byte
	for i := 0; i < opt.Rows; i++ {
		row := w.sale(r, opt.From.AddDate(0, 0, r.IntN(days)))
		if !opt.NotAfter.IsZero() {
			row.notAfter(opt.NotAfter.Format(time.DateOnly))
		}
		if opt.Invalid > 0 && r.Float64() < opt.Invalid {
			breakRow(&row, r)
			st.Invalid++
		}
		b = row.appendCSV(b[:0], r, opt, comments)
		if _, err := bw.Write(b); err != nil {
			return st, fmt.Errorf("generate: %w", err)
		}
		st.Rows++
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("generate: %w", err)
	}
	return st, nil
}

type genRow struct {
	date, payDate, delDate                string
	id                                    string
	p                                     product
	quantity                              int64
	discount                              int64 // percent
	total, totalCost, profit, shipping    int64 // cents
	method, status, customerID, customer  string
	channel, region, rep, rating, deliver string
	extraField                            bool
}

func (w *world) sale(r *rand.Rand, day time.Time) genRow {
	p := w.products[r.IntN(len(w.products))]
	region := r.IntN(len(regions))
	q := int64(1 + r.IntN(10))
	d := []int64{0, 0, 5, 10, 15, 20}[r.IntN(6)]
	total := (q*p.price*(100-d) + 50) / 100
	row := genRow{
		date: day.Format(time.DateOnly), id: uuid(r), p: p, quantity: q, discount: d,
		total: total, totalCost: q * p.cost, profit: total - q*p.cost,
		shipping: int64(500 + r.IntN(4500)),
		method:   methods[r.IntN(len(methods))],
		channel:  channels[r.IntN(len(channels))],
		region:   regions[region],
		rep:      w.reps[region][r.IntN(len(w.reps[region]))],
		rating:   []string{"1 star", "2 stars", "3 stars", "4 stars", "5 stars"}[r.IntN(5)],
	}
	c := r.IntN(len(w.customers))
	row.customerID, row.customer = "CUS"+strconv.Itoa(1000+c), w.customers[c]
	switch n := r.IntN(20); {
	case n < 12:
		row.status = "Paid"
		row.payDate = day.AddDate(0, 0, r.IntN(8)).Format(time.DateOnly)
	case n < 17:
		row.status = "Pending"
	default:
		row.status = "Canceled"
	}
	switch {
	case row.status == "Canceled":
		row.deliver = "Canceled"
	case r.IntN(3) == 0:
		row.deliver = "In Transit"
	default:
		row.deliver = "Delivered"
		row.delDate = day.AddDate(0, 0, 1+r.IntN(10)).Format(time.DateOnly)
	}
	return row
}

// notAfter undoes a payment or delivery dated after today (YYYY-MM-DD compares as text).
func (row *genRow) notAfter(today string) {
	if row.payDate > today {
		row.status, row.payDate = "Pending", ""
	}
	if row.delDate > today {
		row.deliver, row.delDate = "In Transit", ""
	}
}

// breakRow makes a row break exactly one rule, picked at random.
func breakRow(row *genRow, r *rand.Rand) {
	switch r.IntN(8) {
	case 0:
		row.quantity = -row.quantity
	case 1:
		row.date = "2024-13-45"
	case 2:
		row.total += 500 // five dollars off the computed value
	case 3:
		row.status = "Refunded"
	case 4:
		row.id = ""
	case 5:
		d, _ := time.Parse(time.DateOnly, row.date)
		row.payDate, row.status = d.AddDate(0, 0, -1).Format(time.DateOnly), "Paid"
	case 6:
		row.discount = 150
	default:
		row.extraField = true
	}
}

func (row *genRow) appendCSV(b []byte, r *rand.Rand, opt GenerateOptions, comments []string) []byte {
	text := func(s string) {
		if strings.ContainsAny(s, ",\"\n\r") {
			s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		b = append(b, s...)
		b = append(b, ',')
	}
	money := func(c int64) {
		b = appendCents(b, c)
		b = append(b, ',')
	}
	text(row.date)
	text(row.id)
	text(row.p.id)
	text(row.p.name)
	text(row.p.category)
	b = strconv.AppendInt(b, row.quantity, 10)
	b = append(b, ',')
	money(row.p.price)
	b = strconv.AppendInt(b, row.discount, 10)
	if opt.Snake {
		b = append(b, ".0"...)
	}
	b = append(b, ',')
	money(row.total)
	money(row.p.cost)
	money(row.totalCost)
	money(row.profit)
	text(row.method)
	text(row.status)
	text(row.payDate)
	text(row.customerID)
	text(row.customer)
	text(row.channel)
	text(row.region)
	text(row.rep)
	text(row.rating)
	if opt.Comments {
		if r.IntN(4) == 0 {
			text(comments[r.IntN(len(comments))])
		} else {
			text("")
		}
	}
	money(row.shipping)
	text(row.deliver)
	b = append(b, row.delDate...)
	if row.extraField {
		b = append(b, ",surplus"...)
	}
	return append(b, '\n')
}

func appendCents(b []byte, c int64) []byte {
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	b = append(b, '.')
	if c%100 < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, c%100, 10)
}

// uuid is a version-4 UUID from the seeded source, so files are reproducible.
func uuid(r *rand.Rand) string {
	var u [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := 0; i < 8; i++ {
		u[i], u[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[c>>4], hex[c&15]
		j += 2
	}
	return string(s[:])
}

func displayHeader(comments bool) []string {
	var h []string
	for c, spec := range columns {
		if column(c) == colCustomerComments && !comments {
			continue
		}
		h = append(h, spec.display)
	}
	return h
}

func snakeHeader(comments bool) []string {
	var h []string
	for c, spec := range columns {
		if column(c) == colCustomerComments && !comments {
			continue
		}
		h = append(h, spec.snake)
	}
	return h
}
