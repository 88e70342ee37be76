package evidence

import "strings"

// Kinds of MFA device, told from the serial number ListMFADevices returns
// (IAM User Guide, "AWS Multi-factor authentication in IAM"; GetMFADevice).
const (
	MFAVirtual  = "virtual"       // an authenticator app: arn:PARTITION:iam::ACCOUNT:mfa/NAME
	MFAFIDO     = "fido"          // a FIDO security key or passkey: arn:PARTITION:iam::ACCOUNT:u2f/…
	MFAHardware = "hardware_totp" // a hardware TOTP token: a serial that is not an ARN (e.g. GAHT12345678)
	MFAUnknown  = "unrecognised"  // an ARN of another resource type: not guessed at
)

// MFAKindOf tells an MFA device's kind from its serial number.
func MFAKindOf(serial string) string {
	if !strings.HasPrefix(serial, "arn:") {
		if strings.TrimSpace(serial) == "" {
			return MFAUnknown
		}
		return MFAHardware
	}
	// arn:partition:service:region:account:resource
	parts := strings.SplitN(serial, ":", 6)
	if len(parts) < 6 || parts[2] != "iam" {
		return MFAUnknown
	}
	switch res := parts[5]; {
	case strings.HasPrefix(res, "mfa/"):
		return MFAVirtual
	case strings.HasPrefix(res, "u2f/"):
		return MFAFIDO
	}
	return MFAUnknown
}

// MFAKindText says a kind for people.
func MFAKindText(kind string) string {
	switch kind {
	case MFAVirtual:
		return "virtual MFA device"
	case MFAFIDO:
		return "FIDO security key or passkey"
	case MFAHardware:
		return "hardware TOTP token"
	}
	return "MFA device of an unrecognised kind"
}
