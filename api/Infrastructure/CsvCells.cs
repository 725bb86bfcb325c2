namespace Relabel.Api.Infrastructure;

/// <summary>Text cells of the CSV files we write.</summary>
public static class CsvCells
{
    /// <summary>
    /// Quotes a text cell when it needs it, and neutralises one a spreadsheet would run as a formula (it starts with =, +,
    /// -, @, a tab or a carriage return: OWASP's "CSV injection") by a leading apostrophe. Numbers we format are not text.
    /// </summary>
    public static string Text(string text)
    {
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
        return text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
    }
}
