// go-oracle prints what Go's standard library reads from given bytes: the reading of
// docker, containerd, podman and skopeo, which are Go programs. airlock's differential
// tests (tests/differential_fuzz.rs) compare airlock's reading of the same bytes with it.
//
// Standard library only. Input on stdin: a sequence of cases, each one byte of mode, a
// 4-byte little-endian length, then that many bytes. Output: one JSON line per case.
//
// Modes:
//
//	t  a tar stream, read with archive/tar's Reader: every entry as Next returns it
//	   (name and link name in hex, type flag, Header.Size) and what Read yields of its
//	   data (length, sha256, or the error), then the error Next ended with ("" for io.EOF).
//	z  a gzip stream, read with compress/gzip's Reader (multistream): the length and
//	   sha256 of what it yields, and the error it ends with ("" for io.EOF).
//	m  docker save's manifest.json, decoded as moby's image/tarexport decodes it.
//	i  an OCI image index, o an OCI image manifest (image-spec specs-go/v1 shapes).
//	c  an image config (image-spec v1 Image: the fields loaders read).
//	   JSON modes print the decoded struct re-encoded (json.Marshal: canonical field
//	   order) or the error of json.Unmarshal.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// maxData bounds what the oracle reads of one entry's data.
const maxData = 16 << 20

var errTooLarge = fmt.Errorf("oracle: more than %d bytes of data, not read", maxData)

type entry struct {
	Name    string `json:"name"`
	Link    string `json:"link"`
	Type    int    `json:"type"`
	Size    int64  `json:"size"`
	Len     int64  `json:"len"`
	Sha256  string `json:"sha256"`
	DataErr string `json:"data_err"`
}

type tarResult struct {
	Entries []entry `json:"entries"`
	Err     string  `json:"err"`
}

type streamResult struct {
	Len    int64  `json:"len"`
	Sha256 string `json:"sha256"`
	Err    string `json:"err"`
}

type jsonResult struct {
	Value json.RawMessage `json:"value"`
	Err   string          `json:"err"`
}

// moby image/tarexport manifestItem, as the brief of the loaders reads it.
type manifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// image-spec specs-go/v1.
type platform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
	Variant      string   `json:"variant,omitempty"`
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Data         []byte            `json:"data,omitempty"`
	Platform     *platform         `json:"platform,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

type index struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type history struct {
	CreatedBy  string `json:"created_by,omitempty"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type image struct {
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Variant      string    `json:"variant,omitempty"`
	RootFS       rootFS    `json:"rootfs"`
	History      []history `json:"history,omitempty"`
}

func errText(err error) string {
	if err == nil || err == io.EOF {
		return ""
	}
	return err.Error()
}

func readTar(b []byte) tarResult {
	tr := tar.NewReader(bytes.NewReader(b))
	res := tarResult{Entries: []entry{}}
	for {
		h, err := tr.Next()
		if err != nil {
			res.Err = errText(err)
			return res
		}
		// Entry data is read up to a cap: a sparse file can claim gigabytes of holes.
		sum := sha256.New()
		n, err := io.CopyN(sum, tr, maxData+1)
		if err == io.EOF {
			err = nil
		} else if err == nil {
			err = errTooLarge
		}
		res.Entries = append(res.Entries, entry{
			Name:    hex.EncodeToString([]byte(h.Name)),
			Link:    hex.EncodeToString([]byte(h.Linkname)),
			Type:    int(h.Typeflag),
			Size:    h.Size,
			Len:     n,
			Sha256:  hex.EncodeToString(sum.Sum(nil)),
			DataErr: errText(err),
		})
		if err == errTooLarge {
			continue
		}
		if err != nil {
			res.Err = "data: " + err.Error()
			return res
		}
	}
}

func readGzip(b []byte) streamResult {
	sum := sha256.New()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // an empty stream is no gzip stream
		}
		return streamResult{Sha256: hex.EncodeToString(sum.Sum(nil)), Err: err.Error()}
	}
	n, err := io.Copy(sum, zr)
	return streamResult{Len: n, Sha256: hex.EncodeToString(sum.Sum(nil)), Err: errText(err)}
}

func decode(b []byte, v interface{}) jsonResult {
	if err := json.Unmarshal(b, v); err != nil {
		return jsonResult{Err: err.Error()}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return jsonResult{Err: "marshal: " + err.Error()}
	}
	return jsonResult{Value: out}
}

func one(mode byte, b []byte) interface{} {
	switch mode {
	case 't':
		return readTar(b)
	case 'z':
		return readGzip(b)
	case 'm':
		var v []manifestItem
		return decode(b, &v)
	case 'i':
		var v index
		return decode(b, &v)
	case 'o':
		var v manifest
		return decode(b, &v)
	case 'c':
		var v image
		return decode(b, &v)
	}
	return jsonResult{Err: fmt.Sprintf("unknown mode %q", mode)}
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for {
		var head [5]byte
		if _, err := io.ReadFull(in, head[:]); err != nil {
			if err == io.EOF {
				return
			}
			fmt.Fprintln(os.Stderr, "go-oracle: bad input:", err)
			os.Exit(2)
		}
		b := make([]byte, binary.LittleEndian.Uint32(head[1:]))
		if _, err := io.ReadFull(in, b); err != nil {
			fmt.Fprintln(os.Stderr, "go-oracle: bad input:", err)
			os.Exit(2)
		}
		if err := enc.Encode(one(head[0], b)); err != nil {
			fmt.Fprintln(os.Stderr, "go-oracle:", err)
			os.Exit(2)
		}
	}
}
