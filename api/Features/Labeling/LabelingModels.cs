using FluentValidation;
using Relabel.Api.Features.Review;

namespace Relabel.Api.Features.Labeling;

public static class LabelingModes
{
    /// <summary>Images with decided labels; each answer is graded at once and the labeler sees the feedback.</summary>
    public const string Training = "training";
    /// <summary>Answers become the predictions of the labeler's human model once every labeler has submitted.</summary>
    public const string Evaluation = "evaluation";
}

/// <summary>
/// Which images: an explicit list (fileNames), a class-balanced random sample (sampleSize and seed, optionally within a
/// subset), or every image of a subset. Training tasks only take images that have decided correct labels.
/// </summary>
/// <param name="PartSize">Images per part (default 25); training feedback reviews the mistakes after each part.</param>
/// <param name="Labelers">User names of the labelers.</param>
public sealed record CreateLabelingTaskRequest(
    string Name,
    string Dataset,
    string Mode,
    string[] Labelers,
    int? PartSize,
    int? SampleSize,
    int? Seed,
    string? Subset,
    string[]? FileNames);

public sealed class CreateLabelingTaskValidator : AbstractValidator<CreateLabelingTaskRequest>
{
    public CreateLabelingTaskValidator()
    {
        RuleFor(r => r.Name).NotEmpty().MaximumLength(200);
        RuleFor(r => r.Dataset).NotEmpty();
        RuleFor(r => r.Mode).Must(m => m is LabelingModes.Training or LabelingModes.Evaluation)
            .WithMessage("mode: training or evaluation.");
        RuleFor(r => r.Labelers).NotEmpty().Must(l => l is null || l.Distinct().Count() == l.Length)
            .WithMessage("labelers: at least one, each once.");
        RuleFor(r => r.PartSize).InclusiveBetween(1, 10000);
        RuleFor(r => r.SampleSize).InclusiveBetween(1, 100000);
        RuleFor(r => r).Must(r => r.FileNames is null || (r.SampleSize is null && r.Subset is null))
            .WithName("fileNames").WithMessage("fileNames: an explicit list excludes sampleSize and subset.");
        RuleFor(r => r).Must(r => r.FileNames is not null || r.SampleSize is not null || r.Subset is not null)
            .WithName("images").WithMessage("images: give fileNames, sampleSize (with seed), or subset.");
        RuleFor(r => r.FileNames).Must(f => f is null || (f.Length > 0 && f.Distinct().Count() == f.Length))
            .WithMessage("fileNames: at least one, each once.");
    }
}

/// <summary>A labeler's progress on a task.</summary>
public sealed record LabelerProgress
{
    public required string Labeler { get; init; }
    public required int Answered { get; init; }
    public required int Total { get; init; }
    public required int PartsCompleted { get; init; }
    public required int Parts { get; init; }
    /// <summary>Training tasks: the share of answers that are among the image's correct labels.</summary>
    public required double? Accuracy { get; init; }
    /// <summary>Training tasks: the accuracy of each part (null for a part without answers), in order.</summary>
    public required double?[] PartAccuracy { get; init; }
    public required double? MedianSeconds { get; init; }
    public required DateTime? SubmittedAt { get; init; }
}

public sealed record LabelingTaskResponse
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public required string Dataset { get; init; }
    public required string Mode { get; init; }
    public required int PartSize { get; init; }
    public required int Images { get; init; }
    public required string[] Labelers { get; init; }
    public required DateTime CreatedAt { get; init; }
    /// <summary>The caller's progress, when the caller is a labeler of the task.</summary>
    public required LabelerProgress? Mine { get; init; }
    /// <summary>The first position the caller has not answered (null when every image is answered).</summary>
    public required int? NextPosition { get; init; }
}

/// <summary>One image of a task as its labeler sees it; opening it starts its clock.</summary>
public sealed record LabelingItem
{
    public required long TaskId { get; init; }
    public required int Position { get; init; }
    public required int Part { get; init; }
    public required long ImageId { get; init; }
    public required string FileUrl { get; init; }
    public required string? Answer { get; init; }
    public required DateTime StartedAt { get; init; }
    public required bool Paused { get; init; }
    public required bool Submitted { get; init; }
    /// <summary>Training tasks, once answered: the feedback of the answer.</summary>
    public required TrainingFeedback? Feedback { get; init; }
}

public sealed record AnswerRequest(string Wnid);

/// <summary>What a training answer gets back at once.</summary>
public sealed record TrainingFeedback
{
    public required bool Correct { get; init; }
    public required string[] CorrectLabels { get; init; }
    public required GuideNote[] Notes { get; init; }
    public required double RunningAccuracy { get; init; }
    public required bool PartComplete { get; init; }
    /// <summary>When this answer completes a part: the part's wrong answers, for review.</summary>
    public required Mistake[]? PartMistakes { get; init; }
}

public sealed record Mistake
{
    public required int Position { get; init; }
    public required long ImageId { get; init; }
    public required string Answer { get; init; }
    public required string[] CorrectLabels { get; init; }
}

public sealed record AnswerResponse
{
    public required int Position { get; init; }
    public required string Wnid { get; init; }
    public required double Seconds { get; init; }
    public required int? NextPosition { get; init; }
    public required TrainingFeedback? Feedback { get; init; }
}

public sealed record TaskProgressResponse(long TaskId, LabelerProgress[] Labelers);

/// <summary>Per labeler, median time per image; and the images whose median time across labelers is under 60 s.</summary>
public sealed record TimingResponse
{
    public required string Dataset { get; init; }
    public required LabelerTiming[] Labelers { get; init; }
    public required int LabeledImages { get; init; }
    public required int FastImages { get; init; }
}

public sealed record LabelerTiming(string Labeler, int Images, double MedianSeconds);
