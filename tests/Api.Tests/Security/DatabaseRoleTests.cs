using System.Net;
using Dapper;
using Npgsql;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;

namespace Relabel.Api.Tests.Security;

/// <summary>
/// The API's database role is an ordinary one: an injection into its SQL could not reach the host through PostgreSQL.
/// Its bulk paths keep their references checked without a superuser's switch (migration 0016).
/// </summary>
public sealed class DatabaseRoleTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    /// <summary>Runs a statement on a connection of the API's own data source; returns the SQLSTATE it failed with.</summary>
    private async Task<string?> FailureOfAsync(string sql)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        try
        {
            await connection.ExecuteAsync(sql);
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    [Fact]
    public async Task The_API_role_is_no_superuser_and_may_not_create_roles_or_databases()
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var role = await connection.QuerySingleAsync<(string Name, bool Super, bool CreateRole, bool CreateDb, bool Replication, long ServerRoles)>(
            """
            select r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
                   (select count(*) from pg_auth_members m join pg_roles g on g.oid = m.roleid
                    where m.member = r.oid and g.rolname like 'pg\_%') as server_roles
            from pg_roles r where r.rolname = current_user
            """);
        Assert.Equal(TestDatabase.Role, role.Name);
        Assert.False(role.Super);
        Assert.False(role.CreateRole);
        Assert.False(role.CreateDb);
        Assert.False(role.Replication);
        Assert.Equal(0, role.ServerRoles);
        // It owns what it migrated: the schema is its own, and nothing in it needs more.
        Assert.Equal(TestDatabase.Role, await connection.ExecuteScalarAsync<string>(
            "select pg_get_userbyid(relowner) from pg_class where relname = 'prediction_blocks'"));
    }

    [Theory]
    [InlineData("copy (select 1) to program 'id > /tmp/relabel-owned'")]
    [InlineData("copy (select 1) to '/tmp/relabel-owned'")]
    [InlineData("create temporary table f (line text); copy f from '/etc/passwd'")]
    [InlineData("select pg_read_file('postgresql.conf')")]
    [InlineData("select pg_read_binary_file('/etc/passwd')")]
    [InlineData("select pg_ls_dir('.')")]
    [InlineData("set session_replication_role = replica")]
    [InlineData("begin; set local session_replication_role = replica; commit")]
    [InlineData("alter system set log_statement = 'all'")]
    [InlineData("create role intruder superuser")]
    public async Task The_API_role_may_not_reach_the_host_or_turn_checks_off(string sql)
    {
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, await FailureOfAsync(sql));
        Assert.False(File.Exists("/tmp/relabel-owned"));
    }

    [Fact]
    public async Task Predictions_and_verdict_events_check_their_references_once_per_statement()
    {
        using var admin = fixture.App.Admin();
        await PredictionData.CreateDatasetAsync(admin, "references", images: 3);
        await PredictionData.CreateModelAsync(admin, "references-model");
        Assert.Equal(HttpStatusCode.OK,
            (await PredictionData.PutAsync(admin, "references-model", "references", PredictionData.Body(PredictionData.Json(PredictionData.Rows(3, 1)), "application/json"))).StatusCode);
        await fixture.App.FollowupsDoneAsync();

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var upload = await connection.ExecuteScalarAsync<long>(
            "select s.upload_id from prediction_sets s join models m on m.id = s.model_id where m.slug = 'references-model'");
        var (image, item) = await connection.QuerySingleAsync<(long, long)>(
            """
            select i.id, r.id from images i join datasets d on d.id = i.dataset_id join review_items r on r.image_id = i.id
            where d.slug = 'references' order by i.id limit 1
            """);

        // A missing image or upload, or a missing item, reviewer or source: the foreign key's error, as before.
        async Task<string?> ConstraintOfAsync(string sql, object parameters)
        {
            try { await connection.ExecuteAsync(sql, parameters); return null; }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation) { return e.ConstraintName; }
        }
        Assert.Equal("predictions_image_id_fkey", await ConstraintOfAsync(
            "insert into prediction_blocks (upload_id, block, k, labels) values (@upload, 1000000000, 1, '{1}')", new { upload }));
        Assert.Equal("predictions_upload_id_fkey", await ConstraintOfAsync(
            "insert into prediction_blocks (upload_id, block, k, labels) values (-1, @block, 1, '{1}')", new { block = image / 128 }));
        Assert.Equal("verdict_events_item_id_fkey", await ConstraintOfAsync(
            "insert into verdict_events (item_id, reviewer_id, verdict) select -1, id, 'correct' from users where name = 'admin'", new { }));
        Assert.Equal("verdict_events_reviewer_id_fkey", await ConstraintOfAsync(
            "insert into verdict_events (item_id, reviewer_id, verdict) values (@item, -1, 'correct')", new { item }));
        Assert.Equal("verdict_events_source_id_fkey", await ConstraintOfAsync(
            "insert into verdict_events (item_id, source_id, verdict) values (@item, -1, 'correct')", new { item }));

        // A referenced row is locked until the writer commits, as a foreign-key check locks it: a delete cannot slip in.
        var source = await connection.ExecuteScalarAsync<long>(
            "insert into verdict_sources (name, kind) values ('rater:reference-lock', 'rater') returning id");
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("insert into verdict_events (item_id, source_id, verdict) values (@item, @source, 'correct')",
                new { item, source }, transaction);
            await using var other = await fixture.App.Db.OpenConnectionAsync();
            var locked = await Assert.ThrowsAsync<PostgresException>(() => other.ExecuteAsync(
                "select from verdict_sources where id = @source for update nowait", new { source }));
            Assert.Equal(PostgresErrorCodes.LockNotAvailable, locked.SqlState);
            await transaction.RollbackAsync();
        }

        // Deleting what is referenced cascades or is refused, as the foreign keys did.
        await connection.ExecuteAsync("insert into verdict_events (item_id, source_id, verdict) values (@item, @source, 'correct')", new { item, source });
        Assert.Equal("verdict_events_source_id_fkey", await ConstraintOfAsync("delete from verdict_sources where id = @source", new { source }));
        await connection.ExecuteAsync("delete from review_items where id = @item", new { item });
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from verdict_events where item_id = @item", new { item }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from predictions where image_id = @image", new { image }));
        await connection.ExecuteAsync("delete from images where id = @image", new { image });
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from predictions where image_id = @image", new { image }));
        await connection.ExecuteAsync("delete from models where slug = 'references-model'");
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from predictions where upload_id = @upload", new { upload }));
    }
}
