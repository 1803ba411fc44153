package evidence

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ClipKey is the key scheme the server should use: every clip of one user
// under one prefix (so withdrawing consent is one List+Delete), then the
// incident, then the capture time.
func ClipKey(userID int64, incidentID string, captured time.Time) string {
	return fmt.Sprintf("%s%d", IncidentPrefix(userID, incidentID), captured.UTC().UnixNano())
}

// IncidentPrefix is the List prefix of one incident's clips; it ends in
// '/' so that incident "i1" does not catch "i10". Incident ids are
// store.NewID's URL-safe base64, which ValidateKey accepts.
func IncidentPrefix(userID int64, incidentID string) string {
	return UserPrefix(userID) + incidentID + "/"
}

// UserPrefix is the List prefix holding all of one user's clips.
func UserPrefix(userID int64) string { return "u" + strconv.FormatInt(userID, 10) + "/" }

// DeleteUser removes every clip of one user (consent withdrawn, account
// deleted) and returns how many there were.
func DeleteUser(ctx context.Context, s Store, userID int64) (int, error) {
	keys, err := s.List(ctx, UserPrefix(userID))
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
