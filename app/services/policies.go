package services

import (
	"fmt"
	"strings"

	"satchel/app/store"
	"satchel/engine/policy"
)

// BuiltinPolicyError says a policy was to be saved under the name of a built-in preset:
// presets are read-only, so a changed copy needs a name of its own.
type BuiltinPolicyError struct{ Name string }

func (e *BuiltinPolicyError) Error() string {
	return fmt.Sprintf("%q is a built-in preset and cannot be replaced; save your version under another name", e.Name)
}

// InvalidPolicyError says a policy has errors (policy.Validate, any use) and was not saved.
type InvalidPolicyError struct {
	Name   string
	Issues []policy.Issue // the errors
}

func (e *InvalidPolicyError) Error() string {
	msgs := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		msgs[i] = is.String()
	}
	return fmt.Sprintf("policy %q was not saved: %s", e.Name, strings.Join(msgs, "; "))
}

// IsBuiltinPolicy reports whether name is a built-in preset's.
func IsBuiltinPolicy(name string) bool { return policy.Preset(name) != nil }

// checkSavable refuses a preset's name and a policy with errors.
func checkSavable(p *policy.Policy) error {
	if IsBuiltinPolicy(p.Name) {
		return &BuiltinPolicyError{Name: p.Name}
	}
	var errs []policy.Issue
	for _, is := range policy.Validate(p, false) {
		if is.Severity == policy.SeverityError {
			errs = append(errs, is)
		}
	}
	if len(errs) > 0 {
		return &InvalidPolicyError{Name: p.Name, Issues: errs}
	}
	return nil
}

// RestoreBuiltinPolicies removes the workspace policies that shadow a built-in preset (saved
// over a preset by an earlier version), so every preset reads as built in again. It returns
// the names restored.
func (s *Service) RestoreBuiltinPolicies() ([]string, error) {
	entries, err := list[policy.Policy](s, store.BucketPolicies)
	if err != nil {
		return nil, err
	}
	var restored []string
	for _, e := range entries {
		if IsBuiltinPolicy(e.Value.Name) {
			if err := s.DeletePolicy(e.Value.Name); err != nil {
				return restored, fmt.Errorf("restore preset %q: %w", e.Value.Name, err)
			}
			restored = append(restored, e.Value.Name)
		}
	}
	return restored, nil
}
