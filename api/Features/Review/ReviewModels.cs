using FluentValidation;
using Relabel.Api.Features.Images;
using Relabel.Api.Features.Labels;

namespace Relabel.Api.Features.Review;

/// <summary>One candidate label of an image under review.</summary>
public sealed record ReviewLabel
{
    public required long ItemId { get; init; }
    public required string Wnid { get; init; }
    public required string[] Lemmas { get; init; }
    public required string Gloss { get; init; }
    /// <summary>Whether this is the image's original label.</summary>
    public required bool IsOriginal { get; init; }
    /// <summary>How many models predict this label as their top-1 for the image.</summary>
    public required int Models { get; init; }
    /// <summary>pending, correct, wrong, unclear or conflict.</summary>
    public required string State { get; init; }
    /// <summary>Send it back with a verdict: a newer version on the server means someone else wrote in between.</summary>
    public required int Version { get; init; }
    /// <summary>The caller's own standing verdict, or null.</summary>
    public required string? MyVerdict { get; init; }
}

/// <summary>A labeling-guide note: for one class, or for the confusable pair wnid vs otherWnid.</summary>
public sealed record GuideNote
{
    public required long Id { get; init; }
    public required string Wnid { get; init; }
    public required string? OtherWnid { get; init; }
    /// <summary>Plain text or Markdown (paragraphs, lists, emphasis, code, links), rendered without HTML.</summary>
    public required string Body { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>An image to review: the image, its candidate labels, its problematic state and the guide notes that apply.</summary>
public sealed record ReviewImage(
    ImageResponse Image,
    IReadOnlyList<ReviewLabel> Labels,
    ImageFlagState Flag,
    IReadOnlyList<GuideNote> Notes,
    DateTimeOffset? LeaseExpiresAt);

public sealed record SubmittedVerdict(long ItemId, int Version, string Verdict, string? Note);

/// <summary>Set (or clear) the problematic flag; version is the flag version the reviewer saw.</summary>
public sealed record SubmittedFlag(bool Problematic, string? Reason, string? Note, int Version);

/// <summary>All verdicts for one image and its optional problematic flag, written in one transaction.</summary>
public sealed record SubmitReviewRequest(SubmittedVerdict[] Verdicts, SubmittedFlag? Flag, double? SecondsSpent);

public sealed record SubmitReviewResponse(
    long ImageId,
    int EventsWritten,
    IReadOnlyList<ItemStateResponse> Items,
    ImageFlagState Flag,
    long LabelVersion);

public sealed record AdjudicateRequest(string Verdict, int Version, string? Note);

public sealed record ConsensusRequest(string Rule);

public sealed record ConsensusResponse(string Dataset, string Rule, int ChangedItems, long LabelVersion);

/// <summary>A subset's labels by state, and the images the pending and conflicts queues hold (for the time left).</summary>
public sealed record SubsetProgress(
    string Subset, long Images, long Items, long Decided, long Pending, long Conflicts, long PendingImages, long ConflictImages);

public sealed record ReviewerProgress(string Reviewer, long Verdicts, long Images, long Today, double SecondsSpent, double? VerdictsPerHour);

public sealed record ReviewProgress(
    string Dataset,
    long LabelVersion,
    string ConsensusRule,
    IReadOnlyList<SubsetProgress> Subsets,
    IReadOnlyList<ReviewerProgress> Reviewers,
    AgreementStats Agreement,
    long MyToday,
    long MyTotal);

/// <summary>One event of an image's log: a verdict on one of its items, or a problematic flag.</summary>
public sealed record HistoryEvent
{
    public required long Id { get; init; }
    /// <summary>verdict or flag.</summary>
    public required string Kind { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The reviewer's name, or the external source's.</summary>
    public required string Author { get; init; }
    public required long? ItemId { get; init; }
    public required string? Wnid { get; init; }
    public required string? Verdict { get; init; }
    public required bool Adjudication { get; init; }
    public required bool? Problematic { get; init; }
    public required string? Reason { get; init; }
    public required string Note { get; init; }
    public required double? SecondsSpent { get; init; }
    public required long LabelVersion { get; init; }
}

/// <summary>Why a reviewer skips an image: needs-expert, image-wont-load or unsure, with an optional note.</summary>
public sealed record SkipReviewRequest(string Reason, string? Note);

public sealed record SkipResponse
{
    public required long Id { get; init; }
    public required long ImageId { get; init; }
    public required string Reason { get; init; }
    public required string Note { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public static class SkipReasons
{
    public static readonly string[] All = ["needs-expert", "image-wont-load", "unsure"];
}

public sealed class SkipReviewValidator : AbstractValidator<SkipReviewRequest>
{
    public SkipReviewValidator()
    {
        RuleFor(r => r.Reason).Must(r => r is not null && SkipReasons.All.Contains(r))
            .WithMessage($"reason: one of {string.Join(", ", SkipReasons.All)}.");
        RuleFor(r => r.Note).MaximumLength(1000);
    }
}

public sealed record PutGuideNoteRequest(string Wnid, string? OtherWnid, string Body);

public sealed class SubmitReviewValidator : AbstractValidator<SubmitReviewRequest>
{
    public SubmitReviewValidator()
    {
        RuleFor(r => r.Verdicts).NotNull();
        RuleFor(r => r.Verdicts).Must(v => v is null || v.Select(x => x.ItemId).Distinct().Count() == v.Length)
            .WithMessage("verdicts: each item at most once.");
        RuleForEach(r => r.Verdicts).ChildRules(v =>
        {
            v.RuleFor(x => x.Verdict).Must(x => Verdicts.All.Contains(x))
                .WithMessage("verdict: correct, wrong, unclear, dont-know or unreviewed.");
            v.RuleFor(x => x.Note).MaximumLength(5000);
        });
        RuleFor(r => r.SecondsSpent).InclusiveBetween(0, 86_400).When(r => r.SecondsSpent is not null);
        RuleFor(r => r.Flag!).SetValidator(new SubmittedFlagValidator()).When(r => r.Flag is not null);
    }
}

public sealed class SubmittedFlagValidator : AbstractValidator<SubmittedFlag>
{
    public SubmittedFlagValidator()
    {
        RuleFor(f => f.Reason).Must(r => r is not null && FlagReasons.All.Contains(r)).When(f => f.Problematic)
            .WithMessage($"reason: one of {string.Join(", ", FlagReasons.All)}.");
        RuleFor(f => f.Reason).Null().When(f => !f.Problematic).WithMessage("reason: only for a problematic image.");
        RuleFor(f => f.Note).NotEmpty().When(f => f.Reason == FlagReasons.Other).WithMessage("note: say why ('other').");
        RuleFor(f => f.Note).MaximumLength(5000);
    }
}

public sealed class AdjudicateValidator : AbstractValidator<AdjudicateRequest>
{
    public AdjudicateValidator()
    {
        RuleFor(r => r.Verdict).Must(v => v is Verdicts.Correct or Verdicts.Wrong or Verdicts.Unclear or Verdicts.Unreviewed)
            .WithMessage("verdict: correct, wrong, unclear, or unreviewed (withdraws the adjudication).");
        RuleFor(r => r.Note).MaximumLength(5000);
    }
}

public sealed class ConsensusValidator : AbstractValidator<ConsensusRequest>
{
    public ConsensusValidator() =>
        RuleFor(r => r.Rule).NotEmpty().Matches("^(latest|majority|agreement:[1-9][0-9]?)$").WithMessage("rule: 'latest', 'majority' or 'agreement:N'.");
}

public sealed class PutGuideNoteValidator : AbstractValidator<PutGuideNoteRequest>
{
    public PutGuideNoteValidator()
    {
        RuleFor(r => r.Wnid).NotEmpty().Matches("^n[0-9]{8}$");
        RuleFor(r => r.OtherWnid).Matches("^n[0-9]{8}$").When(r => r.OtherWnid is not null);
        RuleFor(r => r.OtherWnid).NotEqual(r => r.Wnid).WithMessage("otherWnid: a different class.");
        RuleFor(r => r.Body).NotEmpty().MaximumLength(20_000);
    }
}
