using System.Security.Claims;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Accounts;

public sealed record SignInRequest(string Name, string Password);

public sealed record CurrentUser
{
    public required string Name { get; init; }
    public required string DisplayName { get; init; }
    public required string[] Roles { get; init; }
}

public sealed record CsrfToken(string Token, string HeaderName);

public sealed record CreateUserRequest(string Name, string? DisplayName, string? Password, string[] Roles);

public sealed record UserResponse
{
    public required string Name { get; init; }
    public required string DisplayName { get; init; }
    public required string[] Roles { get; init; }
    public required bool HasPassword { get; init; }
    public required int ActiveTokens { get; init; }
    /// <summary>A disabled user can neither sign in nor use tokens; their sessions ended when they were disabled.</summary>
    public required bool Disabled { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record CreateTokenRequest(string? Name, int? ExpiresInDays);

/// <summary>The token is shown here once; only its hash is stored.</summary>
public sealed record CreatedToken(long Id, string Name, string Token, DateTimeOffset? ExpiresAt);

/// <summary>One of the caller's API tokens (never the token itself).</summary>
public sealed record TokenResponse
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it stops working; null: never (revoke it instead).</summary>
    public required DateTimeOffset? ExpiresAt { get; init; }
    public required DateTimeOffset? RevokedAt { get; init; }
    /// <summary>Neither revoked nor expired.</summary>
    public required bool Active { get; init; }
}

public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);

/// <param name="Password">The new password; left out, one is generated and returned once.</param>
public sealed record ResetPasswordRequest(string? Password);

/// <summary>A password an admin set or had generated: shown once, to the admin, to pass on.</summary>
public sealed record PasswordReset(string Name, string Password);

public sealed record SetRolesRequest(string[] Roles);

public sealed class CreateUserValidator : AbstractValidator<CreateUserRequest>
{
    public CreateUserValidator()
    {
        RuleFor(r => r.Name).NotEmpty().Matches("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
            .WithMessage("name: letters, digits, '_', '.', '-', at most 63 characters.");
        RuleFor(r => r.DisplayName).MaximumLength(200);
        RuleFor(r => r.Password).MinimumLength(PasswordRules.MinimumLength).MaximumLength(PasswordRules.MaximumLength).When(r => r.Password is not null);
        RuleFor(r => r.Roles).NotNull();
        RuleForEach(r => r.Roles).Must(Roles.All.Contains).WithMessage("roles: each one of admin, reviewer, uploader.");
    }
}

internal static class PasswordRules
{
    public const int MinimumLength = 10;
    public const int MaximumLength = 200;
}

public sealed class ChangePasswordValidator : AbstractValidator<ChangePasswordRequest>
{
    public ChangePasswordValidator()
    {
        RuleFor(r => r.CurrentPassword).NotEmpty();
        RuleFor(r => r.NewPassword).NotEmpty().MinimumLength(PasswordRules.MinimumLength).MaximumLength(PasswordRules.MaximumLength);
    }
}

public sealed class ResetPasswordValidator : AbstractValidator<ResetPasswordRequest>
{
    public ResetPasswordValidator() =>
        RuleFor(r => r.Password).MinimumLength(PasswordRules.MinimumLength).MaximumLength(PasswordRules.MaximumLength).When(r => r.Password is not null);
}

public sealed class SetRolesValidator : AbstractValidator<SetRolesRequest>
{
    public SetRolesValidator()
    {
        RuleFor(r => r.Roles).NotNull();
        RuleForEach(r => r.Roles).Must(Roles.All.Contains).WithMessage("roles: each one of admin, reviewer, uploader.");
    }
}

public sealed class CreateTokenValidator : AbstractValidator<CreateTokenRequest>
{
    public CreateTokenValidator()
    {
        RuleFor(r => r.Name).MaximumLength(100);
        RuleFor(r => r.ExpiresInDays).InclusiveBetween(1, 3650).When(r => r.ExpiresInDays is not null);
    }
}

public static class AccountsApi
{
    public static void MapAccounts(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/api/auth").WithTags("Accounts").WithValidation();
        auth.MapPost("/sign-in", SignIn).WithName("SignIn").RequireRateLimiting(Policies.SignInRateLimit)
            .WithSummary("Sign in with a password; sets an HttpOnly, SameSite cookie. Limited per client address and per account.");
        auth.MapPost("/sign-out", (Delegate)SignOut).WithName("SignOut").WithSummary("End the cookie session.");
        auth.MapGet("/me", Me).WithName("GetCurrentUser")
            .WithSummary("The signed-in user, or null (200) when nobody is; 401 only for a bearer token that is not valid.");
        auth.MapGet("/csrf", Csrf).WithName("GetCsrfToken")
            .WithSummary("An anti-forgery token; cookie-authenticated writes send it in the X-CSRF-Token header.");
        auth.MapPost("/password", ChangePassword).WithName("ChangeOwnPassword").RequireAuthorization(Policies.SignedIn)
            .RequireRateLimiting(Policies.SignInRateLimit)
            .WithSummary("Change the caller's own password (the current one is asked for); every other session of the caller ends.");
        auth.MapGet("/tokens", OwnTokens).WithName("ListOwnTokens").RequireAuthorization(Policies.SignedIn)
            .WithSummary("The caller's API tokens: name, when made, when they expire, whether revoked.");
        auth.MapPost("/tokens", CreateOwnToken).WithName("CreateOwnToken").RequireAuthorization(Policies.SignedIn)
            .WithSummary("Issue an API token for the caller, with an expiry in days (1-3650; none if left out); it is shown once.");
        auth.MapDelete("/tokens/{id:long}", RevokeOwnToken).WithName("RevokeOwnToken").RequireAuthorization(Policies.SignedIn)
            .WithSummary("Revoke one of the caller's API tokens at once.");

        var users = routes.MapGroup("/api/users").WithTags("Accounts").WithValidation().RequireAuthorization(Policies.Admin);
        users.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("Every user with roles, token counts and whether disabled.");
        users.MapPost("/", CreateUser).WithName("CreateUser").WithSummary("Create a user with roles and an optional password.");
        users.MapPost("/{name}/tokens", CreateToken).WithName("CreateToken").WithSummary("Issue an API token for a user; it is shown once.");
        users.MapPut("/{name}/roles", SetRoles).WithName("SetUserRoles")
            .WithSummary("Replace a user's roles; the user's sign-in sessions end (tokens take the new roles).");
        users.MapPost("/{name}/disable", Disable).WithName("DisableUser")
            .WithSummary("Disable a user: no sign-in, no token works, every session ends within seconds. Not oneself.");
        users.MapPost("/{name}/enable", Enable).WithName("EnableUser").WithSummary("Enable a disabled user again.");
        users.MapPost("/{name}/password", ResetPassword).WithName("ResetUserPassword")
            .WithSummary("Set a user's password, or generate one (shown once, to pass on); the user's sessions end.");

        routes.MapDelete("/api/tokens/{id:long}", RevokeToken).WithTags("Accounts").WithName("RevokeToken")
            .RequireAuthorization(Policies.Admin).WithSummary("Revoke an API token at once.");
    }

    private sealed record PasswordRow
    {
        public required long Id { get; init; }
        public required string Name { get; init; }
        public required string DisplayName { get; init; }
        public required string? PasswordHash { get; init; }
        public required string[] Roles { get; init; }
        public required Guid SecurityStamp { get; init; }
        public required bool Disabled { get; init; }
    }

    private static ProblemHttpResult TooManyFailures(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "Too many failed sign-ins", statusCode: StatusCodes.Status429TooManyRequests,
            detail: $"This account's sign-ins are paused for {Math.Ceiling(retryAfter.TotalMinutes)} minute(s) after repeated failures.");
    }

    public static async Task<Results<Ok<CurrentUser>, ProblemHttpResult>> SignIn(
        SignInRequest request, HttpContext context, NpgsqlDataSource db, IPasswordHasher<string> hasher, SignInThrottle throttle)
    {
        var name = request.Name ?? "";
        if (throttle.RetryAfter(name) is { } wait) return TooManyFailures(context, wait);
        await using var connection = await db.OpenConnectionAsync();
        var user = await connection.QuerySingleOrDefaultAsync<PasswordRow>(
            """
            select id, name, display_name, password_hash, roles, security_stamp, disabled_at is not null as disabled
            from users where name = @name
            """,
            new { name });
        // A hash is verified whatever the name: an unknown one costs the same work as a known one.
        var result = hasher.VerifyHashedPassword(user?.Name ?? name, user?.PasswordHash ?? throttle.DummyHash, request.Password ?? "");
        if (user is not { PasswordHash: not null, Disabled: false } || result == PasswordVerificationResult.Failed)
        {
            throttle.Failed(name);
            return TypedResults.Problem(title: "Wrong name or password", statusCode: 401);
        }
        await context.SignInAsync(Auth.CookieScheme, Auth.Principal(user.Id, user.Name, user.Roles, Auth.CookieScheme, user.SecurityStamp));
        return TypedResults.Ok(new CurrentUser { Name = user.Name, DisplayName = user.DisplayName, Roles = user.Roles });
    }

    public static async Task<NoContent> SignOut(HttpContext context)
    {
        await context.SignOutAsync(Auth.CookieScheme);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Anonymous pages ask who is signed in on every load: "nobody" is an answer (JSON null), not an error, so that
    /// browsers log no failed request. A bearer token that does not authenticate is still refused.
    /// </summary>
    public static async Task<Results<Ok<CurrentUser>, ContentHttpResult, ProblemHttpResult>> Me(
        ClaimsPrincipal principal, HttpContext context, NpgsqlDataSource db)
    {
        if (principal.Identity?.IsAuthenticated != true)
            return context.Request.Headers.Authorization.Count > 0
                ? TypedResults.Problem(title: "Not authenticated", detail: "The bearer token is unknown, revoked or expired.", statusCode: 401)
                : TypedResults.Text("null", "application/json", statusCode: 200);
        await using var connection = await db.OpenConnectionAsync();
        var user = await connection.QuerySingleOrDefaultAsync<CurrentUser>(
            "select name, display_name, roles from users where id = @id", new { id = principal.UserId() });
        return user is null ? TypedResults.Problem(title: "User no longer exists", statusCode: 401) : TypedResults.Ok(user);
    }

    public static Ok<CsrfToken> Csrf(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return TypedResults.Ok(new CsrfToken(tokens.RequestToken!, Auth.CsrfHeader));
    }

    private const string UserSelect =
        """
        select u.name, u.display_name, u.roles, u.password_hash is not null as has_password,
               (select count(*)::int from api_tokens t
                where t.user_id = u.id and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())) as active_tokens,
               u.disabled_at is not null as disabled, u.created_at
        from users u
        """;

    public static async Task<Ok<UserResponse[]>> ListUsers(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<UserResponse>(UserSelect + " order by u.name");
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateUser(
        CreateUserRequest request, NpgsqlDataSource db, IPasswordHasher<string> hasher)
    {
        await using var connection = await db.OpenConnectionAsync();
        var created = await connection.QuerySingleOrDefaultAsync<UserResponse>(
            """
            insert into users (name, display_name, password_hash, roles)
            values (@Name, @displayName, @passwordHash, @roles)
            on conflict (name) do nothing
            returning name, display_name, roles, password_hash is not null as has_password, 0 as active_tokens, false as disabled, created_at
            """,
            new
            {
                request.Name,
                displayName = request.DisplayName ?? request.Name,
                passwordHash = request.Password is null ? null : hasher.HashPassword(request.Name, request.Password),
                roles = request.Roles.Distinct().ToArray(),
            });
        return created is null
            ? Problems.Conflict("User exists", $"A user named '{request.Name}' already exists.")
            : TypedResults.Created($"/api/users/{created.Name}", created);
    }

    public static async Task<Results<Created<CreatedToken>, ProblemHttpResult>> CreateToken(
        string name, CreateTokenRequest request, NpgsqlDataSource db)
    {
        var token = Auth.NewToken();
        await using var connection = await db.OpenConnectionAsync();
        var created = await connection.QuerySingleOrDefaultAsync<(long Id, DateTimeOffset? ExpiresAt)?>(
            """
            insert into api_tokens (user_id, name, token_hash, expires_at)
            select u.id, @tokenName, @hash, now() + make_interval(days => @days)
            from users u where u.name = @name
            returning id, expires_at
            """,
            new { name, tokenName = request.Name ?? "", hash = Auth.HashToken(token), days = request.ExpiresInDays });
        return created is null
            ? Problems.NotFound($"User '{name}' does not exist.")
            : TypedResults.Created($"/api/tokens/{created.Value.Id}", new CreatedToken(created.Value.Id, request.Name ?? "", token, created.Value.ExpiresAt));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeToken(long id, NpgsqlDataSource db, TokenCache tokens)
    {
        await using var connection = await db.OpenConnectionAsync();
        var revoked = await connection.ExecuteAsync(
            "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = @id", new { id });
        // Refused by this process from the answer on; other processes hear the trigger's notification.
        tokens.Invalidate();
        return revoked == 0 ? Problems.NotFound($"Token {id} does not exist.") : TypedResults.NoContent();
    }

    /// <summary>
    /// A change that ends the user's sessions: a new security stamp in the same statement (the users trigger tells every
    /// API process; this one forgets at once, before it answers). Null when there is no such user.
    /// </summary>
    private static async Task<UserResponse?> ChangeUserAsync(NpgsqlDataSource db, TokenCache cache, string name, string set, object parameters)
    {
        await using var connection = await db.OpenConnectionAsync();
        var args = new DynamicParameters(parameters);
        args.Add("name", name);
        var changed = await connection.ExecuteAsync(
            $"update users set {set}, security_stamp = gen_random_uuid() where name = @name", args);
        cache.Invalidate();
        return changed == 0 ? null : await connection.QuerySingleAsync<UserResponse>(UserSelect + " where u.name = @name", new { name });
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetRoles(
        string name, SetRolesRequest request, ClaimsPrincipal caller, NpgsqlDataSource db, TokenCache cache)
    {
        if (name == caller.Identity?.Name && !request.Roles.Contains(Roles.Admin))
            return Problems.Conflict("Not your own admin role", "An admin cannot take the admin role from themselves; ask another admin.");
        var user = await ChangeUserAsync(db, cache, name, "roles = @roles", new { roles = request.Roles.Distinct().ToArray() });
        return user is null ? Problems.NotFound($"User '{name}' does not exist.") : TypedResults.Ok(user);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Disable(string name, ClaimsPrincipal caller, NpgsqlDataSource db, TokenCache cache)
    {
        if (name == caller.Identity?.Name) return Problems.Conflict("Not oneself", "An admin cannot disable themselves; ask another admin.");
        var user = await ChangeUserAsync(db, cache, name, "disabled_at = coalesce(disabled_at, now())", new { });
        return user is null ? Problems.NotFound($"User '{name}' does not exist.") : TypedResults.Ok(user);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Enable(string name, NpgsqlDataSource db, TokenCache cache)
    {
        var user = await ChangeUserAsync(db, cache, name, "disabled_at = null", new { });
        return user is null ? Problems.NotFound($"User '{name}' does not exist.") : TypedResults.Ok(user);
    }

    public static async Task<Results<Ok<PasswordReset>, ProblemHttpResult>> ResetPassword(
        string name, ResetPasswordRequest request, NpgsqlDataSource db, TokenCache cache,
        IPasswordHasher<string> hasher)
    {
        var password = request.Password ?? NewPassword();
        var user = await ChangeUserAsync(db, cache, name, "password_hash = @hash", new { hash = hasher.HashPassword(name, password) });
        return user is null ? Problems.NotFound($"User '{name}' does not exist.") : TypedResults.Ok(new PasswordReset(name, password));
    }

    /// <summary>A generated password: 18 random bytes, as 24 URL-safe characters.</summary>
    public static string NewPassword() => Auth.NewToken()[3..27];

    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, HttpContext context, ClaimsPrincipal caller,
        NpgsqlDataSource db, TokenCache cache, IPasswordHasher<string> hasher)
    {
        await using var connection = await db.OpenConnectionAsync();
        var user = await connection.QuerySingleOrDefaultAsync<PasswordRow>(
            """
            select id, name, display_name, password_hash, roles, security_stamp, disabled_at is not null as disabled
            from users where id = @id
            """,
            new { id = caller.UserId() });
        if (user?.PasswordHash is null ||
            hasher.VerifyHashedPassword(user.Name, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
            return TypedResults.Problem(title: "Wrong current password", statusCode: StatusCodes.Status403Forbidden,
                detail: "The current password is not right; nothing was changed.");
        var stamp = await connection.ExecuteScalarAsync<Guid>(
            "update users set password_hash = @hash, security_stamp = gen_random_uuid() where id = @Id returning security_stamp",
            new { hash = hasher.HashPassword(user.Name, request.NewPassword), user.Id });
        cache.Invalidate();
        // The caller's own cookie session goes on with the new stamp; every other one has ended.
        if (caller.Identity?.AuthenticationType == Auth.CookieScheme)
            await context.SignInAsync(Auth.CookieScheme, Auth.Principal(user.Id, user.Name, user.Roles, Auth.CookieScheme, stamp));
        return TypedResults.NoContent();
    }

    public static async Task<Ok<TokenResponse[]>> OwnTokens(ClaimsPrincipal caller, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<TokenResponse>(
            """
            select id, name, created_at, expires_at, revoked_at,
                   revoked_at is null and (expires_at is null or expires_at > now()) as active
            from api_tokens where user_id = @id
            order by created_at desc, id desc
            """,
            new { id = caller.UserId() });
        return TypedResults.Ok(rows.ToArray());
    }

    public static Task<Results<Created<CreatedToken>, ProblemHttpResult>> CreateOwnToken(
        CreateTokenRequest request, ClaimsPrincipal caller, NpgsqlDataSource db) =>
        CreateToken(caller.Identity!.Name!, request, db);

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeOwnToken(long id, ClaimsPrincipal caller, NpgsqlDataSource db, TokenCache tokens)
    {
        await using var connection = await db.OpenConnectionAsync();
        var revoked = await connection.ExecuteAsync(
            "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = @id and user_id = @me", new { id, me = caller.UserId() });
        tokens.Invalidate();
        return revoked == 0 ? Problems.NotFound($"You have no token {id}.") : TypedResults.NoContent();
    }
}
