// Command contract is a compile-only program: it uses the stable surface of
// package associations that must hold for every tracked API version and
// every published revision (2025-09, v4, 2026-03, 2026-09, ...). CI
// regenerates the package from each document and builds this program; it
// does nothing when run.
package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
)

func main() {}

// calls is never called; it must compile.
func calls(ctx context.Context) error {
	c, err := associations.NewClientWithResponses("https://api.hubapi.com")
	if err != nil {
		return err
	}
	from, to := "contacts", "companies"

	all, _ := c.ListAllConfigurationsWithResponse(ctx)
	var _ *associations.Error = all.JSONDefault
	list, _ := c.ListConfigurationsWithResponse(ctx, from, to)
	var _ *associations.Error = list.JSONDefault

	create, _ := c.BatchCreateConfigurationsWithResponse(ctx, from, to, associations.BatchCreateConfigurationsJSONRequestBody{
		Inputs: []associations.PublicAssociationDefinitionConfigurationCreateRequest{{
			Category: associations.AssociationCategoryUserDefined, TypeId: 1, MaxToObjectIds: 5,
		}},
	})
	batchFields(create.JSON200.Status, create.JSON200.Results)
	batchFields(create.JSON201.Status, create.JSON201.Results)
	batchFields(create.JSON207.Status, create.JSON207.Results)
	var _ *[]associations.StandardError = create.JSON207.Errors
	var _ *int32 = create.JSON207.NumErrors
	var _ *associations.Error = create.JSONDefault

	update, _ := c.BatchUpdateConfigurationsWithResponse(ctx, from, to, associations.BatchUpdateConfigurationsJSONRequestBody{
		Inputs: []associations.PublicAssociationDefinitionConfigurationUpdateRequest{{
			Category: associations.AssociationCategoryHubspotDefined, TypeId: 1, MaxToObjectIds: 5,
		}},
	})
	updateResults(update.JSON200.Results)
	updateResults(update.JSON201.Results)
	updateResults(update.JSON207.Results)
	var _ associations.BatchStatus = update.JSON207.Status
	var _ *[]associations.StandardError = update.JSON207.Errors
	var _ *int32 = update.JSON207.NumErrors
	var _ *associations.Error = update.JSONDefault

	purge, _ := c.BatchPurgeConfigurationsWithResponse(ctx, from, to, associations.BatchPurgeConfigurationsJSONRequestBody{
		Inputs: []associations.PublicAssociationSpec{{Category: associations.AssociationCategoryIntegratorDefined, TypeId: 1}},
	})
	var _ *associations.Error = purge.JSONDefault

	labels, _ := c.ListLabelsWithResponse(ctx, from, to)
	var _ []associations.AssociationSpecWithLabel = labels.JSON200.Results
	created, _ := c.CreateLabelWithResponse(ctx, from, to, associations.CreateLabelJSONRequestBody(associations.PublicAssociationDefinitionCreateRequest{Label: "Mentor", Name: "mentor"}))
	var _ *associations.Error = created.JSONDefault
	updated, _ := c.UpdateLabelWithResponse(ctx, from, to, associations.UpdateLabelJSONRequestBody(associations.PublicAssociationDefinitionUpdateRequest{AssociationTypeId: 1, Label: "Mentee"}))
	var _ *associations.Error = updated.JSONDefault
	var typeID int32 = 1
	deleted, _ := c.DeleteLabelWithResponse(ctx, from, to, typeID)
	var _ *associations.Error = deleted.JSONDefault
	var _ int = deleted.StatusCode()

	for _, cat := range []associations.AssociationCategory{
		associations.AssociationCategoryHubspotDefined,
		associations.AssociationCategoryUserDefined,
		associations.AssociationCategoryIntegratorDefined,
		associations.AssociationCategoryWork,
	} {
		_ = cat.Valid()
	}
	for _, st := range []associations.BatchStatus{
		associations.BatchStatusCanceled,
		associations.BatchStatusComplete,
		associations.BatchStatusPending,
		associations.BatchStatusProcessing,
	} {
		_ = st
	}
	var _ associations.AssociationCategory = associations.PublicAssociationSpec{}.Category
	var _ associations.AssociationCategory = associations.PublicAssociationDefinitionUserConfiguration{}.Category
	var _ associations.AssociationCategory = associations.AssociationSpecWithLabel{}.Category
	var _ associations.StandardError
	var _ string = associations.APIVersion
	var _ string = associations.UserAgent

	var apiErr *hubspot.APIError
	if errors.As(err, &apiErr) {
		_ = apiErr.StatusCode
	}
	var _ http.Header
	return nil
}

func batchFields(_ associations.BatchStatus, _ []associations.PublicAssociationDefinitionUserConfiguration) {}

func updateResults(_ []associations.PublicAssociationDefinitionConfigurationUpdateResult) {}
