package lockworker

// Kind is what an order asks for.
type Kind string

// The kinds of order.
const (
	KindLock   Kind = "lock"
	KindUnlock Kind = "unlock"
)

// Outcome is what became of an order in one pass.
type Outcome string

// The outcomes of an order.
const (
	// OutcomeResolved: the change was applied and the ticket resolved.
	OutcomeResolved Outcome = "resolved"
	// OutcomeNoop: there was nothing to change and the ticket was resolved.
	OutcomeNoop Outcome = "noop"
	// OutcomeWaiting: the signed form is not there yet; checked again next pass.
	OutcomeWaiting Outcome = "waiting"
	// OutcomeManual: the order went to manual handling, with a reason.
	OutcomeManual Outcome = "manual"
	// OutcomeError: a transient failure; nothing changed that is not recorded,
	// and the order is taken up again next pass.
	OutcomeError Outcome = "error"
)

// Outcomes lists every outcome, in the order reports show them.
var Outcomes = []Outcome{OutcomeResolved, OutcomeNoop, OutcomeWaiting, OutcomeManual, OutcomeError}

// Reason is the stable code of why an order was not carried out (or, for a
// waiting order, what it waits for). Logs, the audit trail and metrics use it.
type Reason string

// The reason codes, as the README's runbook explains them.
const (
	ReasonNone                 Reason = ""
	ReasonInvalidTicketID      Reason = "invalid_ticket_id"
	ReasonMissingField         Reason = "missing_field"
	ReasonUnknownKind          Reason = "unknown_kind"
	ReasonInvalidFormReference Reason = "invalid_form_reference"
	ReasonInvalidPersonnummer  Reason = "invalid_personnummer"
	ReasonSamordningsnummer    Reason = "samordningsnummer"
	ReasonNoAccount            Reason = "no_account"
	ReasonChildPolicy          Reason = "child_policy"
	ReasonFormMissing          Reason = "form_missing"
	ReasonFormWithdrawn        Reason = "form_withdrawn"
	ReasonFormTypeMismatch     Reason = "form_type_mismatch"
	ReasonFormPatientMismatch  Reason = "form_patient_mismatch"
	ReasonFormRegionMismatch   Reason = "form_region_mismatch"
	ReasonFormDateInvalid      Reason = "form_date_invalid"
	ReasonFormTooOld           Reason = "form_too_old"
	ReasonFormUnsigned         Reason = "form_unsigned"
	ReasonUnlockWrongRegion    Reason = "unlock_wrong_region"
)

// Reasons of the error outcome: which outside system failed.
const (
	ReasonEasitError     Reason = "easit_error"
	ReasonFormsError     Reason = "forms_error"
	ReasonLockStoreError Reason = "lockstore_error"
)
