import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Secrets in the journal: what a user finds in the journal line after a protected command. Inputs are command lines
/// as people write them (the shapes of the issue: `-e PASS=…`, `MY_PASS`, `DB_PWD`, `MYSQL_PWD`, connection strings,
/// `-p`-style passwords, Slack and Discord webhooks, bearer tokens); the tokens are made up but have the real shapes.
@Suite struct RedactionTests {
    typealias Fake = RecordingSupervisionEffects

    /// docker's own options: -e, --env and --build-arg keep the name, never the value.
    @Test(arguments: [
        (["run", "-e", "PASS=hunter2", "alpine"], ["run", "-e", "PASS=***", "alpine"]),
        (["run", "-e", "MY_PASS=hunter2", "-e", "DB_PWD=hunter2", "-e", "MYSQL_PWD=hunter2", "alpine"],
         ["run", "-e", "MY_PASS=***", "-e", "DB_PWD=***", "-e", "MYSQL_PWD=***", "alpine"]),
        (["run", "--env", "VERSION=1.2.3", "--env=MODE=fast", "alpine"], ["run", "--env", "VERSION=***", "--env=MODE=***", "alpine"]),
        (["run", "-eGITHUB_AUTH=x", "-e=TOKEN=y", "alpine"], ["run", "-eGITHUB_AUTH=***", "-e=TOKEN=***", "alpine"]),
        (["run", "-e", "HTTP_PROXY", "-e", "EMPTY=", "alpine"], ["run", "-e", "HTTP_PROXY", "-e", "EMPTY=", "alpine"]),
        (["run", "--env-file", "secrets.env", "alpine"], ["run", "--env-file", "secrets.env", "alpine"]),
        (["build", "--build-arg", "NPM_TOKEN=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "."], ["build", "--build-arg", "NPM_TOKEN=***", "."]),
        (["build", "--build-arg=GIT_COMMIT=3f1c2ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3", "."], ["build", "--build-arg=GIT_COMMIT=***", "."]),
        (["build", "--build-arg", "HTTP_PROXY", "."], ["build", "--build-arg", "HTTP_PROXY", "."]),
        (["buildx", "build", "--secret", "id=npmrc,src=/home/jenkins/.npmrc", "."], ["buildx", "build", "--secret", "id=npmrc,src=***", "."]),
        (["build", "--secret=id=gh,env=GH_TOKEN", "."], ["build", "--secret=id=gh,env=***", "."]),
        (["run", "--label", "com.example.team=web", "-l", "auth_token=abc", "alpine"],
         ["run", "--label", "com.example.team=web", "-l", "auth_token=***", "alpine"]),
        (["build", "-t", "registry.example.com/app:1", "https://deploy:s3cr3t@git.example.com/app.git"],
         ["build", "-t", "registry.example.com/app:1", "https://deploy:***@git.example.com/app.git"]),
        (["build", "https://ghp_1234567890abcdefghijklmnopqrstuvwxyz@github.com/o/r.git"], ["build", "https://***@github.com/o/r.git"]),
        (["build", "git@github.com:o/r.git"], ["build", "git@github.com:o/r.git"]),
        (["-H", "tcp://admin:pw@docker.example.com:2376", "run", "alpine"], ["-H", "tcp://admin:***@docker.example.com:2376", "run", "alpine"]),
    ])
    func dockerOptions(argv: [String], expected: [String]) {
        let result = Redaction.argv(argv)
        #expect(result.argv == expected)
        #expect(result.redacted == (argv != expected))
    }

    /// The container's own command line, after the image: what is recognisably a secret, and nothing else.
    @Test(arguments: [
        (["run", "--rm", "mysql:8", "mysql", "-h", "db", "-uroot", "-pS3cr3t!", "-e", "SELECT 1"],
         ["run", "--rm", "mysql:8", "mysql", "-h", "db", "-uroot", "-p***", "-e", "SELECT 1"]),
        (["run", "img", "server", "-p8080"], ["run", "img", "server", "-p8080"]),
        (["run", "postgres:16", "psql", "postgres://app:pa55w0rd@db:5432/app"], ["run", "postgres:16", "psql", "postgres://app:***@db:5432/app"]),
        (["run", "mongo:7", "mongosh", "mongodb+srv://admin:Sup3rS3cret@cluster0.ab1cd.mongodb.net/test"],
         ["run", "mongo:7", "mongosh", "mongodb+srv://admin:***@cluster0.ab1cd.mongodb.net/test"]),
        (["run", "alpine", "sh", "-c", "MYSQL_PWD=hunter2 mysql -uroot app < dump.sql"],
         ["run", "alpine", "sh", "-c", "MYSQL_PWD=*** mysql -uroot app < dump.sql"]),
        (["run", "postgres:16", "env", "PGPASSWORD=hunter2", "psql", "-h", "db"], ["run", "postgres:16", "env", "PGPASSWORD=***", "psql", "-h", "db"]),
        (["run", "node:20", "npx", "semantic-release", "--token", "ghp_1234567890abcdefghijklmnopqrstuvwxyz"],
         ["run", "node:20", "npx", "semantic-release", "--token", "***"]),
        (["run", "node:20", "tool", "--password=hunter2", "--api-key", "k-123", "--verbose"],
         ["run", "node:20", "tool", "--password=***", "--api-key", "***", "--verbose"]),
        (["run", "curlimages/curl", "-H", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "https://api.example.com/v1/deploy"],
         ["run", "curlimages/curl", "-H", "Authorization: Bearer ***", "https://api.example.com/v1/deploy"]),
        (["run", "alpine", "sh", "-c", "curl -H 'PRIVATE-TOKEN: glpat-a1B2c3D4e5F6g7H8i9J0' https://gitlab.example.com/api/v4/projects"],
         ["run", "alpine", "sh", "-c", "curl -H 'PRIVATE-TOKEN: ***' https://gitlab.example.com/api/v4/projects"]),
        (["run", "curlimages/curl", "-d", "{\"text\":\"build done\"}", "https://hooks.slack.com/services/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"],
         ["run", "curlimages/curl", "-d", "{\"text\":\"build done\"}", "https://hooks.slack.com/services/***"]),
        (["run", "curlimages/curl", "-d", "content=done", "https://discord.com/api/webhooks/112233445566778899/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKl"],
         ["run", "curlimages/curl", "-d", "content=done", "https://discord.com/api/webhooks/***"]),
        (["run", "alpine", "sh", "-c", "echo PWD=$PWD author=bob KEYBOARD=us; ls --color=auto -l"],
         ["run", "alpine", "sh", "-c", "echo PWD=$PWD author=bob KEYBOARD=us; ls --color=auto -l"]),
        (["run", "alpine", "git", "clone", "https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r.git"],
         ["run", "alpine", "git", "clone", "https://x-access-token:***@github.com/o/r.git"]),
    ])
    func containerCommand(argv: [String], expected: [String]) {
        let result = Redaction.argv(argv)
        #expect(result.argv == expected)
        #expect(result.redacted == (argv != expected))
    }

    /// Names: the ones the denylist of words used to miss, and near misses that are not secrets.
    @Test(arguments: [
        ("PASS", true), ("MY_PASS", true), ("DB_PWD", true), ("MYSQL_PWD", true), ("PGPASSWORD", true), ("api_key", true),
        ("APIKEY", true), ("AWS_SECRET_ACCESS_KEY", true), ("OAUTH", true), ("Authorization", true), ("X-Api-Key", true),
        ("PRIVATE-TOKEN", true), ("SESSION_COOKIE", true), ("PWD", false), ("OLDPWD", false), ("AUTHOR", false),
        ("KEYBOARD", false), ("PATH", false), ("PASSENGER_COUNT", true),
    ])
    func names(name: String, sensitive: Bool) {
        #expect(Redaction.isSensitive(key: name) == sensitive)
    }

    /// The journal lines a user sees: the invocation's argv, executed argv, image and tags, and the attempt's argv;
    /// no value anywhere in the line.
    @Test func theJournalLineHasNoValue() throws {
        let argv = [
            "run", "--rm", "-e", "PASS=hunter2", "-e", "NODE_ENV=production", "--env", "DB_PWD=hunter3",
            "https://deploy:s3cr3tpw@registry.example.com/app:1", "sh", "-c",
            "curl -fsS https://hooks.slack.com/services/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",
        ]
        let plan = try SupervisionPlanTests.plan(argv, policy: AttemptLoopTests.policy())
        let fake = Fake(attempts: [.exits(0)])
        #expect(AttemptLoopTests.run(plan, fake) == 0)
        let invocation = try #require(fake.invocationRecords.first)
        let line = String(decoding: try JournalCoding.line(invocation), as: UTF8.self)
        for secret in ["hunter2", "hunter3", "production", "s3cr3tpw", "q1w2e3r4t5y6u7i8o9p0a1s2"] {
            #expect(!line.contains(secret), "\(secret) in \(line)")
        }
        #expect(line.contains(#""argv":["run","--rm","-e","PASS=***","-e","NODE_ENV=***","--env","DB_PWD=***","https://deploy:***@registry.example.com/app:1","sh","-c","curl -fsS https://hooks.slack.com/services/***"]"#))
        #expect(line.contains(#""image":"https://deploy:***@registry.example.com/app:1""#))
        #expect(line.contains(#""redacted":true"#))
        let attempt = String(decoding: try JournalCoding.line(try #require(fake.attemptRecords.first)), as: UTF8.self)
        for secret in ["hunter2", "hunter3", "s3cr3tpw"] { #expect(!attempt.contains(secret)) }
    }

    /// A build's tags keep no `user:password@` that argv masks.
    @Test func tagsAreMaskedAsArgvIs() throws {
        let plan = try SupervisionPlanTests.plan(
            ["build", "-t", "https://ci:t0ps3cret@registry.example.com/app:1", "--build-arg", "TOKEN=abc", "."],
            policy: AttemptLoopTests.policy())
        let fake = Fake(attempts: [.exits(0)])
        #expect(AttemptLoopTests.run(plan, fake) == 0)
        let line = String(decoding: try JournalCoding.line(try #require(fake.invocationRecords.first)), as: UTF8.self)
        #expect(!line.contains("t0ps3cret"))
        #expect(line.contains(#""tags":["https://ci:***@registry.example.com/app:1"]"#))
    }

    /// The host policy's `journal.keep_values` keeps the values it names, and only those; when every value was
    /// kept, `safebuild retry` can run the command again (`redacted` is false).
    @Test func keepValuesFromTheHostPolicy() throws {
        let policy = AttemptLoopTests.policy() + "journal:\n  keep_values: [NODE_ENV, VERSION]\n"
        let plan = try SupervisionPlanTests.plan(
            ["run", "-e", "NODE_ENV=production", "-e", "API_TOKEN=abc", "img"], policy: policy)
        let fake = Fake(attempts: [.exits(0)])
        #expect(AttemptLoopTests.run(plan, fake) == 0)
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.argv == ["run", "-e", "NODE_ENV=production", "-e", "API_TOKEN=***", "img"])
        #expect(invocation.redacted)

        let kept = try SupervisionPlanTests.plan(["build", "--build-arg", "VERSION=1.2.3", "."], policy: policy)
        let again = Fake(attempts: [.exits(0)])
        #expect(AttemptLoopTests.run(kept, again) == 0)
        let record = try #require(again.invocationRecords.first)
        #expect(record.argv == ["build", "--build-arg", "VERSION=1.2.3", "."])
        #expect(!record.redacted)
    }

    /// A project policy cannot keep values: journal.keep_values is the host's.
    @Test func aProjectCannotKeepValues() throws {
        let outcome = PolicyParser.read(
            "journal:\n  keep_values: [API_TOKEN]\n", file: "/src/app/safebuild.yml", layer: .project,
            over: PolicyLoader.builtIn)
        let policy = try outcome.result.get()
        #expect(policy.journal.keepValues.value == [])
        #expect(outcome.warnings.map(\.description) == [
            "/src/app/safebuild.yml:1:1: warning: journal can be set only in the host policy; ignored here"
        ])
    }

    /// Docker's output line that decided the class is masked too (a registry URL with its password in an error).
    @Test func matchedLineIsMasked() {
        var record = AttemptRecord(
            invocation: "i", attempt: 1, started: "s", ended: "e", durationSeconds: 1, argv: [],
            matchedLine: "failed to fetch https://bot:Zx9s8d7f6g@registry.example.com/v2/: cannot allocate memory",
            remedies: [], decision: "give up")
        record = record.textRedacted
        #expect(record.matchedLine == "failed to fetch https://bot:***@registry.example.com/v2/: cannot allocate memory")
    }
}
