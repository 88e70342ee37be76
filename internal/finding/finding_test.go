package finding

import "testing"

func TestStatusUrgency(t *testing.T) {
	order := []Status{StatusFail, StatusError, StatusUnknown, StatusSuppressed, StatusPass, StatusNotApplicable}
	for i := 1; i < len(order); i++ {
		if order[i-1].Urgency() <= order[i].Urgency() {
			t.Errorf("%s (%d) should be more urgent than %s (%d)", order[i-1], order[i-1].Urgency(), order[i], order[i].Urgency())
		}
	}
}
