package awsfake

import (
	"fmt"
	"time"
)

// MFADeviceSpec is one MFA device of a principal. A root user may hold up
// to eight, of any kind; mfa_devices lists them where mfa (none, virtual,
// hardware) names one.
type MFADeviceSpec struct {
	// Kind is virtual (serial arn:…:mfa/NAME), fido (a FIDO security key
	// or passkey, serial arn:…:u2f/root/NAME-…, or u2f/user/USER/NAME-…)
	// or hardware (a TOTP token, a serial that is not an ARN).
	Kind string `yaml:"kind"`
	// Name is the device's name, or a hardware token's serial.
	Name string `yaml:"name"`
	// Enabled is when it was enabled (a world time; default the
	// principal's creation).
	Enabled string `yaml:"enabled"`
	// Deactivated is set by DeactivateMFADevice.
	Deactivated bool `yaml:"-"`
}

// mfaView is a device as the IAM calls show it.
type mfaView struct {
	serial, kind, enabled string
	spec                  *MFADeviceSpec // nil for the one device mfa names
}

// mfaDevices lists a principal's active devices: mfa_devices, else the
// one device mfa (virtual, hardware) names. user is "" for root.
func (s *Server) mfaDevices(a *Account, p *Principal, user string) []mfaView {
	enabled := func(v string) string { return s.stamp(orDefault(v, orDefault(p.Created, "-1000d"))) }
	if len(p.MFADevices) == 0 {
		switch p.MFA {
		case "virtual":
			serial := p.MFASerial
			switch {
			case serial == "" && user == "":
				serial = fmt.Sprintf("arn:%s:iam::%s:mfa/root-account-mfa-device", partition(a), a.ID)
			case serial == "":
				serial = fmt.Sprintf("arn:%s:iam::%s:mfa/%s", partition(a), a.ID, user)
			}
			return []mfaView{{serial: serial, kind: "virtual", enabled: enabled("")}}
		case "hardware":
			return []mfaView{{serial: "GAHT" + a.ID[:8], kind: "hardware", enabled: enabled("")}}
		}
		return nil
	}
	var out []mfaView
	for i := range p.MFADevices {
		d := &p.MFADevices[i]
		if d.Deactivated {
			continue
		}
		name := orDefault(d.Name, fmt.Sprintf("device-%d", i+1))
		v := mfaView{kind: d.Kind, enabled: enabled(d.Enabled), spec: d}
		switch {
		case d.Kind == "virtual":
			v.serial = fmt.Sprintf("arn:%s:iam::%s:mfa/%s", partition(a), a.ID, name)
		case d.Kind == "fido" && user == "":
			v.serial = fmt.Sprintf("arn:%s:iam::%s:u2f/root/%s-FAKEFIDO%04d", partition(a), a.ID, name, i+1)
		case d.Kind == "fido":
			v.serial = fmt.Sprintf("arn:%s:iam::%s:u2f/user/%s/%s-FAKEFIDO%04d", partition(a), a.ID, user, name, i+1)
		default:
			v.serial = orDefault(d.Name, fmt.Sprintf("GAHT%s%02d", a.ID[:6], i+1))
		}
		out = append(out, v)
	}
	return out
}

// hasMFA reports whether a principal has an active MFA device.
func hasMFA(p Principal) bool {
	if len(p.MFADevices) == 0 {
		return p.MFA == "virtual" || p.MFA == "hardware"
	}
	for _, d := range p.MFADevices {
		if !d.Deactivated {
			return true
		}
	}
	return false
}

// validMFA checks a principal's MFA settings.
func validMFA(p Principal) error {
	switch p.MFA {
	case "", "none", "virtual", "hardware":
	default:
		return fmt.Errorf("mfa %q (want none, virtual or hardware)", p.MFA)
	}
	if len(p.MFADevices) > 0 && p.MFA != "" && p.MFA != "none" {
		return fmt.Errorf("mfa %q and mfa_devices: give one of them", p.MFA)
	}
	if len(p.MFADevices) > 8 {
		return fmt.Errorf("%d mfa_devices: AWS allows at most 8", len(p.MFADevices))
	}
	for i, d := range p.MFADevices {
		switch d.Kind {
		case "virtual", "fido", "hardware":
		default:
			return fmt.Errorf("mfa_devices[%d]: kind %q (want virtual, fido or hardware)", i, d.Kind)
		}
		if _, err := resolveTime(d.Enabled, time.Now()); err != nil {
			return fmt.Errorf("mfa_devices[%d]: enabled: %w", i, err)
		}
	}
	return nil
}
