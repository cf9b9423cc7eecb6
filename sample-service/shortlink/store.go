package shortlink

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Link is one stored short link.
type Link struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

var (
	// errNotFound is returned by the store when a code has no link.
	errNotFound = errors.New("link not found")
	// errCodeSpace is returned when no free code was found after several attempts.
	errCodeSpace = errors.New("no free code found")
)

var bucketLinks = []byte("links")

// store keeps links in a bbolt file. Every write is committed with fsync before the
// caller is answered, so an acknowledged link survives a crash or SIGTERM.
type store struct {
	db      *bolt.DB
	codeLen int
}

func openStore(path string, codeLen int) (*store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open link store %s: %w (is another shortlink process using it?)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketLinks)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init link store %s: %w", path, err)
	}
	return &store{db: db, codeLen: codeLen}, nil
}

func (s *store) close() error { return s.db.Close() }

// create stores url under a fresh random code. The write is fsync'd before it returns.
func (s *store) create(ctx context.Context, url string, now time.Time) (Link, error) {
	for range 8 {
		if err := ctx.Err(); err != nil {
			return Link{}, err
		}
		code := newCode(s.codeLen)
		l := Link{Code: code, URL: url, CreatedAt: now.UTC().Truncate(time.Millisecond)}
		val := encodeLink(l)
		taken := false
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketLinks)
			if b.Get([]byte(code)) != nil {
				taken = true
				return nil
			}
			return b.Put([]byte(code), val)
		})
		if err != nil {
			return Link{}, fmt.Errorf("store link: %w", err)
		}
		if !taken {
			return l, nil
		}
	}
	return Link{}, errCodeSpace
}

// get returns the link stored under code.
func (s *store) get(code string) (Link, error) {
	var l Link
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLinks).Get([]byte(code))
		if v == nil {
			return errNotFound
		}
		var err error
		l, err = decodeLink(code, v)
		return err
	})
	return l, err
}

// getURL returns only the target URL of code, the redirect's hot path.
func (s *store) getURL(code string) (string, error) {
	var url string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLinks).Get([]byte(code))
		if v == nil {
			return errNotFound
		}
		if len(v) < 8 {
			return fmt.Errorf("link %s: corrupt record of %d bytes", code, len(v))
		}
		url = string(v[8:]) // copied: v is only valid inside the transaction
		return nil
	})
	return url, err
}

// A stored record is the creation time in Unix milliseconds (8 bytes, big endian)
// followed by the URL; no parsing on the redirect path.
func encodeLink(l Link) []byte {
	b := make([]byte, 8, 8+len(l.URL))
	binary.BigEndian.PutUint64(b, uint64(l.CreatedAt.UnixMilli()))
	return append(b, l.URL...)
}

func decodeLink(code string, v []byte) (Link, error) {
	if len(v) < 8 {
		return Link{}, fmt.Errorf("link %s: corrupt record of %d bytes", code, len(v))
	}
	ms := int64(binary.BigEndian.Uint64(v))
	return Link{Code: code, URL: string(v[8:]), CreatedAt: time.UnixMilli(ms).UTC()}, nil
}

// delete removes code; errNotFound when it did not exist.
func (s *store) delete(code string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		if b.Get([]byte(code)) == nil {
			return errNotFound
		}
		return b.Delete([]byte(code))
	})
}

const codeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newCode returns n random base62 characters from crypto/rand.
func newCode(n int) string {
	// 256 is not a multiple of 62: reject bytes ≥ 248 to keep the distribution uniform.
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, codeAlphabet[b%62])
			}
		}
	}
	return string(out)
}

// validCode reports whether code could have been produced by newCode (any length from
// 1 to 64 base62 characters), so that lookups of garbage never reach the store.
func validCode(code string) bool {
	if len(code) == 0 || len(code) > 64 {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
