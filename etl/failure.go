package etl

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jackc/pgx/v5/pgconn"
)

// FailureClass says what a failed load means for its file, and so for the files queued
// behind it on the same partition.
type FailureClass int

const (
	// FailureUnclassified is an error not recognised: the file is tried again within its
	// retry budget, then fails.
	FailureUnclassified FailureClass = iota
	// FailureTransient is a dependency away or overloaded: a lost connection, PostgreSQL
	// restarting, out of resources or cancelling (SQLSTATE classes 08, 40, 53, 57), the
	// store answering 5xx or throttling, a timeout. Tried again; while the dependency is
	// away the file is not at fault and the wait does not spend its budget.
	FailureTransient
	// FailureDeterministic is the file's own: the same bytes fail the same way (SQLSTATE
	// classes 22, 23 and 54: data, integrity and size limits), or the object, its bucket or
	// the permission to read it is missing. The file fails at once.
	FailureDeterministic
)

func (c FailureClass) String() string {
	switch c {
	case FailureTransient:
		return "transient"
	case FailureDeterministic:
		return "deterministic"
	}
	return "unclassified"
}

// ClassifyFailure tells the class of an error returned by Loader.Load.
func ClassifyFailure(err error) FailureClass {
	if errors.Is(err, errTooSlow) || errors.As(err, new(*panicError)) {
		return FailureUnclassified // the file may be at fault, or the machine slow: bounded
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return sqlStateClass(pgErr.Code)
	}
	if errors.As(err, new(*InflateError)) || errors.As(err, new(*CorruptError)) {
		return FailureDeterministic // the same bytes inflate the same way
	}
	if errors.Is(err, ErrGone) || errors.Is(err, ErrNoBucket) || errors.Is(err, ErrAccessDenied) ||
		errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return FailureDeterministic
	}
	if c, ok := storeClass(err); ok {
		return c
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, errFileChanged):
		return FailureTransient // the next try reads the new version
	case errors.As(err, &connect), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded):
		return FailureTransient
	}
	return FailureUnclassified
}

// sqlStateClass classifies a PostgreSQL error by the class of its SQLSTATE (its first two
// characters; see the PostgreSQL manual's appendix "Error Codes").
func sqlStateClass(code string) FailureClass {
	if len(code) != 5 {
		return FailureUnclassified
	}
	switch code[:2] {
	case "22", // data exception: invalid text, numbers or dates out of range
		"23", // integrity constraint violation
		"54": // program limit exceeded: an index row or a value too big
		return FailureDeterministic
	case "08", // connection exception
		"40", // transaction rollback: serialization failure, deadlock
		"53", // insufficient resources: disk full, out of memory, too many connections
		"57": // operator intervention: shutdown, query cancelled
		return FailureTransient
	}
	if code == "55P03" { // lock not available
		return FailureTransient
	}
	return FailureUnclassified
}

// transientStoreCodes are the store's answers that say "later": throttling, its own
// trouble, expired temporary credentials (the credential chain renews them), or an object
// replaced between two reads of one load.
var transientStoreCodes = map[string]bool{
	"SlowDown": true, "RequestTimeout": true, "InternalError": true, "ServiceUnavailable": true,
	"ExpiredToken": true, "PreconditionFailed": true,
}

// storeClass classifies an answer of the store that the S3 errors did not mark already.
func storeClass(err error) (FailureClass, bool) {
	var api smithy.APIError
	if errors.As(err, &api) && transientStoreCodes[api.ErrorCode()] {
		return FailureTransient, true
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return FailureTransient, true // the request did not reach the store
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		if code := resp.HTTPStatusCode(); code >= 500 || code == http.StatusTooManyRequests ||
			code == http.StatusRequestTimeout || code == http.StatusPreconditionFailed {
			return FailureTransient, true
		}
		return FailureUnclassified, true // another refusal: bounded
	}
	return 0, false
}
