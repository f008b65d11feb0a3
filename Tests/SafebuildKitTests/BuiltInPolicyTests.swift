import Foundation
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The built-in policy is compiled into Swift values (Sources/SafebuildKit/Policy/BuiltInPolicy.swift), so that a
/// protected command parses no YAML unless a host, project or user file is there. That file is generated from
/// Config/default-policy.yml by this test: it fails when the file differs from what the YAML gives, and with
/// SAFEBUILD_REGENERATE=1 it writes the file instead.
@Suite struct BuiltInPolicyTests {
    static let generatedPath = "Sources/SafebuildKit/Policy/BuiltInPolicy.swift"

    static func parsedFromYAML() throws -> Policy {
        try PolicyParser.parse(PolicyLoader.builtInText, file: nil, over: .skeleton).get()
    }

    static func generate(_ policy: Policy) -> String {
        """
        // Generated from Config/default-policy.yml by Tests/SafebuildKitTests/BuiltInPolicyTests.swift: do not edit.
        // After changing the YAML, regenerate it with
        //     SAFEBUILD_REGENERATE=1 swift test --filter BuiltInPolicyTests
        // Every value keeps its line and column in the YAML (`built-in default:N`), as a parsed one would.

        extension PolicyLoader {
            /// Config/default-policy.yml as values.
            static let compiledBuiltIn = Policy(
                run: \(policy.run.swift),
                build: \(policy.build.swift),
                buildEnforce: \(policy.buildEnforce.swift),
                rules: \(policy.rules.isEmpty ? "[]" : "<rules are not generated>"),
                preflight: \(policy.preflight.swift),
                retry: \(policy.retry.swift),
                remedies: \(policy.remedies.swift),
                journal: \(policy.journal.swift),
                admission: \(policy.admission.swift),
                signatures: \(policy.signatures.isEmpty ? "[]" : "<signatures are not generated>"),
                docker: \(policy.docker.swift),
                protection: \(policy.protection.swift))
        }

        """
    }

    @Test func theCompiledPolicyIsTheYAMLs() throws {
        let parsed = try Self.parsedFromYAML()
        let text = Self.generate(parsed)
        let path = SafebuildBinary.packageRoot() + "/" + Self.generatedPath
        if ProcessInfo.processInfo.environment["SAFEBUILD_REGENERATE"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let committed = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(
            committed == text,
            "\(Self.generatedPath) is not what Config/default-policy.yml gives: run `SAFEBUILD_REGENERATE=1 swift test --filter BuiltInPolicyTests` and commit it")
        #expect(PolicyLoader.compiledBuiltIn == parsed, "the compiled values differ from the parsed YAML")
        #expect(PolicyLoader.builtIn == parsed)
    }

    @Test func valuesKeepTheirYAMLLines() throws {
        let compiled = PolicyLoader.compiledBuiltIn
        let lines = PolicyLoader.builtInText.split(separator: "\n", omittingEmptySubsequences: false)
        let source = compiled.preflight.engineTimeout.source
        #expect(source.isBuiltIn && source.description.hasPrefix("built-in default:"))
        #expect(lines[source.line - 1].contains("engine_timeout: 10s"))
        #expect(lines[compiled.retry.maxAttempts.source.line - 1].contains("max_attempts:"))
    }
}

// MARK: - Swift source of a policy's values

protocol SwiftSource { var swift: String { get } }

extension Bool: SwiftSource { var swift: String { self ? "true" : "false" } }
extension Int: SwiftSource { var swift: String { String(self) } }
extension UInt64: SwiftSource { var swift: String { String(self) } }
extension Double: SwiftSource {
    var swift: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) + ".0" : "\(self)" }
}
extension String: SwiftSource {
    var swift: String {
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
extension Optional: SwiftSource where Wrapped: SwiftSource {
    var swift: String { map(\.swift) ?? "nil" }
}
extension Array: SwiftSource where Element: SwiftSource {
    var swift: String { "[" + map(\.swift).joined(separator: ", ") + "]" }
}

/// A String-backed enum, by its raw value (the case name may differ from it).
protocol RawSwiftSource: SwiftSource, RawRepresentable where RawValue == String {}
extension RawSwiftSource { var swift: String { ".init(rawValue: \(rawValue.swift))!" } }
extension BuildEnforcement: RawSwiftSource {}
extension PreflightAction: RawSwiftSource {}
extension RemedyName: RawSwiftSource {}
extension MemoryFlagAction: RawSwiftSource {}
extension AdmissionReserve: RawSwiftSource {}
extension AdmissionTimeoutAction: RawSwiftSource {}
extension AdmissionOversize: RawSwiftSource {}
extension HealthyHostENOMEM: RawSwiftSource {}

extension PolicySource: SwiftSource {
    var swift: String {
        let layers: [PolicyLayer: String] = [.builtIn: ".builtIn", .host: ".host", .project: ".project", .user: ".user"]
        return "PolicySource(file: \(file.swift), line: \(line), column: \(column), layer: \(layers[layer]!))"
    }
}
extension Sourced: SwiftSource where Value: SwiftSource {
    var swift: String { "Sourced(\(value.swift), \(source.swift)\(note.map { ", note: \($0.swift)" } ?? ""))" }
}
extension Size: SwiftSource {
    var swift: String {
        switch self {
        case .bytes(let n): return ".bytes(\(n))"
        case .share(let percent): return ".share(\(percent.swift))"
        }
    }
}
extension MemoryRule: SwiftSource {
    var swift: String {
        switch self {
        case .limit(let size): return ".limit(\(size.swift))"
        case .unlimited: return ".unlimited"
        }
    }
}
extension SwapRule: SwiftSource {
    var swift: String {
        switch self {
        case .size(let size): return ".size(\(size.swift))"
        case .noSwap: return ".noSwap"
        case .unlimited: return ".unlimited"
        }
    }
}
extension FreeBlocks: SwiftSource { var swift: String { "FreeBlocks(order: \(order), count: \(count))" } }
extension Ladder: SwiftSource { var swift: String { "Ladder(\(steps.swift))" } }

extension Policy.Limits: SwiftSource {
    var swift: String {
        "Policy.Limits(memory: \(memory.swift), swap: \(swap.swift), shmSize: \(shmSize.swift), maxMemory: \(maxMemory.swift))"
    }
}
extension Policy.ThresholdSetting: SwiftSource where Value: SwiftSource {
    var swift: String { "Policy.ThresholdSetting(value: \(value.swift), action: \(action.swift))" }
}
extension Policy.PreflightSection: SwiftSource {
    var swift: String {
        """
        Policy.PreflightSection(
                    minAvailable: \(minAvailable.swift),
                    maxPressure: \(maxPressure.swift),
                    maxBuildCache: \(maxBuildCache.swift),
                    minFreeDisk: \(minFreeDisk.swift),
                    minFreeBlocks: \(minFreeBlocks.swift),
                    waitTimeout: \(waitTimeout.swift),
                    engineTimeout: \(engineTimeout.swift),
                    buildCacheMaxAge: \(buildCacheMaxAge.swift))
        """
    }
}
extension Policy.RetrySection: SwiftSource {
    var swift: String {
        let ladderText = ladders.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\n                .init(rawValue: \($0.key.rawValue.swift))!: \($0.value.swift)," }.joined()
        return """
            Policy.RetrySection(
                        maxAttempts: \(maxAttempts.swift),
                        backoff: Policy.BackoffSection(initial: \(backoff.initial.swift), max: \(backoff.max.swift), jitter: \(backoff.jitter.swift)),
                        deadline: \(deadline.swift),
                        raiseMemory: Policy.RaiseMemorySection(factor: \(raiseMemory.factor.swift), cap: \(raiseMemory.cap.swift)),
                        cooldown: \(cooldown.swift),
                        ladders: [\(ladders.isEmpty ? ":" : ladderText + "\n            ")],
                        stdinSpool: \(stdinSpool.swift),
                        stdoutHold: \(stdoutHold.swift),
                        healthyHostENOMEM: \(healthyHostENOMEM.swift))
            """
    }
}
extension Policy.RemedySection: SwiftSource {
    var swift: String {
        """
        Policy.RemedySection(
                    keepStorage: \(keepStorage.swift), pruneUntil: \(pruneUntil.swift), pruneFloor: \(pruneFloor.swift),
                    dropCaches: \(dropCaches.swift),
                    compactMemory: \(compactMemory.swift),
                    dropCachesMinCache: \(dropCachesMinCache.swift), dropCachesMaxAvailable: \(dropCachesMaxAvailable.swift),
                    compactMemoryMaxFree: \(compactMemoryMaxFree.swift), lockDirectory: \(lockDirectory.swift))
        """
    }
}
extension Policy.JournalSection: SwiftSource {
    var swift: String {
        """
        Policy.JournalSection(
                    path: \(path.swift), maxSize: \(maxSize.swift), keep: \(keep.swift), metricsPath: \(metricsPath.swift),
                    group: \(group.swift), keepValues: \(keepValues.swift))
        """
    }
}
extension Policy.AdmissionSection: SwiftSource {
    var swift: String {
        """
        Policy.AdmissionSection(
                    enabled: \(enabled.swift), budget: \(budget.swift), hostReserve: \(hostReserve.swift), reserve: \(reserve.swift),
                    defaultRequest: \(defaultRequest.swift), learnedHeadroom: \(learnedHeadroom.swift),
                    waitTimeout: \(waitTimeout.swift), onTimeout: \(onTimeout.swift), oversize: \(oversize.swift))
        """
    }
}
extension Policy.DockerSection: SwiftSource {
    var swift: String { "Policy.DockerSection(path: \(path.swift), stopGrace: \(stopGrace.swift))" }
}
extension Policy.ProtectionSection: SwiftSource {
    var swift: String { "Policy.ProtectionSection(allowOff: \(allowOff.swift), memoryFlag: \(memoryFlag.swift))" }
}
