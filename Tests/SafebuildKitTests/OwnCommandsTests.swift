import Testing
import Glibc
@testable import SafebuildKit

/// What one own command line printed and returned, run through ArgumentParser as `safebuild` runs it.
struct OwnRun {
    var status: Int32 = 0
    var out = ""
    var err = ""
}

/// Runs `safebuild ARGUMENTS…` (an own command line, after the `--sb-` options) with made-up edges: the working
/// directory, no host policy, 16 GiB of memory, a fixed clock.
func runOwn(
    _ arguments: [String], options: SafebuildOptions = SafebuildOptions(), cwd: String = "/",
    now: Double = 0, out: ((String) -> Void)? = nil
) throws(SafebuildError) -> OwnRun {
    var result = OwnRun()
    let context = CommandContext(
        options: options, environment: [:], currentDirectory: cwd, hostPolicyPath: cwd + "/no-host-policy.yml",
        hostMemory: 16 << 30, now: now, out: { text in result.out += text; out?(text) }, err: { result.err += $0 })
    result.status = try OwnCommands.run(arguments, context: context)
    return result
}

/// safebuild's own commands on ArgumentParser: what reaches them, their help, completion and usage errors.
@Suite struct OwnCommandsTests {
    /// The words `Invocation` sends to ArgumentParser are exactly its root's subcommands.
    @Test func invocationAndParserKnowTheSameCommands() {
        let parsed = OwnCommands.configuration.subcommands.map { $0.configuration.commandName }
        #expect(parsed == Invocation.OwnCommand.subcommands.map(\.rawValue))
    }

    @Test func versionAndHelp() throws {
        #expect(try runOwn(["--version"]).out == "safebuild \(Safebuild.version)\n")
        // Alone it is answered before parsing; ArgumentParser gives the same answer wherever else it is asked.
        #expect(try runOwn(["doctor", "--version"]).out == "safebuild \(Safebuild.version)\n")
        #expect(try runOwn(["journal", "list", "--version"]).out == "safebuild \(Safebuild.version)\n")
        let help = try runOwn(["--sb-help"])
        #expect(help.status == 0)
        #expect(help.out.contains("USAGE: safebuild [safebuild options] <docker arguments…>"))
        // Every --sb- option and its variable, from their one declaration.
        for declaration in SafebuildOptions.declarations {
            #expect(help.out.contains("  \(declaration.synopsis), \(declaration.variableSynopsis)\n"))
        }
        for command in ["doctor", "policy", "journal", "retry"] {
            #expect(help.out.contains("\n  \(command) "), "\(command) is listed")
        }
    }

    @Test(arguments: [
        (["doctor", "--help"], "USAGE: safebuild doctor [--json] [--hours <N>] [--timeout <SECONDS>] [--no-engine]"),
        (["doctor", "-h"], "USAGE: safebuild doctor"),
        (["policy", "--help"], "USAGE: safebuild policy <subcommand>"),
        (["policy", "show", "--help"], "USAGE: safebuild policy show [--json]"),
        (["policy", "check", "-h"], "USAGE: safebuild policy check [--host] <FILE> ..."),
        (["journal", "--help"], "USAGE: safebuild journal <subcommand>"),
        (["journal", "-h"], "USAGE: safebuild journal <subcommand>"),
        (["journal", "help"], "USAGE: safebuild journal <subcommand>"),
        (["journal", "list", "--help"], "--outcome <O[,O…]>"),
        (["journal", "show", "--help"], "USAGE: safebuild journal show <id> [--json]"),
        (["retry", "--help"], "USAGE: safebuild retry [<id>]"),
    ])
    func helpGoesToStdoutWithStatus0(_ arguments: [String], _ expected: String) throws {
        let run = try runOwn(arguments)
        #expect(run.status == 0)
        #expect(run.out.contains(expected), "\(run.out)")
        #expect(run.err == "")
    }

    /// ArgumentParser's rejections are safebuild's usage errors: status 64 (EX_USAGE), the usage, where to look.
    @Test(arguments: [
        (["doctor", "--frobnicate"], "Unknown option '--frobnicate'"),
        (["doctor", "--hours", "0"], "--hours needs a positive number"),
        (["doctor", "--timeout", "soon"], "The value 'soon' is invalid for '--timeout <SECONDS>'"),
        (["policy"], "policy needs a subcommand"),
        (["policy", "chek"], "Unexpected argument 'chek'"),
        (["policy", "show", "--yaml"], "Unknown option '--yaml'"),
        (["policy", "path", "x"], "Unexpected argument 'x'"),
        (["policy", "check"], "Missing expected argument '<FILE> ...'"),
        (["journal", "--frobnicate"], "Unknown option '--frobnicate'"),
        (["journal", "show"], "Missing expected argument '<id>'"),
        (["journal", "--limit", "lots"], "The value 'lots' is invalid for '--limit <N>'"),
        (["retry", "a", "b"], "Unexpected argument 'b'"),
        (["retry", "--last"], "Unknown option '--last'"),
    ])
    func usageErrorsAre64(_ arguments: [String], _ message: String) {
        do {
            let run = try runOwn(arguments)
            Issue.record("\(arguments) was accepted: \(run)")
        } catch {
            #expect(error.status == .usage && error.status.rawValue == 64)
            #expect(error.message.hasPrefix(message), "\(error.message)")
            #expect(error.message.contains("safebuild \(arguments[0])"), "names the command: \(error.message)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(_ shell: String) throws {
        let run = try runOwn(["--generate-completion-script", shell])
        #expect(run.status == 0)
        // The script completes the subcommands and their options.
        for word in ["doctor", "policy", "journal", "retry", "summary", "no-engine", "outcome"] {
            #expect(run.out.contains(word), "\(shell) script lacks \(word)")
        }
    }
}
