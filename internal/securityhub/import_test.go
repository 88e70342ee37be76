package securityhub

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

type fakeHub struct {
	batches []int
}

func (f *fakeHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	f.batches = append(f.batches, len(in.Findings))
	out := &securityhub.BatchImportFindingsOutput{}
	ok := 0
	for _, fd := range in.Findings {
		if aws.ToString(fd.Title) == "refuse me" {
			out.FailedFindings = append(out.FailedFindings, types.ImportFindingsError{Id: fd.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("bad")})
			continue
		}
		ok++
	}
	out.SuccessCount = aws.Int32(int32(ok))
	out.FailedCount = aws.Int32(int32(len(out.FailedFindings)))
	return out, nil
}

func TestImportBatchesAndRefusals(t *testing.T) {
	var recs []map[string]any
	for i := 0; i < 250; i++ {
		title := "ok"
		if i == 7 || i == 207 {
			title = "refuse me"
		}
		recs = append(recs, map[string]any{"Id": fmt.Sprintf("id-%d", i), "Title": title, "Severity": map[string]any{"Label": "HIGH"}, "ProductFields": map[string]string{"a": "b"}})
	}
	fs, err := Convert(recs)
	if err != nil || aws.ToString(fs[3].Id) != "id-3" || fs[3].Severity.Label != types.SeverityLabelHigh || fs[3].ProductFields["a"] != "b" {
		t.Fatalf("convert: %v %+v", err, fs[3])
	}
	hub := &fakeHub{}
	res, err := Import(context.Background(), hub, fs)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hub.batches) != "[100 100 50]" || res.Batches != 3 || res.Imported != 248 {
		t.Errorf("batches %v result %+v", hub.batches, res)
	}
	if len(res.Refused) != 2 || res.Refused[0].ID != "id-7" || res.Refused[1].ID != "id-207" || res.Refused[0].Code != "InvalidInput" {
		t.Errorf("refusals %+v", res.Refused)
	}
}
