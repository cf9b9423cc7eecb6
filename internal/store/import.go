package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/slokit/slokit/chaos"
)

// ParseResult decodes a result.json written by `slokit chaos run --result` (or the
// demo). Errors carry file:line:col. Fields this slokit does not know are ignored so
// that results of newer versions still import; the fields the history needs must be set.
func ParseResult(file string, data []byte) (*chaos.Result, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	res := &chaos.Result{}
	if err := dec.Decode(res); err != nil {
		return nil, fmt.Errorf("%s: %w", position(file, data, errOffset(data, dec, err)), jsonMessage(err))
	}
	end := dec.InputOffset()
	for end < int64(len(data)) && strings.ContainsRune(" \t\r\n", rune(data[end])) {
		end++
	}
	if end < int64(len(data)) {
		return nil, fmt.Errorf("%s: more than one JSON value; a result file holds one object", position(file, data, end))
	}
	if err := checkResult(res); err != nil {
		return nil, fmt.Errorf("%s: not a slokit game-day result: %w", file, unwrapStore(err))
	}
	return res, nil
}

// unwrapStore drops the "game-day store: " prefix for messages about a file.
func unwrapStore(err error) error {
	const p = "game-day store: "
	if s := err.Error(); len(s) > len(p) && s[:len(p)] == p {
		return errors.New(s[len(p):])
	}
	return err
}

func jsonMessage(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("empty file; want a JSON object")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON ends early")
	}
	return err
}

// errOffset is the byte offset a decoding error points at.
func errOffset(data []byte, dec *json.Decoder, err error) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return se.Offset - 1 // the offset is just past the offending byte
	case errors.As(err, &te):
		// The offset is just past the value: back up to where the value starts.
		p := min(te.Offset, int64(len(data)))
		for p > 0 && !strings.ContainsRune(":,[{", rune(data[p-1])) {
			p--
		}
		for p < te.Offset && p < int64(len(data)) && strings.ContainsRune(" \t\r\n", rune(data[p])) {
			p++
		}
		return p
	case errors.Is(err, io.ErrUnexpectedEOF):
		return int64(len(data))
	}
	return dec.InputOffset()
}

// position renders file:line:col of byte offset off in data.
func position(file string, data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}

// ImportFile reads a file ParseFile takes (a result, gzipped or not, or the operator's
// report ConfigMaps) and records each result with source "import <where>". It returns
// the results recorded, and an error for those that were not.
func (s *Store) ImportFile(ctx context.Context, path string) ([]*chaos.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("importing a result: %w", err)
	}
	imps, perr := ParseFile(path, data)
	var out []*chaos.Result
	for _, imp := range imps {
		if err := s.Record(ctx, imp.Result, "import "+imp.From); err != nil {
			return out, errors.Join(perr, err)
		}
		out = append(out, imp.Result)
	}
	return out, perr
}
