package notify

// ValidE164 reports whether s is an E.164 phone number: "+", then 8 to 15
// digits, the first not 0 (country codes never start with 0). No spaces,
// dashes or brackets: numbers are normalised before they are stored.
func ValidE164(s string) bool {
	if len(s) < 1+8 || len(s) > 1+15 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
