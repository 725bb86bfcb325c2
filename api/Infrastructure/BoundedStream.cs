namespace Relabel.Api.Infrastructure;

/// <summary>
/// Reads at most a fixed number of bytes from an inner stream (a decompressing one, say) and fails with a
/// 413 beyond that, so that a small gzip bomb cannot expand without bound.
/// </summary>
public sealed class BoundedStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n)
    {
        _read += n;
        if (_read > limit)
            throw new BadHttpRequestException($"The decompressed body exceeds {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
        return n;
    }

    /// <summary>The request body, decompressed when sent with Content-Encoding: gzip, bounded to <paramref name="limit"/>.</summary>
    public static Stream RequestBody(HttpRequest request, long limit)
    {
        var gzip = request.Headers.ContentEncoding.Any(e => string.Equals(e, "gzip", StringComparison.OrdinalIgnoreCase));
        return new BoundedStream(gzip ? new System.IO.Compression.GZipStream(request.Body, System.IO.Compression.CompressionMode.Decompress) : request.Body, limit);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>A line longer than the limit: reading stopped there, before the line was held anywhere.</summary>
public sealed class LineTooLongException(long line, int limit)
    : IOException($"Line {line} is longer than {limit} bytes.")
{
    public long Line { get; } = line;
    public int Limit { get; } = limit;
}

/// <summary>
/// Passes a line-oriented body (CSV, NDJSON) through and fails with <see cref="LineTooLongException"/> as soon as one
/// line grows past the limit, so that a reader that collects a line before parsing it (a CSV reader, a line reader)
/// never allocates more than that: a small gzip body that inflates to one huge line costs a few kilobytes.
/// </summary>
public sealed class LineLengthLimitedStream(Stream inner, int maxLineBytes) : Stream
{
    private long _line = 1;
    private int _lineBytes;

    public override int Read(byte[] buffer, int offset, int count) => Check(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Check(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Check(ReadOnlySpan<byte> bytes)
    {
        var rest = bytes;
        while (true)
        {
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _lineBytes += rest.Length;
                if (_lineBytes > maxLineBytes) throw new LineTooLongException(_line, maxLineBytes);
                return bytes.Length;
            }
            if (_lineBytes + newline > maxLineBytes) throw new LineTooLongException(_line, maxLineBytes);
            _line++;
            _lineBytes = 0;
            rest = rest[(newline + 1)..];
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
