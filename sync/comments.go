package sync

import (
	"errors"
	"fmt"
	"time"

	"github.com/lockworker/lockworker"
)

// order completes a decision with its outcome, the ticket status that goes
// with it and the comment (in Swedish, for the support desk) that explains it.
// No comment ever holds the personnummer.
type order struct {
	region Region
}

const service = "inloggningen till 1177 Vårdguidens e-tjänster"

func (o order) resolved(d lockworker.Decision) lockworker.Decision {
	d.Outcome, d.Status = lockworker.OutcomeResolved, o.region.Statuses.Resolved
	if d.Kind == lockworker.KindLock {
		d.Comment = fmt.Sprintf("Klart: %s är låst. %s", service, evidence(d.Evidence))
		if d.ProxySuspended {
			d.Comment += " Patienten är under 13 år: vårdnadshavarna kan inte längre agera ombud så länge låsningen gäller."
		}
		return d
	}
	d.Comment = fmt.Sprintf("Klart: låsningen av %s är hävd. %s", service, evidence(d.Evidence))
	if d.ProxySuspended {
		d.Comment += " Vårdnadshavarna kan åter agera ombud."
	}
	return d
}

func (o order) noop(d lockworker.Decision) lockworker.Decision {
	d.Outcome, d.Status = lockworker.OutcomeNoop, o.region.Statuses.Resolved
	if d.Kind == lockworker.KindLock {
		d.Comment = fmt.Sprintf("Ingen ändring: %s var redan låst. %s", service, evidence(d.Evidence))
	} else {
		d.Comment = fmt.Sprintf("Ingen ändring: %s var inte låst. %s", service, evidence(d.Evidence))
	}
	return d
}

// wait has the order wait for its form until deadline, and then go to
// manual handling; detail, when not empty, says more of why it waits.
func (o order) wait(d lockworker.Decision, reason lockworker.Reason, detail string, deadline, now time.Time) lockworker.Decision {
	if now.After(deadline) {
		return o.manual(d, reason, detail)
	}
	d.Outcome, d.Reason, d.Status = lockworker.OutcomeWaiting, reason, o.region.Statuses.Waiting
	what := "ännu inte finns"
	if reason == lockworker.ReasonFormUnsigned {
		what = "ännu inte är signerad"
	}
	d.Comment = fmt.Sprintf("Väntar på blankett %s, som %s (%s). Den kontrolleras vid varje körning till %s; därefter går ärendet till manuell hantering.",
		d.Evidence.Form, also(what, detail), reason, lockworker.DisplayTime(deadline))
	return d
}

// manual routes the order to manual handling; detail completes the
// explanation of some reasons.
func (o order) manual(d lockworker.Decision, reason lockworker.Reason, detail string) lockworker.Decision {
	d.Outcome, d.Reason, d.Status = lockworker.OutcomeManual, reason, o.region.Statuses.Manual
	d.ProxySuspended = false
	form := d.Evidence.Form
	var why string
	switch reason {
	case lockworker.ReasonInvalidTicketID:
		why = fmt.Sprintf("ärendenumret är inte ett giltigt ärendenummer (längre än %d tecken eller med styrtecken), så lockworker kan inte visa eller registrera det säkert", lockworker.MaxTicketIDLength)
	case lockworker.ReasonMissingField:
		why = fmt.Sprintf("uppgiften %q saknas, är tom eller anges flera gånger med olika värden", detail)
	case lockworker.ReasonUnknownKind:
		why = fmt.Sprintf("ärendetypen är varken %q eller %q", o.region.Kinds.Lock, o.region.Kinds.Unlock)
	case lockworker.ReasonInvalidFormReference:
		why = also("blankettreferensen är inte en giltig referens", detail)
	case lockworker.ReasonInvalidPersonnummer:
		why = also("personnumret är inte giltigt", detail)
	case lockworker.ReasonSamordningsnummer:
		why = "numret är ett samordningsnummer, och den som har ett samordningsnummer kan inte logga in i 1177"
	case lockworker.ReasonNoAccount:
		why = "personen har inget konto i 1177 Vårdguidens e-tjänster; en låsning gäller bara befintliga konton"
	case lockworker.ReasonChildPolicy:
		why = "patienten är under 13 år, och regionen hanterar sådana ärenden manuellt (spärra hellre vårdnadshavarens ombudskoppling än barnets inloggning)"
	case lockworker.ReasonFormMissing:
		why = fmt.Sprintf("blankett %s har inte kommit in inom väntetiden", form)
	case lockworker.ReasonFormUnsigned:
		why = also(fmt.Sprintf("blankett %s har inte signerats inom väntetiden", form), detail)
	case lockworker.ReasonFormWithdrawn:
		why = fmt.Sprintf("blankett %s är makulerad eller ersatt", form)
	case lockworker.ReasonFormTypeMismatch:
		what := "låsning"
		if d.Kind == lockworker.KindUnlock {
			what = "hävning av låsning"
		}
		why = fmt.Sprintf("blankett %s är inte en blankett för %s", form, what)
	case lockworker.ReasonFormPatientMismatch:
		why = fmt.Sprintf("blankett %s gäller en annan patient än ärendet", form)
	case lockworker.ReasonFormRegionMismatch:
		why = also(fmt.Sprintf("blankett %s hör inte till %s", form, o.region.Name), detail)
	case lockworker.ReasonFormDateInvalid:
		why = fmt.Sprintf("blankett %s saknar signeringstid", form)
		if detail != "" {
			why = fmt.Sprintf("blankett %s anger signeringstiden %s, som ligger i framtiden", form, detail)
		}
	case lockworker.ReasonFormTooOld:
		why = fmt.Sprintf("blankett %s signerades för länge sedan", form)
	case lockworker.ReasonUnlockWrongRegion:
		why = fmt.Sprintf("låsningen gjordes på begäran av %s och kan bara hävas av den regionen; kontakta %s", detail, detail)
	default:
		why = string(reason)
	}
	d.Comment = fmt.Sprintf("Till manuell hantering: %s. (Orsak: %s)", why, reason)
	return d
}

// also completes a sentence with its detail, if any.
func also(sentence, detail string) string {
	if detail == "" {
		return sentence
	}
	return sentence + ": " + detail
}

// parenthesised completes a phrase with its detail, if any, in parentheses.
func parenthesised(phrase, detail string) string {
	if detail == "" {
		return phrase
	}
	return phrase + " (" + detail + ")"
}

// personnummerRule says which rule of the personnummer err found broken,
// without the number.
func personnummerRule(err error) string {
	var pe *lockworker.PersonnummerError
	if !errors.As(err, &pe) {
		return ""
	}
	return map[lockworker.PersonnummerRule]string{
		lockworker.PersonnummerForm:        "det är inte skrivet i någon av formerna ÅÅÅÅMMDDNNNK, ÅÅÅÅMMDD-NNNK, ÅÅMMDD-NNNK, ÅÅMMDD+NNNK eller ÅÅMMDDNNNK",
		lockworker.PersonnummerDate:        "datumet i numret finns inte",
		lockworker.PersonnummerBirthNumber: "födelsenumret 000 ges aldrig ut",
		lockworker.PersonnummerCheckDigit:  "kontrollsiffran stämmer inte (en siffra kan vara felskriven eller ha bytt plats med en annan)",
		lockworker.PersonnummerFuture:      "födelsedatumet ligger i framtiden",
	}[pe.Rule]
}

// formReferenceRule says which rule of a form reference err found broken,
// without the reference.
func formReferenceRule(err error) string {
	var fe *lockworker.FormReferenceError
	if !errors.As(err, &fe) {
		return ""
	}
	return map[lockworker.FormReferenceRule]string{
		lockworker.FormReferenceLength:       "den är längre än 64 tecken",
		lockworker.FormReferenceChars:        "den innehåller andra tecken än A–Z, a–z, 0–9, - och . (till exempel mellanslag, å, ä, ö eller /)",
		lockworker.FormReferenceDots:         "den består bara av punkter",
		lockworker.FormReferencePersonnummer: "den innehåller ett personnummer; ange blankettens id i Cosmic",
	}[fe.Rule]
}

// hsaidRule says which rule of the HSA-id err found broken.
func hsaidRule(err error) string {
	var he *lockworker.HSAIDError
	if !errors.As(err, &he) {
		return ""
	}
	return map[lockworker.HSAIDRule]string{
		lockworker.HSAIDLength:           "det är längre än 31 tecken",
		lockworker.HSAIDPrefix:           "det börjar inte med SE",
		lockworker.HSAIDSeparator:        "bindestrecket efter organisationsnumret saknas",
		lockworker.HSAIDOrgNumber:        "organisationsnumret är inte tio siffror",
		lockworker.HSAIDOrgNumberCheck:   "organisationsnumrets kontrollsiffra stämmer inte",
		lockworker.HSAIDLocalPartMissing: "delen efter bindestrecket saknas",
		lockworker.HSAIDLocalPartChars:   "det innehåller tecken som ett HSA-id inte får innehålla",
	}[he.Rule]
}

// evidence describes the form a decision rests on.
func evidence(e lockworker.Evidence) string {
	if e.Signer == "" {
		return fmt.Sprintf("Underlag: blankett %s.", e.Form)
	}
	return fmt.Sprintf("Underlag: blankett %s, signerad %s av %s.", e.Form, lockworker.DisplayTime(e.SignedAt), e.Signer)
}
