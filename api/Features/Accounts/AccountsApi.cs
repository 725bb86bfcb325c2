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
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record CreateTokenRequest(string? Name, int? ExpiresInDays);

/// <summary>The token is shown here once; only its hash is stored.</summary>
public sealed record CreatedToken(long Id, string Name, string Token, DateTimeOffset? ExpiresAt);

public sealed class CreateUserValidator : AbstractValidator<CreateUserRequest>
{
    public CreateUserValidator()
    {
        RuleFor(r => r.Name).NotEmpty().Matches("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
            .WithMessage("name: letters, digits, '_', '.', '-', at most 63 characters.");
        RuleFor(r => r.DisplayName).MaximumLength(200);
        RuleFor(r => r.Password).MinimumLength(10).MaximumLength(200).When(r => r.Password is not null);
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
        var auth = routes.MapGroup("/api/auth").WithTags("Accounts");
        auth.MapPost("/sign-in", SignIn).WithName("SignIn").RequireRateLimiting(Policies.SignInRateLimit)
            .WithSummary("Sign in with a password; sets an HttpOnly, SameSite cookie. Rate limited per address.");
        auth.MapPost("/sign-out", (Delegate)SignOut).WithName("SignOut").WithSummary("End the cookie session.");
        auth.MapGet("/me", Me).WithName("GetCurrentUser").RequireAuthorization(Policies.SignedIn).WithSummary("The signed-in user.");
        auth.MapGet("/csrf", Csrf).WithName("GetCsrfToken")
            .WithSummary("An anti-forgery token; cookie-authenticated writes send it in the X-CSRF-Token header.");

        var users = routes.MapGroup("/api/users").WithTags("Accounts").RequireAuthorization(Policies.Admin);
        users.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("Every user with roles and token counts.");
        users.MapPost("/", CreateUser).WithName("CreateUser").WithSummary("Create a user with roles and an optional password.");
        users.MapPost("/{name}/tokens", CreateToken).WithName("CreateToken").WithSummary("Issue an API token for a user; it is shown once.");

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
    }

    public static async Task<Results<Ok<CurrentUser>, ProblemHttpResult>> SignIn(
        SignInRequest request, HttpContext context, NpgsqlDataSource db, IPasswordHasher<string> hasher)
    {
        await using var connection = await db.OpenConnectionAsync();
        var user = await connection.QuerySingleOrDefaultAsync<PasswordRow>(
            "select id, name, display_name, password_hash, roles from users where name = @Name", new { request.Name });
        var verified = user?.PasswordHash is not null &&
                       hasher.VerifyHashedPassword(user.Name, user.PasswordHash, request.Password ?? "") != PasswordVerificationResult.Failed;
        if (!verified)
            return TypedResults.Problem(title: "Wrong name or password", statusCode: 401);
        await context.SignInAsync(Auth.CookieScheme, Auth.Principal(user!.Id, user.Name, user.Roles, Auth.CookieScheme));
        return TypedResults.Ok(new CurrentUser { Name = user.Name, DisplayName = user.DisplayName, Roles = user.Roles });
    }

    public static async Task<NoContent> SignOut(HttpContext context)
    {
        await context.SignOutAsync(Auth.CookieScheme);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<CurrentUser>, ProblemHttpResult>> Me(ClaimsPrincipal principal, NpgsqlDataSource db)
    {
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

    public static async Task<Ok<UserResponse[]>> ListUsers(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<UserResponse>(
            """
            select u.name, u.display_name, u.roles, u.password_hash is not null as has_password,
                   (select count(*)::int from api_tokens t
                    where t.user_id = u.id and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())) as active_tokens,
                   u.created_at
            from users u order by u.name
            """);
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateUser(
        CreateUserRequest request, IValidator<CreateUserRequest> validator, NpgsqlDataSource db, IPasswordHasher<string> hasher)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        await using var connection = await db.OpenConnectionAsync();
        var created = await connection.QuerySingleOrDefaultAsync<UserResponse>(
            """
            insert into users (name, display_name, password_hash, roles)
            values (@Name, @displayName, @passwordHash, @roles)
            on conflict (name) do nothing
            returning name, display_name, roles, password_hash is not null as has_password, 0 as active_tokens, created_at
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

    public static async Task<Results<Created<CreatedToken>, ValidationProblem, ProblemHttpResult>> CreateToken(
        string name, CreateTokenRequest request, IValidator<CreateTokenRequest> validator, NpgsqlDataSource db)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
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
}
