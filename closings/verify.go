package closings

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"strings"
)

// VerifyError names the file of an archive that fails, and why.
type VerifyError struct {
	File   string
	Reason string
}

func (e *VerifyError) Error() string { return e.File + ": " + e.Reason }

// VerifyArchive checks an archive offline: the manifest's hash, its
// signature (by trusted when given, else by the archive's own public key:
// compare that with GET /v1/archives/public-key), and every file against
// the manifest, with no file missing or added. It returns the manifest, or
// a *VerifyError naming the first file that fails.
func VerifyArchive(data []byte, trusted ed25519.PublicKey) (*Manifest, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &VerifyError{File: "(archive)", Reason: "not a ZIP file: " + err.Error()}
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		b, err := readZipFile(f)
		if err != nil {
			return nil, &VerifyError{File: f.Name, Reason: "unreadable: " + err.Error()}
		}
		files[f.Name] = b
	}
	manifest, ok := files[ManifestName]
	if !ok {
		return nil, &VerifyError{File: ManifestName, Reason: "missing"}
	}
	if err := checkManifest(files, manifest, trusted); err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, &VerifyError{File: ManifestName, Reason: "unreadable: " + err.Error()}
	}
	listed := map[string]bool{ManifestName: true, ManifestHash: true, SignatureName: true, PublicKeyName: true}
	for _, f := range m.Files {
		listed[f.Name] = true
		b, ok := files[f.Name]
		if !ok {
			return nil, &VerifyError{File: f.Name, Reason: "listed in the manifest but missing"}
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
			return nil, &VerifyError{File: f.Name, Reason: "its SHA-256 differs from the manifest's: the file was altered"}
		}
	}
	for name := range files {
		if !listed[name] {
			return nil, &VerifyError{File: name, Reason: "not listed in the manifest"}
		}
	}
	return &m, nil
}

// checkManifest checks the manifest's hash file and signature.
func checkManifest(files map[string][]byte, manifest []byte, trusted ed25519.PublicKey) error {
	sum := sha256.Sum256(manifest)
	if h := strings.Fields(string(files[ManifestHash])); len(h) == 0 || h[0] != hex.EncodeToString(sum[:]) {
		return &VerifyError{File: ManifestName, Reason: "its SHA-256 differs from " + ManifestHash}
	}
	pub := trusted
	if pub == nil {
		var err error
		if pub, err = ParsePublicKey(files[PublicKeyName]); err != nil {
			return &VerifyError{File: PublicKeyName, Reason: err.Error()}
		}
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(files[SignatureName])))
	if err != nil || !ed25519.Verify(pub, manifest, sig) {
		return &VerifyError{File: SignatureName, Reason: "the signature of " + ManifestName + " does not verify with the public key"}
	}
	return nil
}

// ParsePublicKey reads an Ed25519 public key in PEM (PKIX).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("no PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an Ed25519 public key")
	}
	return pub, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 1<<30))
}
