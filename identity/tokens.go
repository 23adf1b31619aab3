package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// accessClaims are the claims of an access token. sid names the session (the
// refresh-token family) so that logging out or changing the password ends the
// access tokens of that session at once, not 15 minutes later.
type accessClaims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// signingMethod is the only algorithm Relais issues and accepts.
var signingMethod = jwt.SigningMethodHS256

func (s *Service) issueAccessToken(userID, sessionID string, now time.Time) (string, error) {
	claims := accessClaims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{s.cfg.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)),
		},
	}
	tok, err := jwt.NewWithClaims(signingMethod, claims).SignedString(s.cfg.JWTSecret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return tok, nil
}

var errBadToken = errors.New("invalid access token")

func (s *Service) parseAccessToken(raw string, now time.Time) (*accessClaims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{signingMethod.Alg()}), // pins the algorithm: no "none", no RS/HS confusion
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var claims accessClaims
	_, err := p.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadToken, err)
	}
	if claims.Subject == "" || claims.SessionID == "" {
		return nil, fmt.Errorf("%w: missing sub or sid", errBadToken)
	}
	return &claims, nil
}

// hashToken is how refresh tokens, feed tokens and API keys are stored: they
// carry 256 random bits, so a fast hash is enough and lookups stay indexed.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// HashToken exposes the stored form of a random token to other packages that
// keep their own secrets (calendar feed tokens, device secrets).
func HashToken(token string) string { return hashToken(token) }

// apiKeyPrefix starts every API key so that the auth layer tells it apart from
// a JWT (which always starts with "eyJ") and secret scanners can find leaks.
const apiKeyPrefix = "rlk_"

func isAPIKey(bearer string) bool { return strings.HasPrefix(bearer, apiKeyPrefix) }
