package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestAccessKeyUsed(t *testing.T) {
	legacy := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
	runCases(t, accessKeyUsed(), []ruleCase{
		{"key used 2 days ago", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day), "access_key_1_last_used_date": ago(2 * day), "access_key_1_last_used_service": "s3", "access_key_1_last_used_region": "us-east-1"}),
			nil, finding.StatusFail, "access key 1 last used", map[string]any{"access_key_1_age_days": 2.0}},
		{"inactive key used recently still fails", root(map[string]string{"access_key_2_last_rotated": ago(100 * day), "access_key_2_last_used_date": ago(day)}), nil, finding.StatusFail, "access key 2", nil},
		{"inactive, never rotated, but a use inside the window fails", root(map[string]string{"access_key_1_last_used_date": ago(3 * day)}), nil, finding.StatusFail, "access key 1", nil},
		{"key used long ago", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day), "access_key_1_last_used_date": ago(50 * day)}), nil, finding.StatusPass, "50.0 days ago", nil},
		{"key never used", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day)}), nil, finding.StatusPass, "N/A", nil},
		{"no keys", root(nil), nil, finding.StatusPass, "access key 1: none; access key 2: none", nil},
		{"invalid date", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(9 * day), "access_key_1_last_used_date": "soon"}), nil, finding.StatusUnknown, `invalid value "soon"`, nil},
		{"16 columns with a key", func(t *testing.T) *evidence.Account {
			return account(t, legacy+"<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,true,2015-01-02T00:00:00+00:00,false,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusUnknown, "no access_key_1_last_used_date column", nil},
		{"16 columns without keys", func(t *testing.T) *evidence.Account {
			return account(t, legacy+"<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,false,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusPass, "none", nil},
	})
}
