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
func ClipKey(userID, incidentID int64, captured time.Time) string {
	return fmt.Sprintf("%s%d/%d", UserPrefix(userID), incidentID, captured.UTC().UnixNano())
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
