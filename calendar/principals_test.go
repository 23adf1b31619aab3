package calendar_test

import "github.com/relais-tierslieux/relais/identity"

// member is the principal of a member acting for themselves.
func byMember(userID string) *identity.Principal { return &identity.Principal{UserID: userID} }

// admin is the principal of a network administrator, who manages every site.
func byAdmin(userID string) *identity.Principal {
	return &identity.Principal{UserID: userID, Role: identity.RoleAdmin}
}

// as is byAdmin(userID) when manager, byMember(userID) otherwise.
func byAs(userID string, manager bool) *identity.Principal {
	if manager {
		return byAdmin(userID)
	}
	return byMember(userID)
}
