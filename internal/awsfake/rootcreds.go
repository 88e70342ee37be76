package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

type loginProfileResult struct {
	XMLName      xml.Name
	LoginProfile struct {
		UserName              string `xml:"UserName,omitempty"`
		CreateDate            string `xml:"CreateDate"`
		PasswordResetRequired bool   `xml:"PasswordResetRequired"`
	} `xml:"LoginProfile"`
}

type accessKeyMeta struct {
	UserName    string `xml:"UserName,omitempty"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

type listAccessKeysResult struct {
	XMLName     xml.Name
	Keys        []accessKeyMeta `xml:"AccessKeyMetadata>member"`
	IsTruncated bool            `xml:"IsTruncated"`
}

type mfaDevice struct {
	UserName     string `xml:"UserName,omitempty"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	XMLName     xml.Name
	Devices     []mfaDevice `xml:"MFADevices>member"`
	IsTruncated bool        `xml:"IsTruncated"`
}

type signingCert struct {
	UserName        string `xml:"UserName,omitempty"`
	CertificateID   string `xml:"CertificateId"`
	CertificateBody string `xml:"CertificateBody"`
	Status          string `xml:"Status"`
	UploadDate      string `xml:"UploadDate"`
}

type listCertsResult struct {
	XMLName      xml.Name
	Certificates []signingCert `xml:"Certificates>member"`
	IsTruncated  bool          `xml:"IsTruncated"`
}

// principalFor resolves UserName: empty means the caller, which for an
// AssumeRoot session is the root user.
func (s *Server) principalFor(w http.ResponseWriter, req request) (*Principal, string, bool) {
	a := req.acct.spec
	name := req.form.Get("UserName")
	if name == "" {
		if req.session.kind != "root" {
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", "UserName is required outside a root session")
			return nil, "", false
		}
		return &a.Root, "", true
	}
	for i := range a.Users {
		if a.Users[i].Name == name {
			return &a.Users[i], name, true
		}
	}
	s.writeQueryError(w, iamNS, http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name))
	return nil, "", false
}

func hasPassword(p *Principal, isRoot bool) bool {
	switch {
	case p.NoPassword:
		return false
	case isRoot:
		return p.PasswordEnabled != "false" && p.PasswordLastUsed != "N/A"
	}
	return p.PasswordLastUsed != ""
}

func (s *Server) stamp(v string) string {
	t, _ := resolveTime(orDefault(v, "-1000d"), s.now())
	return strings.Replace(t, "+00:00", "Z", 1)
}

func (s *Server) serveRootCredentials(w http.ResponseWriter, req request) bool {
	switch req.op {
	case "GetLoginProfile", "ListAccessKeys", "ListMFADevices", "ListSigningCertificates",
		"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice":
	default:
		return false
	}
	p, name, ok := s.principalFor(w, req)
	if !ok {
		return true
	}
	a := req.acct.spec
	// Deletions change the world: reads and writes of credentials hold the
	// server's lock.
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credentials(w, req, p, name, a)
	return true
}

// credentials answers one root-credential call; the caller holds s.mu.
func (s *Server) credentials(w http.ResponseWriter, req request, p *Principal, name string, a *Account) {
	if s.deleteCredential(w, req, p, name, a) {
		return
	}
	switch req.op {
	case "GetLoginProfile":
		if !hasPassword(p, name == "") {
			who := name
			if who == "" {
				who = "root"
			}
			s.writeQueryError(w, iamNS, http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("Login Profile for User %s cannot be found.", who))
			return
		}
		res := &loginProfileResult{}
		res.LoginProfile.UserName, res.LoginProfile.CreateDate = name, s.stamp(orDefault(p.PasswordCreated, p.Created))
		s.writeQueryResult(w, iamNS, req.op, res)
	case "ListAccessKeys":
		res := &listAccessKeysResult{Keys: []accessKeyMeta{}}
		for i, k := range p.AccessKeys {
			if k.Deleted {
				continue
			}
			status := "Inactive"
			if k.Active {
				status = "Active"
			}
			res.Keys = append(res.Keys, accessKeyMeta{UserName: name, AccessKeyID: fmt.Sprintf("AKIAFAKE%s%02d", a.ID[:8], i), Status: status, CreateDate: s.stamp(k.LastRotated)})
		}
		s.writeQueryResult(w, iamNS, req.op, res)
	case "ListMFADevices":
		res := &listMFADevicesResult{Devices: []mfaDevice{}}
		for _, d := range s.mfaDevices(a, p, name) {
			res.Devices = append(res.Devices, mfaDevice{UserName: name, SerialNumber: d.serial, EnableDate: d.enabled})
		}
		s.writeQueryResult(w, iamNS, req.op, res)
	case "ListSigningCertificates":
		res := &listCertsResult{Certificates: []signingCert{}}
		for i, c := range p.Certs {
			if c.Deleted {
				continue
			}
			status := "Inactive"
			if c.Active {
				status = "Active"
			}
			res.Certificates = append(res.Certificates, signingCert{UserName: name, CertificateID: fmt.Sprintf("CERTFAKE%s%04d", a.ID, i),
				CertificateBody: "-----BEGIN CERTIFICATE-----\nMIIFAKE\n-----END CERTIFICATE-----", Status: status, UploadDate: s.stamp(c.LastRotated)})
		}
		s.writeQueryResult(w, iamNS, req.op, res)
	}
}

// deleteCredential serves the calls of the IAMDeleteRootUserCredentials
// task policy (the session's policy is checked before): DeleteLoginProfile,
// DeleteAccessKey, DeleteSigningCertificate and DeactivateMFADevice, each
// NoSuchEntity when the credential is not there. The caller holds s.mu.
func (s *Server) deleteCredential(w http.ResponseWriter, req request, p *Principal, name string, a *Account) bool {
	missing := func(what string) {
		s.writeQueryError(w, iamNS, http.StatusNotFound, "NoSuchEntity", what+" cannot be found.")
	}
	switch req.op {
	case "DeleteLoginProfile":
		if !hasPassword(p, name == "") {
			missing("Login Profile for User root")
			return true
		}
		p.NoPassword, p.PasswordEnabled, p.PasswordLastUsed = true, "false", "N/A"
	case "DeleteAccessKey":
		id := req.form.Get("AccessKeyId")
		for i := range p.AccessKeys {
			if !p.AccessKeys[i].Deleted && fmt.Sprintf("AKIAFAKE%s%02d", a.ID[:8], i) == id {
				p.AccessKeys[i].Deleted = true
				s.writeQueryResult(w, iamNS, req.op, nil)
				return true
			}
		}
		missing("The Access Key with id " + id)
		return true
	case "DeleteSigningCertificate":
		id := req.form.Get("CertificateId")
		for i := range p.Certs {
			if !p.Certs[i].Deleted && fmt.Sprintf("CERTFAKE%s%04d", a.ID, i) == id {
				p.Certs[i].Deleted = true
				s.writeQueryResult(w, iamNS, req.op, nil)
				return true
			}
		}
		missing("The Certificate with id " + id)
		return true
	case "DeactivateMFADevice":
		serial := req.form.Get("SerialNumber")
		found := false
		for _, d := range s.mfaDevices(a, p, name) {
			if d.serial == serial && serial != "" {
				found = true
				if d.spec != nil {
					d.spec.Deactivated = true
				} else {
					p.MFA = "none"
				}
			}
		}
		if !found {
			missing("MFA Device with serial number " + serial)
			return true
		}
	default:
		return false
	}
	s.writeQueryResult(w, iamNS, req.op, nil)
	return true
}
