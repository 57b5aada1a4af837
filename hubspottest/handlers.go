package hubspottest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// Wire types of the responses (the document's schemas).

type labelSpec struct {
	Category         string `json:"category"`
	TypeID           int32  `json:"typeId"`
	Label            string `json:"label,omitempty"`
	FromObjectTypeID string `json:"fromObjectTypeId,omitempty"`
	ToObjectTypeID   string `json:"toObjectTypeId,omitempty"`
}

type userConfiguration struct {
	Category                   string `json:"category"`
	TypeID                     int32  `json:"typeId"`
	UserEnforcedMaxToObjectIDs *int32 `json:"userEnforcedMaxToObjectIds,omitempty"`
	Label                      string `json:"label,omitempty"`
	FromObjectTypeID           string `json:"fromObjectTypeId,omitempty"`
	ToObjectTypeID             string `json:"toObjectTypeId,omitempty"`
}

type updateResult struct {
	Category                   string `json:"category"`
	TypeID                     int32  `json:"typeId"`
	UserEnforcedMaxToObjectIDs int32  `json:"userEnforcedMaxToObjectIds"`
}

type batchResponse struct {
	Status      string      `json:"status"`
	Results     any         `json:"results"`
	Errors      []errorBody `json:"errors,omitempty"`
	NumErrors   *int        `json:"numErrors,omitempty"`
	StartedAt   string      `json:"startedAt"`
	CompletedAt string      `json:"completedAt"`
}

// Wire types of the requests.

type limitInput struct {
	Category       string `json:"category"`
	TypeID         int32  `json:"typeId"`
	MaxToObjectIDs int32  `json:"maxToObjectIds"`
}

type specInput struct {
	Category string `json:"category"`
	TypeID   int32  `json:"typeId"`
}

type labelCreate struct {
	Label        string `json:"label"`
	Name         string `json:"name"`
	InverseLabel string `json:"inverseLabel"`
}

type labelUpdate struct {
	AssociationTypeID int32  `json:"associationTypeId"`
	Label             string `json:"label"`
	InverseLabel      string `json:"inverseLabel"`
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func (s *Server) stamp() string { return s.cfg.now().UTC().Format(timeLayout) }

func badInput(cid string, err error) *response {
	return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Invalid input JSON: "+err.Error(),
		hubspot.ErrorDetail{In: "body", Message: err.Error()})
}

// apply performs a validated operation.
func (s *Server) apply(so specOp, specPath string, body []byte, cid string) *response {
	segs := s.spec.pathSegments(specPath)
	var fromRaw, toRaw string
	switch so.op {
	case OpListConfigurations, OpBatchCreateConfigurations, OpBatchUpdateConfigurations, OpBatchPurgeConfigurations:
		fromRaw, toRaw = segs[2], segs[3]
	case OpListLabels, OpCreateLabel, OpUpdateLabel, OpDeleteLabel:
		fromRaw, toRaw = segs[0], segs[1]
	}
	var from, to string
	if so.op != OpListAllConfigurations {
		var ok bool
		if from, ok = ObjectTypeID(fromRaw); !ok {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Unable to infer object type from: "+fromRaw)
		}
		if to, ok = ObjectTypeID(toRaw); !ok {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Unable to infer object type from: "+toRaw)
		}
	}
	started := s.stamp()

	switch so.op {
	case OpListAllConfigurations, OpListConfigurations:
		s.mu.Lock()
		var ls []Limit
		if so.op == OpListAllConfigurations {
			ls = s.store.limitsList(nil)
		} else {
			ls = s.store.limitsList(func(k typeKey) bool { return k.from == from && k.to == to })
		}
		out := make([]userConfiguration, 0, len(ls))
		for _, l := range ls {
			out = append(out, s.userConfigLocked(l, so.op == OpListAllConfigurations))
		}
		s.mu.Unlock()
		return jsonResponse(so.success, map[string]any{"results": out})

	case OpBatchCreateConfigurations, OpBatchUpdateConfigurations:
		var in struct {
			Inputs []limitInput `json:"inputs"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return badInput(cid, err)
		}
		if r := s.checkBatchSize(len(in.Inputs), cid); r != nil {
			return r
		}
		var errs []errorBody
		var created []userConfiguration
		var updated []updateResult
		s.mu.Lock()
		rules := s.store.pairRules(from, to)
		for _, input := range in.Inputs {
			k := typeKey{from, to, input.Category, input.TypeID}
			t, typeExists := s.store.types[k]
			_, limitExists := s.store.limits[k]
			switch {
			case input.MaxToObjectIDs < 1:
				errs = append(errs, perInputError(hubspot.CategoryValidation,
					fmt.Sprintf("maxToObjectIds must be at least 1, got %d for %s association type %d.", input.MaxToObjectIDs, input.Category, input.TypeID),
					input.Category, input.TypeID))
			case !typeExists:
				errs = append(errs, perInputError(hubspot.CategoryObjectNotFound,
					fmt.Sprintf("Association type %s %d does not exist between %s and %s.", input.Category, input.TypeID, from, to),
					input.Category, input.TypeID))
			case so.op == OpBatchCreateConfigurations && limitExists:
				errs = append(errs, perInputError(hubspot.CategoryValidation,
					fmt.Sprintf("A limit is already configured for %s association type %d between %s and %s; use batch/update.", input.Category, input.TypeID, from, to),
					input.Category, input.TypeID))
			case so.op == OpBatchUpdateConfigurations && !limitExists:
				errs = append(errs, perInputError(hubspot.CategoryObjectNotFound,
					fmt.Sprintf("No limit is configured for %s association type %d between %s and %s; use batch/create.", input.Category, input.TypeID, from, to),
					input.Category, input.TypeID))
			case rules.refuse(k, input.MaxToObjectIDs) != "":
				errs = append(errs, perInputError(hubspot.CategoryValidation, rules.refuse(k, input.MaxToObjectIDs), input.Category, input.TypeID))
			default:
				s.store.limits[k] = input.MaxToObjectIDs
				if so.op == OpBatchCreateConfigurations {
					max := input.MaxToObjectIDs
					created = append(created, userConfiguration{Category: input.Category, TypeID: input.TypeID, UserEnforcedMaxToObjectIDs: &max, Label: t.Label})
				} else {
					updated = append(updated, updateResult{Category: input.Category, TypeID: input.TypeID, UserEnforcedMaxToObjectIDs: input.MaxToObjectIDs})
				}
			}
		}
		s.mu.Unlock()
		br := batchResponse{Status: "COMPLETE", StartedAt: started, CompletedAt: s.stamp()}
		if so.op == OpBatchCreateConfigurations {
			if created == nil {
				created = []userConfiguration{}
			}
			br.Results = created
		} else {
			if updated == nil {
				updated = []updateResult{}
			}
			br.Results = updated
		}
		if len(errs) > 0 {
			n := len(errs)
			br.Errors, br.NumErrors = errs, &n
			return jsonResponse(http.StatusMultiStatus, br)
		}
		return jsonResponse(so.success, br)

	case OpBatchPurgeConfigurations:
		var in struct {
			Inputs []specInput `json:"inputs"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return badInput(cid, err)
		}
		if r := s.checkBatchSize(len(in.Inputs), cid); r != nil {
			return r
		}
		s.mu.Lock()
		for _, input := range in.Inputs {
			delete(s.store.limits, typeKey{from, to, input.Category, input.TypeID})
		}
		s.mu.Unlock()
		if so.success == http.StatusNoContent {
			return emptyResponse(http.StatusNoContent)
		}
		return jsonResponse(so.success, batchResponse{Status: "COMPLETE", Results: []any{}, StartedAt: started, CompletedAt: s.stamp()})

	case OpListLabels:
		s.mu.Lock()
		ts := s.store.typesBetween(from, to)
		s.mu.Unlock()
		return jsonResponse(so.success, map[string]any{"results": labelSpecs(ts)})

	case OpCreateLabel:
		var in labelCreate
		if err := json.Unmarshal(body, &in); err != nil {
			return badInput(cid, err)
		}
		if strings.TrimSpace(in.Label) == "" || strings.TrimSpace(in.Name) == "" {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Association label and name must not be blank.",
				hubspot.ErrorDetail{In: "body", Message: "label and name must not be blank"})
		}
		s.mu.Lock()
		ts, err := s.store.createLabel(from, to, in.Name, in.Label, in.InverseLabel)
		s.mu.Unlock()
		if errors.Is(err, errLabelCap) {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, err.Error())
		}
		if err != nil {
			return errorResponse(http.StatusConflict, cid, hubspot.CategoryConflict, err.Error())
		}
		return jsonResponse(so.success, map[string]any{"results": labelSpecs(ts)})

	case OpUpdateLabel:
		var in labelUpdate
		if err := json.Unmarshal(body, &in); err != nil {
			return badInput(cid, err)
		}
		if strings.TrimSpace(in.Label) == "" {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Association label must not be blank.",
				hubspot.ErrorDetail{In: "body", Message: "label must not be blank"})
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.store.findType(from, to, in.AssociationTypeID)
		if r := labelTypeCheck(t, in.AssociationTypeID, from, to, cid); r != nil {
			return r
		}
		t.Label = in.Label
		if in.InverseLabel != "" && t.InverseTypeID != 0 {
			if inv, ok := s.store.types[typeKey{to, from, t.Category, t.InverseTypeID}]; ok {
				inv.Label = in.InverseLabel
			}
		}
		return emptyResponse(so.success)

	case OpDeleteLabel:
		id, err := strconv.ParseInt(segs[3], 10, 32)
		if err != nil {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Invalid associationTypeId: "+segs[3],
				hubspot.ErrorDetail{In: "path", Message: "associationTypeId must be an int32"})
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.store.findType(from, to, int32(id))
		if r := labelTypeCheck(t, int32(id), from, to, cid); r != nil {
			return r
		}
		s.store.deleteType(t)
		return emptyResponse(so.success)
	}
	return errorResponse(http.StatusNotImplemented, cid, hubspot.CategoryInternal, "not implemented")
}

func labelTypeCheck(t *AssociationType, id int32, from, to, cid string) *response {
	if t == nil {
		return errorResponse(http.StatusNotFound, cid, hubspot.CategoryObjectNotFound,
			fmt.Sprintf("Association type %d does not exist between %s and %s.", id, from, to))
	}
	if t.Category != CategoryUserDefined {
		return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation,
			fmt.Sprintf("Association type %d is %s; only USER_DEFINED labels can be changed.", id, t.Category))
	}
	return nil
}

func (s *Server) checkBatchSize(n int, cid string) *response {
	if n > s.cfg.maxBatch {
		return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation,
			fmt.Sprintf("Too many inputs: got %d, the maximum batch size is %d.", n, s.cfg.maxBatch),
			hubspot.ErrorDetail{In: "body", Message: fmt.Sprintf("inputs: at most %d items allowed", s.cfg.maxBatch), Code: "TOO_MANY_INPUTS"})
	}
	return nil
}

// userConfigLocked renders a limit. Callers hold s.mu.
func (s *Server) userConfigLocked(l Limit, withPair bool) userConfiguration {
	max := l.MaxToObjectIDs
	uc := userConfiguration{Category: l.Category, TypeID: l.TypeID, UserEnforcedMaxToObjectIDs: &max}
	if t, ok := s.store.types[l.key()]; ok {
		uc.Label = t.Label
	}
	if withPair {
		uc.FromObjectTypeID, uc.ToObjectTypeID = l.FromObjectType, l.ToObjectType
	}
	return uc
}

func labelSpecs(ts []AssociationType) []labelSpec {
	out := make([]labelSpec, 0, len(ts))
	for _, t := range ts {
		out = append(out, labelSpec{Category: t.Category, TypeID: t.TypeID, Label: t.Label, FromObjectTypeID: t.FromObjectType, ToObjectTypeID: t.ToObjectType})
	}
	return out
}
