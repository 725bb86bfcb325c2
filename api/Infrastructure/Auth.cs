using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Dapper;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Relabel.Api.Infrastructure;

public static class Roles
{
    public const string Admin = "admin";
    public const string Reviewer = "reviewer";
    public const string Uploader = "uploader";
    public static readonly string[] All = [Admin, Reviewer, Uploader];
}

/// <summary>Authorization policies; admins may do everything the other roles may.</summary>
public static class Policies
{
    public const string Admin = "admin";
    public const string Reviewer = "reviewer";
    public const string Uploader = "uploader";
    public const string SignedIn = "signed-in";
    public const string SignInRateLimit = "sign-in";
}

public static class Auth
{
    public const string Scheme = "Relabel";
    public const string TokenScheme = "Token";
    public const string CookieScheme = "Cookie";
    public const string CsrfHeader = "X-CSRF-Token";

    public static void AddRelabelAuth(this IServiceCollection services, RelabelOptions options)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Bearer token or cookie", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? TokenScheme
                    : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenScheme, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = "relabel.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // HTTPS requests (directly, or through a known proxy that says so) get Secure cookies; the operator may insist.
                o.Cookie.SecurePolicy = options.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromMinutes(options.SessionMinutes);
                o.SlidingExpiration = true;
                // An API answers 401/403; it never redirects to a sign-in page.
                o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = 401; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = 403; return Task.CompletedTask; };
                // A cookie is only as good as its user's security stamp (see Sessions): revoked sessions end here.
                o.Events.OnValidatePrincipal = async c =>
                {
                    if (c.Principal is not null &&
                        await c.HttpContext.RequestServices.GetRequiredService<Sessions>().IsCurrentAsync(c.Principal, c.HttpContext.RequestAborted))
                        return;
                    c.RejectPrincipal();
                    await c.HttpContext.SignOutAsync(CookieScheme);
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Reviewer, p => p.RequireRole(Roles.Reviewer, Roles.Admin))
            .AddPolicy(Policies.Uploader, p => p.RequireRole(Roles.Uploader, Roles.Admin))
            .AddPolicy(Policies.SignedIn, p => p.RequireAuthenticatedUser());

        services.AddAntiforgery(o =>
        {
            o.HeaderName = CsrfHeader;
            o.Cookie.Name = "relabel.csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Secure over HTTPS; not forced (antiforgery refuses to work at all over HTTP with Always). It guards no session.
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Policies.SignInRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.SignInAttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
    }

    /// <summary>Cookie-authenticated writes must carry the anti-forgery header; token callers are not exposed to CSRF.</summary>
    public static IApplicationBuilder UseCsrfProtection(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var method = context.Request.Method;
        var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
        if (!safe && context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieScheme })
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        await next(context);
    });

    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Not signed in."));

    /// <param name="securityStamp">For a sign-in cookie: the user's stamp it is valid with (see <see cref="Sessions"/>).</param>
    public static ClaimsPrincipal Principal(long id, string name, IEnumerable<string> roles, string authenticationType, Guid? securityStamp = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, id.ToString()), new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        if (securityStamp is { } stamp) claims.Add(new Claim(Sessions.StampClaim, stamp.ToString()));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>
    /// Behind reverse proxies listed in Relabel:KnownProxies, the client's address and scheme come from their
    /// X-Forwarded-For and X-Forwarded-Proto headers (the last hop only); anyone else's such headers are ignored.
    /// </summary>
    public static IApplicationBuilder UseKnownProxies(this IApplicationBuilder app, RelabelOptions options)
    {
        var entries = options.KnownProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0) return app;
        var forwarded = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = 1,
        };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var entry in entries)
            if (entry.Contains('/')) forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
            else forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(entry));
        return app.UseForwardedHeaders(forwarded);
    }

    /// <summary>A new API token: 32 random bytes, shown once; only its SHA-256 is stored.</summary>
    public static string NewToken() => "rl_" + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Authenticates "Authorization: Bearer rl_…" against the hashed, revocable tokens; what the database says about a
/// token is remembered by <see cref="TokenCache"/>.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    NpgsqlDataSource db,
    TokenCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > 200) return AuthenticateResult.Fail("Malformed bearer token.");

        var hash = Auth.HashToken(token);
        var key = Convert.ToHexString(hash);
        if (!cache.TryGet(key, out var owner))
        {
            var generation = cache.Generation;
            await using var connection = await db.OpenConnectionAsync(Context.RequestAborted);
            owner = await connection.QuerySingleOrDefaultAsync<TokenCache.Owner>(
                """
                select u.id, u.name, u.roles, t.expires_at
                from api_tokens t
                join users u on u.id = t.user_id
                where t.token_hash = @hash
                  and t.revoked_at is null
                  and u.disabled_at is null
                  and (t.expires_at is null or t.expires_at > now())
                """,
                new { hash });
            if (owner is null) return AuthenticateResult.Fail("Unknown, revoked or expired token.");
            cache.Remember(key, owner, generation);
        }

        var principal = Auth.Principal(owner.Id, owner.Name, owner.Roles, Auth.TokenScheme);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Auth.TokenScheme));
    }
}
