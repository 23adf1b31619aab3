package identity

import "context"

// Language is the language the account userID reads Relais in
// (LanguageFrench or LanguageEnglish, users.language): the api's answer
// when a request names none. It is read when needed, not kept in the
// Principal, so that a change made in PATCH /v1/me counts at once.
func (s *Service) Language(ctx context.Context, userID string) (string, error) {
	r, err := s.Recipient(ctx, s.db, userID)
	return r.Language, err
}
