package main

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// renderSchema emits schema.gen.go: NewDefaultClient, the Schema type with
// one method per operation of the document (single calls, batches, lists)
// and the unexported helpers the batch methods hand to the batch runtime
// (internal/batchrt).
func renderSchema(m *model) *jen.File {
	f := newFile()
	f.ImportName("context", "context")
	renderConstructors(f)
	for _, c := range m.Calls {
		f.Line()
		renderCall(f, c)
	}
	validators := map[string]bool{}
	for _, b := range m.Batches {
		f.Line()
		renderBatchMethod(f, b)
		if !validators[b.InputType] {
			validators[b.InputType] = true
			f.Line()
			renderValidator(f, b)
		}
	}
	// Each helper once per type (inputs and results of several batches
	// share types).
	keys, keyFields, matches := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, b := range m.Batches {
		for _, t := range []string{b.InputType, b.ResultType} {
			if t != "" && !keys[t] {
				keys[t] = true
				f.Line()
				renderKey(f, t, b.Keys)
			}
		}
		if !keyFields[b.InputType] {
			keyFields[b.InputType] = true
			f.Line()
			renderKeyFields(f, b.InputType, b.Keys)
		}
		if b.ReadBack != nil && b.Values != nil && !matches[b.InputType] {
			matches[b.InputType] = true
			f.Line()
			renderMatches(f, b)
		}
	}
	for _, l := range m.Lists {
		f.Line()
		renderList(f, l)
	}
	return f
}

// renderConstructors emits what does not depend on the document: New (a
// token and every option, the common case), NewDefaultClient (the raw
// client), the Schema type, NewSchema (over a client a user builds), Client
// (the raw client of a Schema) and with (the raw client sending one call
// through the runtime's Doer):
//
//	func New(token string, opts ...hubspot.Option) (*Schema, error) {
//		if token != "" {
//			opts = append([]hubspot.Option{hubspot.WithToken(token)}, opts...)
//		}
//		r, hc, server, err := batchrt.New(append([]hubspot.Option{hubspot.WithUserAgent(UserAgent)}, opts...)...)
//		if err != nil {
//			return nil, err
//		}
//		client, err := NewClientWithResponses(server, WithHTTPClient(hc))
//		if err != nil {
//			return nil, err
//		}
//		return newSchema(client, r), nil
//	}
func renderConstructors(f *jen.File) {
	optsType := jen.Index().Add(rt("Option"))
	f.Comment("New returns a Schema for HubSpot's API authenticated with a private-app")
	f.Comment("token: requests carry UserAgent and the token, are rate-limited (one limiter")
	f.Comment("per token, see hubspot.SharedLimiter) and retried within one count per")
	f.Comment("input (see hubspot.RetryPolicy). opts are any options of package hubspot:")
	f.Comment("the client's (hubspot.WithBaseURL, hubspot.WithRetryPolicy, ...) and the")
	f.Comment("batch calls' (hubspot.WithChunkSize, hubspot.WithResendUnknown, ...). With")
	f.Comment("an empty token pass hubspot.WithTokenSource instead. The raw client is")
	f.Comment("Client().")
	f.Func().Id("New").Params(jen.Id("token").String(), jen.Id("opts").Op("...").Add(rt("Option"))).
		Params(jen.Op("*").Id("Schema"), jen.Error()).Block(
		jen.If(jen.Id("token").Op("!=").Lit("")).Block(
			jen.Id("opts").Op("=").Append(optsType.Clone().Values(rt("WithToken").Call(jen.Id("token"))), jen.Id("opts").Op("...")),
		),
		jen.List(jen.Id("r"), jen.Id("hc"), jen.Id("server"), jen.Err()).Op(":=").Add(brt("New")).Call(
			jen.Append(optsType.Clone().Values(rt("WithUserAgent").Call(jen.Id("UserAgent"))), jen.Id("opts").Op("...")).Op("..."),
		),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.List(jen.Id("client"), jen.Err()).Op(":=").Id("NewClientWithResponses").Call(jen.Id("server"), jen.Id("WithHTTPClient").Call(jen.Id("hc"))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("newSchema").Call(jen.Id("client"), jen.Id("r")), jen.Nil()),
	)
	f.Line()
	f.Comment("NewDefaultClient returns the raw client with production defaults: server is")
	f.Comment("HubSpot's API (hubspot.DefaultBaseURL when empty), requests carry UserAgent,")
	f.Comment("a bearer token, a request timeout, client-side rate limiting shared by")
	f.Comment("every client of the same token, and retries with backoff (see package hubspot).")
	f.Comment("Pass the token with hubspot.WithToken or hubspot.WithTokenSource. New builds")
	f.Comment("it and the Schema over it in one call.")
	f.Func().Id("NewDefaultClient").Params(jen.Id("server").String(), jen.Id("opts").Op("...").Add(rt("Option"))).
		Params(jen.Op("*").Id("ClientWithResponses"), jen.Error()).Block(
		jen.If(jen.Id("server").Op("==").Lit("")).Block(jen.Id("server").Op("=").Add(rt("DefaultBaseURL"))),
		jen.List(jen.Id("hc"), jen.Err()).Op(":=").Add(rt("NewHTTPClient")).Call(
			jen.Append(optsType.Clone().Values(rt("WithUserAgent").Call(jen.Id("UserAgent"))), jen.Id("opts").Op("...")).Op("..."),
		),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("NewClientWithResponses").Call(jen.Id("server"), jen.Id("WithHTTPClient").Call(jen.Id("hc")))),
	)
	f.Line()
	f.Comment("Schema is HubSpot's Associations Schema API (association labels and")
	f.Comment("association limits) as Go calls: each operation returns its value or an")
	f.Comment("error, a *hubspot.APIError or *hubspot.RateLimitError for HubSpot's")
	f.Comment("refusals (use errors.As); batch calls take any number of inputs and account")
	f.Comment("for each in a *hubspot.Result; list calls follow paging. Build it with New,")
	f.Comment("or with NewSchema over a client of your own. The raw client stays available")
	f.Comment("(Client) for anything else.")
	f.Type().Id("Schema").Struct(
		jen.Id("client").Id("ClientInterface"),
		jen.Id("raw").Op("*").Id("Client").Comment("client's *Client, nil for a ClientInterface of the user's own"),
		jen.Id("rt").Op("*").Add(brt("Runtime")),
	)
	f.Line()
	f.Comment("NewSchema returns a Schema sending through client. Options tune the batch")
	f.Comment("calls (chunk size, concurrency, resending, progress, logger); invalid ones,")
	f.Comment("and options that configure a client (it is built already), are an error.")
	f.Comment("")
	f.Comment("A Result's counts are the Transport's own when client sends with an")
	f.Comment("http.Client from NewDefaultClient or hubspot.NewHTTPClient. Over any other")
	f.Comment("client each request handed to it counts once (retries it makes by itself")
	f.Comment("are not seen: Retries and Waited stay 0), and one count per input end to")
	f.Comment("end (hubspot.DefaultMaxAttempts requests) bounds resends; over a")
	f.Comment("ClientInterface other than *Client and *ClientWithResponses each call")
	f.Comment("counts once.")
	f.Func().Id("NewSchema").Params(jen.Id("client").Id("ClientInterface"), jen.Id("opts").Op("...").Add(rt("Option"))).
		Params(jen.Op("*").Id("Schema"), jen.Error()).Block(
		jen.If(jen.Id("client").Op("==").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual("errors", "New").Call(jen.Lit("associations: NewSchema: nil client"))),
		),
		jen.Var().Id("doer").Add(brt("Doer")),
		jen.If(jen.Id("raw").Op(":=").Id("rawClient").Call(jen.Id("client")), jen.Id("raw").Op("!=").Nil().Op("&&").Id("raw").Dot("Client").Op("!=").Nil()).Block(
			jen.Id("doer").Op("=").Id("raw").Dot("Client"),
		),
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(brt("ForClient")).Call(jen.Id("doer"), jen.Id("opts").Op("...")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("newSchema").Call(jen.Id("client"), jen.Id("r")), jen.Nil()),
	)
	f.Line()
	f.Comment("newSchema returns a Schema sending through client with r.")
	f.Func().Id("newSchema").Params(jen.Id("client").Id("ClientInterface"), jen.Id("r").Op("*").Add(brt("Runtime"))).Op("*").Id("Schema").Block(
		jen.Return(jen.Op("&").Id("Schema").Values(jen.Dict{jen.Id("client"): jen.Id("client"), jen.Id("raw"): jen.Id("rawClient").Call(jen.Id("client")), jen.Id("rt"): jen.Id("r")})),
	)
	f.Line()
	f.Comment("rawClient returns the *Client of client, nil when it has none.")
	f.Func().Id("rawClient").Params(jen.Id("client").Id("ClientInterface")).Op("*").Id("Client").Block(
		jen.Switch(jen.Id("c").Op(":=").Id("client").Assert(jen.Type())).Block(
			jen.Case(jen.Op("*").Id("Client")).Block(jen.Return(jen.Id("c"))),
			jen.Case(jen.Op("*").Id("ClientWithResponses")).Block(
				jen.List(jen.Id("raw"), jen.Id("_")).Op(":=").Id("c").Dot("ClientInterface").Assert(jen.Op("*").Id("Client")),
				jen.Return(jen.Id("raw")),
			),
		),
		jen.Return(jen.Nil()),
	)
	f.Line()
	f.Comment("Client returns the raw client the Schema sends through, for the operations")
	f.Comment("and answers the Schema does not cover.")
	f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id("Client").Params().Op("*").Id("ClientWithResponses").Block(
		jen.If(jen.List(jen.Id("c"), jen.Id("ok")).Op(":=").Id("s").Dot("client").Assert(jen.Op("*").Id("ClientWithResponses")), jen.Id("ok")).Block(jen.Return(jen.Id("c"))),
		jen.Return(jen.Op("&").Id("ClientWithResponses").Values(jen.Dict{jen.Id("ClientInterface"): jen.Id("s").Dot("client")})),
	)
	f.Line()
	f.Comment("with returns the client sending one call through d, the runtime's Doer")
	f.Comment("for that call (which reports what happened on the wire); a client of the")
	f.Comment("user's own sends as it does.")
	f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id("with").Params(jen.Id("d").Add(brt("Doer"))).Id("ClientInterface").Block(
		jen.If(jen.Id("s").Dot("raw").Op("==").Nil()).Block(jen.Return(jen.Id("s").Dot("client"))),
		jen.Id("c").Op(":=").Op("*").Id("s").Dot("raw"),
		jen.Id("c").Dot("Client").Op("=").Id("d"),
		jen.Return(jen.Op("&").Id("c")),
	)
}

func keyNames(keys []field) string {
	var names []string
	for _, k := range keys {
		names = append(names, k.JSON)
	}
	return strings.Join(names, " and ")
}

// params renders "ctx context.Context, name type, ..." for the path
// parameters ps.
func params(ps []param) []jen.Code {
	out := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	for _, p := range ps {
		out = append(out, jen.Id(p.Name).Id(p.Type))
	}
	return out
}

// args renders "ctx, name, ..." for the path parameters ps.
func args(ps []param) []jen.Code {
	out := []jen.Code{jen.Id("ctx")}
	for _, p := range ps {
		out = append(out, jen.Id(p.Name))
	}
	return out
}

func wrapComment(f *jen.File, text string) {
	words := strings.Fields(text)
	line := ""
	for _, w := range words {
		if line != "" && len(line)+1+len(w) > 76 {
			f.Comment(line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		f.Comment(line)
	}
}

// renderCall emits the call of one operation answered with one value (or
// none); a collection answer returns its results, as the list calls do:
//
//	func (s *Schema) CreateLabel(ctx context.Context, fromObjectType string, toObjectType string, body LabelCreate) ([]Label, error) {
//		res, err := batchrt.Call[LabelList](ctx, s.rt, "POST", func(d batchrt.Doer) (*http.Response, error) {
//			return s.with(d).CreateLabel(ctx, fromObjectType, toObjectType, body)
//		})
//		if err != nil || res == nil {
//			return nil, err
//		}
//		return res.Results, nil
//	}
//
//	func (s *Schema) DeleteLabel(ctx context.Context, fromObjectType string, toObjectType string, associationTypeID int32) error {
//		return batchrt.Exec(ctx, s.rt, "DELETE", func(d batchrt.Doer) (*http.Response, error) {
//			return s.with(d).DeleteLabel(ctx, fromObjectType, toObjectType, associationTypeID)
//		})
//	}
func renderCall(f *jen.File, c callOp) {
	what := "its answer"
	switch {
	case c.Result == "":
		what = "nil"
	case c.ResultItem != "":
		what = "the results of its answer"
	}
	wrapComment(f, fmt.Sprintf("%s calls HubSpot's %s (%s %s): %s. It returns %s on success; HubSpot's refusal is a *hubspot.APIError (a *hubspot.RateLimitError for a 429).",
		c.OperationID, c.OperationID, c.Method, c.Path, strings.TrimSuffix(c.Summary, "."), what))
	switch {
	case !c.Idempotent:
		wrapComment(f, "It is not idempotent: when it may have been applied without an answer (a reset after sending, a 5xx, a cut-off answer) the error satisfies errors.Is(err, hubspot.ErrOutcomeUnknown); look before calling it again.")
	case c.Method == "DELETE":
		wrapComment(f, "When an attempt may have deleted it without an answer and a retry finds it gone, it succeeded; other unanswered attempts make the error satisfy errors.Is(err, hubspot.ErrOutcomeUnknown).")
	case c.Method != "GET":
		wrapComment(f, "When it may have been applied without an answer (resets or 5xx until the retries are spent) the error satisfies errors.Is(err, hubspot.ErrOutcomeUnknown).")
	}
	if len(c.Exemptions) > 0 {
		wrapComment(f, fmt.Sprintf("HubSpot exempts this operation from these rate limits: %s.", strings.Join(c.Exemptions, ", ")))
	}
	ps, as := params(c.PathParams), args(c.PathParams)
	if c.Body != "" {
		ps = append(ps, jen.Id("body").Id(c.Body))
		as = append(as, jen.Id("body"))
	}
	send := jen.Func().Params(jen.Id("d").Add(brt("Doer"))).Params(jen.Op("*").Qual("net/http", "Response"), jen.Error()).Block(
		jen.Return(jen.Id("s").Dot("with").Call(jen.Id("d")).Dot(c.OperationID).Call(as...)),
	)
	method := f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id(c.OperationID).Params(ps...)
	switch {
	case c.Result == "":
		method.Error().Block(jen.Return(brt("Exec").Call(jen.Id("ctx"), jen.Id("s").Dot("rt"), jen.Lit(c.Method), send)))
	case c.ResultItem != "":
		method.Params(jen.Index().Id(c.ResultItem), jen.Error()).Block(
			jen.List(jen.Id("res"), jen.Err()).Op(":=").Add(brt("Call")).Index(jen.Id(c.Result)).Call(jen.Id("ctx"), jen.Id("s").Dot("rt"), jen.Lit(c.Method), send),
			jen.If(jen.Err().Op("!=").Nil().Op("||").Id("res").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("res").Dot("Results"), jen.Nil()),
		)
	default:
		method.Params(jen.Op("*").Id(c.Result), jen.Error()).Block(
			jen.Return(brt("Call").Index(jen.Id(c.Result)).Call(jen.Id("ctx"), jen.Id("s").Dot("rt"), jen.Lit(c.Method), send)),
		)
	}
}

// renderBatchMethod emits a batch call:
//
//	func (s *Schema) CreateConfigurations(ctx context.Context, fromObjectType string, toObjectType string, inputs []In) (*hubspot.Result[In, Out], error) {
//		return batchrt.Run(ctx, s.rt, batchrt.BatchSpec[In, Out]{
//			AppendInputKey:  appendKeyIn,
//			AppendResultKey: appendKeyOut,
//			Idempotent:      false,
//			KeyFields:       keyFieldsIn,
//			Matches:         matchesIn, // creates with a read-back
//			Operation:       "BatchCreateConfigurations",
//			ReadBack: func(ctx context.Context, r *batchrt.Runtime) ([]Out, error) { // creates
//				rs := *s
//				rs.rt = r
//				return rs.Configurations(ctx, fromObjectType, toObjectType)
//			},
//			Send: func(ctx context.Context, d batchrt.Doer, chunk []In) (*http.Response, error) {
//				return s.with(d).BatchCreateConfigurations(ctx, fromObjectType, toObjectType, BatchCreateConfigurationsJSONRequestBody{Inputs: chunk})
//			},
//			Validate: validateIn,
//		}, inputs)
//	}
//
// An operation without results (purge) has Out struct{} and no
// AppendResultKey.
func renderBatchMethod(f *jen.File, b batchOp) {
	out := b.ResultType
	outType := jen.Id(out)
	if out == "" {
		outType = jen.Struct()
	}
	typeArgs := jen.Index(jen.List(jen.Id(b.InputType), outType.Clone()))

	wrapComment(f, fmt.Sprintf("%s runs HubSpot's %s (%s %s) over any number of inputs: %s. %s", b.Helper, b.OperationID, b.Method, b.Path, strings.TrimSuffix(b.Summary, "."), b.Description))
	f.Comment("")
	safety := "It is idempotent: a chunk is resent after a cut-off answer (and, with hubspot.WithResendUnknown, after a timeout or a 5xx), within one count of requests per input (hubspot.RetryPolicy)."
	if !b.Idempotent {
		safety = fmt.Sprintf("It is not idempotent: after an ambiguous failure it reads back what exists with %s and sends only what is missing.", b.ReadBack.OperationID)
	}
	wrapComment(f, fmt.Sprintf("Inputs are validated before anything is sent, then sent in chunks; results are matched to inputs by %s. %s", keyNames(b.Keys), safety))
	if len(b.Exemptions) > 0 {
		wrapComment(f, fmt.Sprintf("HubSpot exempts this operation from these rate limits: %s.", strings.Join(b.Exemptions, ", ")))
	}
	wrapComment(f, "The result accounts for every input; err is nil only when every input succeeded.")

	spec := jen.Dict{
		jen.Id("Operation"):      jen.Lit(b.OperationID),
		jen.Id("Idempotent"):     jen.Lit(b.Idempotent),
		jen.Id("Validate"):       jen.Id("validate" + b.InputType),
		jen.Id("AppendInputKey"): jen.Id("appendKey" + b.InputType),
		jen.Id("KeyFields"):      jen.Id("keyFields" + b.InputType),
	}
	sendArgs := append(args(b.PathParams), jen.Id(b.OperationID+"JSONRequestBody").Values(jen.Dict{jen.Id("Inputs"): jen.Id("chunk")}))
	spec[jen.Id("Send")] = jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("d").Add(brt("Doer")), jen.Id("chunk").Index().Id(b.InputType)).
		Params(jen.Op("*").Qual("net/http", "Response"), jen.Error()).Block(
		jen.Return(jen.Id("s").Dot("with").Call(jen.Id("d")).Dot(b.OperationID).Call(sendArgs...)),
	)
	if out != "" {
		spec[jen.Id("AppendResultKey")] = jen.Id("appendKey" + out)
	}
	if b.ReadBack != nil && b.Values != nil {
		spec[jen.Id("Matches")] = jen.Id("matches" + b.InputType)
	}
	if b.ReadBack != nil {
		// The read-back sends with the run's runtime r, which counts its
		// requests in the Result.
		spec[jen.Id("ReadBack")] = jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("r").Op("*").Add(brt("Runtime"))).
			Params(jen.Index().Id(out), jen.Error()).Block(
			jen.Id("rs").Op(":=").Op("*").Id("s"),
			jen.Id("rs").Dot("rt").Op("=").Id("r"),
			jen.Return(jen.Id("rs").Dot(b.ReadBack.Helper).Call(args(b.PathParams)...)),
		)
	}
	ps := append(params(b.PathParams), jen.Id("inputs").Index().Id(b.InputType))
	f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id(b.Helper).Params(ps...).
		Params(jen.Op("*").Add(rt("Result")).Add(typeArgs.Clone()), jen.Error()).Block(
		jen.Return(brt("Run").Call(jen.Id("ctx"), jen.Id("s").Dot("rt"), brt("BatchSpec").Add(typeArgs).Values(spec), jen.Id("inputs"))),
	)
}

// renderValidator emits the check of one input against the document's
// constraints (enums, minimums; optional fields only when set):
//
//	func validateIn(in In) []string {
//		var problems []string
//		if !in.Category.Valid() {
//			problems = append(problems, fmt.Sprintf("category: unknown value %q", in.Category))
//		}
//		if in.TypeID < 1 {
//			problems = append(problems, fmt.Sprintf("typeId: %d is less than 1", in.TypeID))
//		}
//		return problems
//	}
func renderValidator(f *jen.File, b batchOp) {
	f.Commentf("validate%s returns the problems of one input, from the constraints of", b.InputType)
	f.Comment("the normalized document (enum values, minimums).")
	body := []jen.Code{jen.Var().Id("problems").Index().String()}
	for _, c := range b.Checks {
		v := jen.Id("in").Dot(c.Go)
		deref := v.Clone()
		if c.Pointer {
			deref = jen.Op("*").Add(v.Clone())
		}
		var checks []jen.Code
		if c.Enum != "" {
			checks = append(checks, jen.If(jen.Op("!").Add(deref.Clone()).Dot("Valid").Call()).Block(
				jen.Id("problems").Op("=").Append(jen.Id("problems"), jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.JSON+": unknown value %q"), deref.Clone())),
			))
		}
		if c.Minimum != nil && !c.IsString {
			checks = append(checks, jen.If(deref.Clone().Op("<").Lit(int(*c.Minimum))).Block(
				jen.Id("problems").Op("=").Append(jen.Id("problems"), jen.Qual("fmt", "Sprintf").Call(jen.Lit(fmt.Sprintf("%s: %%d is less than %d", c.JSON, int(*c.Minimum))), deref.Clone())),
			))
		}
		if c.Pointer {
			body = append(body, jen.If(v.Clone().Op("!=").Nil()).Block(checks...))
		} else {
			body = append(body, checks...)
		}
	}
	body = append(body, jen.Return(jen.Id("problems")))
	f.Func().Id("validate" + b.InputType).Params(jen.Id("in").Id(b.InputType)).Index().String().Block(body...)
}

// renderList emits the two forms of a list call:
//
//	func (s *Schema) LabelsSeq(ctx context.Context, fromObjectType string, toObjectType string) iter.Seq2[Item, error] {
//		return batchrt.Pages[Item](ctx, s.rt, func(ctx context.Context, d batchrt.Doer, after string) (*http.Response, error) {
//			_ = after // this version does not page
//			return s.with(d).ListLabels(ctx, fromObjectType, toObjectType)
//		})
//	}
//
//	func (s *Schema) Labels(ctx context.Context, fromObjectType string, toObjectType string) ([]Item, error) {
//		return batchrt.Collect(s.LabelsSeq(ctx, fromObjectType, toObjectType))
//	}
//
// A paged operation passes after as &ListXParams{After: afterPtr}.
func renderList(f *jen.File, l listOp) {
	pageArgs := args(l.PathParams)
	if l.Paged {
		pageArgs = append(pageArgs, jen.Op("&").Id(l.OperationID+"Params").Values(jen.Dict{jen.Id("After"): jen.Id("afterPtr")}))
	}
	fetch := jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("d").Add(brt("Doer")), jen.Id("after").String()).
		Params(jen.Op("*").Qual("net/http", "Response"), jen.Error())
	var fetchBody []jen.Code
	if l.Paged {
		fetchBody = append(fetchBody,
			jen.Var().Id("afterPtr").Op("*").String(),
			jen.If(jen.Id("after").Op("!=").Lit("")).Block(jen.Id("afterPtr").Op("=").Op("&").Id("after")),
		)
	} else {
		fetchBody = append(fetchBody, jen.Id("_").Op("=").Id("after").Comment("this version does not page"))
	}
	fetchBody = append(fetchBody, jen.Return(jen.Id("s").Dot("with").Call(jen.Id("d")).Dot(l.OperationID).Call(pageArgs...)))

	wrapComment(f, fmt.Sprintf("%sSeq yields every result of HubSpot's %s (%s), following paging if the API version pages, and stops at the first error.", l.Helper, l.OperationID, strings.TrimSuffix(l.Summary, ".")))
	f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id(l.Helper+"Seq").Params(params(l.PathParams)...).
		Qual("iter", "Seq2").Index(jen.List(jen.Id(l.ItemType), jen.Error())).Block(
		jen.Return(brt("Pages").Index(jen.Id(l.ItemType)).Call(jen.Id("ctx"), jen.Id("s").Dot("rt"), fetch.Block(fetchBody...))),
	)
	f.Line()
	wrapComment(f, fmt.Sprintf("%s returns every result of HubSpot's %s (%s) as one slice, whatever paging the API version has. A page whose answer is cut off is asked for again.", l.Helper, l.OperationID, strings.TrimSuffix(l.Summary, ".")))
	f.Func().Params(jen.Id("s").Op("*").Id("Schema")).Id(l.Helper).Params(params(l.PathParams)...).
		Params(jen.Index().Id(l.ItemType), jen.Error()).Block(
		jen.Return(brt("Collect").Call(jen.Id("s").Dot(l.Helper + "Seq").Call(args(l.PathParams)...))),
	)
}

// renderKey emits appendKey<T>, which renders the key fields of a T the same
// way for inputs and results, so the engine can match them without an
// allocation per input:
//
//	func appendKeyT(dst []byte, v T) []byte {
//		dst = append(dst, "category="...)
//		dst = append(dst, v.Category...)
//		dst = append(dst, " typeId="...)
//		dst = strconv.AppendInt(dst, int64(v.TypeID), 10)
//		return dst
//	}
func renderKey(f *jen.File, t string, keys []field) {
	dst := jen.Id("dst")
	var body []jen.Code
	for i, k := range keys {
		label := k.JSON + "="
		if i > 0 {
			label = " " + label
		}
		body = append(body, dst.Clone().Op("=").Append(dst.Clone(), jen.Lit(label).Op("...")))
		switch {
		case k.IsString:
			body = append(body, dst.Clone().Op("=").Append(dst.Clone(), keyValue(k).(*jen.Statement).Clone().Op("...")))
		case k.IsInt:
			body = append(body, dst.Clone().Op("=").Qual("strconv", "AppendInt").Call(dst.Clone(), jen.Int64().Call(keyValue(k)), jen.Lit(10)))
		default:
			body = append(body, dst.Clone().Op("=").Qual("fmt", "Append").Call(dst.Clone(), keyValue(k)))
		}
	}
	body = append(body, jen.Return(dst.Clone()))
	f.Commentf("appendKey%s appends the key of a %s (%s) to dst.", t, t, keyNames(keys))
	f.Func().Id("appendKey"+t).Params(jen.Id("dst").Index().Byte(), jen.Id("v").Id(t)).Index().Byte().Block(body...)
}

// renderMatches emits matches<In>, which reports whether a result read back
// shows every non-key value of the input:
//
//	func matchesX(in X, out Y) bool {
//		return out.UserEnforcedMaxToObjectIDs != nil && fmt.Sprint(in.MaxToObjectIDs) == fmt.Sprint(*out.UserEnforcedMaxToObjectIDs)
//	}
func renderMatches(f *jen.File, b batchOp) {
	var shown []string
	conds := []jen.Code{}
	for _, p := range b.Values {
		shown = append(shown, p.In.JSON+" as "+p.Out.JSON)
		inV, outV := jen.Id("in").Dot(p.In.Go), jen.Id("out").Dot(p.Out.Go)
		inD, outD := inV.Clone(), outV.Clone()
		if p.In.Pointer {
			inD = jen.Op("*").Add(inV.Clone())
		}
		if p.Out.Pointer {
			outD = jen.Op("*").Add(outV.Clone())
		}
		eq := jen.Qual("fmt", "Sprint").Call(inD).Op("==").Qual("fmt", "Sprint").Call(outD)
		if p.Out.Pointer {
			eq = outV.Clone().Op("!=").Nil().Op("&&").Add(eq)
		}
		if p.In.Pointer {
			eq = jen.Parens(inV.Clone().Op("==").Nil().Op("||").Add(eq))
		}
		conds = append(conds, eq)
	}
	desc := "every value"
	if len(shown) > 0 {
		desc = strings.Join(shown, ", ")
	}
	wrapComment(f, fmt.Sprintf("matches%s reports whether a %s read back from HubSpot shows what the %s asked for: %s.", b.InputType, b.ResultType, b.InputType, desc))
	var body jen.Code = jen.Return(jen.True())
	if len(conds) > 0 {
		expr := jen.Add(conds[0])
		for _, c := range conds[1:] {
			expr = expr.Op("&&").Add(c)
		}
		body = jen.Return(expr)
	}
	f.Func().Id("matches"+b.InputType).Params(jen.Id("in").Id(b.InputType), jen.Id("out").Id(b.ResultType)).Bool().Block(body)
}

// renderKeyFields emits keyFields<T>, the key fields by JSON name, for
// matching HubSpot's error context to inputs:
//
//	func keyFieldsT(v T) map[string]string {
//		return map[string]string{
//			"category": string(v.Category),
//			"typeId":   strconv.FormatInt(int64(v.TypeID), 10),
//		}
//	}
func renderKeyFields(f *jen.File, t string, keys []field) {
	f.Commentf("keyFields%s returns the key fields of a %s by JSON name.", t, t)
	d := jen.Dict{}
	for _, k := range keys {
		d[jen.Lit(k.JSON)] = keyString(k)
	}
	f.Func().Id("keyFields" + t).Params(jen.Id("v").Id(t)).Map(jen.String()).String().Block(
		jen.Return(jen.Map(jen.String()).String().Values(d)),
	)
}

// keyString renders a key field as the string fmt's %v gives: string(v.X)
// for strings and string enums, strconv.FormatInt(int64(v.X), 10) for
// integers, fmt.Sprint(v.X) otherwise.
func keyString(k field) jen.Code {
	switch {
	case k.IsString:
		return jen.String().Call(keyValue(k))
	case k.IsInt:
		return jen.Qual("strconv", "FormatInt").Call(jen.Int64().Call(keyValue(k)), jen.Lit(10))
	default:
		return jen.Qual("fmt", "Sprint").Call(keyValue(k))
	}
}

// keyValue renders v.X, or *v.X for an optional field.
func keyValue(k field) jen.Code {
	if k.Pointer {
		return jen.Op("*").Id("v").Dot(k.Go)
	}
	return jen.Id("v").Dot(k.Go)
}
