using System.Text.Json;
using System.Text.Json.Nodes;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Interop;

/// <summary>One image's judged labels in the release.</summary>
public sealed record MultilabelAnnotation(string[] Correct, string[] Wrong, string[] Unclear);

/// <summary>An image flagged problematic: the release's reason text and its other attributes, kept verbatim.</summary>
public sealed record ProblematicImage(string Reason, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// The multi-label release of "Evaluating Machine Accuracy on ImageNet" (ICML 2020), as served by TensorFlow
/// Datasets' imagenet2012_multilabel:
/// {"initial_annots": {file: {"correct": [wnid], "wrong": [wnid], "unclear": [wnid]}},
///  "problematic_images": {file: {"reason": …, "reviewer": …, "time_marked": …}},
///  "imagenet_m": [file]}.
/// </summary>
public sealed record MultilabelRelease(
    IReadOnlyDictionary<string, MultilabelAnnotation> Annotations,
    IReadOnlyDictionary<string, ProblematicImage> Problematic,
    IReadOnlyList<string> ImagenetM)
{
    /// <summary>Reads and checks the document; structural faults go to <paramref name="errors"/> with their JSON path.</summary>
    public static async Task<MultilabelRelease?> ReadAsync(Stream body, LineErrors errors, CancellationToken ct)
    {
        JsonNode? root;
        try { root = await JsonNode.ParseAsync(body, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }, cancellationToken: ct); }
        catch (JsonException e)
        {
            errors.Add((e.LineNumber ?? 0) + 1, e.Path ?? "$", "Malformed JSON: " + e.Message);
            return null;
        }
        if (root is not JsonObject document) { errors.Add(1, "$", "Expected a JSON object."); return null; }

        var annotations = new Dictionary<string, MultilabelAnnotation>(StringComparer.Ordinal);
        if (document["initial_annots"] is JsonObject initial)
            foreach (var (file, value) in initial)
            {
                var path = $"initial_annots[\"{file}\"]";
                if (value is not JsonObject judged) { errors.Add(0, path, "Expected an object with correct / wrong / unclear lists."); continue; }
                string[] List(string key)
                {
                    if (judged[key] is null) return [];
                    if (judged[key] is not JsonArray array || array.Any(v => v is not JsonValue j || j.GetValueKind() != JsonValueKind.String))
                    {
                        errors.Add(0, $"{path}.{key}", "Expected a list of wnids.");
                        return [];
                    }
                    return array.Select(v => v!.GetValue<string>()).ToArray();
                }
                var annotation = new MultilabelAnnotation(List("correct"), List("wrong"), List("unclear"));
                var all = annotation.Correct.Concat(annotation.Wrong).Concat(annotation.Unclear).ToList();
                foreach (var twice in all.GroupBy(w => w).Where(g => g.Count() > 1))
                    errors.Add(0, path, $"'{twice.Key}' is listed more than once (conflicting or duplicate judgements).");
                annotations[file] = annotation;
            }
        else if (document["initial_annots"] is not null) errors.Add(0, "initial_annots", "Expected an object keyed by file name.");

        var problematic = new Dictionary<string, ProblematicImage>(StringComparer.Ordinal);
        if (document["problematic_images"] is JsonObject flagged)
            foreach (var (file, value) in flagged)
            {
                var path = $"problematic_images[\"{file}\"]";
                if (value is not JsonObject attributes) { errors.Add(0, path, "Expected an object with a reason."); continue; }
                var fields = attributes.Where(a => a.Value is JsonValue)
                    .ToDictionary(a => a.Key, a => a.Value!.GetValueKind() == JsonValueKind.String ? a.Value.GetValue<string>() : a.Value.ToJsonString());
                if (!fields.TryGetValue("reason", out var reason) || reason.Length == 0) { errors.Add(0, path, "Missing reason."); continue; }
                problematic[file] = new ProblematicImage(reason, fields);
            }
        else if (document["problematic_images"] is not null) errors.Add(0, "problematic_images", "Expected an object keyed by file name.");

        var imagenetM = new List<string>();
        if (document["imagenet_m"] is JsonArray m)
            foreach (var v in m)
                if (v is JsonValue j && j.GetValueKind() == JsonValueKind.String) imagenetM.Add(j.GetValue<string>());
                else errors.Add(0, "imagenet_m", "Expected a list of file names.");
        if (annotations.Count == 0 && problematic.Count == 0 && imagenetM.Count == 0)
            errors.Add(1, "$", "The document has no initial_annots, problematic_images or imagenet_m.");
        return new MultilabelRelease(annotations, problematic, imagenetM);
    }

    /// <summary>Writes the document with keys in file-name order, so that equal content gives equal bytes.</summary>
    public async Task WriteAsync(Stream output, CancellationToken ct)
    {
        await using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteStartObject("initial_annots");
        foreach (var (file, a) in Annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject(file);
            foreach (var (key, list) in new[] { ("correct", a.Correct), ("wrong", a.Wrong), ("unclear", a.Unclear) })
            {
                writer.WriteStartArray(key);
                foreach (var wnid in list.Order(StringComparer.Ordinal)) writer.WriteStringValue(wnid);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteStartObject("problematic_images");
        foreach (var (file, p) in Problematic.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject(file);
            writer.WriteString("reason", p.Reason);
            foreach (var (key, value) in p.Attributes.Where(a => a.Key != "reason").OrderBy(a => a.Key, StringComparer.Ordinal))
                writer.WriteString(key, value);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteStartArray("imagenet_m");
        foreach (var file in ImagenetM.Order(StringComparer.Ordinal)) writer.WriteStringValue(file);
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(ct);
    }

    /// <summary>The release's reason text as one of Relabel's reasons; anything else is 'other' (the text is kept).</summary>
    public static string ReasonOf(string text) => text switch
    {
        "wrong-original-label" or "unclear-original-label" or "drawing-or-render" or "excessively-edited" or "inappropriate" => text,
        _ => "other",
    };
}
