package services

import (
	"errors"

	"satchel/app/publish"
	"satchel/app/store"
	"satchel/engine/cenc"
	"satchel/engine/encode"
	"satchel/packaging"
)

// Remedy names what the user can do about an error. The services and the layers below say
// what is wrong; RemedyFor sorts their typed errors once, and each edge (CLI, GUI) words the
// remedy in its own vocabulary.
type Remedy int

// The remedies.
const (
	RemedyNone            Remedy = iota
	RemedyCloseOther             // *store.InUseError: another process holds the workspace
	RemedyNewOutput              // *packaging.OutputExistsError: choose a new folder or overwrite
	RemedyGiveKey                // *cenc.MissingKeyError: give the key for the KID
	RemedyListKeySets            // *NotFoundError for a key set
	RemedyListPolicies           // *NotFoundError for a policy
	RemedyCheckName              // *NotFoundError for another record
	RemedyRepeat                 // *publish.IncompleteError: run the publish again to finish
	RemedyGiveCredentials        // publish.ErrNoCredentials
	RemedySelectAssets           // ErrNoSelection
	RemedySmallerRung            // *encode.UpscaleError: a rung larger than the master
	RemedyFixLadder              // *encode.LadderError, *encode.SyntaxError: a bad rung or ladder file
	RemedyOtherMaster            // *encode.MasterError: not a video ffmpeg reads
	RemedyInstallTool            // *encode.ToolError: ffmpeg, ffprobe or an encoder is missing
)

// Remedies lists every remedy but RemedyNone (edges check that they word each one).
var Remedies = []Remedy{RemedyCloseOther, RemedyNewOutput, RemedyGiveKey, RemedyListKeySets, RemedyListPolicies,
	RemedyCheckName, RemedyRepeat, RemedyGiveCredentials, RemedySelectAssets, RemedySmallerRung, RemedyFixLadder,
	RemedyOtherMaster, RemedyInstallTool}

// RemedyFor returns the remedy for err (RemedyNone when the message says it all).
func RemedyFor(err error) Remedy {
	var (
		inUse    *store.InUseError
		exists   *packaging.OutputExistsError
		missing  *cenc.MissingKeyError
		notFound *NotFoundError
		stopped  *publish.IncompleteError
	)
	if r := encodeRemedy(err); r != RemedyNone {
		return r
	}
	switch {
	case errors.As(err, &inUse):
		return RemedyCloseOther
	case errors.As(err, &exists):
		return RemedyNewOutput
	case errors.As(err, &missing):
		return RemedyGiveKey
	case errors.As(err, &notFound) && notFound.What == "key set":
		return RemedyListKeySets
	case errors.As(err, &notFound) && notFound.What == "policy":
		return RemedyListPolicies
	case errors.As(err, &notFound):
		return RemedyCheckName
	case errors.As(err, &stopped):
		return RemedyRepeat
	case errors.Is(err, publish.ErrNoCredentials):
		return RemedyGiveCredentials
	case errors.Is(err, ErrNoSelection):
		return RemedySelectAssets
	}
	return RemedyNone
}

// encodeRemedy sorts the encoder's typed errors.
func encodeRemedy(err error) Remedy {
	var (
		upscale *encode.UpscaleError
		ladder  *encode.LadderError
		syntax  *encode.SyntaxError
		master  *encode.MasterError
		tool    *encode.ToolError
	)
	switch {
	case errors.As(err, &upscale):
		return RemedySmallerRung
	case errors.As(err, &ladder), errors.As(err, &syntax):
		return RemedyFixLadder
	case errors.As(err, &master):
		return RemedyOtherMaster
	case errors.As(err, &tool):
		return RemedyInstallTool
	}
	return RemedyNone
}
