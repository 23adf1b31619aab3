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

// bySystem is the principal of the system, which may do anything: for
// the tests of what an operation does rather than who may ask it.
func bySystem() *identity.Principal { return identity.System() }
