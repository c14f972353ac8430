package lockstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MinKeyLen is the least number of bytes of a key the store accepts.
const MinKeyLen = 32

// personCipher keeps personnummer unreadable at rest. Each number is stored
// twice: sealed with AES-256-GCM under a key derived from the data key, and
// as a keyed hash (HMAC-SHA256 under another key derived from it) that the
// database indexes and compares, so that lookups and the one-active-lock
// index work without the number in clear. A sealed value starts with the id
// of the key that sealed it, so that a value under another key is named as
// such rather than read as garbage.
type personCipher struct {
	id     string
	aead   cipher.AEAD
	lookup []byte
}

// newPersonCipher derives the cipher of a data key.
func newPersonCipher(key []byte) (*personCipher, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("the data key has %d bytes, at least %d are needed", len(key), MinKeyLen)
	}
	block, err := aes.NewCipher(derive(key, "lockworker personnummer encryption v1"))
	if err != nil {
		return nil, fmt.Errorf("make the data cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("make the data cipher: %w", err)
	}
	return &personCipher{id: KeyID(key), aead: aead, lookup: derive(key, "lockworker personnummer lookup v1")}, nil
}

// KeyID names a key without revealing it: 16 hex digits of a hash keyed by
// it. It is stored with each value sealed under the key.
func KeyID(key []byte) string { return hex.EncodeToString(derive(key, "lockworker key id")[:8]) }

// derive returns a 32-byte key for one purpose from key.
func derive(key []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// hash is the lookup hash of a number in its 12-digit form; "" stays "".
func (c *personCipher) hash(digits string) string {
	if digits == "" {
		return ""
	}
	mac := hmac.New(sha256.New, c.lookup)
	mac.Write([]byte(digits))
	return hex.EncodeToString(mac.Sum(nil))
}

// seal encrypts a number: "key id:base64(nonce, ciphertext)"; "" stays "".
// The key id is authenticated with it.
func (c *personCipher) seal(digits string) string {
	if digits == "" {
		return ""
	}
	nonce := make([]byte, c.aead.NonceSize())
	// crypto/rand.Read never fails (Go 1.24).
	_, _ = rand.Read(nonce)
	sealed := c.aead.Seal(nonce, nonce, []byte(digits), []byte(c.id))
	return c.id + ":" + base64.RawStdEncoding.EncodeToString(sealed)
}

// errOtherKey is returned for a value sealed under another key than the
// cipher's.
var errOtherKey = errors.New("sealed under another data key")

// open decrypts a value made by seal.
func (c *personCipher) open(value string) (string, error) {
	if value == "" {
		return "", nil
	}
	id, data, ok := strings.Cut(value, ":")
	if !ok {
		return "", errors.New("a sealed personnummer without its key id")
	}
	if id != c.id {
		return "", fmt.Errorf("%w (key id %s, the configured key's is %s)", errOtherKey, id, c.id)
	}
	sealed, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(sealed) < c.aead.NonceSize() {
		return "", errors.New("a sealed personnummer that is not base64 of nonce and ciphertext")
	}
	n := c.aead.NonceSize()
	clear, err := c.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", fmt.Errorf("open a sealed personnummer: %w", err)
	}
	return string(clear), nil
}
